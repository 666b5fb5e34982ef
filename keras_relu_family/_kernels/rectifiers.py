"""Piecewise-linear rectifiers: relu, relu6, leaky_relu, prelu, rrelu.

Convention at a kink: the derivative is the one of the branch to the right
(``x >= 0`` takes the positive branch, so ``relu'(0) = 1``). A NaN input
gives a NaN gradient.
"""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family._kernels._wrap import Kernel, clip_keeping_nan


def nan_where_nan(x: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """``grad`` with NaN wherever ``x`` is NaN."""
    return tf.where(tf.math.is_nan(x), x, grad)


# ReLU and ReLU6 keep one byte per element for the backward pass, the branch
# each input took, rather than their input: TensorFlow's ReluGrad works from
# y, which the next layer keeps anyway, but y = 0 cannot tell x = 0
# (derivative 1) from x < 0 (derivative 0). Writing the byte costs the
# forward pass a second loop over x (XLA on the CPU writes a second output in
# a loop of its own): 1.2x the built-in's time, against 1.84x its memory for
# keeping x. See docs/performance.md.
_NEGATIVE, _POSITIVE, _NAN = 0, 1, 2


def _branch(x: tf.Tensor, positive: tf.Tensor) -> tf.Tensor:
    """int8: 1 where ``positive`` (never where ``x`` is NaN), 2 where ``x`` is NaN, 0 elsewhere."""
    # Arithmetic rather than nested selects: a tenth faster under XLA.
    return tf.cast(positive, tf.int8) + _NAN * tf.cast(tf.math.is_nan(x), tf.int8)


def _from_branch(branch: tf.Tensor, dy: tf.Tensor, negative) -> tf.Tensor:
    """``dy`` on the positive branch, ``negative`` on the other, NaN where x was NaN."""
    nan = tf.constant(float("nan"), dy.dtype)
    return tf.where(branch == _POSITIVE, dy, tf.where(branch == _NEGATIVE, negative, nan))


def _relu_branch(x):
    return (_branch(x, x >= 0),)


def _relu6_fwd(x):
    # Not tf.nn.relu6: XLA before TensorFlow 2.21 lowers it to a clamp that
    # turns NaN into 6 on the CPU (see clip_keeping_nan).
    return clip_keeping_nan(x, 0.0, 6.0)


def _relu6_branch(x):
    # The positive branch is [0, 6): relu6'(0) = 1, relu6'(6) = 0.
    return (_branch(x, (x >= 0) & (x < 6.0)),)


def _relu_bwd(dy, branch):
    return (_from_branch(branch, dy, tf.zeros((), dy.dtype)),)


def _slope_fwd(x, slope):
    """``x`` where ``x >= 0``, else ``slope * x``; ``slope`` a tensor or a float."""
    return tf.where(x >= 0, x, slope * x)


def _slope_bwd(dy, x, slope):
    return tf.where(x >= 0, dy, nan_where_nan(x, slope * dy))


def _leaky_relu_fwd(x, *, negative_slope):
    if x.dtype == tf.float32 and 0.0 <= negative_slope <= 1.0:
        # TF's kernel stores alpha as float32: exact here, not in float64.
        return tf.nn.leaky_relu(x, alpha=negative_slope)
    return _slope_fwd(x, negative_slope)


def _leaky_relu_bwd(dy, x, *, negative_slope):
    return (_slope_bwd(dy, x, negative_slope),)


def _prelu_bwd(dy, x, alpha):
    positive = x >= 0
    dx = tf.where(positive, dy, nan_where_nan(x, alpha * dy))
    dalpha = tf.where(positive, tf.zeros((), dy.dtype), x * dy)
    return dx, dalpha


def _rrelu_fwd(x, *, slopes):
    # The slopes are noise drawn by the caller, not parameters: no gradient.
    return _slope_fwd(x, tf.cast(slopes, x.dtype))


def _rrelu_branch(x, *, slopes):
    # The backward pass needs the slopes anyway, and the branch (one byte)
    # rather than x (autodiff of the same formula keeps the slopes and a bool).
    del slopes
    return (_branch(x, x >= 0),)


def _rrelu_bwd(dy, branch, *, slopes):
    return (_from_branch(branch, dy, tf.cast(slopes, dy.dtype) * dy),)


RELU = Kernel(tf.nn.relu, _relu_bwd, exact_in_half=True, residuals=_relu_branch)
RELU6 = Kernel(_relu6_fwd, _relu_bwd, exact_in_half=True, residuals=_relu6_branch)
LEAKY_RELU = Kernel(_leaky_relu_fwd, _leaky_relu_bwd, saves_input=True)
PRELU = Kernel(_slope_fwd, _prelu_bwd, saves_input=True)
RRELU = Kernel(_rrelu_fwd, _rrelu_bwd, residuals=_rrelu_branch)
