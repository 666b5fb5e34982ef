"""Hard tanh: the input clipped to an interval; its clip kernel also serves relu6."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, branch, clip_keeping_nan, from_branch
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark


def _forward(x, *, low, high):
    return clip_keeping_nan(x, low, high)


def _branch(x, *, low, high):
    # The slope-1 branch is [low, high): the right-hand derivative at both ends.
    return (branch(x, (x >= low) & (x < high)),)


def _backward(dy, code, *, low, high):
    return (from_branch(code, dy),)


def _eager_forward(x, *, low, high):
    return xp.clip(x, low, high)


def _eager_backward(dy, x, *, low, high):
    return (xp.interval_grad(dy, x, low, high),)


CLIP = Kernel(
    _forward,
    _backward,
    exact_in_half=True,
    residuals=_branch,
    eager=Kernel(_eager_forward, _eager_backward, exact_in_half=True, saves_input=True),
)


@activation(check.ordered("min_val", "max_val"), min_val=check.real, max_val=check.real)
def hard_tanh(x, min_val=-1.0, max_val=1.0):
    """Hard tanh: the input clipped to ``[min_val, max_val]``.

    Formula:
    ```
    hard_tanh(x) = min_val if x < min_val; x if min_val <= x <= max_val; max_val if x > max_val
    hard_tanh'(x) = 1 if min_val <= x < max_val else 0   (right-hand derivative at both kinks)
    ```

    Args:
        x: Floating-point input tensor.
        min_val: Lower end, a finite number. Defaults to `-1.0`.
        max_val: Upper end, a finite number ``>= min_val``. Defaults to `1.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.hard_tanh([-3.0, 0.5, 3.0]))
    array([-1. ,  0.5,  1. ], dtype=float32)

    Reference:
        - [Collobert, 2004](https://ronan.collobert.com/pub/matos/2004_phdthesis_lip6.pdf)
    """
    return apply(CLIP, x, low=min_val, high=max_val)


class HardTanh(ActivationLayer):
    """Hard tanh layer, as PyTorch's ``Hardtanh``.

    Formula:
    ```
    hard_tanh(x) = min_val if x < min_val; x if min_val <= x <= max_val; max_val if x > max_val
    hard_tanh'(x) = 1 if min_val <= x < max_val else 0   (right-hand derivative at both kinks)
    ```

    Args:
        min_val: Lower end, a finite number. Defaults to `-1.0`.
        max_val: Upper end, a finite number ``>= min_val``. Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.HardTanh(min_val=0.0, max_val=2.0)(np.array([[-3.0, 0.5, 3.0]])))
    array([[0. , 0.5, 2. ]], dtype=float32)

    Reference:
        - [Collobert, 2004](https://ronan.collobert.com/pub/matos/2004_phdthesis_lip6.pdf)
    """

    function = staticmethod(hard_tanh)

    def __init__(self, min_val=-1.0, max_val=1.0, **kwargs):
        super().__init__(min_val=min_val, max_val=max_val, **kwargs)


def numpy_hard_tanh(x, min_val=-1.0, max_val=1.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.clip(x, min_val, max_val))


def numpy_hard_tanh_grad(x, min_val=-1.0, max_val=1.0):
    x = np.asarray(x, np.float64)
    inside = (x >= min_val) & (x < max_val)
    return np.where(np.isnan(x), np.nan, np.where(inside, 1.0, 0.0))


def _builtin(x, min_val=-1.0, max_val=1.0):
    if (min_val, max_val) == (-1.0, 1.0):
        return keras.activations.hard_tanh(x)
    return keras.ops.clip(x, min_val, max_val)


SPECS = (
    ActivationSpec(
        function=hard_tanh,
        layer=HardTanh,
        numpy_forward=numpy_hard_tanh,
        numpy_derivative=numpy_hard_tanh_grad,
        torch_builtin=lambda F, x, min_val=-1.0, max_val=1.0: F.hardtanh(x, min_val, max_val),
        builtin=_builtin,
        autodiff=lambda x, min_val=-1.0, max_val=1.0: xp.minimum(xp.maximum(x, min_val), max_val),
        kinks=lambda params: (params.get("min_val", -1.0), params.get("max_val", 1.0)),
        param_sets=({}, {"min_val": 0.0, "max_val": 6.0}, {"min_val": -2.5, "max_val": 0.5}),
        layer_kwargs={"min_val": -2.0, "max_val": 0.5},
        dead_rule=lambda params: ("input", params.get("min_val", -1.0)),
        benchmarks=(Benchmark(goals={"tf.function": 1.05, "xla": 1.05}),),
    ),
)
