"""In-graph capture of the gradients the optimizer applies, and of the updates it makes.

``GradientCapture`` owns a few small ``tf.Variable`` buffers and the hooks
that fill them, installed as instance attributes while a ``GradientMonitor``
trains the model (``fit``, or a custom loop through ``GradientMonitor.watch``):

* ``optimizer.apply`` (the outermost optimizer, a ``LossScaleOptimizer`` under
  mixed precision): called once per train step in replica context. It counts
  the step; under a ``LossScaleOptimizer`` it notes whether the step was
  skipped; in a logged step it reads every trainable weight before and after
  the update (``update_ratio``) and closes the dead-unit window (``_probes``).
* ``update_step(gradient, variable, learning_rate)`` of the optimizer that
  updates the weights (the ``inner_optimizer`` of a ``LossScaleOptimizer``):
  Keras calls it once per variable, and under ``tf.distribute`` once per
  variable and device, with the gradient it applies: unscaled, all-reduced
  across replicas, averaged over ``gradient_accumulation_steps`` and clipped.
  The hook stores half that gradient's squared L2 norm.
* the layers' calls, through ``_attach.Attachment``: the dead-unit probes.

The hooks act only while a training step is being traced
(:meth:`GradientCapture.tracing`), and what the step does depends on ``mode``
at trace time: ``COUNT`` counts the step and ORs the dead-unit bits,
``FULL`` captures everything. The monitor keeps one traced function of each
and runs the full one only for the executions that hold a logged step.

Step ``s`` writes row ``(s - 1) % ring`` of the buffers, so the
``steps_per_execution`` steps of one compiled call all stay readable until the
callback drains them. Nothing here runs an extra forward or backward pass.
The buffers are ``ON_READ`` variables with ``ONLY_FIRST_REPLICA`` aggregation:
each replica (or, in the per-device update calls, each device) writes its own
copy, and the callback reads the first. Without a strategy they are plain
variables.
"""

from __future__ import annotations

import contextlib
import threading

import keras
import tensorflow as tf

from keras_relu_family.callbacks._engine_base import FULL, OFF, unknown_variable
from keras_relu_family.callbacks._ops import count_updates, half_square, set_row, state
from keras_relu_family.callbacks._probes import DeadUnits
from keras_relu_family.callbacks._tags import layer_path

# What a train step traced with the hooks does: nothing, count the step (and loss-scale
# overflows, and OR the dead-unit bits), or capture everything for a logged step.


class GradientCapture:
    """The in-graph state of one monitored model, and the hooks that fill it.

    Args:
        model: A Keras model whose variables are built.
        optimizer: The optimizer that trains it (``model.optimizer`` in ``fit``).
        ring: Rows of the ring buffer, at least ``steps_per_execution``.
        first_step: The step count to continue from.
        update_freq: The logged steps are its multiples (closes dead windows).
        histogram_freq: Copy the applied gradients every this many steps (0: never).
        targets: The rectifiers to probe (``_rectifiers.Target``).
        update_ratios: Whether logged steps measure the weights' update.
    """

    def __init__(
        self,
        model,
        optimizer,
        ring,
        first_step,
        update_freq,
        histogram_freq,
        targets,
        update_ratios,
    ):
        self.model = model
        self.strategy = model.distribute_strategy
        self.outer = optimizer
        is_lso = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
        self.inner = optimizer.inner_optimizer if is_lso else None
        self.updater = self.inner if is_lso else optimizer
        # Steps whose gradients may not be applied need a per-row "applied" stamp.
        self.stamped = is_lso or bool(getattr(self.updater, "gradient_accumulation_steps", None))
        self.ring = int(ring)
        self.update_freq = int(update_freq)
        self.histogram_freq = int(histogram_freq)
        self.update_ratios = bool(update_ratios)
        self.targets = list(targets)
        self.variables = None  # known once apply() is traced (see prepare)
        with self.strategy.scope():
            self.steps = state(tf.constant(first_step, tf.int64), "steps")
            self.applied_step = state(tf.zeros([self.ring], tf.int64), "applied_step")
            self.overflow_total = state(tf.constant(0, tf.int64), "overflow_total")
            self.overflows = state(tf.zeros([self.ring], tf.int64), "overflows")
            self.hist_step = state(tf.constant(0, tf.int64), "hist_step")
        self.dead = DeadUnits(self.targets, self.strategy, self.ring, self.update_freq)
        self._saved = {}
        self.mode = OFF
        self._tracing = 0
        self._lock = threading.Lock()
        self._pending = {}
        self._expected = None
        with self.strategy.scope():
            distributed = tf.distribute.has_strategy()
        if distributed:  # no buffers can be made in a replica: make them now
            self.prepare(model.trainable_variables)

    @property
    def ready(self) -> bool:
        return self.variables is not None

    def prepare(self, variables) -> None:
        """Creates the per-variable buffers for ``variables``.

        Under a distribution strategy this runs at once (the model is built).
        Without one, a model that is not built when training starts (a
        subclassed model, say) creates its weights while the train step is
        first traced, so this runs from the first trace of ``apply``.
        """
        variables = list(variables)
        if self.variables is not None:
            if [id(v) for v in variables] != [id(v) for v in self.variables]:
                raise RuntimeError(
                    "GradientMonitor: the trainable variables changed during training. Freeze "
                    "or unfreeze layers between fit() calls (or watch() blocks), not during one."
                )
            return
        self.layer_paths = []
        for v in variables:
            if layer_path(v.path) not in self.layer_paths:
                self.layer_paths.append(layer_path(v.path))
        self.segments = [self.layer_paths.index(layer_path(v.path)) for v in variables]
        width = max(len(variables), 1)
        with tf.init_scope(), self.strategy.scope():  # eager, even inside the trace
            self.halves = state(tf.zeros([self.ring, width]), "halves")
            self.weight_halves = state(tf.zeros([self.ring, width]), "weight_halves")
            self.update_halves = state(tf.zeros([self.ring, width]), "update_halves")
            self.hist = [
                state(tf.zeros(v.shape, tf.float32), f"hist_{i}")
                for i, v in enumerate(variables)
                if self.histogram_freq
            ]
            # Each model variable's per-device copies -> (variable index, device index).
            self._where = {}
            for i, v in enumerate(variables):
                for r, copy in enumerate(
                    self.local(v.value if isinstance(v, keras.Variable) else v)
                ):
                    self._where[id(copy)] = (i, r, copy)
        self.variables = variables

    # -- reading the per-device copies ---------------------------------------------------

    def local(self, variable) -> tuple:
        """The per-device copies of ``variable`` (just ``(variable,)`` without a strategy)."""
        return tuple(self.strategy.experimental_local_results(variable))

    def primary(self, variable):
        return self.local(variable)[0]

    def read(self, variable):
        """The first copy's value, as numpy (for the callback, between train steps)."""
        return self.primary(variable).numpy()

    def set_steps(self, count: int) -> None:
        """Sets the step count (every copy), e.g. to ``optimizer.iterations``."""
        for copy in self.local(self.steps):
            copy.assign(count)

    # -- hooks ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def tracing(self):
        """Marks the Python run (the trace) of a training step: the hooks act inside only."""
        with self._lock:
            self._tracing += 1
        try:
            yield
        finally:
            with self._lock:
                self._tracing -= 1

    def active(self) -> bool:
        return self.mode != OFF and self._tracing > 0

    def probe(self, index, inputs, outputs) -> None:
        """The dead-unit probe of ``targets[index]`` (``_attach.Attachment`` calls it)."""
        self.dead.observe(index, inputs, outputs)

    def install(self) -> None:
        """Wraps the optimizer's ``apply`` and ``update_step`` (undone by ``uninstall``)."""
        self.uninstall()
        for obj, name, make in (
            (self.outer, "apply", self._make_apply),
            (self.updater, "update_step", self._make_update_step),
        ):
            hook = make(getattr(obj, name))
            self._saved[(id(obj), name)] = (obj, name, vars(obj).get(name), hook)
            setattr(obj, name, hook)

    def uninstall(self) -> None:
        """Restores the optimizer's methods; a hook someone wrapped again just goes quiet."""
        self.mode = OFF
        for obj, name, previous, hook in self._saved.values():
            if vars(obj).get(name) is not hook:
                continue  # wrapped again on top of ours (another monitor): leave the chain
            if previous is None:
                delattr(obj, name)
            else:
                setattr(obj, name, previous)
        self._saved = {}

    def _make_apply(self, original):
        def apply(grads, trainable_variables=None):
            mode = self.mode  # read while tracing: it selects what the traced step does
            if not self.active():
                return original(grads, trainable_variables)
            self.steps.assign_add(1)
            step = self.steps.read_value()
            before, expected = None, None
            if mode == FULL:
                variables = trainable_variables
                self.prepare(self.model.trainable_variables if variables is None else variables)
                self._pending = {}
                expected = count_updates(grads, trainable_variables)
                if self.update_ratios:
                    before = [tf.identity(tf.convert_to_tensor(v)) for v in self.variables]
            self._expected = expected
            if self.inner is None:
                result = original(grads, trainable_variables)
            else:  # count the steps the loss scale optimizer skips, logged or not
                inner_before = tf.convert_to_tensor(self.inner.iterations)
                result = original(grads, trainable_variables)
                inner_after = tf.convert_to_tensor(self.inner.iterations)
                skipped = tf.cast(tf.equal(inner_after, inner_before), tf.int64)
                self.overflow_total.assign_add(skipped)
                if mode == FULL:
                    total = self.overflow_total.read_value()
                    set_row(self.overflows, [self._slot(step - 1)], total)
            self._check_pending(expected)
            if mode == FULL:
                if before is not None:
                    self._record_update(before, step)
                self.dead.close(step, self._slot(step - 1))
            return result

        return apply

    def _check_pending(self, expected):
        left = {device: len(rows) for device, rows in self._pending.items() if rows}
        self._expected = None
        if left:
            raise RuntimeError(
                f"GradientMonitor expected update_step() for {expected} variables "
                f"per device but saw {left}: Keras {keras.__version__} applies gradients "
                "in a way this version of keras_relu_family does not know. Please report it."
            )

    def _record_update(self, before, step):
        """Half the squared norms of the weights before the step and of their change."""
        weights, updates = [], []
        for v, old in zip(self.variables, before, strict=True):
            old = tf.cast(old, tf.float32)
            new = tf.cast(tf.convert_to_tensor(v), tf.float32)
            weights.append(tf.nn.l2_loss(old))
            updates.append(tf.nn.l2_loss(new - old))
        slot = [self._slot(step - 1)]
        set_row(self.weight_halves, slot, tf.stack(weights))
        set_row(self.update_halves, slot, tf.stack(updates))

    def _make_update_step(self, original):
        def update_step(gradient, variable, learning_rate):
            if self.mode != FULL or not self.active():
                return original(gradient, variable, learning_rate)
            where = self._where.get(id(variable))
            if where is None:
                raise unknown_variable(variable)
            if gradient is not None:
                self._record(gradient, variable, *where[:2])
            return original(gradient, variable, learning_rate)

        return update_step

    def _slot(self, count):
        """The ring row of step ``count + 1`` (a constant with a one-row ring)."""
        return 0 if self.ring == 1 else count % self.ring

    def _record(self, gradient, variable, index, device):
        """Stores one applied gradient (cross-replica context, on ``device``'s copies).

        The values of one step and device are written together, by the last
        ``update_step`` call of the step, to keep the op count per step small.
        """
        num_rows = variable.shape[0] if variable.shape.rank else None
        rows = self._pending.setdefault(device, [])
        rows.append((index, half_square(gradient, num_rows)))
        if self.histogram_freq:
            self._keep_histogram(gradient, index, device)
        if self._expected is not None and len(rows) < self._expected:
            return
        self._pending[device] = []
        step = None
        if self.ring > 1 or self.stamped:
            step = self.local(self.steps)[device].read_value()
        slot = self._slot(step - 1) if self.ring > 1 else 0
        self.local(self.halves)[device].scatter_nd_update(
            [[slot, i] for i, _ in rows], tf.stack([square for _, square in rows])
        )
        if self.stamped:
            self.local(self.applied_step)[device].scatter_nd_update([[slot]], [step])

    def _keep_histogram(self, gradient, index, device):
        hist = self.local(self.hist[index])[device]
        hist_step = self.local(self.hist_step)[device]
        step = self.local(self.steps)[device].read_value()

        def keep():
            hist.assign(tf.cast(tf.convert_to_tensor(gradient), tf.float32))
            hist_step.assign(step)
            return tf.constant(True)

        tf.cond(tf.equal(step % self.histogram_freq, 0), keep, lambda: tf.constant(False))
