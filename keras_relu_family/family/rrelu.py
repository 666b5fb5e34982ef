"""Randomized leaky ReLU: a random slope per element while training, their mean at inference."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, branch, from_branch
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark, kink_at_zero
from keras_relu_family.family.leaky_relu import LEAKY_RELU, slope_forward


def _forward(x, *, slopes):
    # The slopes are noise drawn by the caller, not parameters: no gradient.
    return slope_forward(x, xp.cast(slopes, x.dtype))


def _branch(x, *, slopes):
    # The backward pass needs the slopes anyway, and the branch (one byte)
    # rather than x (autodiff of the same formula keeps the slopes and a bool).
    del slopes
    return (branch(x, x >= 0),)


def _backward(dy, code, *, slopes):
    return (from_branch(code, dy, zero=xp.cast(slopes, dy.dtype) * dy),)


RRELU = Kernel(_forward, _backward, residuals=_branch)


def _check_seed(name, seed):
    if seed is None or isinstance(seed, keras.random.SeedGenerator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            f"`{name}` must be None, an int or a keras.random.SeedGenerator. "
            f"Received: {name}={seed!r}"
        )
    return seed


@activation(
    check.ordered("lower", "upper"),
    lower=check.non_negative,
    upper=check.non_negative,
    seed=_check_seed,
)
def rrelu(x, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """Randomized leaky ReLU.

    While training, each element gets its own slope drawn uniformly from
    ``[lower, upper)``; at inference the slope is the mean ``(lower + upper) / 2``.

    Formula:
    ```
    rrelu(x) = x if x >= 0 else a * x,  a ~ U(lower, upper) (training)
                                        a = (lower + upper) / 2 (inference)
    rrelu'(x) = 1 if x >= 0 else a      (the same a as the forward pass)
    ```

    Args:
        x: Floating-point input tensor.
        lower: Lower bound of the slope, ``>= 0``. Defaults to `1/8`.
        upper: Upper bound of the slope, ``>= lower``. Defaults to `1/3`.
        training: Python bool or scalar bool tensor. Defaults to `False`.
        seed: ``None`` (fresh noise each call), an int (the same noise for
            the same shape every call), or a ``keras.random.SeedGenerator``
            (fresh, reproducible noise). Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.rrelu([-3.0, 0.0, 3.0], lower=0.25, upper=0.75))
    array([-1.5,  0. ,  3. ], dtype=float32)

    Reference:
        - [Xu et al., 2015](https://arxiv.org/abs/1505.00853)
    """

    def train():
        return apply(RRELU, x, slopes=xp.uniform_like(x, lower, upper, seed))

    def infer():
        return apply(LEAKY_RELU, x, negative_slope=(lower + upper) / 2.0)

    if training is None or isinstance(training, bool):
        return train() if training else infer()
    return xp.cond(training, train, infer)


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
    >>> np.asarray(krf.RReLU(lower=0.25, upper=0.75)(np.array([[-3.0, 0.0, 3.0]])))
    array([[-1.5,  0. ,  3. ]], dtype=float32)

    Reference:
        - [Xu et al., 2015](https://arxiv.org/abs/1505.00853)
    """

    function = staticmethod(rrelu)

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0, seed=None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be None or an int. Received: seed={seed!r}")
        self.seed = seed
        super().__init__(lower=lower, upper=upper, **kwargs)

    def _create_state(self):
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=False):
        return rrelu(inputs, self.lower, self.upper, training=training, seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def numpy_rrelu(x, lower=1.0 / 8.0, upper=1.0 / 3.0):
    """Inference: the mean slope."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x >= 0, x, (lower + upper) / 2.0 * x)


def numpy_rrelu_grad(x, lower=1.0 / 8.0, upper=1.0 / 3.0):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), np.nan, np.where(x >= 0, 1.0, (lower + upper) / 2.0))


def _builtin(x, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """The same randomness in ``keras.ops``, differentiated by the framework."""
    if not training:
        return keras.activations.leaky_relu(x, (lower + upper) / 2.0)
    slopes = keras.random.uniform(keras.ops.shape(x), lower, upper, dtype=x.dtype, seed=seed)
    return keras.ops.where(x >= 0, x, slopes * x)


SPECS = (
    ActivationSpec(
        function=rrelu,
        layer=RReLU,
        numpy_forward=numpy_rrelu,
        numpy_derivative=numpy_rrelu_grad,
        torch_builtin=lambda F, x, lower=1 / 8, upper=1 / 3: F.rrelu(x, lower, upper),
        builtin=_builtin,
        autodiff=lambda x, lower=1 / 8, upper=1 / 3: slope_forward(x, (lower + upper) / 2),
        kinks=kink_at_zero,
        param_sets=({}, {"lower": 0.1, "upper": 0.5}),
        layer_kwargs={"lower": 0.1, "upper": 0.5, "seed": 7},
        dead_rule=lambda params: ("input", 0.0),
        benchmarks=(Benchmark(goals={}),),
    ),
)
