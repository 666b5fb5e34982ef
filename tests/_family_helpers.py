"""Inputs, tolerances and cases shared by the family tests, all generated from the registry."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import keras_relu_family as krf

DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)

# The points the issue names, their negatives, and the magnitudes where
# exp() overflows (88.7 in float32, 11.1 in float16).
EXTREMES = (1e4, 1e2, 88.7, 11.1, 1e-3)


def finfo(dtype):
    import ml_dtypes

    return ml_dtypes.finfo(dtype.as_numpy_dtype)


def rel_tol(dtype) -> float:
    """Relative tolerance of a forward value: 1e-12 (float64), 1e-6 (float32), a few ulps (half)."""
    return {tf.float64: 1e-12, tf.float32: 1e-6}.get(dtype, 2.0 * float(finfo(dtype).eps))


def abs_tol(dtype) -> float:
    """Below the smallest normal number: subnormals are flushed or coarse."""
    return float(finfo(dtype).smallest_normal)


def ordinary(n=201):
    """Ordinary values: a symmetric grid plus a few random points, float64."""
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-8.0, 8.0, n), rng.normal(0.0, 3.0, 64)])


def tails(dtype):
    """The tails and exact zeros, representable in ``dtype``, up to its largest finite value."""
    big = float(finfo(dtype).max)
    points = [p for p in EXTREMES + (30.0, 50.0, 700.0, 1e-7) if p < big]
    values = points + [-p for p in points] + [big, -big, big / 7.0, -big / 7.0, 0.0, -0.0]
    return np.array(values, dtype=np.float64)


def inputs(dtype):
    """All test inputs as float64 values exactly representable in ``dtype``."""
    x = np.concatenate([ordinary(), tails(dtype)])
    return tf.cast(tf.constant(x, tf.float64), dtype).numpy().astype(np.float64)


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


def value_and_grad(fn, x):
    """``fn(x)`` and ``d sum(fn(x)) / dx`` (upstream gradient 1)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)


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
