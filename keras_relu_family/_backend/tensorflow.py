"""``apply`` on TensorFlow: a kernel as a ``tf.custom_gradient`` op.

Inside a graph (``tf.function``, Keras ``fit``) the forward and the backward
pass of every kernel each run as one XLA-compiled function
(``jit_compile=True``) for tensors of at least ``_XLA_MIN_ELEMENTS``, whether
or not the caller compiles with XLA: XLA fuses the element-wise ops of each
pass into a single loop over memory, which is what makes a hand-written
gradient as fast as TensorFlow's fused C++ gradient kernels (a chain of
separate TensorFlow ops reads and writes the whole tensor once per op).
Eagerly, and for smaller tensors, the same Python functions run op by op. Set
the environment variable ``KERAS_RELU_FAMILY_XLA=0`` (before the graph is
traced) to run the ops unfused in graphs too, e.g. to export a SavedModel for a
runtime without XLA. See docs/performance.md.
"""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Callable
from typing import TYPE_CHECKING

import tensorflow as tf

from keras_relu_family._backend._keys import items_key
from keras_relu_family._backend.tensorflow_ops import HALF_DTYPES as _HALF

if TYPE_CHECKING:
    from keras_relu_family._kernel import Kernel


def _compute_dtype(kernel: Kernel, dtype: tf.DType) -> tf.DType:
    return tf.float32 if dtype in _HALF and not kernel.exact_in_half else dtype


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


def _shares_output(kernel: Kernel, dtype: tf.DType) -> bool:
    """Whether the saved ``y`` is the returned tensor (not its float32 original)."""
    return kernel.saves_output and _compute_dtype(kernel, dtype) == dtype


def _in_compute_dtype(kernel: Kernel, x, params) -> tuple:
    """``(x, *params)`` cast to the dtype ``kernel`` computes ``x``'s dtype in."""
    compute = _compute_dtype(kernel, x.dtype)
    return tuple(tf.cast(t, compute) for t in (x, *params))


def _forward(kernel: Kernel, static: dict, x, params, tensors):
    """``(y, extra)``: ``y`` in ``x``'s dtype, ``extra`` the float32 ``y`` kept for half x."""
    y = kernel.forward(*_in_compute_dtype(kernel, x, params), **static, **tensors)
    extra = (y,) if kernel.saves_output and not _shares_output(kernel, x.dtype) else ()
    return tf.cast(y, x.dtype), extra


def _residuals(kernel: Kernel, static: dict, x, params, tensors):
    return tuple(kernel.residuals(*_in_compute_dtype(kernel, x, params), **static, **tensors))


def _backward(kernel: Kernel, static: dict, dy, saved, params, tensors):
    """``dx`` in ``dy``'s dtype and each parameter's gradient reduced to its shape and dtype."""
    cast_dy, *cast_params = _in_compute_dtype(kernel, dy, params)
    if kernel.saves_input:
        saved = (tf.cast(saved[0], cast_dy.dtype),) + tuple(saved[1:])
    grads = kernel.backward(cast_dy, *saved, *cast_params, **static, **tensors)
    dx = tf.cast(grads[0], dy.dtype)
    return (dx,) + tuple(_reduce_to(g, p) for g, p in zip(grads[1:], params, strict=True))


@functools.cache
def _platform_has_xla() -> bool:
    # No XLA for TensorFlow's Metal plugin (the same test as Keras's model_supports_jit).
    return not (
        platform.system() == "Darwin"
        and "arm" in platform.processor().lower()
        and bool(tf.config.list_physical_devices("GPU"))
    )


def _xla_enabled() -> bool:
    """Whether graphs run the kernels through XLA (see the module docstring)."""
    if os.environ.get("KERAS_RELU_FAMILY_XLA", "1").strip().lower() in ("0", "false", "no"):
        return False
    return _platform_has_xla()


_PASSES = {"forward": _forward, "residuals": _residuals, "backward": _backward}

# Below this many elements a graph runs the ops unfused: launching an XLA
# executable costs more than the passes it saves on a small tensor, and
# graphs over small shapes (tests, tiny models, a served batch of a few
# examples) compile nothing and compute exactly what eager execution does.
_XLA_MIN_ELEMENTS = 1 << 16

_COMPILED: dict = {}


def _compiled(kernel: Kernel, static: dict) -> dict:
    """The XLA-compiled forward, residuals and backward of ``kernel`` for these static arguments."""
    key = (kernel, items_key(sorted(static.items())))
    if key not in _COMPILED:
        jit = dict(jit_compile=True, autograph=False, reduce_retracing=True)
        _COMPILED[key] = {
            name: tf.function(functools.partial(body, kernel, static), **jit)
            for name, body in _PASSES.items()
        }
    return _COMPILED[key]


def _by_size(compiled: Callable, plain: Callable, like: tf.Tensor, *args):
    """``compiled(*args)`` for a tensor ``like`` of at least ``_XLA_MIN_ELEMENTS``, else ``plain``.

    Decided when the graph is traced if the shape is known there, else when it
    runs (a ``tf.cond``: a Keras ``fit`` or a SavedModel signature sees
    ``(None, ...)``), so that one batch gives the same result whichever way
    the graph was traced.
    """
    size = like.shape.num_elements()
    if size is not None:
        return (compiled if size >= _XLA_MIN_ELEMENTS else plain)(*args)
    return tf.cond(
        tf.size(like) >= _XLA_MIN_ELEMENTS, lambda: compiled(*args), lambda: plain(*args)
    )


def _skip_first(body: Callable, like: tf.Tensor, *args):
    del like  # what _by_size would decide by
    return body(*args)


def apply(kernel: Kernel, x: tf.Tensor, params: tuple = (), **static) -> tf.Tensor:
    """Runs ``kernel`` on ``x`` with hand-written gradients.

    ``x`` is a floating-point tensor; ``params`` are floating-point tensors
    broadcastable to ``x`` that receive gradients (trainable parameters);
    ``static`` holds Python values fixed at trace time, or tensors that get
    no gradient (such as RReLU's random slopes).
    """
    tensors = {k: v for k, v in static.items() if tf.is_tensor(v)}
    static = {k: v for k, v in static.items() if k not in tensors}
    plain = {name: functools.partial(body, kernel, static) for name, body in _PASSES.items()}
    if tf.executing_eagerly() or not _xla_enabled():
        run = {name: functools.partial(_skip_first, body) for name, body in plain.items()}
    else:
        compiled = _compiled(kernel, static)
        run = {name: functools.partial(_by_size, compiled[name], plain[name]) for name in plain}

    @tf.custom_gradient
    def op(x, *params):
        y, extra = run["forward"](x, x, params, tensors)
        # The caller's tensor and the returned one, not copies.
        saved = (x,) if kernel.saves_input else ()
        saved += (y,) if _shares_output(kernel, x.dtype) else extra
        if kernel.residuals is not None:
            saved += run["residuals"](x, x, params, tensors)

        def grad(dy):
            grads = run["backward"](dy, dy, saved, params, tensors)
            return grads[0] if not params else list(grads)

        return y, grad

    return op(x, *params)
