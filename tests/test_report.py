"""The gradient report: drawn from real GradientMonitor runs, and clear about logs it cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_relu_family as krf
from keras_relu_family import report
from keras_relu_family.report import ReportError, load_runs, render_report

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def _train(log_dir, activation) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8), activation, keras.layers.Dense(2)]
    )
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 2))
    monitor = krf.GradientMonitor(log_dir, update_freq=1)
    model.fit(x, y, epochs=2, batch_size=10, callbacks=[monitor], verbose=0)


@pytest.fixture(scope="module")
def dash_m(tmp_path_factory):
    """``python -m keras_relu_family.report`` on an empty directory, started early.

    The child spends seconds importing TensorFlow; it does so while this
    process trains the runs below, and the last test collects it.
    """
    empty = tmp_path_factory.mktemp("empty")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "keras_relu_family.report", str(empty), "-o", "x.png"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=empty
    )
    yield process, empty
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dash_m):
    """Two real monitored runs, ``relu`` and ``leaky``, side by side in one directory."""
    root = tmp_path_factory.mktemp("runs")
    _train(root / "relu", krf.ReLU())
    _train(root / "leaky", krf.LeakyReLU())
    return root


def test_renders_png_of_several_runs(runs, tmp_path):
    from matplotlib import image

    output = render_report(runs, tmp_path / "sub" / "report.png", max_columns=4)
    data = Path(output).read_bytes()
    assert data[:8] == PNG and len(data) > 10_000
    height, width, _ = image.imread(output).shape
    assert width > height  # two runs side by side, not stacked


def _raw_events(directory) -> dict:
    """``{tag: [(step, value)]}`` decoded record by record, without TensorBoard's reader."""
    found = {}
    for path in sorted(Path(directory).glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor))
                found.setdefault(value.tag, []).append((event.step, number))
    return found


def test_reads_every_logged_value(runs):
    loaded = {run.name: run for run in load_runs(runs)}
    assert sorted(loaded) == ["leaky", "relu"]
    for name, run in loaded.items():
        raw = _raw_events(runs / name / "train")
        assert len(run.grad_norms) == 2 and len(run.dead_fractions) == 1
        series = {"grad_norm/global": run.global_norm}
        series.update({f"grad_norm/{k}": v for k, v in run.grad_norms.items()})
        series.update({f"dead_fraction/{k}": v for k, v in run.dead_fractions.items()})
        assert set(series) == set(raw)
        for tag, (steps, values) in series.items():
            want_steps, want_values = zip(*sorted(raw[tag]), strict=True)
            np.testing.assert_array_equal(steps, want_steps)
            np.testing.assert_array_equal(values, want_values)
        assert list(run.global_norm[0]) == list(range(1, 9))  # 2 epochs x 4 steps, every step


def test_one_run_by_its_log_dir_or_train_dir(runs):
    (run,) = load_runs(runs / "relu")
    assert run.name == "relu"
    (run,) = load_runs(runs / "relu" / "train")
    assert run.name == "train"


def test_refuses_empty_directory(tmp_path):
    with pytest.raises(ReportError, match="No TensorBoard event files under .*GradientMonitor"):
        render_report(tmp_path, tmp_path / "report.png")
    assert not (tmp_path / "report.png").exists()


def test_refuses_missing_directory(tmp_path):
    with pytest.raises(ReportError, match="does not exist. Received: log_dir="):
        load_runs(tmp_path / "nowhere")


def test_refuses_logs_without_monitor_tags(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "train"))
    with writer.as_default(step=1):
        tf.summary.scalar("epoch_loss", 0.5)
    writer.close()
    with pytest.raises(ReportError, match="hold no GradientMonitor tags.*found: epoch_loss"):
        load_runs(tmp_path)


def test_refuses_foreign_event_file(tmp_path):
    (tmp_path / "events.out.tfevents.123.host").write_bytes(os.urandom(256))
    with pytest.raises(ReportError):
        load_runs(tmp_path)


def test_missing_matplotlib_names_the_extra(runs, tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'keras_relu_family\[examples\]'"):
        render_report(runs, tmp_path / "report.png")


def test_bad_max_columns(runs, tmp_path):
    with pytest.raises(ValueError, match="Received: max_columns=0"):
        render_report(runs, tmp_path / "report.png", max_columns=0)


def test_command_line(runs, tmp_path, capsys):
    assert report.main([str(runs), "--output", str(tmp_path / "r.png")]) == 0
    assert "Wrote" in capsys.readouterr().out and (tmp_path / "r.png").read_bytes()[:8] == PNG
    assert report.main([str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.strip().startswith("error: The log directory does not exist")


def test_python_dash_m_on_empty_directory_exits_non_zero_with_one_line(dash_m):
    process, empty = dash_m
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No TensorBoard event files" in errors[0]
    assert stderr.strip().splitlines()[-1] == errors[0]  # the last word, after TF's own logs
    assert not (empty / "x.png").exists()
