"""Gradients with respect to trainable parameters: values, shapes, dtypes, reductions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from _family_helpers import DTYPES, finfo, tensor, to_numpy, value_and_grads

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
WEIGHTS = rng.uniform(0.5, 1.5, X.shape)  # an upstream gradient that is not all ones


def grads(fn, x, param):
    """``fn(x, param)`` and the gradients of ``sum(WEIGHTS * fn(x, param))``."""
    upstream = keras.ops.cast(WEIGHTS, keras.backend.standardize_dtype(x.dtype))
    y, (dx, dp) = value_and_grads(fn, [x, param], upstream)
    return y, dx, dp


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
    _, dx, dp = grads(TRAINABLE[name][0], tensor(X, "float64"), tensor(p, "float64"))
    dx_ref, dp_ref = expected(name, X, p)
    assert tuple(dp.shape) == shape and keras.backend.standardize_dtype(dp.dtype) == "float64"
    np.testing.assert_allclose(to_numpy(dx), dx_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_numpy(dp), dp_ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_parameter_gradient_comes_back_in_parameter_dtype(name, x_dtype):
    """A float32 variable with half input (mixed precision): a float32 gradient."""
    p = rng.uniform(0.1, 1.2, (6,))
    x = tensor(X, x_dtype)
    y, dx, dp = grads(TRAINABLE[name][0], x, tensor(p, "float32"))
    dtypes = [keras.backend.standardize_dtype(t.dtype) for t in (y, dx, dp)]
    assert dtypes == [x_dtype, x_dtype, "float32"]
    x64 = to_numpy(x)
    dx_ref, dp_ref = expected(name, x64, p.astype(np.float32).astype(np.float64))
    eps = float(finfo(x_dtype).eps) if x_dtype != "float64" else 1e-7
    # The parameter gradient is a sum of 360 products: float32 accumulation at worst.
    np.testing.assert_allclose(to_numpy(dp), dp_ref, rtol=max(4 * eps, 1e-5), atol=1e-4)
    np.testing.assert_allclose(
        to_numpy(dx), dx_ref, rtol=4 * eps, atol=4 * eps * np.abs(dx_ref).max()
    )


@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_parameter_gradient_matches_the_backends_autodiff(name):
    spec = krf.REGISTRY[name]
    p = tensor(rng.uniform(0.1, 1.2, (1, 1, 6)), "float64")
    x = tensor(X, "float64")
    _, _, dp = grads(TRAINABLE[name][0], x, p)
    (key,) = spec.trainable
    _, _, dp_auto = grads(lambda u, q: spec.autodiff(u, **{key: q}), x, p)
    np.testing.assert_allclose(to_numpy(dp), to_numpy(dp_auto), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_swish_beta_gradient_finite_at_extremes(dtype):
    big = float(finfo(dtype).max)
    values = np.array([-big, -1e4, -88.7, -11.1, 0.0, 11.1, 88.7, 1e4, big])
    x = tensor(values[np.abs(values) <= big], dtype)
    beta = tensor(np.ones(x.shape), "float32")  # per element: no sum to overflow
    _, (dx, db) = value_and_grads(lambda u, b: krf.swish(u, b), [x, beta])
    assert np.isfinite(to_numpy(dx)).all()
    assert np.isfinite(to_numpy(db)).all(), db


def test_prelu_alpha_as_python_number_has_no_gradient_path_but_works():
    y = krf.prelu(tensor([-2.0, 2.0], "float64"), -0.3)
    np.testing.assert_allclose(to_numpy(y), [0.6, 2.0], rtol=1e-15)


@pytest.mark.parametrize(
    "bad",
    [keras.ops.convert_to_tensor([1, 2], "int32"), np.array([True, False]), True],
    ids=["int32 tensor", "numpy bool", "True"],
)
def test_integer_and_bool_parameters_are_refused(bad):
    with pytest.raises(TypeError, match=r"`alpha` must be floating-point. Received: alpha"):
        krf.prelu(tensor([1.0, 2.0]), bad)
    if not isinstance(bad, (list, bool)):  # a Python value for beta is a fixed number
        with pytest.raises(TypeError, match=r"`beta` must be floating-point. Received: beta"):
            krf.swish(tensor([1.0, 2.0]), bad)
