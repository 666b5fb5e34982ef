"""A picture of GradientMonitor's logs: per-layer gradient norms and dead fractions.

From the command line:

    python -m keras_relu_family.report LOG_DIR --output report.png

or from Python, ``render_report(log_dir, "report.png")``. ``LOG_DIR`` is the
``log_dir`` given to ``GradientMonitor``, or a directory holding several such
runs (one subdirectory each), drawn side by side. For each run the report
draws the gradient L2 norm of every layer over the training steps on a log
scale (the global norm as a thick black line), and below it the fraction of
dead units of each rectifier layer.

Needs matplotlib, which comes with the ``examples`` and ``docs`` extras
(``pip install 'keras_relu_family[examples]'``); reading the logs needs only
TensorBoard, a dependency of the package.
"""

from __future__ import annotations

import argparse
import sys

from keras_relu_family.report._events import ReportError, RunLogs, load_runs
from keras_relu_family.report._figure import draw

__all__ = ["ReportError", "RunLogs", "load_runs", "main", "render_report"]


def render_report(log_dir, output="report.png", *, title: str | None = None, max_columns: int = 4):
    """Renders the GradientMonitor logs under ``log_dir`` to an image file.

    Args:
        log_dir: The ``log_dir`` given to ``GradientMonitor`` (or its ``train``
            subdirectory), or a directory of several such runs, drawn side by side.
        output: Path of the image to write; its format follows the extension
            (``.png``, ``.svg``, ``.pdf``). Defaults to `"report.png"`.
        title: Figure title. Defaults to `None`, a generic title.
        max_columns: Runs per row of the figure. Defaults to `4`.

    Returns:
        The path written.

    Raises:
        ReportError: ``log_dir`` is missing or holds no GradientMonitor logs.
        ImportError: matplotlib is not installed (the message names the extra).

    Example:

    >>> import tempfile
    >>> from keras_relu_family.report import render_report
    >>> render_report(tempfile.mkdtemp(), "report.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    keras_relu_family.report.ReportError: No TensorBoard event files under ...
    """
    runs = load_runs(log_dir)
    return draw(runs, output, title=title, max_columns=max_columns)


def main(argv=None) -> int:
    """The command line: renders the report; returns the exit status (1 on a clear error)."""
    parser = argparse.ArgumentParser(
        prog="python -m keras_relu_family.report",
        description="Draw GradientMonitor's gradient norms and dead fractions from TensorBoard "
        "logs: one column per run, one line per layer, the global norm in black.",
    )
    parser.add_argument("log_dir", metavar="LOG_DIR", help="GradientMonitor's log_dir, or runs")
    parser.add_argument(
        "--output", "-o", default="report.png", help="image to write (default: %(default)s)"
    )
    parser.add_argument("--title", default=None, help="figure title")
    parser.add_argument(
        "--max-columns", type=int, default=4, help="runs per row (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        runs = load_runs(args.log_dir)
        path = draw(runs, args.output, title=args.title, max_columns=args.max_columns)
    except (ReportError, ImportError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    layers = sum(len(run.grad_norms) for run in runs)
    print(f"Wrote {path}: {len(runs)} run(s), {layers} layer series.")
    return 0
