"""Peak resident memory of one training step: this package's layers against the built-ins.

For every row of the registry (``benchmarks/_rows.py``: each activation with
its benchmark parameters, trainable ones as weights), a child process builds a
model, runs one warm-up
``train_on_batch`` (tracing, XLA compilation), then measures how far the
resident set rises above where it stood before a second step: the memory
that step holds at its peak (saved activations, gradients, temporaries).
Ours and the built-in each run in their own process, under
``jit_compile=False`` (a ``tf.function`` graph; what Keras's default
``jit_compile="auto"`` picks on a machine without a GPU or TPU) and under
``jit_compile=True`` (XLA).

Two models, both with activations dominating the memory:

- ``dense``: 16 blocks of ``Dense(128) -> activation`` on a batch of 16384
  (8 MiB per activation tensor, 64 KiB per weight matrix), the shape of a
  real network. Each Dense layer keeps its input (the previous
  activation's output) for its own gradient, so an activation whose gradient
  needs its input costs one more tensor per block than one that works from
  its output.
- ``stack``: a per-feature scale followed by 16 activation layers. Each
  activation's input is the previous one's output, so saving the input or
  the output costs the same; what shows is whatever else is kept.

The child processes run with glibc's ``MALLOC_MMAP_THRESHOLD_=65536`` so
that freed tensors go back to the kernel at once and the resident set
follows the live tensors. The peak is read from ``VmHWM`` after resetting it
through ``/proc/self/clear_refs`` (Linux only).

Usage::

    python benchmarks/memory.py                # every activation, both models (~10 min)
    python benchmarks/memory.py --only relu,gelu --model dense
    python benchmarks/memory.py --quick        # relu, small batch, tf.function: checks it runs
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import _rows  # noqa: E402

_common.import_this_checkout()
MODELS = ("dense", "stack")
MODES = ("graph", "xla")
CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def names() -> list:
    """Every row's label."""
    return [row.label for row in _rows.rows()]


def _layers(label: str, side: str):
    """A factory of fresh activation layers for the row ``label``, ours or the built-in."""
    import keras
    import numpy as np

    (row,) = [row for row in _rows.rows() if row.label == label]
    function, fixed = row.function(side), row.fixed()
    takes_training, takes_seed = row.takes(side, "training"), row.takes(side, "seed")

    class Apply(keras.layers.Layer):
        """The row's function on one side, its trainable parameters as weights."""

        def build(self, input_shape):
            self.params = {
                name: self.add_weight(
                    shape=(input_shape[-1],) if t.per_channel else (),
                    initializer=keras.initializers.Constant(np.float32(t.value)),
                    name=name,
                )
                for name, t in row.trainable().items()
            }
            if takes_seed:
                self.seed_generator = keras.random.SeedGenerator(0)

        def call(self, x, training=False):
            extra = {"training": training} if takes_training else {}
            if takes_seed:
                extra["seed"] = self.seed_generator
            return function(x, **fixed, **self.params, **extra)

    return Apply


def _model(kind: str, make_layer, width: int, depth: int):
    import keras

    inputs = keras.Input((width,))
    h = inputs
    if kind == "stack":
        h = _Scale()(h)
        for _ in range(depth):
            h = make_layer()(h)
    else:
        for _ in range(depth):
            h = make_layer()(keras.layers.Dense(width)(h))
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def _define_scale():
    import keras

    global _Scale

    class _Scale(keras.layers.Layer):
        """A trainable per-feature scale, so that the gradient flows through every activation."""

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w


def child(name, side, kind, batch, width, depth, modes=MODES) -> dict:
    """Runs in the child process: peak MiB above the resting level, per compile mode."""
    _common.quiet_tensorflow()
    import keras
    import numpy as np

    _define_scale()
    make_layer = _layers(name, side)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, width)).astype("float32")
    y = rng.normal(size=(batch, 1)).astype("float32")
    out = {}
    for mode in modes:
        keras.utils.set_random_seed(0)
        model = _model(kind, make_layer, width, depth)
        model.compile(keras.optimizers.SGD(1e-3), "mse", jit_compile=mode == "xla")
        model.train_on_batch(x, y)  # trace and compile
        peaks = []
        for _ in range(2):
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to VmRSS
            before = _rss_kib("VmRSS")
            model.train_on_batch(x, y)
            peaks.append(_rss_kib("VmHWM") - before)
        out[mode] = min(peaks) / 1024
        del model
    return out


def _run_child(name, side, kind, args) -> dict:
    env = dict(os.environ, **CHILD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_common.REPO), env.get("PYTHONPATH")]))
    cmd = [sys.executable, __file__, "--child", name, side, kind]
    cmd += ["--batch", str(args.batch), "--width", str(args.width), "--depth", str(args.depth)]
    cmd += ["--modes", ",".join(args.modes)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args) -> str:
    rows_wanted = args.rows or names()
    jobs = [
        (n, side, kind) for kind in args.models for n in rows_wanted for side in ("ours", "builtin")
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {job: pool.submit(_run_child, *job, args) for job in jobs}
        results = {job: f.result() for job, f in futures.items()}
    header = ["activation", "model"]
    for mode in args.modes:
        label = "tf.function" if mode == "graph" else "XLA"
        header += [f"{label} built-in MiB", "ours MiB", "ratio"]
    rows = []
    for kind in args.models:
        for n in rows_wanted:
            row = [n, kind]
            for mode in args.modes:
                ours = results[(n, "ours", kind)][mode]
                builtin = results[(n, "builtin", kind)][mode]
                row += [f"{builtin:.0f}", f"{ours:.0f}", f"{ours / builtin:.2f}"]
            rows.append(row)
    return _common.table(header, rows)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        name, side, kind = argv[1:4]
        opts = dict(zip(argv[4::2], argv[5::2], strict=True))
        sizes = (int(opts["--batch"]), int(opts["--width"]), int(opts["--depth"]))
        result = child(name, side, kind, *sizes, modes=tuple(opts["--modes"].split(",")))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="relu only, small batch")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument("--model", choices=MODELS + ("both",), default="both")
    parser.add_argument("--batch", type=int, default=16384)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=1, help="child processes at a time")
    parser.add_argument("--modes", type=lambda s: tuple(s.split(",")), default=MODES)
    args = parser.parse_args(argv)
    args.models = MODELS if args.model == "both" else (args.model,)
    args.rows = None
    if args.only:
        args.rows = [n for n in names() if n in args.only]
    if args.quick:  # no TensorFlow in this process: the children import it
        args.rows, args.models, args.modes = ["relu"], ("dense",), ("graph",)
        args.batch, args.width, args.depth, args.jobs = 4096, 256, 4, 2
    _common.quiet_tensorflow()
    print(_common.machine_line())
    print(
        f"one SGD training step, float32, batch {args.batch} x {args.width} features, "
        f"{args.depth} activation layers; peak resident memory above the level before the "
        f"step (MiB, the smaller of two steps), each side in its own process"
    )
    print(run(args))
    print(f"load average after: {_common.load_average()}; command: {_common.command_line()}")


if __name__ == "__main__":
    main()
