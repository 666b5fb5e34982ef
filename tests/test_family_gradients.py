"""Hand-written gradients against independent references, in every dtype and mode.

- the numpy derivative written from the formula (all dtypes, kinks and NaN included);
- central finite differences in float64, away from kinks;
- TensorFlow's automatic gradient of the plain formula (``spec.autodiff``), in eager
  mode, inside ``tf.function`` and with ``jit_compile=True``;
- no NaN or inf at the extremes the issue names, in any float dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from _family_helpers import (
    CASE_IDS,
    CASES,
    DTYPES,
    EXTREMES,
    assert_close,
    away_from_kinks,
    call,
    finfo,
    inputs,
    numpy_derivative,
    ordinary,
    value_and_grad,
)

import keras_relu_family as krf
from keras_relu_family.family.exponential import SELU_SCALE

MODES = {
    "eager": lambda f: f,
    "function": lambda f: tf.function(f),
    "xla": lambda f: tf.function(f, jit_compile=True),
}


def grad_tol(dtype):
    """(rtol, atol) for a derivative of order 1: a few ulps of the dtype."""
    eps = float(finfo(dtype).eps)
    return {tf.float64: (1e-12, 1e-14), tf.float32: (2e-6, 4e-7)}.get(dtype, (3 * eps, 2 * eps))


def ours_grad(spec, params, x, mode="eager"):
    fn = MODES[mode](lambda t: value_and_grad(lambda u: call(spec, u, params), t))
    return fn(x)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_numpy_derivative(spec, params, dtype):
    kinks = np.array(spec.kinks(params), dtype=np.float64)
    x = np.concatenate([inputs(dtype), kinks, [np.nan]])
    x = tf.cast(tf.constant(x), dtype).numpy().astype(np.float64)
    _, dx = ours_grad(spec, params, tf.constant(x, dtype))
    assert dx.dtype == dtype
    rtol, atol = grad_tol(dtype)
    assert_close(dx.numpy(), numpy_derivative(spec, x, params), rtol, atol, spec.name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_at_kinks_is_the_same_in_every_mode(spec, params, mode):
    """XLA lowers TF's fused gradient ops with other comparisons: check the kinks there too."""
    kinks = np.array(spec.kinks(params) or (0.0,))
    x = np.concatenate([kinks, -kinks, [0.0, -0.0]])
    _, dx = ours_grad(spec, params, tf.constant(x, tf.float32), mode)
    np.testing.assert_allclose(dx.numpy(), numpy_derivative(spec, x, params), rtol=2e-6)


def test_named_kink_values():
    at_zero = tf.constant([0.0, -0.0])
    for fn, expected in [
        (krf.relu, 1.0),
        (lambda x: krf.leaky_relu(x, 0.2), 1.0),
        (lambda x: krf.prelu(x, 0.25), 1.0),
        (krf.relu6, 1.0),
        (krf.selu, SELU_SCALE),
        (lambda x: krf.elu(x, 0.5), 1.0),
    ]:
        _, dx = value_and_grad(fn, at_zero)
        np.testing.assert_allclose(dx.numpy(), [expected, expected], rtol=1e-7)
    _, dx = value_and_grad(krf.relu6, tf.constant([6.0]))
    assert dx.numpy()[0] == 0.0
    _, dx = value_and_grad(krf.hard_swish, tf.constant([-3.0, 3.0]))
    np.testing.assert_allclose(dx.numpy(), [-0.5, 1.0])


@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_finite_differences_float64(spec, params):
    x = np.concatenate([ordinary(), [-30.0, -11.1, 11.1, 30.0, 1e-3, -1e-3]])
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    x = x[away_from_kinks(x, spec.kinks(params), margin=1e-4)]
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    f = lambda v: call(spec, tf.constant(v, tf.float64), params).numpy()  # noqa: E731
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    _, dx = ours_grad(spec, params, tf.constant(x, tf.float64))
    np.testing.assert_allclose(dx.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=lambda d: d.name)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_tensorflow_autodiff(spec, params, dtype, mode):
    x = ordinary()
    x = x[away_from_kinks(x, spec.kinks(params))]
    xt = tf.constant(x, dtype)
    y, dx = ours_grad(spec, params, xt, mode)
    y_ref, dx_ref = value_and_grad(lambda u: spec.autodiff(u, **params), xt)
    # The autodiff formula rounds on its own (mish's 1 - tanh^2 is 0 in float32 at
    # x = 8, where the derivative is 1 + 3.4e-6): the strict check is against numpy above.
    rtol, atol = {tf.float32: (2e-6, 1e-5), tf.float64: (1e-12, 1e-12)}[dtype]
    np.testing.assert_allclose(y.numpy(), y_ref.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(dx.numpy(), dx_ref.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", ["eager", "xla"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_no_nan_or_inf_at_extremes(spec, params, dtype, mode):
    big = float(finfo(dtype).max)
    points = [p for p in EXTREMES if p < big]
    x = np.array(points + [-p for p in points] + [0.0, big, -big])
    xt = tf.cast(tf.constant(x), dtype)
    y, dx = ours_grad(spec, params, xt, mode)
    # The true gradient is finite everywhere; the forward value is finite unless
    # it exceeds the dtype's range (selu(max) = 1.05 * max).
    assert np.all(np.isfinite(dx.numpy().astype(np.float64))), dx
    ref = spec.numpy_forward(xt.numpy().astype(np.float64), **params)
    representable = np.abs(ref) <= big
    assert np.all(np.isfinite(y.numpy().astype(np.float64))[representable]), y


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_nan_in_gives_nan_out_and_nan_gradient(spec, params, dtype):
    x = tf.constant([np.nan, 1.0, -1.0], dtype)
    y, dx = ours_grad(spec, params, x)
    assert np.isnan(y.numpy()[0].astype(np.float64))
    assert np.isnan(dx.numpy()[0].astype(np.float64))
    assert not np.isnan(dx.numpy()[1:].astype(np.float64)).any()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_rrelu_training_gradient_is_the_forward_slope(dtype, mode):
    """While training, d/dx on the negative side is the very slope the forward pass drew."""
    x = tf.constant(np.concatenate([-np.linspace(0.5, 4.0, 64), [0.0, 2.0, np.nan]]), dtype)

    def run(u):
        return value_and_grad(lambda v: krf.rrelu(v, 0.1, 0.5, training=True, seed=11), u)

    y, dx = MODES[mode](run)(x)
    y64, x64 = y.numpy().astype(np.float64), x.numpy().astype(np.float64)
    slopes = y64[:64] / x64[:64]
    eps = float(finfo(dtype).eps)
    np.testing.assert_allclose(dx.numpy()[:64].astype(np.float64), slopes, rtol=4 * eps)
    assert (slopes >= 0.1 - 4 * eps).all() and (slopes <= 0.5 + 4 * eps).all()
    np.testing.assert_array_equal(dx.numpy()[64:66].astype(np.float64), [1.0, 1.0])
    assert np.isnan(dx.numpy()[66].astype(np.float64)) and np.isnan(y64[66])
