"""Layers for the smooth gates."""

from __future__ import annotations

import keras

from keras_relu_family import _validation as check
from keras_relu_family import activations
from keras_relu_family.layers._base import PACKAGE, ActivationLayer, defaults

_register = keras.saving.register_keras_serializable(package=PACKAGE)
_GELU = defaults(activations.gelu)
_SWISH = defaults(activations.swish)
_SOFTPLUS = defaults(activations.softplus)


@_register
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
    >>> krf.GELU()(np.array([[-1.0, 0.0, 1.0]])).numpy().round(4)
    array([[-0.1587,  0.    ,  0.8413]], dtype=float32)

    Reference:
        - [Hendrycks & Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """

    activation_name = "gelu"
    _config_keys = ("approximate",)

    def __init__(self, approximate=_GELU["approximate"], **kwargs):
        super().__init__(**kwargs)
        self.approximate = activations.check_args("gelu", approximate=approximate)["approximate"]

    def call(self, inputs):
        return activations.gelu(inputs, approximate=self.approximate)


@_register
class Swish(ActivationLayer):
    """Swish layer, with an optionally trainable ``beta``.

    Formula:
    ```
    swish(x) = x * sigmoid(beta * x)
    d/dx     = s + beta * x * s * (1 - s),  s = sigmoid(beta * x)
    d/dbeta  = x^2 * s * (1 - s)
    ```

    Args:
        beta: The (initial) value of ``beta``, a finite number. Defaults to `1.0`.
        trainable_beta: Learn ``beta`` as a scalar weight named ``beta``.
            Defaults to `False`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.Swish()(np.array([[-1.0, 0.0, 1.0]])).numpy().round(4)
    array([[-0.2689,  0.    ,  0.7311]], dtype=float32)

    Reference:
        - [Ramachandran et al., 2017](https://arxiv.org/abs/1710.05941)
    """

    activation_name = "swish"
    _config_keys = ("beta", "trainable_beta")

    def __init__(self, beta=_SWISH["beta"], trainable_beta=False, **kwargs):
        super().__init__(**kwargs)
        self.beta = activations.check_args("swish", beta=beta)["beta"]
        self.trainable_beta = check.boolean("trainable_beta", trainable_beta)
        self.beta_weight = None

    def build(self, input_shape):
        if self.trainable_beta:
            self.beta_weight = self.add_weight(
                shape=(),
                name="beta",
                initializer=keras.initializers.Constant(self.beta),
                autocast=False,  # the kernel casts; the gradient stays in the variable dtype
            )

    def call(self, inputs):
        beta = self.beta_weight if self.trainable_beta else self.beta
        return activations.swish(inputs, beta=beta)


@_register
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
    >>> krf.Mish()(np.array([[-1.0, 0.0, 1.0]])).numpy().round(4)
    array([[-0.3034,  0.    ,  0.8651]], dtype=float32)

    Reference:
        - [Misra, 2019](https://arxiv.org/abs/1908.08681)
    """

    activation_name = "mish"

    def call(self, inputs):
        return activations.mish(inputs)


@_register
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
    >>> krf.HardSwish()(np.array([[-4.0, 0.0, 1.0, 4.0]])).numpy().round(4)
    array([[-0.    ,  0.    ,  0.6667,  4.    ]], dtype=float32)

    Reference:
        - [Howard et al., 2019](https://arxiv.org/abs/1905.02244)
    """

    activation_name = "hard_swish"

    def call(self, inputs):
        return activations.hard_swish(inputs)


@_register
class Softplus(ActivationLayer):
    """Softplus layer, as PyTorch defines it.

    Formula:
    ```
    softplus(x) = log(1 + exp(beta * x)) / beta  if beta * x <= threshold
                  x                              otherwise
    softplus'(x) = sigmoid(beta * x) if beta * x <= threshold else 1
    ```

    Args:
        beta: A finite number ``> 0``. Defaults to `1.0`.
        threshold: Where the function turns linear, a finite number ``> 0``.
            Defaults to `20.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.Softplus()(np.array([[-1.0, 0.0, 30.0]])).numpy().round(4)
    array([[ 0.3133,  0.6931, 30.    ]], dtype=float32)

    Reference:
        - [Dugas et al., 2001](https://papers.nips.cc/paper/1920-incorporating-second-order-functional-knowledge-for-better-option-pricing)
    """

    activation_name = "softplus"
    _config_keys = ("beta", "threshold")

    def __init__(self, beta=_SOFTPLUS["beta"], threshold=_SOFTPLUS["threshold"], **kwargs):
        super().__init__(**kwargs)
        args = activations.check_args("softplus", beta=beta, threshold=threshold)
        self.beta, self.threshold = args["beta"], args["threshold"]

    def call(self, inputs):
        return activations.softplus(inputs, beta=self.beta, threshold=self.threshold)
