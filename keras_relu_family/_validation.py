"""Argument checks shared by the functions and the layers.

Every message names the argument and ends with ``Received: name=value``, the
way Keras's own layers word theirs. Nothing is clamped or coerced silently.
"""

from __future__ import annotations

import math
import numbers

import tensorflow as tf

FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def number(name: str, value, *, minimum: float | None = None, strict: bool = False):
    """Returns ``value`` as a Python float after checking it is a finite real number.

    ``minimum`` is an inclusive lower bound, exclusive when ``strict``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}")
    if minimum is not None:
        if strict and value <= minimum:
            raise ValueError(f"`{name}` must be > {minimum}. Received: {name}={value!r}")
        if not strict and value < minimum:
            raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value!r}")
    return value


def ordered(lower_name: str, lower: float, upper_name: str, upper: float) -> None:
    if lower > upper:
        raise ValueError(
            f"`{lower_name}` must be <= `{upper_name}`. "
            f"Received: {lower_name}={lower!r}, {upper_name}={upper!r}"
        )


def boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def float_tensor(x, *, caller: str) -> tf.Tensor:
    """Converts ``x`` to a floating-point tensor, refusing integer, bool and complex input.

    Python numbers and lists become ``float32`` (Keras's ``floatx``); an
    integer tensor or array is refused rather than cast, so that a model never
    computes in a dtype the user did not choose.
    """
    if isinstance(x, (tf.Tensor, tf.Variable)) or hasattr(x, "dtype"):
        dtype = tf.as_dtype(x.dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{caller} expects a floating-point input (float16, bfloat16, float32 "
                f"or float64). Received: x with dtype={dtype.name}. Cast it first, "
                f"for example with tf.cast(x, 'float32')."
            )
        return tf.convert_to_tensor(x, dtype=dtype)
    try:
        tensor = tf.convert_to_tensor(x, dtype_hint=tf.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{caller} could not convert its input to a tensor. Received: x={x!r}"
        ) from error
    return float_tensor(tensor, caller=caller)
