"""The warning rules: which logged gradient norms are trouble (no TensorFlow import).

Scale-free rules, on by default (``docs/monitor.md`` has the runs that chose
the defaults):

* **non-finite**: a layer's norm (or the global norm) is NaN or infinite;
* **vanishing** (``vanishing_ratio``): a layer's norm is below
  ``vanishing_ratio`` times the largest layer norm of the same step;
* **exploding** (``exploding_factor``), either of
  - *spike*: a layer's norm (or the global norm) is above
    ``exploding_factor`` times the largest of its own last ``HISTORY``
    logged norms (with at least ``MIN_HISTORY`` of them, not all 0);
  - *growth*: the global norm is above ``exploding_factor`` times the largest
    of the first ``HISTORY`` logged global norms (a growth too steady for a
    spike: twice the norm every step, say).

Absolute bounds per layer, off by default: ``vanishing_threshold`` (norm
below it) and ``exploding_threshold`` (norm above it). Each layer warns at most once per
epoch, for the first rule it breaks; :meth:`Rules.check` returns the
findings, the caller issues them.
"""

from __future__ import annotations

import collections
import dataclasses
import math


class GradientWarning(UserWarning):
    """A layer's gradient norm vanished, exploded or was not finite."""

    __module__ = "keras_relu_family.callbacks"


HISTORY = 10  # logged steps a layer's spike is measured against
MIN_HISTORY = 2  # logged steps of history before the spike and growth rules judge
GLOBAL = "global"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One broken rule: ``kind`` is ``"non-finite"``, ``"vanishing"`` or ``"exploding"``."""

    layer: str
    kind: str
    value: float
    rule: str
    step: int
    message: str


class Rules:
    """The rules' settings and the history they need.

    Args:
        vanishing_ratio: See the module docstring; ``None`` turns the rule off.
        exploding_factor: See the module docstring; ``None`` turns it off.
        vanishing_threshold: Absolute lower bound, or ``None``.
        exploding_threshold: Absolute upper bound, or ``None``.
    """

    def __init__(
        self,
        vanishing_ratio=None,
        exploding_factor=None,
        vanishing_threshold=None,
        exploding_threshold=None,
    ):
        self.vanishing_ratio = vanishing_ratio
        self.exploding_factor = exploding_factor
        self.vanishing_threshold = vanishing_threshold
        self.exploding_threshold = exploding_threshold
        self._history = collections.defaultdict(lambda: collections.deque(maxlen=HISTORY))
        self._start = []  # the first HISTORY finite global norms: where the run began
        self.flagged = {}  # this epoch: layer -> kind

    def new_epoch(self) -> None:
        """Every layer may warn again."""
        self.flagged = {}

    def check(self, step: int, norms: dict, global_norm: float) -> list:
        """The findings of one logged step; ``norms`` maps layer paths to their norms."""
        findings = []
        finite = [v for v in norms.values() if math.isfinite(v)]
        top = max(finite, default=0.0)
        top_layer = next((p for p, v in norms.items() if v == top), None)
        for path, value in norms.items():
            finding = self._judge(path, value, step, top, top_layer)
            self._remember(path, value)
            if finding is not None and path not in self.flagged:
                self.flagged[path] = finding.kind
                findings.append(finding)
        finding = self._judge_global(global_norm, step)
        self._remember(GLOBAL, global_norm)
        if finding is not None and GLOBAL not in self.flagged:
            self.flagged[GLOBAL] = finding.kind
            findings.append(finding)
        return findings

    def _remember(self, path, value):
        if math.isfinite(value):
            self._history[path].append(value)

    def _judge(self, path, value, step, top, top_layer):
        name = f"the gradient norm of layer {path!r}"
        if not math.isfinite(value):
            return self._finding(path, "non-finite", value, "non-finite", step, name, "")
        if self.vanishing_threshold is not None and value < self.vanishing_threshold:
            rule = f"vanishing_threshold={self.vanishing_threshold:g}"
            return self._finding(path, "vanishing", value, rule, step, name, "")
        ratio = self.vanishing_ratio
        if ratio is not None and top > 0 and value < ratio * top and path != top_layer:
            why = f"{value / top:.2g} times the step's largest layer norm"
            why += f" ({top:.3g}, {top_layer!r})"
            rule = f"vanishing_ratio={ratio:g}"
            return self._finding(path, "vanishing", value, rule, step, name, why)
        return self._judge_high(path, value, step, name)

    def _judge_high(self, path, value, step, name):
        absolute = path != GLOBAL  # the absolute bounds are per layer
        if absolute and self.exploding_threshold is not None and value > self.exploding_threshold:
            rule = f"exploding_threshold={self.exploding_threshold:g}"
            return self._finding(path, "exploding", value, rule, step, name, "")
        factor, history = self.exploding_factor, self._history[path]
        top = max(history, default=0.0)
        if factor is not None and len(history) >= MIN_HISTORY and top > 0 and value > factor * top:
            why = (
                f"{value / max(history):.3g} times the largest of its last {len(history)} "
                f"logged norms ({max(history):.3g})"
            )
            rule = f"exploding_factor={factor:g}"
            return self._finding(path, "exploding", value, rule, step, name, why)
        return None

    def _judge_global(self, value, step):
        name = "the global gradient norm"
        if not math.isfinite(value):
            return self._finding(GLOBAL, "non-finite", value, "non-finite", step, name, "")
        finding = self._judge_high(GLOBAL, value, step, name)
        start, factor = self._start, self.exploding_factor
        top = max(start, default=0.0)
        growing = factor is not None and len(start) >= MIN_HISTORY and 0 < top < value / factor
        if finding is None and growing:
            why = f"{value / top:.3g} times the largest of its first {len(start)} logged norms"
            why += f" ({top:.3g})"
            rule = f"exploding_factor={factor:g}"
            finding = self._finding(GLOBAL, "exploding", value, rule, step, name, why)
        if len(start) < HISTORY:
            start.append(value)
        return finding

    @staticmethod
    def _finding(path, kind, value, rule, step, name, why):
        """The finding and its message: kind, step, layer, value, why, and the rule broken."""
        title = {"non-finite": "Non-finite", "vanishing": "Vanishing", "exploding": "Exploding"}
        message = f"{title[kind]} gradient at step {step}: {name} is {value:.3g}"
        if why:
            message += f", {why}"
        if kind != "non-finite":
            message += f", {'below' if kind == 'vanishing' else 'above'} {rule}"
        return Finding(path, kind, value, rule, step, message + ".")
