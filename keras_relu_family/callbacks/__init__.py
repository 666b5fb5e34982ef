"""Training callbacks: ``GradientMonitor``, its ``GradientWarning``, and ``WatchedLoop``."""

from keras_relu_family.callbacks._loop import WatchedLoop
from keras_relu_family.callbacks.monitor import GradientMonitor, GradientWarning

__all__ = ["GradientMonitor", "GradientWarning", "WatchedLoop"]
