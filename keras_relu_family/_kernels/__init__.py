"""Forward and backward passes as pure functions, and the one wrapper that joins them.

Each activation is a :class:`Kernel`: a ``forward(x, *params, **static)``
returning ``(y, saved)`` and a ``backward(dy, *saved, *params, **static)``
returning the gradient with respect to ``x`` followed by one element-wise
gradient per trainable parameter. :func:`apply` turns the pair into a
``tf.custom_gradient`` op: it casts, keeps only ``saved`` for the backward
pass, and reduces each parameter's gradient to that parameter's shape.
"""

from keras_relu_family._kernels._wrap import Kernel, apply

__all__ = ["Kernel", "apply"]
