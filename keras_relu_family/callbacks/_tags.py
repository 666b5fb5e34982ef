"""The monitor's TensorBoard tags, in one place (no TensorFlow: every backend writes these).

A layer path is a variable's ``path`` without its last part
(``sequential/dense/kernel`` belongs to ``sequential/dense``); the tags are
``<prefix><layer path>``.
"""

from __future__ import annotations

GRAD_PREFIX = "grad_norm/"
DEAD_PREFIX = "dead_fraction/"
RATIO_PREFIX = "update_ratio/"
HIST_PREFIX = "grad_hist/"
GLOBAL_TAG = GRAD_PREFIX + "global"
OVERFLOW_TAG = GRAD_PREFIX + "overflow_steps"
MONITOR_PREFIXES = (GRAD_PREFIX, DEAD_PREFIX, RATIO_PREFIX)


def layer_path(variable_path: str) -> str:
    """``"sequential/dense/kernel"`` -> ``"sequential/dense"``."""
    return variable_path.rsplit("/", 1)[0] if "/" in variable_path else variable_path


def grad_tag(path: str) -> str:
    return GRAD_PREFIX + path


def dead_tag(path: str) -> str:
    return DEAD_PREFIX + path


def ratio_tag(path: str) -> str:
    return RATIO_PREFIX + path


def hist_tag(variable_path: str) -> str:
    return HIST_PREFIX + variable_path


def check_layer_paths(paths) -> None:
    """Refuses layer paths that would write over the monitor's own tags."""
    reserved = {GLOBAL_TAG, OVERFLOW_TAG}
    for path in paths:
        if grad_tag(path) in reserved:
            raise ValueError(
                f"GradientMonitor reserves the tag {grad_tag(path)!r}, but a layer has the "
                f"path {path!r}. Rename that layer. Received: layer path={path!r}"
            )


def is_monitor_tag(tag: str) -> bool:
    return tag.startswith(MONITOR_PREFIXES)
