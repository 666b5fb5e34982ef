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


# -- the train state of Keras's JAX and PyTorch trainers (GradientMonitor) -----------------
#
# Keras's JAX train step is a pure function of its state: (trainable, non-trainable,
# optimizer, metrics) values, built from `model.non_trainable_variables` and
# `optimizer.variables` when an epoch starts. A monitor's buffers travel in that state
# only if they are among those variables, and nothing public adds a variable to a built
# model or optimizer. While it trains, the monitor appends its buffers to the lists those
# properties read (`Layer._non_trainable_variables`, `Optimizer._variables`) and takes
# them out again afterwards. Between steps the fresh values are in `model._jax_state`
# (the variables themselves are purged during fit).


def _list(obj, name: str) -> list:
    values = getattr(obj, name, None)
    if not isinstance(values, list):
        raise RuntimeError(
            f"keras_relu_family could not find {type(obj).__name__}.{name} in Keras "
            f"{keras.__version__}; GradientMonitor cannot carry its buffers in the train "
            "state on this backend. Please report this."
        )
    return values


def _state_list(obj) -> list:
    """The list behind ``model.non_trainable_variables`` or ``optimizer.variables``."""
    name = "_non_trainable_variables" if isinstance(obj, keras.layers.Layer) else "_variables"
    return _list(obj, name)


def add_state(obj, variables) -> None:
    """Makes ``variables`` state of ``obj``: a model's non-trainable or an optimizer's."""
    _state_list(obj).extend(variables)


def remove_state(obj, variables) -> None:
    """Undoes :func:`add_state` (for the variables that are still there)."""
    ids = {id(v) for v in variables}
    values = _state_list(obj)
    values[:] = [v for v in values if id(v) not in ids]


# The optimizer method that applies every gradient of a step, after clipping and
# accumulation: per variable through update_step on TensorFlow and JAX, but all at once
# (torch._foreach) in Keras's PyTorch optimizers, whose update_step is never called.
OPTIMIZER_UPDATE = "_backend_update_step"


def optimizer_update(optimizer):
    """The bound ``_backend_update_step(grads, variables, learning_rate)`` of ``optimizer``."""
    method = getattr(optimizer, OPTIMIZER_UPDATE, None)
    if method is None:
        raise RuntimeError(
            f"keras_relu_family could not find Optimizer.{OPTIMIZER_UPDATE} in Keras "
            f"{keras.__version__}; GradientMonitor cannot see the applied gradients on this "
            "backend. Please report this."
        )
    return method


def jax_state(model):
    """The JAX trainer's current state (a dict of value lists), or ``None`` outside ``fit``."""
    return getattr(model, "_jax_state", None)
