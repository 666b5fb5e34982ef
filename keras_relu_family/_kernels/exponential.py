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
from keras_relu_family._kernels.rectifiers import RELU

# Klambauer et al. 2017, eq. (14): the fixed point (mean 0, variance 1).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _expm1_nonpositive(z):
    """``exp(z) - 1`` for ``z <= 0``, as ``2t / (1 - t)`` with ``t = tanh(z / 2)``.

    Not ``exp(z) - 1``: TensorFlow's own ``Elu`` and ``Selu`` kernels subtract,
    which costs 1e-5 relative error at z = -1e-3 and 19% at z = -1e-7 in
    float32. ``tf.math.expm1`` is accurate but takes an exponential and a
    logarithm under XLA (twice the time of ``exp``) and runs one element at
    a time in TensorFlow's own kernel; ``tanh`` is one vectorised rational
    function in both, and the identity has no cancellation for z <= 0
    (within 3.1e-7 relative in float32, 7e-16 in float64).
    """
    t = tf.tanh(0.5 * z)
    return (2.0 * t) / (1.0 - t)


def _exp_branch(x, alpha, width, scale=1.0):
    """``scale * x`` where ``x >= 0``, else ``scale * alpha * (exp(x / width) - 1)``.

    The select (or max) comes last, so that XLA fuses all of it into the one
    loop that writes ``y`` (a multiply after it would make XLA copy the
    multiply and the select into the backward pass and write the
    exponential out to memory between them).
    """
    # min(x, 0) keeps the branch the select drops finite.
    negative = tf.minimum(x, 0.0)
    if width != 1.0:
        negative = negative / width
    negative = _expm1_nonpositive(negative)
    if scale * alpha != 1.0:
        negative = (scale * alpha) * negative
    if width == 1.0 and scale == 1.0 and alpha <= 1.0:
        # alpha * (e^x - 1) > x for x < 0 and alpha <= 1, and it is 0 (or -0)
        # for x >= 0, so a max picks the right branch, and propagates NaN.
        return tf.maximum(x, negative)
    return tf.where(x >= 0, x if scale == 1.0 else scale * x, negative)


def _elu_fwd(x, *, alpha):
    return _exp_branch(x, alpha, 1.0)


def _elu_bwd(dy, y, *, alpha):
    # For alpha >= 1, y >= 0 exactly where x >= 0, and a NaN y takes the
    # second branch and stays NaN there.
    return (tf.where(y >= 0, dy, dy * (y + alpha)),)


def _elu_from_input_bwd(dy, x, *, alpha):
    # For alpha < 1, alpha * expm1(x) underflows to -0 for the smallest
    # normal x < 0, where y no longer tells the branch: use x.
    return (tf.where(x >= 0, dy, dy * (alpha * tf.exp(tf.minimum(x, 0.0)))),)


def _selu_fwd(x):
    return _exp_branch(x, SELU_ALPHA, 1.0, scale=SELU_SCALE)


def _selu_bwd(dy, y):
    return (tf.where(y >= 0, SELU_SCALE * dy, dy * (y + SELU_SCALE * SELU_ALPHA)),)


def _celu_fwd(x, *, alpha):
    # celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
    return _exp_branch(x, alpha, alpha)


def _celu_bwd(dy, y, *, alpha):
    # (y + alpha) / alpha, not y / alpha + 1: y >= -alpha holds after rounding, and
    # so the derivative stays >= 0.
    return (tf.where(y >= 0, dy, dy * ((y + alpha) / alpha)),)


_ELU = Kernel(_elu_fwd, _elu_bwd, saves_output=True)
_ELU_FROM_INPUT = Kernel(_elu_fwd, _elu_from_input_bwd, saves_input=True)
_CELU = Kernel(_celu_fwd, _celu_bwd, saves_output=True)
SELU = Kernel(_selu_fwd, _selu_bwd, saves_output=True)


def elu_kernel(alpha: float) -> tuple[Kernel, dict]:
    """The kernel and static arguments for ``elu(x, alpha)``.

    ``alpha == 0`` is a plain ReLU (the ReLU kernel); for ``0 < alpha < 1``
    the backward pass works from the input (see ``_elu_from_input_bwd``).
    """
    if alpha == 0.0:
        return RELU, {}
    return (_ELU if alpha >= 1.0 else _ELU_FROM_INPUT), {"alpha": alpha}


def celu_kernel(alpha: float) -> tuple[Kernel, dict]:
    """``celu`` with ``alpha == 1`` is ``elu``; otherwise its own kernel."""
    if alpha == 1.0:
        return _ELU, {"alpha": 1.0}
    return _CELU, {"alpha": alpha}
