"""What ``fit`` and a watched custom loop share: one capture, its hooks and probes.

An ``Engine`` ties a :class:`GradientCapture` (the buffers and optimizer hooks)
to an :class:`Attachment` (the dead-unit probes on the layers), attaches and
detaches both, marks the traced training step, picks the mode of each call
and keeps the step count in line with ``optimizer.iterations``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_relu_family.callbacks import _window
from keras_relu_family.callbacks._attach import Attachment
from keras_relu_family.callbacks._capture import COUNT, FULL, GradientCapture
from keras_relu_family.callbacks._rectifiers import find_rectifiers


def iterations_of(optimizer) -> int:
    return int(tf.convert_to_tensor(optimizer.iterations).numpy())


def exact_steps(optimizer) -> bool:
    """Whether ``optimizer.iterations`` counts every ``apply`` call (the monitor's step).

    It does not under a ``LossScaleOptimizer`` (skipped steps do not count)
    or with ``gradient_accumulation_steps`` (only applying steps count).
    """
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        return False
    return not getattr(optimizer, "gradient_accumulation_steps", None)


class Engine:
    """The in-graph side of one monitored model and optimizer.

    Args:
        monitor: The ``GradientMonitor`` (its settings and logger).
        model: The model.
        optimizer: The optimizer that trains it.
        ring: Rows of the capture's ring buffer.
        first_step: The step count to start from.
    """

    def __init__(self, monitor, model, optimizer, ring, first_step):
        self.monitor = monitor
        self.model = model
        self.optimizer = optimizer
        targets = find_rectifiers(model) if monitor.dead_units else []
        self.capture = GradientCapture(
            model,
            optimizer,
            ring,
            first_step,
            monitor.update_freq,
            monitor.histogram_freq,
            targets,
            monitor.update_ratios,
        )
        self.attachment = Attachment(targets, self.capture.probe, self.capture.active)
        self._train_step = None

    @property
    def step(self) -> int:
        return int(self.capture.read(self.capture.steps))

    @property
    def attached(self) -> bool:
        return bool(self.capture._saved) or self.attachment.attached or bool(self._train_step)

    def reusable(self, model, optimizer, ring) -> bool:
        """Whether this engine (and the functions traced with it) still fits ``model``."""
        capture = self.capture
        targets = find_rectifiers(model) if self.monitor.dead_units else []
        return (
            capture.ready
            and capture.model is model
            and capture.outer is optimizer
            and capture.ring == ring
            and [id(v) for v in capture.variables] == [id(v) for v in model.trainable_variables]
            and [(id(t.layer), t.form) for t in capture.targets]
            == [(id(t.layer), t.form) for t in targets]
        )

    def attach(self, wrap_train_step: bool) -> None:
        """Installs the optimizer hooks and the probes (and marks ``model.train_step``)."""
        self.detach()
        self.capture.install()
        self.attachment.attach()
        if wrap_train_step:
            original = self.model.train_step
            capture = self.capture

            def train_step(data):
                with capture.tracing():
                    return original(data)

            object.__setattr__(self.model, "train_step", train_step)
            self._train_step = train_step

    def detach(self) -> None:
        self.capture.uninstall()
        self.attachment.detach()
        if self._train_step is not None and vars(self.model).get("train_step") is self._train_step:
            object.__delattr__(self.model, "train_step")
        self._train_step = None

    def begin_batch(self) -> None:
        """Nothing: on TensorFlow the traced train step marks itself (``attach``)."""

    def end_batch(self) -> None:
        """Nothing (see :meth:`begin_batch`)."""

    def select(self, done: int, upto: int) -> str:
        """The mode of a call that runs steps ``done + 1 .. upto`` (set on the capture)."""
        monitor = self.monitor
        freqs = (monitor.update_freq, monitor.histogram_freq)
        mode = FULL if _window.logs_within(done, upto, freqs) else COUNT
        self.capture.mode = mode  # read when the function traces (first call, shapes)
        return mode

    def sync(self, iterations: int) -> None:
        """Moves the step count to ``iterations`` where it must, before the first step.

        Forward after steps trained without the monitor; back after a restore
        (``BackupAndRestore``) wound ``optimizer.iterations`` back, where it
        counts every step exactly. Steps already on disk are not written again.
        """
        step = self.step
        if iterations > step or (iterations < step and exact_steps(self.optimizer)):
            self.capture.set_steps(iterations)
            step = iterations
        logger = self.monitor._logger
        logger.drained = step
        logger.hist_written = int(self.capture.read(self.capture.hist_step))
