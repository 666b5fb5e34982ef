"""The benchmarks' rows, generated from the registry: one per ``Benchmark`` of each entry.

A row names an activation, the parameters it runs with and the goals of its
ratio ours / built-in. Ours is the registry's function, the built-in its
``builtin`` (Keras's own version, ``keras.activations`` or ``keras.ops``),
both called with the same parameters; a parameter given as ``Trainable`` is
a fresh variable on each side (a scalar, or one per channel), whose gradient
is taken too.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable


@dataclasses.dataclass
class Row:
    label: str
    spec: object
    params: dict
    goals: dict

    def function(self, side: str) -> Callable:
        return self.spec.function if side == "ours" else self.spec.builtin

    def trainable(self) -> dict:
        """``{name: Trainable}`` of the parameters that are variables."""
        from keras_relu_family._spec import Trainable

        return {k: v for k, v in self.params.items() if isinstance(v, Trainable)}

    def fixed(self) -> dict:
        return {k: v for k, v in self.params.items() if k not in self.trainable()}

    def takes(self, side: str, name: str) -> bool:
        return name in inspect.signature(self.function(side)).parameters


def rows(only=None) -> list:
    """Every row of every registry entry; ``only``: labels or registry names to keep."""
    import keras_relu_family as krf

    out = []
    for spec in krf.REGISTRY.values():
        if spec.builtin is None:
            continue
        for bench in spec.benchmarks:
            label = bench.label or spec.name
            if only and label not in only and spec.name not in only:
                continue
            out.append(Row(label, spec, dict(bench.params), dict(bench.goals)))
    return out
