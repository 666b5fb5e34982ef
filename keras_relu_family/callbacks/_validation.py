"""Argument checks for ``GradientMonitor`` ("... Received: name=value")."""

from __future__ import annotations

import math
import numbers
import os

import keras


def check_backend() -> None:
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax", "torch"):
        raise RuntimeError(
            "GradientMonitor captures gradients inside the train steps of Keras's "
            "TensorFlow, JAX and PyTorch backends. Received: "
            f"keras.backend.backend()={backend!r}"
        )


def check_log_dir(log_dir) -> str:
    if (
        isinstance(log_dir, bytes)
        or not isinstance(log_dir, (str, os.PathLike))
        or not str(log_dir)
    ):
        raise TypeError(f"`log_dir` must be a non-empty path. Received: log_dir={log_dir!r}")
    return os.fspath(log_dir)


def check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_threshold(name: str, value):
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"`{name}` must be None or a finite number >= 0. Received: {name}={value!r}"
        )
    return float(value)


def check_thresholds(vanishing, exploding):
    vanishing = check_threshold("vanishing_threshold", vanishing)
    exploding = check_threshold("exploding_threshold", exploding)
    if vanishing is not None and exploding is not None and vanishing >= exploding:
        raise ValueError(
            "`vanishing_threshold` must be below `exploding_threshold`. Received: "
            f"vanishing_threshold={vanishing!r}, exploding_threshold={exploding!r}"
        )
    return vanishing, exploding


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def _is_real(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)


def check_ratio(value):
    """``vanishing_ratio``: None or a number strictly between 0 and 1."""
    if value is None:
        return None
    if not _is_real(value) or not 0 < value < 1:
        raise ValueError(
            "`vanishing_ratio` must be None or a number between 0 and 1 (exclusive). "
            f"Received: vanishing_ratio={value!r}"
        )
    return float(value)


def check_factor(value):
    """``exploding_factor``: None or a finite number above 1."""
    if value is None:
        return None
    if not _is_real(value) or value <= 1:
        raise ValueError(
            f"`exploding_factor` must be None or a finite number > 1. "
            f"Received: exploding_factor={value!r}"
        )
    return float(value)


def check_verbose(value) -> int:
    if isinstance(value, bool) or value not in (0, 1):
        raise ValueError(f"`verbose` must be 0 or 1. Received: verbose={value!r}")
    return int(value)
