"""GELU: the input weighted by the standard normal's CDF (exact, or the tanh approximation)."""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, clip_keeping_nan
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715
# Past |x| = 100 the tanh-gelu gate is exactly 0 or 1 in every float dtype;
# clipping there keeps x**3 finite without changing any derivative.
_CLIP = 100.0


def _forward(x, *, approximate):
    if approximate:
        # 0.5 * (1 + tanh(u)) == sigmoid(2u), without the cancellation for x << 0.
        xc = clip_keeping_nan(x, -_CLIP, _CLIP)
        gate = xp.sigmoid(2.0 * _SQRT_2_OVER_PI * (xc + _CUBIC * xc * xc * xc))
        return x * gate
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt(2)) / 2, accurate in the lower tail too.
    # Written in exactly tf.nn.gelu's order, 0.5 * x * erfc(-x * sqrt(1/2)): the TFLite
    # converter fuses that pattern into its GELU op and has no Erfc op otherwise (not
    # even with SELECT_TF_OPS). Scaling by 0.5 is exact, so the values are unchanged.
    return 0.5 * x * xp.erfc(-x * _SQRT_HALF)


def _backward(dy, x, *, approximate):
    if approximate:
        xc = clip_keeping_nan(x, -_CLIP, _CLIP)
        x2 = xc * xc
        two_u = 2.0 * _SQRT_2_OVER_PI * (xc + _CUBIC * x2 * xc)
        gate = xp.sigmoid(two_u)
        slope = 2.0 * _SQRT_2_OVER_PI * (1.0 + 3.0 * _CUBIC * x2)
        derivative = gate + xc * slope * gate * xp.sigmoid(-two_u)
    else:
        # Phi(x) + x * phi(x); exp(-x*x/2) underflows to 0 before x*x overflows matters.
        derivative = 0.5 * xp.erfc(-_SQRT_HALF * x) + x * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x))
    return (dy * derivative,)


def _eager_forward(x, *, approximate):
    return _forward(x, approximate=True) if approximate else xp.gelu(x)


def _exact_grad(dy, x):
    return _backward(dy, x, approximate=False)[0]


def _eager_backward(dy, x, y, *, approximate):
    if approximate:
        return _backward(dy, x, approximate=True)
    return (xp.gelu_grad(dy, x, y, _exact_grad),)


GELU_KERNEL = Kernel(
    _forward,
    _backward,
    saves_input=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_input=True, saves_output=True),
)


@activation(approximate=check.boolean)
def gelu(x, approximate=False):
    """Gaussian error linear unit.

    Formula:
    ```
    gelu(x) = x * Phi(x),  Phi(x) = erfc(-x / sqrt(2)) / 2
    gelu'(x) = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi)
    approximate: x * sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3)
                 (the same as 0.5 x (1 + tanh(u)), without its cancellation)
    ```

    Args:
        x: Floating-point input tensor.
        approximate: Use the tanh approximation. Defaults to `False`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.gelu([-1.0, 0.0, 1.0])).round(4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)

    Reference:
        - [Hendrycks & Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """
    return apply(GELU_KERNEL, x, approximate=approximate)


class GELU(ActivationLayer):
    """Gaussian error linear unit layer.

    Formula:
    ```
    gelu(x) = x * Phi(x),  Phi(x) = erfc(-x / sqrt(2)) / 2
    gelu'(x) = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi)
    approximate: x * sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3)
                 (the same as 0.5 x (1 + tanh(u)), without its cancellation)
    ```

    Args:
        approximate: Use the tanh approximation. Defaults to `False`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.GELU()(np.array([[-1.0, 0.0, 1.0]]))).round(4)
    array([[-0.1587,  0.    ,  0.8413]], dtype=float32)

    Reference:
        - [Hendrycks & Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """

    function = staticmethod(gelu)

    def __init__(self, approximate=False, **kwargs):
        super().__init__(approximate=approximate, **kwargs)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _tanh_gate(x):
    """0.5 * (1 + tanh(u)) written as sigmoid(2u), which has no cancellation for x << 0."""
    with np.errstate(over="ignore"):
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return _sigmoid(2.0 * u), u


def _sigmoid(z):
    """1 / (1 + exp(-z)) without overflow on either side."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def numpy_gelu(x, approximate=False):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        if approximate:
            return x * _tanh_gate(x)[0]
        return x * 0.5 * _erfc(-x / math.sqrt(2.0))


def numpy_gelu_grad(x, approximate=False):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        if approximate:
            gate, u = _tanh_gate(x)
            du = math.sqrt(2.0 / math.pi) * (1.0 + 3.0 * 0.044715 * x**2)
            # d/dx [x * sigmoid(2u)] = s + x * 2 u' * s * (1 - s)
            tail = x * 2.0 * du * gate * _sigmoid(-2.0 * u)
            return gate + np.where(np.isfinite(tail), tail, 0.0) + 0.0 * x
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return 0.5 * _erfc(-x / math.sqrt(2.0)) + np.where(np.abs(x) < 1e150, x * pdf, 0.0)


def _autodiff(x, approximate=False):
    # The accurate forms (the textbook 1 + erf and 1 + tanh cancel for x << 0).
    if approximate:
        return x * xp.sigmoid(2.0 * (math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))
    return x * 0.5 * xp.erfc(-x / math.sqrt(2.0))


SPECS = (
    ActivationSpec(
        function=gelu,
        layer=GELU,
        numpy_forward=numpy_gelu,
        numpy_derivative=numpy_gelu_grad,
        torch_builtin=lambda F, x, approximate=False: F.gelu(
            x, approximate="tanh" if approximate else "none"
        ),
        builtin=lambda x, approximate=False: keras.activations.gelu(x, approximate),
        autodiff=_autodiff,
        param_sets=({}, {"approximate": True}),
        layer_kwargs={"approximate": True},
        benchmarks=(Benchmark(goals={"tf.function": "<1", "xla": 1.05}),),
    ),
)
