"""keras_relu_family: the ReLU family for Keras 3, with hand-written gradients.

Import it as ``krf``::

    import keras_relu_family as krf

    y = krf.swish(x, beta=1.5)                      # a function
    layer = krf.PReLU(shared_axes=[1, 2])           # a layer
    keras.layers.Dense(64, activation="krf_elu")    # an activation string

Importing the package registers every layer and function for ``.keras``
saving and adds the ``"krf_<name>"`` activation strings to Keras; it never
replaces a name Keras already uses. The functions and layers exported here
are generated from :data:`REGISTRY`.
"""

from keras_relu_family import activations, layers, registry
from keras_relu_family._keras_private import register_activation_strings
from keras_relu_family.registry import REGISTRY, available, get

__version__ = "0.1.0"

globals().update({name: getattr(activations, name) for name in activations.__all__})
globals().update({name: getattr(layers, name) for name in layers.__all__})

register_activation_strings(registry.string_table())

__all__ = [
    "GradientMonitor",
    "GradientWarning",
    "REGISTRY",
    "activations",
    "available",
    "get",
    "layers",
    "registry",
]
__all__ += activations.__all__ + layers.__all__

_CALLBACKS = ("GradientMonitor", "GradientWarning")


def __getattr__(name):
    # The callbacks import their backend's training machinery: only when asked for.
    if name in _CALLBACKS:
        from keras_relu_family import callbacks

        return getattr(callbacks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
