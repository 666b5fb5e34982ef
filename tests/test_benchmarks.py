"""The benchmark scripts run and print their tables (their speed is not tested here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _start(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _output(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    assert out.startswith("machine: "), out
    assert "TensorFlow " in out and "Keras " in out and "cores" in out
    return out


def _table_rows(out: str) -> list:
    """The data rows of the Markdown table in ``out``, as lists of cells."""
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, out
    assert set(lines[1]) <= set("|-"), out
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_quick_modes_print_machine_line_and_tables():
    # Both at once: each is mostly TensorFlow's start-up and XLA compilation.
    timing, memory = _start("activations.py", "--quick"), _start("memory.py", "--quick")
    timing_rows, memory_rows = _table_rows(_output(timing)), _table_rows(_output(memory))

    sys.path.insert(0, str(REPO / "benchmarks"))
    import _rows

    import keras_relu_family as krf

    labels = [row.label for row in _rows.rows()]
    assert [row[0] for row in timing_rows] == labels
    assert {row.spec.name for row in _rows.rows()} == set(krf.REGISTRY)  # every activation
    assert "relu (max_value=6)" in labels and "swish (trainable beta)" in labels
    for row in timing_rows:  # times and ratios, tf.function then XLA
        assert all(float(cell) > 0 for cell in row[1:4] + row[5:8]), row
    assert [row[0] for row in memory_rows] == ["relu"]
    assert all(float(cell) > 0 for cell in memory_rows[0][2:]), memory_rows


def test_monitor_overhead_quick_run_prints_its_three_tables():
    # One round of a small epoch: the paired-epoch table, the in-graph and the drain tables.
    out = _output(
        _start("monitor_overhead.py", "--rounds", "1", "--samples", "512", "--calls", "20")
    )
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert any(r.startswith("| none ") for r in rows), out
    assert any(r.startswith("| monitor defaults") for r in rows), out
    assert any("a logged step" in r for r in rows), out  # the in-graph table
    assert any("update_freq=50" in r for r in rows), out  # the drain table


def test_models_quick_run_swaps_every_activation_and_checks_the_outputs():
    # Once, in the PyTorch run (the quickest to build and train the applications): the swap
    # and the script's check that both models give the same outputs are backend-agnostic.
    import keras

    if keras.config.backend() != "torch":
        pytest.skip("run in the PyTorch pass of the suite")
    models = "mobilenet_v3_small,efficientnet_b0"
    process = _start("models.py", "--quick", "--backend", "torch", "--models", models)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    assert out.startswith("machine: ") and "PyTorch " in out, out
    swapped = {row[0]: row[1] for row in _table_rows(out)}
    assert swapped.keys() == {"mobilenet_v3_small", "efficientnet_b0"}
    for kind in ("19 Activation(hard_silu)", "14 ReLU layer", "9 ReLU layer max_value=6.0"):
        assert kind in swapped["mobilenet_v3_small"], swapped
    for kind in ("33 Activation(silu)", "16 Conv2D(silu)"):
        assert kind in swapped["efficientnet_b0"], swapped
