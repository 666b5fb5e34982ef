"""The PyTorch side of the kernels' vocabulary (``xp``), and the input conversions.

The same names as ``tensorflow_ops``, on ``torch``. ``torch.where`` lets a
Python number take the other operand's dtype; ``minimum`` and ``maximum``
with a number are ``clamp``, which propagates NaN as ``torch.minimum`` does.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import torch
import torch.nn.functional as F

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
HALF_DTYPES = (torch.float16, torch.bfloat16)
int8 = torch.int8
float32 = torch.float32
float64 = torch.float64

abs = torch.abs
exp = torch.exp
expm1 = torch.expm1
tanh = torch.tanh
sqrt = torch.sqrt
sigmoid = torch.sigmoid
erfc = torch.special.erfc
relu = torch.relu
where = torch.where


def isnan(x):
    """``x != x``: ``torch.isnan`` itself, but inductor vectorizes it (it compiles
    ``isnan`` to a scalar loop on the CPU, which made the compiled branch codes slow)."""
    return x != x


def minimum(x, y):
    return torch.clamp(x, max=y) if not torch.is_tensor(y) else torch.minimum(x, y)


def maximum(x, y):
    return torch.clamp(x, min=y) if not torch.is_tensor(y) else torch.maximum(x, y)


def relu6(x):
    # clamp, not F.relu6 (hardtanh): both keep NaN; clamp is what autodiff baselines expect.
    return torch.clamp(x, 0.0, 6.0)


def _linear_above(dtype) -> float:
    """Where PyTorch's softplus may turn linear: past it neither softplus(x) - x nor
    1 - sigmoid(x) is representable in ``dtype`` (PyTorch's own 20 is too low for float64)."""
    return 40.0 if dtype == torch.float64 else 20.0


def softplus(x):
    """``log(1 + exp(x))``, exact: PyTorch's own turns linear above 20, which float64 can tell."""
    return F.softplus(x, threshold=_linear_above(x.dtype))


def cast(x, dtype):
    """``x`` in ``dtype``; a Python number directly."""
    return x.to(dtype) if torch.is_tensor(x) else torch.tensor(x, dtype=dtype)


def constant(value, like):
    """A scalar ``value`` in ``like``'s dtype and on its device."""
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def dtype_name(x) -> str:
    return str(x.dtype).removeprefix("torch.")


def leaky_relu(x, slope: float):
    """``x`` where ``x >= 0``, else ``slope * x``: PyTorch's own, one fused op.

    It computes ``x > 0 ? x : slope * x``, the same values: at ``x = +-0`` both
    give ``x`` (``slope >= 0``), and NaN stays NaN.
    """
    return F.leaky_relu(x, slope)


def clip(x, low: float, high: float):
    """``x`` clipped to ``[low, high]``: ``torch.clamp``, which keeps NaN (and ``-0``)."""
    return torch.clamp(x, low, high)


# -- the eager forms' gradients: PyTorch's fused backward ops, at our conventions ------
#
# Eagerly, each PyTorch op is a pass over memory with its own allocation, and
# ops that mix dtypes (a float gradient and the int8 branch codes) or select
# (torch.where) run at a third of a fused op's speed on the CPU. So the eager
# forms keep x and compute a gradient in one fused op of PyTorch's own, moved to
# our conventions: the slope on the right at a kink (relu'(0) = 1) and NaN
# where x is NaN. See docs/performance.md.

_BELOW: dict = {}
_NEGATIVE_SUBNORMAL = np.float32(-1.401298464324817e-45)


def _just_below(low: float, dtype) -> tuple:
    """``(t, subnormal)``: the largest number of ``dtype`` below ``low``, as a Python
    float, and whether it is a subnormal (below 0 it always is).

    Kept once worked out while the CPU reads subnormals as themselves: under
    denormals-are-zero ``item`` reads the number below 0 as -0, and a cache
    filled then had kept -0 (the slope at 0 lost for good, flag or no flag).
    """
    key = (low, dtype)
    if key in _BELOW:
        return _BELOW[key]
    start, down = torch.tensor(low, dtype=dtype), torch.tensor(-math.inf, dtype=dtype)
    below = torch.nextafter(start, down).item()
    tiny = torch.finfo(dtype).tiny
    found = below, low == 0.0 or (below != 0.0 and math.fabs(below) < tiny)
    if not _cpu_reads_subnormals_as_zero():
        _BELOW[key] = found
    return found


def _cpu_reads_subnormals_as_zero() -> bool:
    """Whether this thread's CPU reads subnormals as 0 (denormals-are-zero,
    ``torch.set_flush_denormal(True)``): asked of a numpy scalar, which it compares
    under the same flag (0.1 us; a PyTorch op on a 0-d tensor took 3 to 6 us)."""
    return not bool(_NEGATIVE_SUBNORMAL < 0)


def _subnormals_read_as_zero(x) -> bool:
    """Whether ``x``'s device reads subnormals as 0, so that comparing with one is
    comparing with 0."""
    return x.device.type == "cpu" and _cpu_reads_subnormals_as_zero()


def _maybe_nan(x) -> bool:
    """False where one reduction shows that ``x`` holds no NaN (on the CPU: its sum is
    not NaN); True where it may (also for ``inf`` beside ``-inf``), and off the CPU,
    where reading the answer would stall the device."""
    return x.device.type != "cpu" or math.isnan(x.sum().item())


def _nan_where_nan(x, dx, maybe_nan: bool | None = None):
    """``dx`` with NaN where ``x`` is NaN; ``maybe_nan``: ``_maybe_nan(x)``, if known."""
    if maybe_nan is None:
        maybe_nan = _maybe_nan(x)
    return torch.where(x != x, x, dx) if maybe_nan else dx


def _fused_at_kink(fused, x, dy, kink: float, slope: float):
    """``fused(out)``, PyTorch's fused gradient written into the new tensor ``out``, moved
    to our slope at ``kink`` and NaN where ``x`` is NaN.

    On the CPU one search finds both first, in ``out`` before the fused op overwrites
    it: ``|x - kink|`` is 0 exactly at the kink and NaN where ``x`` is, so its minimum
    is positive where there are neither (the usual case: nothing else to do). Where
    it is not, the minimum of each block of ``out`` tells which blocks to mend
    (``_mend_blocks``). Comparisons that write booleans are slow here (2Mi elements:
    ``x == k`` 0.77 ms, into floats 0.11, ``count_nonzero`` 0.55 ms, the whole fused
    gradient 0.28-0.41).
    """
    out = torch.empty_like(dy)
    if x.device.type != "cpu":
        return _select_at_kink(fused(out), x, dy, kink, slope)
    gap = torch.abs(x, out=out) if kink == 0.0 else torch.sub(x, kink, out=out).abs_()
    clean, odd = _search_gap(gap, x, dy)  # before the fused op overwrites the gauge
    dx = fused(out)
    return dx if clean else _mend_at_kink(dx, odd, x, dy, kink, slope)


def _search_gap(gap, *others) -> tuple:
    """``(clean, odd)`` for a gauge whose zeros are the kink's elements and whose NaN are
    ``x``'s: ``clean`` (nothing to mend) where its minimum is positive, else ``odd``, the
    blocks to mend (``_odd_blocks`` over ``gap`` and ``others``; None: the whole tensor)."""
    if gap.amin().item() > 0:
        return True, None
    return False, _odd_blocks(gap, lambda rows: ~(rows.amin(1) > 0), *others)


def _mend_at_kink(dx, odd, x, dy, kink: float, slope: float):
    """``dx`` at our slope at ``kink`` and NaN where ``x`` is NaN: in the blocks ``odd``
    names (``_odd_blocks`` of a gauge whose zeros are the kink and NaN), or over the
    whole tensor where it is None."""
    if odd is None:
        return _at_kink(dx, x, dy, kink, slope)
    return _mend_blocks(dx, x, dy, odd, lambda d, u, g: _select_at_kink(d, u, g, kink, slope))


def prelu(x, alpha):
    """PyTorch's fused ``_prelu_kernel``: ``x`` where ``x > 0``, else ``alpha * x``, which
    is ours (at 0 both give a zero) in one pass where the kernel's select takes three."""
    return torch.ops.aten._prelu_kernel(x, alpha)


def prelu_grads(dy, x, alpha) -> tuple:
    """``(dx, dalpha)``, both at ``x``'s shape, from PyTorch's fused
    ``_prelu_kernel_backward`` (one pass for both), whose ``dx`` takes the left-hand slope
    ``alpha`` at 0 and is not NaN where ``x`` is: moved there to ``dy`` and NaN, found as
    in ``_fused_at_kink`` (``|x|``, whose minimum is positive where there are neither;
    the op has no ``out=`` form to write it in first). ``dalpha`` (``x * dy`` where
    ``x <= 0``, else 0) is ours as it is, NaN included."""
    dx, dalpha = torch.ops.aten._prelu_kernel_backward(dy, x, alpha)
    if x.device.type != "cpu":
        return _select_at_kink(dx, x, dy, 0.0, 1.0), dalpha
    clean, odd = _search_gap(torch.abs(x), x, dy, dx)
    return (dx if clean else _mend_at_kink(dx, odd, x, dy, 0.0, 1.0)), dalpha


def _select_at_kink(dx, x, dy, kink: float, slope: float):
    """``dx`` with ``slope * dy`` where ``x`` equals ``kink`` and NaN where ``x`` is NaN, by
    selects over the whole tensor (a new one)."""
    return torch.where(x != x, x, torch.where(x == kink, slope * dy, dx))


def _at_kink(dx, x, dy, kink: float, slope: float):
    """``dx`` (the caller's own tensor) with ``slope * dy`` where ``x`` equals ``kink``
    (``-0`` too for 0), our right-hand slope where PyTorch's fused gradient takes the
    left-hand one, and NaN where ``x`` is NaN.

    On the CPU a comparison finds the kink's elements and only they are written (a
    select over the whole tensor costs three fused ops); off it (where reading whether
    there are any would stall the device), selects.
    """
    if x.device.type != "cpu":
        return _select_at_kink(dx, x, dy, kink, slope)
    at = x == kink
    if _any(at):
        dx = _rewrite(dx, at, lambda where: dy[where] if slope == 1.0 else slope * dy[where])
    return _nan_where_nan(x, dx)


# Where a search over a whole tensor finds a kink or a NaN, its blocks of _BLOCK elements
# are searched again by one reduction each, and only the blocks that hold one are mended:
# finding the elements themselves (a comparison, then nonzero) cost 10 ms on 8Mi elements
# where the data held two exact zeros, the block minima 0.5 ms.
_BLOCK = 4096


def _blocks(t) -> tuple:
    """The contiguous ``t``'s elements as ``(rows, rest)``: the rows of ``_BLOCK`` elements
    (a 2-d view) and the fewer that are left over (a 1-d view)."""
    flat = t.view(-1)
    whole = flat.numel() - flat.numel() % _BLOCK
    return flat[:whole].view(-1, _BLOCK), flat[whole:]


def _odd_blocks(gauge, odd, *others):
    """``odd(rows)``, a boolean per block of ``gauge`` (``_blocks``): those that need mending;
    or None, where whole tensors are the better search: where ``gauge`` or ``others`` are
    not contiguous (the blocks would not be the same elements), or where more than a
    quarter of the blocks are odd."""
    if not all(t.is_contiguous() for t in (gauge, *others)):
        return None
    rows, _ = _blocks(gauge)
    flags = odd(rows)
    return flags if 4 * int(flags.sum()) <= flags.numel() else None


def _mend_blocks(dx, x, dy, odd_blocks, mend):
    """``dx`` (the caller's own, contiguous tensor) with ``mend(dx, x, dy)`` taken over the
    blocks that ``odd_blocks`` names and over the elements left over (``_blocks``)."""
    (dx_rows, dx_rest), (x_rows, x_rest), (dy_rows, dy_rest) = map(_blocks, (dx, x, dy))
    index = odd_blocks.nonzero().view(-1)
    if index.numel():
        dx_rows[index] = mend(dx_rows[index], x_rows[index], dy_rows[index])
    if dx_rest.numel():
        dx_rest.copy_(mend(dx_rest, x_rest, dy_rest))
    return dx


def _any(mask) -> bool:
    """Whether the boolean ``mask`` holds a true element: the largest of its bytes (on
    this project's CPU ``Tensor.any`` on 8M booleans took 3.4 ms, their byte maximum 0.1)."""
    return bool(mask.view(torch.uint8).amax())


def _rewrite(dx, at, values):
    """``dx`` (the caller's own tensor) with ``values(where)`` written at the elements where
    the boolean ``at`` is true, ``where`` their indices, found once (each boolean index
    would search the whole mask again)."""
    where = at.nonzero(as_tuple=True)
    dx.index_put_(where, values(where))
    return dx


def interval_grad(dy, x, low: float, high: float | None = None, maybe_nan: bool | None = None):
    """``dy`` where ``low <= x < high`` (no upper end if ``high`` is None), 0 elsewhere, NaN where
    ``x`` is NaN.

    PyTorch's ``threshold_backward`` and ``hardtanh_backward`` give 0 where
    ``x <= t`` (and where ``x >= high``): with ``t`` the number just below
    ``low`` in ``x``'s dtype, that is ``x < low``, so that the slope at ``low``
    is 1. Where the CPU reads subnormals as zero and ``t`` is one (``low = 0``),
    a select. ``maybe_nan``: whether ``x`` may hold NaN, if the forward pass found out.
    """
    below, subnormal = _just_below(low, x.dtype)
    if subnormal and _subnormals_read_as_zero(x):
        inside = x >= low if high is None else (x >= low) & (x < high)
        dx = torch.where(inside, dy, 0.0)
    elif high is None:
        dx = torch.ops.aten.threshold_backward(dy, x, below)
    else:
        dx = torch.ops.aten.hardtanh_backward(dy, x, below, high)
    return _nan_where_nan(x, dx, maybe_nan)


def leaky_relu_grad(dy, x, slope: float):
    """``dy`` where ``x >= 0``, ``slope * dy`` below, NaN where ``x`` is NaN.

    For ``|slope| < 1/2`` (every usual slope) without a search for the kink:
    ``t = interval_grad(dy, x, 0)`` is ``dy`` where ``x >= 0`` and 0 below, and
    ``t.lerp_(dy, slope)`` computes ``t + slope * (dy - t)`` in place, the form
    PyTorch's ``lerp`` takes for weights below 1/2: ``dy + slope * 0 = dy`` and
    ``0 + slope * dy``, both exactly what ``leaky_relu_backward`` writes, and NaN
    stays NaN. Other slopes: PyTorch's ``leaky_relu_backward``, which takes the
    slope at ``x = 0`` from the left, and its exact zeros rewritten to ``dy``.
    """
    if math.fabs(slope) < 0.5:
        return interval_grad(dy, x, 0.0).lerp_(dy, slope)
    fused = torch.ops.aten.leaky_relu_backward.grad_input
    return _fused_at_kink(lambda out: fused(dy, x, slope, False, grad_input=out), x, dy, 0.0, 1.0)


def within(x, low: float, high: float = math.inf) -> bool:
    """Whether every element of ``x`` is at least ``low`` and below ``high`` (one reduction;
    False where ``x`` holds a NaN).

    On the CPU only: elsewhere reading the answer would stall the device, and
    the eager forms that ask fall back to the kernel itself.
    """
    if x.device.type != "cpu":
        return False
    smallest, largest = (v.item() for v in torch.aminmax(x))
    return smallest >= low and largest < high


_MINUS_THREE: dict = {}


def hardswish(x, exact) -> tuple:
    """``(y, clean)``: ``y`` is PyTorch's fused ``hardswish`` where ``|x + 3| < 1e15`` (so
    also not NaN), else ``exact(x)`` (the kernel's own: PyTorch's computes
    ``(x * relu6(x + 3)) / 6``, which overflows past 5.6e37); ``clean`` is whether the
    backward may skip its search: ``x`` holds neither NaN nor the kink -3.

    One search finds out, in ``y``'s tensor before the fused op writes it:
    ``(x + 3)^2`` (``mse_loss`` without a reduction: one pass, where ``x + 3`` and its
    ``abs`` are two) is 0 exactly at -3 (near it ``x + 3`` is exact and at least an ulp
    of 3, whose square is normal), NaN where ``x`` is, and its greatest value bounds
    ``|x|``. Its least and greatest value in one reduction; the backward is spared a
    comparison writing booleans (5.4 ms on 8Mi elements) and a NaN sum.
    """
    if x.device.type != "cpu":
        return exact(x), False
    y = torch.empty_like(x)
    shift = _MINUS_THREE.get(x.dtype)
    if shift is None:  # made once per dtype: torch.tensor costs 13 us a call
        shift = _MINUS_THREE[x.dtype] = torch.tensor(-3.0, dtype=x.dtype)
    squares = torch.ops.aten.mse_loss.out(x, shift, 0, out=y)  # 0: no reduction; broadcast
    smallest, largest = (v.item() for v in torch.aminmax(squares))
    if not largest < 1e30:
        return exact(x), False
    return torch.ops.aten.hardswish.out(x, out=y), smallest > 0


def hardswish_grad(dy, x, clean: bool):
    """``dy * hard_swish'(x)``: PyTorch's fused ``hardswish_backward``, which takes the
    left-hand slope (0) at ``x = -3``; exact -3s get ``-dy / 2``, NaN gets NaN, unless
    the forward pass found neither (``clean``)."""
    dx = torch.ops.aten.hardswish_backward(dy, x)
    return dx if clean else _at_kink(dx, x, dy, -3.0, -0.5)


silu = F.silu


def silu_grad(dy, x):
    """``dy * (s + x s (1 - s))``, ``s = sigmoid(x)``: PyTorch's fused ``silu_backward``.

    Only for finite ``x`` above -85 (float32) or -700 (float64): at ``+-inf``
    it gives NaN, and below -88 it turns the (normal, tiny) float32 gradient to 0.
    """
    return torch.ops.aten.silu_backward(dy, x)


def swish(x, beta):
    """``x * sigmoid(beta * x)`` in one tensor: the kernel's ops, in place."""
    y = torch.mul(beta, x)
    return torch.sigmoid(y, out=y).mul_(x)


def swish_grads(dy, x, beta, low: float, trainable: bool):
    """``(dx, dbeta)`` of ``swish(x, beta)`` (``(dx,)`` unless ``trainable``), or None where
    ``beta * x`` is not finite and above ``low``, the range ``silu_backward`` is exact in.

    ``dx`` is ``silu_backward`` at ``z = beta * x`` (the same function of ``z``);
    ``dbeta = dy * x^2 * s (1 - s)``, with ``s (1 - s) = 1 / (2 + 2 cosh z)``: no
    cancellation, and 0 where ``cosh`` overflows (``s (1 - s)`` is subnormal there),
    computed in place in ``z``'s tensor.
    """
    z = torch.mul(beta, x)
    if not within(z, low):
        return None
    dx = torch.ops.aten.silu_backward(dy, z)
    if not trainable:
        return (dx,)
    dbeta = z.cosh_().mul_(2.0).add_(2.0).reciprocal_()
    return dx, dbeta.mul_(x).mul_(x).mul_(dy)  # x * x last: it may overflow where s (1 - s) = 0


mish = F.mish


def mish_grad(dy, x):
    """``dy * mish'(x)``, PyTorch's fused ``mish_backward``; the same range as ``silu_grad``."""
    return torch.ops.aten.mish_backward(dy, x)


def elu(x, alpha: float, scale: float = 1.0, input_scale: float = 1.0):
    """``scale * x`` where ``x > 0``, else ``scale * alpha * expm1(input_scale * x)``:
    PyTorch's fused ``elu`` (which computes ``expm1``; NaN stays NaN)."""
    return torch.ops.aten.elu(x, alpha, scale, input_scale)


def elu_grad(dy, x, alpha: float, scale: float = 1.0, input_scale: float = 1.0):
    """The gradient of ``elu`` above, ``scale * dy`` at ``x = 0`` and NaN where ``x`` is NaN.

    PyTorch's fused ``elu_backward`` from ``x`` (exact in the tail, where the
    exponential is taken of ``x`` itself); it takes the left-hand slope at 0,
    so where that differs and ``x`` holds zeros, they get ``scale * dy``.
    """
    if (alpha, scale, input_scale) == (1.0, 1.0, 1.0):  # both slopes at 0 are 1
        return _nan_where_nan(x, torch.ops.aten.elu_backward(dy, 1.0, 1.0, 1.0, False, x))
    fused = torch.ops.aten.elu_backward.grad_input

    def into(out):
        return fused(dy, alpha, scale, input_scale, False, x, grad_input=out)

    return _fused_at_kink(into, x, dy, 0.0, scale)


_LN_HALF = -math.log(2.0)


def expm1_nonpositive(z):
    """``exp(z) - 1`` for ``z <= 0``, the exponential family's kernels' own, as
    ``torch.compile`` traces them (eagerly the forms run PyTorch's fused ``elu``).

    Inductor lowers ``expm1`` to ``exp(z) - 1`` on the CPU (19% off at -1e-7 in
    float32), and the other backends' ``2t / (1 - t)``, ``t = tanh(z / 2)``, costs a
    ``tanh`` and a division there (compiled ELU, CELU and SELU took 1.16-1.23 of the
    built-ins' time at 8Mi elements, 1.8-2.2 at 2Mi). So: above ``ln(1/2)`` the
    Taylor series to ``z^9 / 9!`` (float32; ``z^16 / 16!`` in float64), whose
    truncation is below 1.1e-8 (8e-18) relative there, one multiply-add a term in
    Horner's form; below, ``exp(z) - 1``, with ``exp(z) <= 1/2``, no cancellation.
    Largest relative error measured compiled on 200001 points from -1e-9 to -31.6:
    1.08e-7 in float32 (the tanh form 1.57e-7), 2.2e-16 in float64 (3.9e-16). NaN
    takes the second branch and stays NaN.
    """
    n = 16 if z.dtype == torch.float64 else 9
    series = z * (1.0 / math.factorial(n)) + 1.0 / math.factorial(n - 1)
    for k in range(n - 2, 1, -1):
        series = series * z + 1.0 / math.factorial(k)
    return torch.where(z > _LN_HALF, (series * z + 1.0) * z, torch.exp(z) - 1.0)


def threshold(x, threshold: float, value: float) -> tuple:
    """``(y, maybe_nan)``: ``y`` is ``x`` where ``x > threshold``, else ``value``, NaN kept
    (PyTorch's fused ``threshold``, which turns NaN into ``value``, then NaN put back),
    ``maybe_nan`` whether ``x`` may hold NaN (``_maybe_nan``), for the backward pass."""
    maybe_nan = _maybe_nan(x)
    return _nan_where_nan(x, F.threshold(x, threshold, value), maybe_nan), maybe_nan


def softplus_grad(dy, z):
    """``dy * sigmoid(z)``, PyTorch's fused ``softplus_backward``: ``dy * e / (e + 1)``
    with ``e = exp(z)``, and ``dy`` above the point where ``sigmoid(z)`` is 1 in ``z``'s
    dtype (18 in float32, 38 in float64), so the same values."""
    return torch.ops.aten.softplus_backward(dy, z, 1.0, _linear_above(z.dtype))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu(x):
    """``0.5 * x * erfc(-x / sqrt(2))``, in place in the one tensor it returns.

    PyTorch's fused GELU computes ``1 + erf``, which cancels in the lower tail
    (in float32 its value is 4% off at ``x = -5`` and 0 from -6 on), so the eager
    form keeps the kernel's ``erfc`` and saves the allocations instead: eagerly
    an allocating op costs about ten in-place ones on the CPU.
    """
    y = torch.mul(x, -_SQRT_HALF)
    torch.special.erfc(y, out=y)
    return y.mul_(0.5).mul_(x)  # halved first: 2 * x overflows where x * Phi does not


def gelu_grad(dy, x, y, exact):
    """``dy * (y / x + x * exp(-x^2 / 2) / sqrt(2 pi))`` from ``y = gelu(x)``, in one tensor.

    ``y / x`` is ``Phi(x)`` to an ulp or two, except where ``x * x`` is 0 (zeros,
    and subnormals, whose ``y`` lost bits) and where ``x`` is not finite: the least and
    the greatest ``x * x`` tell whether there are any, and there ``exact(dy, x)`` (the
    kernel's own gradient) is taken, element by element (found block by block where
    few blocks hold one, ``_mend_blocks``).
    """
    dx = torch.mul(x, x)
    # One reduction for both: the least x * x is 0 where x holds zeros or subnormals, the
    # greatest not finite where x holds NaN or infinities (or a finite x past 1.8e19);
    # a NaN makes both NaN.
    smallest, largest = (v.item() for v in torch.aminmax(dx))
    odd = tiny = None
    if not (smallest > 0 and largest < math.inf):
        odd = _odd_blocks(dx, lambda rows: ~((rows.amin(1) > 0) & (rows.amax(1) < math.inf)), x, dy)
        tiny = (dx == 0) | ~torch.isfinite(x) if odd is None else None
    dx.mul_(-0.5).exp_().mul_(x).mul_(_INV_SQRT_2PI).addcdiv_(y, x).mul_(dy)
    if odd is not None:

        def mend(d, u, g):
            return torch.where((u * u == 0) | ~torch.isfinite(u), exact(g, u), d)

        return _mend_blocks(dx, x, dy, odd, mend)
    if tiny is not None:
        return _rewrite(dx, tiny, lambda where: exact(dy[where], x[where]))
    return dx


def squareplus(x, b: float):
    """``(x + sqrt(x^2 + b)) / 2``, for ``x < 0`` as ``(b / 4) / ((sqrt(x^2 + b) - x) / 2)``
    (no cancellation), in two tensors: ``hypot`` takes the root without squaring ``x``
    (the kernel's own way costs two selects) and each branch is finished in place."""
    half_root = torch.hypot(x, torch.tensor(math.sqrt(b), dtype=x.dtype, device=x.device))
    half_root.mul_(0.5)
    low = torch.sub(half_root, x, alpha=0.5)
    torch.div(torch.tensor(0.25 * b, dtype=x.dtype, device=x.device), low, out=low)
    return torch.where(x >= 0, half_root.add_(x, alpha=0.5), low, out=half_root)


def squareplus_grad(dy, y, b: float):
    """``dy / (1 + (sqrt(b) / 2 / y)^2)``, the kernel's gradient from ``y`` op for op
    (PyTorch divides a number by a tensor as a reciprocal times the number), in one tensor."""
    q = torch.reciprocal(y).mul_(0.5 * math.sqrt(b))
    return torch.div(dy, q.mul_(q).add_(1.0), out=q)


# -- what the public functions do before calling a kernel -------------------------------


def is_tensor(value) -> bool:
    """A tensor, array or variable (not a Python number)."""
    return isinstance(value, (torch.Tensor, np.ndarray, keras.Variable))


def _as_tensor(value):
    if isinstance(value, keras.Variable):
        return value.value
    return value if torch.is_tensor(value) else keras.ops.convert_to_tensor(value)


def float_tensor(x, *, caller: str):
    """``x`` as a floating-point tensor, refusing integer, bool and complex input.

    Python numbers and lists become ``float32`` (Keras's ``floatx``) on Keras's
    device; an integer tensor or array is refused rather than cast.
    """
    if is_tensor(x):
        tensor = _as_tensor(x)
        if tensor.dtype not in FLOAT_DTYPES:
            name = keras.backend.standardize_dtype(tensor.dtype)
            raise TypeError(
                f"{caller} expects a floating-point input (float16, bfloat16, float32 "
                f"or float64). Received: x with dtype={name}. Cast it first, "
                f"for example with keras.ops.cast(x, 'float32')."
            )
        return tensor
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{caller} could not convert its input to a tensor. Received: x={x!r}"
        ) from error
    if array.dtype.kind in "fiu":  # Python numbers and lists: float32, as in Keras
        return keras.ops.convert_to_tensor(array, "float32")
    if array.dtype.kind == "b":
        return float_tensor(array, caller=caller)  # refused, naming the dtype
    raise TypeError(f"{caller} could not convert its input to a tensor. Received: x={x!r}")


def param_tensor(name: str, value, x, caller: str):
    """A parameter that receives a gradient, as a tensor; refuses integer and bool values.

    A Python number takes the precision the kernel computes in (float64 for
    float64 input, float32 for the others); a tensor keeps its dtype.
    """
    if is_tensor(value):
        tensor = _as_tensor(value)
        if tensor.dtype not in FLOAT_DTYPES:
            dtype = keras.backend.standardize_dtype(tensor.dtype)
            raise TypeError(
                f"{caller}: `{name}` must be floating-point. Received: {name} with dtype={dtype}"
            )
        return tensor
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    return torch.as_tensor(array, dtype=dtype, device=x.device)


def uniform_like(x, lower: float, upper: float, seed):
    """Noise ``U(lower, upper)`` of ``x``'s shape (float32 for half ``x``).

    ``seed``: ``None`` (fresh noise each call), an int (the same noise for the
    same shape every call) or a ``keras.random.SeedGenerator``.
    """
    dtype = "float32" if x.dtype in HALF_DTYPES else dtype_name(x)
    return keras.random.uniform(tuple(x.shape), lower, upper, dtype=dtype, seed=seed)


def cond(flag, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` by a boolean tensor."""
    return true_fn() if bool(flag) else false_fn()
