"""Child process of tests/test_monitor_distributed.py: GradientMonitor under tf.distribute.

``python _child_monitor_distributed.py mirrored OUT``: two logical CPUs,
``MirroredStrategy``, a ``fit`` and a custom loop (``GradientMonitor.watch``).
``python _child_monitor_distributed.py worker OUT``: one worker of a
``MultiWorkerMirroredStrategy`` cluster (``TF_CONFIG``), a custom loop.

Each trains on fixed data with the learning rate at 0 (the weights do not
move, so one set of reference norms holds for every step), logs to
``OUT/logs*``, and prints one JSON line: the norms ``tf.GradientTape``
computes on one device for each global batch, from a copy of the model.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GLOBAL_BATCH = 16
STEPS = 4  # global batches per epoch


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((GLOBAL_BATCH * STEPS, 6)).astype("float32")
    y = rng.standard_normal((GLOBAL_BATCH * STEPS, 2)).astype("float32")
    return x, y


def build():
    """A model with three rectifier forms; 4 of the 8 units of ``forced`` never fire."""
    import keras
    import numpy as np

    import keras_relu_family as krf

    bias = np.where(np.arange(8) < 4, -1000.0, 1000.0).astype("float32")
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="relu", name="hidden"),
            keras.layers.Dense(
                8, name="forced", bias_initializer=keras.initializers.Constant(bias)
            ),
            keras.layers.Activation("relu", name="forced_relu"),
            keras.layers.Dense(4, name="dense"),
            krf.ReLU(name="krf_relu"),
            keras.layers.Dense(2, name="head"),
        ],
        name="net",
    )


def tape_norms(model, x, y) -> dict:
    """``{tag: norm}`` of the mean-squared-error gradient of one batch, on one device."""
    import keras
    import numpy as np
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    squares = {}
    for v, g in zip(model.trainable_variables, grads, strict=True):
        layer = v.path.rsplit("/", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.square(np.float64(g))))
    norms = {f"grad_norm/{k}": float(np.sqrt(s)) for k, s in squares.items()}
    norms["grad_norm/global"] = float(np.sqrt(sum(squares.values())))
    return norms


def reference(model) -> dict:
    x, y = data()
    single = build()
    single.set_weights(model.get_weights())
    batches = range(STEPS)
    return {
        str(b): tape_norms(
            single,
            x[b * GLOBAL_BATCH : (b + 1) * GLOBAL_BATCH],
            y[b * GLOBAL_BATCH : (b + 1) * GLOBAL_BATCH],
        )
        for b in batches
    }


def custom_loop(strategy, log_dir, per_worker_data, update_freq):
    """Two epochs of ``strategy.run`` steps under ``monitor.watch``; returns the model."""
    import keras
    import tensorflow as tf

    import keras_relu_family as krf

    with strategy.scope():
        model = build()
        optimizer = keras.optimizers.SGD(0.0)
        optimizer.build(model.trainable_variables)
    dataset = strategy.distribute_datasets_from_function(per_worker_data)

    def step(batch):
        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                per_example = tf.reduce_mean(tf.square(model(xb, training=True) - yb), axis=-1)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss

        return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)

    monitor = krf.GradientMonitor(log_dir, update_freq=update_freq)
    with monitor.watch(model, optimizer) as loop:
        train_step = loop.function(step)
        for _ in range(2):
            for batch in dataset:
                train_step(batch)
            loop.end_epoch()
    return model, monitor


def mirrored(out: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np

    import keras_relu_family as krf

    keras.utils.set_random_seed(0)
    x, y = data()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = build()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    monitor = krf.GradientMonitor(os.path.join(out, "logs_fit"), update_freq=1)
    model.fit(
        x, y, batch_size=GLOBAL_BATCH, epochs=2, shuffle=False, callbacks=[monitor], verbose=0
    )
    fit_reference = reference(model)
    model.save(os.path.join(out, "mirrored.keras"))  # saving after a monitored fit
    reloaded = keras.saving.load_model(os.path.join(out, "mirrored.keras"))
    same = bool(np.allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0)))

    def per_replica_data(context):  # consecutive halves go to the two replicas in turn
        half = context.get_per_replica_batch_size(GLOBAL_BATCH)
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(half)

    loop_model, _ = custom_loop(strategy, os.path.join(out, "logs_loop"), per_replica_data, 2)
    print(
        json.dumps(
            {
                "replicas": strategy.num_replicas_in_sync,
                "fit": fit_reference,
                "loop": reference(loop_model),
                "reloaded_same": same,
            }
        )
    )


def worker(out: str) -> None:
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    import keras

    keras.utils.set_random_seed(0)
    x, y = data()
    half = GLOBAL_BATCH // 2

    def per_worker_data(context):  # worker i takes rows [i*half, (i+1)*half) of each batch
        i = context.input_pipeline_id
        rows = [b * GLOBAL_BATCH + i * half + r for b in range(STEPS) for r in range(half)]
        return tf.data.Dataset.from_tensor_slices((x[rows], y[rows])).batch(half)

    log_dir = os.path.join(out, f"logs_worker{task['index']}")
    model, monitor = custom_loop(strategy, log_dir, per_worker_data, 1)
    print(
        json.dumps(
            {
                "index": task["index"],
                "replicas": strategy.num_replicas_in_sync,
                "step": monitor.step,
                "expected": reference(model),
            }
        )
    )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    {"mirrored": mirrored, "worker": worker}[sys.argv[1]](sys.argv[2])
