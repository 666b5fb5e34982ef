"""What GradientMonitor costs: epoch time of a model, monitored or not, side by side.

Two models (``--model``), on any of Keras's three backends (``--backend``):

* ``mlp`` (the default): the reference MLP (784 -> 256 -> 64 -> 10,
  krf.ReLU, Adam, batch 128) on generated data;
* ``resnet50``: ``keras.applications.ResNet50(weights=None, input_shape=(64,
  64, 3), classes=10)``, SGD(0.01), batch 32, on uniform random images (through
  ``resnet50.preprocess_input``) and random labels; the monitor probes its 49
  ``Activation("relu")`` layers.

Under these settings, in one process:

* ``none``: no monitor (the baseline), and ``none (control)``, a second
  unmonitored model timed like the others, to show the measurement's noise;
* ``monitor defaults``: ``GradientMonitor(log_dir)``;
* ``monitor every step``: ``GradientMonitor(log_dir, update_freq=1)``;
* ``monitor every step, update ratios`` (resnet50 only): the same with
  ``update_ratios=True`` (dead units and update ratios included);
* ``probe every step`` / ``probe every 50`` (mlp on TensorFlow only): the usual
  workaround, a callback that recomputes the gradients of a fixed probe batch
  with an extra ``tf.GradientTape`` forward and backward pass in
  ``on_train_batch_end`` and writes each layer's norm with an eager
  ``tf.summary.scalar``.

Each setting trains its own model, one epoch per ``fit`` call. After one
untimed epoch of every setting (tracing), each of ``--rounds`` rounds runs,
for every setting in turn, an epoch of ``none`` and then an epoch of the
setting: the ratio of the two is the setting's overhead for that round, and
the table shows the median over the rounds (wall clock, and CPU time of the
process). Pairing adjacent epochs cancels most of the drift of a shared
machine's load; the load average is printed with the table. An epoch's time
runs from the start of its second batch (a monitored ``fit`` retraces the
train step in its first, and its garbage is collected) to the end of
``on_epoch_end``.

For the mlp on TensorFlow, a second table times the in-graph part alone, much
less noisily: the compiled train functions of an unmonitored model, a second
one (control) and models whose monitor left its hooks in place, called
directly one after the other in a rotating order, ``--calls`` times each. A
third times the logging itself: one drain of those monitors (the callback's
work every ``update_freq`` steps, or every 16 when logging more often), per
train step. Both use TensorFlow's internals, so on JAX and PyTorch (where
nothing imports TensorFlow) only the epoch table runs. On PyTorch the models
train eagerly (Keras's default there), or under ``torch.compile`` with
``--jit-compile``.

Usage::

    python benchmarks/monitor_overhead.py                # the table in docs/monitor.md
    python benchmarks/monitor_overhead.py --rounds 2 --samples 2560 --calls 100  # a quick look
    python benchmarks/monitor_overhead.py --backend jax  # the epoch table on JAX (jitted)
    python benchmarks/monitor_overhead.py --backend torch                # PyTorch, eager
    python benchmarks/monitor_overhead.py --backend torch --jit-compile  # under torch.compile
    python benchmarks/monitor_overhead.py --model resnet50  # ResNet50 64x64 (10-15 min, 2 cores)
    python benchmarks/monitor_overhead.py --model resnet50 --rounds 1 --samples 64  # checks it runs
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

# Per model: (batch size, default --samples, default --rounds).
MODELS = {"mlp": (128, 25600, 10), "resnet50": (32, 320, 5)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default="tensorflow")
    parser.add_argument("--model", choices=tuple(MODELS), default="mlp")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed epochs per setting (mlp 10, resnet50 5)"
    )
    parser.add_argument(
        "--samples", type=int, default=None, help="examples per epoch (mlp 25600, resnet50 320)"
    )
    parser.add_argument(
        "--calls", type=int, default=2000, help="calls per in-graph timing (mlp on TensorFlow)"
    )
    parser.add_argument(
        "--jit-compile",
        action="store_true",
        help="PyTorch only: compile the models with jit_compile=True (torch.compile)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also time update_freq 10, 25, 100, 1000 and dead_units=False (choosing defaults)",
    )
    return parser


if __name__ == "__main__":  # --backend picks Keras's backend: parsed before Keras is imported
    os.environ["KERAS_BACKEND"] = _parser().parse_args().backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_common.import_this_checkout()

import keras  # noqa: E402

BACKEND = keras.config.backend()
if BACKEND != "tensorflow":
    # Keep TensorFlow out, as on a machine without it: Keras imports it wherever it is
    # installed, on any backend, to check for its types (serializing a layer's config,
    # which the monitor does to find the rectifiers) and to seed it.
    sys.modules.setdefault("tensorflow", None)

import numpy as np  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.callbacks._rectifiers import find_rectifiers  # noqa: E402

if BACKEND == "tensorflow":  # the workaround and the in-graph tables: TensorFlow's alone
    import tensorflow as tf

    from keras_relu_family.callbacks._engine_base import COUNT, FULL


def seed_everything(seed: int = 0) -> None:
    """``keras.utils.set_random_seed``, without seeding TensorFlow off its backend."""
    if BACKEND == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)  # Keras's default initializer seeds come from Python's generator
    np.random.seed(seed)
    if BACKEND == "torch":
        import torch

        torch.manual_seed(seed)


def build_model(name: str = "mlp", jit_compile=False) -> keras.Model:
    if name == "resnet50":
        return build_resnet50(jit_compile)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(256),
            krf.ReLU(),
            keras.layers.Dense(64),
            krf.ReLU(),
            keras.layers.Dense(10),
        ],
        name="reference_mlp",
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile or "auto",
    )
    return model


def build_resnet50(jit_compile=False) -> keras.Model:
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit_compile or "auto",
    )
    return model


def generated_data(name: str, samples: int):
    """Inputs and integer labels (10 classes) for model ``name``, from a fixed seed."""
    rng = np.random.default_rng(0)
    if name == "resnet50":
        images = rng.uniform(0.0, 255.0, (samples, 64, 64, 3)).astype(np.float32)
        x = np.asarray(keras.applications.resnet50.preprocess_input(images), dtype=np.float32)
    else:
        x = rng.standard_normal((samples, 784), dtype=np.float32)
    return x, rng.integers(0, 10, samples)


class StartClock(keras.callbacks.Callback):
    """First in the list: starts at the second batch, after any retrace in the first."""

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 1:
            gc.collect()  # not the garbage of the first batch's tracing
            self.start = time.perf_counter()
            self.start_cpu = time.process_time()


class StopClock(keras.callbacks.Callback):
    """Last in the list: stops after every other callback's ``on_epoch_end``."""

    def on_epoch_end(self, epoch, logs=None):
        self.stop = time.perf_counter()
        self.stop_cpu = time.process_time()


class ProbeBatchNorms(keras.callbacks.Callback):
    """The usual workaround: recompute gradients on a probe batch, write them eagerly."""

    def __init__(self, log_dir, x_probe, y_probe, every):
        super().__init__()
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
        self.x, self.y, self.every = x_probe, y_probe, every
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every:
            return
        with tf.GradientTape() as tape:
            loss = self.model.compute_loss(
                x=self.x, y=self.y, y_pred=self.model(self.x, training=True)
            )
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        with self.writer.as_default(step=self.step):
            for v, g in zip(variables, grads, strict=True):
                tf.summary.scalar(f"grad_norm/{v.path}", tf.norm(g))

    def on_epoch_end(self, epoch, logs=None):
        self.writer.flush()


class HooksStay(krf.GradientMonitor):
    """A monitor that leaves its hooks in the train function after fit (for timing them)."""

    def on_train_end(self, logs=None):
        pass


def time_train_steps(x, y, calls: int, log_root: str) -> None:
    """The in-graph part alone: train functions called directly, alternating call by call."""
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(128).repeat()
    # (monitor, the train function it traces for steps that are not / are logged)
    settings = {
        "none": (None, None),
        "none (control)": (None, None),
        "monitor, a step not logged": (HooksStay(os.path.join(log_root, "h0")), COUNT),
        "monitor, a logged step, dead_units=False": (
            HooksStay(os.path.join(log_root, "h1"), dead_units=False),
            FULL,
        ),
        "monitor, a logged step": (HooksStay(os.path.join(log_root, "h2")), FULL),
        "monitor, a logged step, update_freq=1 (16-row ring)": (
            HooksStay(os.path.join(log_root, "h3"), update_freq=1),
            FULL,
        ),
    }
    functions, iterators = {}, {}
    for name, (monitor, mode) in settings.items():
        seed_everything(0)
        model = build_model()
        callbacks = [] if monitor is None else [monitor]
        model.fit(data, steps_per_epoch=3, epochs=1, shuffle=False, callbacks=callbacks, verbose=0)
        functions[name], iterators[name] = model.train_function, iter(data)
        if monitor is not None:
            monitor._engine.capture.mode = mode  # the hooks trace (first call) in this mode
            functions[name] = monitor._functions[mode]
        functions[name](iterators[name])
    times = {name: [] for name in settings}
    names = list(settings)
    for call in range(calls):
        for name in names[call % len(names) :] + names[: call % len(names)]:  # rotate
            start = time.perf_counter()
            functions[name](iterators[name])
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["none"])
    drains = {}
    for label, name in (
        ("monitor defaults (update_freq=50)", "monitor, a logged step"),
        (
            "monitor every step (update_freq=1)",
            "monitor, a logged step, update_freq=1 (16-row ring)",
        ),
    ):
        drains[label] = time_drain(settings[name][0], functions[name], iterators[name], calls)
    print(
        f"\nIn-graph cost: one train step, the compiled train functions called directly in "
        f"turn (rotating the order), median of {calls} calls each (no logging: the hooks "
        "and probes only; a monitored fit runs a step that is not logged with one train "
        "function, an execution that holds a logged step with the other).\n"
        "| setting | median step (ms) | ratio to none |\n|---|---|---|"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.3f} | {median / base:.3f} |")
    print(
        "\nLogging cost: one drain (read the step, one compiled call that writes every tag "
        "of the logged steps, the threshold checks), median of max(calls / steps between "
        "drains, 20) drains.\n"
        "| setting | steps written per drain | median drain (ms) | per train step (ms) "
        "| ratio to a step of none |\n|---|---|---|---|---|"
    )
    for name, (rows, period, median) in drains.items():
        per_step = median / period
        print(
            f"| {name} | {rows} | {median * 1000:.3f} "
            f"| {per_step * 1000:.4f} | {per_step / base:.4f} |"
        )


def time_drain(monitor, function, iterator, calls: int):
    """Median time of one drain of ``monitor``: (logged steps per drain, period, seconds)."""
    period = monitor._period  # steps between drains
    rows = period // monitor.update_freq
    for _ in range(-monitor.step % period):  # end each period on a logged step
        function(iterator)
    times = []
    for _ in range(max(calls // period, 20)):
        for _ in range(period):
            function(iterator)
        logger, engine = monitor._logger, monitor._engine
        logger.drained = monitor.step - period  # as if the last drain was a period ago
        start = time.perf_counter()
        logger.drain(engine.capture, engine.step)  # what the monitor does every period
        times.append(time.perf_counter() - start)
    return rows, period, statistics.median(times)


def main(argv=None) -> dict:
    args = _parser().parse_args(argv)
    if args.backend != BACKEND:
        raise SystemExit(
            f"Keras was imported with the {BACKEND} backend: run the script with --backend "
            f"{args.backend}, or set KERAS_BACKEND={args.backend} before importing it"
        )
    if args.jit_compile and BACKEND != "torch":
        raise SystemExit("--jit-compile is for PyTorch (on TensorFlow and JAX Keras decides)")
    batch, samples, rounds = MODELS[args.model]
    args.samples = samples if args.samples is None else args.samples
    args.rounds = rounds if args.rounds is None else args.rounds
    steps = -(-args.samples // batch) - 1  # timed: all but the first
    if steps < 1:
        raise SystemExit(f"--samples: at least {batch + 1} (two batches of {batch}) per epoch")
    print(_common.machine_line(BACKEND), flush=True)

    warnings.simplefilter("ignore", krf.GradientWarning)  # checked, just not printed
    if BACKEND == "tensorflow":
        tf.get_logger().setLevel("ERROR")  # many models in one process: retracing notes
    x, y = generated_data(args.model, args.samples)
    log_root = tempfile.mkdtemp(prefix="krf_monitor_bench_")
    settings = {
        "none": [],
        "none (control)": [],  # a second unmonitored model: the noise of the pairing
        "monitor defaults": [krf.GradientMonitor(os.path.join(log_root, "defaults"))],
        "monitor every step": [krf.GradientMonitor(os.path.join(log_root, "every"), update_freq=1)],
    }
    if args.model == "resnet50":
        settings["monitor every step, update ratios"] = [
            krf.GradientMonitor(os.path.join(log_root, "ratios"), update_freq=1, update_ratios=True)
        ]
    if args.model == "mlp" and BACKEND == "tensorflow":
        probe = x[:128], y[:128]
        settings["probe every step"] = [
            ProbeBatchNorms(os.path.join(log_root, "p1"), *probe, every=1)
        ]
        settings["probe every 50"] = [
            ProbeBatchNorms(os.path.join(log_root, "p50"), *probe, every=50)
        ]
    if args.sweep:
        for freq in (10, 25, 100, 1000):
            settings[f"monitor update_freq={freq}"] = [
                krf.GradientMonitor(os.path.join(log_root, f"f{freq}"), update_freq=freq)
            ]
        settings["monitor dead_units=False"] = [
            krf.GradientMonitor(os.path.join(log_root, "nodead"), dead_units=False)
        ]
    names = list(settings)
    models = {}
    for name in names:
        seed_everything(0)
        models[name] = build_model(args.model, args.jit_compile)
    compiled = {
        "tensorflow": "tf.function" + (", XLA" if models["none"].jit_compile else ""),
        "jax": "jax.jit" if models["none"].jit_compile else "eager",
        "torch": "torch.compile" if models["none"].jit_compile else "eager",
    }[BACKEND]
    model_line = {
        "mlp": "the reference MLP (784-256-64-10, krf.ReLU, Adam)",
        "resnet50": "ResNet50 (64x64x3 inputs, 10 classes, SGD 0.01)",
    }[args.model]
    print(
        f"backend: {BACKEND} ({compiled}), Keras {keras.__version__}; model: {args.model}, "
        f"{model_line}, {len(find_rectifiers(models['none']))} rectifier layers probed; "
        f"CPU: {_common.cpu_model()}",
        flush=True,
    )

    def epoch(name):
        start, stop = StartClock(), StopClock()
        models[name].fit(
            x, y, batch_size=batch, epochs=1, callbacks=[start, *settings[name], stop], verbose=0
        )
        return stop.stop - start.start, stop.stop_cpu - start.start_cpu

    for name in names:  # trace everything once, untimed
        epoch(name)
    times = {name: [] for name in names}
    paired = {name: [] for name in names}  # (wall, cpu) ratios to the epoch of "none" just before
    others = names[1:]
    for round_ in range(args.rounds):
        for name in others if round_ % 2 else others[::-1]:
            base = epoch("none")
            this = epoch(name)
            times["none"].append(base[0])
            times[name].append(this[0])
            paired[name].append((this[0] / base[0], this[1] / base[1]))

    print(
        f"Epoch = {steps} timed steps of batch {batch}; {args.rounds} epochs per setting, each "
        f"right after an epoch of 'none'. Load average at the end: {_common.load_average()}."
    )
    header = [
        "setting",
        "median epoch (s)",
        "median ratio to the paired 'none' epoch",
        "same, in CPU time",
    ]
    rows = [["none", f"{statistics.median(times['none']):.3f}", "1", "1"]]
    result = {}
    for name in others:
        wall = statistics.median(r[0] for r in paired[name])
        cpu = statistics.median(r[1] for r in paired[name])
        result[name] = wall
        rows.append([name, f"{statistics.median(times[name]):.3f}", f"{wall:.3f}", f"{cpu:.3f}"])
    print(_common.table(header, rows), flush=True)
    if args.model == "mlp" and BACKEND == "tensorflow":
        time_train_steps(x, y, args.calls, log_root)
    return result


if __name__ == "__main__":
    main()
