"""``.keras`` files: layer-instance activations, and every layer and string in a fresh process."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from tests._integration_helpers import (
    REPO_ROOT,
    TESTS_DIR,
    branch_names,
    branch_targets,
    every_activation_model,
    loss_gradients,
    optimizer_state,
    regression_data,
    run_python,
    string_names,
    weights_by_path,
)

TRAINABLE = [spec for spec in krf.REGISTRY.values() if spec.trainable]
LEARNING_RATE = 0.05


def _trainable_weights(layer) -> dict:
    return {v.name: v.numpy().copy() for v in layer.trainable_weights}


def test_layer_instances_as_activation_train_and_survive_save(tmp_path):
    """Dense(8, activation=krf.PReLU()) learns alpha, and a .keras file keeps it.

    One Dense per activation with trainable parameters (PReLU, Swish with
    ``trainable_beta``), taken from the registry.
    """
    x, y = regression_data(64)
    keras.utils.set_random_seed(1)
    hidden = [
        keras.layers.Dense(8, activation=spec.layer(**spec.layer_kwargs), name=f"dense_{spec.name}")
        for spec in TRAINABLE
    ]
    model = keras.Sequential([keras.Input((x.shape[1],)), *hidden, keras.layers.Dense(1)])
    model(x[:1])  # builds the activations (Dense.build does not)
    initial = {
        spec.name: _trainable_weights(d.activation)
        for spec, d in zip(TRAINABLE, hidden, strict=True)
    }
    for spec in TRAINABLE:
        assert set(initial[spec.name]) == set(spec.trainable)
    model.compile(keras.optimizers.SGD(0.05), "mse")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    trained = {
        spec.name: _trainable_weights(d.activation)
        for spec, d in zip(TRAINABLE, hidden, strict=True)
    }
    for spec in TRAINABLE:
        for name in spec.trainable:
            moved = np.abs(trained[spec.name][name] - initial[spec.name][name]).max()
            assert moved > 1e-3, f"{spec.name}.{name} did not train"

    model.save(tmp_path / "instances.keras")
    loaded = keras.saving.load_model(tmp_path / "instances.keras")
    for spec in TRAINABLE:
        restored = loaded.get_layer(f"dense_{spec.name}").activation
        assert type(restored) is spec.layer
        assert (
            restored.get_config() == model.get_layer(f"dense_{spec.name}").activation.get_config()
        )
        for name, value in _trainable_weights(restored).items():
            np.testing.assert_array_equal(value, trained[spec.name][name])
    np.testing.assert_array_equal(loaded(x), model(x))


def _noisy_branch_variables(weights: dict) -> set:
    """Variables of the branches whose layer draws noise in training (RReLU).

    A ``.keras`` file does not store a ``keras.random.SeedGenerator``'s state
    (Keras's own ``Dropout`` is the same), so after loading the noise restarts
    from the layer's seed, and these branches take a different training step.
    """
    noisy = [
        name
        for name, spec in krf.REGISTRY.items()
        if hasattr(spec.layer(**spec.layer_kwargs), "seed_generator")
    ]
    return {path for path in weights if path.split("/")[0] in {f"dense_{n}" for n in noisy}}


@pytest.fixture(scope="module")
def fresh_process(tmp_path_factory):
    """Trains the every-activation model two steps, saves it and runs the child on it.

    Returns what this process expects and what the fresh process saw.
    """
    workdir = tmp_path_factory.mktemp("keras_file")
    x, _ = regression_data(48)
    y = branch_targets(x, len(branch_names()))
    keras.utils.set_random_seed(0)
    # Head-less: each branch has its own loss terms, so RReLU's noise moves its branch only.
    model = every_activation_model(head=False)
    # SGD with momentum: optimizer state (a momentum per variable) with few ops to trace.
    model.compile(keras.optimizers.SGD(LEARNING_RATE, momentum=0.9), "mse")
    initial = weights_by_path(model)
    # Two steps, so the optimizer state (iterations, momentums) is not trivial.
    model.fit(x[:32], y[:32], batch_size=16, epochs=1, shuffle=False, verbose=0)
    model.save(workdir / "model.keras")
    x_step, y_step = x[32:], y[32:]
    expected = {
        "initial": initial,
        "outputs": keras.ops.convert_to_numpy(model(x, training=False)),
        "weights": weights_by_path(model),
        "gradients": loss_gradients(model, x, y),
        "optimizer": optimizer_state(model),
    }
    model.fit(x_step, y_step, batch_size=len(x_step), epochs=1, shuffle=False, verbose=0)
    expected["after_step"] = weights_by_path(model)
    data = {"x": x, "y": y, "x_step": x_step, "y_step": y_step}
    (workdir / "data.pkl").write_bytes(pickle.dumps(data))

    run_python(TESTS_DIR / "_child_keras_file.py", str(workdir))
    child = pickle.loads((workdir / "child.pkl").read_bytes())
    return expected, child


def test_fresh_process_imported_this_checkout(fresh_process):
    _, child = fresh_process
    assert child["package_file"].startswith(str(REPO_ROOT))


def test_import_changes_no_existing_activation_string(fresh_process):
    """In the fresh process, Keras's table before and after `import keras_relu_family`."""
    _, child = fresh_process
    before, after = child["table_before"], child["table_after"]
    assert {key: after[key] for key in before} == before
    assert set(after) - set(before) == set(string_names())
    assert not set(before) & set(string_names())


def test_every_layer_and_string_comes_back_as_itself(fresh_process):
    _, child = fresh_process
    for spec in krf.REGISTRY.values():
        layer = spec.layer
        assert child["layers"][f"layer_{spec.name}"] == f"{layer.__module__}.{layer.__qualname__}"
    for name in string_names():
        spec_name = name.removeprefix("krf_").removeprefix("keras_relu_family>")
        layer_name = "string_" + name.replace(">", "_")
        assert child["activations"][layer_name] == f"keras_relu_family>{spec_name}"
    wrappers = {"x", "branches", "dense_strings"}
    branch_denses = {f"dense_{spec.name}" for spec in krf.REGISTRY.values()}
    assert set(child["layers"]) - wrappers - branch_denses == {
        f"layer_{spec.name}" for spec in krf.REGISTRY.values()
    } | {"string_" + name.replace(">", "_") for name in string_names()}


def test_identical_weights_outputs_and_gradients(fresh_process):
    expected, child = fresh_process
    assert child["weights"].keys() == expected["weights"].keys()
    for path, value in expected["weights"].items():
        np.testing.assert_array_equal(child["weights"][path], value, err_msg=path)
    # The trainable activation parameters are restored, and were trained (not initial).
    for spec in TRAINABLE:
        for name in spec.trainable:
            path = f"layer_{spec.name}/{name}"
            assert not np.array_equal(expected["weights"][path], expected["initial"][path])
            np.testing.assert_array_equal(child["weights"][path], expected["weights"][path])
    np.testing.assert_array_equal(child["outputs"], expected["outputs"])
    assert child["gradients"].keys() == expected["gradients"].keys()
    for path, value in expected["gradients"].items():
        np.testing.assert_array_equal(child["gradients"][path], value, err_msg=path)


def test_fit_resumes_from_the_saved_optimizer_state(fresh_process):
    expected, child = fresh_process
    assert child["optimizer_class"] == "SGD"
    assert child["optimizer"].keys() == expected["optimizer"].keys()
    for path, value in expected["optimizer"].items():
        np.testing.assert_array_equal(child["optimizer"][path], value, err_msg=path)
    assert child["iterations"] == 2
    # One more step on the reloaded model == one more step on the original...
    noisy = _noisy_branch_variables(expected["after_step"])
    assert noisy, "expected RReLU's branch among the variables"
    for path, value in expected["after_step"].items():
        if path in noisy:
            continue
        np.testing.assert_array_equal(child["after_step"][path], value, err_msg=path)
    # ...and differs from a step with a fresh optimizer, so the state mattered.
    gap = max(
        np.abs(child["fresh_optimizer_step"][path] - value).max()
        for path, value in expected["after_step"].items()
    )
    assert gap > 1e-3
