"""GradientMonitor under MirroredStrategy, and its logs served by a real TensorBoard.

Both need a fresh process: logical CPU devices must be configured before
TensorFlow starts, and TensorBoard is a server. The MirroredStrategy run is
this file run as a script (``python test_monitor_subprocess.py mirrored DIR``),
which prints its logged and its independently computed norms as JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests._monitor_helpers import read_scalars

ROOT = Path(__file__).resolve().parents[1]
BATCH = 16  # the global batch: 8 per replica


def child_env() -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def mirrored_run(log_dir: str) -> None:
    """The child: trains under MirroredStrategy on two logical CPUs, prints JSON."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np

    import keras_relu_family as krf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    bias = np.where(np.arange(8) < 4, -1000.0, 1000.0).astype("float32")  # half dead

    def build():
        return keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(5, name="hidden"),
                krf.ReLU(name="relu"),
                keras.layers.Dense(
                    8, name="forced", bias_initializer=keras.initializers.Constant(bias)
                ),
                krf.ReLU(name="relu_dead"),
                keras.layers.Dense(2, name="head"),
            ],
            name="net",
        )

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = build()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    monitor = krf.GradientMonitor(log_dir, update_freq=1, exploding_threshold=None)
    model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, callbacks=[monitor], verbose=0)

    single = build()  # the same weights on one device: the reference
    single.set_weights(model.get_weights())
    expected = {}
    for b in range(2):
        with tf.GradientTape() as tape:
            pred = single(x[b * BATCH : (b + 1) * BATCH], training=True)
            loss = keras.losses.MeanSquaredError()(y[b * BATCH : (b + 1) * BATCH], pred)
        grads = tape.gradient(loss, single.trainable_variables)
        squares = {}
        for v, g in zip(single.trainable_variables, grads, strict=True):
            layer = v.path.rsplit("/", 1)[0]
            squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.square(np.float64(g))))
        norms = {f"grad_norm/{k}": float(np.sqrt(s)) for k, s in squares.items()}
        norms["grad_norm/global"] = float(np.sqrt(sum(squares.values())))
        expected[b] = norms
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "expected": expected}))


def test_mirrored_strategy_logs_the_global_batch_gradient(tmp_path):
    result = subprocess.run(
        [sys.executable, __file__, "mirrored", str(tmp_path)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    logged = read_scalars(tmp_path)
    for step in range(1, 5):  # two epochs of two global batches
        expected = report["expected"][str((step - 1) % 2)]
        assert {t for t in logged if t.startswith("grad_norm/")} == set(expected)
        for tag, value in expected.items():
            assert logged[tag][step] == pytest.approx(value, rel=1e-5), (tag, step)
    # Dead on both replicas' halves of the batch: the global batch's fraction.
    assert logged["dead_fraction/net/relu_dead"] == {1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5}


# TensorBoard's own switch (``tensorboard.compat.notf``) to run on its TensorFlow stub:
# it reads the same event files and starts in about 2 s instead of 8 s here.
TENSORBOARD_WITHOUT_TF = (
    "import sys, types; "
    "sys.modules['tensorboard.compat.notf'] = types.ModuleType('tensorboard.compat.notf'); "
    "from tensorboard.main import run_main; sys.exit(run_main())"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def test_a_tensorboard_server_serves_the_grad_norm_tags(tmp_path):
    import keras
    import numpy as np

    import keras_relu_family as krf

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, name="dense"),
            krf.ReLU(name="relu"),
            keras.layers.Dense(1, name="head"),
        ],
        name="tb",
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        shuffle=False,
        callbacks=[krf.GradientMonitor(tmp_path, update_freq=1)],
        verbose=0,
    )
    on_disk = read_scalars(tmp_path)

    port = free_port()
    log = open(tmp_path / "tensorboard.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            TENSORBOARD_WITHOUT_TF,
            f"--logdir={tmp_path}",
            "--host=127.0.0.1",
            f"--port={port}",
            "--load_fast=false",
            "--reload_interval=1",
        ],
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/data/plugin/scalars"
    try:
        deadline = time.monotonic() + 120
        tags = {}
        while time.monotonic() < deadline and server.poll() is None:
            try:
                tags = get_json(f"{base}/tags").get("train", {})
                if "grad_norm/global" in tags:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        assert server.poll() is None, (tmp_path / "tensorboard.log").read_text()[-3000:]
        assert {t for t in tags if t.startswith("grad_norm/")} == {
            t for t in on_disk if t.startswith("grad_norm/")
        }
        assert {"grad_norm/global", "grad_norm/tb/dense", "dead_fraction/tb/relu"} <= set(tags)
        for tag in ("grad_norm/global", "grad_norm/tb/dense"):
            query = urllib.parse.urlencode({"run": "train", "tag": tag})
            points = get_json(f"{base}/scalars?{query}")  # [[wall_time, step, value], ...]
            served = {int(step): value for _, step, value in points}
            assert served == pytest.approx(on_disk[tag], rel=1e-6)
            assert sorted(served) == [1, 2, 3, 4]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["mirrored"]:
        mirrored_run(sys.argv[2])
