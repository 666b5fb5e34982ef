"""What every public function shares: argument checks, input conversion, symbolic calls.

``@activation(...)`` wraps a function whose body computes on a checked
floating-point tensor. Before the body runs, the wrapper checks the fixed
arguments (the same checks the layer runs in its constructor), converts
``x``, and, when ``x`` or a parameter is a symbolic ``KerasTensor`` (a
functional model being built), returns a ``KerasTensor`` of ``x``'s shape and
dtype instead, made by an :class:`ActivationOp`: a serializable Keras
operation that calls the function again when the model runs, so that a
functional model built from the functions saves to ``.keras`` and reloads.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable

import keras
import numpy as np

from keras_relu_family._backend import xp
from keras_relu_family._backend._keys import items_key
from keras_relu_family._keras_private import unique_layer_name
from keras_relu_family._spec import PACKAGE


def activation(*relations: Callable, **checks: Callable):
    """Decorator of a public activation function.

    Args:
        *relations: Checks of several (already checked) arguments together,
            ``arguments -> None`` raising ``ValueError``.
        **checks: One check per fixed argument, ``(name, value) -> value``,
            from ``keras_relu_family._validation``.

    The decorated function gets ``check_arguments(**arguments)``, returning the
    checked and normalized fixed arguments, which its layer calls.
    """

    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        first = next(iter(signature.parameters))
        name = function.__name__
        parameters = [p for k, p in signature.parameters.items() if k != first]
        names = {p.name for p in parameters}
        required = {p.name for p in parameters if p.default is p.empty}  # PReLU's alpha
        defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        passed = {}  # the checked arguments of calls seen before, by their values

        def check_arguments(**arguments) -> dict:
            checked = {k: checks[k](k, v) if k in checks else v for k, v in arguments.items()}
            for check in relations:
                check(checked)
            return checked

        def bind(args, kwargs) -> tuple:
            """``(x, arguments)``, for the usual call ``f(x, name=value, ...)`` without
            ``inspect`` (25 us, a third of a small ReLU's forward and backward)."""
            if len(args) == 1 and required <= kwargs.keys() <= names:
                return args[0], {**defaults, **kwargs}
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            return arguments.pop(first), dict(arguments)

        def checked(arguments) -> dict:
            """The checked fixed arguments, remembered for values seen before (numbers)."""
            given = {k: arguments[k] for k in checks}
            if not all(type(v) in _PLAIN for v in given.values()):
                return check_arguments(**given)  # a tensor or array: checked every time
            key = items_key(given.items())
            if key not in passed:
                if len(passed) > 256:
                    passed.clear()
                passed[key] = check_arguments(**given)
            return passed[key]

        ready = {}  # calls f(x, name=number, ...) seen before: their bound, checked arguments

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            key = None
            if len(args) == 1 and all(type(v) in _PLAIN for v in kwargs.values()):
                # Not the values: True == 1 == 1.0 and 0.0 == -0.0 (_keys).
                key = items_key(kwargs.items())
                arguments = ready.get(key)
                if arguments is not None:
                    x = args[0]
                    if _symbolic(x):
                        return ActivationOp.for_call(name, x, arguments)
                    return function(xp.float_tensor(x, caller=name), **arguments)
            x, arguments = bind(args, kwargs)
            arguments.update(checked(arguments))
            if _symbolic(x) or any(_symbolic(v) for v in arguments.values()):
                return ActivationOp.for_call(name, x, arguments)
            if key is not None and all(type(v) in _PLAIN for v in arguments.values()):
                if len(ready) > 256:
                    ready.clear()
                ready[key] = arguments
            return function(xp.float_tensor(x, caller=name), **arguments)

        wrapper.check_arguments = check_arguments
        return wrapper

    return decorate


# The argument values a call's bound, checked arguments are remembered for.
_PLAIN = frozenset((float, int, bool, str, type(None)))


def _symbolic(value) -> bool:
    return isinstance(value, keras.KerasTensor)


# -- arguments in an operation's config --------------------------------------------------


def _encode(value):
    """A JSON-able form of a fixed argument (numbers, None, arrays, Keras objects)."""
    if value is None or isinstance(value, (bool, numbers.Real, str)):
        return value
    if xp.is_tensor(value):
        array = np.asarray(keras.ops.convert_to_numpy(value))
        return {"array": array.tolist(), "dtype": str(array.dtype)}
    return {"keras_object": keras.saving.serialize_keras_object(value)}


def _decode(value):
    if isinstance(value, dict) and "array" in value:
        return np.asarray(value["array"], dtype=value["dtype"])
    if isinstance(value, dict) and "keras_object" in value:
        return keras.saving.deserialize_keras_object(value["keras_object"])
    return value


@keras.saving.register_keras_serializable(package=PACKAGE)
class ActivationOp(keras.Operation):
    """One call of an activation function in a functional model.

    Args:
        activation: The registry name of the function.
        arguments: Its fixed arguments (numbers, arrays, Keras objects).
        tensor_names: The names of the arguments given as symbolic tensors,
            which are the operation's inputs after ``x``.
    """

    def __init__(self, activation: str, arguments=None, tensor_names=(), name=None):
        super().__init__(name=name or unique_layer_name(activation))
        self.activation = activation
        self.arguments = {k: _decode(v) for k, v in (arguments or {}).items()}
        self.tensor_names = tuple(tensor_names)

    @classmethod
    def for_call(cls, activation: str, x, arguments: dict):
        tensors = {k: v for k, v in arguments.items() if _symbolic(v)}
        fixed = {k: v for k, v in arguments.items() if k not in tensors}
        return cls(activation, fixed, tuple(tensors))(x, *tensors.values())

    def call(self, x, *tensors):
        from keras_relu_family.registry import get

        return get(self.activation)(
            x, **self.arguments, **dict(zip(self.tensor_names, tensors, strict=True))
        )

    def compute_output_spec(self, x, *tensors):
        dtype = keras.backend.standardize_dtype(x.dtype)
        if not keras.backend.is_float_dtype(dtype):
            raise TypeError(
                f"{self.activation} expects a floating-point input (float16, bfloat16, "
                f"float32 or float64). Received: x with dtype={dtype}. Cast it first, "
                "for example with keras.ops.cast(x, 'float32')."
            )
        return keras.KerasTensor(x.shape, dtype=dtype)

    def get_config(self):
        return {
            "name": self.name,
            "activation": self.activation,
            "arguments": {k: _encode(v) for k, v in self.arguments.items()},
            "tensor_names": list(self.tensor_names),
        }
