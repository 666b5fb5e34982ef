"""``apply`` on JAX: a kernel as a ``jax.custom_vjp`` function.

One ``custom_vjp`` function per kernel and set of static arguments, made once
and cached. Its forward rule keeps what the kernel's backward pass needs
(the caller's ``x`` or the returned ``y``), and its backward rule casts, runs
the kernel's backward pass, and reduces each parameter's gradient to that
parameter's shape and dtype.

A kernel with ``residuals`` (the one-byte branch of the piecewise-linear
rectifiers) keeps ``x`` here and computes its residuals in the backward
pass, where XLA fuses them into the gradient's loop: keeping ``x`` costs
nothing a JAX caller does not hold already (``jax.nn.relu``'s own gradient
keeps it), while writing the byte costs the forward pass a second loop. On
TensorFlow, whose ``ReluGrad`` works from ``y`` and lets ``x`` go, the
wrapper writes the byte instead. It composes with
``jax.jit``, ``jax.grad`` and ``jax.vmap``; under ``jit`` XLA fuses each pass
into one loop, as the TensorFlow wrapper does explicitly.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from keras_relu_family._backend._keys import items_key
from keras_relu_family._backend.jax_ops import HALF_DTYPES

if TYPE_CHECKING:
    from keras_relu_family._kernel import Kernel


def _compute_dtype(kernel: Kernel, dtype):
    return jnp.float32 if dtype in HALF_DTYPES and not kernel.exact_in_half else dtype


def _reduce_to(grad, param):
    """Sums ``grad`` over the axes along which ``param`` was broadcast."""
    lead = grad.ndim - param.ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(param.shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = jnp.sum(grad, axis=axes)
    return jnp.reshape(grad, param.shape).astype(param.dtype)


def _function(kernel: Kernel, static_items: tuple):
    return _cached_function(kernel, static_items, items_key(static_items))


@functools.cache
def _cached_function(kernel: Kernel, static_items: tuple, key: tuple):
    del key  # in the cache's key only: it tells -0.0 from 0.0 (_keys)
    static = dict(static_items)

    def cast_all(x, params):
        compute = _compute_dtype(kernel, x.dtype)
        return x.astype(compute), tuple(p.astype(compute) for p in params)

    keeps_input = kernel.saves_input or kernel.residuals is not None

    def forward(x, params, tensors):
        cx, cparams = cast_all(x, params)
        y = kernel.forward(cx, *cparams, **static, **tensors)
        saved = (x,) if keeps_input else ()
        saved += (y,) if kernel.saves_output else ()
        return y.astype(x.dtype), saved

    @jax.custom_vjp
    def op(x, params, tensors):
        return forward(x, params, tensors)[0]

    def op_fwd(x, params, tensors):
        y, saved = forward(x, params, tensors)
        return y, (saved, params, tensors)

    def op_bwd(residual, dy):
        saved, params, tensors = residual
        cdy, cparams = cast_all(dy, params)
        if keeps_input:
            saved = (saved[0].astype(cdy.dtype),) + saved[1:]
        if kernel.residuals is not None:  # from x, in the backward pass (see above)
            x, saved = saved[0], saved[1:]
            extra = tuple(kernel.residuals(x, *cparams, **static, **tensors))
            saved = ((x,) if kernel.saves_input else ()) + saved + extra
        grads = kernel.backward(cdy, *saved, *cparams, **static, **tensors)
        dx = grads[0].astype(dy.dtype)
        dparams = tuple(_reduce_to(g, p) for g, p in zip(grads[1:], params, strict=True))
        return dx, dparams, jax.tree.map(jnp.zeros_like, tensors)

    op.defvjp(op_fwd, op_bwd)
    return op


def apply(kernel: Kernel, x, params: tuple = (), **static):
    """Runs ``kernel`` on ``x`` with hand-written gradients (see the TensorFlow ``apply``).

    ``params`` are arrays broadcastable to ``x`` that receive gradients;
    ``static`` holds Python values, or arrays that get no gradient (such as
    RReLU's random slopes).
    """
    tensors = {k: v for k, v in static.items() if isinstance(v, jax.Array)}
    fixed = tuple(sorted((k, v) for k, v in static.items() if k not in tensors))
    return _function(kernel, fixed)(x, tuple(params), tensors)
