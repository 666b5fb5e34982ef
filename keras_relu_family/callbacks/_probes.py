"""The dead-unit windows in TensorFlow: one bit per unit, ORed over the steps of a window.

Each probed rectifier gets a float 0/1 ``tf.Variable`` over its units (made
on its first traced call, when its shape is known). Every traced training
step ORs in the units that fired (``_window.fired_units``: one reduction of
the activation, then a ``maximum``), in the training forward pass itself.
A step traced for logging closes the window in ``optimizer.apply``: the bits
of every rectifier go into one vector, which one ``all_reduce`` combines
across replicas (a unit fired if it fired on any replica's share of the
global batch), the row of dead fractions is written to the ring buffer, and
at a logged step (a multiple of ``update_freq``, decided in the graph) the
bits are cleared.

Under a distribution strategy the bits are ``ON_READ`` variables: each
replica ORs into its own copy; only the logging steps communicate.
"""

from __future__ import annotations

import threading

import tensorflow as tf

from keras_relu_family.callbacks import _window
from keras_relu_family.callbacks._ops import set_row, state


def _make_zeros(strategy, units: int, name):
    """A zero buffer made while tracing: lifted out of the graph, distributed like the model."""
    with tf.init_scope():
        if tf.distribute.in_cross_replica_context():
            with strategy.scope():
                return state(tf.zeros([units]), name)
        return state(tf.zeros([units]), name)  # in a replica: the strategy's creator is active


class DeadUnits:
    """The bits and dead fractions of the probed rectifiers of one model.

    Args:
        targets: The ``Target`` objects, in tag order.
        strategy: The model's distribution strategy.
        ring: Rows of the dead-fraction buffer.
        update_freq: Steps per window.
    """

    def __init__(self, targets, strategy, ring: int, update_freq: int):
        self.targets = list(targets)
        self.strategy = strategy
        self.ring = ring
        self.update_freq = update_freq
        self.bits = {}  # target index -> variable over its units
        self._lock = threading.Lock()
        with strategy.scope():
            self.dead = state(tf.zeros([ring, max(len(self.targets), 1)]), "dead")

    @property
    def probed(self) -> list:
        """The indices of the targets that a traced step has called, in order."""
        return sorted(self.bits)

    def observe(self, index: int, inputs, outputs) -> None:
        """ORs the units of ``targets[index]`` that fired in this call into its bits."""
        target = self.targets[index]
        values = outputs if target.rule[0] == "output" else inputs
        if not isinstance(values, (tf.Tensor, tf.Variable)) or not values.shape.rank:
            return
        units = _window.units_of(values, target.unit_axis)
        bits = self._bits(index, units)
        if bits is None:
            return
        fired = _window.fired_units(inputs, outputs, target.rule, target.unit_axis)
        bits.assign(tf.maximum(bits.read_value(), fired))

    def _bits(self, index, units):
        with self._lock:  # MirroredStrategy traces its replicas in threads
            bits = self.bits.get(index)
            if bits is None and units is not None:
                bits = self.bits[index] = _make_zeros(self.strategy, units, f"dead_bits_{index}")
        if bits is None or bits.shape[0] != units:
            return None  # unknown units, or a second call with other units: not counted
        return bits

    def close(self, step, slot) -> None:
        """Writes the dead fractions of ``step`` at row ``slot``; clears the bits if logged.

        Runs in replica context (in ``optimizer.apply``) after the forward pass.
        """
        probed = self.probed
        if not probed:
            return
        local = [self.bits[j].read_value() for j in probed]
        flat = tf.concat(local, axis=0)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            flat = context.all_reduce(tf.distribute.ReduceOp.SUM, flat)
        pieces = tf.split(tf.cast(flat > 0, tf.float32), [int(b.shape[0]) for b in local])
        fractions = [_window.dead_fraction(piece) for piece in pieces]
        row = tf.scatter_nd([[j] for j in probed], tf.stack(fractions), [self.dead.shape[1]])
        set_row(self.dead, [slot], row)
        keep = 1.0 - tf.cast(_window.is_logged(step, self.update_freq), tf.float32)
        for j, bits in zip(probed, local, strict=True):
            self.bits[j].assign(bits * keep)
