"""The ReLU family as functions with hand-written gradients.

Every function takes a floating-point tensor (float16, bfloat16, float32 or
float64) and returns one of the same dtype and shape; Python numbers and
lists become float32, integer input is refused with a ``TypeError``. The
backward pass of each is a derivative written by hand and wired through
``tf.custom_gradient``.

Convention at a kink: the derivative there is the derivative of the branch
on the right, so ``x >= 0`` takes the positive branch and ``relu'(0) = 1``
(TensorFlow's built-ins disagree with each other at 0: ``tf.nn.relu`` gives
0, ``tf.nn.leaky_relu`` gives ``alpha``, ``tf.nn.elu`` gives 1).

A NaN input gives a NaN output and a NaN gradient.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_relu_family import _validation as check
from keras_relu_family._kernels import apply
from keras_relu_family._kernels import exponential as _exp
from keras_relu_family._kernels import rectifiers as _rect
from keras_relu_family._kernels import smooth as _smooth

__all__ = [
    "celu",
    "elu",
    "gelu",
    "hard_swish",
    "leaky_relu",
    "mish",
    "prelu",
    "relu",
    "relu6",
    "rrelu",
    "selu",
    "softplus",
    "swish",
]


def _non_negative(name):
    return lambda value: check.number(name, value, minimum=0.0)


def _positive(name):
    return lambda value: check.number(name, value, minimum=0.0, strict=True)


# The one place that says which values each fixed parameter accepts; the
# functions and the layers both validate through `check_args`.
_ARG_CHECKS = {
    "leaky_relu": {"negative_slope": _non_negative("negative_slope")},
    "rrelu": {"lower": _non_negative("lower"), "upper": _non_negative("upper")},
    "elu": {"alpha": _non_negative("alpha")},
    "celu": {"alpha": _positive("alpha")},
    "gelu": {"approximate": lambda value: check.boolean("approximate", value)},
    "swish": {"beta": lambda value: check.number("beta", value)},
    "softplus": {"beta": _positive("beta"), "threshold": _positive("threshold")},
}


def check_args(activation: str, **kwargs) -> dict:
    """Validates the fixed parameters of ``activation``; returns them normalized."""
    checks = _ARG_CHECKS.get(activation, {})
    out = {name: checks[name](value) for name, value in kwargs.items()}
    if activation == "rrelu":
        check.ordered("lower", out["lower"], "upper", out["upper"])
    return out


def _param_tensor(name: str, value, x: tf.Tensor, caller: str) -> tf.Tensor:
    """A trainable parameter as a tensor; refuses integer and bool values.

    A Python number takes the precision the kernel computes in (float64 for
    float64 input, float32 for the others); a tensor or array keeps its dtype.
    """
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        dtype = tf.as_dtype(dtype)
        if dtype not in check.FLOAT_DTYPES:
            raise TypeError(
                f"{caller}: `{name}` must be floating-point. "
                f"Received: {name} with dtype={dtype.name}"
            )
        return tf.convert_to_tensor(value, dtype=dtype)
    if isinstance(value, bool):
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    hint = tf.float64 if x.dtype == tf.float64 else tf.float32
    tensor = tf.convert_to_tensor(value, dtype_hint=hint)
    if tensor.dtype not in check.FLOAT_DTYPES:
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    return tensor


def relu(x):
    """Rectified linear unit.

    Formula:
    ```
    relu(x) = x if x >= 0 else 0
    relu'(x) = 1 if x >= 0 else 0        (so relu'(0) = 1)
    ```

    Args:
        x: Floating-point input tensor.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.relu([-2.0, 0.0, 3.0]).numpy()
    array([0., 0., 3.], dtype=float32)

    Reference:
        - [Nair & Hinton, 2010](https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf)
    """
    return apply(_rect.RELU, check.float_tensor(x, caller="relu"))


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

    >>> import keras_relu_family as krf
    >>> krf.relu6([-1.0, 3.0, 9.0]).numpy()
    array([0., 3., 6.], dtype=float32)

    Reference:
        - [Krizhevsky, 2010](https://www.cs.toronto.edu/~kriz/conv-cifar10-aug2010.pdf)
    """
    return apply(_rect.RELU6, check.float_tensor(x, caller="relu6"))


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

    >>> import keras_relu_family as krf
    >>> krf.leaky_relu([-2.0, 0.0, 3.0], negative_slope=0.5).numpy()
    array([-1.,  0.,  3.], dtype=float32)

    Reference:
        - [Maas et al., 2013](https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf)
    """
    args = check_args("leaky_relu", negative_slope=negative_slope)
    return apply(_rect.LEAKY_RELU, check.float_tensor(x, caller="leaky_relu"), **args)


def prelu(x, alpha):
    """Parametric ReLU: a learned slope for negative inputs.

    Formula:
    ```
    prelu(x) = x if x >= 0 else alpha * x     (piecewise, not max(x, alpha * x))
    d/dx     = 1 if x >= 0 else alpha
    d/dalpha = 0 if x >= 0 else x             (summed over broadcast axes)
    ```

    Args:
        x: Floating-point input tensor.
        alpha: Floating-point tensor (or variable) broadcastable to ``x``. It is
            cast to ``x``'s dtype for the computation, and its gradient comes
            back in its own dtype and shape.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.prelu([-2.0, 0.0, 3.0], alpha=0.25).numpy()
    array([-0.5,  0. ,  3. ], dtype=float32)

    Reference:
        - [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """
    x = check.float_tensor(x, caller="prelu")
    return apply(_rect.PRELU, x, (_param_tensor("alpha", alpha, x, "prelu"),))


def _rrelu_slopes(x, lower, upper, seed):
    dtype = tf.float32 if x.dtype in (tf.float16, tf.bfloat16) else x.dtype
    shape = tf.shape(x)
    if seed is None:
        return tf.random.uniform(shape, lower, upper, dtype=dtype)
    if isinstance(seed, keras.random.SeedGenerator):
        return keras.random.uniform(shape, lower, upper, dtype=dtype, seed=seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"`seed` must be None, an int or a keras.random.SeedGenerator. Received: seed={seed!r}"
        )
    return tf.random.stateless_uniform(
        shape, seed=[seed, 0], minval=lower, maxval=upper, dtype=dtype
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

    >>> import keras_relu_family as krf
    >>> krf.rrelu([-3.0, 0.0, 3.0], lower=0.25, upper=0.75).numpy()
    array([-1.5,  0. ,  3. ], dtype=float32)

    Reference:
        - [Xu et al., 2015](https://arxiv.org/abs/1505.00853)
    """
    lower, upper = check_args("rrelu", lower=lower, upper=upper).values()
    x = check.float_tensor(x, caller="rrelu")

    def train():
        slopes = _rrelu_slopes(x, lower, upper, seed)
        return apply(_rect.RRELU, x, slopes=slopes)

    def infer():
        return apply(_rect.LEAKY_RELU, x, negative_slope=(lower + upper) / 2.0)

    if training is None or isinstance(training, bool):
        return train() if training else infer()
    return tf.cond(tf.cast(training, tf.bool), train, infer)


def elu(x, alpha=1.0):
    """Exponential linear unit.

    Formula:
    ```
    elu(x) = x if x >= 0 else alpha * (exp(x) - 1)
    elu'(x) = 1 if x >= 0 else alpha * exp(x) = elu(x) + alpha
    ```

    Args:
        x: Floating-point input tensor.
        alpha: Scale of the negative saturation, a finite number ``>= 0``.
            Defaults to `1.0`.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.elu([-1.0, 0.0, 2.0]).numpy().round(4)
    array([-0.6321,  0.    ,  2.    ], dtype=float32)

    Reference:
        - [Clevert et al., 2015](https://arxiv.org/abs/1511.07289)
    """
    kernel, static = _exp.elu_kernel(**check_args("elu", alpha=alpha))
    return apply(kernel, check.float_tensor(x, caller="elu"), **static)


def selu(x):
    """Scaled exponential linear unit, with the fixed constants of the paper.

    Formula:
    ```
    selu(x) = scale * (x if x >= 0 else alpha * (exp(x) - 1))
    selu'(x) = scale if x >= 0 else selu(x) + scale * alpha
    alpha = 1.6732632423543772, scale = 1.0507009873554805
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.selu([-1.0, 0.0, 1.0]).numpy().round(4)
    array([-1.1113,  0.    ,  1.0507], dtype=float32)

    Reference:
        - [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """
    return apply(_exp.SELU, check.float_tensor(x, caller="selu"))


def celu(x, alpha=1.0):
    """Continuously differentiable exponential linear unit.

    Formula:
    ```
    celu(x) = x if x >= 0 else alpha * (exp(x / alpha) - 1)
    celu'(x) = 1 if x >= 0 else exp(x / alpha) = celu(x) / alpha + 1
    ```

    Args:
        x: Floating-point input tensor.
        alpha: A finite number ``> 0``. Defaults to `1.0`.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.celu([-1.0, 0.0, 2.0], alpha=2.0).numpy().round(4)
    array([-0.7869,  0.    ,  2.    ], dtype=float32)

    Reference:
        - [Barron, 2017](https://arxiv.org/abs/1704.07483)
    """
    kernel, static = _exp.celu_kernel(**check_args("celu", alpha=alpha))
    return apply(kernel, check.float_tensor(x, caller="celu"), **static)


def gelu(x, approximate=False):
    """Gaussian error linear unit.

    Formula:
    ```
    gelu(x) = x * Phi(x),  Phi(x) = erfc(-x / sqrt(2)) / 2
    gelu'(x) = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi)
    approximate: x * sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3)
                 (the same as 0.5 x (1 + tanh(u)), without its cancellation)
    ```

    Args:
        x: Floating-point input tensor.
        approximate: Use the tanh approximation. Defaults to `False`.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.gelu([-1.0, 0.0, 1.0]).numpy().round(4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)

    Reference:
        - [Hendrycks & Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """
    args = check_args("gelu", approximate=approximate)
    return apply(_smooth.GELU, check.float_tensor(x, caller="gelu"), **args)


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

    >>> import keras_relu_family as krf
    >>> krf.swish([-1.0, 0.0, 1.0]).numpy().round(4)
    array([-0.2689,  0.    ,  0.7311], dtype=float32)

    Reference:
        - [Ramachandran et al., 2017](https://arxiv.org/abs/1710.05941)
    """
    x = check.float_tensor(x, caller="swish")
    if isinstance(beta, (tf.Tensor, tf.Variable)) or hasattr(beta, "dtype"):
        return apply(_smooth.SWISH, x, (_param_tensor("beta", beta, x, "swish"),))
    return apply(_smooth.SWISH, x, fixed_beta=check_args("swish", beta=beta)["beta"])


def mish(x):
    """Mish: a self-regularized non-monotonic gate.

    Formula:
    ```
    mish(x) = x * tanh(softplus(x))
    mish'(x) = tanh(sp) + x * sigmoid(x) * sech(sp)^2,  sp = softplus(x)
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.mish([-1.0, 0.0, 1.0]).numpy().round(4)
    array([-0.3034,  0.    ,  0.8651], dtype=float32)

    Reference:
        - [Misra, 2019](https://arxiv.org/abs/1908.08681)
    """
    return apply(_smooth.MISH, check.float_tensor(x, caller="mish"))


def hard_swish(x):
    """Hard swish, the piecewise-polynomial swish of MobileNetV3.

    Formula:
    ```
    hard_swish(x) = x * relu6(x + 3) / 6
    hard_swish'(x) = 0 if x < -3; (2x + 3) / 6 if -3 <= x < 3; 1 if x >= 3
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import keras_relu_family as krf
    >>> krf.hard_swish([-4.0, 0.0, 1.0, 4.0]).numpy().round(4)
    array([-0.    ,  0.    ,  0.6667,  4.    ], dtype=float32)

    Reference:
        - [Howard et al., 2019](https://arxiv.org/abs/1905.02244)
    """
    return apply(_smooth.HARD_SWISH, check.float_tensor(x, caller="hard_swish"))


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

    >>> import keras_relu_family as krf
    >>> krf.softplus([-1.0, 0.0, 30.0]).numpy().round(4)
    array([ 0.3133,  0.6931, 30.    ], dtype=float32)

    Reference:
        - [Dugas et al., 2001](https://papers.nips.cc/paper/1920-incorporating-second-order-functional-knowledge-for-better-option-pricing)
    """
    args = check_args("softplus", beta=beta, threshold=threshold)
    return apply(_smooth.SOFTPLUS, check.float_tensor(x, caller="softplus"), **args)
