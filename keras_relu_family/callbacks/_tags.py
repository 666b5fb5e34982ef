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


def unique_paths(paths) -> list:
    """``paths`` with repeats made distinct (``path``, ``path_2``, ...)."""
    seen, out = set(), []
    for path in paths:
        candidate, k = path, 1
        while candidate in seen:
            k += 1
            candidate = f"{path}_{k}"
        seen.add(candidate)
        out.append(candidate)
    return out


class Layout:
    """What one drain returns per logged step: the columns of its result rows.

    ``[applied, global, *layer norms, *update ratios, *dead fractions]``;
    ``dead_paths`` names the probed rectifiers, in the order of their columns.
    """

    def __init__(self, capture):
        self.layer_paths = list(capture.layer_paths)
        self.ratios = capture.update_ratios
        self.probed = capture.dead.probed
        self.dead_paths = unique_paths(capture.targets[j].path for j in self.probed)

    def split(self, row) -> dict:
        n = len(self.layer_paths)
        norms = dict(zip(self.layer_paths, map(float, row[2 : 2 + n]), strict=True))
        at = 2 + n
        ratios = {}
        if self.ratios:
            ratios = dict(zip(self.layer_paths, map(float, row[at : at + n]), strict=True))
            at += n
        dead = dict(zip(self.dead_paths, map(float, row[at:]), strict=True))
        return {"applied": bool(row[0]), "global": float(row[1]), "norms": norms,
                "ratios": ratios, "dead": dead}  # fmt: skip
