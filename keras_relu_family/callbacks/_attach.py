"""Attaching the dead-unit probes to a model's layers from outside, and detaching them.

Each probed layer (a :class:`~keras_relu_family.callbacks._rectifiers.Target`)
gets an instance attribute ``call`` that runs the layer's own ``call`` and
hands the rectifier's input and output to ``probe(index, inputs, outputs)``:

* a rectifier layer (``form == "call"``): the call's first input and its output;
* a layer with a rectifier ``activation`` attribute (``form == "activation"``):
  for the duration of that one call, the attribute is a function that calls
  the original activation and probes its argument and result; it is the
  original again as soon as the call returns, so ``get_config`` and saving
  (a ``ModelCheckpoint`` during ``fit``) never see the probe.

``active()`` decides at call time whether to probe at all (the monitor
probes only while it traces a training step), so validation and inference
calls pass straight through. No backend is imported here: the probe does
the backend's work.
"""

from __future__ import annotations

import functools


def _first_input(args, kwargs):
    if args:
        return args[0]
    return kwargs["inputs"] if "inputs" in kwargs else next(iter(kwargs.values()))


class Attachment:
    """The probes of one model.

    Args:
        targets: The rectifiers to probe (``Target`` objects).
        probe: ``probe(index, inputs, outputs)``, ``index`` into ``targets``.
        active: ``active() -> bool``: whether a call is to be probed.
    """

    def __init__(self, targets, probe, active):
        self.targets = list(targets)
        self._probe = probe
        self._active = active
        self._saved = []  # (layer, previous instance `call` or None, ours)

    @property
    def attached(self) -> bool:
        return bool(self._saved)

    def attach(self) -> None:
        """Wraps every target's ``call`` (undone by :meth:`detach`)."""
        self.detach()
        for index, target in enumerate(self.targets):
            layer = target.layer
            previous = vars(layer).get("call")
            original = layer.call
            if target.form == "call":
                ours = self._wrap_call(index, original)
            else:
                ours = self._wrap_activation(index, layer, original)
            object.__setattr__(layer, "call", ours)
            self._saved.append((layer, previous, ours))

    def detach(self) -> None:
        """Restores every layer's ``call``; a wrapper someone put on top of ours stays."""
        for layer, previous, ours in reversed(self._saved):
            if vars(layer).get("call") is not ours:
                continue
            if previous is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", previous)
        self._saved = []

    def _wrap_call(self, index, original):
        @functools.wraps(original)
        def call(*args, **kwargs):
            outputs = original(*args, **kwargs)
            if self._active():
                self._probe(index, _first_input(args, kwargs), outputs)
            return outputs

        return call

    def _wrap_activation(self, index, layer, original):
        activation = vars(layer)["activation"]

        @functools.wraps(activation)
        def probed(x, *args, **kwargs):
            y = activation(x, *args, **kwargs)
            self._probe(index, x, y)
            return y

        @functools.wraps(original)
        def call(*args, **kwargs):
            if not self._active():
                return original(*args, **kwargs)
            object.__setattr__(layer, "activation", probed)
            try:
                return original(*args, **kwargs)
            finally:
                object.__setattr__(layer, "activation", activation)

        return call
