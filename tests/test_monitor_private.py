"""The private Keras API the monitor relies on (``keras_relu_family._keras_private``).

If one of these fails after a Keras upgrade, Keras has moved
``Layer._flatten_layers``: update ``_keras_private.flatten_layers`` and
``child_layers``. Without them the monitor cannot find the rectifiers inside
nested models or a layer given as another layer's ``activation=``.
"""

from __future__ import annotations

import keras

import keras_relu_family as krf
from keras_relu_family import _keras_private


def nested():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), krf.ReLU()], name="inner")
    head = keras.layers.Dense(1, activation=krf.PReLU(), name="head")
    outer = keras.Sequential([keras.Input((3,)), inner, head], name="outer")
    return outer, inner, head


def test_flatten_layers_finds_nested_layers_and_sublayers():
    outer, inner, head = nested()
    found = _keras_private.flatten_layers(outer)
    assert inner in found and inner.layers[1] in found and outer not in found
    assert head.activation in found  # a layer given as activation= is a sublayer


def test_child_layers_are_one_level_in_order():
    outer, inner, head = nested()

    def children(layer):  # a Sequential model's InputLayer is a child too
        found = _keras_private.child_layers(layer)
        return [c for c in found if not isinstance(c, keras.layers.InputLayer)]

    assert children(outer) == [inner, head]
    assert children(inner) == inner.layers
    assert children(head) == [head.activation]
