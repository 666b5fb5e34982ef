"""Inputs, tolerances, cases and the backend's tensors and gradients for the family tests.

Everything is generated from the registry, and written once for every Keras
backend: the tests call ``tensor``, ``to_numpy``, ``value_and_grad`` and the
``MODES`` here, never a framework directly. The modes are the ways the
backend runs a function: eagerly, ``tf.function`` and ``jit_compile=True`` on
TensorFlow; eagerly, ``jax.jit`` and ``jax.vmap`` on JAX; eagerly and
``torch.compile`` on PyTorch.
"""

from __future__ import annotations

import keras
import ml_dtypes
import numpy as np

import keras_relu_family as krf

BACKEND = keras.config.backend()
DTYPES = ("float16", "bfloat16", "float32", "float64")

# The points the issue names, their negatives, and the magnitudes where
# exp() overflows (88.7 in float32, 11.1 in float16).
EXTREMES = (1e4, 1e2, 88.7, 11.1, 1e-3)


def numpy_dtype(dtype: str):
    return np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)


def finfo(dtype: str):
    return ml_dtypes.finfo(numpy_dtype(dtype))


# -- the backend ---------------------------------------------------------------------------

if BACKEND == "tensorflow":
    import tensorflow as tf

    def tensor(values, dtype: str = "float32"):
        return tf.constant(np.asarray(values, numpy_dtype(dtype)))

    def value_and_grads(fn, args: list, upstream=None):
        """``fn(*args)`` and the gradients of ``sum(upstream * fn(*args))`` for every arg."""
        args = list(args)
        with tf.GradientTape() as tape:
            tape.watch(args)
            y = fn(*args)
        return y, tape.gradient(y, args, output_gradients=upstream)

    MODES = {
        "eager": lambda f: f,
        "function": lambda f: tf.function(f),
        "xla": lambda f: tf.function(f, jit_compile=True),
    }

elif BACKEND == "jax":
    import jax
    import jax.numpy as jnp

    def tensor(values, dtype: str = "float32"):
        return jnp.asarray(np.asarray(values, numpy_dtype(dtype)))

    def value_and_grads(fn, args: list, upstream=None):
        y, vjp = jax.vjp(fn, *args)
        return y, list(vjp(jnp.ones_like(y) if upstream is None else upstream.astype(y.dtype)))

    def _vmapped(f):
        """``f`` mapped over the first axis, one element (a scalar) at a time."""
        return lambda x: jax.vmap(f)(x)

    MODES = {"eager": lambda f: f, "jit": jax.jit, "vmap": _vmapped}

elif BACKEND == "torch":
    import torch

    def tensor(values, dtype: str = "float32"):
        array = np.asarray(values, np.float64)
        return torch.tensor(array, dtype=getattr(torch, dtype))

    def value_and_grads(fn, args: list, upstream=None):
        args = [a.detach().clone().requires_grad_(True) for a in args]
        y = fn(*args)
        dy = torch.ones_like(y) if upstream is None else upstream.to(y.dtype)
        grads = torch.autograd.grad(y, args, grad_outputs=dy, allow_unused=True)
        grads = [torch.zeros_like(a) if g is None else g for g, a in zip(grads, args, strict=True)]
        return y.detach(), grads

    def _compiled(f):
        return torch.compile(f, dynamic=False, fullgraph=False)

    MODES = {"eager": lambda f: f, "compile": _compiled}


def to_numpy(value) -> np.ndarray:
    """A backend tensor (or variable) as a float64 numpy array (NaN kept)."""
    array = np.asarray(keras.ops.convert_to_numpy(value))
    return array.astype(np.float64) if array.dtype.kind == "f" or array.dtype.kind == "V" else array


def dtype_of(value) -> str:
    return keras.backend.standardize_dtype(value.dtype)


def value_and_grad(fn, x, upstream=None):
    """``fn(x)`` and ``d sum(upstream * fn(x)) / dx`` (upstream gradient 1 by default)."""
    y, (dx,) = value_and_grads(fn, [x], upstream)
    return y, dx


def value_and_grad_in(mode: str, fn, x):
    """``value_and_grad(fn, x)`` run the backend's way ``mode``.

    TensorFlow and JAX compile the forward and backward passes together (as
    their train steps do); PyTorch compiles ``fn`` and differentiates the
    compiled function (``torch.compile`` traces the backward pass from it).
    """
    if BACKEND == "torch":
        return value_and_grad(MODES[mode](fn), x)
    return MODES[mode](lambda t: value_and_grad(fn, t))(x)


# -- inputs and tolerances ---------------------------------------------------------------


def rel_tol(dtype: str) -> float:
    """Relative tolerance of a forward value: 1e-12 (float64), 1e-6 (float32), a few ulps (half)."""
    return {"float64": 1e-12, "float32": 1e-6}.get(dtype, 2.0 * float(finfo(dtype).eps))


def abs_tol(dtype: str) -> float:
    """Below the smallest normal number: subnormals are flushed or coarse."""
    return float(finfo(dtype).smallest_normal)


def ordinary(n=201):
    """Ordinary values: a symmetric grid plus a few random points, float64."""
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-8.0, 8.0, n), rng.normal(0.0, 3.0, 64)])


def tails(dtype: str):
    """The tails and exact zeros, representable in ``dtype``, up to its largest finite value."""
    big = float(finfo(dtype).max)
    points = [p for p in EXTREMES + (30.0, 50.0, 700.0, 1e-7) if p < big]
    values = points + [-p for p in points] + [big, -big, big / 7.0, -big / 7.0, 0.0, -0.0]
    return np.array(values, dtype=np.float64)


def representable(x, dtype: str) -> np.ndarray:
    """``x`` rounded to ``dtype`` (round to nearest even), back in float64."""
    with np.errstate(over="ignore"):
        return np.asarray(x, np.float64).astype(numpy_dtype(dtype)).astype(np.float64)


def inputs(dtype: str):
    """All test inputs as float64 values exactly representable in ``dtype``."""
    return representable(np.concatenate([ordinary(), tails(dtype)]), dtype)


def param_cases():
    """(spec, params) for every registry entry and every parameter set, with readable ids."""
    cases, ids = [], []
    for name in krf.available():
        spec = krf.REGISTRY[name]
        for params in spec.param_sets:
            cases.append((spec, params))
            suffix = ",".join(f"{k}={v}" for k, v in params.items())
            ids.append(f"{name}[{suffix}]" if suffix else name)
    return cases, ids


CASES, CASE_IDS = param_cases()


def call(spec, x, params):
    """Calls the package function; trainable parameters go in as tensors."""
    return spec.function(x, **params)


def numpy_derivative(spec, x, params):
    """d/dx from the numpy reference (the first of a pair for trainable activations)."""
    grad = spec.numpy_derivative(x, **params)
    return grad[0] if isinstance(grad, tuple) else grad


def away_from_kinks(x, kinks, margin=1e-3):
    keep = np.isfinite(x)
    for k in kinks:
        keep &= np.abs(x - k) > margin * max(1.0, abs(k))
    return keep


def assert_close(actual, expected, rtol, atol, what=""):
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"NaN mask {what}")
    ok = ~np.isnan(expected)
    rtol = np.broadcast_to(rtol, expected.shape)[ok]
    atol = np.broadcast_to(atol, expected.shape)[ok]
    with np.errstate(invalid="ignore"):
        err = np.abs(actual[ok] - expected[ok])
        bound = atol + rtol * np.abs(expected[ok])
    bad = ~((err <= bound) | (actual[ok] == expected[ok]))  # equal infinities are fine
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} values off; first at expected="
            f"{expected[ok][i]}, actual={actual[ok][i]}, err={err[i]}, bound={bound[i]}"
        )
