"""The only module that touches Keras's private API (``keras.src``).

Four things have no public route in Keras 3:

* ``keras.activations.get("name")`` resolves strings from the private table
  ``keras.src.activations.ALL_OBJECTS_DICT`` and nowhere else, so
  ``Dense(activation="krf_swish")`` needs an entry there;
* default layer names come from Keras's own counter
  (``keras.src.utils.naming.uniquify``), and sharing it keeps our ``elu``
  from colliding with ``keras.layers.ELU``'s ``elu`` in one model;
* a layer without weights is built at construction in Keras
  (``keras.layers.ReLU().built`` is ``True``) through the private
  ``Layer._build_at_init``, which also locks the layer's state as Keras's own
  do;
* the layers inside a layer (``Layer._flatten_layers``): ``Model.layers``
  lists a model's direct children only, and a plain layer's sublayers (a
  layer passed as another's ``activation=``) not at all. ``GradientMonitor``
  walks them to find every rectifier.

``tests/test_keras_private.py`` (and ``tests/test_monitor_private.py`` for
the walk) fail loudly when Keras moves any of them. If
Keras does move the table, importing the package still works (with a
``RuntimeWarning``): only the strings are missing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import keras

try:  # pragma: no cover - exercised by whichever Keras is installed
    from keras.src import activations as _private_activations
    from keras.src.utils import naming as _private_naming
except ImportError:  # pragma: no cover
    _private_activations = None
    _private_naming = None


def activation_table() -> dict:
    """Keras's string-to-activation table (private); raises if Keras moved it."""
    table = getattr(_private_activations, "ALL_OBJECTS_DICT", None)
    if not isinstance(table, dict):
        raise RuntimeError(
            "keras_relu_family could not find keras.src.activations.ALL_OBJECTS_DICT "
            f"in Keras {keras.__version__}; activation strings like 'krf_relu' are unavailable. "
            "Pass the function or a layer instance instead, and please report this."
        )
    return table


def register_activation_strings(functions: Mapping[str, Callable]) -> None:
    """Adds ``functions`` to Keras's activation table under their keys.

    Refuses to replace a key that Keras (or anyone) already uses for a
    different object, so that importing this package never changes what an
    existing string means; nothing is added unless every key is free.
    Re-registering the same object is a no-op. Warns (``RuntimeWarning``)
    and adds nothing if this Keras has no such table.

    Raises:
        RuntimeError: A key already names a different object.
    """
    try:
        table = activation_table()
    except RuntimeError as error:
        warnings.warn(str(error), RuntimeWarning, stacklevel=2)
        return
    for key, function in functions.items():
        existing = table.get(key)
        if existing is not None and existing is not function:
            raise RuntimeError(
                f"Refusing to overwrite Keras activation string {key!r}: it already "
                f"names {existing!r}. Received: key={key!r}, function={function!r}"
            )
    table.update(functions)


def unique_layer_name(prefix: str) -> str:
    """``prefix``, ``prefix_1``, ... from the counter Keras's own layers use."""
    uniquify = getattr(_private_naming, "uniquify", None)
    if uniquify is not None:
        return uniquify(prefix)
    uid = keras.backend.get_uid(prefix)  # public, but a separate counter
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def build_at_init(layer) -> None:
    """Marks ``layer`` built, as Keras's weightless layers are at construction.

    Keras's ``Layer._build_at_init`` does it only when the layer's class keeps
    Keras's default ``build``; a layer with a ``build`` of its own (PReLU) is
    built when it first sees its input, as in Keras.
    """
    method = getattr(layer, "_build_at_init", None)
    if method is None:
        raise RuntimeError(
            f"keras_relu_family could not find Layer._build_at_init in Keras "
            f"{keras.__version__}; its layers cannot be built at construction. Please report this."
        )
    method()


def flatten_layers(model) -> list:
    """Every layer inside ``model``, nested ones included, not ``model`` itself.

    Keras has no public recursive walk (``Model.layers`` lists direct children
    only); ``GradientMonitor`` uses this to find the rectifier layers to probe.
    """
    walk = getattr(model, "_flatten_layers", None)
    if walk is None:
        raise RuntimeError(
            f"keras_relu_family could not find Layer._flatten_layers in Keras "
            f"{keras.__version__}; GradientMonitor cannot find nested layers. Please report this."
        )
    return list(walk(include_self=False, recursive=True))


def child_layers(layer) -> list:
    """The layers directly inside ``layer`` (a model's layers, a layer's sublayers), in order."""
    walk = getattr(layer, "_flatten_layers", None)
    if walk is None:
        raise RuntimeError(
            f"keras_relu_family could not find Layer._flatten_layers in Keras "
            f"{keras.__version__}; GradientMonitor cannot find nested layers. Please report this."
        )
    return list(walk(include_self=False, recursive=False))
