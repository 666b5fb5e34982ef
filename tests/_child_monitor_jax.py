"""Child process of tests/test_monitor_backends.py: GradientMonitor under keras.distribution.

``python _child_monitor_jax.py data_parallel OUT``: JAX with two CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=2``, set by the parent),
``keras.distribution.DataParallel`` over both. The same model, data and
monitor are run twice, once with no distribution and once data-parallel; the
learning rate is 0 and ``shuffle=False``, so every step sees the same
weights and a known global batch. Prints one JSON line: the logged norms and
dead fractions of both runs, ``jax.grad``'s norms of each global batch, and
how the batch was split over the devices.

``python _child_monitor_jax.py process RANK OUT PORT``: one of two processes
of a multi-process run on 127.0.0.1 (``keras.distribution.initialize``),
then the same data-parallel ``fit`` over the devices of both; prints what
happened (the devices seen, what process 0 logged and ``jax.grad``'s norms of
each global batch, or the error). Only process 0 writes.
"""

from __future__ import annotations

import json
import os
import sys

BATCH, STEPS = 8, 4


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH * STEPS, 6)).astype("float32")
    return x, rng.normal(size=(BATCH * STEPS, 2)).astype("float32")


def build():
    """Dense(relu) with 4 of its 8 units never firing, then a krf.ReLU, then a Dense."""
    import keras
    import numpy as np

    import keras_relu_family as krf

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            krf.ReLU(name="rect"),
            keras.layers.Dense(2, name="out"),
        ],
        name="net",
    )
    hidden = model.get_layer("hidden")
    hidden.bias.assign(np.array([-1e3] * 4 + [1e3] * 4, "float32"))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return model


def train(model, log_dir, rank=None):
    """One epoch, every step logged; ``rank``: this process's half of every global batch."""
    import keras_relu_family as krf

    x, y = data()
    batch = BATCH
    if rank is not None:
        half = BATCH // 2
        rows = [i for i in range(len(x)) if (i % BATCH) // half == rank]
        x, y, batch = x[rows], y[rows], half
    monitor = krf.GradientMonitor(log_dir, update_freq=1)
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[monitor])
    train_dir = os.path.join(log_dir, "train")
    return read(log_dir) if os.path.isdir(train_dir) else {}


def read(log_dir) -> dict:
    """``{tag: {step: value}}`` with tensorboard's own reader (no TensorFlow)."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    acc = event_accumulator.EventAccumulator(
        os.path.join(log_dir, "train"), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    return {
        tag: {e.step: float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)}
        for tag in acc.Tags()["tensors"]
    }


def autodiff_norms(model) -> dict:
    """``jax.grad`` of the mse of every global batch, as per-layer and global norms."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    x, y = data()
    trainable = [np.asarray(v.value) for v in model.trainable_variables]
    fixed = [np.asarray(v.value) for v in model.non_trainable_variables]
    out = {}
    for step in range(1, STEPS + 1):
        xb, yb = x[(step - 1) * BATCH : step * BATCH], y[(step - 1) * BATCH : step * BATCH]

        def loss(values, xb=xb, yb=yb):
            pred, _ = model.stateless_call(values, fixed, xb, training=True)
            return jnp.mean(jnp.square(pred - yb))

        grads = jax.grad(loss)(trainable)
        per, total = {}, 0.0
        for v, g in zip(model.trainable_variables, grads, strict=True):
            g = np.asarray(g, np.float64)
            path = v.path.rsplit("/", 1)[0]
            per[path] = per.get(path, 0.0) + float(np.sum(g * g))
            total += float(np.sum(g * g))
        out[step] = {**{k: float(np.sqrt(s)) for k, s in per.items()}, "global": total**0.5}
    return out


def data_parallel(out_dir):
    import jax
    import keras

    assert keras.config.backend() == "jax"
    single = train(build(), os.path.join(out_dir, "single"))
    reference = build()
    expected = autodiff_norms(reference)
    devices = jax.devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    model = build()
    sharding = str(model.get_layer("hidden").kernel.value.sharding)
    parallel = train(model, os.path.join(out_dir, "parallel"))
    keras.distribution.set_distribution(None)
    print(
        json.dumps(
            {
                "devices": len(devices),
                "kernel_sharding": sharding,
                "single": single,
                "parallel": parallel,
                "expected": expected,
            }
        )
    )


def process(rank, out_dir, port):
    import keras

    result = {"rank": rank}
    try:
        keras.distribution.initialize(
            job_addresses=f"127.0.0.1:{port}", num_processes=2, process_id=rank
        )
        import jax

        result["devices"] = [str(d) for d in jax.devices()]
        result["local_devices"] = len(jax.local_devices())
        # Each process feeds its own half of every global batch (numpy data: Keras
        # auto-shards only a tf.data.Dataset across processes).
        distribution = keras.distribution.DataParallel(auto_shard_dataset=False)
        keras.distribution.set_distribution(distribution)
        model = build()
        logged = train(model, os.path.join(out_dir, f"logs{rank}"), rank=rank)
        result["logged"] = logged
        if rank == 0:
            keras.distribution.set_distribution(None)
            result["expected"] = autodiff_norms(build())
    except Exception as error:  # noqa: BLE001 - reported to the parent, which says what failed
        result["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.modules["tensorflow"] = None  # proves the JAX path imports no TensorFlow
    if sys.argv[1] == "data_parallel":
        data_parallel(sys.argv[2])
    else:
        process(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
