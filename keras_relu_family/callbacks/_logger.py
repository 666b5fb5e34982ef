"""Draining a capture's buffers: writing the logged steps, the warnings, the epoch table.

One ``Logger`` per ``GradientMonitor``: it lives across ``fit`` calls (and
``watch`` blocks) and keeps the run directory, the last step written (no step
is written twice), the warning rules' history and the last logged values.
Only the chief writes (on TensorFlow ``strategy.extended.should_save_summary``,
every process but the chief of a multi-worker strategy; on JAX process 0);
the others only keep count. This base class imports no backend: how the rows
are read and written is its subclasses' (``_logger_tf.TensorFlowLogger``,
``_host.HostLogger``).
"""

from __future__ import annotations

import warnings

from keras_relu_family.callbacks import _rectifiers, _table, _tags, _window
from keras_relu_family.callbacks._rules import GradientWarning


class Logger:
    """Writes what a capture holds.

    Args:
        log_dir: The monitor's ``log_dir``.
        update_freq: The logged steps are its multiples.
        histogram_freq: Histograms every this many steps (0: none).
        rules: The warning rules (``_rules.Rules``).
        verbose: 1 prints the epoch table.
    """

    def __init__(self, log_dir, update_freq, histogram_freq, rules, verbose):
        self.log_dir = log_dir
        self.update_freq = update_freq
        self.histogram_freq = histogram_freq
        self.rules = rules
        self.verbose = verbose
        self.run_dir = None
        self.chief = True
        self.written = 0  # the largest step on disk: never written again
        self.drained = 0  # the step count at the last drain
        self.hist_written = 0
        self.last = {}  # the last logged values, for the table
        self.pending = None  # a table to print after fit's own epoch line
        self._functions = {}

    def open(self, strategy) -> None:
        """Opens the run directory (once), unless this process is not the chief."""
        raise NotImplementedError

    def _layout(self, capture):
        """The columns of the drained rows, made once per capture and set of probed layers."""
        key = ("layout", id(capture), tuple(capture.dead.probed))
        layout = self._functions.get(key)
        if layout is None:
            _tags.check_layer_paths(capture.layer_paths)
            layout = self._functions[key] = _tags.Layout(capture)
        return layout

    def drain(self, capture, now: int) -> None:
        """Writes the logged steps that ran since the last drain (nothing otherwise)."""
        last = self.drained
        if now <= last:
            return
        self.drained = now
        if not self.chief or not capture.ready:
            return
        first = max(last + 1, now - capture.ring + 1)  # older rows were overwritten
        steps = _window.logged_steps(first, now, self.update_freq)
        floor = self.written
        if steps:
            layout = self._layout(capture)
            rows = self._scalars(capture, layout, steps)
            for step, row in zip(steps, rows, strict=True):
                self._take(step, layout.split(row))
        if self.histogram_freq:
            kept = int(capture.read(capture.hist_step))
            if kept > self.hist_written:
                self.hist_written = kept
                if kept > floor and self.run_dir.ready():
                    self._histograms(capture, kept)
        self.run_dir.flush()

    def _scalars(self, capture, layout, steps) -> list:
        """The rows of ``steps`` (see ``_tags.Layout``), writing those not on disk yet."""
        raise NotImplementedError

    def _histograms(self, capture, step: int) -> None:
        """Writes the gradient histograms the capture kept at ``step``."""
        raise NotImplementedError

    def _guarded(self, function, *args):
        try:
            return function(*args)
        except Exception as error:  # noqa: BLE001 - logging must not end the training run
            self.run_dir.failed(error)
            return None

    def _take(self, step, values) -> None:
        """Checks the rules on one logged step and keeps its values for the table."""
        self.last["step"] = step
        self.last["dead"] = values["dead"]
        if not values["applied"]:
            return
        self.last.update(global_norm=values["global"], norms=values["norms"])
        self.last["ratios"] = values["ratios"]
        for finding in self.rules.check(step, values["norms"], values["global"]):
            warnings.warn(finding.message, GradientWarning, stacklevel=2)

    def end_epoch(self, epoch: int, model, later: bool = False) -> None:
        """Flushes; prints the epoch's table at ``verbose=1`` (the chief only).

        With ``later=True`` the table waits for :meth:`print_pending`: ``fit``
        prints its own epoch line after every callback's ``on_epoch_end``, and
        the table reads better after it.
        """
        if not self.chief:
            return
        self.run_dir.flush()
        if self.verbose:
            self.pending = self.table(epoch, model)
            if not later:
                self.print_pending()

    def print_pending(self) -> None:
        if self.pending:
            print(self.pending, flush=True)
        self.pending = None

    def table(self, epoch: int, model) -> str:
        norms, dead = self.last.get("norms", {}), self.last.get("dead", {})
        order = _rectifiers.layer_order(model)
        paths = _table.merge_paths(norms, dead)
        paths.sort(key=lambda p: order.get(p, len(order)))
        return _table.epoch_table(
            epoch,
            self.last.get("step"),
            paths,
            norms,
            self.last.get("ratios", {}),
            dead,
            self.rules.flagged,
            self.last.get("global_norm"),
        )

    def new_epoch(self) -> None:
        self.rules.new_epoch()
