"""The capture on Keras's JAX and PyTorch backends: buffers that are Keras variables.

On JAX the train step is a pure function of its state, so the monitor's
buffers must travel in that state: they are ``keras.Variable`` objects added,
while the monitor trains the model, to the optimizer's variables (the
gradient and update buffers, written in the optimizer's step) and to the
model's non-trainable variables (the dead-unit state, written in the forward
pass), through ``_keras_private.add_state``. The hooks write them with
``assign`` in Keras's stateless scopes, exactly as the optimizer updates its
own slots, so the values come out of the jitted step with the rest of the
state, with no extra pass and no host callback. On PyTorch the same
variables are updated in place, eagerly or under ``torch.compile``.

The hooks, installed as instance attributes:

* the outer optimizer's entry point (``stateless_apply`` on JAX, ``apply``
  on PyTorch; a ``LossScaleOptimizer`` under mixed precision): counts the
  step, and the steps whose scaled gradients overflowed;
* ``apply`` of the optimizer that updates the weights (the inner one of a
  ``LossScaleOptimizer``): in a logged step, reads the weights before and
  after (``update_ratio``) and writes the gradients' row;
* the method through which it applies all the gradients of the step
  (``_keras_private.OPTIMIZER_UPDATE``; Keras's PyTorch optimizers apply
  them all at once, never through ``update_step``): half the squared L2 norm
  of each gradient it applies (unscaled, averaged over
  ``gradient_accumulation_steps``, clipped);
* the probed layers' calls (``_attach.Attachment``): per rectifier, on JAX a
  call counter and, per unit, the number of the last call in which it fired;
  on PyTorch, per unit, its largest value since the last drain (``_Dead``).

A unit is dead at a logged step when it fired in no call since the previous
drain; the host reads that off at the drain (``_host``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_relu_family import _keras_private
from keras_relu_family.callbacks import _window
from keras_relu_family.callbacks._attach import Attachment
from keras_relu_family.callbacks._engine_base import FULL, OFF, host_value, unknown_variable
from keras_relu_family.callbacks._tags import layer_path

# On PyTorch the per-step hooks (the step count, the dead-unit probes) run on
# every step, eagerly: written in torch in place, under no_grad, they cost a
# few of its ops; through keras.ops each op pays Keras's conversions, and the
# probes' reductions were recorded for autograd (see _torch_probe).
TORCH = keras.config.backend() == "torch"
if TORCH:
    import torch


def _buffer(value, dtype, name):
    return keras.Variable(
        np.asarray(value, dtype), dtype=dtype, trainable=False, name=f"krf_gradient_monitor_{name}"
    )


def _units(target):
    """The number of units of a target's activation, from its layer's symbolic output."""
    try:
        shape = target.layer.output.shape
    except (AttributeError, ValueError, RuntimeError):
        return None
    return _window.units_of(keras.KerasTensor(shape), target.unit_axis)


def _symbolic_inputs(shape, dtype):
    """``KerasTensor``s of the shapes in ``shape``: one shape, or a dict, list or tuple of
    them (plain ones: Keras keeps the shapes of a dict input in a tracked dict, which JAX
    refuses as an argument)."""
    if isinstance(shape, dict):
        return {key: _symbolic_inputs(value, dtype) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and not all(d is None or isinstance(d, int) for d in shape):
        kind = list if isinstance(shape, list) else tuple
        return kind(_symbolic_inputs(value, dtype) for value in shape)
    return keras.KerasTensor(tuple(shape), dtype)


def _units_from_a_symbolic_call(model, targets, indices) -> dict:
    """``{index: units}`` for ``targets[index]``, ``index`` in ``indices``: the targets whose
    layers have no symbolic output (those of a subclassed model), seen in one symbolic call
    of the model (``compute_output_spec``: no values, no state changed) on the input shape
    it was built with (``get_build_config``), through the probes' own attachment.

    One input may be a structure of tensors (a tuple, a dict). Empty where the model was
    built with several arguments or the call fails (a model that takes no float input,
    say): those rectifiers are not probed, as before.
    """
    if not indices:
        return {}
    shape = (model.get_build_config() or {}).get("input_shape")
    if shape is None:
        return {}
    found = {}

    def record(j, inputs, outputs):
        index = indices[j]
        target = targets[index]
        values = outputs if target.rule[0] == "output" else inputs
        if index not in found and len(getattr(values, "shape", ())) >= 1:
            found[index] = _window.units_of(values, target.unit_axis)

    attachment = Attachment([targets[i] for i in indices], record, lambda: True)
    attachment.attach()
    try:
        model.compute_output_spec(_symbolic_inputs(shape, model.input_dtype))
    except Exception:  # noqa: BLE001 - any failure: the documented fallback, no probe
        return {}
    finally:
        attachment.detach()
    return {i: units for i, units in found.items() if units is not None}


class _Dead:
    """Per probed rectifier, what says which of its units fired since the last drain.

    On JAX, where the buffers travel in the jitted step's state, a call counter
    and the number of the last call each unit fired in (the host keeps the count
    at the last drain). On PyTorch, where the host can write them, each unit's
    largest value since the last drain, which the drain reads and resets: two
    ops a call (a reduction and an ``fmax``) where the counter took five.
    """

    def __init__(self, targets, model):
        self.calls, self.last_fired = {}, {}
        self.top, self.dtypes = {}, {}  # PyTorch: index -> largest values, their dtype
        known = {index: _units(target) for index, target in enumerate(targets)}
        unknown = [index for index, units in known.items() if units is None]
        known.update(_units_from_a_symbolic_call(model, targets, unknown))
        for index in range(len(targets)):
            units = known[index]
            if units is None:
                continue  # its shape is unknown before the traced step: not probed here
            if TORCH:
                self.top[index] = _buffer(np.full(units, -np.inf), "float32", f"dead_top_{index}")
                continue
            self.calls[index] = _buffer(0, "int32", f"dead_calls_{index}")
            self.last_fired[index] = _buffer(np.zeros(units), "int32", f"dead_last_{index}")

    @property
    def probed(self) -> list:
        return sorted(self.top or self.calls)

    @property
    def variables(self) -> list:
        if self.top:
            return [self.top[j] for j in self.probed]
        return [v for j in self.probed for v in (self.calls[j], self.last_fired[j])]

    def drain_top(self, index: int, top, rule) -> float:
        """PyTorch: the fraction of units whose largest value since the last drain, ``top``
        (read from the buffer), did not fire under ``rule``; then resets the buffer."""
        kind, level = rule
        dtype = self.dtypes.get(index)
        if dtype is not None:  # the level in the activation's dtype, as fired_units casts it
            level = float(torch.tensor(level, dtype=dtype))
        fired = top > level if kind == "output" else top >= level
        with torch.no_grad():
            self.top[index].value.fill_(-np.inf)
        return float(np.mean(~fired))


class StatefulCapture:
    """The buffers of one monitored model and the hooks that fill them (see the module).

    Args: as ``GradientCapture``'s.
    """

    backend_entry = "stateless_apply" if keras.config.backend() == "jax" else "apply"

    def __init__(
        self, model, optimizer, ring, first_step, update_freq, histogram_freq, targets, ratios
    ):
        self.model = model
        self.outer = optimizer
        is_lso = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
        self.inner = optimizer.inner_optimizer if is_lso else None
        self.updater = self.inner if is_lso else optimizer
        self.accumulation = int(getattr(self.updater, "gradient_accumulation_steps", 0) or 0)
        self.stamped = is_lso or bool(self.accumulation)
        self.ring = int(ring)
        self.update_freq = int(update_freq)
        self.histogram_freq = int(histogram_freq)
        self.update_ratios = bool(ratios)
        self.targets = list(targets)
        self.variables = list(model.trainable_variables)
        self.layer_paths = []
        for v in self.variables:
            if layer_path(v.path) not in self.layer_paths:
                self.layer_paths.append(layer_path(v.path))
        self.segments = [self.layer_paths.index(layer_path(v.path)) for v in self.variables]
        self._index = {id(v): i for i, v in enumerate(self.variables)}
        width = max(len(self.variables), 1)
        ring_rows = np.zeros([self.ring, width], np.float32)
        # The outer optimizer's (every step) and the updater's (the steps it applies).
        self.steps = _buffer(first_step, "int32", "steps")
        self.overflow_total = _buffer(0, "int32", "overflow_total")
        self.overflows = _buffer(np.zeros(self.ring), "int32", "overflows")
        self.halves = _buffer(ring_rows, "float32", "halves")
        self.applied_step = _buffer(np.zeros(self.ring), "int32", "applied_step")
        self.weight_halves = _buffer(ring_rows, "float32", "weight_halves")
        self.update_halves = _buffer(ring_rows, "float32", "update_halves")
        self.hist = [
            _buffer(np.zeros(v.shape), "float32", f"hist_{i}")
            for i, v in enumerate(self.variables)
            if self.histogram_freq
        ]
        self.hist_step = _buffer(0, "int32", "hist_step")
        self.dead = _Dead(self.targets, model)
        self.mode = OFF
        self.in_step = False
        self._saved = []
        self._pending = {}
        self._step = None  # the step number of the step being traced or run

    ready = True

    @property
    def outer_buffers(self) -> list:
        return [self.steps, self.overflow_total, self.overflows]

    @property
    def updater_buffers(self) -> list:
        return [
            self.halves,
            self.applied_step,
            self.weight_halves,
            self.update_halves,
            self.hist_step,
            *self.hist,
        ]

    def active(self) -> bool:
        return self.mode != OFF and self.in_step

    # -- attaching ---------------------------------------------------------------------

    def _owned(self) -> list:
        """``(object, its buffers)``: the model's dead-unit state, the optimizers' buffers."""
        if self.updater is self.outer:
            return [(self.model, self.dead.variables),
                    (self.outer, self.outer_buffers + self.updater_buffers)]  # fmt: skip
        return [
            (self.model, self.dead.variables),
            (self.outer, self.outer_buffers),
            (self.updater, self.updater_buffers),
        ]

    def install(self) -> None:
        """Adds the buffers to the train state and wraps the optimizers' methods."""
        self.uninstall()
        for obj, buffers in self._owned():
            _keras_private.add_state(obj, buffers)
        hooks = [(self.outer, self.backend_entry, self._make_entry)]
        if self.backend_entry == "stateless_apply" or self.updater is not self.outer:
            hooks.append((self.updater, "apply", self._make_apply))
        _keras_private.optimizer_update(self.updater)  # fails loudly if Keras moved it
        hooks.append((self.updater, _keras_private.OPTIMIZER_UPDATE, self._make_update_step))
        for obj, buffers in self._owned():
            for name in ("save_own_variables", "load_own_variables"):
                hooks.append((obj, name, self._make_without(obj, buffers)))
        for obj, name, make in hooks:
            hook = make(getattr(obj, name))
            self._saved.append((obj, name, vars(obj).get(name), hook))
            object.__setattr__(obj, name, hook)

    def uninstall(self) -> None:
        self.mode = OFF
        for obj, name, previous, hook in reversed(self._saved):
            if vars(obj).get(name) is not hook:
                continue
            if previous is None:
                object.__delattr__(obj, name)
            else:
                object.__setattr__(obj, name, previous)
        if self._saved:
            for obj, buffers in self._owned():
                _keras_private.remove_state(obj, buffers)
        self._saved = []

    @property
    def _all_buffers(self) -> list:
        return self.outer_buffers + self.updater_buffers + self.dead.variables

    @staticmethod
    def _make_without(obj, buffers):
        """``save_own_variables`` / ``load_own_variables`` that do not see the buffers.

        A checkpoint written during training (``ModelCheckpoint``,
        ``BackupAndRestore``) holds the model's and the optimizer's own state
        only, and one read during training fits the buffers' absence.
        """

        def without(original):
            def method(store):
                _keras_private.remove_state(obj, buffers)
                try:
                    return original(store)
                finally:
                    _keras_private.add_state(obj, buffers)

            return method

        return without

    # -- hooks -------------------------------------------------------------------------

    def _make_entry(self, original):
        """Counts the step (every step, applied or skipped) and the overflows."""
        jax = self.backend_entry == "stateless_apply"

        def entry(*args, **kwargs):
            if not self.active():
                return original(*args, **kwargs)
            if jax:
                return self._stateless_entry(original, *args, **kwargs)
            if TORCH:
                with torch.no_grad():
                    step = self.steps.value + 1
                    self.steps.value.copy_(step)
            else:
                step = self.steps.value + 1
                self.steps.assign(step)
            self._step = step
            before = self._inner_iterations()
            result = original(*args, **kwargs)
            if self.inner is not None:
                skipped = ops.cast(ops.equal(self._inner_iterations(), before), "int32")
                self._count_overflow(step, skipped, lambda v: v.value, lambda v, x: v.assign(x))
            if self.updater is self.outer:
                pass  # recorded by the apply hook below (the same method on PyTorch)
            return result

        if not jax and self.updater is self.outer:
            return self._make_apply(entry)  # one method both counts and records
        return entry

    def _inner_iterations(self):
        return None if self.inner is None else ops.convert_to_tensor(self.inner.iterations)

    def _stateless_entry(self, original, optimizer_variables, grads, trainable_variables):
        where = {id(v): i for i, v in enumerate(self.outer.variables)}
        values = list(optimizer_variables)
        step = values[where[id(self.steps)]] + 1
        self._step = step
        inner_at = where.get(id(self.inner.iterations)) if self.inner is not None else None
        new_trainable, new_values = original(values, grads, trainable_variables)
        new_values = list(new_values)
        new_values[where[id(self.steps)]] = step
        if inner_at is not None:
            skipped = ops.cast(ops.equal(new_values[inner_at], values[inner_at]), "int32")

            def get(v):
                return new_values[where[id(v)]]

            def put(v, x):
                new_values[where[id(v)]] = x

            self._count_overflow(step, skipped, get, put)
        return new_trainable, new_values

    def _count_overflow(self, step, skipped, get, put):
        total = get(self.overflow_total) + skipped
        put(self.overflow_total, total)
        if self.mode == FULL:
            slot = (step - 1) % self.ring
            put(
                self.overflows,
                ops.scatter_update(
                    get(self.overflows), ops.reshape(slot, [1, 1]), ops.reshape(total, [1])
                ),
            )

    def _make_apply(self, original):
        def apply(grads, trainable_variables=None):
            if self.mode != FULL or not self.active():
                return original(grads, trainable_variables)
            self._pending = {}
            before = None
            if self.update_ratios:
                # A copy: on PyTorch the step updates the weights in place.
                before = [ops.copy(ops.convert_to_tensor(v)) for v in self.variables]
            iterations = ops.convert_to_tensor(self.updater.iterations)
            result = original(grads, trainable_variables)
            self._record(before, iterations)
            return result

        return apply

    def _record(self, before, iterations):
        step = self._step
        slot = ops.reshape((step - 1) % self.ring, [1, 1])
        zero = ops.zeros((), "float32")
        row = ops.stack([self._pending.get(i, zero) for i in range(len(self.variables))] or [zero])
        self._pending = {}
        self._put_row(self.halves, slot, row)
        if self.stamped:
            applied = ops.convert_to_tensor(True)
            if self.accumulation:
                applied = ops.equal((iterations + 1) % self.accumulation, 0)
            stamp = ops.where(applied, step, ops.zeros_like(step) - 1)
            self.applied_step.assign(
                ops.scatter_update(self.applied_step.value, slot, ops.reshape(stamp, [1]))
            )
        if before is not None:
            weights, updates = [], []
            for v, old in zip(self.variables, before, strict=True):
                old = ops.cast(old, "float32")
                new = ops.cast(ops.convert_to_tensor(v), "float32")
                weights.append(0.5 * ops.sum(ops.square(old)))
                updates.append(0.5 * ops.sum(ops.square(new - old)))
            self._put_row(self.weight_halves, slot, ops.stack(weights))
            self._put_row(self.update_halves, slot, ops.stack(updates))

    def _put_row(self, buffer, slot, row):
        width = buffer.shape[1]
        indices = ops.concatenate(
            [ops.repeat(slot, width, axis=0)[:, :1], ops.arange(width, dtype="int32")[:, None]],
            axis=1,
        )
        buffer.assign(ops.scatter_update(buffer.value, indices, ops.reshape(row, [width])))

    def _make_update_step(self, original):
        def update(grads, trainable_variables, learning_rate):
            if self.mode == FULL and self.active():
                for gradient, variable in zip(grads, trainable_variables, strict=True):
                    if gradient is not None:
                        self._observe(gradient, variable)
            return original(grads, trainable_variables, learning_rate)

        return update

    def _observe(self, gradient, variable) -> None:
        index = self._index.get(id(variable))
        if index is None:
            raise unknown_variable(variable)
        grad = ops.cast(ops.convert_to_tensor(gradient), "float32")
        self._pending[index] = 0.5 * ops.sum(ops.square(grad))
        if self.histogram_freq:
            self._keep_histogram(index, grad)

    def _keep_histogram(self, index, grad):
        step = self._step
        keep = ops.equal(step % self.histogram_freq, 0)
        hist = self.hist[index]
        hist.assign(ops.where(keep, grad, hist.value))
        if index == 0:
            self.hist_step.assign(ops.where(keep, step, self.hist_step.value))

    def probe(self, index, inputs, outputs) -> None:
        """Records the units of ``targets[index]`` that fired in this call."""
        target = self.targets[index]
        values = outputs if target.rule[0] == "output" else inputs
        kept = self.dead.top.get(index) if TORCH else self.dead.last_fired.get(index)
        if kept is None or len(values.shape) < 1:
            return
        if _window.units_of(values, target.unit_axis) != kept.shape[0]:
            return  # another call of the layer with other units: not counted
        if TORCH:
            self.dead.dtypes[index] = values.dtype
            _torch_probe(kept, values, target.unit_axis)
            return
        calls, last = self.dead.calls[index], kept
        count = calls.value + 1
        calls.assign(count)
        fired = _window.fired_units(inputs, outputs, target.rule, target.unit_axis)
        last.assign(ops.where(fired > 0, count, last.value))

    # -- reading -----------------------------------------------------------------------

    def snapshot(self) -> dict:
        """``{variable id: numpy value}`` of every buffer, as the train state holds it now."""
        state = _keras_private.jax_state(self.model)
        values = {}
        if state is not None and state.get("optimizer_variables") is not None:
            for owner, key, buffers in (
                (self.model, "non_trainable_variables", self.dead.variables),
                (self.outer, "optimizer_variables", self.outer_buffers + self.updater_buffers),
            ):
                listed = owner.non_trainable_variables if owner is self.model else owner.variables
                where = {id(v): i for i, v in enumerate(listed)}
                current = state.get(key) or []
                for v in buffers:
                    i = where.get(id(v))
                    if i is not None and i < len(current) and current[i] is not None:
                        values[id(v)] = np.asarray(current[i])
        for v in self._all_buffers:
            if id(v) not in values:
                values[id(v)] = host_value(v)
        return values

    def read(self, variable):
        return self.snapshot()[id(variable)]

    def set_steps(self, count: int) -> None:
        self.steps.assign(count)


def _torch_probe(top, values, unit_axis) -> None:
    """``probe`` on PyTorch: each unit's largest value of this call into ``top``, under
    no_grad. ``fmax``: a NaN of this call does not undo a firing of an earlier one."""
    with torch.no_grad():
        rank = values.dim()
        axis = unit_axis % rank
        largest = torch.amax(values, dim=[i for i in range(rank) if i != axis])
        kept = top.value
        torch.fmax(kept, largest, out=kept)
