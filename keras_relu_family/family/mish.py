"""Mish: a self-regularized non-monotonic gate, ``x * tanh(softplus(x))``."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark
from keras_relu_family.family.swish import fused_range

# Past x = 40, mish(x) = x and mish'(x) = 1 in every float dtype, and below
# it e^(2x) = 5.5e34 still fits in float32.
_CLIP = 40.0


def _parts(x):
    """``(u, u + 2)`` with ``u = e^(2 softplus(x')) - 1``, ``x' = min(x, 40)``.

    ``tanh(softplus(x)) = u / (u + 2)``, and ``u = e (e + 2)`` with
    ``e = exp(x')`` has no cancellation for x << 0, where ``(1 + e)^2 - 1``
    would.
    """
    e = xp.exp(xp.minimum(x, _CLIP))
    u = e * (e + 2.0)
    return u, u + 2.0


def _forward(x):
    u, d = _parts(x)
    return x * (u / d)


def _backward(dy, x):
    # mish'(x) = tanh(sp) + x * sigmoid(x) * sech(sp)^2 with sp = softplus(x).
    # With r = exp(-|x|) (never overflows) and, for x >= 0, everything
    # multiplied through by r^2: mish'(x) = a / d + n / d^2, where
    #   x >= 0: a = 1 + 2r,     d = a + 2r^2, n = 4 x r^2 (1 + r)
    #   x <  0: a = r (r + 2),  d = a + 2,    n = 4 x r (1 + r)
    # d is in [1, 5], so nothing overflows, and x * r comes first so that 4x
    # cannot overflow where r = 0. The forward pass uses exp(min(x, 40)): a
    # different exponential, so that XLA does not share one tensor between
    # the passes and keep it alive in between (as autodiff would).
    r = xp.exp(-xp.abs(x))
    r2 = r * r
    positive = x >= 0
    a = xp.where(positive, 1.0 + 2.0 * r, r2 + 2.0 * r)
    d = a + xp.where(positive, 2.0 * r2, 2.0)
    n = 4.0 * (x * xp.where(positive, r2, r)) * (1.0 + r)
    return (dy * (a / d + n / (d * d)),)


def _eager_forward(x):
    return xp.mish(x)


def _eager_backward(dy, x):
    if xp.within(x, fused_range(x)):
        return (xp.mish_grad(dy, x),)
    return _backward(dy, x)


# Eagerly on PyTorch, PyTorch's fused ops where they are as exact (see swish).
MISH = Kernel(
    _forward,
    _backward,
    saves_input=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_input=True),
)


@activation()
def mish(x):
    """Mish: a self-regularized non-monotonic gate.

    Formula:
    ```
    mish(x) = x * tanh(softplus(x))
    mish'(x) = tanh(sp) + x * sigmoid(x) * sech(sp)^2,  sp = softplus(x)
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.mish([-1.0, 0.0, 1.0])).round(4)
    array([-0.3034,  0.    ,  0.8651], dtype=float32)

    Reference:
        - [Misra, 2019](https://arxiv.org/abs/1908.08681)
    """
    return apply(MISH, x)


class Mish(ActivationLayer):
    """Mish layer.

    Formula:
    ```
    mish(x) = x * tanh(softplus(x))
    mish'(x) = tanh(sp) + x * sigmoid(x) * sech(sp)^2,  sp = softplus(x)
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.Mish()(np.array([[-1.0, 0.0, 1.0]]))).round(4)
    array([[-0.3034,  0.    ,  0.8651]], dtype=float32)

    Reference:
        - [Misra, 2019](https://arxiv.org/abs/1908.08681)
    """

    function = staticmethod(mish)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def numpy_mish(x):
    x = np.asarray(x, np.float64)
    return x * np.tanh(np.logaddexp(0.0, x))


def numpy_mish_grad(x):
    x = np.asarray(x, np.float64)
    sp = np.logaddexp(0.0, x)
    with np.errstate(over="ignore", invalid="ignore"):
        sech2 = 1.0 / np.cosh(sp) ** 2
        return np.tanh(sp) + np.where(sech2 == 0.0, 0.0, x * _sigmoid(x) * sech2)


SPECS = (
    ActivationSpec(
        function=mish,
        layer=Mish,
        numpy_forward=numpy_mish,
        numpy_derivative=numpy_mish_grad,
        torch_builtin=lambda F, x: F.mish(x),
        builtin=keras.activations.mish,
        autodiff=lambda x: x * xp.tanh(xp.softplus(x)),
        benchmarks=(Benchmark(goals={"tf.function": "<1", "xla": 1.05}),),
    ),
)
