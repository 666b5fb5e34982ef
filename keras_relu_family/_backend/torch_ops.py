"""The PyTorch side of the kernels' vocabulary (``xp``), and the input conversions.

The same names as ``tensorflow_ops``, on ``torch``. ``torch.where`` lets a
Python number take the other operand's dtype; ``minimum`` and ``maximum``
with a number are ``clamp``, which propagates NaN as ``torch.minimum`` does.
"""

from __future__ import annotations

import keras
import numpy as np
import torch
import torch.nn.functional as F

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
HALF_DTYPES = (torch.float16, torch.bfloat16)
int8 = torch.int8
float32 = torch.float32
float64 = torch.float64

abs = torch.abs
exp = torch.exp
expm1 = torch.expm1
tanh = torch.tanh
sqrt = torch.sqrt
sigmoid = torch.sigmoid
erfc = torch.special.erfc
isnan = torch.isnan
relu = torch.relu
where = torch.where


def minimum(x, y):
    return torch.clamp(x, max=y) if not torch.is_tensor(y) else torch.minimum(x, y)


def maximum(x, y):
    return torch.clamp(x, min=y) if not torch.is_tensor(y) else torch.maximum(x, y)


def relu6(x):
    # clamp, not F.relu6 (hardtanh): both keep NaN; clamp is what autodiff baselines expect.
    return torch.clamp(x, 0.0, 6.0)


def softplus(x):
    """``log(1 + exp(x))``, exact: PyTorch's own turns linear above 20, which float64 can tell."""
    return F.softplus(x, threshold=40.0 if x.dtype == torch.float64 else 20.0)


def cast(x, dtype):
    """``x`` in ``dtype``; a Python number directly."""
    return x.to(dtype) if torch.is_tensor(x) else torch.tensor(x, dtype=dtype)


def constant(value, like):
    """A scalar ``value`` in ``like``'s dtype and on its device."""
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def dtype_name(x) -> str:
    return str(x.dtype).removeprefix("torch.")


def leaky_relu(x, slope: float):
    """``x`` where ``x >= 0``, else ``slope * x``."""
    return torch.where(x >= 0, x, slope * x)


def softplus_grad(dy, z):
    """``dy * sigmoid(z)``."""
    return dy * torch.sigmoid(z)


# -- what the public functions do before calling a kernel -------------------------------


def is_tensor(value) -> bool:
    """A tensor, array or variable (not a Python number)."""
    return isinstance(value, (torch.Tensor, np.ndarray, keras.Variable))


def _as_tensor(value):
    if isinstance(value, keras.Variable):
        return value.value
    return value if torch.is_tensor(value) else keras.ops.convert_to_tensor(value)


def float_tensor(x, *, caller: str):
    """``x`` as a floating-point tensor, refusing integer, bool and complex input.

    Python numbers and lists become ``float32`` (Keras's ``floatx``) on Keras's
    device; an integer tensor or array is refused rather than cast.
    """
    if is_tensor(x):
        tensor = _as_tensor(x)
        if tensor.dtype not in FLOAT_DTYPES:
            name = keras.backend.standardize_dtype(tensor.dtype)
            raise TypeError(
                f"{caller} expects a floating-point input (float16, bfloat16, float32 "
                f"or float64). Received: x with dtype={name}. Cast it first, "
                f"for example with keras.ops.cast(x, 'float32')."
            )
        return tensor
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{caller} could not convert its input to a tensor. Received: x={x!r}"
        ) from error
    if array.dtype.kind in "fiu":  # Python numbers and lists: float32, as in Keras
        return keras.ops.convert_to_tensor(array, "float32")
    if array.dtype.kind == "b":
        return float_tensor(array, caller=caller)  # refused, naming the dtype
    raise TypeError(f"{caller} could not convert its input to a tensor. Received: x={x!r}")


def param_tensor(name: str, value, x, caller: str):
    """A parameter that receives a gradient, as a tensor; refuses integer and bool values.

    A Python number takes the precision the kernel computes in (float64 for
    float64 input, float32 for the others); a tensor keeps its dtype.
    """
    if is_tensor(value):
        tensor = _as_tensor(value)
        if tensor.dtype not in FLOAT_DTYPES:
            dtype = keras.backend.standardize_dtype(tensor.dtype)
            raise TypeError(
                f"{caller}: `{name}` must be floating-point. Received: {name} with dtype={dtype}"
            )
        return tensor
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{caller}: `{name}` must be floating-point. Received: {name}={value!r}")
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    return torch.as_tensor(array, dtype=dtype, device=x.device)


def uniform_like(x, lower: float, upper: float, seed):
    """Noise ``U(lower, upper)`` of ``x``'s shape (float32 for half ``x``).

    ``seed``: ``None`` (fresh noise each call), an int (the same noise for the
    same shape every call) or a ``keras.random.SeedGenerator``.
    """
    dtype = "float32" if x.dtype in HALF_DTYPES else dtype_name(x)
    return keras.random.uniform(tuple(x.shape), lower, upper, dtype=dtype, seed=seed)


def cond(flag, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` by a boolean tensor."""
    return true_fn() if bool(flag) else false_fn()
