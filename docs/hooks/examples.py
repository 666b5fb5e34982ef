"""MkDocs hook: one page per script in ``examples/``, and their index.

Each page has the script's docstring and its source; the index lists each
script with the first line of its docstring.
"""

from __future__ import annotations

import ast
import html
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _docstring_markdown(docstring: str) -> str:
    """The prose escaped (``<out>`` is not an HTML tag); indented command lines stay code."""
    return "\n".join(
        line if line.startswith("    ") else html.escape(line, quote=False)
        for line in docstring.splitlines()
    )


def example_scripts() -> list:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def generated_files() -> dict:
    """``{path: markdown}`` for ``examples/index.md`` and one page per example script."""
    pages, rows = {}, []
    for script in example_scripts():
        source = script.read_text()
        docstring = ast.get_docstring(ast.parse(source)) or ""
        summary, _, rest = docstring.partition("\n")
        name = script.stem
        pages[f"examples/{name}.md"] = "\n".join(
            [
                f"# {name}.py",
                "",
                f"**{html.escape(summary, quote=False)}**",
                "",
                _docstring_markdown(rest.strip()),
                "",
                f"Run `python examples/{name}.py --help` for its options; `--tiny` is what "
                "the tests run.",
                "",
                "```python",
                source.rstrip(),
                "```",
                "",
            ]
        )
        rows.append(f"| [{name}.py]({name}.md) | {html.escape(summary, quote=False)} |")
    pages["examples/index.md"] = "\n".join(
        [
            "# Examples",
            "",
            "Each script in `examples/` makes one idea something to run and look at. They "
            'need the `examples` extra (`pip install -e ".[examples]"`), run in under two '
            "minutes on two CPU cores, train on MNIST when it can be downloaded and otherwise "
            "on scikit-learn's digits, and write what they found to `runs/<name>/`.",
            "",
            "| Script | What it shows |",
            "|---|---|",
            *rows,
            "",
        ]
    )
    return pages


def on_files(files, config):
    """MkDocs event: adds this hook's generated files to the site."""
    from mkdocs.structure.files import File

    for path, content in generated_files().items():
        files.append(File.generated(config, path, content=content))
    return files
