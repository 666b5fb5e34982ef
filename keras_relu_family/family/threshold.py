"""Threshold: the input above a threshold, a fixed value elsewhere (PyTorch's ``Threshold``)."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, branch, from_branch
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark


def _forward(x, *, threshold, value):
    # `x <= threshold` rather than Keras's `x > threshold`, so that NaN stays NaN.
    return xp.where(x <= threshold, value, x)


def _branch(x, *, threshold, value):
    return (branch(x, x >= threshold),)


def _backward(dy, code, *, threshold, value):
    return (from_branch(code, dy),)


def _eager_forward(x, *, threshold, value):
    return xp.threshold(x, threshold, value)  # (y, whether x may hold NaN)


def _eager_backward(dy, x, *, threshold, value, memo):
    return (xp.interval_grad(dy, x, threshold, maybe_nan=memo),)


THRESHOLD = Kernel(
    _forward,
    _backward,
    exact_in_half=True,
    residuals=_branch,
    eager=Kernel(_eager_forward, _eager_backward, exact_in_half=True, saves_input=True, memo=True),
)


@activation(threshold=check.real, value=check.real)
def threshold(x, threshold=0.0, value=0.0):
    """Threshold: ``x`` where ``x > threshold``, else ``value``.

    As PyTorch's ``Threshold(threshold, value)`` and Keras's
    ``keras.activations.threshold(x, threshold, default_value)``. With the
    defaults it is a ReLU (PyTorch's ``relu`` was once ``threshold(x, 0, 0)``),
    which makes ``"krf_threshold"`` a usable activation string.

    Formula:
    ```
    threshold(x) = x if x > threshold else value
    threshold'(x) = 1 if x >= threshold else 0   (the right-hand branch's slope at the kink)
    ```

    Args:
        x: Floating-point input tensor.
        threshold: Where the input starts passing, a finite number.
            Defaults to `0.0`.
        value: What replaces the input up to ``threshold``, a finite number.
            Defaults to `0.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.threshold([-1.0, 0.5, 2.0], threshold=0.5, value=-3.0))
    array([-3., -3.,  2.], dtype=float32)

    Reference:
        - [PyTorch, torch.nn.Threshold](https://pytorch.org/docs/stable/generated/torch.nn.Threshold.html)
    """
    return apply(THRESHOLD, x, threshold=threshold, value=value)


class Threshold(ActivationLayer):
    """Threshold layer, as PyTorch's ``Threshold``.

    Formula:
    ```
    threshold(x) = x if x > threshold else value
    threshold'(x) = 1 if x >= threshold else 0   (the right-hand branch's slope at the kink)
    ```

    Args:
        threshold: Where the input starts passing, a finite number.
            Defaults to `0.0`.
        value: What replaces the input up to ``threshold``, a finite number.
            Defaults to `0.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.Threshold(threshold=0.5, value=-3.0)(np.array([[-1.0, 0.5, 2.0]])))
    array([[-3., -3.,  2.]], dtype=float32)

    Reference:
        - [PyTorch, torch.nn.Threshold](https://pytorch.org/docs/stable/generated/torch.nn.Threshold.html)
    """

    function = staticmethod(threshold)

    def __init__(self, threshold=0.0, value=0.0, **kwargs):
        super().__init__(threshold=threshold, value=value, **kwargs)


def numpy_threshold(x, threshold=0.0, value=0.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x > threshold, x, value))


def numpy_threshold_grad(x, threshold=0.0, value=0.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x >= threshold, 1.0, 0.0))


SPECS = (
    ActivationSpec(
        function=threshold,
        layer=Threshold,
        numpy_forward=numpy_threshold,
        numpy_derivative=numpy_threshold_grad,
        torch_builtin=lambda F, x, threshold=0.0, value=0.0: F.threshold(x, threshold, value),
        builtin=lambda x, threshold=0.0, value=0.0: keras.activations.threshold(
            x, threshold, value
        ),
        autodiff=lambda x, threshold=0.0, value=0.0: xp.where(x > threshold, x, value),
        kinks=lambda params: (params.get("threshold", 0.0),),
        param_sets=({}, {"threshold": 0.5, "value": -3.0}, {"threshold": -2.0, "value": 0.25}),
        layer_kwargs={"threshold": 0.5, "value": -3.0},
        dead_rule=lambda params: ("input", params.get("threshold", 0.0)),
        benchmarks=(
            Benchmark(
                params={"threshold": 0.5, "value": -3.0}, goals={"tf.function": 1.05, "xla": 1.05}
            ),
        ),
    ),
)
