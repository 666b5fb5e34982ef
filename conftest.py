"""The backend of this test run, and what it may import.

``KERAS_BACKEND`` picks the backend for the whole run (Keras fixes it per
process). The other backends' frameworks are made unimportable before
anything else runs (TensorFlow on JAX; TensorFlow and JAX on PyTorch), which
proves that the package and the tests of that backend do not need them, and
the TensorFlow-only test modules are not collected. They are blocked the
standard way, a ``None`` in ``sys.modules``: ``import`` then raises
``ModuleNotFoundError`` and ``importlib.util.find_spec`` reports the module
absent (which PyTorch's compiler asks about). On JAX, float64 is enabled
(``jax_enable_x64``) so that the float64 tests compute in float64.
"""

from __future__ import annotations

import os
import sys

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
BLOCKED = {"tensorflow": (), "jax": ("tensorflow",), "torch": ("tensorflow", "jax", "jaxlib")}


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
    "test_monitor_dead.py",
    "test_monitor_diagnostics.py",
    "test_monitor_distributed.py",
    "test_monitor_loop.py",
    "test_monitor_subprocess.py",
    "test_report.py",
    "test_savedmodel.py",
    "test_saving.py",
    "test_xla.py",
]

# Tests of PyTorch's own functions.
TORCH_ONLY = ["test_family_torch.py"]

# Tests that run child processes on every backend themselves: once, in the default run.
ONCE = ["test_cross_backend.py"]

for _name in BLOCKED[BACKEND]:
    if sys.modules.get(_name) is not None:
        raise RuntimeError(f"{_name} was imported before this test run could block it.")
    sys.modules[_name] = None

ROOT = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.join(ROOT, "tests")
PACKAGE = os.path.join(ROOT, "keras_relu_family")
# The other backends' halves of keras_relu_family/_backend (their doctests import them).
OTHER_BACKENDS = [
    os.path.join(PACKAGE, "_backend", f"{name}{suffix}.py")
    for name in ("tensorflow", "jax", "torch")
    if name != BACKEND
    for suffix in ("", "_ops")
]

collect_ignore = list(OTHER_BACKENDS)
if BACKEND != "torch":
    collect_ignore += [os.path.join(HERE, name) for name in TORCH_ONLY]
if BACKEND != "tensorflow":
    collect_ignore += [os.path.join(HERE, name) for name in TENSORFLOW_ONLY + ONCE]
    # The TensorFlow monitor's own modules (the JAX and PyTorch one is _stateful and _host).
    collect_ignore += [
        os.path.join(PACKAGE, "callbacks", f"{name}.py")
        for name in ("_capture", "_engine", "_logger_tf", "_loop", "_ops", "_probes", "_summaries")
    ]

if BACKEND == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)
