"""keras.applications trained from scratch: healthy runs give no GradientWarning.

ResNet50, MobileNetV3Small and EfficientNetB0 (``weights=None``, 32x32
inputs, batches of 4, three steps, every step logged) under SGD(0.01) and
Adam(1e-3), the usual rates. The old absolute rule warned "exploding" on
ResNet50's first step. The runs are eager (``run_eagerly=True``): tracing
these train steps takes 15-50 s per model on a 2-core machine, and the
capture runs the same code either way (the traced path is tested on smaller
models).

On JAX and PyTorch the test run blocks TensorFlow with ``sys.modules``, and
Keras's preprocessing layers then fail (they ask whether ``"tensorflow" in
sys.modules``): MobileNetV3Small is built without its Rescaling layer there
(its inputs scaled as that layer would), and EfficientNetB0, whose
Normalization layer cannot be left out, runs on TensorFlow only.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402

# app -> (rectifier layers it has: ResNet's Activation("relu"), MobileNet's ReLU layers)
APPS = {"ResNet50": 49, "MobileNetV3Small": 23, "EfficientNetB0": 0}
OPTIMIZERS = {"sgd": lambda: keras.optimizers.SGD(0.01), "adam": lambda: keras.optimizers.Adam()}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("app", sorted(APPS))
def test_healthy_application_runs_give_no_warning(tmp_path, app, optimizer):
    tensorflow = keras.config.backend() == "tensorflow"
    if app == "EfficientNetB0" and not tensorflow:
        pytest.skip("Keras's Normalization layer needs TensorFlow importable (see the top)")
    keras.utils.set_random_seed(0)
    kwargs = {} if tensorflow or app != "MobileNetV3Small" else {"include_preprocessing": False}
    model = getattr(keras.applications, app)(
        weights=None, input_shape=(32, 32, 3), classes=10, **kwargs
    )
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (12, 32, 32, 3)).astype("float32")  # raw pixels, as the apps take
    if app == "ResNet50":
        x = keras.applications.resnet50.preprocess_input(x)
    if kwargs:
        x = x / 127.5 - 1.0  # MobileNetV3's own Rescaling(1 / 127.5, offset=-1)
    y = rng.integers(0, 10, 12)
    model.compile(OPTIMIZERS[optimizer](), "sparse_categorical_crossentropy", run_eagerly=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", krf.GradientWarning)
        model.fit(
            x,
            y,
            batch_size=4,
            epochs=1,
            verbose=0,
            callbacks=[krf.GradientMonitor(tmp_path, update_freq=1)],
        )
    logged = read_scalars(tmp_path)
    dead = sorted(t for t in logged if t.startswith("dead_fraction/"))
    assert len(dead) == APPS[app]
    if app == "ResNet50":
        assert "dead_fraction/conv1_relu" in dead  # the Activation layer's own name
    assert sorted(logged["grad_norm/global"]) == [1, 2, 3]
