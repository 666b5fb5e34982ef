"""Dead units of every rectifier a model computes, over a window of steps.

The logged fractions are compared with fractions computed independently:
each rectifier's input and output recomputed with numpy from the layer
weights (the learning rate is 0, so the weights of every step are the final
ones), ORed over the batches of each window.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.callbacks._rectifiers import find_rectifiers  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402

BATCH = 8
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def fit(model, x, y, monitor, epochs=1, callbacks=(), **compile_kwargs):
    compile_kwargs.setdefault("optimizer", keras.optimizers.SGD(0.0))
    model.compile(loss="mse", **compile_kwargs)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        callbacks=[monitor, *callbacks],
        verbose=0,
    )


def dead_tags(logged) -> set:
    return {t for t in logged if t.startswith("dead_fraction/")}


# Every form, in one functional model: (layer, rule, where the rule reads: "pre" = the
# activation's input, "out" = its output). Each Dense(activation=...) gets 6 units and a
# spread of biases so that some units die on some batches and not on others.
XLA_FORMS = ("keras_string", "krf_string", "keras_relu_args", "keras_prelu", "krf_layer")


def every_form(only=None):
    """The model of every form (or of the forms named in ``only``), its forms, its nested model."""
    bias = keras.initializers.Constant(np.linspace(-2.0, 1.0, 6).astype("float32"))

    def dense(name, activation):
        return keras.layers.Dense(6, activation=activation, bias_initializer=bias, name=name)

    inner = keras.Sequential(
        [keras.Input((6,)), dense("inner_dense", "relu")], name="nested"
    )  # a nested model
    forms = [
        (dense("keras_string", "relu"), ("output", 0.0)),
        (dense("relu6_string", "relu6"), ("output", 0.0)),
        (dense("leaky_string", "leaky_relu"), ("input", 0.0)),
        (dense("krf_string", "krf_relu"), ("output", 0.0)),
        (dense("keras_callable", keras.activations.relu), ("output", 0.0)),
        (dense("krf_callable", krf.leaky_relu), ("input", 0.0)),
        (dense("tf_callable", tf.nn.relu), ("output", 0.0)),
        (dense("not_a_rectifier", "tanh"), None),
        (keras.layers.ReLU(name="keras_relu"), ("output", 0.0)),
        (keras.layers.ReLU(6.0, 0.1, 0.25, name="keras_relu_args"), ("input", 0.25)),
        (keras.layers.LeakyReLU(name="keras_leaky"), ("input", 0.0)),
        (keras.layers.PReLU(name="keras_prelu"), ("input", 0.0)),
        (keras.layers.Activation("relu", name="keras_activation"), ("output", 0.0)),
        (keras.layers.Activation("sigmoid", name="sigmoid"), None),
        (krf.ELU(name="krf_elu"), None),
        (dense("pre_krf", None), None),
        (krf.ReLU(name="krf_layer"), ("output", 0.0)),
        (krf.LeakyReLU(name="krf_leaky_layer"), ("input", 0.0)),
        (krf.ReLU6(name="krf_relu6_layer"), ("output", 0.0)),
        (krf.PReLU(name="krf_prelu_layer"), ("input", 0.0)),
        (inner, None),
        (keras.layers.Dense(6, activation=krf.ReLU(name="as_activation"), name="with_layer"), None),
        (krf.RReLU(name="krf_rrelu_layer"), ("input", 0.0)),  # random slopes: last
    ]
    if only is not None:
        forms = [(layer, rule) for layer, rule in forms if layer.name in only]
    inputs = keras.Input((6,), name="x")
    h, outputs = inputs, []
    for layer, _ in forms:
        h = layer(h)
        outputs.append(h)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h), name="forms")
    return model, forms, inner


def expected_fractions(model, forms, inner, x, windows) -> dict:
    """``{tag: [fraction per window]}`` recomputed with numpy from the layers' weights."""
    layers = [layer for layer, _ in forms]
    probe = keras.Model(model.inputs[0], [layer.output for layer in layers])
    outs = [np.asarray(o, np.float64) for o in probe(x, training=False)]
    ins = [x.astype(np.float64)] + outs[:-1]
    values = {}  # path -> (rule, values the rule reads)
    for k, (layer, rule) in enumerate(forms):
        if rule is None:
            continue
        if isinstance(layer, keras.layers.Dense):  # activation=: recompute the pre-activation
            pre = ins[k] @ np.float64(layer.kernel.numpy()) + np.float64(layer.bias.numpy())
            values[layer.name] = (rule, pre if rule[0] == "input" else outs[k])
        else:
            values[layer.name] = (rule, ins[k] if rule[0] == "input" else outs[k])
    if inner in layers:  # inside the nested model, and a layer given as activation=
        k = layers.index(inner)
        values["nested/inner_dense"] = (("output", 0.0), outs[k])
        values["with_layer/as_activation"] = (("output", 0.0), outs[k + 1])
    result = {}
    for path, ((kind, level), v) in values.items():
        fired = v > level if kind == "output" else v >= level
        fractions = []
        for steps in windows:  # a unit fired in the window if it fired in any of its batches
            rows = np.concatenate([np.arange((s - 1) * BATCH, s * BATCH) for s in steps])
            fractions.append(float(np.mean(~fired[rows].any(axis=0))))
        result[f"dead_fraction/{path}"] = fractions
    return result


# Under XLA, a few forms: compiling the whole model costs 20 s here.
@pytest.mark.parametrize(
    ("jit_compile", "only"), [(False, None), (True, XLA_FORMS)], ids=["graph", "xla"]
)
def test_every_rectifier_form_is_probed_under_its_own_layer(tmp_path, jit_compile, only):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4 * BATCH, 6)).astype("float32")
    y = rng.standard_normal((4 * BATCH, 2)).astype("float32")
    model, forms, inner = every_form(only)
    monitor = krf.GradientMonitor(tmp_path, update_freq=2, vanishing_ratio=None)
    fit(model, x, y, monitor, jit_compile=jit_compile)
    logged = read_scalars(tmp_path)
    expected = expected_fractions(model, forms, inner, x, windows=[(1, 2), (3, 4)])
    assert dead_tags(logged) == set(expected)  # tanh, sigmoid, ELU, no activation: none
    for tag, fractions in expected.items():
        assert [logged[tag][2], logged[tag][4]] == pytest.approx(fractions, abs=1e-6), tag
    assert 0 < np.mean([f for v in expected.values() for f in v]) < 1  # not all 0 or 1
    assert all("call" not in vars(layer) for layer, _ in forms)  # detached after fit
    assert model.get_layer("keras_string").activation is keras.activations.relu


def reference_cnn():
    """examples/cnn.py's CNN with Keras's "relu" strings, named as in a fresh process."""
    sys.path.insert(0, EXAMPLES)
    try:
        import cnn
    finally:
        sys.path.remove(EXAMPLES)
    keras.backend.clear_session()  # layer names from a fresh counter: conv2d, conv2d_1, ...
    return cnn.build_model(activation="relu")


def test_reference_cnn_as_written_logs_its_three_relus():
    model = reference_cnn()  # Conv2D(32, (3, 3), activation="relu"), ..., Dense(64, ...)
    targets = find_rectifiers(model)
    assert [(t.path, t.form, t.rule) for t in targets] == [
        ("cnn/conv2d", "activation", ("output", 0.0)),
        ("cnn/conv2d_1", "activation", ("output", 0.0)),
        ("cnn/dense", "activation", ("output", 0.0)),
    ]


def test_reference_cnn_logs_dead_fractions_in_fit(tmp_path):
    model = reference_cnn()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (2 * BATCH, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 2 * BATCH)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[monitor], verbose=0)
    logged = read_scalars(tmp_path)
    assert dead_tags(logged) == {
        "dead_fraction/cnn/conv2d",
        "dead_fraction/cnn/conv2d_1",
        "dead_fraction/cnn/dense",
    }
    assert all(sorted(logged[t]) == [1, 2] for t in dead_tags(logged))


def forced_half_dead(units=8):
    """A Dense(relu) whose first half of units gets a bias of -1000 (never fires)."""
    bias = np.where(np.arange(units) < units // 2, -1000.0, 1000.0).astype("float32")
    return keras.layers.Dense(
        units,
        activation="relu",
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.1),
        bias_initializer=keras.initializers.Constant(bias),
        name="half_dead",
    )


def test_half_of_a_dense_relu_layers_units_forced_dead_reads_half(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4 * BATCH, 6)).astype("float32")
    y = rng.standard_normal((4 * BATCH, 2)).astype("float32")
    model = keras.Sequential(
        [keras.Input((6,)), forced_half_dead(), keras.layers.Dense(2)], name="net"
    )
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1), epochs=2)
    logged = read_scalars(tmp_path)
    assert logged["dead_fraction/net/half_dead"] == {s: 0.5 for s in range(1, 9)}


def one_step_firing(tmp_path, update_freq):
    """Unit 0 fires only on the second batch (its input is positive there), unit 1 never."""
    x = np.full((4 * BATCH, 1), -1.0, "float32")
    x[BATCH : 2 * BATCH] = 1.0  # the second batch
    y = np.zeros((4 * BATCH, 1), "float32")
    layer = keras.layers.Dense(
        2,
        activation="relu",
        kernel_initializer=keras.initializers.Constant([[1.0, 0.0]]),
        bias_initializer=keras.initializers.Constant([0.0, -1.0]),
        name="units",
    )
    model = keras.Sequential([keras.Input((1,)), layer, keras.layers.Dense(1)], name="net")
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=update_freq))
    return read_scalars(tmp_path)["dead_fraction/net/units"]


def test_a_unit_that_fires_in_one_step_of_the_window_is_alive(tmp_path):
    # One window of four steps: unit 0 fired in one of them, so only unit 1 is dead.
    assert one_step_firing(tmp_path / "window", update_freq=4) == {4: 0.5}
    # Windows of one step: unit 0 is dead in every step but the second.
    assert one_step_firing(tmp_path / "steps", update_freq=1) == {1: 1.0, 2: 0.5, 3: 1.0, 4: 1.0}


def test_keras_saving_during_and_after_a_monitored_fit(tmp_path):
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4 * BATCH, 6)).astype("float32")
    y = rng.standard_normal((4 * BATCH, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="krf_relu", name="ours"),
            keras.layers.Dense(5, activation="relu", name="theirs"),
            keras.layers.ReLU(name="relu_layer"),
            keras.layers.Dense(2),
        ],
        name="saved",
    )
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "during.keras"))
    monitor = krf.GradientMonitor(tmp_path / "logs", update_freq=1)
    fit(model, x, y, monitor, callbacks=[checkpoint], optimizer=keras.optimizers.SGD(0.01))
    model.save(tmp_path / "after.keras")
    for name in ("during.keras", "after.keras"):
        reloaded = keras.saving.load_model(tmp_path / name)
        assert reloaded.get_layer("ours").activation is krf.relu  # not Keras's "relu"
        assert reloaded.get_layer("theirs").activation is keras.activations.relu
        assert [layer.get_config().get("activation") for layer in reloaded.layers] == [
            layer.get_config().get("activation") for layer in model.layers
        ]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_resnet50_has_its_49_relus_found_under_their_layer_names():
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    targets = find_rectifiers(model)
    assert len(targets) == 49
    assert targets[0].path == "conv1_relu" and targets[0].form == "activation"
    assert all(isinstance(t.layer, keras.layers.Activation) for t in targets)
    assert len({t.path for t in targets}) == 49
