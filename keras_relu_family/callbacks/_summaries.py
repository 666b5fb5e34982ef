"""Compiled TensorBoard writers for the captured norms, update ratios and dead fractions.

Writing each scalar eagerly from Python costs more than a small model's train
step; here all the tags of one step are written by one ``tf.function`` call,
which reads the capture buffers itself, so that only the per-layer values of
the logged steps come back to Python (for the warning rules and the table).
"""

from __future__ import annotations

import functools

import tensorflow as tf
from tensorboard.plugins.scalar import metadata as scalar_metadata

from keras_relu_family.callbacks import _tags
from keras_relu_family.callbacks._tags import GLOBAL_TAG, OVERFLOW_TAG, Layout  # noqa: F401

# What tf.summary.scalar writes, without its per-call scope and rank assertion: one op per
# tag, which matters for a model with hundreds of layers. TensorBoard reads it the same.
_SCALAR = scalar_metadata.create_summary_metadata(display_name=None, description=None)


def _scalar(tag: str, value, step) -> None:
    tf.summary.write(tag, tf.cast(value, tf.float32), step=step, metadata=_SCALAR)


def make_scalar_writer(capture, writer, layout: Layout):
    """``write(slots, steps) -> rows`` (see :class:`Layout`) for several logged steps.

    Row ``slots[i]`` of the ring holds step ``steps[i]``; one call writes them
    all, so that logging every step costs one call per drain, not per step.
    With ``writer=None`` it only reads the rows (steps that are not to be
    written: already on disk, or while the log directory is unavailable).
    ``applied`` is 0 for a step that updated no weights (one the loss scale
    optimizer skipped, or one that only accumulated gradients); then no norm
    or update ratio is written.
    """
    read = {
        name: capture.primary(getattr(capture, name))
        for name in ("halves", "applied_step", "overflows", "weight_halves", "update_halves")
    }
    dead = capture.primary(capture.dead.dead)
    segments = tf.constant(capture.segments, tf.int32)
    n_layers = len(layout.layer_paths)
    layer_tags = [_tags.grad_tag(p) for p in layout.layer_paths]
    ratio_tags = [_tags.ratio_tag(p) for p in layout.layer_paths] if layout.ratios else []
    dead_tags = [_tags.dead_tag(p) for p in layout.dead_paths]
    probed = tf.constant(layout.probed or [0], tf.int32)
    stamped, lso = capture.stamped, capture.inner is not None

    def per_layer(name, slots):
        squares = 2.0 * tf.cast(tf.gather(read[name].read_value(), slots), tf.float64)
        summed = tf.math.unsorted_segment_sum(tf.transpose(squares), segments, n_layers)
        return tf.transpose(summed), tf.reduce_sum(squares, axis=1)  # [n, layers], [n]

    def write(slots, steps):
        if stamped:
            applied = tf.equal(tf.gather(read["applied_step"].read_value(), slots), steps)
        else:
            applied = tf.ones_like(steps, tf.bool)
        squares, total = per_layer("halves", slots)
        norms, total = tf.sqrt(squares), tf.sqrt(total)
        columns = [tf.cast(applied, tf.float64)[:, None], total[:, None], norms]
        if ratio_tags:
            weights, _ = per_layer("weight_halves", slots)
            updates, _ = per_layer("update_halves", slots)
            columns.append(tf.sqrt(updates) / tf.sqrt(weights))
        fractions = tf.gather(tf.gather(dead.read_value(), slots), probed, axis=1)
        columns.append(tf.cast(fractions[:, : len(dead_tags)], tf.float64))
        table = tf.concat(columns, axis=1)
        width = 2 + len(layer_tags) + len(ratio_tags) + len(dead_tags)
        overflow = tf.gather(read["overflows"].read_value(), slots)

        def write_norms(k):  # the steps that applied an update: norms and update ratios
            i = applied_rows[k]
            step, row = steps[i], tf.unstack(tf.cast(table[i], tf.float32), width)
            _scalar(GLOBAL_TAG, row[1], step)
            for c, tag in enumerate(layer_tags + ratio_tags):
                _scalar(tag, row[2 + c], step)

        def write_rest(i):  # every logged step: overflows and dead fractions
            step, row = steps[i], tf.unstack(tf.cast(table[i], tf.float32), width)
            if lso:
                _scalar(OVERFLOW_TAG, overflow[i], step)
            for j, tag in enumerate(dead_tags):
                _scalar(tag, row[2 + len(layer_tags + ratio_tags) + j], step)

        if writer is not None:
            # Loops over the rows, not a condition per tag: tf.summary.record_if with a
            # tensor would make every scalar a tf.cond (seconds of tracing for a big model).
            applied_rows = tf.cast(tf.reshape(tf.where(applied), [-1]), tf.int32)
            with writer.as_default():
                if n_layers:
                    _loop(tf.size(applied_rows), write_norms)
                _loop(tf.size(steps), write_rest)
        return table

    # One trace per writer, whatever the number of steps a drain writes.
    rows = tf.TensorSpec([None], tf.int64)
    return _own_function(write, input_signature=(rows, rows))


def _loop(count, body) -> None:
    """``body(i)`` for ``i`` in ``0 .. count - 1``, as one ``tf.while_loop``."""

    def step(i):
        with tf.compat.v1.name_scope(None):  # no "while/" in front of the tags
            body(i)
        return (i + 1,)

    tf.while_loop(lambda i: i < count, step, (tf.constant(0),))


def make_histogram_writer(capture, writer):
    """``write()``: one histogram per variable of the last kept gradient copy."""
    hists = [capture.primary(h) for h in capture.hist]
    step = capture.primary(capture.hist_step)
    tags = [_tags.hist_tag(v.path) for v in capture.variables]

    def write():
        with writer.as_default(step=step.read_value()):
            for tag, hist in zip(tags, hists, strict=True):
                tf.summary.histogram(tag, hist.read_value())
        return tf.constant(True)

    return _own_function(write)


def _own_function(fn, **kwargs):
    """``tf.function(fn)`` whose traces TensorFlow counts apart from other writers'.

    TensorFlow warns about "excessive retracing" when functions with the same
    code object trace five times in a row, and every monitor's writer has
    the same code: a script that trains several models, each with its own
    monitor, would see the warning although each writer traces once. A
    ``functools.partial`` has no code object, so TensorFlow keys its count
    on the writer itself.
    """
    return tf.function(functools.partial(fn), autograph=False, **kwargs)
