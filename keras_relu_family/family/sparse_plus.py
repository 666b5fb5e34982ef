"""Sparse plus: zero below -1, a parabola on (-1, 1), the identity from 1 on."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, clip_keeping_nan
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark


def _forward(x):
    # Keras's order of selects; `x >= 1` is tested first so that NaN reaches the parabola.
    parabola = 0.25 * ((x + 1.0) * (x + 1.0))
    return xp.where(x >= 1.0, x, xp.where(x <= -1.0, 0.0, parabola))


def _backward(dy, x):
    # 0, (x + 1) / 2, 1: one clip of the middle branch, continuous at both ends.
    return (dy * clip_keeping_nan(0.5 * (x + 1.0), 0.0, 1.0),)


SPARSE_PLUS = Kernel(_forward, _backward, saves_input=True)


@activation()
def sparse_plus(x):
    """Sparse plus: a softplus with exact zeros, as ``keras.activations.sparse_plus``.

    Formula:
    ```
    sparse_plus(x) = 0 if x <= -1; (x + 1)^2 / 4 if -1 < x < 1; x if x >= 1
    sparse_plus'(x) = 0 if x <= -1; (x + 1) / 2 if -1 < x < 1; 1 if x >= 1
    ```

    Its derivative is continuous, so there is no kink to choose a side at.

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.sparse_plus([-2.0, 0.0, 2.0]))
    array([0.  , 0.25, 2.  ], dtype=float32)

    Reference:
        - [Martins & Astudillo, 2016](https://arxiv.org/abs/1602.02068)
    """
    return apply(SPARSE_PLUS, x)


class SparsePlus(ActivationLayer):
    """Sparse plus layer.

    Formula:
    ```
    sparse_plus(x) = 0 if x <= -1; (x + 1)^2 / 4 if -1 < x < 1; x if x >= 1
    sparse_plus'(x) = 0 if x <= -1; (x + 1) / 2 if -1 < x < 1; 1 if x >= 1
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.SparsePlus()(np.array([[-2.0, 0.0, 2.0]])))
    array([[0.  , 0.25, 2.  ]], dtype=float32)

    Reference:
        - [Martins & Astudillo, 2016](https://arxiv.org/abs/1602.02068)
    """

    function = staticmethod(sparse_plus)


def numpy_sparse_plus(x):
    x = np.asarray(x, np.float64)
    out = np.where(x <= -1.0, 0.0, np.where(x < 1.0, (x + 1.0) ** 2 / 4.0, x))
    return np.where(np.isnan(x), np.nan, out)


def numpy_sparse_plus_grad(x):
    x = np.asarray(x, np.float64)
    out = np.where(x <= -1.0, 0.0, np.where(x < 1.0, (x + 1.0) / 2.0, 1.0))
    return np.where(np.isnan(x), np.nan, out)


def _autodiff(x):
    return xp.where(x <= -1.0, 0.0, xp.where(x < 1.0, 0.25 * (x + 1.0) * (x + 1.0), x))


SPECS = (
    ActivationSpec(
        function=sparse_plus,
        layer=SparsePlus,
        numpy_forward=numpy_sparse_plus,
        numpy_derivative=numpy_sparse_plus_grad,
        builtin=keras.activations.sparse_plus,
        autodiff=_autodiff,
        dead_rule=lambda params: ("input", -1.0),
        benchmarks=(Benchmark(goals={"tf.function": 1.05, "xla": 1.05}),),
    ),
)
