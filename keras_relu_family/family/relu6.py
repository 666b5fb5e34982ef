"""ReLU6: ReLU capped at 6 (hard tanh's clip kernel on [0, 6])."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark
from keras_relu_family.family.hard_tanh import CLIP


@activation()
def relu6(x):
    """ReLU capped at 6.

    Formula:
    ```
    relu6(x) = min(max(x, 0), 6)
    relu6'(x) = 1 if 0 <= x < 6 else 0   (right-hand derivative at both kinks)
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.relu6([-1.0, 3.0, 9.0]))
    array([0., 3., 6.], dtype=float32)

    Reference:
        - [Krizhevsky, 2010](https://www.cs.toronto.edu/~kriz/conv-cifar10-aug2010.pdf)
    """
    # Not the framework's relu6: XLA before TensorFlow 2.21 lowers it to a clamp
    # that turns NaN into 6 on the CPU (see clip_keeping_nan).
    return apply(CLIP, x, low=0.0, high=6.0)


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
    >>> np.asarray(krf.ReLU6()(np.array([[-1.0, 3.0, 9.0]])))
    array([[0., 3., 6.]], dtype=float32)

    Reference:
        - [Krizhevsky, 2010](https://www.cs.toronto.edu/~kriz/conv-cifar10-aug2010.pdf)
    """

    function = staticmethod(relu6)


def numpy_relu6(x):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.clip(x, 0.0, 6.0))


def numpy_relu6_grad(x):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where((x >= 0) & (x < 6.0), 1.0, 0.0))


SPECS = (
    ActivationSpec(
        function=relu6,
        layer=ReLU6,
        numpy_forward=numpy_relu6,
        numpy_derivative=numpy_relu6_grad,
        torch_builtin=lambda F, x: F.relu6(x),
        builtin=keras.activations.relu6,
        autodiff=xp.relu6,
        kinks=lambda params: (0.0, 6.0),
        dead_rule=lambda params: ("output", 0.0),
        benchmarks=(Benchmark(goals={"tf.function": 1.35, "xla": 1.05}),),
    ),
)
