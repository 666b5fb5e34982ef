"""``GradientMonitor.watch``: the monitor in a custom training loop.

A loop that calls ``optimizer.apply`` (or ``apply_gradients``) itself gets
the same tags, the same in-graph capture and the same guarantees as ``fit``
(unscaled gradients under a ``LossScaleOptimizer``, the global batch's
gradients under a distribution strategy), through a step function that the
monitor traces itself, twice, as ``fit``'s train function: once counting the
step, once capturing everything, each call running the right one.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from keras_relu_family.callbacks._engine_base import COUNT, FULL, iterations_of


class WatchedLoop:
    """A custom training loop under a ``GradientMonitor`` (``monitor.watch(model, optimizer)``).

    Use it as a context manager; inside, wrap the training step with
    :meth:`function` (instead of ``tf.function``) and call :meth:`end_epoch`
    after each epoch. Leaving the block (also by an exception) writes what is
    left and detaches every hook.

    ```python
    monitor = krf.GradientMonitor("logs", update_freq=10)
    with monitor.watch(model, optimizer) as loop:
        step = loop.function(train_step)  # train_step calls optimizer.apply once
        for epoch in range(3):
            for x, y in dataset:
                step(x, y)
            loop.end_epoch()
    ```

    Args:
        monitor: The ``GradientMonitor``.
        model: A built Keras model (its variables exist).
        optimizer: The optimizer the loop applies. Defaults to
            ``model.optimizer``. Under a distribution strategy, build it
            (``optimizer.build(model.trainable_variables)``) in the strategy's
            scope before the loop.
    """

    def __init__(self, monitor, model, optimizer=None):
        optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        if optimizer is None:
            raise ValueError(
                "GradientMonitor.watch needs the optimizer the loop applies. "
                "Received: optimizer=None, model.optimizer=None"
            )
        if not model.built or not model.trainable_variables:
            raise ValueError(
                "GradientMonitor.watch needs a built model with trainable weights: call it "
                f"on a batch first. Received: model={model.name!r} (built={model.built})"
            )
        self.monitor, self.model, self.optimizer = monitor, model, optimizer
        self.epoch = 0
        self._engine = None
        self._done = 0

    @property
    def step(self) -> int:
        """The global training step counted so far."""
        return self._done

    def __enter__(self) -> WatchedLoop:
        monitor, model, optimizer = self.monitor, self.model, self.optimizer
        monitor._logger.open(model.distribute_strategy)
        ring = monitor._ring(1)
        engine = monitor._engine
        if engine is None or not engine.reusable(model, optimizer, ring):
            if engine is not None:
                engine.detach()
            monitor._engine = monitor._new_engine(model, optimizer, 1)
            monitor._functions = {}
        self._engine = monitor._engine
        self._engine.attach(wrap_train_step=False)
        self._engine.sync(iterations_of(optimizer))
        self._done = self._engine.step
        monitor._logger.new_epoch()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        logger = self.monitor._logger
        try:
            if kind is None:
                logger.drain(engine.capture, engine.step)
        finally:
            engine.detach()
            if logger.run_dir is not None:
                logger.run_dir.flush()

    def function(self, fn, **tf_function_kwargs):
        """``fn`` as a monitored ``tf.function``: call it once per training step.

        ``fn`` is what you would decorate with ``tf.function``: one training
        step that calls ``optimizer.apply`` (or ``apply_gradients``) exactly
        once, directly or inside ``strategy.run``. ``tf_function_kwargs`` go
        to ``tf.function`` (``jit_compile=True``, ``reduce_retracing=True``...).
        """
        if self._engine is None:
            raise RuntimeError("WatchedLoop.function must be called inside the `with` block.")
        capture = self._engine.capture

        @functools.wraps(fn)
        def marked(*args, **kwargs):
            with capture.tracing():
                return fn(*args, **kwargs)

        traced = {mode: tf.function(marked, **tf_function_kwargs) for mode in (COUNT, FULL)}

        def step(*args, **kwargs):
            engine = self._engine
            if engine is None:
                raise RuntimeError("A WatchedLoop step function ran outside its `with` block.")
            if self._done >= self.monitor._next_due():
                self.monitor._logger.drain(engine.capture, engine.step)
            mode = engine.select(self._done, self._done + 1)
            try:
                result = traced[mode](*args, **kwargs)
            except BaseException:
                engine.detach()
                raise
            self._done += 1
            return result

        return step

    def end_epoch(self) -> None:
        """Writes what is left of the epoch, prints the table at ``verbose=1``."""
        engine = self._engine
        logger = self.monitor._logger
        logger.drain(engine.capture, engine.step)
        logger.end_epoch(self.epoch, self.model)
        self.epoch += 1
        logger.new_epoch()
