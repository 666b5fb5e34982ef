"""``GradientMonitor(verbose=1)``: the end-of-epoch table, from the logged values."""

from __future__ import annotations

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.callbacks._table import epoch_table  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402


def train(tmp_path, verbose, epochs=2):
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((24, 6)).astype("float32")
    y = rng.standard_normal((24, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="relu", name="hidden"),
            keras.layers.Dense(4, name="pre"),
            keras.layers.ReLU(name="act"),
            keras.layers.Dense(2, name="head"),
        ],
        name="net",
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    monitor = krf.GradientMonitor(tmp_path, update_freq=2, update_ratios=True, verbose=verbose)
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=[monitor])
    return read_scalars(tmp_path)


def test_verbose_prints_one_table_per_epoch_with_the_last_logged_values(tmp_path, capsys):
    logged = train(tmp_path, verbose=1)
    out = capsys.readouterr().out
    tables = out.split("GradientMonitor: epoch ")[1:]
    assert len(tables) == 2  # three steps an epoch, logged at 2, 4 and 6
    assert tables[0].startswith("1, last logged step 2\n")
    assert tables[1].startswith("2, last logged step 6\n")
    rows = {line.split()[0]: line.split()[1:] for line in tables[1].splitlines()[2:]}
    # Model order; the weightless ReLU layer has a dead fraction only.
    assert list(rows) == ["net/hidden", "net/pre", "net/act", "net/head", "(global)"]
    for path in ("net/hidden", "net/pre", "net/head"):
        norm, ratio = rows[path][:2]
        assert float(norm) == pytest.approx(logged[f"grad_norm/{path}"][6], rel=1e-3)
        assert float(ratio) == pytest.approx(logged[f"update_ratio/{path}"][6], rel=1e-2)
    assert rows["net/act"][:2] == ["-", "-"]
    for path in ("net/hidden", "net/act"):
        assert float(rows[path][2]) == pytest.approx(logged[f"dead_fraction/{path}"][6], abs=5e-3)
    assert rows["net/head"][2] == "-"
    assert float(rows["(global)"][0]) == pytest.approx(logged["grad_norm/global"][6], rel=1e-3)
    assert "!" not in out  # no rule broken


def test_verbose_zero_prints_nothing(tmp_path, capsys):
    train(tmp_path, verbose=0, epochs=1)
    assert capsys.readouterr().out == ""


def test_the_table_marks_the_layers_that_broke_a_rule():
    text = epoch_table(
        0,
        7,
        ["m/a", "m/b"],
        {"m/a": 1.5, "m/b": 2e-9},
        {"m/a": 1e-3, "m/b": 0.0},
        {"m/a": 0.25},
        {"m/b": "vanishing"},
        1.5,
    )
    lines = text.splitlines()
    assert lines[0] == "GradientMonitor: epoch 1, last logged step 7"
    assert re.fullmatch(r"m/a +1\.500e\+00 +1\.00e-03 +0\.25", lines[2])
    assert re.fullmatch(r"m/b +2\.000e-09 +0\.00e\+00 +- +! vanishing", lines[3])
    assert lines[-1].startswith("! 1 broke a rule this epoch")
    assert epoch_table(0, None, [], {}, {}, {}, {}, None) == (
        "GradientMonitor: epoch 1: no step logged yet."
    )
