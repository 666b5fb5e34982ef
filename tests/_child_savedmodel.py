"""Fresh-process half of ``test_savedmodel.py``: serving without ``keras_relu_family``.

Run as ``python tests/_child_savedmodel.py WORKDIR``. Before anything else it
makes ``keras_relu_family`` unimportable (the package is on ``PYTHONPATH``
and editable-installed, so only a blocker keeps it out), then loads each
SavedModel in ``WORKDIR`` with ``tf.saved_model.load``, and writes what the
serving signature returns, and its gradients, to ``WORKDIR/child.pkl``.
Everything happens in ``main`` so that pytest's doctest collection can import
this file safely.
"""

from __future__ import annotations

import importlib.abc
import pickle
import sys
from pathlib import Path

PACKAGE = "keras_relu_family"


class _BlockPackage(importlib.abc.MetaPathFinder):
    """Refuses to find ``keras_relu_family`` or any of its modules."""

    def find_spec(self, name, path=None, target=None):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            raise ImportError(f"{name} is blocked in this process")
        return None


def _package_modules() -> list:
    return sorted(
        name
        for name, module in sys.modules.items()
        if module is not None and (name == PACKAGE or name.startswith(PACKAGE + "."))
    )


def _import_error() -> str:
    try:
        __import__(PACKAGE)
    except ImportError as error:
        return f"{type(error).__name__}: {error}"
    return ""


def _serve(loaded, x):
    signature = loaded.signatures["serving_default"]
    (input_name,) = signature.structured_input_signature[1]
    (output,) = signature(**{input_name: x}).values()
    return output


def _short_name(variable) -> str:
    """``alpha`` for ``alpha:0`` or ``.../layer_prelu/alpha:0``."""
    return variable.name.split(":")[0].split("/")[-1]


def _report(loaded, x, width: int, n_branches: int) -> dict:
    import tensorflow as tf

    report = {"outputs": _serve(loaded, x).numpy(), "dx": [], "dparam": {}}
    params = {
        _short_name(v): v
        for v in getattr(loaded, "trainable_variables", [])
        if _short_name(v) in ("alpha", "beta")
    }
    try:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            output = _serve(loaded, x)
            sums = [
                tf.reduce_sum(output[:, b * width : (b + 1) * width]) for b in range(n_branches)
            ]
            total = tf.add_n(sums)
    except LookupError as error:  # a tape makes TF build the backward function right away
        report["gradient_error"] = f"{type(error).__name__}: {error}"
        return report
    report["dx"] = [tape.gradient(s, x).numpy() for s in sums]
    # Only PReLU's alpha and Swish's beta feed these sums, each through one branch.
    grads = tape.gradient(total, params)
    report["dparam"] = {name: g.numpy() for name, g in grads.items()}
    return report


def main(workdir: Path) -> None:
    sys.modules.pop(PACKAGE, None)
    sys.meta_path.insert(0, _BlockPackage())
    import_error = _import_error()

    import numpy as np
    import tensorflow as tf

    data = np.load(workdir / "inputs.npz")
    x = tf.constant(data["x"])
    width, n_branches = int(data["width"]), int(data["n_branches"])
    report = {"import_error": import_error}
    for name in ("export", "saved_model_save"):
        report[name] = _report(tf.saved_model.load(str(workdir / name)), x, width, n_branches)
    # A one-layer model (krf.ReLU) saved with experimental_custom_gradients=False.
    without = tf.saved_model.load(str(workdir / "without_custom_gradients"))
    report["without_custom_gradients"] = _report(without, x[:, :width], width, 1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.nn.relu(x))
    report["tf_relu_dx"] = tape.gradient(total, x).numpy()
    report["import_error_at_end"] = _import_error()
    report["package_modules"] = _package_modules()
    (workdir / "child.pkl").write_bytes(pickle.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
