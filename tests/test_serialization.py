"""Config and object serialization of every layer (non-default arguments) and function."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_relu_family as krf

SPECS = list(krf.REGISTRY.values())
IDS = [spec.name for spec in SPECS]
PACKAGE = "keras_relu_family"


def _x():
    rng = np.random.default_rng(0)
    return rng.uniform(-4.0, 4.0, size=(3, 5)).astype("float32")


def _without_name(config):
    return {key: value for key, value in config.items() if key != "name"}


def _assert_same_layer(spec, original, restored):
    assert type(restored) is spec.layer
    assert restored.get_config() == original.get_config()
    x = _x()
    training = {"training": True} if spec.name == "rrelu" else {}
    # Both are unbuilt: same initializers and, for RReLU, the same seed.
    same = np.testing.assert_array_equal
    numpy = keras.ops.convert_to_numpy
    same(numpy(restored(x, **training)), numpy(original(x, **training)))
    same(numpy(restored(x)), numpy(original(x)))
    for a, b in zip(original.weights, restored.weights, strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_config_round_trip_with_non_default_arguments(spec):
    layer = spec.layer(**spec.layer_kwargs)
    config = layer.get_config()
    default = spec.layer(name=layer.name).get_config()
    for key in spec.layer_kwargs:
        assert config[key] != default[key], f"{key} is not a non-default argument"
    assert _without_name(config) != _without_name(default) or not spec.layer_kwargs
    restored = spec.layer.from_config(config)
    _assert_same_layer(spec, layer, restored)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_serialize_keras_object_round_trip(spec):
    layer = spec.layer(**spec.layer_kwargs)
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == f"{PACKAGE}>{spec.layer.__name__}"
    assert keras.saving.get_registered_object(serialized["registered_name"]) is spec.layer
    restored = keras.saving.deserialize_keras_object(serialized)
    _assert_same_layer(spec, layer, restored)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_function_serialize_round_trip(spec):
    registered = f"{PACKAGE}>{spec.name}"
    assert keras.saving.get_registered_name(spec.function) == registered
    assert keras.saving.get_registered_object(registered) is spec.function

    serialized = keras.activations.serialize(spec.function)
    assert serialized["config"] == registered
    assert keras.activations.deserialize(serialized) is spec.function
    assert keras.activations.deserialize(registered) is spec.function

    generic = keras.saving.serialize_keras_object(spec.function)
    assert keras.saving.deserialize_keras_object(generic) is spec.function


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_as_activation_argument_round_trips(spec):
    """Dense(activation=<layer instance>) keeps the instance's arguments through its config."""
    dense = keras.layers.Dense(5, activation=spec.layer(**spec.layer_kwargs))
    restored = keras.layers.Dense.from_config(dense.get_config())
    assert type(restored.activation) is spec.layer
    assert restored.activation.get_config() == dense.activation.get_config()
