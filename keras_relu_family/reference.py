"""Independent numpy references, written from the formulas in float64.

The tests compare the TensorFlow kernels against these; nothing here calls
TensorFlow or this package's kernels. Each ``<name>`` is the function and
each ``<name>_grad`` its derivative (the right-hand one at a kink, the
package's convention). Inputs are converted to float64 first; NaN stays NaN.
"""

from __future__ import annotations

import functools
import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _quiet(function):
    """Overflow to +-inf on the way (e.g. -max / alpha) and NaN inputs are expected."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return function(*args, **kwargs)

    return wrapper


def _sigmoid(z):
    """1 / (1 + exp(-z)) without overflow on either side."""
    z = _f64(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _piecewise(x, positive, negative):
    """``positive`` where ``x >= 0``, ``negative`` where ``x < 0``, NaN where NaN."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        out = np.where(x >= 0, positive, negative)
    return np.where(np.isnan(x), np.nan, out)


@_quiet
def relu(x):
    x = _f64(x)
    return _piecewise(x, x, 0.0)


@_quiet
def relu_grad(x):
    return _piecewise(x, 1.0, 0.0)


@_quiet
def relu6(x):
    x = _f64(x)
    return _piecewise(x, np.minimum(x, 6.0), 0.0)


@_quiet
def relu6_grad(x):
    x = _f64(x)
    return _piecewise(x, np.where(x < 6.0, 1.0, 0.0), 0.0)


@_quiet
def leaky_relu(x, negative_slope=0.01):
    x = _f64(x)
    return _piecewise(x, x, negative_slope * x)


@_quiet
def leaky_relu_grad(x, negative_slope=0.01):
    return _piecewise(x, 1.0, negative_slope)


@_quiet
def prelu(x, alpha):
    x = _f64(x)
    return _piecewise(x, x, _f64(alpha) * x)


@_quiet
def prelu_grad(x, alpha):
    """Element-wise derivatives with respect to ``x`` and to ``alpha`` (before any reduction)."""
    x = _f64(x)
    dx = _piecewise(x, 1.0, np.broadcast_to(_f64(alpha), x.shape))
    dalpha = _piecewise(x, 0.0, x)
    return dx, dalpha


@_quiet
def rrelu(x, lower=1.0 / 8.0, upper=1.0 / 3.0):
    """Inference mode: the mean slope."""
    return leaky_relu(x, (lower + upper) / 2.0)


@_quiet
def rrelu_grad(x, lower=1.0 / 8.0, upper=1.0 / 3.0):
    return leaky_relu_grad(x, (lower + upper) / 2.0)


@_quiet
def elu(x, alpha=1.0):
    x = _f64(x)
    return _piecewise(x, x, alpha * np.expm1(np.minimum(x, 0.0)))


@_quiet
def elu_grad(x, alpha=1.0):
    x = _f64(x)
    return _piecewise(x, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


@_quiet
def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)


@_quiet
def selu_grad(x):
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


@_quiet
def celu(x, alpha=1.0):
    x = _f64(x)
    return _piecewise(x, x, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


@_quiet
def celu_grad(x, alpha=1.0):
    x = _f64(x)
    return _piecewise(x, 1.0, np.exp(np.minimum(x, 0.0) / alpha))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _gelu_tanh_gate(x):
    """0.5 * (1 + tanh(u)) written as sigmoid(2u), which has no cancellation for x << 0."""
    with np.errstate(over="ignore"):
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return _sigmoid(2.0 * u), u


@_quiet
def gelu(x, approximate=False):
    x = _f64(x)
    if approximate:
        return x * _gelu_tanh_gate(x)[0]
    return x * 0.5 * _erfc(-x / math.sqrt(2.0))


@_quiet
def gelu_grad(x, approximate=False):
    x = _f64(x)
    with np.errstate(over="ignore", invalid="ignore"):
        if approximate:
            gate, u = _gelu_tanh_gate(x)
            du = math.sqrt(2.0 / math.pi) * (1.0 + 3.0 * 0.044715 * x**2)
            # d/dx [x * sigmoid(2u)] = s + x * 2 u' * s * (1 - s)
            tail = x * 2.0 * du * gate * _sigmoid(-2.0 * u)
            return gate + np.where(np.isfinite(tail), tail, 0.0) + 0.0 * x
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return 0.5 * _erfc(-x / math.sqrt(2.0)) + np.where(np.abs(x) < 1e150, x * pdf, 0.0)


@_quiet
def swish(x, beta=1.0):
    x = _f64(x)
    with np.errstate(over="ignore"):
        return x * _sigmoid(beta * x)


@_quiet
def swish_grad(x, beta=1.0):
    """Derivatives with respect to ``x`` and to ``beta`` (element-wise)."""
    x = _f64(x)
    with np.errstate(over="ignore", invalid="ignore"):
        z = beta * x
        s, s_minus = _sigmoid(z), _sigmoid(-z)
        zss = np.where(np.isinf(z), 0.0, z * s * s_minus)
        dbeta = np.where(np.isinf(z), 0.0, x * x * s * s_minus)
    nan = np.isnan(x)
    return np.where(nan, np.nan, s + zss), np.where(nan, np.nan, dbeta)


def _softplus(z):
    """log(1 + exp(z)) without overflow."""
    return np.logaddexp(0.0, _f64(z))


@_quiet
def mish(x):
    x = _f64(x)
    return x * np.tanh(_softplus(x))


@_quiet
def mish_grad(x):
    x = _f64(x)
    sp = _softplus(x)
    with np.errstate(over="ignore"):
        sech2 = 1.0 / np.cosh(sp) ** 2
    return np.tanh(sp) + np.where(sech2 == 0.0, 0.0, x * _sigmoid(x) * sech2)


@_quiet
def hard_swish(x):
    x = _f64(x)
    return x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0)


@_quiet
def hard_swish_grad(x):
    x = _f64(x)
    out = np.where(x < -3.0, 0.0, np.where(x < 3.0, (2.0 * x + 3.0) / 6.0, 1.0))
    return np.where(np.isnan(x), np.nan, out)


@_quiet
def softplus(x, beta=1.0, threshold=20.0):
    x = _f64(x)
    with np.errstate(over="ignore"):
        z = beta * x
    return np.where(z > threshold, x, _softplus(z) / beta)


@_quiet
def softplus_grad(x, beta=1.0, threshold=20.0):
    x = _f64(x)
    with np.errstate(over="ignore"):
        z = beta * x
    out = np.where(z > threshold, 1.0, _sigmoid(z))
    return np.where(np.isnan(x), np.nan, out)
