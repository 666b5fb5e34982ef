"""Keras-style layer tests for every registry entry, plus argument validation.

Each layer, with non-default arguments: config round trip, build, symbolic and
eager call, masking, output shape, one ``fit`` step (after keras's own
``run_layer_test``); its defaults and formula agree with its function.
"""

from __future__ import annotations

import inspect
import re

import keras
import numpy as np
import pytest
from _family_helpers import dtype_of, tensor, to_numpy

import keras_relu_family as krf

SPECS = [krf.REGISTRY[name] for name in krf.available()]
IDS = krf.available()
SHAPE = (4, 6)


def _function_params(layer):
    """The function arguments equivalent to a built layer: its fixed arguments and weights."""
    return {**layer.arguments, **{w.name: w for w in layer.weights}}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_round_trips_its_config(spec):
    layer = spec.layer(**spec.layer_kwargs)
    config = layer.get_config()
    for key in spec.layer_kwargs:
        assert key in config
    clone = spec.layer.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is spec.layer
    assert restored.get_config() == config


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_builds_and_calls_symbolically_and_eagerly(spec):
    layer = spec.layer(**spec.layer_kwargs)
    inputs = keras.Input(SHAPE)
    outputs = layer(inputs)
    assert tuple(outputs.shape) == (None, *SHAPE)
    assert layer.compute_output_shape((None, *SHAPE)) == (None, *SHAPE)
    x = tensor(np.linspace(-4.0, 4.0, 2 * 24).reshape(2, *SHAPE))
    y = layer(x)
    assert dtype_of(y) == "float32" and y.shape == x.shape
    expected = spec.function(x, **_function_params(layer))
    np.testing.assert_array_equal(to_numpy(y), to_numpy(expected))
    assert len(layer.trainable_weights) == len(spec.trainable)  # layer_kwargs train them all


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_passes_masks_through(spec):
    layer = spec.layer(**spec.layer_kwargs)
    assert layer.supports_masking
    inputs = keras.Input(SHAPE)
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    outputs = layer(masked)
    model = keras.Model(inputs, outputs)
    x = np.ones((2, *SHAPE), np.float32)
    x[0, 1] = 0.0
    mask = layer.compute_mask(tensor(x), keras.ops.convert_to_tensor(x.any(axis=-1)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(mask), x.any(axis=-1))
    assert model(x).shape == x.shape


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_trains_one_step(spec):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Dense(6),
            spec.layer(**spec.layer_kwargs),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, *SHAPE)).astype("float32")
    history = model.fit(x, np.zeros((8, 4, 1), "float32"), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_default_name_is_readable(spec):
    name = spec.layer().name
    assert name == spec.name or name.startswith(spec.name + "_"), name


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_layer_and_function_share_defaults_and_formula(spec):
    layer_defaults = {
        k: p.default
        for k, p in inspect.signature(spec.layer.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for key, value in spec.defaults.items():
        if key in layer_defaults:
            assert layer_defaults[key] == value, key
    assert spec.formula and spec.formula in inspect.cleandoc(inspect.getdoc(spec.layer))


def test_prelu_default_alpha_is_a_quarter():
    layer = krf.PReLU()
    layer.build((None, 3))
    np.testing.assert_array_equal(to_numpy(layer.alpha), [0.25, 0.25, 0.25])


def test_prelu_shared_axes_after_conv2d_trains():
    keras.utils.set_random_seed(1)
    prelu = krf.PReLU(shared_axes=[1, 2])
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3),
            prelu,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1),
        ]
    )
    assert tuple(prelu.alpha.shape) == (1, 1, 4)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    y = (x.mean(axis=(1, 2)) ** 2).astype("float32")
    before = to_numpy(prelu.alpha).copy()
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert not np.allclose(to_numpy(prelu.alpha), before)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_swish_trainable_beta_trains():
    keras.utils.set_random_seed(2)
    swish = krf.Swish(beta=0.5, trainable_beta=True)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8), swish, keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(128, 3)).astype("float32")
    y = np.abs(x).sum(axis=1, keepdims=True).astype("float32")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert float(to_numpy(swish.beta_weight)) != 0.5
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def _bad_values(default) -> list:
    """Wrong values for an argument whose default is ``default``: None, a string, a bool, NaN..."""
    if isinstance(default, bool):
        return [None, 1, "yes"]
    return [None, "0.5", True, float("nan"), float("inf"), [0.5]]


BAD_ARGUMENTS = [
    (spec, name, bad)
    for spec in SPECS
    for name, default in spec.defaults.items()
    if name in spec.layer._argument_names and isinstance(default, (bool, float))
    for bad in _bad_values(default)
]


@pytest.mark.parametrize(
    ("spec", "name", "bad"),
    BAD_ARGUMENTS,
    ids=[f"{spec.name}-{name}={bad!r}" for spec, name, bad in BAD_ARGUMENTS],
)
def test_every_wrong_argument_value_raises_value_error_naming_it(spec, name, bad):
    match = re.escape(f"Received: {name}={bad!r}")
    with pytest.raises(ValueError, match=match):
        spec.layer(**{name: bad})
    with pytest.raises(ValueError, match=match):
        spec.function(tensor([1.0]), **{**spec.param_sets[0], name: bad})


# Arguments whose default equals a value of another type that the checks refuse (False
# and 0, 1.0 and True: equal, and equal hashes).
TWINS = [
    (spec, name, default, int(default) if isinstance(default, bool) else bool(default))
    for spec in SPECS
    for name, default in spec.defaults.items()
    if name in spec.layer._argument_names
    and (isinstance(default, bool) or (isinstance(default, float) and default in (0.0, 1.0)))
]


@pytest.mark.parametrize(
    ("spec", "name", "default", "twin"),
    TWINS,
    ids=[f"{spec.name}-{name}={default!r}-then-{twin!r}" for spec, name, default, twin in TWINS],
)
def test_a_wrong_value_equal_to_a_right_one_called_before_is_still_refused(
    spec, name, default, twin
):
    # The function remembers the checked arguments of calls it has seen: by value and type.
    arguments = {**spec.param_sets[0], name: default}
    for _ in range(2):
        spec.function(tensor([1.0]), **arguments)
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={twin!r}")):
        spec.function(tensor([1.0]), **{**arguments, name: twin})


@pytest.mark.parametrize("first", [0.0, -0.0], ids=["0.0 first", "-0.0 first"])
def test_a_zero_argument_keeps_its_sign_after_a_call_with_the_other_zero(first):
    # 0.0 == -0.0 with equal hashes: the calls' caches (the functions' and the backends')
    # must not hand one the other's arguments. threshold writes `value` itself; a leaky
    # slope of -0.0 makes +0 of a negative x, one of 0.0 makes -0.
    x = tensor([-1.0, 2.0])
    for value in (first, -first):
        below = to_numpy(krf.threshold(x, threshold=0.5, value=value))[0]
        assert np.signbit(below) == np.signbit(value), (first, value)
        negative = to_numpy(krf.leaky_relu(x, negative_slope=value))[0]
        assert np.signbit(negative) != np.signbit(value), (first, value)


def test_twins_cover_both_kinds_of_argument():
    assert {type(default) for _, _, default, _ in TWINS} == {bool, float}, TWINS


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: krf.ELU(alpha=-1.0), r"`alpha` must be >= 0.0. Received: alpha=-1.0"),
        (lambda: krf.CELU(alpha=0.0), r"`alpha` must be > 0.0. Received: alpha=0.0"),
        (lambda: krf.RReLU(lower=0.5, upper=0.1), r"Received: lower=0.5, upper=0.1"),
        (lambda: krf.RReLU(lower=-0.1), r"`lower` must be >= 0.0. Received: lower=-0.1"),
        (lambda: krf.LeakyReLU(negative_slope=-0.2), r"Received: negative_slope=-0.2"),
        (lambda: krf.LeakyReLU(negative_slope=None), r"Received: negative_slope=None"),
        (lambda: krf.Softplus(beta=0.0), r"`beta` must be > 0.0. Received: beta=0.0"),
        (lambda: krf.Softplus(threshold=-1), r"Received: threshold=-1"),
        (lambda: krf.PReLU(shared_axes=[0]), r"Received: shared_axes=\[0\]"),
        (lambda: krf.PReLU(shared_axes="1"), r"Received: shared_axes='1'"),
        (lambda: krf.ReLU(max_value=-1.0), r"`max_value` must be >= 0.0. Received: max_value=-1.0"),
        (lambda: krf.ReLU(threshold=-0.5), r"Received: threshold=-0.5"),
        (lambda: krf.ReLU(negative_slope=-1), r"Received: negative_slope=-1"),
        (lambda: krf.ReLU(max_value=float("nan")), r"finite. Received: max_value=nan"),
        (lambda: krf.HardTanh(min_val=2.0, max_val=1.0), r"Received: min_val=2.0, max_val=1.0"),
        (lambda: krf.Squareplus(b=-1.0), r"`b` must be >= 0.0. Received: b=-1.0"),
        (lambda: krf.Swish(trainable_beta="yes"), r"Received: trainable_beta='yes'"),
        (lambda: krf.Swish(beta=float("inf")), r"Received: beta=inf"),
        (lambda: krf.RReLU(seed=1.5), r"Received: seed=1.5"),
        (lambda: krf.relu([1.0], max_value=-1.0), r"Received: max_value=-1.0"),
        (lambda: krf.hard_tanh([1.0], 1.0, -1.0), r"Received: min_val=1.0, max_val=-1.0"),
        (lambda: krf.squareplus([1.0], b=-0.1), r"Received: b=-0.1"),
        (lambda: krf.swish([1.0], beta=None), r"Received: beta=None"),
        (lambda: krf.elu([1.0], alpha=-1.0), r"Received: alpha=-1.0"),
        (lambda: krf.rrelu([1.0], lower=0.5, upper=0.1), r"Received: lower=0.5, upper=0.1"),
        (lambda: krf.leaky_relu([1.0], negative_slope=None), r"Received: negative_slope=None"),
    ],
)
def test_out_of_range_values_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_prelu_shared_axis_out_of_range_fails_at_build():
    with pytest.raises(ValueError, match=r"between 1 and 2 .*Received: shared_axes=\[3\]"):
        krf.PReLU(shared_axes=[3])(keras.Input((4, 6)))


def test_prelu_needs_known_sizes_on_unshared_axes():
    with pytest.raises(ValueError, match=r"Received: input_shape=\(None, None, 6\)"):
        krf.PReLU()(keras.Input((None, 6)))
    assert krf.PReLU(shared_axes=[1])(keras.Input((None, 6))).shape[-1] == 6


def test_registry_lookup():
    assert krf.available() == sorted(krf.REGISTRY)
    assert krf.get("elu") is krf.elu
    with pytest.raises(ValueError, match=r"Expected one of \['celu', .*Received: name='relu7'"):
        krf.get("relu7")


def test_rrelu_layer_is_random_only_in_training():
    layer = krf.RReLU(seed=3)
    x = -keras.ops.ones((1, 200))
    np.testing.assert_allclose(layer(x, training=False), -np.full((1, 200), (1 / 8 + 1 / 3) / 2))
    a, b = to_numpy(layer(x, training=True)), to_numpy(layer(x, training=True))
    assert not np.array_equal(a, b) and (-a >= 1 / 8).all() and (-a < 1 / 3).all()
