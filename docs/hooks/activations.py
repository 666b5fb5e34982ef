"""MkDocs hook: every page or table that lists the activations, generated from ``krf.REGISTRY``.

``activations.md`` gets one section per registry entry: its summary, its
formula and derivative (the Formula block of its docstring), its function,
layer and activation string, its references, and a plot of the function and
its derivative drawn from the registry's independent numpy references; and an
overview plot of the whole family. ``api/activations.md`` and ``api/layers.md``
document each function and layer from its module. In the hand-written pages,
``<!-- generated: strings -->`` becomes the table of activation strings and
``<!-- generated: names -->`` the list of the activations' names. Nothing is
written into ``docs/``: the files exist only in the built site.
"""

from __future__ import annotations

import io
import os

import numpy as np

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


def _identifier(obj) -> str:
    """The object's full path, which the API pages document it under."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _string_cell(spec) -> str:
    if spec.string:
        return f'`"{spec.string_names[0]}"`'
    required = ", ".join(f"`{name}`" for name in spec.required)
    return f"none ({required} has no default)"


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
        f"- Function: [`krf.{spec.function.__name__}`][{_identifier(spec.function)}]",
        f"- Layer: [`krf.{spec.layer.__name__}`][{_identifier(spec.layer)}]",
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
        "from the registry's independent numpy references (`spec.numpy_forward`), at "
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


def api_page(title: str, objects: list) -> str:
    """An API reference page: one mkdocstrings block per function or layer, in registry order."""
    blocks = [f"::: {_identifier(obj)}\n    options:\n      members: false\n" for obj in objects]
    return f"# {title}\n\n" + "\n".join(blocks)


def strings_table(specs) -> str:
    """The activation strings: both names of every activation that has them, and its defaults."""
    rows = [
        f'| {s.layer.__name__} | `"{s.string_names[0]}"` | `"{s.string_names[1]}"` '
        f"| {', '.join(f'`{k}={v!r}`' for k, v in s.defaults.items()) or 'none'} |"
        for s in specs
        if s.string
    ]
    head = "| Activation | Short name | Registered name | Defaults the string stands for |"
    return "\n".join([head, "|---|---|---|---|", *rows])


def names_list(specs) -> str:
    names = [f"[{s.layer.__name__}](activations.md#{s.name})" for s in specs]
    return ", ".join(names[:-1]) + " and " + names[-1]


def on_page_markdown(markdown, page, config, files):
    """MkDocs event: fills the hand-written pages' generated parts."""
    specs = _specs()
    markdown = markdown.replace("<!-- generated: strings -->", strings_table(specs))
    return markdown.replace("<!-- generated: names -->", names_list(specs))


def generated_files() -> dict:
    """``{path in the site: str or bytes}``: the pages and their images."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    specs = _specs()
    files = {"activations.md": activations_page(specs)}
    files["api/activations.md"] = api_page("Functions", [s.function for s in specs])
    files["api/layers.md"] = api_page("Layers", [s.layer for s in specs])
    files[f"{IMAGES}/overview.png"] = overview_plot(specs)
    files.update({f"{IMAGES}/{s.name}.png": activation_plot(s) for s in specs})
    return files


def on_files(files, config):
    """MkDocs event: adds this hook's generated files to the site."""
    from mkdocs.structure.files import File

    for path, content in generated_files().items():
        files.append(File.generated(config, path, content=content))
    return files
