"""Forward + backward time of every activation against the framework's own version.

On TensorFlow (the default), on JAX (``--backend jax``) and on PyTorch
(``--backend torch``).

One row per ``Benchmark`` of each registry entry (``benchmarks/_rows.py``):
the activation with those parameters, and any parameter marked ``Trainable``
a variable whose gradient is taken too. One step computes ``y = f(x)`` and the
gradients of ``y`` (upstream gradient ``dy``, a fixed random tensor) with
respect to ``x`` and the variables, on an 8M-element float32 tensor (2048 x
4096). On TensorFlow the step runs inside ``tf.function`` and inside
``tf.function(jit_compile=True)``, on JAX inside ``jax.jit`` (with
``jax.vjp``), on PyTorch eagerly and under ``torch.compile``; on the JAX and
PyTorch paths nothing imports TensorFlow, so the script runs on a machine with
that framework and Keras alone. This package's version and the built-in
run alternately in one process (the order flips every run), and the table
shows the median of ``--runs`` timed runs after warm-up, with the ratio
ours / built-in and the row's goal for that ratio.

Built-ins: ``spec.builtin`` of the registry, Keras's own version
(``keras.activations.*``, which is ``tf.nn.*`` on TensorFlow and ``jax.nn.*``
on JAX, or the formula in ``keras.ops`` where Keras has none, differentiated
by the framework).

Usage::

    python benchmarks/activations.py                 # the full table (a few minutes)
    python benchmarks/activations.py --only elu,relu --runs 41
    python benchmarks/activations.py --quick         # tiny tensor, 3 runs: checks it runs
    python benchmarks/activations.py --backend jax   # the same rows under jax.jit
    python benchmarks/activations.py --backend torch # eager and torch.compile
"""

from __future__ import annotations

import argparse
import gc
import os
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


@dataclass
class Case:
    """One row: two ``x -> y`` callables and the variables each differentiates."""

    name: str
    ours: Callable
    builtin: Callable
    goals: dict
    ours_vars: list = field(default_factory=list)
    builtin_vars: list = field(default_factory=list)


class TensorFlow:
    """Steps as ``tf.function``, with and without XLA; variables are ``tf.Variable``."""

    modes = (("tf.function", "tf.function", False), ("XLA", "xla", True))

    def __init__(self):
        import tensorflow as tf

        self.tf = tf

    def variable(self, value, shape, name):
        return self.tf.Variable(self.tf.fill(shape, value), name=name)

    def data(self, shape):
        tf = self.tf
        return tf.random.stateless_normal(shape, seed=[1, 2]) * 3.0, tf.random.stateless_normal(
            shape, seed=[3, 4]
        )

    def step(self, fn: Callable, variables: list, jit: bool) -> Callable:
        """``(x, dy) -> (y, dx, *dvars)`` as one ``tf.function``."""
        tf = self.tf

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def step(x, dy):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = fn(x)
            grads = tape.gradient(y, [x] + variables, output_gradients=dy)
            return [y] + grads

        return step  # on the CPU the call returns once the outputs are computed


class Jax:
    """Steps under ``jax.jit`` with ``jax.vjp``; variables are arrays passed as arguments."""

    modes = (("jax.jit", "jax", True),)

    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp

    def variable(self, value, shape, name):
        return self.jnp.full(shape, value, self.jnp.float32)

    def data(self, shape):
        jax = self.jax
        x = jax.random.normal(jax.random.key(1), shape) * 3.0
        return x, jax.random.normal(jax.random.key(3), shape)

    def step(self, fn: Callable, variables: list, jit: bool) -> Callable:
        jax = self.jax

        def pure(x, dy, params):
            y, vjp = jax.vjp(lambda u, p: fn(u, p), x, params)
            return y, vjp(dy)

        compiled = jax.jit(pure)
        return lambda x, dy: jax.block_until_ready(compiled(x, dy, variables))


class Torch:
    """Steps eagerly and under ``torch.compile``, with ``torch.autograd.grad``."""

    modes = (("eager", "torch", False), ("torch.compile", "torch.compile", True))

    def __init__(self):
        import torch

        self.torch = torch
        torch.set_grad_enabled(True)
        # Every row compiles the same lambdas (one code object): past dynamo's
        # recompile limit (8) it ran the later rows eagerly without a word, so
        # that their "torch.compile" columns were eager. Fail instead.
        torch._dynamo.config.recompile_limit = 128
        torch._dynamo.config.fail_on_recompile_limit_hit = True

    def variable(self, value, shape, name):
        return self.torch.full(shape, value, dtype=self.torch.float32, requires_grad=True)

    def data(self, shape):
        torch = self.torch
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(shape, generator=generator) * 3.0
        return x.requires_grad_(True), torch.randn(shape, generator=generator)

    def step(self, fn: Callable, variables: list, jit: bool) -> Callable:
        torch = self.torch
        forward = torch.compile(fn, dynamic=False) if jit else fn

        def step(x, dy):
            y = forward(x)
            return y, torch.autograd.grad(y, [x, *variables], grad_outputs=dy)

        return step  # on the CPU the gradients are computed when grad returns


def _bind(backend, row, side: str, channels: int) -> tuple:
    """``(f, variables)``: the row's function on one side, its trainables fresh variables.

    ``f(x, variables)`` on JAX (the variables are arguments of the compiled step),
    ``f(x)`` closing over them on TensorFlow.
    """
    names = list(row.trainable())
    variables = [
        backend.variable(t.value, [channels] if t.per_channel else [], name)
        for name, t in row.trainable().items()
    ]
    function, fixed = row.function(side), row.fixed()

    def with_params(x, params):
        return function(x, **fixed, **dict(zip(names, params, strict=True)))

    if isinstance(backend, Jax):
        return with_params, variables
    return (lambda x: with_params(x, variables)), variables


def cases(backend, shape, only=None) -> list:
    """Every row of the registry (``benchmarks/_rows.py``)."""
    out = []
    for row in _rows.rows(only):
        ours, ours_vars = _bind(backend, row, "ours", shape[-1])
        builtin, builtin_vars = _bind(backend, row, "builtin", shape[-1])
        out.append(Case(row.label, ours, builtin, row.goals, ours_vars, builtin_vars))
    return out


def _time_once(step, x, dy) -> float:
    start = time.perf_counter()
    step(x, dy)
    return time.perf_counter() - start


def measure(backend, case: Case, x, dy, jit: bool, runs: int, warmup: int) -> tuple:
    """Median seconds of (ours, builtin), run alternately, order flipped every run."""
    ours = backend.step(case.ours, case.ours_vars, jit)
    builtin = backend.step(case.builtin, case.builtin_vars, jit)
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


def run(backend, args) -> str:
    shape = (args.rows, args.cols)
    x, dy = backend.data(shape)
    header = ["activation"]
    for label, _, _ in backend.modes:
        header += [f"{label} built-in ms", "ours ms", "ratio", "goal"]
    rows = []
    for case in cases(backend, shape, args.only):
        row = [case.name]
        for _, mode, jit in backend.modes:
            ours, builtin = measure(backend, case, x, dy, jit, args.runs, args.warmup)
            ratio = ours / builtin
            row += [f"{builtin * 1e3:.2f}", f"{ours * 1e3:.2f}", f"{ratio:.2f}"]
            row.append(_goal_cell(ratio, case.goals.get(mode)))
        rows.append(row)
        print(f"  measured {case.name}", file=sys.stderr, flush=True)
    return _common.table(header, rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default="tensorflow")
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
    os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported
    if args.backend == "tensorflow":
        _common.use_bfc_allocator(sys.argv if argv is None else argv)
        _common.quiet_tensorflow()
        backend = TensorFlow()
    else:
        backend = Jax() if args.backend == "jax" else Torch()
    elements = args.rows * args.cols
    print(_common.machine_line(args.backend))
    if args.backend == "tensorflow":
        print(_common.allocator_line())
    print(
        f"forward + backward, float32 {args.rows}x{args.cols} ({elements / 2**20:.0f}Mi "
        f"elements), median of {args.runs} alternating runs after {args.warmup} warm-up runs"
    )
    print(run(backend, args))
    print(f"load average after: {_common.load_average()}; command: {_common.command_line()}")


if __name__ == "__main__":
    main()
