"""Training callbacks: ``GradientMonitor`` and its ``GradientWarning``."""

from keras_relu_family.callbacks.monitor import GradientMonitor, GradientWarning

__all__ = ["GradientMonitor", "GradientWarning"]
