"""Piecewise-linear rectifiers: relu, relu6, leaky_relu, prelu, rrelu.

Convention at a kink: the derivative is the one of the branch to the right
(``x >= 0`` takes the positive branch, so ``relu'(0) = 1``). A NaN input
gives a NaN gradient: the select that picks the zero branch takes its zeros
from the forward output, which is NaN exactly where the input is.
"""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family._kernels._wrap import Kernel


def nan_where_nan(x: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """``grad`` with NaN wherever ``x`` is NaN."""
    return tf.where(tf.math.is_nan(x), x, grad)


def _relu_fwd(x):
    y = tf.nn.relu(x)
    return y, (x, y)


def _relu_bwd(dy, x, y):
    # y is +0 where x < 0 and NaN where x is NaN: both are the gradient there.
    return (tf.where(x >= 0, dy, y),)


def _relu6_fwd(x):
    y = tf.nn.relu6(x)
    return y, (x, y)


def _relu6_bwd(dy, x, y):
    inside = tf.where(x < 6, dy, tf.zeros_like(dy))
    return (tf.where(x >= 0, inside, y),)


def _slope_fwd(x, slope):
    """``x`` where ``x >= 0``, else ``slope * x``; ``slope`` a tensor or a float."""
    return tf.where(x >= 0, x, slope * x)


def _slope_bwd(dy, x, slope):
    return nan_where_nan(x, tf.where(x >= 0, dy, slope * dy))


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
    dx = _slope_bwd(dy, x, alpha)
    dalpha = tf.where(x >= 0, tf.zeros_like(dy), x * dy)
    return dx, dalpha


def _rrelu_fwd(x, *, slopes):
    # The slopes are noise drawn by the caller, not parameters: no gradient.
    slopes = tf.cast(slopes, x.dtype)
    return _slope_fwd(x, slopes), (x, slopes)


def _rrelu_bwd(dy, x, saved_slopes, **_static):
    # `slopes` also arrives in `_static` (it is the forward's keyword argument),
    # so the saved copy must not share its name.
    return (_slope_bwd(dy, x, saved_slopes),)


RELU = Kernel(_relu_fwd, _relu_bwd, exact_in_half=True)
RELU6 = Kernel(_relu6_fwd, _relu6_bwd, exact_in_half=True)
LEAKY_RELU = Kernel(_leaky_relu_fwd, _leaky_relu_bwd)
PRELU = Kernel(_prelu_fwd, _prelu_bwd)
RRELU = Kernel(_rrelu_fwd, _rrelu_bwd)
