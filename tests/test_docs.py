"""The documentation: the generated pages cover the registry and the examples; the code runs.

``mkdocs build --strict`` itself runs in ``.ci/run``; these tests check what
the build hook generates, and run the Python code blocks of the hand-written
pages, so that a snippet that no longer works fails here rather than on a
reader's machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras_relu_family as krf

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages whose Python blocks run as they are (the report page's need a finished run).
RUNNABLE = ["index.md", "getting-started.md", "concepts/gradients.md"]
PNG = b"\x89PNG\r\n\x1a\n"


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", DOCS / "hooks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated():
    """What the activation and example hooks add to the site.

    The third hook, report_example, trains two networks (seconds); the docs
    build in .ci/run runs it, and tests/test_report.py tests what it calls.
    """
    hooks = re.findall(r"^  - docs/hooks/(\w+)\.py$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert sorted(hooks) == ["activations", "examples", "report_example"]
    files = {}
    for name in ("activations", "examples"):
        files.update(_hook(name).generated_files())
    return files


def test_one_section_per_activation_with_formula_and_plot(generated):
    page = generated["activations.md"]
    sections = re.findall(r"^## (\w+) \{#(\w+)\}$", page, re.M)
    assert [name for _, name in sections] == krf.available()
    for layer, name in sections:
        spec = krf.REGISTRY[name]
        assert layer == spec.layer.__name__
        body = page.split(f"{{#{name}}}", 1)[1].split("\n## ", 1)[0]
        assert spec.formula and spec.formula in body  # function and derivative, from the code
        lines = spec.formula.splitlines()  # the function, then its derivative(s)
        assert len(lines) >= 2 and any("'" in line or "d/dx" in line for line in lines[1:])
        assert f"(img/activations/{name}.png)" in body
        image = generated[f"img/activations/{name}.png"]
        assert image[:8] == PNG and len(image) > 5_000
        for _, url in spec.papers:
            assert url in body
    assert generated["img/activations/overview.png"][:8] == PNG


def test_generated_parts_of_hand_written_pages_name_every_activation():
    hook = _hook("activations")
    index = hook.on_page_markdown((DOCS / "index.md").read_text(), None, None, None)
    assert "<!-- generated" not in index
    for name in krf.available():
        spec = krf.REGISTRY[name]
        assert f"[{spec.layer.__name__}](activations.md#{name})" in index


def test_api_pages_document_every_function_and_layer(generated):
    for page, kind in (("api/activations.md", "function"), ("api/layers.md", "layer")):
        for name in krf.available():
            obj = getattr(krf.REGISTRY[name], kind)
            assert f"::: {obj.__module__}.{obj.__qualname__}\n" in generated[page]


def test_a_page_per_example(generated):
    scripts = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if p.name[0] != "_")
    assert len(scripts) == 6
    for name in scripts:
        page = generated[f"examples/{name}.md"]
        assert page.startswith(f"# {name}.py") and "```python" in page
        assert f"[{name}.py]({name}.md)" in generated["examples/index.md"]
    assert "&lt;out&gt;/logs" in generated["examples/vanishing_gradients.md"]  # not an HTML tag


def test_every_nav_page_exists_or_is_generated(generated):
    nav = re.findall(
        r":\s*(\S+\.md)\s*$|^\s*-\s*(\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M
    )
    pages = [a or b for a, b in nav]
    assert "activations.md" in pages and "examples/index.md" in pages
    for page in pages:
        assert (DOCS / page).is_file() or page in generated, page


BACKEND_BLOCKS = {"jax": "<!-- snippet: jax -->\n", "torch": "<!-- snippet: torch -->\n"}
# What each backend's block must run without.
BLOCKED = {"jax": ("tensorflow",), "torch": ("tensorflow", "jax")}


def _python_blocks(text: str, marker: str = "") -> list:
    """The Python blocks of ``text`` after ``marker`` (or those after no marker at all)."""
    found = re.findall(r"(<!--[^\n]*-->\n)?```python\n(.*?)```", text, re.S)
    return [code for mark, code in found if mark == marker]


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = _python_blocks((DOCS / page).read_text())
    assert blocks, page
    monkeypatch.chdir(tmp_path)  # GradientMonitor writes logs/ here
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, f"{page} block", "exec"), {"__name__": "__docs__"})
    # What the pages claim each print shows.
    for line in printed.getvalue().splitlines():
        assert "nan" not in line.lower(), line
    if page == "concepts/gradients.md":
        assert printed.getvalue().strip() == "7.0"


@pytest.mark.parametrize("backend", sorted(BACKEND_BLOCKS))
def test_getting_started_backend_blocks_run_without_the_other_frameworks(tmp_path, backend):
    (block,) = _python_blocks((DOCS / "getting-started.md").read_text(), BACKEND_BLOCKS[backend])
    script = tmp_path / f"{backend}_block.py"
    # Blocked as conftest.py does: import raises, find_spec reports them absent.
    blocker = f"import sys\nfor name in {BLOCKED[backend]!r}:\n    sys.modules[name] = None\n"
    script.write_text(blocker + block)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [float(v) for v in done.stdout.strip().splitlines()[-1].strip("[]").split()]
    expected = [(1 + x / np.sqrt(x * x + 4)) / 2 for x in (-1.0, 0.0, 1.0)]
    np.testing.assert_allclose(printed, expected, rtol=1e-3)
