"""The exponential family, ELU, SELU and CELU, which share one kernel.

Their backward passes are built from the saved output ``y`` rather than the
input, so that the input can be freed after the forward pass (what
``tf.nn.elu``'s own gradient does). For ``alpha > 0`` the sign of ``y`` is
the sign of ``x``, and on the negative side the derivative is a function of
``y``: ``elu'(x) = y + alpha`` and ``celu'(x) = y / alpha + 1``.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, kink_at_zero, no_kinks
from keras_relu_family.family.relu import RELU

# Klambauer et al. 2017, eq. (14): the fixed point (mean 0, variance 1).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _expm1_by_tanh(z):
    """``exp(z) - 1`` for ``z <= 0``, as ``2t / (1 - t)`` with ``t = tanh(z / 2)``.

    Not ``exp(z) - 1``: TensorFlow's own ``Elu`` and ``Selu`` kernels subtract,
    which costs 1e-5 relative error at z = -1e-3 and 19% at z = -1e-7 in
    float32. ``expm1`` is accurate but takes an exponential and a logarithm
    under XLA (twice the time of ``exp``) and runs one element at a time in
    TensorFlow's own kernel; ``tanh`` is one vectorised rational function in
    both, and the identity has no cancellation for z <= 0 (within 3.1e-7
    relative in float32, 7e-16 in float64).
    """
    t = xp.tanh(0.5 * z)
    return (2.0 * t) / (1.0 - t)


# A backend whose compiler has a faster accurate form names it (PyTorch: torch_ops).
_expm1_nonpositive = getattr(xp, "expm1_nonpositive", _expm1_by_tanh)


def _exp_branch(x, alpha, width, scale=1.0):
    """``scale * x`` where ``x >= 0``, else ``scale * alpha * (exp(x / width) - 1)``.

    The select (or max) comes last, so that XLA fuses all of it into the one
    loop that writes ``y`` (a multiply after it would make XLA copy the
    multiply and the select into the backward pass and write the
    exponential out to memory between them).
    """
    # min(x, 0) keeps the branch the select drops finite.
    negative = xp.minimum(x, 0.0)
    if width != 1.0:
        negative = negative / width
    negative = _expm1_nonpositive(negative)
    if scale * alpha != 1.0:
        negative = (scale * alpha) * negative
    if width == 1.0 and scale == 1.0 and alpha <= 1.0:
        # alpha * (e^x - 1) > x for x < 0 and alpha <= 1, and it is 0 (or -0)
        # for x >= 0, so a max picks the right branch, and propagates NaN.
        return xp.maximum(x, negative)
    return xp.where(x >= 0, x if scale == 1.0 else scale * x, negative)


def _elu_fwd(x, *, alpha):
    return _exp_branch(x, alpha, 1.0)


def _elu_bwd(dy, y, *, alpha):
    # For alpha >= 1, y >= 0 exactly where x >= 0, and a NaN y takes the
    # second branch and stays NaN there.
    return (xp.where(y >= 0, dy, dy * (y + alpha)),)


def _elu_from_input_bwd(dy, x, *, alpha):
    # For alpha < 1, alpha * expm1(x) underflows to -0 for the smallest
    # normal x < 0, where y no longer tells the branch: use x.
    return (xp.where(x >= 0, dy, dy * (alpha * xp.exp(xp.minimum(x, 0.0)))),)


def _selu_fwd(x):
    return _exp_branch(x, SELU_ALPHA, 1.0, scale=SELU_SCALE)


def _selu_bwd(dy, y):
    return (xp.where(y >= 0, SELU_SCALE * dy, dy * (y + SELU_SCALE * SELU_ALPHA)),)


def _celu_fwd(x, *, alpha):
    # celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
    return _exp_branch(x, alpha, alpha)


def _celu_bwd(dy, y, *, alpha):
    # (y + alpha) / alpha, not y / alpha + 1: y >= -alpha holds after rounding, and
    # so the derivative stays >= 0.
    return (xp.where(y >= 0, dy, dy * ((y + alpha) / alpha)),)


# Eagerly on PyTorch: its fused elu and elu_backward, which keep x, not y.
def _elu_eager_fwd(x, *, alpha):
    return xp.elu(x, alpha)


def _elu_eager_bwd(dy, x, *, alpha):
    return (xp.elu_grad(dy, x, alpha),)


def _celu_eager_fwd(x, *, alpha):
    return xp.elu(x, alpha, 1.0, 1.0 / alpha)


def _celu_eager_bwd(dy, x, *, alpha):
    return (xp.elu_grad(dy, x, alpha, 1.0, 1.0 / alpha),)


def _selu_eager_fwd(x):
    return xp.elu(x, SELU_ALPHA, SELU_SCALE)


def _selu_eager_bwd(dy, x):
    return (xp.elu_grad(dy, x, SELU_ALPHA, SELU_SCALE),)


_ELU_EAGER = Kernel(_elu_eager_fwd, _elu_eager_bwd, saves_input=True)
ELU_KERNEL = Kernel(_elu_fwd, _elu_bwd, saves_output=True, eager=_ELU_EAGER)
ELU_FROM_INPUT_KERNEL = Kernel(_elu_fwd, _elu_from_input_bwd, saves_input=True, eager=_ELU_EAGER)
CELU_KERNEL = Kernel(
    _celu_fwd,
    _celu_bwd,
    saves_output=True,
    eager=Kernel(_celu_eager_fwd, _celu_eager_bwd, saves_input=True),
)
SELU_KERNEL = Kernel(
    _selu_fwd,
    _selu_bwd,
    saves_output=True,
    eager=Kernel(_selu_eager_fwd, _selu_eager_bwd, saves_input=True),
)


@activation(alpha=check.non_negative)
def elu(x, alpha=1.0):
    """Exponential linear unit.

    Formula:
    ```
    elu(x) = x if x >= 0 else alpha * (exp(x) - 1)
    elu'(x) = 1 if x >= 0 else alpha * exp(x) = elu(x) + alpha
    ```

    Args:
        x: Floating-point input tensor.
        alpha: Scale of the negative saturation, a finite number ``>= 0``.
            Defaults to `1.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.elu([-1.0, 0.0, 2.0])).round(4)
    array([-0.6321,  0.    ,  2.    ], dtype=float32)

    Reference:
        - [Clevert et al., 2015](https://arxiv.org/abs/1511.07289)
    """
    if alpha == 0.0:  # a plain ReLU
        return apply(RELU, x)
    # For 0 < alpha < 1 the backward pass works from the input (see _elu_from_input_bwd).
    return apply(ELU_KERNEL if alpha >= 1.0 else ELU_FROM_INPUT_KERNEL, x, alpha=alpha)


@activation()
def selu(x):
    """Scaled exponential linear unit, with the fixed constants of the paper.

    Formula:
    ```
    selu(x) = scale * (x if x >= 0 else alpha * (exp(x) - 1))
    selu'(x) = scale if x >= 0 else selu(x) + scale * alpha
    alpha = 1.6732632423543772, scale = 1.0507009873554805
    ```

    Args:
        x: Floating-point input tensor.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.selu([-1.0, 0.0, 1.0])).round(4)
    array([-1.1113,  0.    ,  1.0507], dtype=float32)

    Reference:
        - [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """
    return apply(SELU_KERNEL, x)


@activation(alpha=check.positive)
def celu(x, alpha=1.0):
    """Continuously differentiable exponential linear unit.

    Formula:
    ```
    celu(x) = x if x >= 0 else alpha * (exp(x / alpha) - 1)
    celu'(x) = 1 if x >= 0 else exp(x / alpha) = celu(x) / alpha + 1
    ```

    Args:
        x: Floating-point input tensor.
        alpha: A finite number ``> 0``. Defaults to `1.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.celu([-1.0, 0.0, 2.0], alpha=2.0)).round(4)
    array([-0.7869,  0.    ,  2.    ], dtype=float32)

    Reference:
        - [Barron, 2017](https://arxiv.org/abs/1704.07483)
    """
    if alpha == 1.0:  # celu with alpha 1 is elu
        return apply(ELU_KERNEL, x, alpha=1.0)
    return apply(CELU_KERNEL, x, alpha=alpha)


class ELU(ActivationLayer):
    """Exponential linear unit layer.

    Formula:
    ```
    elu(x) = x if x >= 0 else alpha * (exp(x) - 1)
    elu'(x) = 1 if x >= 0 else alpha * exp(x) = elu(x) + alpha
    ```

    Args:
        alpha: Scale of the negative saturation, a finite number ``>= 0``.
            Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.ELU()(np.array([[-1.0, 0.0, 2.0]]))).round(4)
    array([[-0.6321,  0.    ,  2.    ]], dtype=float32)

    Reference:
        - [Clevert et al., 2015](https://arxiv.org/abs/1511.07289)
    """

    function = staticmethod(elu)

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(alpha=alpha, **kwargs)


class SELU(ActivationLayer):
    """Scaled exponential linear unit layer.

    Formula:
    ```
    selu(x) = scale * (x if x >= 0 else alpha * (exp(x) - 1))
    selu'(x) = scale if x >= 0 else selu(x) + scale * alpha
    alpha = 1.6732632423543772, scale = 1.0507009873554805
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.SELU()(np.array([[-1.0, 0.0, 1.0]]))).round(4)
    array([[-1.1113,  0.    ,  1.0507]], dtype=float32)

    Reference:
        - [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """

    function = staticmethod(selu)


class CELU(ActivationLayer):
    """Continuously differentiable exponential linear unit layer.

    Formula:
    ```
    celu(x) = x if x >= 0 else alpha * (exp(x / alpha) - 1)
    celu'(x) = 1 if x >= 0 else exp(x / alpha) = celu(x) / alpha + 1
    ```

    Args:
        alpha: A finite number ``> 0``. Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.CELU(alpha=2.0)(np.array([[-1.0, 0.0, 2.0]]))).round(4)
    array([[-0.7869,  0.    ,  2.    ]], dtype=float32)

    Reference:
        - [Barron, 2017](https://arxiv.org/abs/1704.07483)
    """

    function = staticmethod(celu)

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(alpha=alpha, **kwargs)


def _piecewise(x, positive, negative):
    with np.errstate(all="ignore"):
        out = np.where(x >= 0, positive, negative)
    return np.where(np.isnan(x), np.nan, out)


def numpy_elu(x, alpha=1.0):
    x = np.asarray(x, np.float64)
    return _piecewise(x, x, alpha * np.expm1(np.minimum(x, 0.0)))


def numpy_elu_grad(x, alpha=1.0):
    x = np.asarray(x, np.float64)
    return _piecewise(x, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def numpy_selu(x):
    return SELU_SCALE * numpy_elu(x, SELU_ALPHA)


def numpy_selu_grad(x):
    return SELU_SCALE * numpy_elu_grad(x, SELU_ALPHA)


def numpy_celu(x, alpha=1.0):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        return _piecewise(x, x, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


def numpy_celu_grad(x, alpha=1.0):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        return _piecewise(x, 1.0, np.exp(np.minimum(x, 0.0) / alpha))


def _exp_autodiff(x, alpha, width=1.0):
    # expm1 through exp(z) - 1 would cancel; write it as TensorFlow's users would, accurately.
    negative = xp.minimum(x, 0.0) / width
    return xp.where(x >= 0, x, alpha * xp.expm1(negative))


def _elu_builtin(x, alpha=1.0):
    return keras.activations.elu(x, alpha)


SPECS = (
    ActivationSpec(
        function=elu,
        layer=ELU,
        numpy_forward=numpy_elu,
        numpy_derivative=numpy_elu_grad,
        builtin=_elu_builtin,
        torch_builtin=lambda F, x, alpha=1.0: F.elu(x, alpha),
        autodiff=lambda x, alpha=1.0: _exp_autodiff(x, alpha),
        kinks=lambda params: () if params.get("alpha", 1.0) == 1.0 else (0.0,),
        param_sets=({}, {"alpha": 0.5}, {"alpha": 2.0}, {"alpha": 0.0}),
        layer_kwargs={"alpha": 0.5},
    ),
    ActivationSpec(
        function=selu,
        layer=SELU,
        numpy_forward=numpy_selu,
        numpy_derivative=numpy_selu_grad,
        builtin=keras.activations.selu,
        torch_builtin=lambda F, x: F.selu(x),
        autodiff=lambda x: SELU_SCALE * _exp_autodiff(x, SELU_ALPHA),
        kinks=kink_at_zero,
    ),
    ActivationSpec(
        function=celu,
        layer=CELU,
        numpy_forward=numpy_celu,
        numpy_derivative=numpy_celu_grad,
        builtin=lambda x, alpha=1.0: keras.activations.celu(x, alpha),
        torch_builtin=lambda F, x, alpha=1.0: F.celu(x, alpha),
        autodiff=lambda x, alpha=1.0: _exp_autodiff(x, alpha, alpha),
        kinks=no_kinks,
        param_sets=({}, {"alpha": 2.0}, {"alpha": 0.3}),
        layer_kwargs={"alpha": 2.0},
    ),
)
