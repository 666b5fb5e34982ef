"""Vanishing gradients: the same deep MLP with sigmoid, tanh and every ReLU variant.

Each network has DEPTH hidden Dense layers of WIDTH units, each followed by
the activation, and a Dense output layer, and trains on the same digits from
the initialisation its activation was designed for (--initializer auto):
Glorot for sigmoid and tanh, LeCun-normal for SELU, He-normal for the rest. A
GradientMonitor logs every layer's gradient norm into its own TensorBoard run
(one per activation, under <out>/logs/). The script then reads those logs
back and prints, for each activation, the gradient norm of the first and of
the last layer: the sigmoid network's first layer gets a gradient many orders
of magnitude smaller than its last (each sigmoid multiplies the backward
signal by at most 0.25), and the monitor warns about it. ReLU, its leaky
relatives, the ELU family and Mish keep the first layer's gradient within an
order of magnitude of the last's; GELU, Swish, HardSwish and Softplus, whose
slope at 0 is 0.5, lose one or two orders over 20 layers.

Writes <out>/vanishing_gradients.png (gradient norm against depth, one line
per activation), <out>/report.png (the monitor's report of all runs) and
<out>/results.json. Compare the runs in TensorBoard with
`tensorboard --logdir <out>/logs`.

    python examples/vanishing_gradients.py --depth 30
"""

from __future__ import annotations

import os
import shutil
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _data import load_images, parse, parser, write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.report import load_runs, render_report  # noqa: E402

CLASSIC = ("sigmoid", "tanh")  # Keras's own, for contrast
ACTIVATIONS = CLASSIC + tuple(krf.available())  # the whole registry
INITIALIZERS = ("auto", "glorot_uniform", "he_normal", "lecun_normal")


def initializer_for(activation: str, choice: str = "auto") -> str:
    """The initialisation each activation was designed for, unless ``choice`` names one."""
    if choice != "auto":
        return choice
    if activation in CLASSIC:
        return "glorot_uniform"  # Glorot & Bengio (2010) derived it for them
    return "lecun_normal" if activation == "selu" else "he_normal"  # SELU needs LeCun


def activation_layer(name: str) -> keras.layers.Layer:
    """Keras's sigmoid/tanh, or this package's layer for a registry name, at its defaults."""
    if name in CLASSIC:
        return keras.layers.Activation(name)
    return krf.REGISTRY[name].layer()


def build_mlp(activation: str, depth: int, width: int, seed: int, init: str) -> keras.Model:
    """``depth`` x (Dense(width) -> activation) -> Dense(10); layers named dense_00, dense_01..."""
    stack = [keras.Input((28, 28)), keras.layers.Flatten()]
    for i in range(depth + 1):
        units = width if i < depth else 10
        config = {"class_name": init, "config": {"seed": seed + i}}
        kernel = keras.initializers.get(config)
        stack.append(keras.layers.Dense(units, kernel_initializer=kernel, name=f"dense_{i:02d}"))
        if i < depth:
            stack.append(activation_layer(activation))
    return keras.Sequential(stack, name="mlp")


def train_monitored(activation, data, args, log_dir) -> dict:
    """Trains one network under a GradientMonitor; returns the logged norm of each Dense layer."""
    (x_train, y_train) = data
    keras.backend.clear_session()  # each network starts from a clean slate
    keras.utils.set_random_seed(args.seed)
    init = initializer_for(activation, args.initializer)
    model = build_mlp(activation, args.depth, args.width, args.seed, init)
    model.compile(
        optimizer=keras.optimizers.SGD(args.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    shutil.rmtree(log_dir, ignore_errors=True)  # a rerun must not mix with old events
    monitor = krf.GradientMonitor(log_dir, update_freq=args.update_freq)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", krf.GradientWarning)
        model.fit(
            x_train, y_train, epochs=args.epochs, batch_size=64, callbacks=[monitor], verbose=0
        )
    diagnosis = []
    for warning in caught:  # keep the monitor's diagnosis to print under the row
        if issubclass(warning.category, krf.GradientWarning):
            diagnosis.append(f"    GradientWarning: {warning.message}")
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    (run,) = load_runs(log_dir)
    dense = [path for path in run.grad_norms if path.rsplit("/", 1)[-1].startswith("dense_")]
    # The median over the logged steps: one number per layer, robust to a noisy step.
    norms = {path.rsplit("/", 1)[-1]: float(np.median(run.grad_norms[path][1])) for path in dense}
    return norms, init, diagnosis


def plot(norms: dict, path: str, depth: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    from matplotlib import colormaps

    # tab20's dark shades without its red and orange, which mark sigmoid and tanh.
    palette = [colormaps["tab20"].colors[i] for i in (0, 4, 8, 10, 12, 14, 16, 18)]
    for k, (name, per_layer) in enumerate(norms.items()):
        style = {"color": palette[k % len(palette)], "linewidth": 1.4}
        style["linestyle"] = ("-", "--", ":")[(k // len(palette)) % 3]
        if name in CLASSIC:
            style = {"color": {"sigmoid": "tab:red", "tanh": "tab:orange"}[name], "linewidth": 3}
        layers = np.arange(1, len(per_layer) + 1)
        ax.plot(layers, list(per_layer.values()), label=name, **style)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_yscale("log")
    ax.set_xlabel(f"Dense layer (1 = first, next to the input; {depth + 1} = output)")
    ax.set_ylabel("gradient L2 norm (median over logged steps)")
    ax.set_title(f"Gradients through a {depth}-hidden-layer MLP, by activation")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(ncol=3, fontsize=8)
    figure.savefig(path, dpi=100)


def main(argv=None) -> dict:
    p = parser(__doc__, "vanishing_gradients", epochs=1, tiny_epochs=1)
    p.add_argument("--depth", type=int, default=20, help="hidden layers (default: %(default)s)")
    p.add_argument("--width", type=int, default=32, help="units per layer (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=0.01, help="SGD (default: %(default)s)")
    p.add_argument("--update-freq", type=int, default=2, help="log every N steps (default: 2)")
    p.add_argument(
        "--initializer",
        choices=INITIALIZERS,
        default="auto",
        help="kernel initializer of every Dense layer; auto: the one each activation was "
        "designed for (default: %(default)s)",
    )
    p.add_argument(
        "--activations",
        nargs="+",
        default=None,
        choices=ACTIVATIONS,
        metavar="NAME",
        help="which networks to train (default: sigmoid, tanh and the whole registry; "
        "sigmoid and relu with --tiny)",
    )
    args = parse(p, argv)
    if args.activations is None:
        args.activations = ["sigmoid", "relu"] if args.tiny else list(ACTIVATIONS)
    if args.depth < 20 and not args.tiny:
        print(f"Note: with --depth {args.depth} the effect is weaker; the reference uses 20+.")

    (x_train, y_train), _, data = load_images(args.data, args.tiny)
    norms, inits = {}, {}
    print(f"{'activation':<12}{'initializer':>16}{'first layer':>13}{'last layer':>13}", end="")
    print(f"{'first/last':>13}")
    for name in args.activations:
        log_dir = f"{args.out}/logs/{name}"
        norms[name], inits[name], diagnosis = train_monitored(
            name, (x_train, y_train), args, log_dir
        )
        first, last = norms[name]["dense_00"], norms[name][f"dense_{args.depth:02d}"]
        print(f"{name:<12}{inits[name]:>16}{first:>13.3e}{last:>13.3e}{first / last:>13.3e}")
        for line in diagnosis[:3]:
            print(line)
        if len(diagnosis) > 3:
            print(f"    ... and {len(diagnosis) - 3} more GradientWarnings")

    figure = os.path.join(args.out, "vanishing_gradients.png")
    plot(norms, figure, args.depth)
    report = render_report(os.path.join(args.out, "logs"), os.path.join(args.out, "report.png"))
    print(f"Figures: {figure}, {report}")
    results = {"data": data, "depth": args.depth, "grad_norms": norms, "figure": figure}
    results["initializers"] = inits
    print(f"Results: {write_results(args.out, results)}")
    return results


if __name__ == "__main__":
    main()
