"""Compiled TensorBoard writers for the captured norms.

Writing each scalar eagerly from Python costs more than a small model's train
step; here all the tags of one step are written by one ``tf.function`` call,
which reads the capture buffers itself, so the host sees no values at all.
"""

from __future__ import annotations

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
    """``write(slot, step) -> [applied, *layer norms]`` for ring row ``slot``, holding ``step``.

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

    @tf.function(autograph=False)
    def write(slot, step):
        applied = tf.equal(applied_step[slot], step) if stamped else tf.constant(True)
        per_layer = tf.zeros([n_layers], tf.float64)
        with writer.as_default(step=step):
            if n_layers:
                square = 2.0 * tf.cast(halves[slot], tf.float64)
                per_layer = tf.sqrt(tf.math.unsorted_segment_sum(square, segments, n_layers))
                with tf.summary.record_if(applied):
                    total = tf.cast(tf.sqrt(tf.reduce_sum(square)), tf.float32)
                    tf.summary.scalar(GLOBAL_TAG, total)
                    for k, tag in enumerate(layer_tags):
                        tf.summary.scalar(tag, tf.cast(per_layer[k], tf.float32))
            if lso:
                tf.summary.scalar(OVERFLOW_TAG, overflows[slot])
            for j, tag in enumerate(dead_tags):
                tf.summary.scalar(tag, dead[slot, j])
        return tf.concat([[tf.cast(applied, tf.float64)], per_layer], axis=0)

    return write


def make_histogram_writer(capture, writer):
    """``write()``: one histogram per variable of the last kept gradient copy."""
    hists = [capture.primary(h) for h in capture.hist]
    step = capture.primary(capture.hist_step)
    tags = [f"grad_hist/{v.path}" for v in capture.variables]

    @tf.function(autograph=False)
    def write():
        with writer.as_default(step=step.read_value()):
            for tag, hist in zip(tags, hists, strict=True):
                tf.summary.histogram(tag, hist.read_value())
        return tf.constant(True)

    return write
