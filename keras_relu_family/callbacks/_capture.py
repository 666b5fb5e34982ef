"""In-graph capture of the gradients the optimizer applies.

``GradientCapture`` owns a few small ``tf.Variable`` buffers and two hooks,
installed as instance attributes on the model's optimizer while a
``GradientMonitor`` trains it:

* ``optimizer.apply`` (the outermost optimizer, a ``LossScaleOptimizer`` under
  mixed precision): called once per train step in replica context. It counts
  the step and, under a ``LossScaleOptimizer``, notes whether the step was
  skipped (the inner optimizer's ``iterations`` did not move).
* ``update_step(gradient, variable, learning_rate)`` of the optimizer that
  updates the weights (the ``inner_optimizer`` of a ``LossScaleOptimizer``):
  Keras calls it once per variable, and under ``tf.distribute`` once per
  variable and device, with the gradient it applies: unscaled, all-reduced
  across replicas, averaged over ``gradient_accumulation_steps`` and clipped.
  The hook stores half that gradient's squared L2 norm.

What a traced step does depends on ``mode`` at trace time: ``COUNT`` only
counts the step (and loss-scale overflows), ``FULL`` captures everything. The
monitor keeps one train function of each and picks, before each execution,
the full one only when the execution holds a logged step.

Step ``s`` writes row ``(s - 1) % ring`` of the buffers, so the
``steps_per_execution`` steps of one compiled call all stay readable until the
callback drains them. Nothing here runs an extra forward or backward pass, and
the hooks add a few small ops per step (measured in
``benchmarks/monitor_overhead.py``): everything else, from layer norms to the
threshold checks, happens when a step is logged.

The buffers are ``ON_READ`` variables with ``ONLY_FIRST_REPLICA`` aggregation:
in replica context each replica writes its own copy, in the per-device update
calls the hook writes the copy on the update's device, and the callback reads
the first copy. Without a strategy they are plain variables.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_relu_family.callbacks._dead_units import dead_fraction
from keras_relu_family.callbacks._ops import count_updates, half_square, layer_path, set_row, state

# What a train step traced with the hooks does: nothing, count the step (and loss-scale
# overflows), or capture everything (norms, dead units, histograms) for a logged step.
OFF, COUNT, FULL = "off", "count", "full"


class GradientCapture:
    """The in-graph state of one monitored model, and the hooks that fill it.

    Args:
        model: A compiled Keras model whose variables are built.
        ring: Rows of the ring buffer, at least ``steps_per_execution``.
        first_step: The step count to continue from.
        histogram_freq: Copy the applied gradients every this many steps
            (0: never).
        dead_layers: The rectifier layers to probe: ``[(layer, path, rule)]``.
    """

    def __init__(self, model, ring, first_step, histogram_freq, dead_layers):
        self.model = model
        self.strategy = model.distribute_strategy
        self.outer = model.optimizer
        is_lso = isinstance(self.outer, keras.mixed_precision.LossScaleOptimizer)
        self.inner = self.outer.inner_optimizer if is_lso else None
        updater = self.inner if is_lso else self.outer
        # Steps whose gradients may not be applied need a per-row "applied" stamp.
        self.stamped = is_lso or bool(getattr(updater, "gradient_accumulation_steps", None))
        self.ring = int(ring)
        self.histogram_freq = int(histogram_freq)
        self.dead_layers = list(dead_layers)
        self.variables = None  # known once apply() is traced (see prepare)
        with self.strategy.scope():
            self.steps = state(tf.constant(first_step, tf.int64), "steps")
            self.applied_step = state(tf.zeros([self.ring], tf.int64), "applied_step")
            self.overflow_total = state(tf.constant(0, tf.int64), "overflow_total")
            self.overflows = state(tf.zeros([self.ring], tf.int64), "overflows")
            self.dead = state(tf.zeros([self.ring, max(len(self.dead_layers), 1)]), "dead")
            self.hist_step = state(tf.constant(0, tf.int64), "hist_step")
        self._dead_index = {id(layer): j for j, (layer, _, _) in enumerate(self.dead_layers)}
        self._saved = {}
        self.mode = OFF
        self._pending = {}
        self._expected = None
        with self.strategy.scope():
            distributed = tf.distribute.has_strategy()
        if distributed:  # fit() built the model already; no variables can be made in a replica
            self.prepare(model.trainable_variables)

    @property
    def ready(self) -> bool:
        return self.variables is not None

    def prepare(self, variables) -> None:
        """Creates the per-variable buffers for ``variables``.

        Under a distribution strategy ``fit`` builds the model first and this
        runs at once. Without one, a model that is not built when ``fit``
        starts (a subclassed model, say) creates its weights while the train
        step is first traced, so this runs from the first trace of ``apply``.
        """
        variables = list(variables)
        if self.variables is not None:
            if [id(v) for v in variables] != [id(v) for v in self.variables]:
                raise RuntimeError(
                    "GradientMonitor: the trainable variables changed during fit(). Freeze or "
                    "unfreeze layers between fit() calls, not during one."
                )
            return
        self.layer_paths = []
        for v in variables:
            if layer_path(v.path) not in self.layer_paths:
                self.layer_paths.append(layer_path(v.path))
        self.segments = [self.layer_paths.index(layer_path(v.path)) for v in variables]
        with tf.init_scope(), self.strategy.scope():  # eager, even inside the trace
            self.halves = state(tf.zeros([self.ring, max(len(variables), 1)]), "halves")
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

    def catch_up(self, iterations: int) -> None:
        """Moves the step count up to ``iterations`` (steps trained without the monitor)."""
        if iterations > int(self.read(self.steps)):
            for copy in self.local(self.steps):
                copy.assign(iterations)

    # -- hooks ---------------------------------------------------------------------------

    def install(self) -> None:
        """Wraps the optimizer's ``apply`` and ``update_step`` (undone by ``uninstall``)."""
        self.uninstall()
        updater = self.inner if self.inner is not None else self.outer
        for obj, name, make in (
            (self.outer, "apply", self._make_apply),
            (updater, "update_step", self._make_update_step),
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

    def attach_probes(self) -> None:
        for layer, _, _ in self.dead_layers:
            layer._dead_unit_probe = self._probe

    def detach_probes(self) -> None:
        for layer, _, _ in self.dead_layers:
            layer._dead_unit_probe = None

    def _make_apply(self, original):
        def apply(grads, trainable_variables=None):
            mode = self.mode  # read while tracing: it selects what the traced step does
            if mode == OFF:
                return original(grads, trainable_variables)
            self.steps.assign_add(1)
            expected = None
            if mode == FULL:
                variables = trainable_variables
                self.prepare(self.model.trainable_variables if variables is None else variables)
                self._pending = {}
                expected = count_updates(grads, trainable_variables)
            self._expected = expected
            if self.inner is None:
                result = original(grads, trainable_variables)
            else:  # count the steps the loss scale optimizer skips, logged or not
                before = tf.convert_to_tensor(self.inner.iterations)
                result = original(grads, trainable_variables)
                after = tf.convert_to_tensor(self.inner.iterations)
                self.overflow_total.assign_add(tf.cast(tf.equal(after, before), tf.int64))
                if mode == FULL:
                    step = self.steps.read_value()
                    total = self.overflow_total.read_value()
                    set_row(self.overflows, [self._slot(step - 1)], total)
            left = {device: len(rows) for device, rows in self._pending.items() if rows}
            self._expected = None
            if left:
                raise RuntimeError(
                    f"GradientMonitor expected update_step() for {expected} variables "
                    f"per device but saw {left}: Keras {keras.__version__} applies gradients "
                    "in a way this version of keras_relu_family does not know. Please report it."
                )
            return result

        return apply

    def _make_update_step(self, original):
        def update_step(gradient, variable, learning_rate):
            if self.mode != FULL:
                return original(gradient, variable, learning_rate)
            where = self._where.get(id(variable))
            if where is None:
                raise RuntimeError(
                    "GradientMonitor: the optimizer updates a variable that was not among the "
                    f"model's trainable variables when training began: {variable.name}. "
                    "Do not add trainable variables during fit()."
                )
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

    def _probe(self, layer, inputs, outputs):
        """Stores a rectifier's dead fraction (replica context, training forward pass)."""
        if self.mode != FULL or not isinstance(inputs, tf.Tensor):  # not symbolic tensors
            return
        j = self._dead_index.get(id(layer))
        if j is None:
            return
        fraction = dead_fraction(inputs, outputs, self.dead_layers[j][2])
        # The step counter moves later, in apply: this forward pass is step steps + 1.
        slot = self._slot(self.steps.read_value()) if self.ring > 1 else 0
        set_row(self.dead, [slot, j], fraction)
