"""Reading GradientMonitor's event files back, for the monitor tests."""

from __future__ import annotations

import os
import warnings


def read_events(log_dir):
    """tbparse's frame of the tensor events under ``log_dir/train``."""
    from tbparse import SummaryReader  # imported here: the subprocess tests' children skip it

    with warnings.catch_warnings():  # tbparse calls pandas' deprecated inplace=True
        warnings.filterwarnings("ignore", message="The inplace keyword")
        return SummaryReader(os.path.join(log_dir, "train")).tensors


def read_scalars(log_dir) -> dict:
    """``{tag: {step: value}}`` from the event files under ``log_dir/train``."""
    frame = read_events(log_dir)
    out = {}
    for tag, step, value in zip(frame.tag, frame.step, frame.value, strict=True):
        out.setdefault(tag, {})[int(step)] = float(value)
    return out
