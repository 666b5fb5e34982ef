"""``GradientMonitor.watch``: a custom training loop on one device (``tf.function``, XLA).

The distributed loops (MirroredStrategy, MultiWorkerMirroredStrategy) are in
test_monitor_distributed.py. Norms are compared with ``tf.GradientTape`` on
the same batch; update ratios with the weights copied around each step.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402

BATCH = 8


def setup(learning_rate=0.0):
    keras.utils.set_random_seed(6)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4 * BATCH, 6)).astype("float32")
    y = rng.standard_normal((4 * BATCH, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="dense"),
            keras.layers.Dense(2, name="dense_1"),
        ],
        name="loop",
    )
    optimizer = keras.optimizers.Adam(learning_rate) if learning_rate else keras.optimizers.SGD(0.0)
    loss_fn = keras.losses.MeanSquaredError()

    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return model, optimizer, train_step, x, y


def tape_norms(model, xb, yb) -> dict:
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(yb, model(xb, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    squares = {}
    for v, g in zip(model.trainable_variables, grads, strict=True):
        layer = v.path.rsplit("/", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + np.sum(np.square(np.float64(g)))
    norms = {f"grad_norm/{k}": np.sqrt(s) for k, s in squares.items()}
    norms["grad_norm/global"] = np.sqrt(sum(squares.values()))
    return norms


def batches(x, y):
    return [(x[b * BATCH : (b + 1) * BATCH], y[b * BATCH : (b + 1) * BATCH]) for b in range(4)]


@pytest.mark.parametrize("jit_compile", [False, True], ids=["tf.function", "xla"])
def test_a_tf_function_loop_logs_tape_norms_with_fit_s_tags(tmp_path, jit_compile):
    model, optimizer, train_step, x, y = setup()
    monitor = krf.GradientMonitor(tmp_path, update_freq=2, update_ratios=True)
    with monitor.watch(model, optimizer) as loop:
        step = loop.function(train_step, jit_compile=jit_compile)
        for _ in range(2):
            for xb, yb in batches(x, y):
                step(xb, yb)
            loop.end_epoch()
    assert loop.step == monitor.step == 8
    logged = read_scalars(tmp_path)
    assert set(logged) == {
        "grad_norm/global",
        "grad_norm/loop/dense",
        "grad_norm/loop/dense_1",
        "update_ratio/loop/dense",
        "update_ratio/loop/dense_1",
        "dead_fraction/loop/dense",
    }
    for s in (2, 4, 6, 8):
        xb, yb = batches(x, y)[(s - 1) % 4]
        for tag, value in tape_norms(model, xb, yb).items():
            assert logged[tag][s] == pytest.approx(value, rel=1e-5), (tag, s)
    assert "apply" not in vars(optimizer) and "call" not in vars(model.layers[0])


def test_update_ratios_and_a_second_block_continue_the_count(tmp_path):
    model, optimizer, train_step, x, y = setup(learning_rate=1e-2)
    monitor = krf.GradientMonitor(tmp_path, update_freq=1, update_ratios=True)
    expected = {}
    for _block in range(2):  # each block starts from optimizer.iterations
        with monitor.watch(model, optimizer) as loop:
            step = loop.function(train_step)
            for xb, yb in batches(x, y):
                before = [np.float64(v.numpy()) for v in model.trainable_variables]
                step(xb, yb)
                after = [np.float64(v.numpy()) for v in model.trainable_variables]
                for layer, pair in (("dense", (0, 1)), ("dense_1", (2, 3))):
                    change = sum(np.sum((after[i] - before[i]) ** 2) for i in pair)
                    size = sum(np.sum(before[i] ** 2) for i in pair)
                    expected[(layer, loop.step)] = np.sqrt(change) / np.sqrt(size)
    assert monitor.step == int(optimizer.iterations.numpy()) == 8
    logged = read_scalars(tmp_path)
    for (layer, s), value in expected.items():
        assert logged[f"update_ratio/loop/{layer}"][s] == pytest.approx(value, rel=1e-5)


def test_an_error_in_the_loop_detaches_everything(tmp_path):
    model, optimizer, train_step, x, y = setup()
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    with pytest.raises(ValueError, match="incompatible"), monitor.watch(model, optimizer) as loop:
        step = loop.function(train_step)
        step(x[:BATCH], y[:BATCH])
        step(x[:BATCH, :3], y[:BATCH])  # wrong shape: the step raises
    assert "apply" not in vars(optimizer) and "update_step" not in vars(optimizer)
    assert "call" not in vars(model.layers[0])


def test_watch_refuses_an_unbuilt_model_or_a_missing_optimizer(tmp_path):
    monitor = krf.GradientMonitor(tmp_path)
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built model"):
        monitor.watch(unbuilt, keras.optimizers.SGD())
    built = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="Received: optimizer=None"):
        monitor.watch(built)
