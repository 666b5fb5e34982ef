"""What ``fit`` and a watched custom loop share: one capture, its hooks and probes.

An ``Engine`` ties a :class:`GradientCapture` (the buffers and optimizer hooks)
to an :class:`Attachment` (the dead-unit probes on the layers), attaches and
detaches both, marks the traced training step, picks the mode of each call
and keeps the step count in line with ``optimizer.iterations``.
"""

from __future__ import annotations

from keras_relu_family.callbacks._capture import GradientCapture
from keras_relu_family.callbacks._engine_base import BaseEngine


class Engine(BaseEngine):
    """The in-graph side of one monitored model and optimizer on TensorFlow (arguments:
    :class:`~keras_relu_family.callbacks._engine_base.BaseEngine`)."""

    capture_class = GradientCapture

    def __init__(self, monitor, model, optimizer, ring, first_step):
        super().__init__(monitor, model, optimizer, ring, first_step)
        self._train_step = None

    @property
    def attached(self) -> bool:
        return bool(self.capture._saved) or self.attachment.attached or bool(self._train_step)

    def attach(self, wrap_train_step: bool) -> None:
        """Installs the optimizer hooks and the probes (and marks ``model.train_step``)."""
        self.detach()
        self.capture.install()
        self.attachment.attach()
        if wrap_train_step:
            original = self.model.train_step
            capture = self.capture

            def train_step(data):
                with capture.tracing():
                    return original(data)

            object.__setattr__(self.model, "train_step", train_step)
            self._train_step = train_step

    def detach(self) -> None:
        self.capture.uninstall()
        self.attachment.detach()
        if self._train_step is not None and vars(self.model).get("train_step") is self._train_step:
            object.__delattr__(self.model, "train_step")
        self._train_step = None

    def begin_batch(self) -> None:
        """Nothing: on TensorFlow the traced train step marks itself (``attach``)."""

    def end_batch(self) -> None:
        """Nothing (see :meth:`begin_batch`)."""
