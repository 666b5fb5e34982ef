"""GradientMonitor under tf.distribute: MirroredStrategy (fit and a custom loop) and
MultiWorkerMirroredStrategy (two worker processes on 127.0.0.1, a custom loop).

Each runs tests/_child_monitor_distributed.py in fresh processes (logical
devices and a cluster must be set up before TensorFlow starts); the children
print the norms ``tf.GradientTape`` computes on one device for every global
batch, and this file compares them with what the monitor wrote.
"""

from __future__ import annotations

import glob
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests._monitor_helpers import read_scalars

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("_child_monitor_distributed.py")
STEPS = 4  # global batches per epoch; two epochs


def child_env(**extra) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def check_norms(logged: dict, expected: dict, steps) -> None:
    assert {t for t in logged if t.startswith("grad_norm/")} == set(expected["0"])
    for step in steps:
        for tag, value in expected[str((step - 1) % STEPS)].items():
            assert logged[tag][step] == pytest.approx(value, rel=1e-5), (tag, step)


def check_dead(logged: dict, steps) -> None:
    """The three rectifier forms, tagged with the layers that compute them."""
    assert {t for t in logged if t.startswith("dead_fraction/")} == {
        "dead_fraction/net/hidden",  # Dense(activation="relu")
        "dead_fraction/net/forced_relu",  # Activation("relu")
        "dead_fraction/net/krf_relu",  # this package's ReLU layer
    }
    # Dead on both replicas' halves of every global batch: half the units.
    assert logged["dead_fraction/net/forced_relu"] == {s: 0.5 for s in steps}


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored")
    result = subprocess.run(
        [sys.executable, str(CHILD), "mirrored", str(out)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, last_json(result.stdout)


def test_mirrored_fit_logs_global_batch_norms_and_dead_units(mirrored):
    out, report = mirrored
    assert report["replicas"] == 2
    logged = read_scalars(out / "logs_fit")
    check_norms(logged, report["fit"], range(1, 9))
    check_dead(logged, range(1, 9))
    assert report["reloaded_same"]  # .keras saving after a monitored fit


def test_mirrored_custom_loop_logs_global_batch_norms(mirrored):
    out, report = mirrored
    logged = read_scalars(out / "logs_loop")
    assert sorted(logged["grad_norm/global"]) == [2, 4, 6, 8]  # update_freq=2
    check_norms(logged, report["loop"], [2, 4, 6, 8])
    check_dead(logged, [2, 4, 6, 8])


def _free_ports(n: int) -> list:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_multiworker_custom_loop_only_the_chief_writes(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [sys.executable, str(CHILD), "worker", str(tmp_path)],
                env=child_env(TF_CONFIG=json.dumps(tf_config)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-6000:]
            outputs.append(last_json(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert [o["step"] for o in outputs] == [8, 8]  # both count every step
    assert not glob.glob(str(tmp_path / "logs_worker1" / "**" / "events*"), recursive=True)
    logged = read_scalars(tmp_path / "logs_worker0")
    check_norms(logged, outputs[0]["expected"], range(1, 9))
    check_dead(logged, range(1, 9))
