"""The backend of this test run, and what it may import.

``KERAS_BACKEND`` picks the backend for the whole run (Keras fixes it per
process). On a backend other than TensorFlow, TensorFlow is made
unimportable before anything else runs (a meta-path blocker, as in the
SavedModel test), which proves that the package and the tests of that
backend do not need it, and the TensorFlow-only test modules are not
collected. On JAX, float64 is enabled (``jax_enable_x64``) so that the
float64 tests compute in float64.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


class _Blocker(importlib.abc.MetaPathFinder):
    """Refuses to find the modules of the given top-level packages."""

    def __init__(self, *packages: str):
        self.packages = packages

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.packages:
            raise ModuleNotFoundError(f"{name} is blocked in this test run", name=name)
        return None


# Test modules that exercise TensorFlow itself: SavedModel, tf.distribute, XLA, TFLite,
# the TF-fused kernel path, the TF GradientMonitor capture and what is built on it.
TENSORFLOW_ONLY = [
    "test_benchmarks.py",
    "test_distribute.py",
    "test_docs.py",
    "test_docs_snippets.py",
    "test_examples.py",
    "test_family_fused.py",
    "test_family_new_module.py",
    "test_mixed_precision.py",
    "test_monitor.py",
    "test_monitor_diagnostics.py",
    "test_monitor_subprocess.py",
    "test_report.py",
    "test_savedmodel.py",
    "test_saving.py",
    "test_xla.py",
]

# Tests that run child processes on every backend themselves: once, in the default run.
ONCE = ["test_cross_backend.py"]

collect_ignore = []
if BACKEND != "tensorflow":
    if "tensorflow" in sys.modules:
        raise RuntimeError("TensorFlow was imported before the blocker of this test run.")
    sys.meta_path.insert(0, _Blocker("tensorflow", "tf_keras"))
    collect_ignore = [
        os.path.join(os.path.dirname(__file__), name) for name in TENSORFLOW_ONLY + ONCE
    ]

if BACKEND == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)
