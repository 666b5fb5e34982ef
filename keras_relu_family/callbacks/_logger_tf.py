"""The TensorFlow monitor's logger: compiled writers that read the capture's buffers in-graph."""

from __future__ import annotations

import tensorflow as tf

from keras_relu_family.callbacks import _summaries
from keras_relu_family.callbacks._logdir import RunDir, last_logged_step
from keras_relu_family.callbacks._logger import Logger


def is_chief(strategy) -> bool:
    """Whether this process writes the logs (all but the chief of a multi-worker run don't)."""
    return bool(getattr(strategy.extended, "should_save_summary", True))


def _open_writer(directory):
    return tf.summary.create_file_writer(directory, max_queue=1000)


class TensorFlowLogger(Logger):
    """Writes a ``GradientCapture``'s buffers with ``tf.summary``, in compiled functions."""

    def open(self, strategy) -> None:
        self.chief = is_chief(strategy)
        if not self.chief or self.run_dir is not None:
            return
        run_dir = RunDir(self.log_dir, _open_writer, files=tf.io.gfile)
        run_dir.open()  # OSError naming the directory
        self.written = max(self.written, last_logged_step(run_dir.directory, tf.io.gfile))
        self.run_dir = run_dir

    def _function(self, kind, capture, layout=None, writer=None):
        key = (kind, id(capture), id(writer), tuple(layout.probed) if layout else ())
        function = self._functions.get(key)
        if function is None:
            if kind == "scalars":
                function = _summaries.make_scalar_writer(capture, writer, layout)
            else:
                function = _summaries.make_histogram_writer(capture, writer)
            self._functions = {k: v for k, v in self._functions.items() if k[1] == id(capture)}
            self._functions[key] = function
        return function

    def _scalars(self, capture, layout, steps) -> list:
        """The rows of ``steps``, writing those not on disk yet when the directory allows."""
        new = [s for s in steps if s > self.written]
        old = [s for s in steps if s <= self.written]
        rows = {}
        for _ in range(2):  # a write that failed is tried once more, with a new writer
            if not new or not self.run_dir.ready():
                break
            write = self._function("scalars", capture, layout, self.run_dir.writer)
            result = self._guarded(write, *self._slots(capture, new))
            if result is not None:
                rows.update(zip(new, result.numpy(), strict=True))
                self.written = max(new)
                break
        unwritten = [s for s in steps if s not in rows]
        if unwritten or old:
            read = self._function("scalars", capture, layout)
            values = read(*self._slots(capture, unwritten)).numpy()
            rows.update(zip(unwritten, values, strict=True))
        return [rows[s] for s in steps]

    @staticmethod
    def _slots(capture, steps):
        slots = [(step - 1) % capture.ring for step in steps]
        return tf.constant(slots, tf.int64), tf.constant(steps, tf.int64)

    def _histograms(self, capture, step: int) -> None:
        self._guarded(self._function("hist", capture, writer=self.run_dir.writer))
