"""What every backend's engine shares: the capture's modes, the step count, reuse.

An engine ties a capture (the buffers and optimizer hooks: TensorFlow's
``GradientCapture``, the JAX and PyTorch ``StatefulCapture``) to the
dead-unit probes on the layers (an :class:`Attachment`), picks the mode of
each call and keeps the step count in line with ``optimizer.iterations``.
Attaching and marking the steps is each backend's own (``_engine``,
``_host``). No TensorFlow here.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family.callbacks import _window
from keras_relu_family.callbacks._attach import Attachment
from keras_relu_family.callbacks._rectifiers import find_rectifiers

# A capture's modes: hooks off, a step only counted, a step fully captured.
OFF, COUNT, FULL = "off", "count", "full"


def host_value(variable) -> np.ndarray:
    """A ``keras.Variable``'s (or a backend tensor's) value as a numpy array, on any backend.

    ``np.asarray`` of the variable itself goes through ``__array__``
    implementations that numpy 2 deprecates (no ``copy`` argument); each
    backend's own conversion does not.
    """
    # A tensor where Keras computes the value (optimizer.iterations under gradient
    # accumulation on TensorFlow).
    value = variable.value if isinstance(variable, keras.Variable) else variable
    if hasattr(value, "detach"):  # PyTorch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # TensorFlow
        return value.numpy()
    return np.asarray(value)  # JAX


def iterations_of(optimizer) -> int:
    return int(host_value(optimizer.iterations))


def exact_steps(optimizer) -> bool:
    """Whether ``optimizer.iterations`` counts every ``apply`` call (the monitor's step).

    It does not under a ``LossScaleOptimizer`` (skipped steps do not count)
    or with ``gradient_accumulation_steps`` (only applying steps count).
    """
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        return False
    return not getattr(optimizer, "gradient_accumulation_steps", None)


def unknown_variable(variable) -> RuntimeError:
    """The error for an optimizer updating a variable the capture has no row for."""
    return RuntimeError(
        "GradientMonitor: the optimizer updates a variable that was not among the "
        f"model's trainable variables when training began: {variable.name}. "
        "Do not add trainable variables during training."
    )


class BaseEngine:
    """One monitored model and optimizer.

    Args:
        monitor: The ``GradientMonitor`` (its settings and logger).
        model: The model.
        optimizer: The optimizer that trains it.
        ring: Rows of the capture's ring buffer.
        first_step: The step count to start from.
    """

    capture_class = None  # set by each backend's engine

    def __init__(self, monitor, model, optimizer, ring, first_step):
        self.monitor = monitor
        self.model = model
        self.optimizer = optimizer
        targets = find_rectifiers(model) if monitor.dead_units else []
        self.capture = self.capture_class(
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

    @property
    def step(self) -> int:
        return int(self.capture.read(self.capture.steps))

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

    def select(self, done: int, upto: int) -> str:
        """The mode of a call that runs steps ``done + 1 .. upto`` (set on the capture).

        TensorFlow reads it when the function traces (first call, shapes); JAX
        traces it into the jitted step, and torch.compile guards on it.
        """
        monitor = self.monitor
        freqs = (monitor.update_freq, monitor.histogram_freq)
        mode = FULL if _window.logs_within(done, upto, freqs) else COUNT
        self.capture.mode = mode
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
