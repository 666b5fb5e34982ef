"""The exponential family: elu, selu, celu.

Their backward passes are built from the saved output ``y`` rather than the
input, so that the input can be freed after the forward pass (what
``tf.nn.elu``'s own gradient does). For ``alpha > 0`` the sign of ``y``
is the sign of ``x``, and on the negative side the derivative is a function
of ``y``: ``elu'(x) = y + alpha`` and ``celu'(x) = y / alpha + 1``.
"""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family._kernels._wrap import Kernel
from keras_relu_family._kernels.rectifiers import RELU, nan_where_nan

# Klambauer et al. 2017, eq. (14): the fixed point (mean 0, variance 1).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _exp_branch(x, alpha, width):
    """``x`` where ``x >= 0``, else ``alpha * (exp(x / width) - 1)``.

    ``expm1``, not ``exp(x) - 1``: TensorFlow's own ``Elu`` and ``Selu``
    kernels subtract, which costs 1e-5 relative error at x = -1e-3 and 19%
    at x = -1e-7 in float32.
    """
    # min(x, 0) keeps expm1 from overflowing on the branch the select drops.
    negative = tf.minimum(x, 0.0)
    if width != 1.0:
        negative = negative / width
    negative = tf.math.expm1(negative)
    if alpha != 1.0:
        negative = alpha * negative
    if width == 1.0 and alpha <= 1.0:
        # alpha * (e^x - 1) > x for x < 0 and alpha <= 1, and it is 0 (or -0)
        # for x >= 0, so a max picks the right branch, and propagates NaN.
        return tf.maximum(x, negative)
    return tf.where(x >= 0, x, negative)


def _elu_fwd(x, *, alpha):
    y = _exp_branch(x, alpha, 1.0)
    return y, (y,)


def _elu_bwd(dy, y, *, alpha):
    if alpha == 1.0:
        dx = tf.raw_ops.EluGrad(gradients=dy, outputs=y)
    else:
        dx = tf.where(y < 0, dy * (y + alpha), dy)
    return (nan_where_nan(y, dx),)


def _selu_fwd(x):
    y = SELU_SCALE * _exp_branch(x, SELU_ALPHA, 1.0)
    return y, (y,)


def _selu_bwd(dy, y):
    # Not tf.raw_ops.SeluGrad: XLA lowers it with `y > 0`, which gives
    # scale * alpha instead of scale at y == 0.
    dx = tf.where(y < 0, dy * (y + SELU_SCALE * SELU_ALPHA), SELU_SCALE * dy)
    return (nan_where_nan(y, dx),)


def _celu_fwd(x, *, alpha):
    # celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
    y = _exp_branch(x, alpha, alpha)
    return y, (y,)


def _celu_bwd(dy, y, *, alpha):
    return (nan_where_nan(y, tf.where(y < 0, dy * (y / alpha + 1.0), dy)),)


_ELU = Kernel(_elu_fwd, _elu_bwd)
_CELU = Kernel(_celu_fwd, _celu_bwd)
SELU = Kernel(_selu_fwd, _selu_bwd)


def elu_kernel(alpha: float) -> tuple[Kernel, dict]:
    """The kernel and static arguments for ``elu(x, alpha)``.

    ``alpha == 0`` is a plain ReLU, and its output no longer tells a negative
    input from zero, so it uses the ReLU kernel (which keeps the input).
    """
    if alpha == 0.0:
        return RELU, {}
    return _ELU, {"alpha": alpha}


def celu_kernel(alpha: float) -> tuple[Kernel, dict]:
    """``celu`` with ``alpha == 1`` is ``elu``; otherwise its own kernel."""
    if alpha == 1.0:
        return _ELU, {"alpha": 1.0}
    return _CELU, {"alpha": alpha}
