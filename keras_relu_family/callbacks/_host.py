"""The monitor on Keras's JAX and PyTorch backends: engine and logger (no TensorFlow).

:class:`HostEngine` has the TensorFlow ``Engine``'s interface over a
:class:`~keras_relu_family.callbacks._stateful.StatefulCapture`: it installs
the hooks and probes, marks the training steps (the ``fit`` loop's batch
callbacks bracket every step, on both backends), picks the mode of each
step, and keeps the step count. :class:`HostLogger` reads the capture's
buffers once per logged step (a few small arrays: the per-variable squared
norms of a ring row, the dead-unit counters) and writes the tags with the
``tensorboard`` package's own event writer (``_events``).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family.callbacks import _events
from keras_relu_family.callbacks._engine_base import BaseEngine
from keras_relu_family.callbacks._logdir import RunDir, last_logged_step
from keras_relu_family.callbacks._logger import Logger
from keras_relu_family.callbacks._stateful import StatefulCapture
from keras_relu_family.callbacks._tags import GLOBAL_TAG, OVERFLOW_TAG


class HostEngine(BaseEngine):
    """The hooks and buffers of one monitored model on JAX or PyTorch."""

    capture_class = StatefulCapture

    @property
    def attached(self) -> bool:
        return bool(self.capture._saved) or self.attachment.attached

    def attach(self, wrap_train_step: bool = True) -> None:
        del wrap_train_step  # the train function marks the steps (begin_batch, end_batch)
        self.detach()
        self.capture.install()
        self.attachment.attach()

    def detach(self) -> None:
        self.capture.in_step = False
        self.capture.uninstall()
        self.attachment.detach()

    def begin_batch(self) -> None:
        self.capture.in_step = True

    def end_batch(self) -> None:
        self.capture.in_step = False


def is_chief() -> bool:
    """Process 0 writes (``keras.distribution.initialize`` on several hosts); the others count."""
    if keras.config.backend() == "jax":
        import jax

        return jax.process_index() == 0
    return True


class HostLogger(Logger):
    """Writes a ``StatefulCapture``'s buffers, read on the host, as TensorBoard events."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._marks = {}  # JAX: (capture, rectifier) -> its call count at the last drain
        self._unwritten = []  # (step, items) whose write failed, written with the next ones

    def open(self, strategy=None) -> None:
        self.chief = is_chief()
        if not self.chief or self.run_dir is not None:
            return
        run_dir = RunDir(self.log_dir, _events.EventWriter)
        run_dir.open()  # OSError naming the directory
        self.written = max(self.written, last_logged_step(run_dir.directory))
        self.run_dir = run_dir

    def _rows(self, capture, layout, steps, values) -> list:
        """``[applied, global, *norms, *ratios, *dead]`` per step, from one snapshot."""
        segments = np.asarray(capture.segments, np.int64)
        n_layers = len(layout.layer_paths)

        def per_layer(name, slot):
            squares = 2.0 * values[id(getattr(capture, name))][slot].astype(np.float64)
            squares = squares[: len(segments)]
            return np.bincount(segments, weights=squares, minlength=n_layers), squares.sum()

        dead = []
        for j in layout.probed:
            if capture.dead.top:  # PyTorch: the largest values since the last drain
                top = values[id(capture.dead.top[j])]
                dead.append(capture.dead.drain_top(j, top, capture.targets[j].rule))
                continue
            key = (id(capture), j)
            last = values[id(capture.dead.last_fired[j])]
            calls = int(values[id(capture.dead.calls[j])])
            dead.append(float(np.mean(last <= self._marks.get(key, 0))))
            self._marks[key] = calls
        rows = []
        for step in steps:
            slot = (step - 1) % capture.ring
            applied = True
            if capture.stamped:
                applied = int(values[id(capture.applied_step)][slot]) == step
            squares, total = per_layer("halves", slot)
            row = [float(applied), np.sqrt(total), *np.sqrt(squares)]
            if layout.ratios:
                weights, _ = per_layer("weight_halves", slot)
                updates, _ = per_layer("update_halves", slot)
                with np.errstate(divide="ignore", invalid="ignore"):
                    row += list(np.sqrt(updates) / np.sqrt(weights))
            rows.append(np.asarray(row + dead, np.float64))
        return rows

    def _scalars(self, capture, layout, steps) -> list:
        values = capture.snapshot()
        rows = self._rows(capture, layout, steps, values)
        overflows = values[id(capture.overflows)]
        new = [
            (step, self._items(capture, layout, step, row, overflows))
            for step, row in zip(steps, rows, strict=True)
            if step > self.written
        ]
        # Steps whose write failed are written with the next ones (the ring may not hold
        # them any more): a writer that fails once loses nothing.
        new, self._unwritten = self._unwritten + new, []
        if new and self.run_dir.ready():
            if self._guarded(self._write, new) is not None:
                self.written = max(step for step, _ in new)
            else:
                self._unwritten = new[-self.RETRY :]
        return rows

    RETRY = 1000  # logged steps kept in memory while a write fails

    @staticmethod
    def _items(capture, layout, step, row, overflows) -> list:
        n = len(layout.layer_paths)
        norm_tags = [f"grad_norm/{p}" for p in layout.layer_paths]
        if layout.ratios:
            norm_tags += [f"update_ratio/{p}" for p in layout.layer_paths]
        dead_tags = [f"dead_fraction/{p}" for p in layout.dead_paths]
        items = []
        if row[0] and n:
            items.append((GLOBAL_TAG, row[1]))
            items += list(zip(norm_tags, row[2 : 2 + len(norm_tags)], strict=True))
        if capture.inner is not None:
            items.append((OVERFLOW_TAG, overflows[(step - 1) % capture.ring]))
        items += list(zip(dead_tags, row[2 + len(norm_tags) :], strict=True))
        return items

    def _write(self, new) -> bool:
        writer = self.run_dir.writer
        for step, items in new:
            writer.scalars(step, items)
        return True

    def _histograms(self, capture, step: int) -> None:
        values = capture.snapshot()

        def write():
            for variable, hist in zip(capture.variables, capture.hist, strict=True):
                self.run_dir.writer.histogram(step, f"grad_hist/{variable.path}", values[id(hist)])
            return True

        self._guarded(write)
