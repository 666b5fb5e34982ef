"""The private Keras API the package relies on, and the one module allowed to touch it.

If one of these fails after a Keras upgrade, Keras has moved
``keras.src.activations.ALL_OBJECTS_DICT``, ``keras.src.utils.naming``, the
lists behind ``non_trainable_variables`` and ``optimizer.variables``,
``Optimizer._backend_update_step`` or the JAX trainer's ``_jax_state``:
update ``keras_relu_family/_keras_private.py``.
"""

from __future__ import annotations

import re
import warnings

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from keras_relu_family import _keras_private
from tests._integration_helpers import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "keras_relu_family"


def test_activation_table_is_where_keras_resolves_strings():
    """keras.activations.get resolves strings from exactly the table we write to."""
    from keras.src import activations as keras_activations

    table = _keras_private.activation_table()
    assert table is keras_activations.ALL_OBJECTS_DICT
    assert table["relu"] is keras.activations.relu

    def probe(x):
        return x

    key = "krf_test_probe_not_an_activation"
    assert key not in table
    table[key] = probe
    try:
        assert keras.activations.get(key) is probe
    finally:
        del table[key]
    with pytest.raises(ValueError, match=key):
        keras.activations.get(key)


def test_uniquify_is_the_counter_keras_layers_use():
    """Our default layer names and Keras's share one counter, so they never collide."""
    from keras.src.utils import naming

    assert _keras_private._private_naming is naming
    ours = krf.ELU()
    theirs = keras.layers.ELU()
    again = krf.ELU()
    assert len({ours.name, theirs.name, again.name}) == 3
    assert all(re.fullmatch(r"elu(_\d+)?", layer.name) for layer in (ours, theirs, again))


def test_missing_table_fails_loudly_but_import_survives(monkeypatch):
    monkeypatch.setattr(_keras_private, "_private_activations", None)
    with pytest.raises(RuntimeError, match="ALL_OBJECTS_DICT"):
        _keras_private.activation_table()
    with pytest.warns(RuntimeWarning, match="activation strings like 'krf_relu' are unavailable"):
        _keras_private.register_activation_strings({"krf_test_never_added": krf.relu})


def test_unique_layer_name_falls_back_to_public_uid(monkeypatch):
    monkeypatch.setattr(_keras_private, "_private_naming", None)
    first = _keras_private.unique_layer_name("krf_fallback_probe")
    second = _keras_private.unique_layer_name("krf_fallback_probe")
    assert (first, second) == ("krf_fallback_probe", "krf_fallback_probe_1")


def test_refuses_to_overwrite_a_keras_name_and_adds_nothing():
    table = _keras_private.activation_table()
    before = dict(table)
    with pytest.raises(RuntimeError, match=r"Refusing to overwrite .*'relu'.*Received: key='relu'"):
        _keras_private.register_activation_strings(
            {"krf_test_would_be_new": krf.relu, "relu": krf.relu}
        )
    assert table == before
    assert table["relu"] is keras.activations.relu


def test_reregistering_the_same_functions_is_a_no_op():
    table = _keras_private.activation_table()
    before = dict(table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _keras_private.register_activation_strings(krf.registry.string_table())
    assert table == before


def test_only_keras_private_touches_keras_src():
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in PACKAGE_DIR.rglob("*.py")
        if path.name != "_keras_private.py" and "keras.src" in path.read_text()
    ]
    assert offenders == []


# -- the train state of Keras's trainers (GradientMonitor on JAX and PyTorch) ------------


def _small_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_added_state_is_in_the_lists_the_trainers_read_and_comes_out_again():
    model = _small_model()
    model.optimizer.build(model.trainable_variables)
    extra_model, extra_opt = keras.Variable(0.0, trainable=False), keras.Variable(0.0)
    _keras_private.add_state(model, [extra_model])
    _keras_private.add_state(model.optimizer, [extra_opt])
    assert any(v is extra_model for v in model.non_trainable_variables)
    assert any(v is extra_opt for v in model.optimizer.variables)
    _keras_private.remove_state(model, [extra_model])
    _keras_private.remove_state(model.optimizer, [extra_opt])
    assert not any(v is extra_model for v in model.non_trainable_variables)
    assert not any(v is extra_opt for v in model.optimizer.variables)


def test_the_optimizer_update_method_gets_every_gradient_of_a_step():
    model = _small_model()
    seen = []
    original = _keras_private.optimizer_update(model.optimizer)

    def update(grads, variables, learning_rate):
        seen.append(len([g for g in grads if g is not None]))
        return original(grads, variables, learning_rate)

    setattr(model.optimizer, _keras_private.OPTIMIZER_UPDATE, update)
    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros((4, 2), "float32"), batch_size=4, epochs=1, verbose=0)
    assert seen and all(n == 2 for n in seen)  # kernel and bias, once per traced/run step


@pytest.mark.skipif(keras.config.backend() != "jax", reason="the JAX trainer's own state")
def test_the_jax_trainer_keeps_its_state_where_the_monitor_reads_it():
    model = _small_model()
    states = []

    class Read(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            states.append(_keras_private.jax_state(self.model))

    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros((4, 2), "float32"), batch_size=2, epochs=1, verbose=0, callbacks=[Read()])
    assert len(states) == 2 and all(isinstance(s, dict) for s in states)
    assert {"trainable_variables", "non_trainable_variables", "optimizer_variables"} <= set(
        states[0]
    )
    assert len(states[0]["trainable_variables"]) == 2
