"""Hard swish, the piecewise-polynomial swish of MobileNetV3."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark


def _forward(x):
    # x * relu6(x + 3) / 6, dividing first so that x * 6 cannot overflow.
    return x * (xp.relu6(x + 3.0) / 6.0)


def _backward(dy, x):
    # 0 below -3, (2x + 3) / 6 on [-3, 3), 1 from 3 on; NaN stays NaN in the middle branch.
    middle = xp.where(x < -3.0, 0.0, (2.0 * x + 3.0) / 6.0)
    return (dy * xp.where(x >= 3.0, 1.0, middle),)


def _eager_forward(x):
    return xp.hardswish(x, _forward)  # (y, whether x holds neither NaN nor -3)


def _eager_backward(dy, x, *, memo):
    return (xp.hardswish_grad(dy, x, memo),)


# Eagerly on PyTorch: its fused ops, where they give these values (torch_ops).
HARD_SWISH = Kernel(
    _forward,
    _backward,
    saves_input=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_input=True, memo=True),
)


@activation()
def hard_swish(x):
    """Hard swish, the piecewise-polynomial swish of MobileNetV3.

    Formula:
    ```
    hard_swish(x) = x * relu6(x + 3) / 6
    hard_swish'(x) = 0 if x < -3; (2x + 3) / 6 if -3 <= x < 3; 1 if x >= 3
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.hard_swish([-4.0, 0.0, 1.0, 4.0])).round(4)
    array([-0.    ,  0.    ,  0.6667,  4.    ], dtype=float32)

    Reference:
        - [Howard et al., 2019](https://arxiv.org/abs/1905.02244)
    """
    return apply(HARD_SWISH, x)


class HardSwish(ActivationLayer):
    """Hard swish layer.

    Formula:
    ```
    hard_swish(x) = x * relu6(x + 3) / 6
    hard_swish'(x) = 0 if x < -3; (2x + 3) / 6 if -3 <= x < 3; 1 if x >= 3
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.HardSwish()(np.array([[-4.0, 0.0, 1.0, 4.0]]))).round(4)
    array([[-0.    ,  0.    ,  0.6667,  4.    ]], dtype=float32)

    Reference:
        - [Howard et al., 2019](https://arxiv.org/abs/1905.02244)
    """

    function = staticmethod(hard_swish)


def numpy_hard_swish(x):
    x = np.asarray(x, np.float64)
    return x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0)


def numpy_hard_swish_grad(x):
    x = np.asarray(x, np.float64)
    out = np.where(x < -3.0, 0.0, np.where(x < 3.0, (2.0 * x + 3.0) / 6.0, 1.0))
    return np.where(np.isnan(x), np.nan, out)


SPECS = (
    ActivationSpec(
        function=hard_swish,
        layer=HardSwish,
        numpy_forward=numpy_hard_swish,
        numpy_derivative=numpy_hard_swish_grad,
        torch_builtin=lambda F, x: F.hardswish(x),
        builtin=keras.activations.hard_swish,
        autodiff=lambda x: x * xp.relu6(x + 3.0) / 6.0,
        kinks=lambda params: (-3.0, 3.0),
        benchmarks=(Benchmark(goals={}),),
    ),
)
