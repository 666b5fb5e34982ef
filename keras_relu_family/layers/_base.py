"""What every activation layer shares: naming, masking, shapes, config."""

from __future__ import annotations

import inspect

import keras

from keras_relu_family._keras_private import unique_layer_name

PACKAGE = "keras_relu_family"


def defaults(function) -> dict:
    """The keyword defaults of ``function``: the single source for the layer's defaults."""
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


class ActivationLayer(keras.layers.Layer):
    """Base class: an element-wise activation with fixed Python parameters.

    Subclasses set ``activation_name`` (the registry name, also the default
    layer name), implement ``call`` and list their constructor arguments in
    ``_config_keys``.
    """

    activation_name: str = ""
    _config_keys: tuple = ()
    # Set by ``GradientMonitor`` while it trains the model; called as
    # ``probe(layer, inputs, outputs)`` in training forward passes only.
    _dead_unit_probe = None

    def __init__(self, name=None, **kwargs):
        if name is None:
            name = unique_layer_name(self.activation_name)
        super().__init__(name=name, **kwargs)
        self.supports_masking = True

    def _probe_dead_units(self, inputs, outputs, training):
        """Hands a training forward pass to the attached probe; a no-op otherwise."""
        if training and self._dead_unit_probe is not None:
            self._dead_unit_probe(self, inputs, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config
