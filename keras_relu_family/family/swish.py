"""Swish (SiLU when ``beta = 1``), with a fixed or a trainable ``beta``."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark, Trainable


def _forward(x, beta=None, *, fixed_beta=None):
    b = fixed_beta if beta is None else beta
    return x * xp.sigmoid(b * x)


def _backward(dy, x, beta=None, *, fixed_beta=None):
    # With z = beta * x, e = exp(-|z|) and s = sigmoid(z) = w / (1 + e)
    # (w = 1 for z >= 0, e below), s (1 - s) = e / (1 + e)^2: one exponential,
    # no cancellation on either side. The two gradients share only e, so
    # that XLA fuses each into its own loop and writes out nothing else.
    b = fixed_beta if beta is None else beta
    z = b * x
    e = xp.exp(-xp.abs(z))
    one_e = 1.0 + e
    w = xp.where(z >= 0, 1.0, e)
    # z * e -> 0 where e underflows, also for z = inf (beta * x overflowing);
    # a NaN z gives a NaN e and goes through.
    ze = xp.where(e == 0, 0.0, z * e)
    # d/dx = s + z s (1 - s)
    dx = dy * ((w * one_e + ze) / (one_e * one_e))
    if beta is None:
        return (dx,)
    # d/dbeta = x^2 s (1 - s), grouped so that x * x cannot overflow where e = 0.
    dbeta = dy * (x * ((x * e) / (one_e * one_e)))
    return dx, dbeta


def fused_range(x) -> float:
    """Below this, PyTorch's fused SiLU and Mish gradients lose the tiny gradients."""
    return -700.0 if x.dtype == xp.float64 else -85.0


def _eager_forward(x, beta=None, *, fixed_beta=None):
    if beta is None and fixed_beta == 1.0:
        return xp.silu(x)
    return xp.swish(x, fixed_beta if beta is None else beta)


def _eager_backward(dy, x, beta=None, *, fixed_beta=None):
    if beta is None and fixed_beta == 1.0:
        grads = (xp.silu_grad(dy, x),) if xp.within(x, fused_range(x)) else None
    else:
        b = fixed_beta if beta is None else beta
        grads = xp.swish_grads(dy, x, b, fused_range(x), trainable=beta is not None)
    return _backward(dy, x, beta, fixed_beta=fixed_beta) if grads is None else grads


# Eagerly on PyTorch, in PyTorch's fused SiLU ops (at beta * x) where they are as exact,
# and in place.
SWISH = Kernel(
    _forward,
    _backward,
    saves_input=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_input=True),
)


@activation()
def swish(x, beta=1.0):
    """Swish (SiLU when ``beta = 1``).

    Formula:
    ```
    swish(x) = x * sigmoid(beta * x)
    d/dx     = s + beta * x * s * (1 - s),  s = sigmoid(beta * x)
    d/dbeta  = x^2 * s * (1 - s)
    ```

    Args:
        x: Floating-point input tensor.
        beta: A finite Python number (fixed), or a floating-point tensor or
            variable broadcastable to ``x``, which then gets a gradient.
            Defaults to `1.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.swish([-1.0, 0.0, 1.0])).round(4)
    array([-0.2689,  0.    ,  0.7311], dtype=float32)

    Reference:
        - [Ramachandran et al., 2017](https://arxiv.org/abs/1710.05941)
    """
    if xp.is_tensor(beta):
        return apply(SWISH, x, (xp.param_tensor("beta", beta, x, "swish"),))
    return apply(SWISH, x, fixed_beta=check.real("beta", beta))


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
    >>> np.asarray(krf.Swish()(np.array([[-1.0, 0.0, 1.0]]))).round(4)
    array([[-0.2689,  0.    ,  0.7311]], dtype=float32)

    Reference:
        - [Ramachandran et al., 2017](https://arxiv.org/abs/1710.05941)
    """

    function = staticmethod(swish)

    def __init__(self, beta=1.0, trainable_beta=False, **kwargs):
        self.trainable_beta = check.boolean("trainable_beta", trainable_beta)
        super().__init__(beta=check.real("beta", beta), **kwargs)

    def _create_state(self):
        # A scalar weight needs no input shape: made here, so the layer is built already.
        self.beta_weight = None
        if self.trainable_beta:
            self.beta_weight = self.add_weight(
                shape=(),
                name="beta",
                initializer=keras.initializers.Constant(self.beta),
                autocast=False,  # the kernel casts; the gradient stays in the variable dtype
            )

    def call(self, inputs):
        return swish(inputs, beta=self.beta_weight if self.trainable_beta else self.beta)

    def get_config(self):
        return {**super().get_config(), "trainable_beta": self.trainable_beta}


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def numpy_swish(x, beta=1.0):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return x * _sigmoid(beta * x)


def numpy_swish_grad(x, beta=1.0):
    """Derivatives with respect to ``x`` and to ``beta`` (element-wise)."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        z = beta * x
        s, s_minus = _sigmoid(z), _sigmoid(-z)
        zss = np.where(np.isinf(z), 0.0, z * s * s_minus)
        dbeta = np.where(np.isinf(z), 0.0, x * x * s * s_minus)
    nan = np.isnan(x)
    return np.where(nan, np.nan, s + zss), np.where(nan, np.nan, dbeta)


def _builtin(x, beta=1.0):
    if isinstance(beta, float) and beta == 1.0:
        return keras.activations.silu(x)
    return x * keras.ops.sigmoid(keras.ops.cast(beta, x.dtype) * x)


SPECS = (
    ActivationSpec(
        function=swish,
        layer=Swish,
        numpy_forward=numpy_swish,
        numpy_derivative=numpy_swish_grad,
        torch_builtin=lambda F, x, beta=1.0: F.silu(x) if beta == 1.0 else None,
        builtin=_builtin,
        autodiff=lambda x, beta=1.0: x * xp.sigmoid(xp.cast(beta, x.dtype) * x),
        param_sets=({}, {"beta": 1.7}, {"beta": -0.5}),
        layer_kwargs={"beta": 1.5, "trainable_beta": True},
        trainable=("beta",),
        benchmarks=(
            Benchmark(),
            Benchmark(
                params={"beta": Trainable(1.0)},
                label="swish (trainable beta)",
                goals={"tf.function": "<1", "xla": 1.05},
            ),
        ),
    ),
)
