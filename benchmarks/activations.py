"""Forward + backward time of every activation against TensorFlow's fastest built-in.

For each entry of ``krf.REGISTRY`` (with its default parameters) and for a
Swish with a trainable ``beta``, one step computes ``y = f(x)`` and the
gradients of ``y`` (upstream gradient ``dy``, a fixed random tensor) with
respect to ``x`` and to any trainable parameter, on an 8M-element float32
tensor (2048 x 4096). The step runs inside ``tf.function`` and inside
``tf.function(jit_compile=True)``. This package's version and the built-in
run alternately in one process (the order flips every run), and the table
shows the median of ``--runs`` timed runs after warm-up, with the ratio
ours / built-in and the goal of issue 6 for that ratio.

Built-ins: ``spec.builtin`` of the registry (``tf.nn.*`` or
``keras.activations.*``), ``keras.layers.PReLU`` for PReLU, and the autodiff
``x * sigmoid(beta * x)`` for the trainable Swish.

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

_common.import_this_checkout()
_common.use_bfc_allocator(sys.argv)
_common.quiet_tensorflow()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf  # noqa: E402

# Goals of issue 6 for ours / built-in: (tf.function, jit_compile=True).
# "<1" means strictly faster; None means the issue sets no goal.
GOALS = {
    "relu": (1.35, 1.05),
    "leaky_relu": (1.35, 1.05),
    "relu6": (1.35, 1.05),
    "elu": (1.10, 1.05),
    "selu": (1.10, 1.05),
    "celu": (1.10, 1.05),
    "softplus": (1.10, 1.05),
    "swish": (1.10, 1.05),
    "prelu": ("<1", 1.05),
    "gelu": ("<1", 1.05),
    "mish": ("<1", 1.05),
    "swish (trainable beta)": ("<1", 1.05),
}


@dataclass
class Case:
    """One row: two ``x -> y`` callables and the variables each differentiates."""

    name: str
    ours: Callable
    builtin: Callable
    ours_vars: list = field(default_factory=list)
    builtin_vars: list = field(default_factory=list)


def _prelu_case(shape) -> Case:
    ours = krf.PReLU()  # alpha starts at 0.25
    builtin = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    ours.build(shape)
    builtin.build(shape)
    return Case("prelu", ours, builtin, [ours.alpha], [builtin.alpha])


def _trainable_swish_case() -> Case:
    beta_ours = tf.Variable(1.0)
    beta_builtin = tf.Variable(1.0)
    autodiff = krf.REGISTRY["swish"].autodiff
    return Case(
        "swish (trainable beta)",
        lambda x: krf.swish(x, beta=beta_ours),
        lambda x: autodiff(x, beta=beta_builtin),
        [beta_ours],
        [beta_builtin],
    )


def cases(shape, only=None) -> list:
    """Every registry entry with its default parameters, plus the trainable Swish."""
    out = []
    for name, spec in krf.REGISTRY.items():
        if name == "prelu":
            out.append(_prelu_case(shape))
            continue
        params = dict(spec.param_sets[0])
        out.append(
            Case(
                name,
                lambda x, f=spec.function, p=params: f(x, **p),
                lambda x, f=spec.builtin, p=params: f(x, **p),
            )
        )
        if name == "swish":
            out.append(_trainable_swish_case())
    if only:
        out = [c for c in out if c.name in only or c.name.split(" ")[0] in only]
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
        for index, jit in enumerate((False, True)):
            ours, builtin = measure(case, x, dy, jit, args.runs, args.warmup)
            ratio = ours / builtin
            goal = GOALS.get(case.name, (None, None))[index]
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
