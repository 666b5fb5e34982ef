"""Child of ``test_family_new_module.py``: the copied package, with one new module, in use.

Run as ``python tests/_child_new_module.py WORKDIR`` with the copy first on
``PYTHONPATH``; prints one JSON line of what it saw.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(workdir: Path) -> None:
    import keras
    import numpy as np

    import keras_relu_family as krf

    x = np.linspace(-2.0, 2.0, 12, dtype="float32").reshape(3, 4)
    inputs = keras.Input((4,))
    outputs = keras.layers.Concatenate()(
        [
            krf.ProbeReLU(scale=0.5)(inputs),  # the layer
            keras.layers.Dense(4, activation="krf_probe_relu")(inputs),  # the string
            krf.probe_relu(keras.layers.Dense(4)(inputs), scale=3.0),  # the function, symbolic
        ]
    )
    model = keras.Model(inputs, outputs)
    model.save(workdir / "probe.keras")
    reloaded = keras.saving.load_model(workdir / "probe.keras")
    report = {
        "package_file": krf.__file__,
        "available": "probe_relu" in krf.available(),
        "exported": "probe_relu" in krf.__all__ and "ProbeReLU" in krf.__all__,
        "string": keras.activations.get("krf_probe_relu") is krf.probe_relu,
        "values": np.asarray(krf.probe_relu(x)).tolist(),
        "layer_types": sorted(type(layer).__name__ for layer in reloaded.layers),
        "dense_activations": [
            layer.activation.__name__
            for layer in reloaded.layers
            if isinstance(layer, keras.layers.Dense)
        ],
        "operations": [type(op).__name__ for op in reloaded.operations],
        "same_outputs": bool(np.array_equal(np.asarray(model(x)), np.asarray(reloaded(x)))),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
