"""Training callbacks: ``GradientMonitor``, its ``GradientWarning``, and ``WatchedLoop``.

``WatchedLoop`` (``GradientMonitor.watch``, for custom training loops) is
TensorFlow's; the monitor itself runs on all three of Keras's backends.
"""

import keras

from keras_relu_family.callbacks.monitor import GradientMonitor, GradientWarning

__all__ = ["GradientMonitor", "GradientWarning"]

if keras.config.backend() == "tensorflow":
    from keras_relu_family.callbacks._loop import WatchedLoop

    __all__ += ["WatchedLoop"]
