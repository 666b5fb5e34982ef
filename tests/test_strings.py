"""Activation strings: ``"krf_<name>"`` and ``"keras_relu_family><name>"`` wherever Keras takes one.

Whether importing the package leaves Keras's own names alone is also checked
in a fresh process, before and after the import (``test_saving.py``).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from keras_relu_family._keras_private import activation_table
from tests._integration_helpers import string_names

STRING_SPECS = [(name, spec) for spec in krf.REGISTRY.values() for name in spec.string_names]
IDS = [name for name, _ in STRING_SPECS]


def _x(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-3.0, 3.0, size=shape).astype("float32")


def test_both_names_for_every_activation_without_required_parameters():
    for spec in krf.REGISTRY.values():
        expected = (f"krf_{spec.name}", f"keras_relu_family>{spec.name}")
        if spec.string:
            assert spec.string_names == expected
            assert expected[1] == keras.saving.get_registered_name(spec.function)
        else:
            # Only activations whose trainable parameter is required lack a string.
            assert spec.trainable, spec.name
            for name in expected:
                with pytest.raises(ValueError, match="Could not interpret activation"):
                    keras.activations.get(name)
    assert len(string_names()) == 2 * sum(spec.string for spec in krf.REGISTRY.values())


@pytest.mark.parametrize(("name", "spec"), STRING_SPECS, ids=IDS)
def test_string_works_wherever_keras_takes_an_activation(name, spec):
    assert keras.activations.get(name) is spec.function
    x = _x((2, 5, 5, 3))

    dense = keras.layers.Dense(4, activation=name)
    linear = keras.layers.Dense(4)
    flat = x.reshape(-1, 3)
    linear.build(flat.shape)
    dense.build(flat.shape)
    dense.set_weights(linear.get_weights())
    numpy = keras.ops.convert_to_numpy
    np.testing.assert_array_equal(numpy(dense(flat)), numpy(spec.function(linear(flat))))

    conv = keras.layers.Conv2D(2, 3, activation=name)
    conv_linear = keras.layers.Conv2D(2, 3)
    conv_linear.build(x.shape)
    conv.build(x.shape)
    conv.set_weights(conv_linear.get_weights())
    np.testing.assert_array_equal(numpy(conv(x)), numpy(spec.function(conv_linear(x))))

    np.testing.assert_array_equal(numpy(keras.layers.Activation(name)(x)), numpy(spec.function(x)))


def test_keras_names_are_never_ours():
    """Every key we did not add still names a Keras object, not one of ours."""
    ours = set(string_names())
    for key, obj in activation_table().items():
        if key in ours:
            assert obj.__module__.startswith("keras_relu_family"), key
        else:
            assert not getattr(obj, "__module__", "").startswith("keras_relu_family"), key
    for key in ("relu", "elu", "selu", "gelu", "silu", "swish", "softplus", "leaky_relu"):
        assert keras.activations.get(key).__module__.startswith("keras"), key


def test_string_model_saves_and_loads_with_the_same_functions(tmp_path):
    x = _x((3, 6, 6, 2))
    blocks = []
    for name, _ in STRING_SPECS:
        blocks += [keras.layers.Conv2D(2, 3, padding="same", activation=name)]
    model = keras.Sequential(
        [keras.Input((6, 6, 2)), *blocks, keras.layers.Activation("krf_elu"), keras.layers.Dense(3)]
    )
    path = tmp_path / "strings.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    functions = [layer.activation for layer in loaded.layers[: len(STRING_SPECS)]]
    assert functions == [spec.function for _, spec in STRING_SPECS]
    assert loaded.layers[len(STRING_SPECS)].activation is krf.elu
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )
