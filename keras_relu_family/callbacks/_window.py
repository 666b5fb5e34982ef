"""Dead units over a window of steps, and which steps are logged (no TensorFlow import).

A unit (one channel: the last axis, or axis 1 of a ``channels_first``
layer) is *dead* at a logged step when it fired for no example and no
position of any step since the previous logged step; one firing anywhere in
the window makes it alive. The state is one bit per unit, kept as a float
0/1 vector: every training step ORs in the units that fired
(:func:`fired_units`, one reduction over the activation), a logged step reads
the fraction of zeros (:func:`dead_fraction`) and clears the bits. The maths
is written with ``keras.ops`` so that every backend shares it; where the bits
live (a TensorFlow variable, the JAX train state) is the backend's business.
"""

from __future__ import annotations

from keras import ops


def fired_units(inputs, outputs, rule, unit_axis=-1):
    """A float 0/1 vector over the units: 1 where the unit fired anywhere in this call.

    Args:
        inputs: The rectifier's input.
        outputs: Its output.
        rule: ``("output", v)``: fired where the output is ``> v``;
            ``("input", k)``: fired where the input is ``>= k``.
        unit_axis: The axis of the units.
    """
    kind, level = rule
    values = outputs if kind == "output" else inputs
    rank = len(values.shape)
    axis = unit_axis % rank
    top = ops.max(values, axis=[i for i in range(rank) if i != axis])
    level = ops.cast(level, top.dtype)
    fired = ops.greater(top, level) if kind == "output" else ops.greater_equal(top, level)
    return ops.cast(fired, "float32")


def units_of(values, unit_axis=-1):
    """The number of units of an activation, or ``None`` where its shape does not say."""
    shape = values.shape
    if len(shape) < 1:
        return None
    return shape[unit_axis % len(shape)]


def dead_fraction(fired_any):
    """The fraction of units whose bit is 0 (fired nowhere in the window)."""
    return 1.0 - ops.mean(fired_any)


def is_logged(step, update_freq: int):
    """Whether ``step`` (1-based) is a logged step: a multiple of ``update_freq``."""
    return ops.equal(step % update_freq, 0)


def logs_within(after: int, upto: int, freqs) -> bool:
    """Whether a step in ``after + 1 .. upto`` is a multiple of one of ``freqs``."""
    return any(upto // freq > after // freq for freq in freqs if freq)


def logged_steps(first: int, last: int, update_freq: int) -> list:
    """The logged steps in ``first .. last``."""
    return list(range(-(-first // update_freq) * update_freq, last + 1, update_freq))
