"""Training speed of real architectures: Keras's own activations against this package's.

For each ``keras.applications`` model (``weights=None``, 64 x 64 x 3 inputs,
10 classes) the script builds Keras's model and its twin in which every
activation this package has is ours (``activation="relu"`` becomes
``"krf_relu"``, ``"silu"`` ``"krf_swish"``, ``"hard_silu"``
``"krf_hard_swish"``, a ``keras.layers.ReLU`` our ``ReLU`` with its
``max_value``), with the same weights, and checks that both compute the same
outputs. Both train with ``fit`` (SGD 0.01,
generated data, the same batches) on the backend ``KERAS_BACKEND`` or
``--backend`` names, alternately in one process (the order flips every
round); the table shows each model's median seconds per step, the median of
the rounds' ratios ours / Keras's, and their range. The micro-benchmarks
(``activations.py``) explain these rows; these are what a user's training
run sees.

Usage::

    python benchmarks/models.py --backend torch            # all three models
    python benchmarks/models.py --backend tensorflow --models resnet50 --rounds 7
    python benchmarks/models.py --backend torch --jit      # fit(jit_compile=True)
    python benchmarks/models.py --quick                    # 32 x 32 inputs, 2 steps: checks it runs
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

MODELS = {
    "resnet50": "ResNet50",
    "mobilenet_v3_small": "MobileNetV3Small",
    "efficientnet_b0": "EfficientNetB0",
}

# Keras's activation names and the strings of ours that compute the same function.
SWAPS = {
    "relu": "krf_relu",
    "relu6": "krf_relu6",
    "leaky_relu": "krf_leaky_relu",
    "elu": "krf_elu",
    "selu": "krf_selu",
    "celu": "krf_celu",
    "gelu": "krf_gelu",
    "silu": "krf_swish",
    "swish": "krf_swish",
    "hard_silu": "krf_hard_swish",
    "hard_swish": "krf_hard_swish",
    "mish": "krf_mish",
    "softplus": "krf_softplus",
}


def twin(model, keras, krf):
    """``(ours, swapped, names)``: ``model`` with every activation of ours swapped in,
    Keras's weights copied, the count of each kind of swap and the swapped layers' names."""
    swapped: dict = {}
    names: list = []

    def clone(layer):
        config = layer.get_config()
        if type(layer) is keras.layers.ReLU:
            top = config["max_value"]
            kind = "ReLU layer" + (f" max_value={top}" if top else "")
            swapped[kind] = swapped.get(kind, 0) + 1
            names.append(layer.name)
            keep = ("max_value", "negative_slope", "threshold", "name", "dtype")
            return krf.layers.ReLU(**{k: config[k] for k in keep if k in config})
        name = config.get("activation")
        if isinstance(name, str) and name in SWAPS:
            config["activation"] = SWAPS[name]
            kind = f"{type(layer).__name__}({name})"
            swapped[kind] = swapped.get(kind, 0) + 1
            names.append(layer.name)
        return layer.__class__.from_config(config)

    ours = keras.models.clone_model(model, clone_function=clone)
    ours.set_weights(model.get_weights())
    return ours, swapped, names


def same_function(theirs, ours, names, x, keras, np) -> None:
    """Raises unless both models give the same values at their last swapped layer (the
    softmax of a fresh model is too flat to tell two activations apart)."""
    last = [layer.name for layer in theirs.layers if layer.name in set(names)][-1]
    a, b = (
        keras.ops.convert_to_numpy(keras.Model(m.input, m.get_layer(last).output)(x))
        for m in (theirs, ours)
    )
    scale = float(np.max(np.abs(a)))
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * scale, err_msg=f"at {last}")


def compiled(model, keras, jit: bool):
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit or "auto",
    )
    return model


def seconds_per_step(model, x, y, batch: int) -> float:
    gc.collect()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    return (time.perf_counter() - start) / (len(x) // batch)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"))
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per model")
    parser.add_argument("--steps", type=int, default=8, help="training steps per round")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--jit", action="store_true", help="fit with jit_compile=True")
    parser.add_argument("--quick", action="store_true", help="32 x 32, 1 round of 2 steps")
    args = parser.parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "tensorflow":
        _common.use_bfc_allocator(sys.argv)
        _common.quiet_tensorflow()
    _common.import_this_checkout()
    import keras
    import numpy as np

    import keras_relu_family as krf

    size, rounds, steps = (32, 1, 2) if args.quick else (64, args.rounds, args.steps)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"--models: unknown {unknown}; known: {', '.join(MODELS)}")
    print(_common.machine_line(backend))
    rng = np.random.default_rng(0)
    samples = steps * args.batch
    x = rng.uniform(0.0, 1.0, (samples, size, size, 3)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    rows = []
    for name in names:
        keras.utils.set_random_seed(0)
        builder = getattr(keras.applications, MODELS[name])
        theirs = builder(weights=None, input_shape=(size, size, 3), classes=10)
        ours, swapped, swapped_names = twin(theirs, keras, krf)
        # The same function: otherwise the ratio would compare two different models.
        same_function(theirs, ours, swapped_names, x[: args.batch], keras, np)
        pair = {"keras": compiled(theirs, keras, args.jit), "ours": compiled(ours, keras, args.jit)}
        for model in pair.values():  # warm-up: tracing, compiling, the first allocations
            model.fit(x[: 2 * args.batch], y[: 2 * args.batch], batch_size=args.batch, verbose=0)
        times = {"keras": [], "ours": []}
        for r in range(rounds):
            for side in ("keras", "ours") if r % 2 == 0 else ("ours", "keras"):
                times[side].append(seconds_per_step(pair[side], x, y, args.batch))
        keras_s, ours_s = (statistics.median(times[s]) for s in ("keras", "ours"))
        # Each round's two timings are neighbours in time: their ratio, not the ratio of
        # the medians, cancels what the machine does between rounds.
        ratios = [o / k for o, k in zip(times["ours"], times["keras"], strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(swapped.items()))
        row = [name, kinds, f"{keras_s:.3f}", f"{ours_s:.3f}", f"{statistics.median(ratios):.3f}"]
        rows.append(row + [spread])
        print(f"  measured {name}", flush=True)
    mode = "fit(jit_compile=True)" if args.jit else "fit (jit_compile='auto')"
    print(
        f"{backend}, {mode}, batch {args.batch}, {size}x{size}x3, "
        f"median of {rounds} rounds of {steps} steps"
    )
    header = ["model", "activations swapped", "Keras s/step", "ours s/step", "ratio", "rounds"]
    print(_common.table(header, rows))
    print(f"load average after: {_common.load_average()}; command: {_common.command_line()}")


if __name__ == "__main__":
    main()
