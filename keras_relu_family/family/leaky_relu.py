"""Leaky ReLU: a small fixed slope for negative inputs."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, nan_where_nan
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark, kink_at_zero


def slope_forward(x, slope):
    """``x`` where ``x >= 0``, else ``slope * x``; ``slope`` a tensor or a float."""
    return xp.where(x >= 0, x, slope * x)


def slope_backward(dy, x, slope):
    return xp.where(x >= 0, dy, nan_where_nan(x, slope * dy))


def _forward(x, *, negative_slope):
    return xp.leaky_relu(x, negative_slope)


def _backward(dy, x, *, negative_slope):
    return (slope_backward(dy, x, negative_slope),)


def _eager_backward(dy, x, *, negative_slope):
    return (xp.leaky_relu_grad(dy, x, negative_slope),)


LEAKY_RELU = Kernel(
    _forward,
    _backward,
    saves_input=True,
    eager=Kernel(_forward, _eager_backward, saves_input=True),
)


@activation(negative_slope=check.non_negative)
def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: a small fixed slope for negative inputs.

    Formula:
    ```
    leaky_relu(x) = x if x >= 0 else negative_slope * x
    leaky_relu'(x) = 1 if x >= 0 else negative_slope
    ```

    The default slope 0.01 is the one of the reference material and of
    PyTorch; Keras's own ``keras.layers.LeakyReLU`` defaults to 0.3.

    Args:
        x: Floating-point input tensor.
        negative_slope: Slope for ``x < 0``, a finite number ``>= 0``.
            Defaults to `0.01`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.leaky_relu([-2.0, 0.0, 3.0], negative_slope=0.5))
    array([-1.,  0.,  3.], dtype=float32)

    Reference:
        - [Maas et al., 2013](https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf)
    """
    return apply(LEAKY_RELU, x, negative_slope=negative_slope)


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
    >>> np.asarray(krf.LeakyReLU(negative_slope=0.5)(np.array([[-2.0, 0.0, 3.0]])))
    array([[-1.,  0.,  3.]], dtype=float32)

    Reference:
        - [Maas et al., 2013](https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf)
    """

    function = staticmethod(leaky_relu)

    def __init__(self, negative_slope=0.01, **kwargs):
        super().__init__(negative_slope=negative_slope, **kwargs)


def numpy_leaky_relu(x, negative_slope=0.01):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x >= 0, x, negative_slope * x)


def numpy_leaky_relu_grad(x, negative_slope=0.01):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x >= 0, 1.0, negative_slope))


SPECS = (
    ActivationSpec(
        function=leaky_relu,
        layer=LeakyReLU,
        numpy_forward=numpy_leaky_relu,
        numpy_derivative=numpy_leaky_relu_grad,
        torch_builtin=lambda F, x, negative_slope=0.01: F.leaky_relu(x, negative_slope),
        builtin=lambda x, negative_slope=0.01: keras.activations.leaky_relu(x, negative_slope),
        autodiff=lambda x, negative_slope=0.01: xp.where(x >= 0, x, negative_slope * x),
        kinks=kink_at_zero,
        param_sets=({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": 1.5}),
        layer_kwargs={"negative_slope": 0.2},
        dead_rule=lambda params: ("input", 0.0),
        benchmarks=(Benchmark(goals={"tf.function": 1.35, "xla": 1.05}),),
    ),
)
