"""XLA: ``compile(jit_compile=True)`` trains every layer, like the non-XLA run to 1e-6."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from tests._integration_helpers import (
    branch_names,
    branch_targets,
    every_activation_model,
    regression_data,
    weights_by_path,
)

# RReLU draws its training slopes from a keras SeedGenerator, and XLA's random
# bits differ from TensorFlow's for the same seed: its branch (dense_rrelu) is
# only checked to train. The extra RReLU with lower == upper runs the same
# training code (random draw included) with slopes that cannot differ, so it is
# compared like every other layer.
RANDOM_BRANCH = "dense_rrelu/"


def _extra():
    return {"rrelu_fixed": krf.RReLU(lower=0.2, upper=0.2, seed=3, name="layer_rrelu_fixed")}


@pytest.fixture(scope="module")
def runs():
    x, _ = regression_data(32)
    y = branch_targets(x, len(branch_names(strings=False, extra_layers=_extra())))
    results = {}
    for jit in (False, True):
        model = every_activation_model(head=False, strings=False, extra_layers=_extra())
        model.compile(keras.optimizers.SGD(0.5), "mse", jit_compile=jit)
        assert model.jit_compile is jit
        before = weights_by_path(model)
        outputs = model.predict(x, verbose=0)
        model.train_on_batch(x, y)
        results[jit] = {"before": before, "outputs": outputs, "after": weights_by_path(model)}
    return results


def test_same_starting_weights(runs):
    for path, value in runs[False]["before"].items():
        np.testing.assert_array_equal(runs[True]["before"][path], value, err_msg=path)


def test_outputs_agree(runs):
    np.testing.assert_allclose(runs[True]["outputs"], runs[False]["outputs"], rtol=1e-6, atol=1e-6)


def test_every_layer_trains_under_xla(runs):
    for path, before in runs[True]["before"].items():
        after = runs[True]["after"][path]
        assert np.isfinite(after).all(), path
        assert np.abs(after - before).max() > 1e-4, f"{path} did not train"


def test_one_step_updates_agree(runs):
    compared = 0
    for path, before in runs[False]["before"].items():
        if path.startswith(RANDOM_BRANCH):
            continue
        update = runs[False]["after"][path] - before
        update_xla = runs[True]["after"][path] - runs[True]["before"][path]
        np.testing.assert_allclose(update_xla, update, rtol=0, atol=1e-6, err_msg=path)
        compared += 1
    assert compared == len(runs[False]["before"]) - 2  # all but dense_rrelu's kernel and bias
