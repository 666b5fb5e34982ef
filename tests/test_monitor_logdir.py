"""Nothing lost: a log directory that disappears or cannot be written, and resumed runs.

The monitor warns once per outage, training goes on, logging resumes in a new
event file as soon as the directory can be made again, what was written is
never touched, and a run resumed by ``keras.callbacks.BackupAndRestore``
writes no step twice.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from tests._monitor_helpers import read_events, read_scalars  # noqa: E402

BATCH = 8


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 6)).astype("float32"), rng.standard_normal((n, 2)).astype(
        "float32"
    )


def small_model():
    return keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)],
        name="net",
    )


class AtEpochBegin(keras.callbacks.Callback):
    def __init__(self, actions):
        super().__init__()
        self.actions = actions

    def on_epoch_begin(self, epoch, logs=None):
        if epoch in self.actions:
            self.actions[epoch]()


def fit(model, monitor, epochs, callbacks=(), x=None, y=None, batch_size=BATCH):
    if x is None:
        x, y = data()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[monitor, *callbacks],
    )


def outage_warnings(record) -> list:
    return [w for w in record if "GradientMonitor cannot write to" in str(w.message)]


def digest(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_a_deleted_log_directory_is_recreated_and_logging_goes_on(tmp_path):
    train = tmp_path / "train"
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    actions = {1: lambda: shutil.rmtree(train)}  # after epoch 0 (steps 1-4) was written
    with pytest.warns(RuntimeWarning) as record:
        history = fit(small_model(), monitor, epochs=3, callbacks=[AtEpochBegin(actions)])
    (warning,) = outage_warnings(record)
    assert "disappeared" in str(warning.message) and "training goes on" in str(warning.message)
    assert len(history.history["loss"]) == 3
    assert len(glob.glob(str(train / "events*"))) == 1  # a new file in the new directory
    assert sorted(read_scalars(tmp_path)["grad_norm/global"]) == list(range(5, 13))


def test_an_unwritable_log_directory_warns_once_and_logging_resumes(tmp_path):
    train, aside = tmp_path / "train", tmp_path / "aside"

    def block():  # the directory goes away and a file takes its place: it cannot be made
        train.rename(aside)
        train.write_text("not a directory")

    def unblock():
        train.unlink()
        aside.rename(train)

    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    before = {}

    def block_and_remember():
        before.update({p: digest(p) for p in glob.glob(str(train / "events*"))})
        block()

    actions = {1: block_and_remember, 3: unblock}
    with pytest.warns(RuntimeWarning) as record:
        history = fit(small_model(), monitor, epochs=5, callbacks=[AtEpochBegin(actions)])
    assert len(outage_warnings(record)) == 1  # one outage (epochs 1 and 2), one warning
    assert len(history.history["loss"]) == 5
    files = sorted(glob.glob(str(train / "events*")))
    assert len(files) == 2 and all(digest(p) == h for p, h in before.items())  # untouched
    # Steps 5-12 ran while nothing could be written; 13-20 went to the new file.
    assert sorted(read_scalars(tmp_path)["grad_norm/global"]) == [1, 2, 3, 4, *range(13, 21)]


def test_a_failing_writer_warns_once_and_a_new_one_takes_over(tmp_path):
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    actions = {1: lambda: monitor._logger.run_dir.writer.close()}  # its resource is gone
    with pytest.warns(RuntimeWarning) as record:
        fit(small_model(), monitor, epochs=2, callbacks=[AtEpochBegin(actions)])
    assert len(outage_warnings(record)) == 1
    # The first write to the closed writer failed (steps 5-8): they went to a new file.
    assert sorted(read_scalars(tmp_path)["grad_norm/global"]) == list(range(1, 9))
    assert len(glob.glob(str(tmp_path / "train" / "events*"))) == 2


class Crash(keras.callbacks.Callback):
    """Ends the run in the middle of epoch 1, after a drain wrote steps past the backup."""

    def on_train_batch_end(self, batch, logs=None):
        if self.model.optimizer.iterations.numpy() == 38:
            raise RuntimeError("preempted")


def steps_per_tag(log_dir) -> dict:
    frame = read_events(log_dir)
    return {tag: sorted(int(s) for s in frame[frame.tag == tag].step) for tag in set(frame.tag)}


@pytest.mark.parametrize("resume", ["new process", "same objects"])
def test_backup_and_restore_resumes_with_no_step_logged_twice(tmp_path, resume):
    x, y = data(40)  # batches of 2: 20 steps per epoch
    logs, backup = tmp_path / "logs", str(tmp_path / "backup")
    keras.backend.clear_session()  # layer names as in a fresh process
    keras.utils.set_random_seed(7)
    model, monitor = small_model(), krf.GradientMonitor(logs, update_freq=1)
    with pytest.raises(RuntimeError, match="preempted"):  # backed up at step 20 (epoch 0)
        fit(model, monitor, 3, [keras.callbacks.BackupAndRestore(backup), Crash()], x, y, 2)
    written = steps_per_tag(logs)
    # TensorFlow drains at 16, 20 and 36; JAX and PyTorch at every logged step, the last
    # one (37) when step 38 began.
    last = 36 if keras.config.backend() == "tensorflow" else 37
    assert written["grad_norm/global"] == list(range(1, last + 1))
    if resume == "new process":  # the same script again: same layer names, a new monitor
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        model, monitor = small_model(), krf.GradientMonitor(logs, update_freq=1)
    fit(model, monitor, 3, [keras.callbacks.BackupAndRestore(backup)], x, y, 2)
    assert int(model.optimizer.iterations.numpy()) == monitor.step == 60
    for tag, steps in steps_per_tag(logs).items():
        assert steps == list(range(1, 61)), tag  # each step once: 21-36 (37) kept from the crash
    # The steps before the crash kept their values; the resumed steps are the new run's.
    assert read_scalars(logs)["grad_norm/global"][30] == pytest.approx(
        float(read_events(logs).query("tag == 'grad_norm/global' and step == 30").value.item())
    )
