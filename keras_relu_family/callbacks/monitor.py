"""``GradientMonitor``: the gradients the optimizer applied, per layer, in TensorBoard."""

from __future__ import annotations

import keras

from keras_relu_family.callbacks import _validation
from keras_relu_family.callbacks._engine_base import exact_steps, iterations_of
from keras_relu_family.callbacks._rules import GradientWarning, Rules

BACKEND = keras.config.backend()
if BACKEND == "tensorflow":
    import tensorflow as tf

    from keras_relu_family.callbacks._engine import Engine
    from keras_relu_family.callbacks._logger_tf import TensorFlowLogger as _Logger

    _END_OF_DATA = (StopIteration, tf.errors.OutOfRangeError)
else:
    from keras_relu_family.callbacks._host import HostEngine as Engine
    from keras_relu_family.callbacks._host import HostLogger as _Logger

    _END_OF_DATA = (StopIteration,)


def own_train_function(model):
    """A new train function of ``model``'s, with a trace of its own (made on its first call).

    JAX's ``jit`` keeps one trace cache per Python function, and Keras jits
    ``model.train_step``: two train functions made from it would share the
    first one's trace, and the second mode would run the first mode's hooks.
    On JAX each function is made from a distinct wrapper of ``train_step``,
    and the model's own attribute is put back.
    """
    if keras.config.backend() != "jax":
        model.make_train_function(force=True)
        return model.train_function
    own = vars(model).get("train_step")
    step = own if own is not None else type(model).train_step.__get__(model)

    def train_step(state, data):
        return step(state, data)

    model.train_step = train_step
    try:
        model.make_train_function(force=True)
    finally:
        if own is None:
            del model.train_step
        else:
            model.train_step = own
    return model.train_function


__all__ = ["GradientMonitor", "GradientWarning"]

DRAIN_STEPS = 16  # the fewest steps between two drains, unless update_freq is larger


class GradientMonitor(keras.callbacks.Callback):
    """Logs the gradients the optimizer applied, per layer, to TensorBoard, and warns.

    The values are computed inside the compiled train step, from the
    gradients and updates the optimizer applies (unscaled under mixed
    precision, of the global batch under ``tf.distribute`` and
    ``keras.distribution``, averaged over ``gradient_accumulation_steps``,
    after clipping), with no extra forward or backward pass, on Keras's
    TensorFlow, JAX and PyTorch backends. They are written under ``<log_dir>/train``, the
    run that ``keras.callbacks.TensorBoard`` writes to, with these tags:

    * ``grad_norm/global``: the L2 norm of all trainable gradients of the step;
    * ``grad_norm/<layer path>``: the norm of one layer's gradients, where the
      layer path is the variable path without its last part
      (``sequential/dense/kernel`` belongs to ``sequential/dense``);
    * ``update_ratio/<layer path>`` (``update_ratios=True``):
      ``||w_after - w_before|| / ||w_before||`` over the layer's trainable
      weights, the size of the step the optimizer took relative to the weights;
    * ``dead_fraction/<layer path>`` (``dead_units=True``): for every rectifier
      the model computes (an ``activation=`` such as ``"relu"``, a ReLU-type
      layer of Keras or of this package), the fraction of its units that did
      not fire for any example of any step since the previous logged step,
      tagged with the layer that computes it;
    * ``grad_norm/overflow_steps`` (mixed precision only): how many steps so
      far the ``LossScaleOptimizer`` skipped; skipped steps log no norms;
    * ``grad_hist/<variable path>`` (``histogram_freq > 0``): histograms.

    The step is the global training step (it starts from
    ``optimizer.iterations``). ``docs/monitor.md`` explains how to read the
    tags, how the warning rules were chosen, and what each setting costs.
    For a custom training loop, use :meth:`watch`.

    Args:
        log_dir: Directory of the TensorBoard logs; the monitor writes to its
            ``train`` subdirectory.
        update_freq: Log every this many training steps. Defaults to `50`.
        histogram_freq: Also write gradient histograms every this many
            training steps; `0` keeps no gradient copies at all. Defaults to `0`.
        vanishing_threshold: Also warn when a layer's norm falls below this
            absolute value. Defaults to `None` (no absolute bound).
        exploding_threshold: Also warn when a layer's norm rises above this
            absolute value. Defaults to `None` (no absolute bound).
        dead_units: Probe the rectifiers for dead units. Defaults to `True`;
            with `False` the layers are left untouched.
        vanishing_ratio: Warn when a layer's norm is below this fraction of
            the step's largest layer norm; `None` turns the rule off.
            Defaults to `1e-7`.
        exploding_factor: Warn when a layer's norm (or the global norm) is
            above this many times the largest of its last 10 logged norms, or
            the global norm above this many times the largest of the first 10
            logged ones; `None` turns the rule off. Defaults to `1000`.
        update_ratios: Log ``update_ratio/<layer path>``. Defaults to `False`
            (each logged step then reads every weight twice; see
            ``docs/monitor.md`` for the cost).
        verbose: `1` prints a table at the end of each epoch: every layer's
            last logged gradient norm, update ratio and dead fraction, and the
            layers that broke a rule. Defaults to `0` (prints nothing).

    Warnings (``GradientWarning``) name the layer, the value, the rule and the
    step, at most once per layer per epoch; the rules are checked on the
    logged steps. A non-finite norm always warns.

    Example (the hidden layer starts from ones, so that no draw of the random
    initializer can start it with every unit dead, which the monitor would
    rightly warn about):

    >>> import numpy as np, keras, tempfile
    >>> hidden = keras.layers.Dense(4, activation="relu", kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((3,)), hidden, keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> monitor = GradientMonitor(tempfile.mkdtemp(), update_freq=1)
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
        vanishing_threshold: float | None = None,
        exploding_threshold: float | None = None,
        dead_units: bool = True,
        *,
        vanishing_ratio: float | None = 1e-7,
        exploding_factor: float | None = 1e3,
        update_ratios: bool = False,
        verbose: int = 0,
    ):
        _validation.check_backend()
        super().__init__()
        self.log_dir = _validation.check_log_dir(log_dir)
        self.update_freq = _validation.check_count("update_freq", update_freq, 1)
        self.histogram_freq = _validation.check_count("histogram_freq", histogram_freq, 0)
        self.vanishing_threshold, self.exploding_threshold = _validation.check_thresholds(
            vanishing_threshold, exploding_threshold
        )
        self.vanishing_ratio = _validation.check_ratio(vanishing_ratio)
        self.exploding_factor = _validation.check_factor(exploding_factor)
        self.dead_units = _validation.check_bool("dead_units", dead_units)
        self.update_ratios = _validation.check_bool("update_ratios", update_ratios)
        self.verbose = _validation.check_verbose(verbose)
        # Drain (read and write) once per period: every logged step when they are
        # far apart, else a batch of them in one call, each call costing about a step.
        freq = self.update_freq
        self._period = freq if freq >= DRAIN_STEPS else -(-DRAIN_STEPS // freq) * freq
        if BACKEND != "tensorflow":  # the host reads the dead-unit window at each logged step
            self._period = freq
        rules = Rules(
            self.vanishing_ratio,
            self.exploding_factor,
            self.vanishing_threshold,
            self.exploding_threshold,
        )
        self._logger = _Logger(self.log_dir, freq, self.histogram_freq, rules, self.verbose)
        self._engine = None
        self._functions = {}
        self._sync_pending = False

    @property
    def step(self) -> int:
        """The global training step the monitor has counted up to."""
        return 0 if self._engine is None else self._engine.step

    def watch(self, model, optimizer=None):
        """Monitors a custom training loop: ``with monitor.watch(model, optimizer) as loop:``.

        See :class:`~keras_relu_family.callbacks.WatchedLoop` and
        ``docs/monitor.md`` (custom training loops).
        """
        if BACKEND != "tensorflow":
            raise NotImplementedError(
                "GradientMonitor.watch() monitors TensorFlow custom training loops; on "
                f"Keras's {BACKEND} backend, train with fit(). Received: backend={BACKEND!r}"
            )
        from keras_relu_family.callbacks._loop import WatchedLoop

        return WatchedLoop(self, model, optimizer)

    # -- fit -----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        if model.optimizer is None:
            raise ValueError("GradientMonitor needs a compiled model (call model.compile()).")
        self._logger.open(getattr(model, "distribute_strategy", None))
        per_call = max(int(getattr(model, "steps_per_execution", 1) or 1), 1)
        engine = self._engine
        if engine is None or not engine.reusable(model, model.optimizer, self._ring(per_call)):
            if engine is not None:
                engine.detach()  # left attached if the last fit() raised
            self._engine = engine = self._new_engine(model, model.optimizer, per_call)
            self._functions = {}
        engine.attach(wrap_train_step=True)
        # Two train functions, each traced (on its first call) with the hooks in one mode:
        # a full capture for the executions that hold a logged step, a count for the
        # others. A later fit with the same engine reuses them, traced already.
        if not self._functions:
            for mode in ("count", "full"):
                self._functions[mode] = self._guard(own_train_function(model))
        self._per_call = per_call
        self._sync_pending = True  # after every on_train_begin (BackupAndRestore's too)

    def on_epoch_begin(self, epoch, logs=None):
        self._logger.print_pending()  # the last epoch's table, after fit's epoch line
        if self._sync_pending:
            self._sync_pending = False
            self._engine.sync(iterations_of(self.model.optimizer))
        self._logger.new_epoch()
        self._epoch_start = self._logger.drained

    def on_train_batch_begin(self, batch, logs=None):
        done = self._epoch_start + batch  # steps so far; the counter is read only to log
        engine = self._engine
        if done >= self._next_due():
            self._logger.drain(engine.capture, engine.step)
        function = self._functions[engine.select(done, done + self._per_call)]
        if self.model.train_function is not function:
            # Only when the mode changes: setting a Keras model's attribute goes through
            # its tracker (55 us a step in a PyTorch MLP's fit, 0.8% of the step).
            self.model.train_function = function

    # No on_train_batch_end: a callback that has one makes Keras wait for every step's
    # logs before it dispatches the next (no async dispatch): 25% of a JAX MLP's time.
    # The train function marks its own steps (_guard).

    def on_epoch_end(self, epoch, logs=None):
        self._logger.drain(self._engine.capture, self._engine.step)
        self._logger.end_epoch(epoch, self.model, later=True)

    def on_train_end(self, logs=None):
        try:
            self._logger.drain(self._engine.capture, self._engine.step)
        finally:
            self._detach()
            if self._logger.run_dir is not None:
                self._logger.run_dir.flush()
            self._logger.print_pending()

    # -- helpers -------------------------------------------------------------------------

    def _detach(self):
        if self._engine is not None and self._engine.attached:
            self._engine.detach()
            self.model.make_train_function(force=True)  # drop the hooked trace

    def _guard(self, function):
        """``function`` between the engine's step marks, detaching everything if a training
        step raises (fit() then aborts)."""

        def train_function(*args):
            engine = self._engine
            engine.begin_batch()
            try:
                return function(*args)
            except _END_OF_DATA:
                raise  # the end of an epoch of unknown length
            except BaseException:
                self._detach()
                raise
            finally:
                engine.end_batch()

        return train_function

    def _ring(self, per_call: int) -> int:
        """Ring rows: every step that can run between two drains."""
        return per_call if self._period == self.update_freq else self._period + per_call - 1

    def _new_engine(self, model, optimizer, per_call) -> Engine:
        previous = self._engine
        first = iterations_of(optimizer)
        if previous is not None and previous.model is model and not exact_steps(optimizer):
            first = max(first, previous.step)
        return Engine(self, model, optimizer, self._ring(per_call), first)

    def _next_due(self) -> int:
        """The step after which the next drain is due."""
        freq, drained = self.update_freq, self._logger.drained
        due = (drained // freq + self._period // freq) * freq
        if self.histogram_freq:
            due = min(due, (drained // self.histogram_freq + 1) * self.histogram_freq)
        return due
