"""ReLU, with Keras's three arguments: ``negative_slope``, ``max_value`` and ``threshold``."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family import _validation as check
from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, branch, clip_keeping_nan, from_branch
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark
from keras_relu_family.family.hard_tanh import CLIP
from keras_relu_family.family.leaky_relu import LEAKY_RELU


def _branch(x):
    return (branch(x, x >= 0),)


def _backward(dy, code):
    return (from_branch(code, dy),)


def _eager_backward(dy, x):
    return (xp.interval_grad(dy, x, 0.0),)


# The plain ReLU, the defaults' path: y = relu(x) and one byte per element
# (eagerly on PyTorch: x, and PyTorch's fused gradient).
RELU = Kernel(
    xp.relu,
    _backward,
    exact_in_half=True,
    residuals=_branch,
    eager=Kernel(xp.relu, _eager_backward, exact_in_half=True, saves_input=True),
)


def _general_forward(x, *, negative_slope, max_value, threshold):
    # keras.activations.relu op for op, in x's own dtype, so that the values are
    # Keras's exactly; the first select is written `x <= threshold` so that NaN stays NaN.
    y = xp.where(x <= threshold, 0.0, x) if threshold != 0.0 else xp.relu(x)
    if max_value is not None:
        y = clip_keeping_nan(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * xp.relu(threshold - x)
    return y


def _general_branch(x, *, negative_slope, max_value, threshold):
    above = x >= threshold
    one = above if max_value is None else above & (x < max_value)
    return (branch(x, one, slope=(x < threshold) if negative_slope != 0.0 else None),)


def _general_backward(dy, code, *, negative_slope, max_value, threshold):
    return (from_branch(code, dy, slope=negative_slope if negative_slope != 0.0 else None),)


RELU_WITH_ARGUMENTS = Kernel(
    _general_forward, _general_backward, exact_in_half=True, residuals=_general_branch
)


@activation(
    negative_slope=check.non_negative,
    max_value=check.optional_non_negative,
    threshold=check.non_negative,
)
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras's arguments.

    With the defaults, ``max(x, 0)``. As ``keras.activations.relu``: values
    up to ``threshold`` become ``negative_slope * (x - threshold)``, the others
    stay ``x``, capped at ``max_value``.

    Formula:
    ```
    relu(x) = min(x, max_value) if x > threshold else negative_slope * (x - threshold)
    relu'(x) = 1 if threshold <= x < max_value; 0 if x >= max_value; negative_slope if x < threshold
    ```

    At ``x == threshold`` the value is Keras's (``0``) and the slope the
    right-hand one (``1``, so ``relu'(0) = 1``); at ``x == max_value`` the
    slope is ``0``. The values are ``keras.activations.relu``'s, bit for bit,
    except that NaN stays NaN (Keras turns it into 0 when ``threshold != 0``).

    Args:
        x: Floating-point input tensor.
        negative_slope: Slope below ``threshold``, a finite number ``>= 0``.
            Defaults to `0.0`.
        max_value: The largest output, ``None`` (no cap) or a finite number
            ``>= 0``. Defaults to `None`.
        threshold: Where the function turns on, a finite number ``>= 0``.
            Defaults to `0.0`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.relu([-2.0, 0.0, 3.0]))
    array([0., 0., 3.], dtype=float32)
    >>> np.asarray(krf.relu([-2.0, 1.0, 3.0, 9.0], negative_slope=0.5, max_value=6.0))
    array([-1.,  1.,  3.,  6.], dtype=float32)

    Reference:
        - [Nair & Hinton, 2010](https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf)
    """
    if threshold == 0.0:
        if max_value is None:
            if negative_slope == 0.0:
                return apply(RELU, x)
            return apply(LEAKY_RELU, x, negative_slope=negative_slope)
        if negative_slope == 0.0:
            return apply(CLIP, x, low=0.0, high=max_value)
    return apply(
        RELU_WITH_ARGUMENTS,
        x,
        negative_slope=negative_slope,
        max_value=max_value,
        threshold=threshold,
    )


class ReLU(ActivationLayer):
    """Rectified linear unit layer, with ``keras.layers.ReLU``'s arguments.

    Formula:
    ```
    relu(x) = min(x, max_value) if x > threshold else negative_slope * (x - threshold)
    relu'(x) = 1 if threshold <= x < max_value; 0 if x >= max_value; negative_slope if x < threshold
    ```

    Args:
        max_value: The largest output, ``None`` (no cap) or a finite number
            ``>= 0``. Defaults to `None`.
        negative_slope: Slope below ``threshold``, a finite number ``>= 0``.
            Defaults to `0.0`.
        threshold: Where the function turns on, a finite number ``>= 0``.
            Defaults to `0.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.ReLU()(np.array([[-2.0, 0.0, 3.0]])))
    array([[0., 0., 3.]], dtype=float32)
    >>> np.asarray(krf.ReLU(max_value=6.0)(np.array([[-2.0, 3.0, 9.0]])))
    array([[0., 3., 6.]], dtype=float32)

    Reference:
        - [Nair & Hinton, 2010](https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf)
    """

    function = staticmethod(relu)

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(
            max_value=max_value, negative_slope=negative_slope, threshold=threshold, **kwargs
        )


def numpy_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    x = np.asarray(x, np.float64)
    on = x if max_value is None else np.minimum(x, max_value)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.where(x > threshold, on, negative_slope * (x - threshold))
    return np.where(np.isnan(x), np.nan, y)


def numpy_relu_grad(x, negative_slope=0.0, max_value=None, threshold=0.0):
    x = np.asarray(x, np.float64)
    on = 1.0 if max_value is None else np.where(x < max_value, 1.0, 0.0)
    return np.where(np.isnan(x), np.nan, np.where(x >= threshold, on, negative_slope))


def _autodiff(x, negative_slope=0.0, max_value=None, threshold=0.0):
    on = x if max_value is None else xp.minimum(x, max_value)
    return xp.where(x > threshold, on, negative_slope * (x - threshold))


def _torch_builtin(F, x, negative_slope=0.0, max_value=None, threshold=0.0):
    """PyTorch's relu, leaky_relu or relu6 where the arguments are one of those."""
    if threshold != 0.0:
        return None
    if max_value is None:
        return F.relu(x) if negative_slope == 0.0 else F.leaky_relu(x, negative_slope)
    return F.relu6(x) if (max_value, negative_slope) == (6.0, 0.0) else None


def _kinks(params) -> tuple:
    max_value = params.get("max_value")
    return (params.get("threshold", 0.0),) + (() if max_value is None else (max_value,))


def _dead_rule(params) -> tuple:
    if params.get("negative_slope", 0.0) == 0.0 and params.get("threshold", 0.0) == 0.0:
        return ("output", 0.0)
    return ("input", params.get("threshold", 0.0))


# Every combination of the three arguments, with values exact in every float dtype.
_ARGUMENT_SETS = tuple(
    {k: v for k, v in (("negative_slope", s), ("max_value", m), ("threshold", t)) if v}
    for s in (0.0, 0.25)
    for m in (None, 6.0)
    for t in (0.0, 0.5)
)

SPECS = (
    ActivationSpec(
        function=relu,
        layer=ReLU,
        numpy_forward=numpy_relu,
        numpy_derivative=numpy_relu_grad,
        torch_builtin=_torch_builtin,
        builtin=keras.activations.relu,
        autodiff=_autodiff,
        kinks=_kinks,
        param_sets=_ARGUMENT_SETS + ({"max_value": 1.0, "threshold": 2.0},),
        layer_kwargs={"max_value": 6.0, "negative_slope": 0.25, "threshold": 0.5},
        dead_rule=_dead_rule,
        benchmarks=(
            Benchmark(goals={"tf.function": 1.35, "xla": 1.05}),
            Benchmark(
                params={"max_value": 6.0},
                label="relu (max_value=6)",
                goals={"tf.function": 1.05, "xla": 1.05},
            ),
        ),
    ),
)
