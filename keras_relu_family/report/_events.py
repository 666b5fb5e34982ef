"""Reading GradientMonitor's TensorBoard event files back into arrays.

Uses TensorBoard's ``EventAccumulator`` (tensorboard is a dependency of the package),
keeping every event rather than its default sample of 10 per tag. TF2 writes
scalars as tensor events; legacy ``simple_value`` scalars are read too.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from keras_relu_family.callbacks._tags import GLOBAL_TAG, OVERFLOW_TAG  # the writers' names

GRAD_PREFIX = "grad_norm/"
DEAD_PREFIX = "dead_fraction/"
# OVERFLOW_TAG counts the steps the loss scaler skipped: a count, not a norm.

Series = tuple  # (steps, values): two 1-D numpy arrays of the same length


class ReportError(ValueError):
    """The log directory holds nothing the report can draw (the message says why)."""

    __module__ = "keras_relu_family.report"


@dataclasses.dataclass
class RunLogs:
    """The GradientMonitor series of one TensorBoard run.

    Attributes:
        name: The run's name: its path below the log directory, without the
            trailing ``train`` that GradientMonitor writes into.
        path: The directory holding the event files.
        global_norm: ``(steps, values)`` of ``grad_norm/global``, or ``None``.
        grad_norms: ``{layer path: (steps, values)}``, in the order written.
        dead_fractions: ``{layer path: (steps, values)}``, in the order written.
        overflow_steps: The last ``grad_norm/overflow_steps`` value (mixed
            precision: steps skipped by the loss scaler), or ``None``.
    """

    name: str
    path: str
    global_norm: Series | None = None
    grad_norms: dict = dataclasses.field(default_factory=dict)
    dead_fractions: dict = dataclasses.field(default_factory=dict)
    overflow_steps: int | None = None


def _natural_key(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _event_dirs(log_dir: str) -> list:
    """Every directory at or below ``log_dir`` holding a TensorBoard event file."""
    found = []
    for root, dirs, files in os.walk(log_dir):
        dirs.sort(key=_natural_key)
        if any("tfevents" in name for name in files):
            found.append(root)
    return found


def _run_name(log_dir: str, path: str) -> str:
    rel = os.path.relpath(path, log_dir)
    parts = [] if rel == "." else rel.split(os.sep)
    if parts and parts[-1] == "train":
        parts = parts[:-1]
    return "/".join(parts) or os.path.basename(os.path.abspath(log_dir)) or rel


def _read(path: str) -> dict:
    """``{tag: (steps, values)}`` for every scalar in the event files of ``path``."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util

    guidance = {ea.TENSORS: 0, ea.SCALARS: 0, ea.HISTOGRAMS: 1, ea.IMAGES: 1, ea.AUDIO: 1}
    accumulator = ea.EventAccumulator(path, size_guidance=guidance)
    try:
        accumulator.Reload()
    except Exception as error:  # corrupt or foreign files: say which directory
        raise ReportError(
            f"Could not read the TensorBoard event files in {path!r} "
            f"({type(error).__name__}: {error})."
        ) from error
    tags = accumulator.Tags()
    series = {}
    for tag in tags.get(ea.TENSORS, []):
        events = accumulator.Tensors(tag)
        values = [tensor_util.make_ndarray(e.tensor_proto) for e in events]
        if all(np.size(v) == 1 for v in values):
            steps = np.array([e.step for e in events], dtype=np.int64)
            series[tag] = (steps, np.array([float(np.ravel(v)[0]) for v in values]))
    for tag in tags.get(ea.SCALARS, []):
        events = accumulator.Scalars(tag)
        steps = np.array([e.step for e in events], dtype=np.int64)
        series.setdefault(tag, (steps, np.array([e.value for e in events], dtype=np.float64)))
    return series


def _is_monitor_tag(tag: str) -> bool:
    return tag.startswith((GRAD_PREFIX, DEAD_PREFIX))


def load_runs(log_dir) -> list:
    """Reads every GradientMonitor run at or below ``log_dir``.

    A run is a directory of event files with at least one ``grad_norm/`` or
    ``dead_fraction/`` tag; other runs (Keras's ``validation`` run, say) are
    skipped.

    Args:
        log_dir: The ``log_dir`` given to ``GradientMonitor``, its ``train``
            subdirectory, or a directory holding several such runs.

    Returns:
        A list of `RunLogs`, sorted by name (numbers in natural order).

    Raises:
        ReportError: ``log_dir`` is missing, holds no event files, or holds
            event files without any GradientMonitor tag.
    """
    log_dir = os.fspath(log_dir)
    if not os.path.isdir(log_dir):
        what = "is not a directory" if os.path.exists(log_dir) else "does not exist"
        raise ReportError(f"The log directory {what}. Received: log_dir={log_dir!r}")
    directories = _event_dirs(log_dir)
    if not directories:
        raise ReportError(
            f"No TensorBoard event files under {log_dir!r}: give the log_dir that "
            "GradientMonitor wrote to (or a directory of such runs)."
        )
    runs, other_tags = [], set()
    for path in directories:
        series = _read(path)
        if not any(_is_monitor_tag(tag) for tag in series):
            other_tags.update(series)
            continue
        runs.append(_to_run(_run_name(log_dir, path), path, series))
    if not runs:
        found = ", ".join(sorted(other_tags)[:8]) or "none"
        raise ReportError(
            f"The event files under {log_dir!r} hold no GradientMonitor tags "
            f"(grad_norm/..., dead_fraction/...); scalar tags found: {found}."
        )
    return sorted(runs, key=lambda run: _natural_key(run.name))


def _to_run(name: str, path: str, series: dict) -> RunLogs:
    run = RunLogs(name=name, path=path)
    for tag, values in series.items():  # insertion order = the order the monitor wrote
        if tag == GLOBAL_TAG:
            run.global_norm = values
        elif tag == OVERFLOW_TAG:
            run.overflow_steps = int(values[1][-1]) if len(values[1]) else 0
        elif tag.startswith(GRAD_PREFIX):
            run.grad_norms[tag[len(GRAD_PREFIX) :]] = values
        elif tag.startswith(DEAD_PREFIX):
            run.dead_fractions[tag[len(DEAD_PREFIX) :]] = values
    return run
