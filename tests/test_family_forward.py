"""Forward values of every activation against the independent numpy references.

Parametrised over the registry: a new entry is tested here without new code.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from _family_helpers import (
    CASE_IDS,
    CASES,
    DTYPES,
    abs_tol,
    assert_close,
    call,
    dtype_of,
    inputs,
    numpy_dtype,
    rel_tol,
    tensor,
    to_numpy,
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
        rounded = ref.astype(numpy_dtype(dtype)).astype(np.float64)
    return np.where(np.isinf(rounded), rounded, ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_forward_matches_numpy_reference(spec, params, dtype):
    x = np.append(inputs(dtype), np.nan)
    y = call(spec, tensor(x, dtype), params)
    assert dtype_of(y) == dtype
    assert tuple(y.shape) == x.shape
    expected = _expected(spec, x, params, dtype)
    rtol = rel_tol(dtype) * _condition(spec, x, params)
    # A product with a subnormal intermediate (flushed to zero on CPU) is off by |x| * tiny at most.
    atol = abs_tol(dtype) * np.maximum(1.0, np.nan_to_num(np.abs(x)))
    assert_close(to_numpy(y), expected, rtol, atol, f"{spec.name} {dtype}")


@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_forward_keeps_shape_and_accepts_python_values(spec, params):
    x = np.linspace(-3.0, 3.0, 24).reshape(2, 3, 4)
    y = call(spec, x.tolist(), params)
    assert dtype_of(y) == "float32"
    assert tuple(y.shape) == (2, 3, 4)
    np.testing.assert_allclose(to_numpy(y), spec.numpy_forward(x, **params), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1, 2]),
        keras.ops.convert_to_tensor([1, 2], "int32"),
        keras.ops.convert_to_tensor([True]),
    ],
    ids=["numpy int", "int32 tensor", "bool tensor"],
)
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
            call(spec, keras.ops.convert_to_tensor([1, 2], "int32"), spec.param_sets[0])


def test_prelu_is_piecewise_not_max():
    # With alpha > 1, max(x, alpha * x) would return x for x < 0.
    x = tensor([-2.0, 3.0])
    np.testing.assert_array_equal(to_numpy(krf.prelu(x, 1.5)), [-3.0, 3.0])


def test_prelu_broadcasts_alpha_per_channel():
    x = np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    expected = np.where(x >= 0, x, alpha * x)
    np.testing.assert_allclose(
        to_numpy(krf.prelu(tensor(x, "float64"), alpha)), expected, rtol=1e-12
    )


def test_rrelu_training_draws_slopes_in_range():
    x = -keras.ops.ones([2000])
    y = to_numpy(krf.rrelu(x, lower=0.2, upper=0.4, training=True, seed=3))
    slopes = -y
    assert slopes.min() >= 0.2 and slopes.max() < 0.4
    assert slopes.std() > 0.03  # they vary element to element
    # Positive inputs pass unchanged, also while training.
    ones = keras.ops.ones([5])
    np.testing.assert_array_equal(to_numpy(krf.rrelu(ones, training=True, seed=1)), np.ones(5))


def test_rrelu_seed_semantics():
    x = -keras.ops.ones([64])
    a = to_numpy(krf.rrelu(x, training=True, seed=5))
    b = to_numpy(krf.rrelu(x, training=True, seed=5))
    np.testing.assert_array_equal(a, b)  # an int seed: the same noise each call
    gen = keras.random.SeedGenerator(5)
    c = to_numpy(krf.rrelu(x, training=True, seed=gen))
    d = to_numpy(krf.rrelu(x, training=True, seed=gen))
    assert not np.array_equal(c, d)  # a generator: fresh noise each call
    with pytest.raises(ValueError, match=r"Received: seed='x'"):
        krf.rrelu(x, training=True, seed="x")


def test_rrelu_inference_uses_mean_slope():
    y = krf.rrelu(tensor([-4.0]), lower=0.1, upper=0.5, training=False)
    np.testing.assert_allclose(to_numpy(y), [-1.2], rtol=1e-7)


def test_rrelu_training_tensor_flag():
    x = -keras.ops.ones([100])
    flag = keras.ops.convert_to_tensor(False)
    y = to_numpy(krf.rrelu(x, training=flag, seed=1))
    np.testing.assert_allclose(y, -np.ones(100) * (1 / 8 + 1 / 3) / 2, rtol=1e-7)
    y = to_numpy(krf.rrelu(x, training=keras.ops.convert_to_tensor(True), seed=1))
    assert np.unique(y).size > 50


def test_rrelu_training_tensor_flag_under_the_backends_compiler():
    """The flag as a traced tensor: ``tf.function`` / ``jax.jit`` take the ``cond``."""
    from _family_helpers import MODES

    compiled = list(MODES.values())[1]
    step = compiled(lambda x, flag: krf.rrelu(x, training=flag, seed=2))
    x = -keras.ops.ones([100])
    inference = to_numpy(step(x, keras.ops.convert_to_tensor(False)))
    np.testing.assert_allclose(inference, -np.ones(100) * (1 / 8 + 1 / 3) / 2, rtol=1e-7)
    assert np.unique(to_numpy(step(x, keras.ops.convert_to_tensor(True)))).size > 50
