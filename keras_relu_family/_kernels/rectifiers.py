"""Piecewise-linear rectifiers: relu, relu6, leaky_relu, prelu, rrelu.

Convention at a kink: the derivative is the one of the branch to the right
(``x >= 0`` takes the positive branch, so ``relu'(0) = 1``). A NaN input
gives a NaN gradient.
"""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family._kernels._wrap import Kernel


def nan_where_nan(x: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """``grad`` with NaN wherever ``x`` is NaN."""
    return tf.where(tf.math.is_nan(x), x, grad)


# Every rectifier keeps its input for the backward pass: at x = 0 the
# derivative is 1, and the output (0 for every x <= 0) cannot tell x = 0
# from x < 0. A one-byte mask x >= 0 could, but writing it out costs the
# forward pass a second loop over x (XLA does not fuse a second output into
# the first on the CPU), and under an outer jit_compile XLA recomputes the
# mask from x anyway. See docs/performance.md.


def _zero_or_nan(x: tf.Tensor) -> tf.Tensor:
    """0 where ``x`` is a number (the derivative off the positive branch), NaN where it is NaN."""
    return tf.where(tf.math.is_nan(x), x, tf.zeros((), x.dtype))


def _relu_fwd(x):
    return tf.nn.relu(x), (x,)


def _relu_bwd(dy, x):
    return (tf.where(x >= 0, dy, _zero_or_nan(x)),)


def _relu6_fwd(x):
    return tf.nn.relu6(x), (x,)


def _relu6_bwd(dy, x):
    # The positive branch is [0, 6): relu6'(0) = 1, relu6'(6) = 0.
    return (tf.where((x >= 0) & (x < 6.0), dy, _zero_or_nan(x)),)


def _slope_fwd(x, slope):
    """``x`` where ``x >= 0``, else ``slope * x``; ``slope`` a tensor or a float."""
    return tf.where(x >= 0, x, slope * x)


def _slope_bwd(dy, x, slope):
    return tf.where(x >= 0, dy, nan_where_nan(x, slope * dy))


def _leaky_relu_fwd(x, *, negative_slope):
    if x.dtype == tf.float32 and 0.0 <= negative_slope <= 1.0:
        # TF's kernel stores alpha as float32: exact here, not in float64.
        y = tf.nn.leaky_relu(x, alpha=negative_slope)
    else:
        y = _slope_fwd(x, negative_slope)
    return y, (x,)


def _leaky_relu_bwd(dy, x, *, negative_slope):
    return (_slope_bwd(dy, x, negative_slope),)


def _prelu_fwd(x, alpha):
    return _slope_fwd(x, alpha), (x,)


def _prelu_bwd(dy, x, alpha):
    positive = x >= 0
    dx = tf.where(positive, dy, nan_where_nan(x, alpha * dy))
    dalpha = tf.where(positive, tf.zeros((), dy.dtype), x * dy)
    return dx, dalpha


# RReLU's backward pass needs the slopes anyway (a tensor the size of x): it
# keeps them and one byte per element, the branch each input took, rather
# than x (what autodiff of the same formula keeps: the slopes and a bool).
_NEGATIVE, _POSITIVE, _NAN = 0, 1, 2


def _rrelu_fwd(x, *, slopes):
    # The slopes are noise drawn by the caller, not parameters: no gradient.
    branch = tf.where(
        tf.math.is_nan(x), tf.constant(_NAN, tf.int8), tf.constant(_NEGATIVE, tf.int8)
    )
    branch = tf.where(x >= 0, tf.constant(_POSITIVE, tf.int8), branch)
    return _slope_fwd(x, tf.cast(slopes, x.dtype)), (branch,)


def _rrelu_bwd(dy, branch, *, slopes):
    negative = tf.where(
        branch == _NEGATIVE, tf.cast(slopes, dy.dtype) * dy, tf.constant(float("nan"), dy.dtype)
    )
    return (tf.where(branch == _POSITIVE, dy, negative),)


RELU = Kernel(_relu_fwd, _relu_bwd, exact_in_half=True, saves_input=True)
RELU6 = Kernel(_relu6_fwd, _relu6_bwd, exact_in_half=True, saves_input=True)
LEAKY_RELU = Kernel(_leaky_relu_fwd, _leaky_relu_bwd, saves_input=True)
PRELU = Kernel(_prelu_fwd, _prelu_bwd, saves_input=True)
RRELU = Kernel(_rrelu_fwd, _rrelu_bwd)
