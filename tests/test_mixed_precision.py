"""Mixed precision: every layer and string under ``mixed_float16`` and ``mixed_bfloat16``."""

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
    string_names,
)

# Machine epsilon of each compute dtype: 2**-10 for float16, 2**-7 for bfloat16.
EPS = {"mixed_float16": 2.0**-10, "mixed_bfloat16": 2.0**-7}
COMPUTE = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
LAYERS = list(krf.REGISTRY)


@pytest.fixture(scope="module")
def reference():
    """The float32 model and its outputs, built before any policy is set."""
    assert keras.mixed_precision.dtype_policy().name == "float32"
    keras.utils.set_random_seed(0)
    model = every_activation_model(head=False)
    x, _ = regression_data(64)
    return model, x, keras.ops.convert_to_numpy(model(x)).astype("float64")


@pytest.fixture(params=list(EPS))
def policy(request, reference):
    """Sets the global dtype policy for one test and always puts the previous one back."""
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def test_policy_fixture_restores_float32():
    assert keras.mixed_precision.dtype_policy().name == "float32"


def test_compute_dtype_float32_variables_and_float32_agreement(policy, reference):
    ref_model, x, ref_out = reference
    model = every_activation_model(head=False)
    model.set_weights(ref_model.get_weights())
    compute = COMPUTE[policy]

    assert {w.dtype for w in model.weights} == {"float32"}
    for name in LAYERS:
        layer = model.get_layer(f"layer_{name}")
        assert (layer.compute_dtype, layer.variable_dtype) == (compute, "float32"), name
    # Every branch (layer or string) outputs the compute dtype.
    probe = keras.Model(model.input, [model.get_layer("branches").input])
    outputs = probe(x)
    assert len(outputs) == len(branch_names())
    for name, out in zip(branch_names(), outputs, strict=True):
        assert keras.backend.standardize_dtype(out.dtype) == compute, name

    out = keras.ops.convert_to_numpy(model(x))
    assert out.dtype == compute
    # A few roundings of the compute dtype: the input, the Dense, the output.
    eps = EPS[policy]
    np.testing.assert_allclose(out.astype("float64"), ref_out, rtol=3 * eps, atol=3 * eps)


def test_fit_runs_and_keeps_float32_variables(policy):
    keras.utils.set_random_seed(0)
    model = every_activation_model(head=False, strings=False)
    x, _ = regression_data(64)
    y = branch_targets(x, len(branch_names(strings=False)))
    # Plain SGD: the fewest optimizer ops to trace; the loss-scale wrapper is what matters here.
    model.compile(keras.optimizers.SGD(0.05), "mse")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (
        policy == "mixed_float16"
    )
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for v in model.trainable_variables:
        assert v.dtype == "float32", v.path
        assert np.isfinite(v.numpy()).all(), v.path
        assert not np.array_equal(v.numpy(), before[v.path]), f"{v.path} did not train"


def test_string_activations_compute_in_the_policy_dtype(policy):
    x = regression_data(8)[0]
    for name in string_names():
        dense = keras.layers.Dense(3, activation=name)
        assert keras.backend.standardize_dtype(dense(x).dtype) == COMPUTE[policy], name
