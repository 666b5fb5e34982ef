"""Dying ReLU: a learning rate high enough to kill ReLU units, and what the leaky family does.

The same MLP (two hidden layers of 64 units) trains with Adam at a learning
rate of 0.1, far too high, once with ReLU, once with LeakyReLU and once with
PReLU, each under a GradientMonitor (one TensorBoard run each, under
<out>/logs/). The digits' pixels are all non-negative, so one large update
moves every input weight of a unit in the same direction and can push its
pre-activation below zero for every image. A ReLU unit there outputs 0 and
gets a gradient of exactly 0: it never comes back, and `dead_fraction`
climbs towards 1 while the network stops learning. A LeakyReLU or PReLU unit
on its negative branch still passes slope x gradient, so its weights keep
moving and the network keeps learning. Unless --tiny, a ReLU network at a
sane rate (0.001) runs first for comparison.

Ends with a table (dead fraction per layer over the last steps, test
accuracy) and <out>/dying_relu.png (dead fraction against training step).

    python examples/dying_relu.py --learning-rate 0.05 --negative-slope 0.01
"""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _data import load_images, parse, parser, write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.report import load_runs  # noqa: E402

LAST_STEPS = 5  # the dead fraction "at the end" is the mean over this many logged steps


def build_mlp(activation, width: int = 64) -> keras.Model:
    """784 -> width -> width -> 10, ``activation()`` after each hidden Dense layer."""
    stack = [keras.Input((28, 28)), keras.layers.Flatten()]
    for i in range(2):
        stack += [keras.layers.Dense(width, name=f"dense_{i}"), activation(name=f"act_{i}")]
    stack.append(keras.layers.Dense(10, name="logits"))
    return keras.Sequential(stack, name="mlp")


def train(label, activation, learning_rate, train_data, test_data, args) -> dict:
    keras.backend.clear_session()  # each network starts from a clean slate
    keras.utils.set_random_seed(args.seed)
    model = build_mlp(activation)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    log_dir = os.path.join(args.out, "logs", label)
    shutil.rmtree(log_dir, ignore_errors=True)  # a rerun must not mix with old events
    monitor = krf.GradientMonitor(log_dir, update_freq=1, vanishing_threshold=None)
    history = model.fit(
        *train_data, epochs=args.epochs, batch_size=64, callbacks=[monitor], verbose=0
    )
    _, accuracy = model.evaluate(*test_data, verbose=0)
    (run,) = load_runs(log_dir)
    dead = {path.rsplit("/", 1)[-1]: series for path, series in run.dead_fractions.items()}
    return {
        "learning_rate": learning_rate,
        "dead_fraction_end": {k: float(np.mean(v[1][-LAST_STEPS:])) for k, v in dead.items()},
        "dead_fraction_steps": {k: [v[0].tolist(), v[1].tolist()] for k, v in dead.items()},
        "final_loss": float(history.history["loss"][-1]),
        "test_accuracy": float(accuracy),
    }


def plot(results: dict, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2, sharey=True)
    for k, ax in enumerate(axes):
        for label, result in results.items():
            steps, values = list(result["dead_fraction_steps"].values())[k]
            ax.plot(steps, values, label=f"{label} (accuracy {result['test_accuracy']:.2f})")
        ax.set_title(f"hidden layer {k + 1}")
        ax.set_xlabel("training step")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("dead fraction (no example of the batch fired)")
    axes[0].set_ylim(-0.03, 1.03)
    axes[1].legend(fontsize=8)
    figure.suptitle("Dying ReLU: units that stop firing for a whole batch")
    figure.savefig(path, dpi=100)


def main(argv=None) -> dict:
    p = parser(__doc__, "dying_relu", epochs=3, tiny_epochs=8)
    p.add_argument(
        "--learning-rate", type=float, default=0.1, help="the too-high rate (default: 0.1)"
    )
    p.add_argument(
        "--negative-slope",
        type=float,
        default=0.1,
        help="LeakyReLU's slope; the package default 0.01 dies more (default: %(default)s)",
    )
    args = parse(p, argv)
    (x_train, y_train), (x_test, y_test), data = load_images(args.data, args.tiny)
    lr, slope = args.learning_rate, args.negative_slope

    runs = {}
    if not args.tiny:
        runs["relu, lr=0.001"] = (krf.ReLU, 0.001)
    runs[f"relu, lr={lr:g}"] = (krf.ReLU, lr)
    runs[f"leaky_relu({slope:g}), lr={lr:g}"] = (
        lambda name: krf.LeakyReLU(negative_slope=slope, name=name),
        lr,
    )
    runs[f"prelu, lr={lr:g}"] = (krf.PReLU, lr)

    results = {}
    header = f"{'run':<28}{'dead, layer 1':>15}{'dead, layer 2':>15}{'accuracy':>10}{'loss':>10}"
    print(header)
    for label, (activation, rate) in runs.items():
        result = train(label.replace(", ", "_"), activation, rate, (x_train, y_train),
                       (x_test, y_test), args)  # fmt: skip
        results[label] = result
        dead = list(result["dead_fraction_end"].values())
        print(
            f"{label:<28}{dead[0]:>15.2f}{dead[1]:>15.2f}"
            f"{result['test_accuracy']:>10.3f}{result['final_loss']:>10.3g}"
        )
    print(f"(dead fraction: mean over the last {LAST_STEPS} steps of GradientMonitor's log)")

    figure = os.path.join(args.out, "dying_relu.png")
    plot(results, figure)
    print(f"Figure: {figure}")
    summary = {"data": data, "learning_rate": lr, "negative_slope": slope, "runs": results}
    print(f"Results: {write_results(args.out, summary)}")
    return summary


if __name__ == "__main__":
    main()
