"""Forward values of every activation against the independent numpy references.

Parametrised over the registry: a new entry is tested here without new code.
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
    rel_tol,
)

import keras_relu_family as krf


def _condition(spec, x, params):
    """Relative condition number |x f'(x) / f(x)| of the function, at least 1.

    A result that is exact for an input within one rounding of ``x`` can be
    off by ``eps * kappa`` relative; kappa is ~1 almost everywhere and grows
    only in a few far tails (GELU's lower tail: kappa ~ x**2).
    """
    from _family_helpers import numpy_derivative

    with np.errstate(all="ignore"):
        kappa = np.abs(x * numpy_derivative(spec, x, params) / spec.numpy_forward(x, **params))
    return np.where(np.isfinite(kappa), np.maximum(kappa, 1.0), 1.0)


def _expected(spec, x, params, dtype):
    """The reference in float64, and where it overflows ``dtype``, the infinity it rounds to."""
    ref = spec.numpy_forward(x, **params)
    with np.errstate(over="ignore"):
        rounded = ref.astype(dtype.as_numpy_dtype).astype(np.float64)
    return np.where(np.isinf(rounded), rounded, ref)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_forward_matches_numpy_reference(spec, params, dtype):
    x = np.append(inputs(dtype), np.nan)
    y = call(spec, tf.constant(x, dtype), params)
    assert y.dtype == dtype
    assert y.shape == x.shape
    expected = _expected(spec, x, params, dtype)
    rtol = rel_tol(dtype) * _condition(spec, x, params)
    # A product with a subnormal intermediate (flushed to zero on CPU) is off by |x| * tiny at most.
    atol = abs_tol(dtype) * np.maximum(1.0, np.nan_to_num(np.abs(x)))
    assert_close(y.numpy(), expected, rtol, atol, f"{spec.name} {dtype.name}")


@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_forward_keeps_shape_and_accepts_python_values(spec, params):
    x = np.linspace(-3.0, 3.0, 24).reshape(2, 3, 4)
    y = call(spec, x.tolist(), params)
    assert y.dtype == tf.float32
    assert y.shape == (2, 3, 4)
    np.testing.assert_allclose(y.numpy(), spec.numpy_forward(x, **params), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [np.array([1, 2]), tf.constant([1, 2]), tf.constant([True])])
@pytest.mark.parametrize(
    ("spec", "params"), CASES[:1] + CASES[-1:], ids=CASE_IDS[:1] + CASE_IDS[-1:]
)
def test_integer_and_bool_input_is_refused(spec, params, bad):
    with pytest.raises(
        TypeError, match=r"floating-point input .*Received: x with dtype=(int|bool)"
    ):
        call(spec, bad, params)


def test_every_activation_refuses_integer_input():
    for name in krf.available():
        spec = krf.REGISTRY[name]
        with pytest.raises(TypeError, match=f"{name} expects a floating-point input"):
            call(spec, tf.constant([1, 2]), spec.param_sets[0])


def test_prelu_is_piecewise_not_max():
    # With alpha > 1, max(x, alpha * x) would return x for x < 0.
    x = tf.constant([-2.0, 3.0])
    np.testing.assert_array_equal(krf.prelu(x, 1.5).numpy(), [-3.0, 3.0])


def test_prelu_broadcasts_alpha_per_channel():
    x = np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    expected = np.where(x >= 0, x, alpha * x)
    np.testing.assert_allclose(krf.prelu(x, alpha), expected, rtol=1e-12)


def test_rrelu_training_draws_slopes_in_range():
    x = -tf.ones([2000])
    y = krf.rrelu(x, lower=0.2, upper=0.4, training=True, seed=3).numpy()
    slopes = -y
    assert slopes.min() >= 0.2 and slopes.max() < 0.4
    assert slopes.std() > 0.03  # they vary element to element
    # Positive inputs pass unchanged, also while training.
    np.testing.assert_array_equal(krf.rrelu(tf.ones([5]), training=True).numpy(), np.ones(5))


def test_rrelu_seed_semantics():
    x = -tf.ones([64])
    a = krf.rrelu(x, training=True, seed=5)
    b = krf.rrelu(x, training=True, seed=5)
    np.testing.assert_array_equal(a, b)  # an int seed: the same noise each call
    gen = __import__("keras").random.SeedGenerator(5)
    c = krf.rrelu(x, training=True, seed=gen)
    d = krf.rrelu(x, training=True, seed=gen)
    assert not np.array_equal(c, d)  # a generator: fresh noise each call
    with pytest.raises(ValueError, match=r"Received: seed='x'"):
        krf.rrelu(x, training=True, seed="x")


def test_rrelu_inference_uses_mean_slope():
    y = krf.rrelu(tf.constant([-4.0]), lower=0.1, upper=0.5, training=False)
    np.testing.assert_allclose(y.numpy(), [-1.2], rtol=1e-7)


def test_rrelu_training_tensor_flag():
    x = -tf.ones([100])
    flag = tf.constant(False)
    np.testing.assert_allclose(krf.rrelu(x, training=flag), -np.ones(100) * (1 / 8 + 1 / 3) / 2)
    y = krf.rrelu(x, training=tf.constant(True), seed=1).numpy()
    assert np.unique(y).size > 50
