"""Drawing the report: per-layer gradient norms and dead fractions, one column per run."""

from __future__ import annotations

import math
import os
import posixpath

EXTRA_HINT = (
    "The gradient report needs matplotlib, which comes with an optional extra: "
    "pip install 'keras_relu_family[examples]'"
)
MANY_LAYERS = 8  # above this, the legend names only the first and last layers


def _matplotlib():
    """``(Figure, FigureCanvasAgg, colormaps)``; an ``ImportError`` naming the extra if missing."""
    try:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(EXTRA_HINT) from error
    return Figure, FigureCanvasAgg, colormaps


def _short_names(paths: list) -> list:
    """Layer paths without the prefix they all share (``sequential/dense`` -> ``dense``)."""
    if len(paths) < 2:
        return [posixpath.basename(p) or p for p in paths]
    prefix = posixpath.commonpath(paths) if all("/" in p for p in paths) else ""
    return [p[len(prefix) :].lstrip("/") or p for p in paths]


def _plot_lines(ax, series: dict, colormap, *, label_all: bool) -> None:
    names = _short_names(list(series))
    last = len(series) - 1
    for k, ((steps, values), name) in enumerate(zip(series.values(), names, strict=True)):
        color = colormap(0.0 if last == 0 else 0.9 * k / last)
        label = name if label_all or k in (0, last) else None
        marker = "." if len(steps) < 20 else None
        ax.plot(steps, values, color=color, linewidth=1.0, marker=marker, label=label)


def _draw_norms(ax, run, colormap) -> None:
    _plot_lines(ax, run.grad_norms, colormap, label_all=len(run.grad_norms) <= MANY_LAYERS)
    if run.global_norm is not None:
        steps, values = run.global_norm
        marker = "." if len(steps) < 20 else None
        ax.plot(steps, values, color="black", linewidth=2.5, marker=marker, label="global")
    ax.set_yscale("log")  # zeros (a layer with no gradient at all) are masked
    title = run.name
    if run.overflow_steps:
        title += f" ({run.overflow_steps} overflowed steps skipped)"
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("gradient L2 norm")
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)


def _draw_dead(ax, run, colormap) -> None:
    if not run.dead_fractions:
        ax.text(
            0.5, 0.5, "no rectifier layers logged", ha="center", va="center", fontsize=8,
            color="0.4", transform=ax.transAxes,
        )  # fmt: skip
        ax.set_axis_off()
        return
    _plot_lines(ax, run.dead_fractions, colormap, label_all=len(run.dead_fractions) <= MANY_LAYERS)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("dead fraction")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best", framealpha=0.8)


def draw(runs: list, output, *, title: str | None = None, max_columns: int = 4) -> str:
    """Renders ``runs`` (from ``load_runs``) to the image file ``output``; returns its path."""
    if not isinstance(max_columns, int) or isinstance(max_columns, bool) or max_columns < 1:
        raise ValueError(
            f"max_columns must be a positive integer. Received: max_columns={max_columns!r}"
        )
    Figure, FigureCanvasAgg, colormaps = _matplotlib()
    with_dead = any(run.dead_fractions for run in runs)
    columns = min(len(runs), max_columns)
    blocks = math.ceil(len(runs) / columns)
    rows_per_run = 2 if with_dead else 1
    figure = Figure(figsize=(4.2 * columns, (3.2 + 2.0 * with_dead) * blocks), layout="constrained")
    FigureCanvasAgg(figure)
    heights = ([3, 2] if with_dead else [1]) * blocks
    grid = figure.add_gridspec(rows_per_run * blocks, columns, height_ratios=heights)
    norm_axes = []
    for i, run in enumerate(runs):
        row, column = divmod(i, columns)
        share = norm_axes[0] if norm_axes else None
        ax = figure.add_subplot(grid[row * rows_per_run, column], sharey=share)
        _draw_norms(ax, run, colormaps["viridis"])
        norm_axes.append(ax)
        if with_dead:
            dead_ax = figure.add_subplot(grid[row * rows_per_run + 1, column], sharex=ax)
            _draw_dead(dead_ax, run, colormaps["plasma"])
            dead_ax.set_xlabel("training step")
        else:
            ax.set_xlabel("training step")
    figure.suptitle(title or "Gradient norms per layer (GradientMonitor)", fontsize=12)
    output = os.fspath(output)
    if os.path.dirname(output):
        os.makedirs(os.path.dirname(output), exist_ok=True)
    figure.savefig(output, dpi=100)
    return output
