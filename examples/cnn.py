"""The reference CNN, with this package's activations given as Keras activation strings.

Conv2D(32, 3x3) -> MaxPool(2x2) -> Conv2D(64, 3x3) -> Flatten -> Dense(64)
-> Dense(10, softmax), trained with Adam and sparse categorical
cross-entropy on 28x28 digits (MNIST, or scikit-learn's digits offline).
Importing keras_relu_family adds the strings "krf_<name>" to Keras, so
`activation="krf_relu"` picks this package's ReLU with its hand-written
gradient. Prints the model summary and the test accuracy.

    python examples/cnn.py --activation krf_mish
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _data import load_images, parse, parser, write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402


def build_model(activation: str = "krf_relu") -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, (3, 3), activation=activation),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation=activation),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation=activation),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="cnn",
    )


def main(argv=None) -> dict:
    strings = sorted(s for spec in krf.REGISTRY.values() for s in spec.string_names[:1])
    p = parser(__doc__, "cnn", epochs=3, tiny_epochs=1)
    p.add_argument(
        "--activation",
        default="krf_relu",
        choices=strings,
        metavar="NAME",
        help=f"activation string, one of {', '.join(strings)} (default: %(default)s)",
    )
    args = parse(p, argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), data = load_images(args.data, args.tiny)
    model = build_model(args.activation)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(x_train[..., None], y_train, epochs=args.epochs, batch_size=64, verbose=2)
    _, accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)
    print(f"Test accuracy: {accuracy:.4f}")
    used = [
        keras.saving.get_registered_name(layer.activation)
        for layer in model.layers
        if hasattr(layer, "activation")
    ]
    results = {
        "data": data,
        "activation": args.activation,
        "layer_activations": used,
        "params": model.count_params(),
        "loss": [float(v) for v in history.history["loss"]],
        "test_accuracy": float(accuracy),
    }
    print(f"Results: {write_results(args.out, results)}")
    return results


if __name__ == "__main__":
    main()
