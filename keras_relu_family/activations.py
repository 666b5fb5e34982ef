"""The activation functions, one per registry entry, each with a hand-written gradient.

Every function takes a floating-point tensor (float16, bfloat16, float32 or
float64) and returns one of the same dtype and shape; Python numbers and
lists become float32, integer input is refused with a ``TypeError``, and a
bad argument value with a ``ValueError``. Given a symbolic ``KerasTensor``
(``keras.Input``), a function returns one, so that functional models can be
built from the functions. A NaN input gives a NaN output and a NaN gradient.

Convention at a kink: the derivative there is the derivative of the branch
on the right, so ``x >= 0`` takes the positive branch and ``relu'(0) = 1``.

This module's names are generated from the registry; each function lives in
its activation's module of ``keras_relu_family.family``.
"""

from __future__ import annotations

from keras_relu_family.registry import REGISTRY as _REGISTRY

globals().update({entry.function.__name__: entry.function for entry in _REGISTRY.values()})

__all__ = sorted(entry.function.__name__ for entry in _REGISTRY.values())
