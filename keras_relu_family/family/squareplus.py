"""Squareplus: a softplus-like rectifier from one square root (Barron, 2021)."""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark
from keras_relu_family.family.relu import RELU


def _half_root(x, c):
    """``sqrt(x^2 + c^2) / 2`` without overflow: ``big * sqrt(1 + (small / big)^2) / 2``."""
    ax = xp.abs(x)
    larger = ax > c  # false for NaN: then small is NaN, and so is the result
    big = xp.where(larger, ax, c)
    small = xp.where(larger, c, ax)
    ratio = small / big
    return (0.5 * big) * xp.sqrt(1.0 + ratio * ratio)


def _forward(x, *, b):
    # (x + r) / 2 with r = sqrt(x^2 + b); for x < 0 as (b / 4) / ((r - x) / 2), the same
    # number without the cancellation, and every term halved so that nothing overflows.
    half_r = _half_root(x, math.sqrt(b))
    return xp.where(x >= 0, 0.5 * x + half_r, (0.25 * b) / (half_r - 0.5 * x))


def _backward(dy, y, *, b):
    # squareplus'(x) = (1 + x / r) / 2 = y / r, and r = y + b / (4y): so
    # 1 / (1 + (sqrt(b) / 2 / y)^2), from y alone, with no cancellation anywhere.
    q = (0.5 * math.sqrt(b)) / y
    return (dy / (1.0 + q * q),)


def _eager_forward(x, *, b):
    return xp.squareplus(x, b)


def _eager_backward(dy, y, *, b):
    return (xp.squareplus_grad(dy, y, b),)


# Eagerly on PyTorch, the same values in two allocations instead of a dozen.
SQUAREPLUS = Kernel(
    _forward,
    _backward,
    saves_output=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_output=True),
)


@activation(b=check.non_negative)
def squareplus(x, b=4.0):
    """Squareplus: ``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU from one square root.

    Formula:
    ```
    squareplus(x) = (x + sqrt(x^2 + b)) / 2
    squareplus'(x) = (1 + x / sqrt(x^2 + b)) / 2
    ```

    Finite and accurate up to each dtype's largest value: the square root is
    taken without squaring ``x`` (which would overflow), and for ``x < 0`` the
    value is computed as ``b / (2 (sqrt(x^2 + b) - x))``, which does not cancel.
    With ``b = 0`` it is ``relu``.

    Args:
        x: Floating-point input tensor.
        b: Smoothness, a finite number ``>= 0``. Defaults to `4.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.squareplus([-3.0, 0.0, 3.0])).round(4)
    array([0.3028, 1.    , 3.3028], dtype=float32)

    Reference:
        - [Barron, 2021](https://arxiv.org/abs/2112.11687)
    """
    if b == 0.0:
        return apply(RELU, x)
    return apply(SQUAREPLUS, x, b=b)


class Squareplus(ActivationLayer):
    """Squareplus layer.

    Formula:
    ```
    squareplus(x) = (x + sqrt(x^2 + b)) / 2
    squareplus'(x) = (1 + x / sqrt(x^2 + b)) / 2
    ```

    Args:
        b: Smoothness, a finite number ``>= 0``. Defaults to `4.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.Squareplus()(np.array([[-3.0, 0.0, 3.0]]))).round(4)
    array([[0.3028, 1.    , 3.3028]], dtype=float32)

    Reference:
        - [Barron, 2021](https://arxiv.org/abs/2112.11687)
    """

    function = staticmethod(squareplus)

    def __init__(self, b=4.0, **kwargs):
        super().__init__(b=b, **kwargs)


def _root(x, b):
    return np.hypot(x, math.sqrt(b))


def numpy_squareplus(x, b=4.0):
    x = np.asarray(x, np.float64)
    r = _root(x, b)
    return np.where(x >= 0, x / 2 + r / 2, (b / 4) / (r / 2 - x / 2))


def numpy_squareplus_grad(x, b=4.0):
    x = np.asarray(x, np.float64)
    if b == 0.0:
        return np.where(np.isnan(x), np.nan, np.where(x >= 0, 1.0, 0.0))
    return numpy_squareplus(x, b) / _root(x, b)


SPECS = (
    ActivationSpec(
        function=squareplus,
        layer=Squareplus,
        numpy_forward=numpy_squareplus,
        numpy_derivative=numpy_squareplus_grad,
        builtin=lambda x, b=4.0: keras.activations.squareplus(x, b),
        autodiff=lambda x, b=4.0: (x + xp.sqrt(x * x + b)) / 2.0,
        kinks=lambda params: (0.0,) if params.get("b", 4.0) == 0.0 else (),
        param_sets=({}, {"b": 1.0}, {"b": 0.25}, {"b": 0.0}),
        layer_kwargs={"b": 1.0},
        benchmarks=(Benchmark(goals={"tf.function": 1.05, "xla": 1.05}),),
    ),
)
