"""GradientMonitor's logs served by a real TensorBoard (a server: a process of its own).

The runs under tf.distribute, which need fresh processes too, are in
test_monitor_distributed.py.
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


def child_env() -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


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
