"""``update_ratio/<layer path>`` = ||w_after - w_before|| / ||w_before||, for any optimizer.

The reference is independent of the monitor: a callback copies every
trainable weight before and after each training step, and numpy computes
the ratio per layer in float64.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402

BATCH = 8


class WeightsAroundSteps(keras.callbacks.Callback):
    """``ratios[step] = {layer path: ratio}`` from the weights before and after each step."""

    def __init__(self):
        super().__init__()
        self.ratios, self.step = {}, 0

    def _weights(self):
        return {v.path: np.float64(v.numpy()) for v in self.model.trainable_variables}

    def on_train_batch_begin(self, batch, logs=None):
        self.before = self._weights()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        after, update, weight = self._weights(), {}, {}
        for path, old in self.before.items():
            layer = path.rsplit("/", 1)[0]
            update[layer] = update.get(layer, 0.0) + np.sum((after[path] - old) ** 2)
            weight[layer] = weight.get(layer, 0.0) + np.sum(old**2)
        self.ratios[self.step] = {k: np.sqrt(update[k]) / np.sqrt(weight[k]) for k in update}


def model_and_data():
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4 * BATCH, 6)).astype("float32")
    y = rng.standard_normal((4 * BATCH, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16),
            krf.PReLU(),  # a trainable activation: its alpha is a layer of its own
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2),
        ],
        name="net",
    )
    return model, x, y


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: keras.optimizers.SGD(0.05, momentum=0.9),
        lambda: keras.optimizers.Adam(1e-2),
        lambda: keras.optimizers.AdamW(1e-2, weight_decay=0.1),  # decay is part of the update
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_update_ratio_equals_the_weights_own_change(tmp_path, optimizer):
    model, x, y = model_and_data()
    model.compile(optimizer=optimizer(), loss="mse")
    reference = WeightsAroundSteps()
    monitor = krf.GradientMonitor(tmp_path, update_freq=1, update_ratios=True)
    model.fit(
        x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, callbacks=[reference, monitor]
    )
    logged = read_scalars(tmp_path)
    ratios = {t: v for t, v in logged.items() if t.startswith("update_ratio/")}
    assert set(ratios) == {f"update_ratio/{p}" for p in reference.ratios[1]}
    assert len(ratios) == 4
    for step in range(1, 9):
        for layer, value in reference.ratios[step].items():
            assert ratios[f"update_ratio/{layer}"][step] == pytest.approx(value, rel=1e-5)
    assert all(1e-4 < v < 1 for r in reference.ratios.values() for v in r.values())


def test_update_ratios_only_at_logged_steps_and_only_on_request(tmp_path):
    model, x, y = model_and_data()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    reference = WeightsAroundSteps()
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[
            reference,
            krf.GradientMonitor(tmp_path / "a", update_freq=3, update_ratios=True),
        ],
    )
    logged = read_scalars(tmp_path / "a")
    for layer in reference.ratios[1]:
        tag = f"update_ratio/{layer}"
        assert sorted(logged[tag]) == [3, 6]
        assert [logged[tag][3], logged[tag][6]] == pytest.approx(
            [reference.ratios[3][layer], reference.ratios[6][layer]], rel=1e-5
        )
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[krf.GradientMonitor(tmp_path / "b", update_freq=1)],
    )
    tags = read_scalars(tmp_path / "b")
    assert tags and not [t for t in tags if t.startswith("update_ratio/")]
