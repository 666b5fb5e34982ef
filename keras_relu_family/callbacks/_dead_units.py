"""Which layers count as rectifiers, and their dead-unit fraction in one forward pass.

A unit (one index of the last axis) is *dead* for a batch when it did not fire
for any example and any position of that batch:

* ``ReLU`` and ``ReLU6``: its output is 0 everywhere (they pass no gradient
  for negative inputs);
* the leaky family, ``LeakyReLU``, ``PReLU`` and ``RReLU``: its input is
  negative everywhere (only the small negative slope carries gradient).

The smooth and exponential layers (ELU, SELU, CELU, GELU, Swish, Mish, ...)
are not probed: their gradient is nowhere exactly zero, so "dead" has no
sharp meaning for them.
"""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family import _keras_private
from keras_relu_family.layers import LeakyReLU, PReLU, ReLU, ReLU6, RReLU

RULES = {ReLU: "output", ReLU6: "output", LeakyReLU: "input", PReLU: "input", RReLU: "input"}


def find_rectifiers(model) -> list:
    """``[(layer, tag path, rule)]`` for every probed layer inside ``model``."""
    found, seen = [], set()
    for layer in _keras_private.flatten_layers(model):
        rule = RULES.get(type(layer))
        if rule is None or id(layer) in seen:
            continue
        seen.add(id(layer))
        found.append((layer, getattr(layer, "path", None) or layer.name, rule))
    return found


def dead_fraction(inputs, outputs, rule: str) -> tf.Tensor:
    """The fraction of last-axis units that did not fire anywhere in the (global) batch.

    One pass over the activations: a unit never fired when the largest output
    is 0 (ReLU, ReLU6: outputs are >= 0) or the largest input is negative (the
    leaky family).
    """
    values = outputs if rule == "output" else inputs
    top = tf.reduce_max(values, axis=list(range(values.shape.rank - 1)))
    dead = tf.equal(top, 0) if rule == "output" else tf.less(top, 0)
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        # Dead in the global batch: dead on every replica's share of it.
        fired = context.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(dead, tf.float32))
        dead = tf.equal(fired, 0.0)
    return tf.reduce_mean(tf.cast(dead, tf.float32))
