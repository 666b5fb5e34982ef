"""Checks of the fixed arguments, shared by the functions and the layers.

A wrong value (including ``None``, a string, a bool, NaN or one out of
range) raises ``ValueError``, as Keras's own layers do, with a message that
names the argument and ends ``Received: name=value``. Nothing is clamped or
coerced silently. (A tensor of the wrong dtype is a ``TypeError``: see
``float_tensor`` in the backend.)
"""

from __future__ import annotations

import math
import numbers


def number(name: str, value, *, minimum: float | None = None, strict: bool = False) -> float:
    """``value`` as a Python float after checking it is a finite real number.

    ``minimum`` is an inclusive lower bound, exclusive when ``strict``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a real number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise ValueError(f"`{name}` must be {bound}. Received: {name}={value!r}")
    return value


def real(name: str, value) -> float:
    """Any finite real number."""
    return number(name, value)


def non_negative(name: str, value) -> float:
    return number(name, value, minimum=0.0)


def positive(name: str, value) -> float:
    return number(name, value, minimum=0.0, strict=True)


def optional_non_negative(name: str, value) -> float | None:
    """``None``, or a finite number ``>= 0``."""
    return None if value is None else non_negative(name, value)


def boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def ordered(lower_name: str, upper_name: str):
    """A check of two already-checked arguments: ``lower <= upper``."""

    def check(arguments: dict) -> None:
        lower, upper = arguments[lower_name], arguments[upper_name]
        if lower > upper:
            raise ValueError(
                f"`{lower_name}` must be <= `{upper_name}`. "
                f"Received: {lower_name}={lower!r}, {upper_name}={upper!r}"
            )

    return check
