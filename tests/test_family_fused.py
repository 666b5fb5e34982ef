"""The XLA-fused path that graphs take for big tensors, against the numpy references.

Inside a graph, a tensor of at least ``_XLA_MIN_ELEMENTS`` runs each kernel's
forward and backward pass as one XLA-compiled function (see
``keras_relu_family/_backend/tensorflow.py``); smaller tensors, and eager calls,
which the other family tests use, run the plain ops. Here every activation runs
on the family tests' inputs (tails, kinks, NaN) tiled to a big tensor, with the
shape known when the graph is traced and with an unknown batch dimension (the
``tf.cond`` a Keras ``fit`` or a SavedModel signature runs), against the same
references and tolerances as the eager tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from _family_helpers import (
    CASE_IDS,
    CASES,
    DTYPES,
    abs_tol,
    assert_close,
    call,
    inputs,
    numpy_derivative,
    rel_tol,
    representable,
    value_and_grad,
)
from test_family_forward import _condition, _expected
from test_family_gradients import grad_tol

import keras_relu_family as krf
from keras_relu_family._backend import tensorflow as tf_backend

BIG = tf_backend._XLA_MIN_ELEMENTS
TRAINABLE = [spec for spec in krf.REGISTRY.values() if spec.trainable]


def _big_input(spec, params, dtype):
    """The family inputs, kinks and NaN, tiled into a (rows, n) array of at least BIG elements."""
    kinks = np.array(spec.kinks(params), dtype=np.float64)
    x = representable(np.concatenate([inputs(dtype), kinks, [np.nan]]), dtype)
    rows = -(-BIG // x.size)
    return np.tile(x, (rows, 1))


def _xla_calls(concrete) -> int:
    """How many functions compiled with XLA (``jit_compile=True``) the traced graph calls."""
    graph = concrete.graph.as_graph_def()
    return sum(1 for f in graph.library.function if f.attr["_XlaMustCompile"].b)


def _traced(spec, params, dtype, shape):
    def step(x):
        return value_and_grad(lambda u: call(spec, u, params), x)

    return tf.function(step).get_concrete_function(tf.TensorSpec(shape, dtype))


# Every dtype with the shape known at trace time; the run-time choice (the same
# compiled function behind a tf.cond) in float32.
SHAPES = [(d, "known") for d in DTYPES] + [("float32", "unknown")]


@pytest.mark.parametrize(("dtype", "batch"), SHAPES, ids=[f"{d}-{b}" for d, b in SHAPES])
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_fused_path_matches_numpy_reference(spec, params, dtype, batch):
    x = _big_input(spec, params, dtype)
    concrete = _traced(spec, params, dtype, x.shape if batch == "known" else (None, x.shape[1]))
    assert _xla_calls(concrete) > 0, "the big tensor did not take the compiled path"
    y, dx = concrete(tf.constant(x, dtype))
    assert y.dtype.name == dtype and dx.dtype.name == dtype
    what = f"{spec.name} {dtype} {batch}"

    expected = _expected(spec, x, params, dtype)
    rtol = rel_tol(dtype) * _condition(spec, x, params)
    atol = abs_tol(dtype) * np.maximum(1.0, np.nan_to_num(np.abs(x)))
    assert_close(y.numpy(), expected, rtol, atol, f"forward {what}")

    rtol, atol = grad_tol(dtype)
    assert_close(dx.numpy(), numpy_derivative(spec, x, params), rtol, atol, f"gradient {what}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", TRAINABLE, ids=lambda spec: spec.name)
def test_fused_parameter_gradient_is_reduced_like_the_reference(spec, dtype):
    (name,) = spec.trainable
    grad = spec.numpy_derivative
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 3.0, (BIG // 8, 8))
    x[0, :2] = [0.0, -0.0]
    param = np.linspace(0.1, 1.6, 8)
    weights = rng.normal(0.0, 1.0, x.shape)

    @tf.function
    def step(x, p):
        with tf.GradientTape() as tape:
            tape.watch(p)
            loss = tf.reduce_sum(spec.function(x, **{name: p}) * tf.constant(weights, x.dtype))
        return tape.gradient(loss, p)

    concrete = step.get_concrete_function(
        tf.TensorSpec(x.shape, dtype), tf.TensorSpec(param.shape, dtype)
    )
    assert _xla_calls(concrete) > 0
    dparam = concrete(tf.constant(x, dtype), tf.constant(param, dtype)).numpy()
    expected = (weights * grad(x, param)[1]).sum(axis=0)
    # A sum of 8192 terms: float32 rounding grows with the sum of magnitudes.
    scale = np.abs(weights * grad(x, param)[1]).sum(axis=0)
    tol = {"float32": 1e-6, "float64": 1e-13}[dtype]
    np.testing.assert_allclose(dparam, expected, rtol=0, atol=tol * scale.max())


def test_small_tensors_and_the_switch_run_plain_ops(monkeypatch):
    spec, params = krf.REGISTRY["elu"], {}
    assert _xla_calls(_traced(spec, params, "float32", (8, 8))) == 0
    assert _xla_calls(_traced(spec, params, "float32", (BIG, 1))) > 0
    monkeypatch.setenv("KERAS_RELU_FAMILY_XLA", "0")
    assert _xla_calls(_traced(spec, params, "float32", (BIG, 1))) == 0
    assert _xla_calls(_traced(spec, params, "float32", (None, 1))) == 0
