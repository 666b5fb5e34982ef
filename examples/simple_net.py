"""The reference MLP (784 -> 256 -> 64 -> 10, ReLU after each hidden layer), trained and monitored.

Built from this package's layers, trained with Adam on MNIST when
keras.datasets.mnist can be downloaded, otherwise on scikit-learn's bundled
handwritten digits resized to 28x28 (a one-line message says so). Prints
the test accuracy. A GradientMonitor writes every layer's gradient norm,
update ratio and each ReLU layer's dead fraction to <out>/logs/train, next
to Keras's own TensorBoard logs (loss and accuracy), and prints their last
values in a table at the end of each epoch (verbose=1). Look at them with

    tensorboard --logdir runs/simple_net/logs
    python -m keras_relu_family.report runs/simple_net/logs --output report.png
"""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _data import load_images, parse, parser, write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402


def build_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(256),
            krf.ReLU(),
            keras.layers.Dense(64),
            krf.ReLU(),
            keras.layers.Dense(10),
        ],
        name="simple_net",
    )


def main(argv=None) -> dict:
    p = parser(__doc__, "simple_net", epochs=5, tiny_epochs=1)
    p.add_argument("--batch-size", type=int, default=128, help="(default: %(default)s)")
    p.add_argument(
        "--update-freq",
        type=int,
        default=10,
        help="GradientMonitor logs every N training steps (default: %(default)s)",
    )
    args = parse(p, argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), data = load_images(args.data, args.tiny)
    model = build_model()
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    log_dir = os.path.join(args.out, "logs")
    shutil.rmtree(log_dir, ignore_errors=True)  # a rerun must not mix with old events
    callbacks = [
        krf.GradientMonitor(
            log_dir,
            update_freq=1 if args.tiny else args.update_freq,
            update_ratios=True,  # ||w_after - w_before|| / ||w_before||, ~1e-3 is healthy
            verbose=1,  # the table after each epoch
        ),
        keras.callbacks.TensorBoard(log_dir, write_graph=False),
    ]
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=0.1,
        callbacks=callbacks,
        verbose=2,
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {accuracy:.4f}")
    print(f"TensorBoard logs: {log_dir} (tensorboard --logdir {log_dir})")
    results = {"data": data, "epochs": args.epochs, "log_dir": log_dir, "test_accuracy": accuracy}
    print(f"Results: {write_results(args.out, results)}")
    return results


if __name__ == "__main__":
    main()
