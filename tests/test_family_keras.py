"""The family as Keras expects it: Keras's own layer test, symbolic calls, Keras's relu.

- every layer passes ``keras.src.testing.TestCase.run_layer_test`` with all of
  its checks on (config and serialization, build, symbolic and eager calls,
  masking, weights and seed generators, one ``fit`` step, mixed precision),
  and its output equals the numpy reference;
- every layer without weights is built at construction, as Keras's are;
- every function takes a ``KerasTensor`` and returns one, so a functional
  model built only from the functions trains, saves and reloads;
- ``relu`` with Keras's arguments gives ``keras.activations.relu``'s values
  bit for bit, and every function is close to Keras's own version.

All generated from the registry.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from _family_helpers import CASE_IDS, CASES, DTYPES, inputs, ordinary, tensor, to_numpy
from keras.src.testing import TestCase  # Keras's own layer test harness

import keras_relu_family as krf
from tests._integration_helpers import reference_params

SPECS = [krf.REGISTRY[name] for name in krf.available()]
IDS = krf.available()
SHAPE = (2, 3, 4)


def _builds_late(spec) -> bool:
    """A layer whose weights need the input's shape (PReLU) is built by its first call."""
    return "build" in vars(spec.layer)


def _harness() -> TestCase:
    case = TestCase()
    case.setUp()
    return case


# Keras's harness trains on a generator with fit's default shuffle=True, and trains
# weightless layers: Keras warns about both, for its own layers too.
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning")
@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights:UserWarning")
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_keras_layer_test_with_every_check(spec):
    layer = spec.layer(**spec.layer_kwargs)
    layer.build((None, *SHAPE[1:]))
    seed = "seed" in inspect.signature(spec.function).parameters
    _harness().run_layer_test(
        spec.layer,
        init_kwargs=dict(spec.layer_kwargs),
        input_shape=SHAPE,
        expected_output_shape=SHAPE,
        expected_output_dtype="float32",
        expected_num_trainable_weights=len(spec.trainable),
        expected_num_non_trainable_weights=0,
        # A seed generator keeps its state in one non-trainable variable.
        expected_num_non_trainable_variables=int(seed),
        expected_num_seed_generators=int(seed),
        expected_num_losses=0,
        supports_masking=True,
        run_training_check=True,
        run_mixed_precision_check=True,
        assert_built_after_instantiation=not _builds_late(spec),
    )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_keras_layer_test_output_equals_the_numpy_reference(spec):
    x = np.random.default_rng(0).uniform(-4.0, 4.0, SHAPE).astype("float32")
    layer = spec.layer(**spec.layer_kwargs)
    layer.build(x.shape)
    expected = spec.numpy_forward(x.astype("float64"), **reference_params(spec, layer))
    _harness().run_layer_test(
        spec.layer,
        init_kwargs=dict(spec.layer_kwargs),
        input_data=x,
        expected_output=keras.ops.convert_to_tensor(expected.astype("float32")),
        supports_masking=True,
        run_training_check=False,
        run_mixed_precision_check=False,
    )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layers_without_input_dependent_weights_are_built_at_construction(spec):
    for kwargs in ({}, dict(spec.layer_kwargs)):
        layer = spec.layer(**kwargs)
        assert layer.built is not _builds_late(spec), kwargs
        if _builds_late(spec):
            assert not layer.weights  # its weights need the input shape
        else:
            assert len(layer.trainable_weights) == len(layer.weights)


# -- symbolic calls ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_function_on_keras_input_returns_a_keras_tensor(spec, params, dtype):
    x = keras.Input((5, 3), dtype=dtype)
    y = spec.function(x, **params)
    assert isinstance(y, keras.KerasTensor)
    assert tuple(y.shape) == (None, 5, 3) and y.dtype == dtype


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_symbolic_integer_input_is_refused_like_an_eager_one(spec):
    with pytest.raises(TypeError, match=rf"{spec.name} expects a floating-point input"):
        spec.function(keras.Input((3,), dtype="int32"), **spec.param_sets[0])


def _function_model() -> keras.Model:
    """One branch per parameter set: Dense, then the function on the symbolic tensor."""
    inputs = keras.Input((4,), name="x")
    branches = []
    for i, (spec, params) in enumerate(CASES):
        dense = keras.layers.Dense(4, name=f"dense_{i}")(inputs)
        branches.append(spec.function(dense, **params))
    outputs = keras.layers.Dense(1, name="head")(keras.layers.Concatenate()(branches))
    return keras.Model(inputs, outputs)


def test_functional_model_of_functions_trains_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = _function_model()
    rng = np.random.default_rng(0)
    x = rng.uniform(-3.0, 3.0, (64, 4)).astype("float32")
    y = np.sin(x).sum(axis=1, keepdims=True).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "functions.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    names = [type(op).__name__ for op in reloaded.operations]
    assert names.count("ActivationOp") == len(CASES)


def test_parameters_as_keras_tensors_and_variables_work_symbolically(tmp_path):
    x_in = keras.Input((6,), name="x")
    alpha_in = keras.Input((6,), name="alpha")
    alpha_var = keras.Variable(np.full((6,), 0.3, "float32"), name="alpha_var")
    beta = keras.ops.convert_to_tensor(1.5)
    outputs = [
        krf.prelu(x_in, alpha_in),
        krf.prelu(x_in, alpha_var),
        krf.swish(x_in, beta=beta),
        krf.prelu(x_in, alpha=np.full((6,), -0.2, "float32")),
    ]
    model = keras.Model([x_in, alpha_in], outputs)
    x = np.linspace(-3.0, 3.0, 12).reshape(2, 6).astype("float32")
    alpha = np.full((2, 6), 0.1, "float32")
    got = [to_numpy(t) for t in model([x, alpha])]
    ref = krf.REGISTRY["prelu"].numpy_forward
    np.testing.assert_allclose(got[0], ref(x, alpha), rtol=1e-7)
    np.testing.assert_allclose(got[1], ref(x, 0.3), rtol=1e-6)
    np.testing.assert_allclose(got[2], krf.REGISTRY["swish"].numpy_forward(x, 1.5), rtol=1e-6)
    np.testing.assert_allclose(got[3], ref(x, -0.2), rtol=1e-6)
    model.save(tmp_path / "params.keras")
    reloaded = keras.saving.load_model(tmp_path / "params.keras")
    for a, b in zip(reloaded([x, alpha]), got, strict=True):
        np.testing.assert_array_equal(to_numpy(a), b)


# -- Keras's own versions ----------------------------------------------------------------

RELU_CASES = [(p, i) for (s, p), i in zip(CASES, CASE_IDS, strict=True) if s.name == "relu"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "params",
    [p for p, _ in RELU_CASES],
    ids=[i for _, i in RELU_CASES],
)
def test_relu_gives_keras_values_bit_for_bit(params, dtype):
    x = inputs(dtype)  # tails, zeros, the kinks' neighbourhood; no NaN (Keras drops it)
    x = np.concatenate([x, [0.5, 6.0, 1.0, 2.0, -0.5]])
    xt = tensor(x, dtype)
    ours = to_numpy(krf.relu(xt, **params))
    theirs = to_numpy(keras.activations.relu(xt, **params))
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_forward_is_close_to_the_frameworks_own(spec, params):
    builtin_params = dict(params)
    x = ordinary().astype("float32")
    ours = to_numpy(spec.function(tensor(x), **params))
    theirs = to_numpy(spec.builtin(tensor(x), **builtin_params))
    # The built-ins round on their own (exp(x) - 1, 1 + erf): the strict checks are numpy's.
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-5)
