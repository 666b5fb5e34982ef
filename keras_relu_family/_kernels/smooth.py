"""Smooth (or nearly smooth) gates: gelu, swish, mish, hard_swish, softplus.

Each keeps only its input and recomputes the derivative in the backward
pass, where autodiff would keep every intermediate. The
formulas are arranged so that no branch overflows into ``inf * 0 = NaN``
for any finite input.
"""

from __future__ import annotations

import math

import tensorflow as tf

from keras_relu_family._kernels._wrap import Kernel, clip_keeping_nan

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# Past |x| = 100 the tanh-gelu gate is exactly 0 or 1 in every float dtype;
# clipping there keeps x**3 finite without changing any derivative.
_GELU_CLIP = 100.0


def _gelu_fwd(x, *, approximate):
    if approximate:
        # 0.5 * (1 + tanh(u)) == sigmoid(2u), without the cancellation for x << 0.
        xc = clip_keeping_nan(x, -_GELU_CLIP, _GELU_CLIP)
        gate = tf.sigmoid(2.0 * _SQRT_2_OVER_PI * (xc + _GELU_CUBIC * xc * xc * xc))
        return x * gate
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt(2)) / 2, accurate in the lower tail too.
    # Written in exactly tf.nn.gelu's order, 0.5 * x * erfc(-x * sqrt(1/2)): the TFLite
    # converter fuses that pattern into its GELU op and has no Erfc op otherwise (not
    # even with SELECT_TF_OPS). Scaling by 0.5 is exact, so the values are unchanged.
    return 0.5 * x * tf.math.erfc(-x * _SQRT_HALF)


def _gelu_bwd(dy, x, *, approximate):
    if approximate:
        xc = clip_keeping_nan(x, -_GELU_CLIP, _GELU_CLIP)
        x2 = xc * xc
        two_u = 2.0 * _SQRT_2_OVER_PI * (xc + _GELU_CUBIC * x2 * xc)
        gate = tf.sigmoid(two_u)
        slope = 2.0 * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x2)
        derivative = gate + xc * slope * gate * tf.sigmoid(-two_u)
    else:
        # Phi(x) + x * phi(x); exp(-x*x/2) underflows to 0 before x*x overflows matters.
        derivative = 0.5 * tf.math.erfc(-_SQRT_HALF * x) + x * (
            _INV_SQRT_2PI * tf.exp(-0.5 * x * x)
        )
    return (dy * derivative,)


def _swish_fwd(x, beta=None, *, fixed_beta=None):
    b = fixed_beta if beta is None else beta
    return x * tf.sigmoid(b * x)


def _swish_bwd(dy, x, beta=None, *, fixed_beta=None):
    # With z = beta * x, e = exp(-|z|) and s = sigmoid(z) = w / (1 + e)
    # (w = 1 for z >= 0, e below), s (1 - s) = e / (1 + e)^2: one exponential,
    # no cancellation on either side. The two gradients share only e, so
    # that XLA fuses each into its own loop and writes out nothing else.
    b = fixed_beta if beta is None else beta
    z = b * x
    e = tf.exp(-tf.abs(z))
    one_e = 1.0 + e
    w = tf.where(z >= 0, tf.ones((), e.dtype), e)
    # z * e -> 0 where e underflows, also for z = inf (beta * x overflowing);
    # a NaN z gives a NaN e and goes through.
    ze = tf.where(e == 0, tf.zeros((), e.dtype), z * e)
    # d/dx = s + z s (1 - s)
    dx = dy * ((w * one_e + ze) / (one_e * one_e))
    if beta is None:
        return (dx,)
    # d/dbeta = x^2 s (1 - s), grouped so that x * x cannot overflow where e = 0.
    dbeta = dy * (x * ((x * e) / (one_e * one_e)))
    return dx, dbeta


# Past x = 40, mish(x) = x and mish'(x) = 1 in every float dtype, and below
# it e^(2x) = 5.5e34 still fits in float32.
_MISH_CLIP = 40.0


def _mish_parts(x):
    """``(u, u + 2)`` with ``u = e^(2 softplus(x')) - 1``, ``x' = min(x, 40)``.

    ``tanh(softplus(x)) = u / (u + 2)``, and ``u = e (e + 2)`` with
    ``e = exp(x')`` has no cancellation for x << 0, where ``(1 + e)^2 - 1``
    would.
    """
    e = tf.exp(tf.minimum(x, _MISH_CLIP))
    u = e * (e + 2.0)
    return u, u + 2.0


def _mish_fwd(x):
    u, d = _mish_parts(x)
    return x * (u / d)


def _mish_bwd(dy, x):
    # mish'(x) = tanh(sp) + x * sigmoid(x) * sech(sp)^2 with sp = softplus(x).
    # With r = exp(-|x|) (never overflows) and, for x >= 0, everything
    # multiplied through by r^2: mish'(x) = a / d + n / d^2, where
    #   x >= 0: a = 1 + 2r,     d = a + 2r^2, n = 4 x r^2 (1 + r)
    #   x <  0: a = r (r + 2),  d = a + 2,    n = 4 x r (1 + r)
    # d is in [1, 5], so nothing overflows, and x * r comes first so that 4x
    # cannot overflow where r = 0. The forward pass uses exp(min(x, 40)): a
    # different exponential, so that XLA does not share one tensor between
    # the passes and keep it alive in between (as autodiff would).
    r = tf.exp(-tf.abs(x))
    r2 = r * r
    positive = x >= 0
    a = tf.where(positive, 1.0 + 2.0 * r, r2 + 2.0 * r)
    d = a + tf.where(positive, 2.0 * r2, tf.constant(2.0, x.dtype))
    n = 4.0 * (x * tf.where(positive, r2, r)) * (1.0 + r)
    return (dy * (a / d + n / (d * d)),)


def _hard_swish_fwd(x):
    # x * relu6(x + 3) / 6, dividing first so that x * 6 cannot overflow.
    return x * (tf.nn.relu6(x + 3.0) / 6.0)


def _hard_swish_bwd(dy, x):
    # 0 below -3, (2x + 3) / 6 on [-3, 3), 1 from 3 on; NaN stays NaN in the middle branch.
    middle = tf.where(x < -3.0, tf.zeros_like(x), (2.0 * x + 3.0) / 6.0)
    return (dy * tf.where(x >= 3.0, tf.ones_like(x), middle),)


# The largest x at which softplus(x) and sigmoid(x) still differ from x and 1
# in each compute dtype; above it a PyTorch threshold changes nothing.
_SOFTPLUS_SATURATION = {tf.float32: 18.0, tf.float64: 38.0}


def _softplus_is_plain(dtype, beta, threshold):
    return beta == 1.0 and threshold >= _SOFTPLUS_SATURATION[dtype]


def _softplus_fwd(x, *, beta, threshold):
    if _softplus_is_plain(x.dtype, beta, threshold):
        return tf.nn.softplus(x)
    z = x * beta if beta != 1.0 else x
    soft = tf.nn.softplus(z)
    if beta != 1.0:
        soft = soft / beta
    return tf.where(z > threshold, x, soft)


def _softplus_bwd(dy, x, *, beta, threshold):
    if _softplus_is_plain(x.dtype, beta, threshold):
        return (tf.raw_ops.SoftplusGrad(gradients=dy, features=x),)
    z = x * beta if beta != 1.0 else x
    return (tf.where(z > threshold, dy, tf.raw_ops.SoftplusGrad(gradients=dy, features=z)),)


GELU = Kernel(_gelu_fwd, _gelu_bwd, saves_input=True)
SWISH = Kernel(_swish_fwd, _swish_bwd, saves_input=True)
MISH = Kernel(_mish_fwd, _mish_bwd, saves_input=True)
HARD_SWISH = Kernel(_hard_swish_fwd, _hard_swish_bwd, saves_input=True)
SOFTPLUS = Kernel(_softplus_fwd, _softplus_bwd, saves_input=True)
