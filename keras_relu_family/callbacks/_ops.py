"""Small tensor helpers for the monitor's in-graph buffers."""

from __future__ import annotations

import tensorflow as tf


def state(initial_value, name: str) -> tf.Variable:
    """A non-trainable buffer: one copy per replica, read from the first; plain without one."""
    return tf.Variable(
        initial_value,
        trainable=False,
        name=f"krf_gradient_monitor_{name}",
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    )


def set_row(variable, index, value):
    """``variable[index] = value``, in replica context too (where scatters are refused)."""
    if isinstance(variable, tf.distribute.DistributedValues):
        variable.assign(tf.tensor_scatter_nd_update(variable.read_value(), [index], [value]))
    else:
        variable.scatter_nd_update([index], [value])


def half_square(gradient, num_rows=None) -> tf.Tensor:
    """Half the squared L2 norm of ``gradient``, in float32 (one fused op, ``tf.nn.l2_loss``).

    Past float32's range (norms above about 1.8e19) it is ``inf``.
    """
    if isinstance(gradient, tf.IndexedSlices):  # e.g. Embedding: sum duplicate rows first
        gradient = tf.math.unsorted_segment_sum(gradient.values, gradient.indices, num_rows)
    return tf.nn.l2_loss(tf.cast(gradient, tf.float32))


def count_updates(grads, trainable_variables) -> int | None:
    """How many ``update_step`` calls per device ``apply(grads, variables)`` makes."""
    if trainable_variables is None:
        return None
    return sum(
        g is not None and not getattr(v, "overwrite_with_gradient", False)
        for g, v in zip(grads, trainable_variables, strict=False)
    )
