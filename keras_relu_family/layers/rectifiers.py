"""Layers for the piecewise-linear rectifiers."""

from __future__ import annotations

import keras

from keras_relu_family import activations
from keras_relu_family.layers._base import PACKAGE, ActivationLayer, defaults

_register = keras.saving.register_keras_serializable(package=PACKAGE)


@_register
class ReLU(ActivationLayer):
    """Rectified linear unit layer.

    Formula:
    ```
    relu(x) = x if x >= 0 else 0
    relu'(x) = 1 if x >= 0 else 0        (so relu'(0) = 1)
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.ReLU()(np.array([[-2.0, 0.0, 3.0]])).numpy()
    array([[0., 0., 3.]], dtype=float32)

    Reference:
        - [Nair & Hinton, 2010](https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf)
    """

    activation_name = "relu"

    def call(self, inputs, training=None):
        return self._probe_dead_units(inputs, activations.relu(inputs), training)


@_register
class ReLU6(ActivationLayer):
    """ReLU capped at 6.

    Formula:
    ```
    relu6(x) = min(max(x, 0), 6)
    relu6'(x) = 1 if 0 <= x < 6 else 0   (right-hand derivative at both kinks)
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.ReLU6()(np.array([[-1.0, 3.0, 9.0]])).numpy()
    array([[0., 3., 6.]], dtype=float32)

    Reference:
        - [Krizhevsky, 2010](https://www.cs.toronto.edu/~kriz/conv-cifar10-aug2010.pdf)
    """

    activation_name = "relu6"

    def call(self, inputs, training=None):
        return self._probe_dead_units(inputs, activations.relu6(inputs), training)


_LEAKY = defaults(activations.leaky_relu)


@_register
class LeakyReLU(ActivationLayer):
    """Leaky ReLU layer.

    Formula:
    ```
    leaky_relu(x) = x if x >= 0 else negative_slope * x
    leaky_relu'(x) = 1 if x >= 0 else negative_slope
    ```

    The default slope 0.01 is the reference material's and PyTorch's;
    ``keras.layers.LeakyReLU`` defaults to 0.3.

    Args:
        negative_slope: Slope for ``x < 0``, a finite number ``>= 0``.
            Defaults to `0.01`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.LeakyReLU(negative_slope=0.5)(np.array([[-2.0, 0.0, 3.0]])).numpy()
    array([[-1.,  0.,  3.]], dtype=float32)

    Reference:
        - [Maas et al., 2013](https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf)
    """

    activation_name = "leaky_relu"
    _config_keys = ("negative_slope",)

    def __init__(self, negative_slope=_LEAKY["negative_slope"], **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = activations.check_args("leaky_relu", negative_slope=negative_slope)[
            "negative_slope"
        ]

    def call(self, inputs, training=None):
        outputs = activations.leaky_relu(inputs, negative_slope=self.negative_slope)
        return self._probe_dead_units(inputs, outputs, training)


_RRELU = defaults(activations.rrelu)


@_register
class RReLU(ActivationLayer):
    """Randomized leaky ReLU layer.

    While training, every element gets a slope drawn from ``U(lower, upper)``;
    at inference the slope is ``(lower + upper) / 2``.

    Formula:
    ```
    rrelu(x) = x if x >= 0 else a * x,  a ~ U(lower, upper) (training)
                                        a = (lower + upper) / 2 (inference)
    rrelu'(x) = 1 if x >= 0 else a      (the same a as the forward pass)
    ```

    Args:
        lower: Lower bound of the slope, ``>= 0``. Defaults to `1/8`.
        upper: Upper bound of the slope, ``>= lower``. Defaults to `1/3`.
        seed: Optional int seed for the noise. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Floating-point input tensor.
        training: Whether to draw random slopes. Set by ``fit`` and friends.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.RReLU(lower=0.25, upper=0.75)(np.array([[-3.0, 0.0, 3.0]])).numpy()
    array([[-1.5,  0. ,  3. ]], dtype=float32)

    Reference:
        - [Xu et al., 2015](https://arxiv.org/abs/1505.00853)
    """

    activation_name = "rrelu"
    _config_keys = ("lower", "upper", "seed")

    def __init__(self, lower=_RRELU["lower"], upper=_RRELU["upper"], seed=None, **kwargs):
        super().__init__(**kwargs)
        args = activations.check_args("rrelu", lower=lower, upper=upper)
        self.lower, self.upper = args["lower"], args["upper"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"`seed` must be None or an int. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        outputs = activations.rrelu(
            inputs, self.lower, self.upper, training=training, seed=self.seed_generator
        )
        return self._probe_dead_units(inputs, outputs, training)


@_register
class PReLU(ActivationLayer):
    """Parametric ReLU layer with a trainable slope ``alpha``.

    Formula:
    ```
    prelu(x) = x if x >= 0 else alpha * x     (piecewise, not max(x, alpha * x))
    d/dx     = 1 if x >= 0 else alpha
    d/dalpha = 0 if x >= 0 else x             (summed over broadcast axes)
    ```

    ``alpha`` has the shape of one example (``input_shape[1:]``) with the
    ``shared_axes`` set to 1. It starts at 0.25, as in He et al. and PyTorch
    (Keras's own ``PReLU`` starts at 0, a plain ReLU). The variable stays in
    the layer's variable dtype under mixed precision and its gradient comes
    back in that dtype.

    Args:
        alpha_initializer: Initializer for ``alpha``. Defaults to
            `keras.initializers.Constant(0.25)`.
        alpha_regularizer: Optional regularizer for ``alpha``.
        alpha_constraint: Optional constraint for ``alpha``.
        shared_axes: Axes (``>= 1``; 0 is the batch) along which ``alpha`` is
            shared, e.g. ``[1, 2]`` after a ``Conv2D`` for one slope per
            channel. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> krf.PReLU()(np.array([[-2.0, 0.0, 3.0]])).numpy()
    array([[-0.5,  0. ,  3. ]], dtype=float32)

    Reference:
        - [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    activation_name = "prelu"

    def __init__(
        self,
        alpha_initializer=None,
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if alpha_initializer is None:
            alpha_initializer = keras.initializers.Constant(0.25)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        self.shared_axes = _check_shared_axes(shared_axes)

    def build(self, input_shape):
        rank = len(input_shape)
        for axis in self.shared_axes or ():
            if axis >= rank:
                raise ValueError(
                    f"`shared_axes` entries must be between 1 and {rank - 1} for inputs "
                    f"of shape {tuple(input_shape)}. Received: shared_axes={self.shared_axes}"
                )
        shared = set(self.shared_axes or ())
        param_shape = [1 if i in shared else input_shape[i] for i in range(1, rank)]
        if any(size is None for size in param_shape):
            raise ValueError(
                "PReLU needs a known size on every axis that is not shared; put the "
                f"unknown axes in `shared_axes`. Received: input_shape={tuple(input_shape)}, "
                f"shared_axes={self.shared_axes}"
            )
        self.alpha = self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
            autocast=False,  # the kernel casts; the gradient stays in the variable dtype
        )
        axes = {i: input_shape[i] for i in range(1, rank) if i not in shared}
        self.input_spec = keras.layers.InputSpec(ndim=rank, axes=axes)

    def call(self, inputs, training=None):
        return self._probe_dead_units(inputs, activations.prelu(inputs, self.alpha), training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha_initializer": keras.initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes,
            }
        )
        return config


def _check_shared_axes(shared_axes):
    if shared_axes is None:
        return None
    axes = [shared_axes] if isinstance(shared_axes, int) else shared_axes
    if not isinstance(axes, (list, tuple)) or not all(
        isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes
    ):
        raise ValueError(
            "`shared_axes` must be None, an int or a list of ints >= 1 (axis 0 is the "
            f"batch). Received: shared_axes={shared_axes!r}"
        )
    return list(axes)
