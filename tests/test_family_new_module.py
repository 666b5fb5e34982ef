"""Adding an activation is adding one module: a throwaway one, in a copy of the package.

The copy gets ``tests/data/probe_relu.py`` written into its ``family/`` and no
other edit. Then, with the copy first on the path, the function, the layer,
the activation string and a ``.keras`` round trip work, and the generated
tests (accuracy against numpy and finite differences, autodiff, the fused
path, NaN and tails, kinks, Keras's layer test, serialization) collect and
pass for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

from tests._integration_helpers import REPO_ROOT

GENERATED = [
    "tests/test_family_forward.py",
    "tests/test_family_gradients.py",
    "tests/test_family_fused.py",
    "tests/test_family_layers.py",
    "tests/test_family_keras.py",
    "tests/test_strings.py",
    "tests/test_serialization.py",
]


def _copy(tmp_path):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("keras_relu_family", "tests"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name, ignore=ignore)
    shutil.copy(REPO_ROOT / "setup.cfg", tmp_path / "setup.cfg")
    shutil.copy(
        REPO_ROOT / "tests" / "data" / "probe_relu.py", tmp_path / "keras_relu_family" / "family"
    )


def _run(tmp_path, *args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_one_new_module_is_picked_up_by_everything(tmp_path):
    _copy(tmp_path)
    child = _run(tmp_path, "tests/_child_new_module.py", str(tmp_path))
    assert child.returncode == 0, child.stderr[-4000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["package_file"].startswith(str(tmp_path))
    assert report["available"] and report["exported"] and report["string"]
    expected = np.where(np.linspace(-2.0, 2.0, 12) >= 0, 2.0 * np.linspace(-2.0, 2.0, 12), 0.0)
    np.testing.assert_allclose(np.ravel(report["values"]), expected, rtol=1e-6)
    assert "ProbeReLU" in report["layer_types"] and "probe_relu" in report["dense_activations"]
    assert "ActivationOp" in report["operations"] and report["same_outputs"]

    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "probe_relu", *GENERATED]
    collected = _run(tmp_path, *pytest_args, "--collect-only")
    assert collected.returncode == 0, collected.stdout[-4000:]
    ids = [line for line in collected.stdout.splitlines() if "probe_relu" in line]
    for path in GENERATED:
        assert any(line.startswith(path) for line in ids), f"nothing generated in {path}"
    ran = _run(tmp_path, *pytest_args)
    assert ran.returncode == 0, ran.stdout[-6000:]
    passed = int(re.search(r"(\d+) passed", ran.stdout).group(1))
    assert passed == len(ids) and passed > 100, ran.stdout[-2000:]
