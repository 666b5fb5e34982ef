"""SavedModel export for serving (in a process without the package), and TFLite.

``model.export`` and ``tf.saved_model.save`` write the custom gradients into
the SavedModel because ``tf.saved_model.SaveOptions(experimental_custom_gradients=True)``
is TensorFlow's default; the third SavedModel here is written with it off, and
its gradients cannot be taken at all.
"""

from __future__ import annotations

import pickle
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_relu_family as krf
from tests._integration_helpers import (
    TESTS_DIR,
    branch_names,
    every_activation_model,
    kink_grid,
    reference_derivative,
    reference_params,
    regression_data,
    run_python,
)

WIDTH = 4
SAVED = ("export", "saved_model_save")


def _branch_reference(model, name):
    """(spec, numpy parameters) of the branch ``name`` of the every-activation model."""
    if name in krf.REGISTRY:
        spec = krf.REGISTRY[name]
        return spec, reference_params(spec, model.get_layer(f"layer_{name}"))
    spec_name = name.removeprefix("krf_").removeprefix("keras_relu_family>")
    return krf.REGISTRY[spec_name], {}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("savedmodel")
    keras.utils.set_random_seed(0)
    # Identity kernels: each branch outputs exactly activation(x), so the
    # gradient with respect to x is the activation's derivative.
    model = every_activation_model(WIDTH, identity=True, head=False)
    x = kink_grid(WIDTH)
    names = branch_names()
    np.savez(workdir / "inputs.npz", x=x, width=WIDTH, n_branches=len(names))
    model.export(str(workdir / "export"), verbose=False)
    tf.saved_model.save(model, str(workdir / "saved_model_save"))
    # The save option, shown on a one-layer model (a big one only costs time).
    relu_only = keras.Sequential([keras.Input((WIDTH,)), krf.ReLU()])
    tf.saved_model.save(
        relu_only,
        str(workdir / "without_custom_gradients"),
        options=tf.saved_model.SaveOptions(experimental_custom_gradients=False),
    )
    run_python(TESTS_DIR / "_child_savedmodel.py", str(workdir))
    child = pickle.loads((workdir / "child.pkl").read_bytes())
    # The model's own outputs, eagerly (see test_serving_signature_gives_the_same_outputs).
    child["expected_outputs"] = keras.ops.convert_to_numpy(model(x))
    child["relu_only_outputs"] = relu_only.predict(x, batch_size=len(x), verbose=0)
    return model, x, names, child


def test_package_was_not_importable_in_the_serving_process(served):
    *_, child = served
    assert child["import_error"].startswith("ImportError")
    assert child["import_error_at_end"].startswith("ImportError")
    assert child["package_modules"] == []


@pytest.mark.parametrize("how", SAVED)
def test_serving_signature_gives_the_same_outputs(served, how):
    """The served graph computes what the model computes eagerly, to float32 rounding.

    Not bit for bit (graph optimizations change some roundings), and not
    against ``predict``: in an inference graph TensorFlow's optimizer
    (grappler's remapper, with oneDNN on the CPU) may fuse a ``Dense`` and the
    GELU after it into one kernel of its own, which computes 1 + erf and so
    loses GELU's lower tail (-1.19e-6 for -1.43e-6 at x = -4.9; -0.0 for
    -9e-12 at x = -7). Whether it fuses depends on the CPU and on the graph.
    """
    _, _, _, child = served
    np.testing.assert_allclose(
        child[how]["outputs"], child["expected_outputs"], rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("how", SAVED)
def test_gradients_through_the_loaded_function_are_the_packages(served, how):
    model, x, names, child = served
    assert "gradient_error" not in child[how]
    assert len(child[how]["dx"]) == len(names)
    for name, dx in zip(names, child[how]["dx"], strict=True):
        spec, params = _branch_reference(model, name)
        expected, _ = reference_derivative(spec, x, params)
        np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-6, err_msg=name)
    # The convention that tells our gradient from TensorFlow's: relu'(0) = 1, tf.nn.relu's is 0.
    at_zero = x == 0.0
    assert at_zero.any()
    relu_dx = child[how]["dx"][names.index("krf_relu")]  # the string: relu's defaults
    assert (relu_dx[at_zero] == 1.0).all()
    assert (child["tf_relu_dx"][at_zero] == 0.0).all()


def test_parameter_gradients_through_the_exported_function(served):
    model, x, _, child = served
    dparam = child["export"]["dparam"]
    trainable = {p: spec for spec in krf.REGISTRY.values() for p in spec.trainable}
    assert set(dparam) == set(trainable)
    for param, spec in trainable.items():
        _, expected = reference_derivative(spec, x, _branch_reference(model, spec.name)[1])
        np.testing.assert_allclose(dparam[param].sum(), expected.sum(), rtol=1e-5, err_msg=param)


def test_without_experimental_custom_gradients_there_is_no_gradient(served):
    _, _, _, child = served
    report = child["without_custom_gradients"]
    np.testing.assert_array_equal(report["outputs"], child["relu_only_outputs"])
    assert report["gradient_error"].startswith("LookupError: No gradient defined")
    assert "IdentityN" in report["gradient_error"]


def _tflite_interpreter(content: bytes):
    """LiteRT's interpreter where installed, else TensorFlow's (deprecated, still shipped)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", "(?s).*tf.lite.Interpreter is deprecated", UserWarning
            )
            return tf.lite.Interpreter(model_content=content)
    return Interpreter(model_content=content)


def test_tflite_conversion_matches_keras():
    model = every_activation_model(WIDTH, head=False)
    tflite = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    interpreter = _tflite_interpreter(tflite)
    x = np.concatenate([kink_grid(WIDTH), regression_data(32, WIDTH)[0]])
    (input_details,) = interpreter.get_input_details()
    (output_details,) = interpreter.get_output_details()
    interpreter.resize_tensor_input(input_details["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_details["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(output_details["index"])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5)
