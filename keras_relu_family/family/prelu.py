"""Parametric ReLU: a learned slope for negative inputs."""

from __future__ import annotations

import keras
import numpy as np

from keras_relu_family._backend import apply, xp
from keras_relu_family._function import activation
from keras_relu_family._kernel import Kernel, nan_where_nan
from keras_relu_family._layer import ActivationLayer
from keras_relu_family._spec import ActivationSpec, Benchmark, Trainable, kink_at_zero
from keras_relu_family.family.leaky_relu import slope_forward


def _backward(dy, x, alpha):
    positive = x >= 0
    dx = xp.where(positive, dy, nan_where_nan(x, alpha * dy))
    dalpha = xp.where(positive, 0.0, x * dy)
    return dx, dalpha


def _eager_forward(x, alpha):
    return xp.prelu(x, alpha)


def _eager_backward(dy, x, alpha):
    return xp.prelu_grads(dy, x, alpha)


# Eagerly on PyTorch: its fused PReLU ops, moved to our slope at 0 and NaN.
PRELU = Kernel(
    slope_forward,
    _backward,
    saves_input=True,
    eager=Kernel(_eager_forward, _eager_backward, saves_input=True),
)


@activation()
def prelu(x, alpha):
    """Parametric ReLU: a learned slope for negative inputs.

    Formula:
    ```
    prelu(x) = x if x >= 0 else alpha * x     (piecewise, not max(x, alpha * x))
    d/dx     = 1 if x >= 0 else alpha
    d/dalpha = 0 if x >= 0 else x             (summed over broadcast axes)
    ```

    Args:
        x: Floating-point input tensor.
        alpha: Floating-point tensor (or variable) broadcastable to ``x``. It is
            cast to ``x``'s dtype for the computation, and its gradient comes
            back in its own dtype and shape.

    Example:

    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> np.asarray(krf.prelu([-2.0, 0.0, 3.0], alpha=0.25))
    array([-0.5,  0. ,  3. ], dtype=float32)

    Reference:
        - [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """
    return apply(PRELU, x, (xp.param_tensor("alpha", alpha, x, "prelu"),))


def _check_shared_axes(shared_axes):
    if shared_axes is None:
        return None
    axes = [shared_axes] if isinstance(shared_axes, int) else shared_axes
    if not isinstance(axes, (list, tuple)) or not all(
        isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes
    ):
        raise ValueError(
            "`shared_axes` must be None, an int or a list of ints >= 1 (axis 0 is the "
            f"batch). Received: shared_axes={shared_axes!r}"
        )
    return list(axes)


class PReLU(ActivationLayer):
    """Parametric ReLU layer with a trainable slope ``alpha``.

    Formula:
    ```
    prelu(x) = x if x >= 0 else alpha * x     (piecewise, not max(x, alpha * x))
    d/dx     = 1 if x >= 0 else alpha
    d/dalpha = 0 if x >= 0 else x             (summed over broadcast axes)
    ```

    ``alpha`` has the shape of one example (``input_shape[1:]``) with the
    ``shared_axes`` set to 1. It starts at 0.25, as in He et al. and PyTorch
    (Keras's own ``PReLU`` starts at 0, a plain ReLU). The variable stays in
    the layer's variable dtype under mixed precision and its gradient comes
    back in that dtype.

    Args:
        alpha_initializer: Initializer for ``alpha``. Defaults to
            `keras.initializers.Constant(0.25)`.
        alpha_regularizer: Optional regularizer for ``alpha``.
        alpha_constraint: Optional constraint for ``alpha``.
        shared_axes: Axes (``>= 1``; 0 is the batch) along which ``alpha`` is
            shared, e.g. ``[1, 2]`` after a ``Conv2D`` for one slope per
            channel. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> import keras_relu_family as krf
    >>> keras.ops.convert_to_numpy(krf.PReLU()(np.array([[-2.0, 0.0, 3.0]])))
    array([[-0.5,  0. ,  3. ]], dtype=float32)

    Reference:
        - [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    function = staticmethod(prelu)

    def __init__(
        self,
        alpha_initializer=None,
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if alpha_initializer is None:
            alpha_initializer = keras.initializers.Constant(0.25)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        self.shared_axes = _check_shared_axes(shared_axes)

    def build(self, input_shape):
        rank = len(input_shape)
        for axis in self.shared_axes or ():
            if axis >= rank:
                raise ValueError(
                    f"`shared_axes` entries must be between 1 and {rank - 1} for inputs "
                    f"of shape {tuple(input_shape)}. Received: shared_axes={self.shared_axes}"
                )
        shared = set(self.shared_axes or ())
        param_shape = [1 if i in shared else input_shape[i] for i in range(1, rank)]
        if any(size is None for size in param_shape):
            raise ValueError(
                "PReLU needs a known size on every axis that is not shared; put the "
                f"unknown axes in `shared_axes`. Received: input_shape={tuple(input_shape)}, "
                f"shared_axes={self.shared_axes}"
            )
        self.alpha = self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
            autocast=False,  # the kernel casts; the gradient stays in the variable dtype
        )
        axes = {i: input_shape[i] for i in range(1, rank) if i not in shared}
        self.input_spec = keras.layers.InputSpec(ndim=rank, axes=axes)

    def call(self, inputs):
        return prelu(inputs, self.alpha)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha_initializer": keras.initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes,
            }
        )
        return config


def numpy_prelu(x, alpha):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x >= 0, x, np.asarray(alpha, np.float64) * x)


def numpy_prelu_grad(x, alpha):
    """Element-wise derivatives with respect to ``x`` and to ``alpha`` (before any reduction)."""
    x = np.asarray(x, np.float64)
    nan = np.isnan(x)
    alpha = np.broadcast_to(np.asarray(alpha, np.float64), x.shape)
    dx = np.where(nan, np.nan, np.where(x >= 0, 1.0, alpha))
    dalpha = np.where(nan, np.nan, np.where(x >= 0, 0.0, x))
    return dx, dalpha


def _builtin(x, alpha):
    # keras.layers.PReLU.call
    relu = keras.ops.relu
    return relu(x) - keras.ops.cast(alpha, x.dtype) * relu(-x)


SPECS = (
    ActivationSpec(
        function=prelu,
        layer=PReLU,
        numpy_forward=numpy_prelu,
        numpy_derivative=numpy_prelu_grad,
        torch_builtin=lambda F, x, alpha: F.prelu(
            x, alpha.reshape(-1) if alpha.dim() else alpha.reshape(1)
        ),
        builtin=_builtin,
        autodiff=lambda x, alpha: xp.where(x >= 0, x, xp.cast(alpha, x.dtype) * x),
        kinks=kink_at_zero,
        param_sets=({"alpha": 0.25}, {"alpha": 1.5}, {"alpha": -0.3}),
        layer_kwargs={"alpha_initializer": keras.initializers.Constant(0.1), "shared_axes": [1]},
        trainable=("alpha",),
        dead_rule=lambda params: ("input", 0.0),
        benchmarks=(
            Benchmark(
                params={"alpha": Trainable(0.25, per_channel=True)},
                goals={"tf.function": "<1", "xla": 1.05},
            ),
        ),
    ),
)
