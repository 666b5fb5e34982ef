"""GradientMonitor's dead-unit probes, histograms, warnings and bad inputs."""

from __future__ import annotations

import logging
import os
import re
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from tests._monitor_helpers import read_events, read_scalars  # noqa: E402

BATCH = 8


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)).astype("float32"), rng.standard_normal((n, 2)).astype(
        "float32"
    )


def small_model(name="net"):
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, name="dense"),
            krf.ReLU(),
            keras.layers.Dense(2, name="dense_1"),
        ],
        name=name,
    )


def fit(model, monitor, x=None, y=None, epochs=1, callbacks=(), **compile_kwargs):
    if x is None:
        x, y = data()
    compile_kwargs.setdefault("optimizer", keras.optimizers.SGD(0.0))
    model.compile(loss="mse", **compile_kwargs)
    return model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        callbacks=[monitor, *callbacks],
        verbose=0,
    )


def forced_dead_dense(units):
    """Half the units get a bias of -1000 (never fire), half +1000 (always fire)."""
    bias = np.where(np.arange(units) < units // 2, -1000.0, 1000.0).astype("float32")
    return keras.layers.Dense(
        units,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.1),
        bias_initializer=keras.initializers.Constant(bias),
    )


def test_forced_dead_units_read_back_as_half(tmp_path):
    x, y = data()
    model = keras.Sequential(
        [
            keras.Input((6,)),
            forced_dead_dense(8),
            krf.ReLU(name="relu_dead"),
            forced_dead_dense(6),
            krf.LeakyReLU(name="leaky_dead"),
            keras.layers.Dense(2),
        ],
        name="dead",
    )
    # The +-1000 biases make huge gradients: not what this test is about.
    fit(model, krf.GradientMonitor(tmp_path, update_freq=1, exploding_threshold=None), x, y)
    logged = read_scalars(tmp_path)
    for name in ("relu_dead", "leaky_dead"):
        assert logged[f"dead_fraction/dead/{name}"] == {1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5}


def test_dead_units_off_leaves_the_layers_untouched(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, activation="relu"),
            krf.ReLU(),
            keras.layers.Dense(2),
        ]
    )
    relu = model.layers[0].activation
    wrapped = []

    class Inspect(keras.callbacks.Callback):  # runs while the monitor is attached
        def on_train_batch_end(self, batch, logs=None):
            wrapped.extend("call" in vars(layer) for layer in model.layers)

    fit(
        model,
        krf.GradientMonitor(tmp_path, update_freq=1, dead_units=False),
        callbacks=[Inspect()],
    )
    assert not [t for t in read_scalars(tmp_path) if t.startswith("dead_fraction/")]
    assert wrapped and not any(wrapped)
    assert model.layers[0].activation is relu


def test_histograms_hold_the_applied_gradient(tmp_path):
    keras.utils.set_random_seed(7)
    x, y = data()
    model = small_model()
    fit(model, krf.GradientMonitor(tmp_path, update_freq=1, histogram_freq=2), x, y)
    frame = read_events(tmp_path)
    kernel = model.layers[0].kernel
    rows = frame[frame.tag == f"grad_hist/{kernel.path}"]
    assert sorted(rows.step) == [2, 4]
    with tf.GradientTape() as tape:  # step 4 is the fourth batch
        loss = keras.losses.MeanSquaredError()(y[24:32], model(x[24:32], training=True))
    grad = tape.gradient(loss, kernel)
    buckets = np.asarray(rows[rows.step == 4].value.item())  # (left, right, count) rows
    assert buckets[:, 2].sum() == grad.shape.num_elements()
    assert buckets[0, 0] == pytest.approx(float(tf.reduce_min(grad)), rel=1e-5)
    assert buckets[-1, 1] == pytest.approx(float(tf.reduce_max(grad)), rel=1e-5)


# -- warnings --------------------------------------------------------------------------


def gradient_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, krf.GradientWarning)]


def test_gradient_warning_is_an_exported_user_warning():
    assert issubclass(krf.GradientWarning, UserWarning)
    assert krf.callbacks.GradientWarning is krf.GradientWarning


def test_vanishing_warns_once_per_layer_per_epoch_naming_layer_value_and_step(tmp_path):
    keras.utils.set_random_seed(10)
    model = small_model()
    monitor = krf.GradientMonitor(
        tmp_path, update_freq=1, vanishing_threshold=1e3, exploding_threshold=None
    )
    with pytest.warns(krf.GradientWarning) as record:
        fit(model, monitor, epochs=2)
    messages = gradient_warnings(record)
    logged = read_scalars(tmp_path)
    # Two layers, two epochs (steps 1-4, 5-8): each layer once per epoch, at its first step.
    assert len(messages) == 4
    for path in ("net/dense", "net/dense_1"):
        for step in (1, 5):
            value = logged[f"grad_norm/{path}"][step]
            expected = (
                f"Vanishing gradient at step {step}: the gradient norm of layer '{path}' is "
                f"{value:.3g}, below vanishing_threshold=1000."
            )
            assert expected in messages


def test_absolute_exploding_threshold_warns(tmp_path):
    keras.utils.set_random_seed(11)
    monitor = krf.GradientMonitor(tmp_path, update_freq=2, exploding_threshold=1e-6)
    with pytest.warns(krf.GradientWarning) as record:
        fit(small_model(), monitor)
    messages = gradient_warnings(record)
    assert len(messages) == 2 and all(
        re.fullmatch(
            r"Exploding gradient at step 2: the gradient norm of layer 'net/dense(_1)?' is "
            r"\S+, above exploding_threshold=1e-06\.",
            m,
        )
        for m in messages
    )


def test_non_finite_gradient_warns(tmp_path):
    x, y = data()
    x[10, 0] = np.nan  # the second batch
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    with pytest.warns(krf.GradientWarning) as record:
        fit(small_model(), monitor, x, y)
    messages = gradient_warnings(record)
    assert sorted(messages) == [
        "Non-finite gradient at step 2: the global gradient norm is nan.",
        "Non-finite gradient at step 2: the gradient norm of layer 'net/dense' is nan.",
        "Non-finite gradient at step 2: the gradient norm of layer 'net/dense_1' is nan.",
    ]


def test_no_warning_within_the_thresholds(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", krf.GradientWarning)
        fit(small_model(), krf.GradientMonitor(tmp_path, update_freq=1))


def test_many_monitors_in_one_process_raise_no_retracing_warning(tmp_path, caplog):
    """A script that trains several models, each with its own monitor (as the examples do)."""
    caplog.set_level(logging.WARNING, logger="tensorflow")
    for i in range(7):
        # Two epochs of three steps: each writer is called several times.
        fit(
            small_model(f"net{i}"),
            krf.GradientMonitor(tmp_path / str(i), update_freq=1),
            epochs=2,
            x=data(24)[0],
            y=data(24)[1],
        )
        assert (tmp_path / str(i) / "train").is_dir()
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vanishing_threshold": -1.0}, r"Received: vanishing_threshold=-1\.0"),
        ({"exploding_threshold": -5}, r"Received: exploding_threshold=-5"),
        ({"exploding_threshold": float("nan")}, r"Received: exploding_threshold=nan"),
        (
            {"vanishing_threshold": 1.0, "exploding_threshold": 1.0},
            r"below `exploding_threshold`. Received: vanishing_threshold=1\.0, "
            r"exploding_threshold=1\.0",
        ),
        ({"vanishing_threshold": 5.0, "exploding_threshold": 2.0}, r"vanishing_threshold=5\.0"),
        ({"update_freq": 0}, r"Received: update_freq=0"),
        ({"update_freq": True}, r"Received: update_freq=True"),
        ({"update_freq": "epoch"}, r"Received: update_freq='epoch'"),
        ({"histogram_freq": -1}, r"Received: histogram_freq=-1"),
        ({"vanishing_ratio": 0.0}, r"Received: vanishing_ratio=0\.0"),
        ({"vanishing_ratio": 1.5}, r"between 0 and 1.*Received: vanishing_ratio=1\.5"),
        ({"exploding_factor": 1.0}, r"> 1\. Received: exploding_factor=1\.0"),
        ({"exploding_factor": float("inf")}, r"Received: exploding_factor=inf"),
        ({"verbose": 2}, r"Received: verbose=2"),
        ({"verbose": True}, r"Received: verbose=True"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        krf.GradientMonitor(tmp_path, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dead_units": "yes"}, r"Received: dead_units='yes'"),
        ({"update_ratios": 1}, r"Received: update_ratios=1"),
        ({}, r"Received: log_dir=None"),
    ],
)
def test_bad_types_are_refused(tmp_path, kwargs, match):
    log_dir = kwargs.pop("log_dir", None if not kwargs else tmp_path)
    with pytest.raises(TypeError, match=match):
        krf.GradientMonitor(log_dir, **kwargs)


def test_unsupported_backend_is_refused_at_construction(tmp_path, monkeypatch):
    # TensorFlow, JAX and PyTorch are supported; OpenVINO has no train step to watch.
    monkeypatch.setattr(keras.backend, "backend", lambda: "openvino")
    with pytest.raises(
        RuntimeError, match=r"TensorFlow, JAX and PyTorch backends.*Received: .*='openvino'"
    ):
        krf.GradientMonitor(tmp_path)


def test_unwritable_log_dir_fails_when_training_starts_naming_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    log_dir = blocker / "logs"
    monitor = krf.GradientMonitor(log_dir)  # construction does not touch the disk
    model = small_model()
    with pytest.raises(OSError, match=re.escape(repr(os.path.join(str(log_dir), "train")))):
        fit(model, monitor)
    assert int(model.optimizer.iterations.numpy()) == 0  # failed before the first step
