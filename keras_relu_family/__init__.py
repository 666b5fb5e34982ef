"""keras_relu_family: the ReLU family for Keras 3, with hand-written gradients.

Import it as ``krf``::

    import keras_relu_family as krf

    y = krf.swish(x, beta=1.5)                      # a function
    layer = krf.PReLU(shared_axes=[1, 2])           # a layer
    keras.layers.Dense(64, activation="krf_elu")    # an activation string

Importing the package registers every layer and function for ``.keras``
saving and adds the ``"krf_<name>"`` activation strings to Keras; it never
replaces a name Keras already uses.
"""

from keras_relu_family import activations, baselines, layers, reference, registry
from keras_relu_family._keras_private import register_activation_strings
from keras_relu_family.activations import (
    celu,
    elu,
    gelu,
    hard_swish,
    leaky_relu,
    mish,
    prelu,
    relu,
    relu6,
    rrelu,
    selu,
    softplus,
    swish,
)
from keras_relu_family.callbacks import GradientMonitor, GradientWarning
from keras_relu_family.layers import (
    CELU,
    ELU,
    GELU,
    SELU,
    HardSwish,
    LeakyReLU,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Softplus,
    Swish,
)
from keras_relu_family.registry import REGISTRY, available, get

__version__ = "0.1.0"

register_activation_strings(registry.string_table())

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GradientMonitor",
    "GradientWarning",
    "REGISTRY",
    "SELU",
    "HardSwish",
    "LeakyReLU",
    "Mish",
    "PReLU",
    "RReLU",
    "ReLU",
    "ReLU6",
    "Softplus",
    "Swish",
    "activations",
    "available",
    "baselines",
    "celu",
    "elu",
    "gelu",
    "get",
    "hard_swish",
    "layers",
    "leaky_relu",
    "mish",
    "prelu",
    "reference",
    "registry",
    "relu",
    "relu6",
    "rrelu",
    "selu",
    "softplus",
    "swish",
]
