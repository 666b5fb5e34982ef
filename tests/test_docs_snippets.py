"""The Python blocks of the README's Keras-integration section and of two docs pages run.

The pages are docs/saving.md and docs/scaling.md.

Each page's blocks run in order in one namespace, in a temporary directory,
like a reader pasting them into one session. A block after the line
``<!-- snippet: multiworker -->`` is a script for
``MultiWorkerMirroredStrategy``: it runs as two local worker processes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from tests._integration_helpers import REPO_ROOT, string_names

README_SECTION = "## Keras integration: strings, layer instances, saving and export"
MULTIWORKER = "<!-- snippet: multiworker -->"
BLOCK = re.compile(r"^(?P<marker><!--[^\n]*-->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)


def _blocks(text: str) -> list:
    """``(marker or None, code)`` for every Python block of ``text``."""
    return [((m["marker"] or "").strip() or None, m["code"]) for m in BLOCK.finditer(text)]


def _readme_section() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    assert text.count(README_SECTION) == 1
    section = text.split(README_SECTION, 1)[1]
    return re.split(r"^## ", section, flags=re.M)[0]


def _run_page(blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous_policy = keras.mixed_precision.dtype_policy()
    namespace = {"__name__": "__snippet__"}
    try:
        for i, code in enumerate(blocks):
            exec(compile(code, f"<block {i}>", "exec"), namespace)
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)
    return namespace


def test_readme_section_runs(tmp_path, monkeypatch):
    blocks = _blocks(_readme_section())
    assert len(blocks) == 2 and all(marker is None for marker, _ in blocks)
    namespace = _run_page([code for _, code in blocks], tmp_path, monkeypatch)
    assert isinstance(namespace["model"].layers[2].activation, krf.PReLU)
    assert (tmp_path / "model.keras").exists() and (tmp_path / "serving").is_dir()


def test_saving_page_runs(tmp_path, monkeypatch):
    blocks = _blocks((REPO_ROOT / "docs" / "saving.md").read_text())
    assert len(blocks) >= 5 and all(marker is None for marker, _ in blocks)
    namespace = _run_page([code for _, code in blocks], tmp_path, monkeypatch)
    np.testing.assert_array_equal(namespace["grad"], [[0.0, 1.0, 1.0]])
    assert namespace["model"].layers[0].activation.alpha.shape == (64,)
    assert len(namespace["tflite_model"]) > 0


def _activations_hook():
    import importlib.util

    path = REPO_ROOT / "docs" / "hooks" / "activations.py"
    spec = importlib.util.spec_from_file_location("docs_hook_activations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_saving_page_lists_every_string():
    """The page's table is generated at build time; what the site shows has every string."""
    text = (REPO_ROOT / "docs" / "saving.md").read_text()
    assert "<!-- generated: strings -->" in text and "krf_" not in text.split("```")[0]
    page = _activations_hook().on_page_markdown(text, None, None, None)
    rows = re.findall(r'^\| \w+ \| `"(krf_\w+)"` \| `"(keras_relu_family>\w+)"` \|', page, re.M)
    assert sorted(name for row in rows for name in row) == sorted(string_names())


def test_scaling_page_runs(tmp_path, monkeypatch):
    blocks = _blocks((REPO_ROOT / "docs" / "scaling.md").read_text())
    local = [code for marker, code in blocks if marker is None]
    assert len(local) >= 4
    _run_page(local, tmp_path, monkeypatch)
    assert keras.mixed_precision.dtype_policy().name == "float32"


def _free_ports(n: int) -> list:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_multiworker_script_runs_as_two_local_workers(tmp_path):
    blocks = _blocks((REPO_ROOT / "docs" / "scaling.md").read_text())
    (script,) = [code for marker, code in blocks if marker == MULTIWORKER]
    (tmp_path / "train.py").write_text(script)
    workers = [f"localhost:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_CONFIG": json.dumps(tf_config),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "train.py"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        assert proc.returncode == 0, err[-6000:]
        outputs.append(out)
    finals = [out.strip().splitlines()[-1] for out in outputs]
    assert finals[0].startswith("replicas: 2 ")
    assert finals[0] == finals[1]  # both workers hold the same alpha
    losses = [
        float(line.rsplit(" ", 1)[1]) for line in outputs[0].splitlines() if "mean loss" in line
    ]
    assert len(losses) == 2 and losses[1] < losses[0]
    reloaded = keras.saving.load_model(tmp_path / "model.keras")  # written by the chief
    assert isinstance(reloaded.layers[0].activation, krf.PReLU)
    assert (tmp_path / "worker_1_tmp.keras").exists()
    assert np.isfinite(reloaded.layers[0].activation.alpha.numpy()).all()


@pytest.mark.parametrize("page", ["saving.md", "scaling.md"])
def test_pages_have_no_unrun_python(page):
    """Every Python block is either run in-process or is the multi-worker script."""
    markers = {marker for marker, _ in _blocks((REPO_ROOT / "docs" / page).read_text())}
    assert markers <= {None, MULTIWORKER}
