"""The activations, one module each, collected here.

Every module of this package whose name does not start with ``_`` holds
everything about its activation (or, for ELU/SELU/CELU, its small family
sharing one kernel): kernels, function, layer, numpy reference, baselines,
and its registry entries in a tuple named ``SPECS``. This package imports
them all, in name order; ``keras_relu_family.registry`` builds the registry
from :data:`SPECS`. Adding an activation is adding a module here
(``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
import pkgutil

SPECS: tuple = ()

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if not _info.name.startswith("_"):
        SPECS += tuple(importlib.import_module(f"{__name__}.{_info.name}").SPECS)
