"""Forward + backward time of every activation against the framework's own version.

One row per ``Benchmark`` of each registry entry (``benchmarks/_rows.py``):
the activation with those parameters, and any parameter marked ``Trainable``
a variable whose gradient is taken too. One step computes ``y = f(x)`` and the
gradients of ``y`` (upstream gradient ``dy``, a fixed random tensor) with
respect to ``x`` and the variables, on an 8M-element float32 tensor (2048 x
4096). The step runs inside ``tf.function`` and inside
``tf.function(jit_compile=True)``. This package's version and the built-in
run alternately in one process (the order flips every run), and the table
shows the median of ``--runs`` timed runs after warm-up, with the ratio
ours / built-in and the row's goal for that ratio.

Built-ins: ``spec.builtin`` of the registry, Keras's own version
(``keras.activations.*``, which is ``tf.nn.*`` on TensorFlow, or the formula
in ``keras.ops`` where Keras has none, differentiated by TensorFlow).

Usage::

    python benchmarks/activations.py                 # the full table (a few minutes)
    python benchmarks/activations.py --only elu,relu --runs 41
    python benchmarks/activations.py --quick         # tiny tensor, 3 runs: checks it runs
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import _rows  # noqa: E402

_common.import_this_checkout()
_common.use_bfc_allocator(sys.argv)
_common.quiet_tensorflow()

import tensorflow as tf  # noqa: E402


@dataclass
class Case:
    """One row: two ``x -> y`` callables and the variables each differentiates."""

    name: str
    ours: Callable
    builtin: Callable
    goals: dict
    ours_vars: list = field(default_factory=list)
    builtin_vars: list = field(default_factory=list)


def _bind(row, side: str, channels: int) -> tuple:
    """``(x -> y, variables)``: the row's function on one side, its trainables fresh variables."""
    variables = {
        name: tf.Variable(tf.fill([channels] if t.per_channel else [], t.value), name=name)
        for name, t in row.trainable().items()
    }
    function, fixed = row.function(side), row.fixed()
    return (lambda x: function(x, **fixed, **variables)), list(variables.values())


def cases(shape, only=None) -> list:
    """Every row of the registry (``benchmarks/_rows.py``)."""
    out = []
    for row in _rows.rows(only):
        ours, ours_vars = _bind(row, "ours", shape[-1])
        builtin, builtin_vars = _bind(row, "builtin", shape[-1])
        out.append(Case(row.label, ours, builtin, row.goals, ours_vars, builtin_vars))
    return out


def step_function(fn: Callable, variables: list, jit: bool) -> Callable:
    """``(x, dy) -> (y, dx, *dvars)`` as one ``tf.function``."""

    @tf.function(jit_compile=jit, reduce_retracing=True)
    def step(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        grads = tape.gradient(y, [x] + variables, output_gradients=dy)
        return [y] + grads

    return step


def _time_once(step, x, dy) -> float:
    start = time.perf_counter()
    step(x, dy)  # on the CPU the call returns once the outputs are computed
    return time.perf_counter() - start


def measure(case: Case, x, dy, jit: bool, runs: int, warmup: int) -> tuple:
    """Median seconds of (ours, builtin), run alternately, order flipped every run."""
    ours = step_function(case.ours, case.ours_vars, jit)
    builtin = step_function(case.builtin, case.builtin_vars, jit)
    for _ in range(warmup):
        ours(x, dy)
        builtin(x, dy)
    times = {"ours": [], "builtin": []}
    pair = [("ours", ours), ("builtin", builtin)]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            for label, step in pair if i % 2 == 0 else pair[::-1]:
                times[label].append(_time_once(step, x, dy))
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(times["ours"]), statistics.median(times["builtin"])


def _goal_cell(ratio: float, goal) -> str:
    if goal is None:
        return "-"
    met = ratio < 1.0 if goal == "<1" else ratio <= goal
    return f"{'<1.0' if goal == '<1' else f'<={goal:.2f}'} {'ok' if met else 'MISSED'}"


def run(args) -> str:
    shape = (args.rows, args.cols)
    x = tf.random.stateless_normal(shape, seed=[1, 2]) * 3.0
    dy = tf.random.stateless_normal(shape, seed=[3, 4])
    header = ["activation"]
    for mode in ("tf.function", "XLA"):
        header += [f"{mode} built-in ms", "ours ms", "ratio", "goal"]
    rows = []
    for case in cases(shape, args.only):
        row = [case.name]
        for mode, jit in (("tf.function", False), ("xla", True)):
            ours, builtin = measure(case, x, dy, jit, args.runs, args.warmup)
            ratio = ours / builtin
            goal = case.goals.get(mode)
            row += [f"{builtin * 1e3:.2f}", f"{ours * 1e3:.2f}", f"{ratio:.2f}"]
            row.append(_goal_cell(ratio, goal))
        rows.append(row)
        print(f"  measured {case.name}", file=sys.stderr, flush=True)
    return _common.table(header, rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny tensor, 3 runs")
    parser.add_argument("--runs", type=int, default=41, help="timed runs per side")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per side")
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--cols", type=int, default=4096)
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument(
        "--system-allocator", action="store_true", help="TensorFlow's default (see _common.py)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.cols, args.runs, args.warmup = 64, 256, 3, 1
    elements = args.rows * args.cols
    print(_common.machine_line())
    print(_common.allocator_line())
    print(
        f"forward + backward, float32 {args.rows}x{args.cols} ({elements / 2**20:.0f}Mi "
        f"elements), median of {args.runs} alternating runs after {args.warmup} warm-up runs"
    )
    print(run(args))
    print(f"load average after: {_common.load_average()}; command: {_common.command_line()}")


if __name__ == "__main__":
    main()
