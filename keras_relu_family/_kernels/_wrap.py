"""The shared ``tf.custom_gradient`` wrapper (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import tensorflow as tf

_HALF = (tf.float16, tf.bfloat16)


class Kernel(NamedTuple):
    """A forward/backward pair.

    ``exact_in_half`` marks kernels whose arithmetic is exact in any float
    dtype (comparisons and selects only); all others compute float16 and
    bfloat16 inputs in float32 and round once at the end.
    """

    forward: Callable
    backward: Callable
    exact_in_half: bool = False


def _compute_dtype(dtype: tf.DType) -> tf.DType:
    return tf.float32 if dtype in _HALF else dtype


def _reduce_to(grad: tf.Tensor, param: tf.Tensor) -> tf.Tensor:
    """Sums ``grad`` over the axes along which ``param`` was broadcast."""
    grad_shape, param_shape = grad.shape, param.shape
    if grad_shape.is_fully_defined() and param_shape.is_fully_defined():
        lead = grad_shape.rank - param_shape.rank
        axes = list(range(lead)) + [
            lead + i
            for i, size in enumerate(param_shape)
            if size == 1 and grad_shape[lead + i] != 1
        ]
        if axes:
            grad = tf.reduce_sum(grad, axis=axes)
    else:
        _, axes = tf.raw_ops.BroadcastGradientArgs(s0=tf.shape(grad), s1=tf.shape(param))
        grad = tf.reduce_sum(grad, axis=axes)
    return tf.cast(tf.reshape(grad, tf.shape(param)), param.dtype)


def apply(kernel: Kernel, x: tf.Tensor, params: tuple = (), **static) -> tf.Tensor:
    """Runs ``kernel`` on ``x`` with hand-written gradients.

    ``x`` is a floating-point tensor; ``params`` are floating-point tensors
    broadcastable to ``x`` that receive gradients (trainable parameters);
    ``static`` holds Python values fixed at trace time.
    """
    x_dtype = x.dtype
    compute = x_dtype if kernel.exact_in_half else _compute_dtype(x_dtype)

    @tf.custom_gradient
    def op(x, *params):
        cast_params = tuple(tf.cast(p, compute) for p in params)
        y, saved = kernel.forward(tf.cast(x, compute), *cast_params, **static)

        def grad(dy):
            grads = kernel.backward(tf.cast(dy, compute), *saved, *cast_params, **static)
            dx = tf.cast(grads[0], x_dtype)
            if not params:
                return dx
            return [dx] + [_reduce_to(g, p) for g, p in zip(grads[1:], params, strict=True)]

        return tf.cast(y, x_dtype), grad

    return op(x, *params)
