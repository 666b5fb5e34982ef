"""Hand-written gradients against independent references, in every dtype and mode.

- the numpy derivative written from the formula (all dtypes, kinks and NaN included);
- central finite differences in float64, away from kinks;
- the backend's automatic gradient of the plain formula (``spec.autodiff``), in
  every mode of ``MODES`` (eager, ``tf.function`` and ``jit_compile=True`` on
  TensorFlow; eager, ``jax.jit`` and ``jax.vmap`` on JAX);
- no NaN or inf at the extremes the issue names, in any float dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
from _family_helpers import (
    CASE_IDS,
    CASES,
    DTYPES,
    EXTREMES,
    MODES,
    assert_close,
    away_from_kinks,
    call,
    dtype_of,
    finfo,
    inputs,
    numpy_derivative,
    ordinary,
    representable,
    tensor,
    to_numpy,
    value_and_grad,
    value_and_grad_in,
)

import keras_relu_family as krf
from keras_relu_family.family.exponential import SELU_SCALE

COMPILED = list(MODES)[-1]  # XLA on TensorFlow, vmap (inside which everything is traced) on JAX


def grad_tol(dtype):
    """(rtol, atol) for a derivative of order 1: a few ulps of the dtype."""
    eps = float(finfo(dtype).eps)
    return {"float64": (1e-12, 1e-14), "float32": (2e-6, 4e-7)}.get(dtype, (3 * eps, 2 * eps))


def ours_grad(spec, params, x, mode="eager"):
    return value_and_grad_in(mode, lambda u: call(spec, u, params), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_numpy_derivative(spec, params, dtype):
    kinks = np.array(spec.kinks(params), dtype=np.float64)
    x = representable(np.concatenate([inputs(dtype), kinks, [np.nan]]), dtype)
    _, dx = ours_grad(spec, params, tensor(x, dtype))
    assert dtype_of(dx) == dtype
    rtol, atol = grad_tol(dtype)
    assert_close(to_numpy(dx), numpy_derivative(spec, x, params), rtol, atol, spec.name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_an_empty_batch_gives_an_empty_output_and_gradient(spec, params, mode):
    # A batch of nothing (the last of a dataset split unevenly, a filtered batch): the
    # PyTorch eager forms' searches reduce x, and a reduction of nothing fails there.
    x = tensor(np.zeros((0, 3)))
    y, dx = ours_grad(spec, params, x, mode)
    assert tuple(y.shape) == (0, 3) and tuple(dx.shape) == (0, 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_at_kinks_is_the_same_in_every_mode(spec, params, mode):
    """XLA lowers TF's fused gradient ops with other comparisons: check the kinks there too."""
    kinks = np.array(spec.kinks(params) or (0.0,))
    x = np.concatenate([kinks, -kinks, [0.0, -0.0]])
    _, dx = ours_grad(spec, params, tensor(x), mode)
    np.testing.assert_allclose(to_numpy(dx), numpy_derivative(spec, x, params), rtol=2e-6)


def test_named_kink_values():
    at_zero = tensor([0.0, -0.0])
    for fn, expected in [
        (krf.relu, 1.0),
        (lambda x: krf.leaky_relu(x, 0.2), 1.0),
        (lambda x: krf.prelu(x, 0.25), 1.0),
        (krf.relu6, 1.0),
        (krf.selu, SELU_SCALE),
        (lambda x: krf.elu(x, 0.5), 1.0),
    ]:
        _, dx = value_and_grad(fn, at_zero)
        np.testing.assert_allclose(to_numpy(dx), [expected, expected], rtol=1e-7)
    _, dx = value_and_grad(krf.relu6, tensor([6.0]))
    assert to_numpy(dx)[0] == 0.0
    _, dx = value_and_grad(krf.hard_swish, tensor([-3.0, 3.0]))
    np.testing.assert_allclose(to_numpy(dx), [-0.5, 1.0])
    # relu with Keras's arguments: slope 1 at the threshold, 0 at max_value.
    relu = lambda x: krf.relu(x, negative_slope=0.25, max_value=6.0, threshold=0.5)  # noqa: E731
    _, dx = value_and_grad(relu, tensor([0.5, 6.0, 0.25]))
    np.testing.assert_array_equal(to_numpy(dx), [1.0, 0.0, 0.25])


@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_finite_differences_float64(spec, params):
    x = np.concatenate([ordinary(), [-30.0, -11.1, 11.1, 30.0, 1e-3, -1e-3]])
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    x = x[away_from_kinks(x, spec.kinks(params), margin=1e-4)]
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    f = lambda v: to_numpy(call(spec, tensor(v, "float64"), params))  # noqa: E731
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    _, dx = ours_grad(spec, params, tensor(x, "float64"))
    np.testing.assert_allclose(to_numpy(dx), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_gradient_matches_the_backends_autodiff(spec, params, dtype, mode):
    x = ordinary()
    x = x[away_from_kinks(x, spec.kinks(params))]
    xt = tensor(x, dtype)
    y, dx = ours_grad(spec, params, xt, mode)
    y_ref, dx_ref = value_and_grad(lambda u: spec.autodiff(u, **params), xt)
    # The autodiff formula rounds on its own (mish's 1 - tanh^2 is 0 in float32 at
    # x = 8, where the derivative is 1 + 3.4e-6): the strict check is against numpy above.
    rtol, atol = {"float32": (2e-6, 1e-5), "float64": (1e-12, 1e-12)}[dtype]
    np.testing.assert_allclose(to_numpy(y), to_numpy(y_ref), rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_numpy(dx), to_numpy(dx_ref), rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", ["eager", COMPILED])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_no_nan_or_inf_at_extremes(spec, params, dtype, mode):
    big = float(finfo(dtype).max)
    points = [p for p in EXTREMES if p < big]
    x = representable(points + [-p for p in points] + [0.0, big, -big], dtype)
    y, dx = ours_grad(spec, params, tensor(x, dtype), mode)
    # The true gradient is finite everywhere; the forward value is finite unless
    # it exceeds the dtype's range (selu(max) = 1.05 * max).
    assert np.all(np.isfinite(to_numpy(dx))), dx
    ref = spec.numpy_forward(x, **params)
    in_range = np.abs(ref) <= big
    assert np.all(np.isfinite(to_numpy(y))[in_range]), y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_nan_in_gives_nan_out_and_nan_gradient(spec, params, dtype):
    y, dx = ours_grad(spec, params, tensor([np.nan, 1.0, -1.0], dtype))
    y, dx = to_numpy(y), to_numpy(dx)
    assert np.isnan(y[0]) and np.isnan(dx[0])
    assert not np.isnan(dx[1:]).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_nan_in_gives_nan_out_compiled(spec, params, dtype):
    """The same inside the backend's compiler (XLA before TF 2.21 dropped NaN in min/max)."""
    x = tensor([np.nan, 1.0, -1.0, 7.0, -200.0, 200.0], dtype)
    y, dx = ours_grad(spec, params, x, COMPILED)
    for name, value in (("forward", to_numpy(y)), ("gradient", to_numpy(dx))):
        assert np.isnan(value[0]), f"{name} of NaN: {value[0]}"
        assert not np.isnan(value[1:]).any(), f"{name}: {value}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_training_gradient_is_the_forward_slope(dtype, mode):
    """While training, d/dx on the negative side is the very slope the forward pass drew."""
    x = tensor(np.concatenate([-np.linspace(0.5, 4.0, 64), [0.0, 2.0, np.nan]]), dtype)

    def run(v):
        return krf.rrelu(v, 0.1, 0.5, training=True, seed=11)

    if mode == "vmap":  # one draw per element: the seed would give every element the same slope
        mode = "jit"
    y, dx = value_and_grad_in(mode, run, x)
    y64, x64, dx64 = to_numpy(y), to_numpy(x), to_numpy(dx)
    slopes = y64[:64] / x64[:64]
    eps = float(finfo(dtype).eps)
    np.testing.assert_allclose(dx64[:64], slopes, rtol=4 * eps)
    assert (slopes >= 0.1 - 4 * eps).all() and (slopes <= 0.5 + 4 * eps).all()
    assert np.unique(slopes).size > 32  # one slope per element
    np.testing.assert_array_equal(dx64[64:66], [1.0, 1.0])
    assert np.isnan(dx64[66]) and np.isnan(y64[66])
