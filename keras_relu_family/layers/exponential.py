"""Layers for the exponential family."""

from __future__ import annotations

import keras

from keras_relu_family import activations
from keras_relu_family.layers._base import PACKAGE, ActivationLayer, defaults

_register = keras.saving.register_keras_serializable(package=PACKAGE)
_ELU = defaults(activations.elu)
_CELU = defaults(activations.celu)


@_register
class ELU(ActivationLayer):
    """Exponential linear unit layer.

    Formula:
    ```
    elu(x) = x if x >= 0 else alpha * (exp(x) - 1)
    elu'(x) = 1 if x >= 0 else alpha * exp(x) = elu(x) + alpha
    ```

    Args:
        alpha: Scale of the negative saturation, a finite number ``>= 0``.
            Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.ELU()(np.array([[-1.0, 0.0, 2.0]])).numpy().round(4)
    array([[-0.6321,  0.    ,  2.    ]], dtype=float32)

    Reference:
        - [Clevert et al., 2015](https://arxiv.org/abs/1511.07289)
    """

    activation_name = "elu"
    _config_keys = ("alpha",)

    def __init__(self, alpha=_ELU["alpha"], **kwargs):
        super().__init__(**kwargs)
        self.alpha = activations.check_args("elu", alpha=alpha)["alpha"]

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)


@_register
class SELU(ActivationLayer):
    """Scaled exponential linear unit layer.

    Formula:
    ```
    selu(x) = scale * (x if x >= 0 else alpha * (exp(x) - 1))
    selu'(x) = scale if x >= 0 else selu(x) + scale * alpha
    alpha = 1.6732632423543772, scale = 1.0507009873554805
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.SELU()(np.array([[-1.0, 0.0, 1.0]])).numpy().round(4)
    array([[-1.1113,  0.    ,  1.0507]], dtype=float32)

    Reference:
        - [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """

    activation_name = "selu"

    def call(self, inputs):
        return activations.selu(inputs)


@_register
class CELU(ActivationLayer):
    """Continuously differentiable exponential linear unit layer.

    Formula:
    ```
    celu(x) = x if x >= 0 else alpha * (exp(x / alpha) - 1)
    celu'(x) = 1 if x >= 0 else exp(x / alpha) = celu(x) / alpha + 1
    ```

    Args:
        alpha: A finite number ``> 0``. Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.CELU(alpha=2.0)(np.array([[-1.0, 0.0, 2.0]])).numpy().round(4)
    array([[-0.7869,  0.    ,  2.    ]], dtype=float32)

    Reference:
        - [Barron, 2017](https://arxiv.org/abs/1704.07483)
    """

    activation_name = "celu"
    _config_keys = ("alpha",)

    def __init__(self, alpha=_CELU["alpha"], **kwargs):
        super().__init__(**kwargs)
        self.alpha = activations.check_args("celu", alpha=alpha)["alpha"]

    def call(self, inputs):
        return activations.celu(inputs, alpha=self.alpha)
