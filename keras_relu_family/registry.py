"""The registry: one :class:`~keras_relu_family._spec.ActivationSpec` per activation.

Each entry is written in its activation's module (``keras_relu_family.family``)
and collected here. The package's exports, the ``"krf_<name>"`` activation
strings, the docs tables, the benchmarks' rows and the tests are all generated
from :data:`REGISTRY`, so adding an activation means adding one module
(``CONTRIBUTING.md``).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_relu_family._spec import PACKAGE, STRING_PREFIX, ActivationSpec
from keras_relu_family.family import SPECS


def _collect(specs) -> dict:
    registry = {}
    for entry in specs:
        if entry.name in registry:
            raise RuntimeError(f"Two activations are named {entry.name!r}.")
        registry[entry.name] = entry
    return dict(sorted(registry.items()))


REGISTRY: dict = _collect(SPECS)

for _entry in REGISTRY.values():
    keras.saving.register_keras_serializable(package=PACKAGE, name=_entry.name)(_entry.function)
    keras.saving.register_keras_serializable(package=PACKAGE)(_entry.layer)


def available() -> list:
    """The sorted names of all activations."""
    return list(REGISTRY)


def spec(name: str) -> ActivationSpec:
    """The registry entry for ``name``; ``ValueError`` listing the names if unknown."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(
            f"Unknown activation. Expected one of {available()}. Received: name={name!r}"
        )
    return REGISTRY[name]


def spec_of(obj) -> ActivationSpec | None:
    """The entry whose function, layer class or layer instance ``obj`` is; ``None`` if none."""
    for entry in REGISTRY.values():
        if obj is entry.function or obj is entry.layer or type(obj) is entry.layer:
            return entry
    return None


def get(name: str) -> Callable:
    """The function for ``name`` (e.g. ``get("elu")(x, alpha=0.5)``)."""
    return spec(name).function


def string_table() -> dict:
    """Every activation string (``krf_<name>`` and ``keras_relu_family>name``) to its function."""
    return {s: entry.function for entry in REGISTRY.values() for s in entry.string_names}


__all__ = [
    "PACKAGE",
    "REGISTRY",
    "STRING_PREFIX",
    "ActivationSpec",
    "available",
    "get",
    "spec",
    "spec_of",
    "string_table",
]
