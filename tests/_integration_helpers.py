"""Shared pieces of the Keras-integration tests (strings, saving, export, scaling).

Models here are built from :data:`krf.REGISTRY`, never from a hand-kept list:
one branch per layer (with its non-default ``layer_kwargs``) and one branch
per activation string, so a new registry entry is covered everywhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

import keras_relu_family as krf

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent


def string_names() -> list:
    """Every activation string the package registers, from the registry."""
    return [name for spec in krf.REGISTRY.values() for name in spec.string_names]


def safe_name(text: str) -> str:
    """``text`` safe as a layer name: ``keras_relu_family>elu`` -> ``keras_relu_family_elu``."""
    return re.sub(r"\W", "_", text)


def layer_kwargs(spec, overrides: dict | None = None) -> dict:
    """``spec.layer_kwargs`` (the non-default arguments) with per-name ``overrides``."""
    return {**spec.layer_kwargs, **((overrides or {}).get(spec.name, {}))}


def every_activation_model(
    width: int = 4,
    *,
    identity: bool = False,
    head: bool = True,
    strings: bool = True,
    overrides: dict | None = None,
    extra_layers: dict | None = None,
    seed: int = 0,
) -> keras.Model:
    """A functional model with one branch per layer and one per activation string.

    Each layer branch is ``Dense(width)`` followed by the registry's layer
    (``spec.layer(**spec.layer_kwargs)``), named ``layer_<name>``. Strings come
    in both of Keras's forms: ``Dense(width, activation="krf_<name>")`` named
    ``string_krf_<name>``, and ``Activation("keras_relu_family><name>")``
    named ``string_keras_relu_family_<name>`` on one shared ``Dense`` (fewer
    variables keep tracing fast). The branches are concatenated and, with
    ``head``, mapped to one output.

    Args:
        width: Units of every branch.
        identity: Identity kernels and zero biases in the branches, so that
            each branch computes exactly ``activation(x)`` and its gradient
            with respect to the input is the activation's derivative.
        head: Add a ``Dense(1)`` on top (for training with a scalar target).
        strings: Include the activation-string branches.
        overrides: ``{name: kwargs}`` merged over ``spec.layer_kwargs``.
        extra_layers: ``{name: layer}``: more branches, each after its own ``Dense``.
        seed: Seed of the initializers.
    """
    kernel = "identity" if identity else keras.initializers.GlorotUniform(seed)
    bias = "zeros" if identity else keras.initializers.RandomUniform(-0.5, 0.5, seed=seed + 1)

    def dense(name, activation=None):
        return keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=kernel,
            bias_initializer=bias,
            name=name,
        )

    inputs = keras.Input((width,), name="x")
    branches = []
    for spec in krf.REGISTRY.values():
        layer = spec.layer(**layer_kwargs(spec, overrides), name=f"layer_{spec.name}")
        branches.append(layer(dense(f"dense_{spec.name}")(inputs)))
    if strings:
        shared = dense("dense_strings")(inputs)
        for name in string_names():
            if name.startswith("krf_"):
                branches.append(dense(f"string_{name}", activation=name)(inputs))
            else:
                activation = keras.layers.Activation(name, name=f"string_{safe_name(name)}")
                branches.append(activation(shared))
    for name, layer in (extra_layers or {}).items():
        branches.append(layer(dense(f"dense_extra_{name}")(inputs)))
    outputs = keras.layers.Concatenate(name="branches")(branches)
    if head:
        outputs = keras.layers.Dense(
            1, kernel_initializer=keras.initializers.GlorotUniform(seed + 2), name="head"
        )(outputs)
    return keras.Model(inputs, outputs, name="every_activation")


def branch_names(*, strings: bool = True, extra_layers: dict | None = None) -> list:
    """Names of the branches of :func:`every_activation_model`, in output order."""
    names = [spec.name for spec in krf.REGISTRY.values()]
    return names + (string_names() if strings else []) + list(extra_layers or {})


def branch_targets(x: np.ndarray, n_branches: int) -> np.ndarray:
    """A target for every column of a head-less :func:`every_activation_model`.

    Without a head each output column depends on its own branch only, and so
    does its squared error: the branches train independently of each other.
    """
    return np.tile(np.sin(x), (1, n_branches)).astype(x.dtype)


def regression_data(n: int = 64, width: int = 4, seed: int = 0) -> tuple:
    """Inputs in [-3, 3) (every activation's interesting range) and a smooth target."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, size=(n, width)).astype("float32")
    y = (np.sin(x).sum(axis=1, keepdims=True) + 0.1 * x[:, :1] ** 2).astype("float32")
    return x, y


def weights_by_path(model: keras.Model) -> dict:
    """``{variable.path: numpy value}`` for every variable of ``model``."""
    return {v.path: np.array(keras.ops.convert_to_numpy(v)) for v in model.weights}


def run_python(
    script: Path | str, *args: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs ``script`` in a fresh interpreter (``sys.executable``) on this checkout.

    ``PYTHONPATH`` is this repository's root, so the child imports the same
    tree as the tests. Raises ``AssertionError`` with the child's output if it
    fails.
    """
    child_env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO_ROOT),
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{Path(script).name} failed with exit code {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
        )
    return proc


def loss_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict:
    """Gradients of the mean squared error (inference mode) by variable path, and ``"x"``."""
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_mean(tf.square(model(x, training=False) - y))
    variables = model.trainable_variables
    grads = tape.gradient(loss, [x, *variables])
    by_path = {v.path: g.numpy() for v, g in zip(variables, grads[1:], strict=True)}
    return {"x": grads[0].numpy(), **by_path}


def optimizer_state(model: keras.Model) -> dict:
    """``{path: value}`` of the optimizer's variables (iterations, slots, ...)."""
    return {v.path: np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables}


def reference_params(spec, layer: keras.layers.Layer) -> dict:
    """The arguments of ``spec``'s numpy reference that reproduce ``layer``.

    Each argument of the reference is the layer's weight of that name (PReLU's
    ``alpha``, Swish's trainable ``beta``) or else its attribute of that name.
    """
    import inspect

    names = [name for name in inspect.signature(spec.numpy_forward).parameters if name != "x"]
    weights = {w.name: np.array(keras.ops.convert_to_numpy(w), "float64") for w in layer.weights}
    return {name: weights[name] if name in weights else getattr(layer, name) for name in names}


def reference_derivative(spec, x: np.ndarray, params: dict) -> tuple:
    """``(d/dx, d/dparam or None)`` from the registry's numpy derivative in float64."""
    out = spec.numpy_derivative(np.asarray(x, dtype="float64"), **params)
    return tuple(out) if isinstance(out, tuple) else (out, None)


def kink_grid(width: int = 4, span: tuple = (-7.0, 8.0), points: int = 61) -> np.ndarray:
    """Inputs of shape ``(n, width)``: every kink of every activation, exactly, and a grid.

    Kinks come from the registry for each parameter set and the layer arguments.
    """
    values = set(np.linspace(*span, points).astype("float32").tolist())
    for spec in krf.REGISTRY.values():
        for params in (*spec.param_sets, dict(spec.layer_kwargs)):
            values.update(float(k) for k in spec.kinks(params))
    values = sorted(values)
    values += [values[-1]] * (-len(values) % width)
    return np.array(values, dtype="float32").reshape(-1, width)
