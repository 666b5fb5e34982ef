"""What the examples share: the image data, the common command-line flags, the results file.

Every example trains on the same 28x28 handwritten digits: MNIST when
``keras.datasets.mnist`` can be downloaded, otherwise (with a one-line
message) scikit-learn's bundled 8x8 digits resized to 28x28, so the same
networks apply to both. Each example writes what it found to
``<out>/results.json`` so that the tests (and you) can read it back.
"""

from __future__ import annotations

import argparse
import json
import os
import socket

import numpy as np

SOURCES = ("auto", "mnist", "digits")
TINY_TRAIN, TINY_TEST = 256, 128


def _mnist():
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)  # an offline machine should not hang on the download
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(previous)
    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


def _digits():
    import keras
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()  # 1797 images of 8x8, values 0..16, bundled with scikit-learn
    small = digits.images[..., None].astype("float32") / 16.0
    images = keras.ops.convert_to_numpy(keras.ops.image.resize(small, (28, 28)))[..., 0]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train, y_train), (x_test, y_test)


def load_images(source: str = "auto", tiny: bool = False):
    """Returns ``(x_train, y_train), (x_test, y_test), name``: float32 28x28 images in [0, 1].

    Args:
        source: ``"mnist"``, ``"digits"`` (scikit-learn's, no download) or
            ``"auto"`` (MNIST, falling back to digits with a one-line message).
        tiny: Keep only the first 256 training and 128 test images.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}. Received: source={source!r}")
    name = source
    if source in ("auto", "mnist"):
        try:
            (x_train, y_train), (x_test, y_test) = _mnist()
            name = "mnist"
        except Exception as error:
            if source == "mnist":
                raise
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            print(f"MNIST unavailable ({reason}); using scikit-learn's digits resized to 28x28.")
            name = "digits"
    if name == "digits":
        (x_train, y_train), (x_test, y_test) = _digits()
    if tiny:
        x_train, y_train = x_train[:TINY_TRAIN], y_train[:TINY_TRAIN]
        x_test, y_test = x_test[:TINY_TEST], y_test[:TINY_TEST]
    print(f"Data: {name}, {len(x_train)} training and {len(x_test)} test images of 28x28")
    as_float = lambda x: np.asarray(x, dtype="float32")
    as_label = lambda y: np.asarray(y, dtype="int64")
    return (as_float(x_train), as_label(y_train)), (as_float(x_test), as_label(y_test)), name


def parser(description: str, name: str, epochs: int, tiny_epochs: int) -> argparse.ArgumentParser:
    """An argument parser with the flags every example has; read it with `parse`."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        default=os.path.join("runs", name),
        help="directory for TensorBoard logs, figures and results.json (default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        choices=SOURCES,
        default="auto",
        help="mnist, scikit-learn's digits, or auto: MNIST if it downloads (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"training epochs (default: {epochs}, or {tiny_epochs} with --tiny)",
    )
    parser.set_defaults(default_epochs=(epochs, tiny_epochs))
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a few hundred images and the fewest steps that still show the point (for tests)",
    )
    return parser


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parses ``argv`` and fills in the epochs that ``--tiny`` implies."""
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = args.default_epochs[1 if args.tiny else 0]
    elif args.epochs < 1:
        parser.error(f"--epochs must be at least 1. Received: --epochs={args.epochs}")
    return args


def write_results(out: str, results: dict) -> str:
    """Writes ``results`` to ``<out>/results.json`` and returns the path."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    return path
