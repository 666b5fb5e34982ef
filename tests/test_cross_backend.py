"""``.keras`` files cross backends: saved on one, loaded on another, the same model.

For every ordered pair of backends (TensorFlow, JAX, PyTorch), a child
process on the first saves the every-activation model (one branch per layer
with non-default arguments, one per activation string), and a child process
on the second loads it: the weights are identical, the layer configs and
activation strings the same, and the outputs equal to float32 rounding (each
backend's exp, erfc and tanh round on their own).
"""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pytest

from tests._integration_helpers import TESTS_DIR, run_python

BACKENDS = ["tensorflow", "jax", "torch"]
PAIRS = list(itertools.permutations(BACKENDS, 2))
SCRIPT = TESTS_DIR / "_child_cross_backend.py"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``{backend: directory}``: the model saved once on each backend."""
    out = {}
    for backend in BACKENDS:
        out[backend] = tmp_path_factory.mktemp(f"saved_on_{backend}")
        run_python(SCRIPT, "save", str(out[backend]), env={"KERAS_BACKEND": backend})
    return out


@pytest.mark.parametrize(("saved_on", "loaded_on"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_keras_file_saved_on_one_backend_loads_on_another(saved, tmp_path, saved_on, loaded_on):
    for name in ("model.keras", "saved.npz"):
        shutil.copy(saved[saved_on] / name, tmp_path / name)
    run_python(SCRIPT, "load", str(tmp_path), env={"KERAS_BACKEND": loaded_on})
    saved, loaded = np.load(tmp_path / "saved.npz"), np.load(tmp_path / "loaded.npz")
    assert (str(saved["backend"]), str(loaded["backend"])) == (saved_on, loaded_on)
    weights = sorted(k for k in saved.files if k.startswith("weight:"))
    assert weights and weights == sorted(k for k in loaded.files if k.startswith("weight:"))
    for key in weights:
        np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)
    assert json.loads(str(loaded["configs"])) == json.loads(str(saved["configs"]))
    assert json.loads(str(loaded["activations"])) == json.loads(str(saved["activations"]))
    np.testing.assert_allclose(loaded["outputs"], saved["outputs"], rtol=2e-6, atol=1e-6)
