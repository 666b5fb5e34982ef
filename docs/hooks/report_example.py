"""MkDocs hook: ``img/report-example.png``, a gradient report drawn from real runs.

Two networks of 12 hidden layers, ReLU (He initialisation) and sigmoid
(Glorot), train for 24 steps of SGD on generated data, each under its own
``GradientMonitor``; ``render_report`` draws their logs side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _deep_mlp(activation, initializer: str, depth: int = 12, width: int = 32):
    import keras

    stack = [keras.Input((width,))]
    for i in range(depth):
        init = keras.initializers.get({"class_name": initializer, "config": {"seed": i}})
        stack += [keras.layers.Dense(width, kernel_initializer=init, name=f"dense_{i:02d}")]
        stack += [activation()]
    stack.append(keras.layers.Dense(4, name="dense_out"))
    return keras.Sequential(stack, name="mlp")


def report_example() -> bytes:
    """PNG of the report of a 12-hidden-layer sigmoid network next to a ReLU one."""
    import tempfile

    import keras

    import keras_relu_family as krf
    from keras_relu_family.report import render_report

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 32)).astype("float32")
    y = rng.integers(0, 4, size=256)
    nets = {
        "relu": (krf.ReLU, "he_normal"),
        "sigmoid": (lambda: keras.layers.Activation("sigmoid"), "glorot_uniform"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (activation, initializer) in nets.items():
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            model = _deep_mlp(activation, initializer)
            model.compile(
                optimizer=keras.optimizers.SGD(0.05),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            monitor = krf.GradientMonitor(
                os.path.join(tmp, name), update_freq=1, vanishing_threshold=None
            )
            model.fit(x, y, epochs=3, batch_size=32, callbacks=[monitor], verbose=0)
        title = "12 hidden layers, SGD: ReLU with He init (left), sigmoid with Glorot init (right)"
        path = render_report(tmp, os.path.join(tmp, "report.png"), title=title)
        return Path(path).read_bytes()


def generated_files() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return {"img/report-example.png": report_example()}


def on_files(files, config):
    """MkDocs event: adds this hook's generated files to the site."""
    from mkdocs.structure.files import File

    for path, content in generated_files().items():
        files.append(File.generated(config, path, content=content))
    return files
