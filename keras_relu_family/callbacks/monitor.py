"""``GradientMonitor``: the gradients the optimizer applied, per layer, in TensorBoard."""

from __future__ import annotations

import math
import os
import warnings

import keras
import tensorflow as tf

from keras_relu_family.callbacks import _summaries, _validation
from keras_relu_family.callbacks._capture import COUNT, FULL, GradientCapture
from keras_relu_family.callbacks._dead_units import find_rectifiers

DRAIN_STEPS = 16  # the fewest steps between two drains, unless update_freq is larger


class GradientWarning(UserWarning):
    """A layer's gradient norm vanished, exploded or was not finite."""


class GradientMonitor(keras.callbacks.Callback):
    """Logs the L2 norms of the gradients the optimizer applied, per layer, to TensorBoard.

    The norms are computed inside the compiled train step, from the gradients
    the optimizer applies (unscaled under mixed precision, all-reduced across
    replicas under ``tf.distribute``, averaged over
    ``gradient_accumulation_steps``, after clipping), with no extra forward or
    backward pass. They are written under ``<log_dir>/train``, the run that
    ``keras.callbacks.TensorBoard`` writes to, with these tags:

    * ``grad_norm/global``: the norm of all trainable gradients of the step;
    * ``grad_norm/<layer path>``: the norm of one layer's gradients, where the
      layer path is the variable path without its last part
      (``sequential/dense/kernel`` belongs to ``sequential/dense``);
    * ``grad_norm/overflow_steps`` (mixed precision only): how many steps so
      far the ``LossScaleOptimizer`` skipped because the scaled gradients
      overflowed; skipped steps log no norms;
    * ``dead_fraction/<layer path>`` (``dead_units=True``): for this package's
      ReLU, ReLU6 (output 0) and LeakyReLU, PReLU, RReLU (input < 0) layers,
      the fraction of units that fired for no example of the batch;
    * ``grad_hist/<variable path>`` (``histogram_freq > 0``): histograms.

    The step is the global training step (it starts from
    ``optimizer.iterations`` and keeps counting across ``fit`` calls). See
    ``docs/monitor.md`` for how to read them and what each setting costs.

    Args:
        log_dir: Directory of the TensorBoard logs; the monitor writes to its
            ``train`` subdirectory.
        update_freq: Log every this many training steps. Defaults to `50`;
            measured on the reference MLP (``benchmarks/monitor_overhead.py``)
            it costs about 1% of a train step, and `1` about 6.5%.
        histogram_freq: Also write gradient histograms every this many
            training steps; `0` keeps no gradient copies at all. Defaults to `0`.
        vanishing_threshold: Warn when a layer's gradient norm falls below
            this; `None` never warns. Defaults to `1e-7`.
        exploding_threshold: Warn when a layer's gradient norm rises above
            this; `None` never warns. Defaults to `1e3`.
        dead_units: Probe the rectifier layers for dead units. Defaults to
            `True`; with `False` the layers run unchanged.

    Warnings (``GradientWarning``) name the layer, the norm and the step, at
    most once per layer per epoch; the thresholds are checked on the logged
    steps (``update_freq=1`` checks every step).

    Example:

    >>> import numpy as np, keras, tempfile
    >>> import keras_relu_family as krf
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), krf.ReLU(),
    ...                           keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> monitor = krf.GradientMonitor(tempfile.mkdtemp(), update_freq=1)
    >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, batch_size=4,
    ...                     callbacks=[monitor], verbose=0)
    >>> monitor.step
    2
    """

    def __init__(
        self,
        log_dir,
        update_freq: int = 50,
        histogram_freq: int = 0,
        vanishing_threshold: float | None = 1e-7,
        exploding_threshold: float | None = 1e3,
        dead_units: bool = True,
    ):
        _validation.check_backend()
        super().__init__()
        self.log_dir = _validation.check_log_dir(log_dir)
        self.update_freq = _validation.check_count("update_freq", update_freq, 1)
        self.histogram_freq = _validation.check_count("histogram_freq", histogram_freq, 0)
        self.vanishing_threshold, self.exploding_threshold = _validation.check_thresholds(
            vanishing_threshold, exploding_threshold
        )
        self.dead_units = _validation.check_bool("dead_units", dead_units)
        # Drain (read and write) once per period: every logged step when they are
        # far apart, else a batch of them in one call, each call costing about a step.
        freq = self.update_freq
        self._period = freq if freq >= DRAIN_STEPS else -(-DRAIN_STEPS // freq) * freq
        self._capture = None
        self._functions = {}
        self._writer = None
        self._drained = 0
        self._hist_written = 0
        self._warned = set()
        self._broken = False

    @property
    def step(self) -> int:
        """The global training step the monitor has counted up to."""
        return 0 if self._capture is None else int(self._capture.read(self._capture.steps))

    # -- lifecycle -----------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        if model.optimizer is None:
            raise ValueError("GradientMonitor needs a compiled model (call model.compile()).")
        if self._writer is None or self._broken:  # one writer for the monitor's life
            self._open_writer()
            self._write_scalars = self._write_histograms = None
        iterations = int(tf.convert_to_tensor(model.optimizer.iterations).numpy())
        previous = self._capture
        if self._reusable(model):  # a later fit(): keep the buffers and compiled writers
            previous.catch_up(iterations)
        else:
            first = iterations
            if previous is not None:
                previous.uninstall()  # left installed if the last fit() raised
                previous.detach_probes()
                if previous.model is model:
                    first = max(iterations, self.step)
            self._capture = self._new_capture(model, first)
            self._write_scalars = self._write_histograms = None  # once the variables are known
        self._capture.install()
        self._capture.attach_probes()
        # Two train functions, each traced (on its first call) with the hooks in one mode:
        # a full capture for the executions that hold a logged step, a step count for the
        # others, so that unlogged steps pay one op. A later fit with the same capture
        # reuses them, traced already.
        if self._functions.get("capture") is not self._capture:
            self._functions = {"capture": self._capture}
            for mode in (COUNT, FULL):
                model.make_train_function(force=True)
                self._functions[mode] = model.train_function
        self._per_call = max(int(getattr(model, "steps_per_execution", 1) or 1), 1)
        self._drained = self._epoch_start = self.step
        self._hist_written = int(self._capture.read(self._capture.hist_step))
        self._broken = False

    def on_epoch_begin(self, epoch, logs=None):
        self._warned = set()
        self._epoch_start = self._drained

    def on_train_batch_begin(self, batch, logs=None):
        done = self._epoch_start + batch  # steps so far; the counter is read only to log
        if done >= self._next_due():
            self._drain()
        mode = FULL if self._logs_within(done, done + self._per_call) else COUNT
        self._capture.mode = mode  # read when the function traces (first call, shapes)
        self.model.train_function = self._functions[mode]

    def on_epoch_end(self, epoch, logs=None):
        self._drain()
        self._guard(self._writer.flush)

    def on_train_end(self, logs=None):
        try:
            self._drain()
        finally:
            self._capture.uninstall()
            self._capture.detach_probes()
            self.model.make_train_function(force=True)  # drop the hooked trace
            self._guard(self._writer.flush)

    # -- helpers -------------------------------------------------------------------------

    def _open_writer(self):
        train_dir = os.path.join(self.log_dir, "train")
        try:
            tf.io.gfile.makedirs(train_dir)
            self._writer = tf.summary.create_file_writer(train_dir, max_queue=1000)
            self._writer.flush()
        except (tf.errors.OpError, OSError) as error:
            raise OSError(
                f"GradientMonitor cannot write TensorBoard logs to {train_dir!r} "
                f"({type(error).__name__}: {error}). Received: log_dir={self.log_dir!r}"
            ) from error

    def _ring(self, model) -> int:
        """Ring rows: every step that can run between two drains."""
        per_call = max(int(getattr(model, "steps_per_execution", 1) or 1), 1)
        return per_call if self._period == self.update_freq else self._period + per_call - 1

    def _dead_layers(self, model) -> list:
        return find_rectifiers(model) if self.dead_units else []

    def _new_capture(self, model, first_step: int) -> GradientCapture:
        return GradientCapture(
            model,
            ring=self._ring(model),
            first_step=first_step,
            histogram_freq=self.histogram_freq,
            dead_layers=self._dead_layers(model),
        )

    def _reusable(self, model) -> bool:
        """Whether the last fit's capture still fits ``model`` as it is now."""
        capture = self._capture
        return (
            capture is not None
            and capture.ready
            and capture.model is model
            and capture.outer is model.optimizer
            and capture.ring == self._ring(model)
            and [id(v) for v in capture.variables] == [id(v) for v in model.trainable_variables]
            and [id(d[0]) for d in capture.dead_layers]
            == [id(d[0]) for d in self._dead_layers(model)]
        )

    def _logs_within(self, after: int, upto: int) -> bool:
        """Whether a step in ``after + 1 .. upto`` is logged (scalars or histograms)."""
        freqs = (
            (self.update_freq, self.histogram_freq) if self.histogram_freq else (self.update_freq,)
        )
        return any(upto // freq > after // freq for freq in freqs)

    def _next_due(self) -> int:
        """The step after which the next drain is due."""
        freq = self.update_freq
        due = (self._drained // freq + self._period // freq) * freq
        if self.histogram_freq:
            due = min(due, (self._drained // self.histogram_freq + 1) * self.histogram_freq)
        return due

    def _drain(self):
        """Writes the logged steps that ran since the last drain (nothing otherwise)."""
        capture = self._capture
        last, now = self._drained, self.step
        if now <= last:
            return
        self._drained = now
        if self._broken or not capture.ready:
            return
        if self._write_scalars is None:
            _summaries.check_tags(capture)
            self._write_scalars = _summaries.make_scalar_writer(capture, self._writer)
            if self.histogram_freq:
                self._write_histograms = _summaries.make_histogram_writer(capture, self._writer)
        freq = self.update_freq
        first = max(last + 1, now - capture.ring + 1)  # older rows were overwritten
        steps = list(range(-(-first // freq) * freq, now + 1, freq))
        if steps:
            slots = [(step - 1) % capture.ring for step in steps]
            result = self._guard(
                self._write_scalars, tf.constant(slots, tf.int64), tf.constant(steps, tf.int64)
            )
            if result is not None:
                for step, values in zip(steps, result.numpy(), strict=True):
                    if values[0]:
                        self._check(step, values[1:])
        if self._write_histograms is not None:
            kept = int(capture.read(capture.hist_step))
            if kept > self._hist_written:
                self._hist_written = kept
                self._guard(self._write_histograms)

    def _guard(self, function, *args):
        """Runs a logging call; a failure warns once and stops logging, never training."""
        if self._broken:
            return None
        try:
            return function(*args)
        except Exception as error:  # noqa: BLE001 - logging must not end the training run
            self._broken = True
            warnings.warn(
                f"GradientMonitor stopped logging to {self.log_dir!r} after an error; "
                f"training goes on. {type(error).__name__}: {error}",
                RuntimeWarning,
                stacklevel=3,
            )
            return None

    def _check(self, step: int, norms) -> None:
        """Warns about the layers whose norm at ``step`` is out of bounds (once per epoch)."""
        low, high = self.vanishing_threshold, self.exploding_threshold
        for path, norm in zip(self._capture.layer_paths, norms, strict=True):
            if path in self._warned:
                continue
            if not math.isfinite(norm):
                trouble = f"Non-finite gradient: the gradient norm of layer {path!r} is {norm}"
            elif low is not None and norm < low:
                trouble = (
                    f"Vanishing gradient: the gradient norm of layer {path!r} is {norm:.3g}, "
                    f"below vanishing_threshold={low:g}"
                )
            elif high is not None and norm > high:
                trouble = (
                    f"Exploding gradient: the gradient norm of layer {path!r} is {norm:.3g}, "
                    f"above exploding_threshold={high:g}"
                )
            else:
                continue
            self._warned.add(path)
            warnings.warn(f"{trouble} at step {step}.", GradientWarning, stacklevel=4)
