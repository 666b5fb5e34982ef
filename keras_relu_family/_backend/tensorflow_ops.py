"""The TensorFlow side of the kernels' vocabulary (``xp``), and the input conversions.

The kernels call only what this module defines. Most entries are TensorFlow's
own functions; the few written out here differ from them in one way each,
said in their docstrings. A Python number may stand for a tensor wherever it
is combined with one; it takes that tensor's dtype.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)
HALF_DTYPES = (tf.float16, tf.bfloat16)
int8 = tf.int8
float32 = tf.float32
float64 = tf.float64

abs = tf.abs
exp = tf.exp
tanh = tf.tanh
sqrt = tf.sqrt
sigmoid = tf.sigmoid
erfc = tf.math.erfc
expm1 = tf.math.expm1
isnan = tf.math.is_nan
minimum = tf.minimum
maximum = tf.maximum
relu = tf.nn.relu
relu6 = tf.nn.relu6
softplus = tf.nn.softplus


def _scalar(value, dtype):
    """``tf.constant(value, dtype)``, past TensorFlow's cache of eager scalars, which is
    keyed on the value: after ``0.0``, ``tf.constant(-0.0, tf.float32)`` came back as
    ``0.0`` (a NumPy scalar is not cached)."""
    if isinstance(value, float) and value == 0.0:
        return tf.constant(np.array(value, tf.as_dtype(dtype).as_numpy_dtype))
    return tf.constant(value, dtype)


def where(condition, a, b):
    """``a`` where ``condition``, else ``b``; a Python number takes the other operand's dtype."""
    if not tf.is_tensor(a):
        a = _scalar(a, b.dtype)
    elif not tf.is_tensor(b):
        b = _scalar(b, a.dtype)
    return tf.where(condition, a, b)


def cast(x, dtype):
    """``x`` in ``dtype``; a Python number directly, not through float32."""
    return tf.cast(x, dtype) if tf.is_tensor(x) else _scalar(x, dtype)


def constant(value, like):
    """A scalar ``value`` in ``like``'s dtype."""
    return _scalar(value, like.dtype)


def dtype_name(x) -> str:
    return x.dtype.name


def leaky_relu(x, slope: float):
    """``x`` where ``x >= 0``, else ``slope * x``.

    TensorFlow's fused kernel where it is exact: it stores ``slope`` as a
    float32, so only for float32 input, and it computes ``max(x, slope * x)``,
    so only for ``0 <= slope <= 1``.
    """
    if x.dtype == tf.float32 and 0.0 <= slope <= 1.0:
        return tf.nn.leaky_relu(x, alpha=slope)
    return tf.where(x >= 0, x, slope * x)


def softplus_grad(dy, z):
    """``dy * sigmoid(z)``, TensorFlow's fused ``SoftplusGrad``."""
    return tf.raw_ops.SoftplusGrad(gradients=dy, features=z)


# -- what the public functions do before calling a kernel -------------------------------


def is_tensor(value) -> bool:
    """A tensor, variable or array (not a Python number)."""
    return tf.is_tensor(value) or isinstance(value, tf.Variable) or hasattr(value, "dtype")


def float_tensor(x, *, caller: str) -> tf.Tensor:
    """``x`` as a floating-point tensor, refusing integer, bool and complex input.

    Python numbers and lists become ``float32`` (Keras's ``floatx``); an
    integer tensor or array is refused rather than cast, so that a model never
    computes in a dtype the user did not choose.
    """
    if is_tensor(x):
        dtype = tf.as_dtype(x.dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{caller} expects a floating-point input (float16, bfloat16, float32 "
                f"or float64). Received: x with dtype={dtype.name}. Cast it first, "
                f"for example with keras.ops.cast(x, 'float32')."
            )
        return tf.convert_to_tensor(x, dtype=dtype)
    try:
        tensor = tf.convert_to_tensor(x, dtype_hint=tf.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{caller} could not convert its input to a tensor. Received: x={x!r}"
        ) from error
    return float_tensor(tensor, caller=caller)


def param_tensor(name: str, value, x: tf.Tensor, caller: str) -> tf.Tensor:
    """A parameter that receives a gradient, as a tensor; refuses integer and bool values.

    A Python number takes the precision the kernel computes in (float64 for
    float64 input, float32 for the others); a tensor or array keeps its dtype.
    """
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        dtype = tf.as_dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{caller}: `{name}` must be floating-point. "
                f"Received: {name} with dtype={dtype.name}"
            )
        return tf.convert_to_tensor(value, dtype=dtype)
    if isinstance(value, bool):
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    hint = tf.float64 if x.dtype == tf.float64 else tf.float32
    tensor = tf.convert_to_tensor(value, dtype_hint=hint)
    if tensor.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    return tensor


def uniform_like(x, lower: float, upper: float, seed):
    """Noise ``U(lower, upper)`` of ``x``'s shape (float32 for half ``x``).

    ``seed``: ``None`` (fresh noise each call), an int (the same noise for the
    same shape every call) or a ``keras.random.SeedGenerator``.
    """
    dtype = tf.float32 if x.dtype in HALF_DTYPES else x.dtype
    shape = tf.shape(x)
    if seed is None:
        return tf.random.uniform(shape, lower, upper, dtype=dtype)
    if isinstance(seed, keras.random.SeedGenerator):
        return keras.random.uniform(shape, lower, upper, dtype=dtype, seed=seed)
    return tf.random.stateless_uniform(
        shape, seed=[seed, 0], minval=lower, maxval=upper, dtype=dtype
    )


def cond(flag, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` by a boolean tensor, inside a graph too."""
    return tf.cond(tf.cast(flag, tf.bool), true_fn, false_fn)
