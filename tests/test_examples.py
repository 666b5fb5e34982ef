"""Every example runs in its --tiny mode, and what it shows is checked against its own output.

Importing TensorFlow costs 6-10 s per process, so the examples do not get one
process each: two subprocesses (started together, one per core) run three
examples each as ``__main__`` (``runpy``), every example with ``--help`` and
then with ``--tiny --out <tmp>/<name>``; each example's stdout goes to
``<name>/stdout.txt`` and a failure's traceback to ``<name>/error.txt``, so one
broken example fails only its own test. The results are checked here, against
independent references where there are any (numpy derivatives, parameter
counts from the layer shapes, the saved model reloaded in this process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras_relu_family as krf
from keras_relu_family.report import load_runs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# Two groups of about equal cost; "auto" data for simple_net exercises the MNIST fallback offline.
GROUPS = [
    [("vanishing_gradients", ["--data", "digits"]), ("gradient_basics", []),
     ("save_and_serve", ["--data", "digits"])],
    [("dying_relu", ["--data", "digits"]), ("simple_net", []), ("cnn", ["--data", "digits"])],
]  # fmt: skip

DRIVER = r"""
import contextlib, json, os, runpy, sys, traceback
import keras
examples, out, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, examples)
for name, extra in plan:
    target = os.path.join(out, name)
    os.makedirs(target, exist_ok=True)
    script = os.path.join(examples, name + ".py")
    calls = ((["--help"], "help.txt"), (["--tiny", "--out", target, *extra], "stdout.txt"))
    for argv, log in calls:
        sys.argv = [script, *argv]
        keras.backend.clear_session()  # fresh layer names, as in a new process
        with open(os.path.join(target, log), "w") as f, contextlib.redirect_stdout(f):
            try:
                runpy.run_path(script, run_name="__main__")
            except BaseException as error:
                if isinstance(error, SystemExit) and error.code in (None, 0):
                    continue  # --help
                with open(os.path.join(target, "error.txt"), "a") as err:
                    traceback.print_exc(file=err)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs all examples (two processes in parallel); returns their output directory."""
    out = tmp_path_factory.mktemp("examples")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(EXAMPLES), str(out), json.dumps(group)],
            cwd=out,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for group in GROUPS
    ]
    logs = [process.communicate(timeout=900)[0] for process in processes]
    for process, log in zip(processes, logs, strict=True):
        assert process.returncode == 0, log[-3000:]
    return out


def result(out: Path, name: str) -> dict:
    """The example's results.json, after checking that it ran without error."""
    error = out / name / "error.txt"
    assert not error.exists(), error.read_text()
    assert (out / name / "help.txt").read_text().startswith("usage:")
    assert "--tiny" in (out / name / "help.txt").read_text()
    return json.loads((out / name / "results.json").read_text())


def assert_png(path) -> None:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, path


def test_gradient_basics(runs):
    res = result(runs, "gradient_basics")
    assert res["dy_dx_at_2"] == 7.0  # d/dx (x^2 + 3x + 1) = 2x + 3
    assert sorted(res["activation_gradients"]) == krf.available()
    for name, grads in res["activation_gradients"].items():
        spec = krf.REGISTRY[name]
        want = spec.numpy_derivative(np.array(res["points"]), **spec.param_sets[0])
        want = want[0] if spec.trainable else want  # (d/dx, d/dparam)
        np.testing.assert_allclose(grads, want, rtol=1e-6, atol=1e-7, err_msg=name)
    assert res["activation_gradients"]["relu"] == [0.0, 1.0, 1.0]  # right-hand at the kink
    assert "dy/dx at x = 2 is 7" in (runs / "gradient_basics" / "stdout.txt").read_text()


def test_simple_net(runs):
    res = result(runs, "simple_net")
    stdout = (runs / "simple_net" / "stdout.txt").read_text()
    if res["data"] == "digits":  # offline: the one-line fallback message
        assert "MNIST unavailable (" in stdout and "using scikit-learn's digits" in stdout
    assert res["test_accuracy"] > 0.2  # chance is 0.1
    (run,) = load_runs(res["log_dir"])  # the validation run has no monitor tags
    assert len(run.grad_norms) == 3 and len(run.dead_fractions) == 2
    steps, global_norm = run.global_norm
    assert list(steps) == list(range(1, len(steps) + 1)) and len(steps) >= 2  # update_freq=1
    layers = np.array([values for _, values in run.grad_norms.values()])
    np.testing.assert_allclose(global_norm, np.sqrt((layers**2).sum(axis=0)), rtol=1e-5)
    for _, values in run.dead_fractions.values():
        assert np.all((values >= 0) & (values <= 1))


def test_cnn(runs):
    res = result(runs, "cnn")
    krf_relu = "keras_relu_family>relu"  # the registered name of krf.relu
    assert res["layer_activations"][:3] == [krf_relu] * 3
    # Conv 3x3x1x32, conv 3x3x32x64, dense (11*11*64)x64, dense 64x10, each with biases.
    expected = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (11 * 11 * 64 * 64 + 64) + (64 * 10 + 10)
    assert res["params"] == expected
    assert np.isfinite(res["loss"]).all() and res["test_accuracy"] > 0.15
    assert "Total params: 515,146" in (runs / "cnn" / "stdout.txt").read_text()


def test_vanishing_gradients(runs):
    res = result(runs, "vanishing_gradients")
    assert res["depth"] >= 20
    sigmoid, relu = res["grad_norms"]["sigmoid"], res["grad_norms"]["relu"]
    assert len(sigmoid) == len(relu) == res["depth"] + 1
    first, last = "dense_00", f"dense_{res['depth']:02d}"
    assert sigmoid[first] < 1e-3 * sigmoid[last]  # orders of magnitude smaller
    assert relu[first] > 0.1 * relu[last]  # of the same order, or larger
    assert_png(res["figure"])
    assert_png(runs / "vanishing_gradients" / "report.png")
    assert (
        "GradientWarning: Vanishing gradient"
        in (runs / "vanishing_gradients" / "stdout.txt").read_text()
    )


def test_dying_relu(runs):
    res = result(runs, "dying_relu")
    by_kind = {label.split(",")[0].split("(")[0]: run for label, run in res["runs"].items()}
    dead = {kind: np.mean(list(run["dead_fraction_end"].values())) for kind, run in by_kind.items()}
    assert dead["relu"] > 0.8  # the ReLU network died
    assert dead["relu"] > dead["leaky_relu"] + 0.1
    assert dead["relu"] > dead["prelu"] + 0.1
    accuracy = {kind: run["test_accuracy"] for kind, run in by_kind.items()}
    assert accuracy["leaky_relu"] > accuracy["relu"] and accuracy["prelu"] > accuracy["relu"]
    assert_png(runs / "dying_relu" / "dying_relu.png")


def test_save_and_serve(runs):
    import keras
    import tensorflow as tf

    res = result(runs, "save_and_serve")
    assert res["max_abs_diff_keras"] == 0.0 and res["max_abs_diff_saved_model"] == 0.0
    # Reload both here, in another process than the one that saved them.
    out = runs / "save_and_serve"
    x, expected = np.load(out / "inputs.npy"), np.load(out / "outputs.npy")
    reloaded = keras.saving.load_model(out / "model.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)
    serving = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    (served,) = serving(tf.constant(x)).values()
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert isinstance(reloaded.layers[2], krf.PReLU) and isinstance(reloaded.layers[4], krf.Swish)
