"""``apply`` on PyTorch: a kernel as a ``torch.autograd.Function``.

One ``Function`` subclass per kernel and set of static arguments, made once
and cached, whose ``forward`` runs the kernel's forward pass and saves what
its backward pass needs (``x``, ``y``, or the kernel's residuals), and whose
``backward`` casts, runs the kernel's backward pass and reduces each
parameter's gradient to that parameter's shape and dtype. It works eagerly
and under ``torch.compile`` (which traces both passes, as it does PyTorch's
own functions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from keras_relu_family._backend._keys import items_key
from keras_relu_family._backend.torch_ops import HALF_DTYPES

if TYPE_CHECKING:
    from keras_relu_family._kernel import Kernel


def _to(tensor, dtype):
    """``tensor`` in ``dtype``; itself, without a dispatch, where it is in it already."""
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


def _reduce_to(grad, param):
    """Sums ``grad`` over the axes along which ``param`` was broadcast."""
    lead = grad.dim() - param.dim()
    axes = list(range(lead)) + [
        lead + i for i, size in enumerate(param.shape) if size == 1 and grad.shape[lead + i] != 1
    ]
    if axes:
        grad = grad.sum(dim=axes)
    return grad.reshape(param.shape).to(param.dtype)


_FUNCTIONS: dict = {}  # a plain dict: torch.compile warns about tracing functools caches


def _function(kernel: Kernel, static_items: tuple, tensor_names: tuple):
    key = (kernel, items_key(static_items), tensor_names)
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _make_function(kernel, static_items, tensor_names)
    return _FUNCTIONS[key]


def _make_function(kernel: Kernel, static_items: tuple, tensor_names: tuple):
    """The ``Function`` of ``kernel`` with these static arguments. Its two passes do what
    the module's docstring says in as few Python steps as they can: they run on every
    call, and a small tensor's forward and backward pass cost less than its Python."""
    static = dict(static_items)
    n_tensors = len(tensor_names)
    forward, backward = kernel.forward, kernel.backward
    in_float32 = not kernel.exact_in_half
    saves_input, saves_output, residuals = kernel.saves_input, kernel.saves_output, kernel.residuals
    memo = kernel.memo

    def arguments(rest) -> tuple:
        """``(tensors and static arguments by name, params)`` from ``rest``."""
        if not n_tensors:
            return static, rest
        return {**static, **dict(zip(tensor_names, rest[:n_tensors], strict=True))}, rest[
            n_tensors:
        ]

    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            named, params = arguments(rest)
            cx = x
            if in_float32 and x.dtype in HALF_DTYPES:
                cx = x.to(torch.float32)
                params = tuple(_to(p, torch.float32) for p in params)
            elif params:
                params = tuple(_to(p, x.dtype) for p in params)
            y = forward(cx, *params, **named)
            if memo:
                y, ctx.memo = y
            saved = (x,) if saves_input else ()
            if saves_output:
                saved += (y,)
            if residuals is not None:
                saved += tuple(residuals(cx, *params, **named))
            ctx.save_for_backward(*saved, *rest)
            ctx.n_saved = len(saved)
            return y if y.dtype == x.dtype else y.to(x.dtype)

        @staticmethod
        def backward(ctx, dy):
            stored = ctx.saved_tensors
            n_saved = ctx.n_saved
            saved, rest = stored[:n_saved], stored[n_saved:]
            named, params = arguments(rest)
            cdy = dy
            if in_float32 and dy.dtype in HALF_DTYPES:
                cdy = dy.to(torch.float32)
                if saves_input:
                    saved = (saved[0].to(torch.float32), *saved[1:])
            compute = cdy.dtype
            if params:
                params = tuple(_to(p, compute) for p in params)
            if memo:
                grads = backward(cdy, *saved, *params, memo=ctx.memo, **named)
            else:
                grads = backward(cdy, *saved, *params, **named)
            dx = grads[0]
            if dx.dtype != dy.dtype:
                dx = dx.to(dy.dtype)
            if not params and not n_tensors:
                return dx
            dparams = tuple(
                _reduce_to(g, p) for g, p in zip(grads[1:], rest[n_tensors:], strict=True)
            )
            return (dx, *([None] * n_tensors), *dparams)

    Op.__name__ = f"{kernel.forward.__name__}_op"
    return Op


def apply(kernel: Kernel, x, params: tuple = (), **static):
    """Runs ``kernel`` on ``x`` with hand-written gradients (see the TensorFlow ``apply``).

    ``params`` are tensors broadcastable to ``x`` that receive gradients;
    ``static`` holds Python values, or tensors that get no gradient (such as
    RReLU's random slopes). Eagerly, a kernel's ``eager`` form where it has one (not for
    an empty ``x``: the eager forms' searches reduce it, and a reduction of nothing fails).
    """
    if kernel.eager is not None and x.numel() and not torch.compiler.is_compiling():
        kernel = kernel.eager
    if not static:
        key = (kernel, (), ())  # items_key(()) is ()
        op = _FUNCTIONS.get(key) or _function(kernel, (), ())
        return op.apply(x, *params)
    tensors = {k: v for k, v in static.items() if torch.is_tensor(v)}
    fixed = tuple(sorted((k, v) for k, v in static.items() if k not in tensors))
    names = tuple(sorted(tensors))
    op = _function(kernel, fixed, names)
    return op.apply(x, *(tensors[k] for k in names), *params)
