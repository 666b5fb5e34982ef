"""The ReLU family as Keras layers."""

from keras_relu_family.layers.exponential import CELU, ELU, SELU
from keras_relu_family.layers.rectifiers import LeakyReLU, PReLU, ReLU, ReLU6, RReLU
from keras_relu_family.layers.smooth import GELU, HardSwish, Mish, Softplus, Swish

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "HardSwish",
    "LeakyReLU",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "RReLU",
    "SELU",
    "Softplus",
    "Swish",
]
