"""Gradients with respect to trainable parameters: values, shapes, dtypes, reductions."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from _family_helpers import DTYPES, finfo

import keras_relu_family as krf

rng = np.random.default_rng(1)
X = rng.normal(0.0, 2.0, (4, 3, 5, 6))
X[0, 0, 0, :2] = [0.0, -0.0]  # the kink, where d/dalpha = 0 (positive branch)

# Every activation with a trainable parameter: (function of (x, param), numpy (dx, dparam)).
TRAINABLE = {
    spec.name: (
        lambda x, p, spec=spec: spec.function(x, **{spec.trainable[0]: p}),
        lambda x, p, spec=spec: spec.numpy_derivative(x, **{spec.trainable[0]: p}),
    )
    for spec in krf.REGISTRY.values()
    if spec.trainable
}
SHAPES = [(), (6,), (1, 1, 6), (3, 5, 6), (3, 1, 1)]


def grads(fn, x, param):
    with tf.GradientTape() as tape:
        tape.watch([x, param])
        y = fn(x, param)
        loss = tf.reduce_sum(y * tf.cast(WEIGHTS, y.dtype))
    return y, *tape.gradient(loss, [x, param])


WEIGHTS = rng.uniform(0.5, 1.5, X.shape)  # an upstream gradient that is not all ones


def expected(name, x, p):
    """numpy: d loss/dx and d loss/dparam summed over the broadcast axes."""
    dx, dp = TRAINABLE[name][1](x, np.broadcast_to(p, x.shape))
    dp = dp * WEIGHTS
    lead = dp.ndim - p.ndim
    dp = dp.sum(axis=tuple(range(lead)))
    dp = dp.sum(axis=tuple(i for i, n in enumerate(p.shape) if n == 1), keepdims=True)
    return dx * WEIGHTS, dp.reshape(p.shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_parameter_gradient_reduced_to_parameter_shape(name, shape):
    p = rng.uniform(0.1, 1.2, shape)
    x, param = tf.constant(X), tf.Variable(p)
    _, dx, dp = grads(TRAINABLE[name][0], x, param)
    dx_ref, dp_ref = expected(name, X, p)
    assert dp.shape == shape and dp.dtype == tf.float64
    np.testing.assert_allclose(dx.numpy(), dx_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dp.numpy(), dp_ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("x_dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_parameter_gradient_comes_back_in_parameter_dtype(name, x_dtype):
    """A float32 variable with half input (mixed precision): a float32 gradient."""
    p = rng.uniform(0.1, 1.2, (6,))
    x = tf.cast(tf.constant(X), x_dtype)
    param = tf.Variable(p.astype(np.float32))
    y, dx, dp = grads(TRAINABLE[name][0], x, param)
    assert y.dtype == x_dtype and dx.dtype == x_dtype and dp.dtype == tf.float32
    x64 = x.numpy().astype(np.float64)
    dx_ref, dp_ref = expected(name, x64, p.astype(np.float32).astype(np.float64))
    eps = float(finfo(x_dtype).eps) if x_dtype != tf.float64 else 1e-7
    # The parameter gradient is a sum of 360 products: float32 accumulation at worst.
    np.testing.assert_allclose(dp.numpy(), dp_ref, rtol=max(4 * eps, 1e-5), atol=1e-4)
    np.testing.assert_allclose(
        dx.numpy().astype(np.float64), dx_ref, rtol=4 * eps, atol=4 * eps * np.abs(dx_ref).max()
    )


@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_parameter_gradient_matches_tensorflow_autodiff(name):
    spec = krf.REGISTRY[name]
    p = tf.Variable(rng.uniform(0.1, 1.2, (1, 1, 6)))
    x = tf.constant(X)
    _, _, dp = grads(TRAINABLE[name][0], x, p)
    (key,) = spec.trainable
    _, _, dp_auto = grads(lambda u, q: spec.autodiff(u, **{key: q}), x, p)
    np.testing.assert_allclose(dp.numpy(), dp_auto.numpy(), rtol=1e-12)


def test_swish_beta_gradient_finite_at_extremes():
    for dtype in DTYPES:
        big = float(finfo(dtype).max)
        x = tf.constant([-big, -1e4, -88.7, -11.1, 0.0, 11.1, 88.7, 1e4, big][:9], dtype)
        x = tf.boolean_mask(x, tf.math.is_finite(x))
        beta = tf.Variable(tf.ones(x.shape))  # per element: no sum to overflow
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = krf.swish(x, beta)
        dx, db = tape.gradient(y, [x, beta])
        assert np.isfinite(dx.numpy().astype(np.float64)).all()
        assert np.isfinite(db.numpy()).all(), db


def test_prelu_alpha_as_python_number_has_no_gradient_path_but_works():
    y = krf.prelu(tf.constant([-2.0, 2.0], tf.float64), -0.3)
    np.testing.assert_allclose(y.numpy(), [0.6, 2.0], rtol=1e-15)


@pytest.mark.parametrize("bad", [tf.constant([1, 2]), np.array([True, False]), True])
def test_integer_and_bool_parameters_are_refused(bad):
    with pytest.raises(TypeError, match=r"`alpha` must be floating-point. Received: alpha"):
        krf.prelu(tf.constant([1.0, 2.0]), bad)
    if not isinstance(bad, (list, bool)):  # a Python value for beta is a fixed number
        with pytest.raises(TypeError, match=r"`beta` must be floating-point. Received: beta"):
            krf.swish(tf.constant([1.0, 2.0]), bad)
