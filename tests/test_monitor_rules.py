"""The warning rules: on their own (plain numbers), and on healthy and sick training runs.

The runs are the ones docs/monitor.md chose the defaults from: the reference
MLP and CNN of the examples train without a ``GradientWarning``; the
20-layer sigmoid net of examples/vanishing_gradients.py warns "vanishing"
for the layers nearest its input; a learning rate that makes the loss
diverge warns "exploding" before the loss stops being finite. (A NaN in the
data warns "non-finite": test_monitor_diagnostics.py.) The keras.applications
runs are in test_monitor_apps.py.
"""

from __future__ import annotations

import ast
import math
import os
import re
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_relu_family as krf  # noqa: E402
from keras_relu_family.callbacks import _rules  # noqa: E402
from keras_relu_family.callbacks._rules import Rules  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def checked(rules, *steps):
    """The messages of ``rules.check`` over ``steps``: ``{layer: norm}`` dicts from step 1."""
    out = []
    for step, norms in enumerate(steps, 1):
        total = math.sqrt(sum(v * v for v in norms.values()))
        out += rules.check(step, norms, total)
    return out


# -- the rules on plain numbers ------------------------------------------------------------


def test_vanishing_is_relative_to_the_largest_layer_of_the_step():
    rules = Rules(vanishing_ratio=1e-7)
    # Only the ratio counts, not the scale: 1e-6 and 2e-7 of the largest are fine.
    assert checked(rules, {"a": 1e6, "b": 1.0}, {"a": 1e-2, "b": 2e-9}) == []
    (finding,) = checked(rules, {"a": 1.0, "b": 1e-8, "c": 0.5})
    assert (finding.layer, finding.kind, finding.rule) == (
        "b",
        "vanishing",
        "vanishing_ratio=1e-07",
    )
    assert finding.message == (
        "Vanishing gradient at step 1: the gradient norm of layer 'b' is 1e-08, 1e-08 times "
        "the step's largest layer norm (1, 'a'), below vanishing_ratio=1e-07."
    )


def test_exploding_spike_is_relative_to_the_layers_own_history():
    rules = Rules(exploding_factor=1000)
    steady = [{"a": 5.0, "b": 1e4}] * 3  # b is large but steady: fine
    assert checked(rules, *steady, {"a": 4000.0, "b": 1e4}) == []  # 800 times: not yet
    rules = Rules(exploding_factor=1000)
    findings = checked(rules, *steady, {"a": 6000.0, "b": 1e4})
    assert [(f.layer, f.kind, f.step) for f in findings] == [("a", "exploding", 4)]
    assert findings[0].message == (
        "Exploding gradient at step 4: the gradient norm of layer 'a' is 6e+03, 1.2e+03 "
        "times the largest of its last 3 logged norms (5), above exploding_factor=1000."
    )


def test_no_spike_judged_without_two_logged_steps_of_history():
    rules = Rules(exploding_factor=10)
    assert checked(rules, {"a": 1.0}, {"a": 1e6}) == []  # one step of history only


def test_exploding_growth_of_the_global_norm():
    rules = Rules(exploding_factor=1000)
    # Ten steady steps, then three times the last at each: never a spike of 1000x its
    # recent maximum, but 2187x where the run began at step 17.
    steps = [{"a": 1.0}] * 10 + [{"a": 3.0**k} for k in range(1, 8)]
    findings = checked(rules, *steps)
    assert [(f.layer, f.step) for f in findings] == [("global", 17)]
    assert "2.19e+03 times the largest of its first 10 logged norms (1)" in findings[0].message


def test_a_layer_waking_up_from_zero_is_not_exploding():
    rules = Rules(exploding_factor=1000)  # a dead layer (norm 0) that starts learning again
    assert checked(rules, {"a": 0.0, "b": 1.0}, {"a": 0.0, "b": 1.0}, {"a": 5.0, "b": 1.0}) == []


def test_non_finite_always_warns_and_once_per_layer_per_epoch():
    rules = Rules()  # every rule off but non-finite
    findings = checked(rules, {"a": float("nan"), "b": 1.0}, {"a": float("inf"), "b": 1.0})
    assert [(f.layer, f.kind, f.step) for f in findings] == [
        ("a", "non-finite", 1),
        ("global", "non-finite", 1),
    ]
    rules.new_epoch()
    assert [f.step for f in checked(rules, {"a": float("inf"), "b": 1.0})] == [1, 1]


def test_absolute_thresholds_are_per_layer():
    rules = Rules(vanishing_threshold=0.1, exploding_threshold=10.0)
    findings = checked(rules, {"a": 0.05, "b": 20.0, "c": 1.0})
    assert [(f.layer, f.rule) for f in findings] == [
        ("a", "vanishing_threshold=0.1"),
        ("b", "exploding_threshold=10"),
    ]
    assert rules.flagged == {"a": "vanishing", "b": "exploding"}


NEUTRAL = [
    "_tags",
    "_rectifiers",
    "_attach",
    "_window",
    "_rules",
    "_table",
    "_logdir",
    "_engine_base",
    "_stateful",
    "_host",
]


@pytest.mark.parametrize("module", NEUTRAL)
def test_backend_neutral_modules_import_no_tensorflow(module):
    """What the JAX and PyTorch ports will share imports neither TensorFlow nor its parts."""
    tree = ast.parse((ROOT / "keras_relu_family" / "callbacks" / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not {name for name in imported if name.split(".")[0] == "tensorflow"}
    assert "keras.src" not in " ".join(imported)
    assert _rules.__name__  # the module imports on its own


# -- healthy and sick runs -----------------------------------------------------------------


def examples_module(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture(scope="module")
def digits():
    data = examples_module("_data")
    (x, y), _, _ = data.load_images("digits", tiny=True)  # 256 images of 28x28, no download
    return x, y


def gradient_warnings(record) -> list:
    return [str(w.message) for w in record if issubclass(w.category, krf.GradientWarning)]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_reference_networks_train_without_a_warning(tmp_path, digits, net, optimizer):
    x, y = digits
    keras.utils.set_random_seed(0)
    if net == "mlp":
        model = examples_module("simple_net").build_model()
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        model, x = examples_module("cnn").build_model("relu"), x[..., None]
        loss = "sparse_categorical_crossentropy"
    opt = keras.optimizers.SGD(0.01) if optimizer == "sgd" else keras.optimizers.Adam(1e-3)
    model.compile(optimizer=opt, loss=loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error", krf.GradientWarning)
        model.fit(
            x,
            y,
            batch_size=32,
            epochs=2,
            verbose=0,
            callbacks=[krf.GradientMonitor(tmp_path, update_freq=1)],
        )


def test_sigmoid_net_warns_vanishing_for_the_layers_nearest_the_input(tmp_path, digits):
    x, y = digits
    vanishing = examples_module("vanishing_gradients")
    keras.utils.set_random_seed(0)
    model = vanishing.build_mlp("sigmoid", depth=20, width=32, seed=0, init="glorot_uniform")
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    with pytest.warns(krf.GradientWarning) as record:
        model.fit(
            x,
            y,
            batch_size=64,
            epochs=1,
            verbose=0,
            callbacks=[krf.GradientMonitor(tmp_path, update_freq=2)],
        )
    messages = gradient_warnings(record)
    warned = [int(re.search(r"'mlp/dense_(\d\d)'", m).group(1)) for m in messages]
    assert all(m.startswith("Vanishing gradient at step 2:") for m in messages)
    assert all("below vanishing_ratio=1e-07." in m for m in messages)
    # The first layers, and only they: a block from the input up.
    assert warned == list(range(len(warned))) and 4 <= len(warned) <= 15


class PerStepLoss(keras.callbacks.Callback):
    """The loss of each batch (Keras logs the running mean of the epoch)."""

    def __init__(self):
        super().__init__()
        self.means = []

    def on_train_batch_end(self, batch, logs=None):
        self.means.append(float(logs["loss"]))


def test_a_diverging_learning_rate_warns_exploding_before_the_loss_is_nan(tmp_path, digits):
    x, y = digits
    keras.utils.set_random_seed(0)
    model = examples_module("simple_net").build_model()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")  # on one-hot targets
    losses = PerStepLoss()
    with pytest.warns(krf.GradientWarning) as record:
        model.fit(
            x,
            np.eye(10, dtype="float32")[y],
            batch_size=32,
            epochs=1,
            verbose=0,
            shuffle=False,
            callbacks=[krf.GradientMonitor(tmp_path, update_freq=1), losses],
        )
    messages = gradient_warnings(record)
    first_nan = next(i for i, v in enumerate(losses.means, 1) if not math.isfinite(v))
    exploding = [m for m in messages if m.startswith("Exploding gradient")]
    assert exploding, messages
    step = min(int(re.match(r"Exploding gradient at step (\d+):", m).group(1)) for m in exploding)
    # The running mean is finite up to a step only if every loss up to it is.
    assert step < first_nan and all(math.isfinite(v) for v in losses.means[:step])
    assert "above exploding_factor=1000." in exploding[0]
