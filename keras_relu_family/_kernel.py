"""What a kernel is, and the pieces several kernels share.

A :class:`Kernel` is a forward and a backward pass as pure functions, written
once in the backend vocabulary ``xp`` (``keras_relu_family._backend``);
``apply`` of the backend turns it into an op with that gradient. Convention
at a kink: the derivative is the one of the branch on the right (``x >= 0``
takes the positive branch, so ``relu'(0) = 1``). A NaN input gives a NaN
output and a NaN gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from keras_relu_family._backend import xp


class Kernel(NamedTuple):
    """A forward/backward pair.

    ``forward(x, *params, **static)`` returns ``y``; ``backward(dy, *saved,
    *params, **static)`` returns the gradient with respect to ``x`` followed
    by one element-wise gradient per parameter, where ``saved`` is, in this
    order: ``x`` if ``saves_input``, ``y`` if ``saves_output``, and the
    tensors ``residuals(x, *params, **static)`` returns, if given.

    The wrapper keeps the caller's ``x`` and the ``y`` it returns themselves,
    not copies a compiled forward pass would write out; and it computes
    ``residuals`` apart from ``y``, so that a graph that takes no gradient
    (inference, an exported model) drops them.

    ``exact_in_half`` marks kernels that compute float16 and bfloat16 in
    their own dtype (comparisons and selects, or Keras's own half-precision
    arithmetic where that is the reference); all others compute them in
    float32 and round once at the end (and keep the float32 ``y`` for
    ``saves_output``).

    ``eager`` is the same function in another form, for PyTorch outside
    ``torch.compile``, where every op is a pass of its own and a select or an op
    mixing dtypes is slow: it computes the gradient in PyTorch's own fused
    backward op, moved to the conventions above (``torch_ops``). The PyTorch
    wrapper runs it eagerly; torch.compile and the other backends run the kernel
    itself, which they fuse.

    ``memo`` marks an eager form whose forward returns ``(y, memo)``: a Python
    value of what it learnt of ``x`` on the way (that it holds no NaN), which
    its backward takes as ``memo=`` instead of reading ``x`` again. It still
    holds there: autograd refuses a saved ``x`` changed in place since.
    """

    forward: Callable
    backward: Callable
    exact_in_half: bool = False
    saves_input: bool = False
    saves_output: bool = False
    residuals: Callable | None = None
    eager: Kernel | None = None
    memo: bool = False


def clip_keeping_nan(x, low: float, high: float):
    """``x`` clipped to ``[low, high]``, NaN kept NaN.

    Written with comparisons and selects, not a clip or min/max: XLA before
    TensorFlow 2.21 lowers min and max without NaN propagation on the CPU
    (``--xla_cpu_enable_fast_min_max``), so a clipped NaN came out as a bound
    there. Compiled, the selects fuse into the surrounding loop.
    """
    return xp.where(x > high, high, xp.where(x < low, low, x))


def nan_where_nan(x, grad):
    """``grad`` with NaN wherever ``x`` is NaN."""
    return xp.where(xp.isnan(x), x, grad)


# The piecewise-linear rectifiers keep one byte per element for the backward
# pass, the branch each input took, rather than their input: TensorFlow's
# ReluGrad works from y, which the next layer keeps anyway, but y = 0 cannot
# tell x = 0 (derivative 1) from x < 0 (derivative 0). Writing the byte costs
# the forward pass a second loop over x (XLA on the CPU writes a second output
# in a loop of its own): 1.2x the built-in's time, against 1.84x its memory for
# keeping x. See docs/performance.md.
ZERO, ONE, NAN, SLOPE = 0, 1, 2, 3


def branch(x, one, slope=None):
    """int8 per element: ``ONE`` where ``one``, ``SLOPE`` where ``slope``, ``NAN`` where ``x``
    is NaN (``one`` and ``slope`` are false there), ``ZERO`` elsewhere."""
    # Arithmetic rather than nested selects: a tenth faster under XLA.
    code = xp.cast(one, xp.int8) + NAN * xp.cast(xp.isnan(x), xp.int8)
    if slope is not None:
        code = code + SLOPE * xp.cast(slope, xp.int8)
    return code


def from_branch(code, dy, zero=None, slope=None):
    """``dy`` where ``ONE``, ``zero`` where ``ZERO`` (0 if ``None``), ``slope * dy`` where
    ``SLOPE``, NaN where ``NAN``.

    ``zero`` is a tensor of ``dy``'s shape (RReLU's ``noise * dy``); ``slope`` a float.
    """
    nan = xp.constant(float("nan"), dy)
    other = xp.where(code == ZERO, xp.constant(0.0, dy) if zero is None else zero, nan)
    if slope is not None:
        other = xp.where(code == SLOPE, slope * dy, other)
    return xp.where(code == ONE, dy, other)
