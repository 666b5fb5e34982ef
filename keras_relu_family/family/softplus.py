"""Softplus, as PyTorch defines it (with ``beta`` and a linear ``threshold``)."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec

# The largest x at which softplus(x) and sigmoid(x) still differ from x and 1
# in each compute dtype; above it a PyTorch threshold changes nothing.
_SATURATION = {"float32": 18.0, "float64": 38.0}


def _is_plain(x, beta, threshold):
    return beta == 1.0 and threshold >= _SATURATION[xp.dtype_name(x)]


def _forward(x, *, beta, threshold):
    if _is_plain(x, beta, threshold):
        return xp.softplus(x)
    z = x * beta if beta != 1.0 else x
    soft = xp.softplus(z)
    if beta != 1.0:
        soft = soft / beta
    return xp.where(z > threshold, x, soft)


def _backward(dy, x, *, beta, threshold):
    if _is_plain(x, beta, threshold):
        return (xp.softplus_grad(dy, x),)
    z = x * beta if beta != 1.0 else x
    return (xp.where(z > threshold, dy, xp.softplus_grad(dy, z)),)


SOFTPLUS = Kernel(_forward, _backward, saves_input=True)


@activation(beta=check.positive, threshold=check.positive)
def softplus(x, beta=1.0, threshold=20.0):
    """Softplus, as PyTorch defines it.

    Formula:
    ```
    softplus(x) = log(1 + exp(beta * x)) / beta  if beta * x <= threshold
                  x                              otherwise
    softplus'(x) = sigmoid(beta * x) if beta * x <= threshold else 1
    ```

    Args:
        x: Floating-point input tensor.
        beta: A finite number ``> 0``. Defaults to `1.0`.
        threshold: Where the function turns linear, a finite number ``> 0``.
            Defaults to `20.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.softplus([-1.0, 0.0, 30.0])).round(4)
    array([ 0.3133,  0.6931, 30.    ], dtype=float32)

    Reference:
        - [Dugas et al., 2001](https://papers.nips.cc/paper/1920-incorporating-second-order-functional-knowledge-for-better-option-pricing)
    """
    return apply(SOFTPLUS, x, beta=beta, threshold=threshold)


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
    >>> np.asarray(krf.Softplus()(np.array([[-1.0, 0.0, 30.0]]))).round(4)
    array([[ 0.3133,  0.6931, 30.    ]], dtype=float32)

    Reference:
        - [Dugas et al., 2001](https://papers.nips.cc/paper/1920-incorporating-second-order-functional-knowledge-for-better-option-pricing)
    """

    function = staticmethod(softplus)

    def __init__(self, beta=1.0, threshold=20.0, **kwargs):
        super().__init__(beta=beta, threshold=threshold, **kwargs)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def numpy_softplus(x, beta=1.0, threshold=20.0):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        z = beta * x
    return np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)


def numpy_softplus_grad(x, beta=1.0, threshold=20.0):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        z = beta * x
    out = np.where(z > threshold, 1.0, _sigmoid(z))
    return np.where(np.isnan(x), np.nan, out)


def _formula(x, beta, threshold, softplus_op, where):
    z = beta * x
    return where(z > threshold, x, softplus_op(z) / beta)


def _builtin(x, beta=1.0, threshold=20.0):
    if beta == 1.0:
        return keras.activations.softplus(x)
    return _formula(x, beta, threshold, keras.ops.softplus, keras.ops.where)


SPECS = (
    ActivationSpec(
        function=softplus,
        layer=Softplus,
        numpy_forward=numpy_softplus,
        numpy_derivative=numpy_softplus_grad,
        torch_builtin=lambda F, x, beta=1.0, threshold=20.0: F.softplus(x, beta, threshold),
        builtin=_builtin,
        autodiff=lambda x, beta=1.0, threshold=20.0: _formula(
            x, beta, threshold, xp.softplus, xp.where
        ),
        kinks=lambda params: (params.get("threshold", 20.0) / params.get("beta", 1.0),),
        param_sets=({}, {"beta": 2.0, "threshold": 5.0}, {"beta": 0.5}),
        layer_kwargs={"beta": 2.0, "threshold": 5.0},
    ),
)
