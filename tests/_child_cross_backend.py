"""Child of ``test_cross_backend.py``: saves or loads the every-activation model on one backend.

Run as ``KERAS_BACKEND=<name> python tests/_child_cross_backend.py save|load WORKDIR``.
``save`` writes ``WORKDIR/model.keras`` and ``WORKDIR/saved.npz`` (inputs,
outputs, weights, layer configs); ``load`` reads the model back and writes
``WORKDIR/loaded.npz`` with the same fields, computed on this backend.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _report(model, x) -> dict:
    import keras
    import numpy as np

    weights = {f"weight:{v.path}": np.asarray(keras.ops.convert_to_numpy(v)) for v in model.weights}
    configs = {
        layer.name: layer.get_config() for layer in model.layers if layer.name.startswith("layer_")
    }
    activations = {
        layer.name: keras.saving.get_registered_name(layer.activation)
        for layer in model.layers
        if layer.name.startswith("string_")
    }
    return {
        "x": x,
        "outputs": np.asarray(keras.ops.convert_to_numpy(model(x))),
        "configs": json.dumps(configs, sort_keys=True, default=str),
        "activations": json.dumps(activations, sort_keys=True),
        "backend": keras.config.backend(),
        **weights,
    }


def main(mode: str, workdir: Path) -> None:
    import keras
    import numpy as np

    import keras_relu_family  # noqa: F401  (registers the layers and strings)
    from tests._integration_helpers import every_activation_model, kink_grid, regression_data

    if mode == "save":
        keras.utils.set_random_seed(0)
        model = every_activation_model(4)
        x = np.concatenate([kink_grid(4), regression_data(32, 4)[0]]).astype("float32")
        model.save(workdir / "model.keras")
        np.savez(workdir / "saved.npz", **_report(model, x))
    else:
        x = np.load(workdir / "saved.npz")["x"]
        model = keras.saving.load_model(workdir / "model.keras")
        np.savez(workdir / "loaded.npz", **_report(model, x))
    print(keras.config.backend(), "ok")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
