"""The backend the kernels run on, chosen once, at import, by Keras's backend.

Each backend gives two things:

* ``xp``: the array functions the kernels are written in (``xp.where``,
  ``xp.exp``, ...). Every kernel of ``keras_relu_family.family`` is written
  once in this small vocabulary, so that the maths has one copy.
* ``apply(kernel, x, params, **static)``: the one wrapper that turns a
  :class:`~keras_relu_family._kernel.Kernel` (a forward and a backward pure
  function) into an op with that hand-written gradient, in the backend's own
  custom-gradient mechanism (``tf.custom_gradient`` with XLA-fused passes on
  TensorFlow).

and the conversions every public function starts with (``float_tensor``,
``param_tensor``).
"""

from __future__ import annotations

import keras

BACKEND = keras.config.backend()

if BACKEND == "tensorflow":
    from keras_relu_family._backend import tensorflow_ops as xp
    from keras_relu_family._backend.tensorflow import apply
elif BACKEND == "jax":
    from keras_relu_family._backend import jax_ops as xp
    from keras_relu_family._backend.jax import apply
elif BACKEND == "torch":
    from keras_relu_family._backend import torch_ops as xp
    from keras_relu_family._backend.torch import apply
else:  # pragma: no cover - depends on KERAS_BACKEND
    raise ImportError(
        "keras_relu_family runs on Keras's TensorFlow, JAX and PyTorch backends (set "
        f"KERAS_BACKEND before importing Keras). Received: keras.config.backend()={BACKEND!r}"
    )

__all__ = ["BACKEND", "apply", "xp"]
