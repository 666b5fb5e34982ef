"""GradientMonitor on every backend: the logged values against independent computations.

Written once for Keras's three backends (``KERAS_BACKEND``): with the
learning rate at 0 and ``shuffle=False``, every logged gradient norm equals
the backend's own autodiff of the same loss on the same batch (a
``tf.GradientTape``, ``jax.grad`` of ``model.stateless_call``,
``torch.autograd.grad``), to 1e-5 relative; ``update_ratio`` equals
``||w_after - w_before|| / ||w_before||`` from the weights around a step,
for SGD and Adam; forced-dead units read 0.5 (in subclassed models too) and
a unit that fires in one step of the window reads alive; the tags name the
layers; under mixed precision the norms are unscaled. On PyTorch also under ``jit_compile=True``
(``torch.compile``). On JAX, under ``keras.distribution.DataParallel`` over
two CPU devices, and over two processes on 127.0.0.1
(``keras.distribution.initialize``), the logged norms are the global batch's.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_relu_family as krf
from tests._monitor_helpers import read_scalars

BACKEND = keras.config.backend()
BATCH, N = 8, 32
MODES = [False, True] if BACKEND == "torch" else [False]


def data(seed=0, n=N):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, rng.normal(size=(n, 2)).astype("float32")


def mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            krf.ReLU(name="rect"),
            keras.layers.Dense(2, name="out"),
        ],
        name="net",
    )


def gradients(model, x, y) -> list:
    """d mean((model(x) - y)^2) / d w for every trainable variable, by the backend's autodiff."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
    elif BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in model.trainable_variables]
        fixed = [v.value for v in model.non_trainable_variables]

        def loss(values):
            out, _ = model.stateless_call(values, fixed, x, training=True)
            return jnp.mean(jnp.square(out - y))

        grads = jax.grad(loss)(trainable)
    else:
        import torch

        params = [v.value for v in model.trainable_variables]
        loss = torch.mean(torch.square(model(x, training=True) - torch.as_tensor(y)))
        grads = torch.autograd.grad(loss, params)
    return [np.asarray(keras.ops.convert_to_numpy(g), np.float64) for g in grads]


def expected_norms(model, x, y) -> dict:
    out, total = {}, 0.0
    for v, g in zip(model.trainable_variables, gradients(model, x, y), strict=True):
        path = v.path.rsplit("/", 1)[0]
        out[path] = out.get(path, 0.0) + float(np.sum(g * g))
        total += float(np.sum(g * g))
    return {**{k: np.sqrt(s) for k, s in out.items()}, "global": np.sqrt(total)}


def fit(model, monitor, optimizer=None, jit=False, x=None, y=None, epochs=1):
    if x is None:
        x, y = data()
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.0), loss="mse", jit_compile=jit)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, callbacks=[monitor], verbose=0)
    return x, y


@pytest.mark.parametrize("jit", MODES, ids=lambda j: "compiled" if j else "default")
def test_logged_norms_equal_the_backends_autodiff(tmp_path, jit):
    model = mlp()
    x, y = fit(model, krf.GradientMonitor(tmp_path, update_freq=1), jit=jit, epochs=2)
    logged = read_scalars(tmp_path)
    steps = sorted(logged["grad_norm/global"])
    assert steps == list(range(1, 2 * N // BATCH + 1))
    for step in steps:
        start = (step - 1) * BATCH % N
        expected = expected_norms(model, x[start : start + BATCH], y[start : start + BATCH])
        for path, value in expected.items():
            got = logged[f"grad_norm/{path}"][step]
            np.testing.assert_allclose(got, value, rtol=1e-5, err_msg=f"{path} step {step}")


def test_keras_keeps_dispatching_steps_asynchronously_with_the_monitor(tmp_path):
    # A callback with its own on_train_batch_end makes Keras wait for every step's logs
    # (CallbackList turns async dispatch off): the monitor marks its steps in the train
    # function instead. This measured 25% of the reference MLP's time on JAX.
    monitor = krf.GradientMonitor(str(tmp_path))
    assert type(monitor).on_train_batch_end is keras.callbacks.Callback.on_train_batch_end
    assert type(monitor).on_batch_end is keras.callbacks.Callback.on_batch_end


def test_tags_name_the_layers_that_compute_the_rectifiers(tmp_path):
    model = mlp()
    fit(model, krf.GradientMonitor(tmp_path, update_freq=2, update_ratios=True))
    tags = set(read_scalars(tmp_path))
    assert {"dead_fraction/net/hidden", "dead_fraction/net/rect"} <= tags
    assert {"grad_norm/net/hidden", "grad_norm/net/out", "update_ratio/net/out"} <= tags
    steps = sorted(read_scalars(tmp_path)["grad_norm/global"])
    assert steps == [2, 4]  # update_freq=2, 4 steps


def kill_half(dense):
    """Half the units of ``dense`` get a bias of -1000 (never fire), half +1000 (always),
    and a zero kernel."""
    kernel, _ = dense.get_weights()
    units = kernel.shape[-1]
    bias = np.where(np.arange(units) < units // 2, -1000.0, 1000.0).astype("float32")
    dense.set_weights([kernel * 0.0, bias])


def forced_dead_model(units=8):
    """A relu Dense with half its units dead (``kill_half``), then a linear output."""
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(units, activation="relu", name="half"),
         keras.layers.Dense(2, name="out")],
        name="net",
    )  # fmt: skip
    kill_half(model.layers[0])
    return model


@pytest.mark.parametrize("jit", MODES, ids=lambda j: "compiled" if j else "default")
def test_forced_dead_half_reads_half(tmp_path, jit):
    model = forced_dead_model()
    fit(model, krf.GradientMonitor(tmp_path, update_freq=2), jit=jit)
    dead = read_scalars(tmp_path)["dead_fraction/net/half"]
    assert dead == {2: 0.5, 4: 0.5}


class Subclassed(keras.Model):
    """A subclassed model (no symbolic outputs): a relu Dense with half its units dead
    (``kill_half``), then a Dense and our ReLU layer, one of whose four units never
    fires."""

    def __init__(self):
        super().__init__(name="net")
        self.hid = keras.layers.Dense(8, activation="relu", name="half")
        self.mid = keras.layers.Dense(4, name="mid")
        self.rect = krf.ReLU(name="quarter")
        self.top = keras.layers.Dense(2, name="out")

    def call(self, x):
        return self.top(self.rect(self.mid(self.hid(x))))

    def force(self):
        kill_half(self.hid)
        kernel, _ = self.mid.get_weights()
        self.mid.set_weights([kernel * 0.0 + 1e-3, np.array([-1e3, 1e3, 1e3, 1e3])])


@pytest.mark.parametrize("jit", MODES, ids=lambda j: "compiled" if j else "default")
def test_a_subclassed_models_rectifiers_get_their_dead_fractions(tmp_path, jit):
    # Their layers have no symbolic output: on JAX and PyTorch the units are found by a
    # symbolic call of the model on the shape it was built with.
    keras.utils.set_random_seed(0)
    model = Subclassed()
    model(data()[0][:BATCH])
    model.force()
    fit(model, krf.GradientMonitor(tmp_path, update_freq=2), jit=jit)
    logged = read_scalars(tmp_path)
    assert logged["dead_fraction/net/half"] == {2: 0.5, 4: 0.5}
    assert logged["dead_fraction/net/quarter"] == {2: 0.25, 4: 0.25}


class TwoInputs(keras.Model):
    def __init__(self):
        super().__init__(name="two")
        self.hid = keras.layers.Dense(8, activation="relu", name="hidden")
        self.top = keras.layers.Dense(2, name="out")

    def call(self, inputs):
        a, b = inputs["a"], inputs["b"]
        return self.top(self.hid(a - b))


def test_a_subclassed_model_with_a_dict_of_inputs_gets_dead_fractions(tmp_path):
    x, y = data()
    inputs = {"a": x, "b": x[::-1]}
    model = TwoInputs()
    model({k: v[:BATCH] for k, v in inputs.items()})
    kill_half(model.hid)
    monitor = krf.GradientMonitor(tmp_path, update_freq=2)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    model.fit(inputs, y, batch_size=BATCH, shuffle=False, callbacks=[monitor], verbose=0)
    logged = read_scalars(tmp_path)
    assert sorted(logged["grad_norm/global"]) == [2, 4]
    assert logged["dead_fraction/two/hidden"] == {2: 0.5, 4: 0.5}


def one_unit_model():
    """One relu unit that passes its input (weight 1, bias 0), then a linear output."""
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, activation="relu", name="one"),
         keras.layers.Dense(1, name="out")],
        name="net",
    )  # fmt: skip
    model.layers[0].set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    return model


def test_a_unit_that_fires_in_one_step_of_the_window_is_alive(tmp_path):
    """Unit 0 fires only for the second batch: alive in the window of steps 1-2, dead after."""
    model = one_unit_model()
    x = np.array([-1.0] * 8 + [1.0] + [-1.0] * 7 + [-1.0] * 16, "float32")[:, None]
    y = np.zeros((32, 1), "float32")
    fit(model, krf.GradientMonitor(tmp_path, update_freq=2), x=x, y=y)
    assert read_scalars(tmp_path)["dead_fraction/net/one"] == {2: 0.0, 4: 1.0}


@pytest.mark.filterwarnings("ignore::keras_relu_family.GradientWarning")  # the NaN loss
@pytest.mark.parametrize("jit", MODES, ids=lambda j: "compiled" if j else "default")
def test_a_nan_step_does_not_undo_a_firing_earlier_in_the_window(tmp_path, jit):
    """Unit 0 fires in step 1 and sees a NaN in step 2: alive in the window of steps 1-2
    (a NaN is no firing, and forgets none); NaN weights after it: dead in steps 3-4."""
    model = one_unit_model()
    x = np.array([1.0] + [-1.0] * 7 + [np.nan] + [-1.0] * 23, "float32")[:, None]
    y = np.zeros((32, 1), "float32")
    fit(model, krf.GradientMonitor(tmp_path, update_freq=2), x=x, y=y, jit=jit)
    assert read_scalars(tmp_path)["dead_fraction/net/one"] == {2: 0.0, 4: 1.0}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_update_ratio_equals_the_step_taken(tmp_path, optimizer):
    model = mlp()
    x, y = data()
    make = {"sgd": lambda: keras.optimizers.SGD(0.1), "adam": lambda: keras.optimizers.Adam(0.01)}
    model.compile(optimizer=make[optimizer](), loss="mse")
    model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    before = {v.path: np.asarray(keras.ops.convert_to_numpy(v), np.float64) for v in model.weights}
    monitor = krf.GradientMonitor(tmp_path, update_freq=1, update_ratios=True)
    model.fit(
        x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, shuffle=False, callbacks=[monitor],
        verbose=0,
    )  # fmt: skip
    after = {v.path: np.asarray(keras.ops.convert_to_numpy(v), np.float64) for v in model.weights}
    logged = read_scalars(tmp_path)
    for layer in ("net/hidden", "net/out"):
        keys = [k for k in before if k.startswith(layer + "/")]
        step = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in keys))
        weight = np.sqrt(sum(np.sum(before[k] ** 2) for k in keys))
        ((_, value),) = logged[f"update_ratio/{layer}"].items()
        np.testing.assert_allclose(value, step / weight, rtol=1e-5)


def test_mixed_precision_norms_are_unscaled(tmp_path):
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = mlp()
        x, y = data()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
        assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
        monitor = krf.GradientMonitor(tmp_path, update_freq=1)
        model.fit(x, y, batch_size=BATCH, shuffle=False, callbacks=[monitor], verbose=0)
        logged = read_scalars(tmp_path)
        expected = expected_norms(model, x[:BATCH], y[:BATCH])
    finally:
        keras.config.set_dtype_policy(policy)
    assert "grad_norm/overflow_steps" in logged
    # float16 forward and backward: a few float16 ulps, far from a loss scale of 32768.
    np.testing.assert_allclose(logged["grad_norm/global"][1], expected["global"], rtol=2e-2)


def test_the_monitor_leaves_the_model_and_optimizer_as_they_were(tmp_path):
    model = mlp()
    x, y = data()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, verbose=0)
    counts = (len(model.non_trainable_variables), len(model.optimizer.variables))
    fit(model, krf.GradientMonitor(tmp_path, update_freq=1), optimizer="adam")
    assert (len(model.non_trainable_variables), len(model.optimizer.variables)) == counts
    model.save(tmp_path / "after.keras")
    reloaded = keras.saving.load_model(tmp_path / "after.keras")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x))
    )


# -- keras.distribution on JAX (child processes: XLA's device count is fixed at start) --

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child_monitor_jax.py")
ONLY_JAX = pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution is JAX's")


def run_child(*args, env=None, timeout=300):
    environ = {**os.environ, "KERAS_BACKEND": "jax", **(env or {})}
    done = subprocess.run(
        [sys.executable, CHILD, *map(str, args)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_norms(logged, expected):
    assert sorted(int(s) for s in logged["grad_norm/global"]) == [1, 2, 3, 4]
    for step, norms in expected.items():
        for path, value in norms.items():
            got = logged[f"grad_norm/{path}"][step]
            np.testing.assert_allclose(got, value, rtol=1e-5, err_msg=f"{path} step {step}")


@ONLY_JAX
def test_data_parallel_over_two_devices_logs_the_global_batch_norms(tmp_path):
    result = run_child(
        "data_parallel", tmp_path, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    )
    assert result["devices"] == 2 and "'batch': 2" in result["kernel_sharding"]
    assert_norms(result["parallel"], result["expected"])  # jax.grad of each global batch
    assert_norms(result["single"], result["expected"])
    for tag, steps in result["single"].items():  # and the single-device run's, tag by tag
        for step, value in steps.items():
            assert result["parallel"][tag][step] == pytest.approx(value, rel=1e-5), tag
    assert result["parallel"]["dead_fraction/net/hidden"] == {str(s): 0.5 for s in range(1, 5)}


@ONLY_JAX
def test_two_processes_on_localhost_log_the_global_batch_and_only_process_0_writes(tmp_path):
    # keras.distribution.initialize over 127.0.0.1: each process feeds half of every batch.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_child, "process", r, tmp_path, port) for r in (0, 1)]
        chief, other = (f.result() for f in futures)
    assert "error" not in chief and "error" not in other, (chief, other)
    assert len(chief["devices"]) == 2 and chief["local_devices"] == 1
    assert_norms(chief["logged"], chief["expected"])
    assert chief["logged"]["dead_fraction/net/hidden"] == {str(s): 0.5 for s in range(1, 5)}
    assert other["logged"] == {} and not os.path.exists(tmp_path / "logs1")
