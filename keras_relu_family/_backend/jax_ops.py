"""The JAX side of the kernels' vocabulary (``xp``), and the input conversions.

The same names as ``tensorflow_ops``, on ``jax.numpy`` and ``jax.nn``. JAX's
own ``where``, ``minimum`` and ``maximum`` already let a Python number take
the other operand's dtype (weak typing) and propagate NaN.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
from jax.scipy import special

FLOAT_DTYPES = (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64)
HALF_DTYPES = (jnp.float16, jnp.bfloat16)
int8 = jnp.int8
float32 = jnp.float32
float64 = jnp.float64

abs = jnp.abs
exp = jnp.exp
expm1 = jnp.expm1
tanh = jnp.tanh
sqrt = jnp.sqrt
sigmoid = jax.nn.sigmoid
erfc = special.erfc
isnan = jnp.isnan
minimum = jnp.minimum
maximum = jnp.maximum
where = jnp.where
relu = jax.nn.relu
relu6 = jax.nn.relu6
softplus = jax.nn.softplus


def cast(x, dtype):
    """``x`` in ``dtype``; a Python number directly."""
    return jnp.asarray(x, dtype)


def constant(value, like):
    """A scalar ``value`` in ``like``'s dtype."""
    return jnp.asarray(value, like.dtype)


def dtype_name(x) -> str:
    return jnp.dtype(x.dtype).name


def leaky_relu(x, slope: float):
    """``x`` where ``x >= 0``, else ``slope * x``."""
    return jnp.where(x >= 0, x, slope * x)


def softplus_grad(dy, z):
    """``dy * sigmoid(z)``."""
    return dy * jax.nn.sigmoid(z)


# -- what the public functions do before calling a kernel -------------------------------


def is_tensor(value) -> bool:
    """An array or variable (not a Python number)."""
    return isinstance(value, (jax.Array, np.ndarray, keras.Variable)) or (
        hasattr(value, "dtype") and hasattr(value, "shape")
    )


def _dtype(value):
    return jnp.dtype(keras.backend.standardize_dtype(value.dtype))


def float_tensor(x, *, caller: str):
    """``x`` as a floating-point array, refusing integer, bool and complex input.

    Python numbers and lists become ``float32`` (Keras's ``floatx``); an
    integer array is refused rather than cast.
    """
    if is_tensor(x):
        dtype = _dtype(x)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{caller} expects a floating-point input (float16, bfloat16, float32 "
                f"or float64). Received: x with dtype={dtype.name}. Cast it first, "
                f"for example with keras.ops.cast(x, 'float32')."
            )
        return jnp.asarray(x)
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{caller} could not convert its input to a tensor. Received: x={x!r}"
        ) from error
    if array.dtype.kind in "fiu":  # Python numbers and lists: float32, as in Keras
        return jnp.asarray(array, jnp.float32)
    if array.dtype.kind == "b":
        return float_tensor(array, caller=caller)  # refused, naming the dtype
    raise TypeError(f"{caller} could not convert its input to a tensor. Received: x={x!r}")


def param_tensor(name: str, value, x, caller: str):
    """A parameter that receives a gradient, as an array; refuses integer and bool values.

    A Python number takes the precision the kernel computes in (float64 for
    float64 input, float32 for the others); an array keeps its dtype.
    """
    if is_tensor(value):
        dtype = _dtype(value)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{caller}: `{name}` must be floating-point. "
                f"Received: {name} with dtype={dtype.name}"
            )
        return jnp.asarray(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    return jnp.asarray(array, jnp.float64 if x.dtype == jnp.float64 else jnp.float32)


def uniform_like(x, lower: float, upper: float, seed):
    """Noise ``U(lower, upper)`` of ``x``'s shape (float32 for half ``x``).

    ``seed``: an int (the same noise for the same shape every call), a
    ``keras.random.SeedGenerator``, or ``None`` (Keras's global generator:
    eager calls only, as JAX traces random draws only from a given seed).
    """
    dtype = jnp.float32 if x.dtype in HALF_DTYPES else x.dtype
    return keras.random.uniform(x.shape, lower, upper, dtype=dtype, seed=seed)


def cond(flag, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` by a boolean array, inside ``jax.jit`` too."""
    return jax.lax.cond(jnp.asarray(flag, bool), true_fn, false_fn)
