"""What every activation layer shares: arguments, naming, masking, shapes, config.

A layer is the function of its module with fixed arguments. Its class sets
``function`` and takes the function's fixed arguments in its constructor
(explicitly, with the function's defaults, which a test compares), and hands
them on to this base class, which checks them with the function's own checks,
keeps them as attributes and in the config, and calls the function with them.
A layer without weights is built at construction, as Keras's are.
"""

from __future__ import annotations

import inspect

import keras

from keras_relu_family import _keras_private


class ActivationLayer(keras.layers.Layer):
    """Base class: an element-wise activation with fixed Python arguments.

    Subclasses set ``function`` (a ``staticmethod``) and pass their fixed
    arguments by keyword to ``super().__init__``; they may override
    ``_create_state`` to make what they own (weights that need no input
    shape, seed generators) before the layer is built.
    """

    function = None
    _argument_names: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        taken = inspect.signature(cls.__init__).parameters
        cls._argument_names = tuple(
            name for name in inspect.signature(cls.function).parameters if name in taken
        )

    def __init__(self, name=None, **kwargs):
        arguments = {k: kwargs.pop(k) for k in self._argument_names if k in kwargs}
        if name is None:
            name = _keras_private.unique_layer_name(type(self).function.__name__)
        super().__init__(name=name, **kwargs)
        for key, value in type(self).function.check_arguments(**arguments).items():
            setattr(self, key, value)
        self.supports_masking = True
        self._create_state()
        _keras_private.build_at_init(self)

    def _create_state(self) -> None:
        """Makes the layer's own state (nothing by default)."""

    @property
    def arguments(self) -> dict:
        """The fixed arguments of the function, as the layer holds them."""
        return {key: getattr(self, key) for key in self._argument_names}

    def call(self, inputs):
        return type(self).function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(self.arguments)
        return config
