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

from keras_relu_family._backend.torch_ops import HALF_DTYPES

if TYPE_CHECKING:
    from keras_relu_family._kernel import Kernel


def _compute_dtype(kernel: Kernel, dtype):
    return torch.float32 if dtype in HALF_DTYPES and not kernel.exact_in_half else dtype


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
    key = (kernel, static_items, tensor_names)
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _make_function(kernel, static_items, tensor_names)
    return _FUNCTIONS[key]


def _make_function(kernel: Kernel, static_items: tuple, tensor_names: tuple):
    static = dict(static_items)
    n_tensors = len(tensor_names)

    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            tensors = dict(zip(tensor_names, rest[:n_tensors], strict=True))
            params = rest[n_tensors:]
            compute = _compute_dtype(kernel, x.dtype)
            cx = _to(x, compute)
            cparams = tuple(_to(p, compute) for p in params)
            y = kernel.forward(cx, *cparams, **static, **tensors)
            if kernel.memo:
                y, ctx.memo = y
            out = _to(y, x.dtype)
            saved = (x,) if kernel.saves_input else ()
            saved += (y,) if kernel.saves_output else ()
            if kernel.residuals is not None:
                saved += tuple(kernel.residuals(cx, *cparams, **static, **tensors))
            ctx.save_for_backward(*saved, *rest)
            ctx.n_saved = len(saved)
            return out

        @staticmethod
        def backward(ctx, dy):
            stored = ctx.saved_tensors
            saved, rest = stored[: ctx.n_saved], stored[ctx.n_saved :]
            tensors = dict(zip(tensor_names, rest[:n_tensors], strict=True))
            params = rest[n_tensors:]
            compute = _compute_dtype(kernel, dy.dtype)
            cdy = _to(dy, compute)
            cparams = tuple(_to(p, compute) for p in params)
            if kernel.saves_input:
                saved = (_to(saved[0], compute),) + tuple(saved[1:])
            memo = {"memo": ctx.memo} if kernel.memo else {}
            grads = kernel.backward(cdy, *saved, *cparams, **static, **tensors, **memo)
            dx = _to(grads[0], dy.dtype)
            dparams = tuple(_reduce_to(g, p) for g, p in zip(grads[1:], params, strict=True))
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
    tensors = {k: v for k, v in static.items() if torch.is_tensor(v)}
    fixed = tuple(sorted((k, v) for k, v in static.items() if k not in tensors))
    names = tuple(sorted(tensors))
    op = _function(kernel, fixed, names)
    return op.apply(x, *(tensors[k] for k in names), *params)
