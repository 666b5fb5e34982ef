"""MkDocs hook: the pages that are generated, never written by hand.

At build time (``mkdocs build`` / ``mkdocs serve``), from the code itself:

* ``activations.md``: one section per entry of ``krf.REGISTRY``, with its
  summary, formula and derivative (the Formula block of its docstring), its
  function, layer and activation string, its references, and a plot of the
  function and its derivative drawn from the registry's numpy references;
  plus an overview plot of the whole family;
* ``examples/index.md`` and ``examples/<name>.md``: each script in
  ``examples/`` with its docstring and source;
* ``img/report-example.png``: the gradient report of two small networks
  (ReLU and sigmoid, 12 hidden layers, each with its usual initialisation)
  trained for a few steps under a ``GradientMonitor`` on generated data,
  drawn by ``render_report``.

Nothing here is written into ``docs/``; the files exist only in the built site.
"""

from __future__ import annotations

import ast
import html
import io
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
IMAGES = "img/activations"
X_RANGE = (-4.0, 4.0)


def _specs() -> list:
    import keras_relu_family as krf

    return [krf.REGISTRY[name] for name in krf.available()]


def _curves(spec, x: np.ndarray) -> tuple:
    """Function and derivative (d/dx) at the first parameter set (the defaults)."""
    params = spec.param_sets[0]
    y = spec.numpy_forward(x, **params)
    dy = spec.numpy_derivative(x, **params)
    return y, (dy[0] if spec.trainable else dy)  # (d/dx, d/dparam) for trainable ones


def _break_at(x: np.ndarray, kinks: tuple) -> np.ndarray:
    """``x`` with a NaN at each kink, so a jump in the derivative is not drawn as a line."""
    for kink in sorted(kinks, reverse=True):
        if X_RANGE[0] < kink < X_RANGE[1]:
            i = np.searchsorted(x, kink)
            x = np.insert(x, i, [np.nan])
    return x


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _sampled(spec) -> tuple:
    """``(x, f, f', kinks)`` on the plotting range, with NaN gaps at the derivative's jumps."""
    kinks = tuple(k for k in spec.kinks(spec.param_sets[0]) if X_RANGE[0] < k < X_RANGE[1])
    grid = np.unique(np.concatenate([np.linspace(*X_RANGE, 801), kinks]))
    x = _break_at(grid, kinks)
    y, dy = _curves(spec, np.nan_to_num(x))
    gap = np.isnan(x)
    return x, np.where(gap, np.nan, y), np.where(gap, np.nan, dy), kinks


def activation_plot(spec) -> bytes:
    """PNG of ``spec``'s function and derivative; at a kink, the derivative's two one-sided
    limits are an open circle (left) and a filled dot (the value taken: the right-hand one)."""
    x, y, dy, kinks = _sampled(spec)
    figure = _figure((5.2, 3.2))
    ax = figure.add_subplot()
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    ax.plot(x, y, color="tab:blue", linewidth=2, label=f"{spec.name}(x)")
    ax.plot(x, dy, color="tab:orange", linewidth=2, linestyle="--", label=f"{spec.name}'(x)")
    for kink in kinks:
        left = _curves(spec, np.array([kink - 1e-9]))[1][0]
        right = _curves(spec, np.array([kink]))[1][0]
        ax.plot([kink], [left], "o", color="tab:orange", markerfacecolor="white")
        ax.plot([kink], [right], "o", color="tab:orange")
    ax.set_xlim(*X_RANGE)
    ax.set_xlabel("x")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return _png(figure)


def overview_plot(specs) -> bytes:
    """PNG of every activation (left) and its derivative (right) at its defaults."""
    from matplotlib import colormaps

    figure = _figure((10, 4.2))
    axes = figure.subplots(1, 2)
    colors = colormaps["tab20"].colors
    for k, spec in enumerate(specs):
        x, y, dy, _ = _sampled(spec)
        style = {"color": colors[k % len(colors)], "linewidth": 1.4}
        style["linestyle"] = ("-", "--", ":")[k % 3]
        axes[0].plot(x, y, label=spec.name, **style)
        axes[1].plot(x, dy, **style)
    axes[0].set_title("f(x)")
    axes[1].set_title("f'(x)")
    axes[0].set_ylim(-2, 4)
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("x")
    figure.legend(loc="outside right center", fontsize=8)
    return _png(figure)


def _string_cell(spec) -> str:
    return f'`"{spec.string_names[0]}"`' if spec.string else "none (`alpha` has no default)"


def _section(spec) -> str:
    params = spec.param_sets[0]
    defaults = ", ".join(f"`{k}={v!r}`" for k, v in spec.defaults.items()) or "none"
    lines = [
        f"## {spec.layer.__name__} {{#{spec.name}}}",
        "",
        spec.summary,
        "",
        "```text",
        spec.formula,
        "```",
        "",
        f"![{spec.name} and its derivative]({IMAGES}/{spec.name}.png)",
        "",
        f"- Function: [`krf.{spec.function.__name__}`]"
        f"[keras_relu_family.activations.{spec.function.__name__}]",
        f"- Layer: [`krf.{spec.layer.__name__}`][keras_relu_family.layers.{spec.layer.__name__}]",
        f"- Activation string: {_string_cell(spec)}",
        f"- Defaults: {defaults}" + (f" (plotted with `{params}`)" if params else ""),
    ]
    if spec.trainable:
        lines.append(f"- Trainable parameters: {', '.join(f'`{p}`' for p in spec.trainable)}")
    papers = ", ".join(f"[{label}]({url})" for label, url in spec.papers)
    if papers:
        lines.append(f"- Reference: {papers}")
    return "\n".join(lines) + "\n"


def activations_page(specs) -> str:
    """The Markdown of ``activations.md``."""
    rows = [
        f"| [{s.name}](#{s.name}) | `krf.{s.function.__name__}` | `krf.{s.layer.__name__}` "
        f"| {_string_cell(s)} |"
        for s in specs
    ]
    head = [
        "# Activations",
        "",
        "Every activation of the package, generated from `krf.REGISTRY` when the site is "
        "built: the formulas are the ones in the functions' docstrings, the plots are drawn "
        "from the package's independent numpy references (`keras_relu_family.reference`), at "
        "the default parameters. At a kink the derivative takes the right-hand value (filled "
        "dot), so `relu'(0) = 1`; the open circle is the left-hand limit.",
        "",
        f"![every activation and its derivative]({IMAGES}/overview.png)",
        "",
        "| Name | Function | Layer | Activation string |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(_section(s) for s in specs)


def _docstring_markdown(docstring: str) -> str:
    """The prose escaped (``<out>`` is not an HTML tag); indented command lines stay code."""
    return "\n".join(
        line if line.startswith("    ") else html.escape(line, quote=False)
        for line in docstring.splitlines()
    )


def example_scripts() -> list:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def example_pages() -> dict:
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


def _deep_mlp(activation, initializer: str, depth: int = 12, width: int = 32):
    import keras

    stack = [keras.Input((width,))]
    for i in range(depth):
        init = keras.initializers.get({"class_name": initializer, "config": {"seed": i}})
        stack += [keras.layers.Dense(width, kernel_initializer=init, name=f"dense_{i:02d}")]
        stack += [activation()]
    stack.append(keras.layers.Dense(4, name="dense_out"))
    return keras.Sequential(stack, name="mlp")


def report_example() -> bytes:
    """PNG of the report of a 12-hidden-layer sigmoid network next to a ReLU one."""
    import tempfile

    import keras

    import keras_relu_family as krf
    from keras_relu_family.report import render_report

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 32)).astype("float32")
    y = rng.integers(0, 4, size=256)
    nets = {
        "relu": (krf.ReLU, "he_normal"),
        "sigmoid": (lambda: keras.layers.Activation("sigmoid"), "glorot_uniform"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (activation, initializer) in nets.items():
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            model = _deep_mlp(activation, initializer)
            model.compile(
                optimizer=keras.optimizers.SGD(0.05),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            monitor = krf.GradientMonitor(
                os.path.join(tmp, name), update_freq=1, vanishing_threshold=None
            )
            model.fit(x, y, epochs=3, batch_size=32, callbacks=[monitor], verbose=0)
        title = "12 hidden layers, SGD: ReLU with He init (left), sigmoid with Glorot init (right)"
        path = render_report(tmp, os.path.join(tmp, "report.png"), title=title)
        return Path(path).read_bytes()


def generated_files() -> dict:
    """``{path in the site: str or bytes}``: everything this hook adds."""
    specs = _specs()
    files = {"activations.md": activations_page(specs)}
    files[f"{IMAGES}/overview.png"] = overview_plot(specs)
    files.update({f"{IMAGES}/{s.name}.png": activation_plot(s) for s in specs})
    files.update(example_pages())
    files["img/report-example.png"] = report_example()
    return files


def on_files(files, config):
    """MkDocs event: adds the generated pages and images to the site's files."""
    from mkdocs.structure.files import File

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for path, content in generated_files().items():
        files.append(File.generated(config, path, content=content))
    return files
