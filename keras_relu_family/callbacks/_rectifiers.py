"""Which layers of a model compute a rectifier, by which dead-unit rule (no TensorFlow import).

A rule is ``("output", v)`` (a unit fired where its output is ``> v``) or
``("input", k)`` (it fired where its input is ``>= k``, the kink below which
no gradient passes but a leaky slope's). This package's activations carry
their rule in the registry (``registry.spec_of(obj).dead_rule_of(obj)``);
Keras's own rectifiers have theirs in :func:`keras_rule`, the one table of
them. A rectifier is found in two forms:

* ``"activation"``: a layer whose ``activation`` attribute is a rectifier
  function (``Dense(..., activation="relu")``, ``Conv2D``, ``Activation``):
  the monitor probes that layer's call and names the tag after it;
* ``"call"``: a rectifier layer (``keras.layers.ReLU``, ``LeakyReLU``,
  ``PReLU``, this package's layers), also when it is another layer's
  ``activation=`` (it is then that layer's sublayer).

Functions the table does not know (a lambda, a ``functools.partial``) are
not probed.
"""

from __future__ import annotations

import dataclasses
import sys

import keras

from keras_relu_family import _keras_private, registry

OUTPUT_ZERO = ("output", 0.0)
INPUT_ZERO = ("input", 0.0)


def _keras_relu_layer(layer) -> tuple:
    slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
    threshold = float(getattr(layer, "threshold", 0.0) or 0.0)
    # Below the threshold the output is slope * (x - threshold): 0 only without a slope.
    return OUTPUT_ZERO if slope == 0.0 and threshold == 0.0 else ("input", threshold)


def _function_table() -> dict:
    """Keras's rectifier functions (and TensorFlow's, when it is loaded) at their defaults."""
    table = {
        keras.activations.relu: OUTPUT_ZERO,
        keras.activations.relu6: OUTPUT_ZERO,
        keras.activations.leaky_relu: INPUT_ZERO,
        keras.ops.relu: OUTPUT_ZERO,
        keras.ops.relu6: OUTPUT_ZERO,
        keras.ops.leaky_relu: INPUT_ZERO,
    }
    tf = sys.modules.get("tensorflow")  # passed as activation= in TensorFlow code
    if tf is not None and hasattr(tf, "nn"):
        table.update({tf.nn.relu: OUTPUT_ZERO, tf.nn.relu6: OUTPUT_ZERO})
        table[tf.nn.leaky_relu] = INPUT_ZERO
    return table


_LAYER_TABLE = {
    keras.layers.ReLU: _keras_relu_layer,
    keras.layers.LeakyReLU: lambda layer: INPUT_ZERO,
    keras.layers.PReLU: lambda layer: INPUT_ZERO,
}


def keras_rule(obj):
    """The rule of one of Keras's own rectifiers (a function or a layer), else ``None``."""
    if isinstance(obj, keras.layers.Layer):
        rule = _LAYER_TABLE.get(type(obj))
        return None if rule is None else rule(obj)
    try:
        return _function_table().get(obj)
    except TypeError:  # an unhashable callable
        return None


def rule_of(obj):
    """The dead-unit rule of a function, layer class instance, or ``None`` if not a rectifier."""
    entry = registry.spec_of(obj)
    if entry is not None:
        return entry.dead_rule_of(obj)
    return keras_rule(obj)


@dataclasses.dataclass(eq=False)
class Target:
    """One probed rectifier.

    Attributes:
        layer: The layer whose call computes it.
        form: ``"activation"`` (its ``activation`` attribute) or ``"call"``.
        rule: ``("output", v)`` or ``("input", k)``.
        parent: The layer or model that holds ``layer`` (for its tag path).
        unit_axis: The axis of the units: the channels (``-1``, or ``1`` for
            a ``channels_first`` layer).
    """

    layer: object
    form: str
    rule: tuple
    parent: object
    unit_axis: int = -1

    @property
    def path(self) -> str:
        return tag_path(self.layer, self.parent)


def find_rectifiers(model) -> list:
    """``[Target]`` for every rectifier inside ``model``, in the model's layer order."""
    found, seen = [], set()

    def visit(parent):
        for layer in _keras_private.child_layers(parent):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            target = _target(layer, parent)
            if target is not None:
                found.append(target)
            visit(layer)

    visit(model)
    return found


def _target(layer, parent):
    rule = rule_of(layer)
    if rule is not None:
        return Target(layer, "call", tuple(rule), parent)
    activation = vars(layer).get("activation")
    if activation is None or isinstance(activation, keras.layers.Layer):
        return None  # a layer as activation= is a sublayer: found as "call"
    rule = rule_of(activation)
    if rule is None:
        return None
    axis = 1 if getattr(layer, "data_format", None) == "channels_first" else -1
    return Target(layer, "activation", tuple(rule), parent, axis)


def tag_path(layer, parent) -> str:
    """The layer path of ``layer``, as its variables' paths would have it.

    A layer with weights knows it (``layer.path``, ``sequential/conv2d``); a
    layer without (``Activation``, ``ReLU``) takes the prefix of a sibling
    that has one (``sequential/`` in a Sequential model, none in a
    functional one), else its parent's path.
    """
    own = getattr(layer, "path", None)
    if own:
        return own
    for sibling in _keras_private.child_layers(parent):
        path = getattr(sibling, "path", None)
        if path and path.rsplit("/", 1)[-1] == sibling.name:
            return path[: len(path) - len(sibling.name)] + layer.name
    parent_path = getattr(parent, "path", None)
    return f"{parent_path}/{layer.name}" if parent_path else layer.name


def layer_order(model) -> dict:
    """``{tag path: position}`` of every layer inside ``model``, depth first."""
    order = {}

    def visit(parent):
        for layer in _keras_private.child_layers(parent):
            path = tag_path(layer, parent)
            if path in order:
                continue
            order[path] = len(order)
            visit(layer)

    visit(model)
    return order
