"""Compiled TensorBoard writers for the captured norms.

Writing each scalar eagerly from Python costs more than a small model's train
step; here all the tags of one step are written by one ``tf.function`` call,
which reads the capture buffers itself, so the host sees no values at all.
"""

from __future__ import annotations

import functools

import tensorflow as tf

GLOBAL_TAG = "grad_norm/global"
OVERFLOW_TAG = "grad_norm/overflow_steps"


def scalar_tags(capture) -> list:
    """Every scalar tag ``capture`` can write, in writing order."""
    tags = [GLOBAL_TAG] + [f"grad_norm/{path}" for path in capture.layer_paths]
    if capture.inner is not None:
        tags.append(OVERFLOW_TAG)
    return tags + [f"dead_fraction/{path}" for _, path, _ in capture.dead_layers]


def check_tags(capture) -> None:
    """Refuses layer paths that would write over the monitor's own tags."""
    reserved = {GLOBAL_TAG, OVERFLOW_TAG}
    for path in capture.layer_paths:
        if f"grad_norm/{path}" in reserved:
            raise ValueError(
                f"GradientMonitor reserves the tag 'grad_norm/{path}', but a layer has the "
                f"path {path!r}. Rename that layer. Received: layer path={path!r}"
            )


def make_scalar_writer(capture, writer):
    """``write(slots, steps) -> [[applied, *layer norms], ...]`` for several logged steps.

    Row ``slots[i]`` of the ring holds step ``steps[i]``; one call writes them
    all, so that logging every step costs one call per drain, not per step.
    The norms come back (one small transfer) so that the callback can check
    the thresholds; ``applied`` is 0 for a step that updated no weights (one
    the loss scale optimizer skipped, or one that only accumulated gradients),
    and then no norm is written.
    """
    halves = capture.primary(capture.halves)
    applied_step = capture.primary(capture.applied_step)
    overflows = capture.primary(capture.overflows)
    dead = capture.primary(capture.dead)
    segments = tf.constant(capture.segments, tf.int32)
    n_layers = len(capture.layer_paths)
    layer_tags = [f"grad_norm/{path}" for path in capture.layer_paths]
    dead_tags = [f"dead_fraction/{path}" for _, path, _ in capture.dead_layers]
    stamped, lso = capture.stamped, capture.inner is not None

    def write(slots, steps):
        if stamped:
            applied = tf.equal(tf.gather(applied_step.read_value(), slots), steps)
        else:
            applied = tf.ones_like(steps, tf.bool)
        squares = 2.0 * tf.cast(tf.gather(halves.read_value(), slots), tf.float64)  # [n, vars]
        per_layer = tf.transpose(
            tf.sqrt(tf.math.unsorted_segment_sum(tf.transpose(squares), segments, n_layers))
        )  # [n, layers]
        total = tf.cast(tf.sqrt(tf.reduce_sum(squares, axis=1)), tf.float32)
        overflow = tf.gather(overflows.read_value(), slots)
        fractions = tf.gather(dead.read_value(), slots)

        def body(i):
            with tf.compat.v1.name_scope(None):  # no "while/" in front of the tags
                write_row(i)
            return (i + 1,)

        def write_row(i):
            step = steps[i]
            if n_layers:
                with tf.summary.record_if(applied[i]):
                    tf.summary.scalar(GLOBAL_TAG, total[i], step=step)
                    for k, tag in enumerate(layer_tags):
                        tf.summary.scalar(tag, tf.cast(per_layer[i, k], tf.float32), step=step)
            if lso:
                tf.summary.scalar(OVERFLOW_TAG, overflow[i], step=step)
            for j, tag in enumerate(dead_tags):
                tf.summary.scalar(tag, fractions[i, j], step=step)

        with writer.as_default():
            tf.while_loop(lambda i: i < tf.size(steps), body, (tf.constant(0),))
        return tf.concat([tf.cast(applied, tf.float64)[:, None], per_layer], axis=1)

    # One trace per writer, whatever the number of steps a drain writes.
    rows = tf.TensorSpec([None], tf.int64)
    return _own_function(write, input_signature=(rows, rows))


def make_histogram_writer(capture, writer):
    """``write()``: one histogram per variable of the last kept gradient copy."""
    hists = [capture.primary(h) for h in capture.hist]
    step = capture.primary(capture.hist_step)
    tags = [f"grad_hist/{v.path}" for v in capture.variables]

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
