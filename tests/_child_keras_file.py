"""Fresh-process half of ``test_saving.py``: loads a ``.keras`` file and reports what it sees.

Run as ``python tests/_child_keras_file.py WORKDIR``. Reads ``WORKDIR/model.keras``
and ``WORKDIR/data.pkl``, writes ``WORKDIR/child.pkl``. Everything happens in
``main`` so that pytest's doctest collection can import this file safely.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def _describe(table: dict) -> dict:
    return {
        key: f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
        for key, obj in table.items()
    }


def main(workdir: Path) -> None:
    import keras
    from keras.src import activations as keras_activations  # the test reads Keras's table

    before = _describe(keras_activations.ALL_OBJECTS_DICT)
    assert "keras_relu_family" not in sys.modules, "imported before the snapshot"
    import keras_relu_family as krf

    after = _describe(keras_activations.ALL_OBJECTS_DICT)

    from tests._integration_helpers import loss_gradients, optimizer_state, weights_by_path

    data = pickle.loads((workdir / "data.pkl").read_bytes())
    x, y, xb, yb = data["x"], data["y"], data["x_step"], data["y_step"]
    model = keras.saving.load_model(workdir / "model.keras")
    report = {
        "table_before": before,
        "table_after": after,
        "package_file": krf.__file__,
        "layers": {
            layer.name: type(layer).__module__ + "." + type(layer).__qualname__
            for layer in model.layers
        },
        "activations": {
            layer.name: keras.saving.get_registered_name(layer.activation)
            for layer in model.layers
            if hasattr(layer, "activation")
        },
        "outputs": keras.ops.convert_to_numpy(model(x, training=False)),
        "weights": weights_by_path(model),
        "gradients": loss_gradients(model, x, y),
        "optimizer": optimizer_state(model),
        "optimizer_class": type(model.optimizer).__name__,
        "iterations": int(model.optimizer.iterations),
    }
    loaded_state = [v.numpy() for v in model.weights]
    model.fit(xb, yb, batch_size=len(xb), epochs=1, shuffle=False, verbose=0)
    report["after_step"] = weights_by_path(model)

    # The counterfactual, on the same compiled model (no second trace): the
    # loaded weights with a fresh optimizer state take a different step.
    for variable, value in zip(model.weights, loaded_state, strict=True):
        variable.assign(value)
    for variable in model.optimizer.variables:
        if variable.name != "learning_rate":
            variable.assign(keras.ops.zeros_like(variable))
    model.fit(xb, yb, batch_size=len(xb), epochs=1, shuffle=False, verbose=0)
    report["fresh_optimizer_step"] = weights_by_path(model)
    (workdir / "child.pkl").write_bytes(pickle.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
