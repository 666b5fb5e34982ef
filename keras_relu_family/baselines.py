"""TensorFlow's own versions of each activation, for comparison.

``builtin`` is the fastest built-in equivalent (``tf.nn.*`` or
``keras.activations.*``; Keras's PReLU formula for ``prelu``), the baseline
of the benchmarks. ``autodiff`` is the plain formula in TensorFlow ops with
TensorFlow's automatic gradient, the reference the gradient tests compare
against away from kinks. Neither uses this package's kernels.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


def _leaky_autodiff(x, negative_slope):
    return tf.where(x >= 0, x, negative_slope * x)


def _exp_autodiff(x, alpha, width=1.0):
    return tf.where(x >= 0, x, alpha * tf.math.expm1(tf.minimum(x, 0.0) / width))


def _softplus(x, beta, threshold):
    z = beta * x
    return tf.where(z > threshold, x, tf.nn.softplus(z) / beta)


def _cast(value, x):
    """A parameter in ``x``'s dtype; a Python number directly, not via float32."""
    if isinstance(value, (int, float)):
        return tf.constant(value, x.dtype)
    return tf.cast(value, x.dtype)


def _gelu_autodiff(x, approximate):
    # The accurate forms (tf.nn.gelu's 1 + erf and 1 + tanh cancel for x << 0).
    if approximate:
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return x * tf.sigmoid(2.0 * u)
    return x * 0.5 * tf.math.erfc(-x / math.sqrt(2.0))


BUILTIN = {
    "relu": lambda x: tf.nn.relu(x),
    "relu6": lambda x: tf.nn.relu6(x),
    "leaky_relu": lambda x, negative_slope=0.01: tf.nn.leaky_relu(x, alpha=negative_slope),
    # keras.layers.PReLU.call
    "prelu": lambda x, alpha: tf.nn.relu(x) - _cast(alpha, x) * tf.nn.relu(-x),
    "rrelu": lambda x, lower=1 / 8, upper=1 / 3: tf.nn.leaky_relu(x, alpha=(lower + upper) / 2),
    "elu": lambda x, alpha=1.0: tf.nn.elu(x) if alpha == 1.0 else keras.activations.elu(x, alpha),
    "selu": lambda x: tf.nn.selu(x),
    "celu": lambda x, alpha=1.0: keras.activations.celu(x, alpha),
    "gelu": lambda x, approximate=False: tf.nn.gelu(x, approximate=approximate),
    "swish": lambda x, beta=1.0: tf.nn.silu(x, beta=_cast(beta, x)),
    "mish": lambda x: keras.activations.mish(x),
    "hard_swish": lambda x: keras.activations.hard_swish(x),
    "softplus": lambda x, beta=1.0, threshold=20.0: (
        tf.nn.softplus(x) if beta == 1.0 else _softplus(x, beta, threshold)
    ),
}

AUTODIFF = {
    "relu": lambda x: tf.nn.relu(x),
    "relu6": lambda x: tf.nn.relu6(x),
    "leaky_relu": lambda x, negative_slope=0.01: _leaky_autodiff(x, negative_slope),
    "prelu": lambda x, alpha: _leaky_autodiff(x, _cast(alpha, x)),
    "rrelu": lambda x, lower=1 / 8, upper=1 / 3: _leaky_autodiff(x, (lower + upper) / 2),
    "elu": lambda x, alpha=1.0: _exp_autodiff(x, alpha),
    "selu": lambda x: tf.nn.selu(x),
    "celu": lambda x, alpha=1.0: _exp_autodiff(x, alpha, alpha),
    "gelu": lambda x, approximate=False: _gelu_autodiff(x, approximate),
    "swish": lambda x, beta=1.0: x * tf.sigmoid(_cast(beta, x) * x),
    "mish": lambda x: x * tf.tanh(tf.nn.softplus(x)),
    "hard_swish": lambda x: x * tf.nn.relu6(x + 3.0) / 6.0,
    "softplus": lambda x, beta=1.0, threshold=20.0: _softplus(x, beta, threshold),
}
