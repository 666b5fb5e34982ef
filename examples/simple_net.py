"""The reference MLP (784 -> 256 -> 64 -> 10, ReLU after each hidden layer), trained.

Trains on MNIST when ``keras.datasets.mnist`` can be downloaded, otherwise on
scikit-learn's bundled handwritten digits resized to 28x28, and prints the
test accuracy.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf  # noqa: E402


def load_data(tiny: bool = False):
    """(x_train, y_train), (x_test, y_test) as float32 28x28 images in [0, 1]."""
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        print("Data: MNIST")
        x_train, x_test = x_train / 255.0, x_test / 255.0
    except Exception as error:  # no network: fall back to bundled data
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        print(f"MNIST unavailable ({type(error).__name__}); using scikit-learn's digits instead.")
        digits = load_digits()
        images = tf.image.resize(digits.images[..., None] / 16.0, (28, 28)).numpy()[..., 0]
        x_train, x_test, y_train, y_test = train_test_split(
            images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
        )
    if tiny:
        x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]
    return (x_train.astype("float32"), y_train), (x_test.astype("float32"), y_test)


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


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--tiny", action="store_true", help="a few hundred examples, for tests")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data(args.tiny)
    model = build_model()
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {accuracy:.4f}")
    return float(accuracy)


if __name__ == "__main__":
    main()
