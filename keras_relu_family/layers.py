"""The activation layers, one per registry entry.

This module's names are generated from the registry; each layer lives in its
activation's module of ``keras_relu_family.family``, with its function.
"""

from __future__ import annotations

from keras_relu_family._layer import ActivationLayer
from keras_relu_family.registry import REGISTRY as _REGISTRY

globals().update({entry.layer.__name__: entry.layer for entry in _REGISTRY.values()})

__all__ = ["ActivationLayer", *sorted(entry.layer.__name__ for entry in _REGISTRY.values())]
