"""Cache keys of fixed arguments that tell apart the values ``==`` takes for one.

``0.0 == -0.0`` and ``1 == 1.0 == True``, with equal hashes, so a cache keyed on
the values themselves hands a call with ``value=-0.0`` (a threshold that writes
-0s) what it made for ``value=0.0``. A value's type and ``repr`` tell them apart
(``repr`` of a float is exact: the shortest string that reads back as it).
"""

from __future__ import annotations


def items_key(items) -> tuple:
    """A hashable key of ``(name, value)`` pairs (see the module docstring)."""
    return tuple((name, type(value), repr(value)) for name, value in items)
