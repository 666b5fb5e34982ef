"""A throwaway activation: what a new module looks like, for the test that one module is enough.

``tests/test_family_new_module.py`` copies the package, writes this file into
its ``family/`` and nothing else, and checks that the function, the layer,
the string, ``.keras`` files and the generated tests all pick it up.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, nan_where_nan
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, kink_at_zero


def _forward(x, *, scale):
    return xp.where(x >= 0, scale * x, 0.0 * x)


def _backward(dy, x, *, scale):
    return (xp.where(x >= 0, scale * dy, nan_where_nan(x, 0.0 * dy)),)


PROBE_RELU = Kernel(_forward, _backward, saves_input=True)


@activation(scale=check.positive)
def probe_relu(x, scale=2.0):
    """A scaled ReLU.

    Formula:
    ```
    probe_relu(x) = scale * x if x >= 0 else 0
    probe_relu'(x) = scale if x >= 0 else 0
    ```

    Args:
        x: Floating-point input tensor.
        scale: A finite number ``> 0``. Defaults to `2.0`.
    """
    return apply(PROBE_RELU, x, scale=scale)


class ProbeReLU(ActivationLayer):
    """A scaled ReLU layer.

    Formula:
    ```
    probe_relu(x) = scale * x if x >= 0 else 0
    probe_relu'(x) = scale if x >= 0 else 0
    ```

    Args:
        scale: A finite number ``> 0``. Defaults to `2.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.
    """

    function = staticmethod(probe_relu)

    def __init__(self, scale=2.0, **kwargs):
        super().__init__(scale=scale, **kwargs)


def numpy_probe_relu(x, scale=2.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x >= 0, scale * x, 0.0))


def numpy_probe_relu_grad(x, scale=2.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x >= 0, scale, 0.0))


SPECS = (
    ActivationSpec(
        function=probe_relu,
        layer=ProbeReLU,
        numpy_forward=numpy_probe_relu,
        numpy_derivative=numpy_probe_relu_grad,
        builtin=lambda x, scale=2.0: scale * keras.activations.relu(x),
        autodiff=lambda x, scale=2.0: scale * xp.relu(x),
        kinks=kink_at_zero,
        param_sets=({}, {"scale": 0.5}),
        layer_kwargs={"scale": 0.5},
        dead_rule=lambda params: ("output", 0.0),
    ),
)
