"""Fresh-process half of ``test_distribute.py``: MirroredStrategy over two logical CPUs.

Run as ``python tests/_child_distribute.py WORKDIR``. Logical devices must be
configured before TensorFlow initializes its runtime, hence a fresh process.
Trains the every-layer model with the strategy and on one device, on the same
global batches, and writes both runs' weights to ``WORKDIR/child.pkl``.
Everything happens in ``main`` so that pytest's doctest collection can import
this file safely.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

REPLICAS = 2
GLOBAL_BATCH = 16
EPOCHS = 2


def main(workdir: Path) -> None:
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(REPLICAS)]
    )

    import keras

    import keras_relu_family as krf
    from tests._integration_helpers import (
        branch_names,
        branch_targets,
        every_activation_model,
        regression_data,
        weights_by_path,
    )

    def extra():
        # Same role as in test_xla.py: RReLU's training path with slopes that cannot differ.
        return {"rrelu_fixed": krf.RReLU(lower=0.2, upper=0.2, seed=3, name="layer_rrelu_fixed")}

    x, _ = regression_data(64)
    y = branch_targets(x, len(branch_names(strings=False, extra_layers=extra())))

    def train(strategy):
        with strategy.scope():
            model = every_activation_model(head=False, strings=False, extra_layers=extra())
            model.compile(keras.optimizers.SGD(0.5), "mse")
        before = weights_by_path(model)
        history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        return {"before": before, "after": weights_by_path(model), "loss": history.history["loss"]}

    devices = [f"/cpu:{i}" for i in range(REPLICAS)]
    mirrored = tf.distribute.MirroredStrategy(devices)
    report = {
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
        "replicas": mirrored.num_replicas_in_sync,
        "steps": EPOCHS * len(x) // GLOBAL_BATCH,
        "mirrored": train(mirrored),
        "single": train(tf.distribute.get_strategy()),
    }
    (workdir / "child.pkl").write_bytes(pickle.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
