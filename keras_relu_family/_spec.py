"""The registry entry of one activation, :class:`ActivationSpec`, written in its module.

An entry names the function and the layer, the independent numpy reference
and derivative, the framework's own version (the baseline of the benchmarks),
the plain formula that the framework differentiates (the autodiff reference
of the tests), where the derivative jumps, the parameter values the tests
and the benchmarks use, and, for a rectifier, how to tell a dead unit. Only
the first four are required: a simple entry is a few lines. Defaults come
from the function's signature; the summary, formula and papers from its
docstring.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Mapping

import keras
import numpy as np

PACKAGE = "keras_relu_family"
STRING_PREFIX = "krf_"


def _quiet(reference: Callable) -> Callable:
    """A numpy reference that overflows to +-inf and meets NaN without warnings."""

    @functools.wraps(reference)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return reference(*args, **kwargs)

    return quiet


def no_kinks(_params) -> tuple:
    return ()


def kink_at_zero(_params) -> tuple:
    return (0.0,)


@dataclasses.dataclass(frozen=True)
class Trainable:
    """A benchmark parameter that is a trainable variable: a scalar, or one per channel."""

    value: float
    per_channel: bool = False


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One row of ``benchmarks/activations.py``.

    ``goals`` maps a mode (``"tf.function"``, ``"xla"``) to the ratio ours /
    built-in to meet: a number (at most), ``"<1"`` (strictly faster, where we
    keep less than autodiff) or absent (no goal).
    """

    params: Mapping = dataclasses.field(default_factory=dict)
    label: str | None = None
    goals: Mapping = dataclasses.field(default_factory=lambda: {"tf.function": 1.10, "xla": 1.05})


@dataclasses.dataclass(frozen=True, kw_only=True)
class ActivationSpec:
    """Everything about one activation.

    Attributes:
        function: The public function.
        layer: The Keras layer class.
        numpy_forward: Independent float64 numpy reference of the function.
        numpy_derivative: Its derivative (right-hand at kinks); for an
            activation with a trainable parameter, a pair (d/dx, d/dparam).
        builtin: The framework's own version (``keras.activations`` or
            ``keras.ops``), taking the same arguments; ``None`` if it has none.
        autodiff: The plain formula in the backend's ops (``xp``), whose
            gradient the framework computes.
        torch_builtin: ``(F, x, **params) -> tensor``: PyTorch's own version in
            ``torch.nn.functional`` (passed in as ``F``), or ``None`` where
            PyTorch has none (also returned for parameters it does not take).
        kinks: ``params -> tuple`` of the points where the derivative jumps.
        param_sets: Parameter values the tests run with; the first is the
            defaults (plus required arguments).
        layer_kwargs: Non-default layer arguments for the layer tests.
        trainable: Names of the parameters that can receive gradients.
        dead_rule: For a rectifier, ``params -> rule``: ``("output", v)`` (a
            unit fired where its output is ``> v``) or ``("input", k)`` (fired
            where its input is ``>= k``, the kink below which no gradient
            passes but a small leaky slope). ``None`` for the others.
        benchmarks: The rows of ``benchmarks/activations.py``.
        name: Registry name; defaults to the function's name.
    """

    function: Callable
    layer: type
    numpy_forward: Callable
    numpy_derivative: Callable
    builtin: Callable | None = None
    autodiff: Callable | None = None
    torch_builtin: Callable | None = None
    kinks: Callable[[Mapping], tuple] = no_kinks
    param_sets: tuple = ({},)
    layer_kwargs: Mapping = dataclasses.field(default_factory=dict)
    trainable: tuple = ()
    dead_rule: Callable[[Mapping], tuple] | None = None
    benchmarks: tuple = (Benchmark(),)
    name: str = ""

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.function.__name__)
        for field in ("numpy_forward", "numpy_derivative"):
            object.__setattr__(self, field, _quiet(getattr(self, field)))

    @property
    def defaults(self) -> dict:
        """Keyword defaults of the function (and so of the layer)."""
        return {
            name: p.default
            for name, p in inspect.signature(self.function).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

    @property
    def required(self) -> tuple:
        """The function's parameters without a default, besides ``x``."""
        return tuple(
            name
            for name, p in inspect.signature(self.function).parameters.items()
            if p.default is inspect.Parameter.empty and name != "x"
        )

    @property
    def string(self) -> bool:
        """Whether ``"krf_<name>"`` names it: not when an argument is required (PReLU's alpha)."""
        return not self.required

    @property
    def formula(self) -> str:
        """The Formula block of the function's docstring (function and derivative)."""
        match = re.search(r"Formula:\s*```\n(.*?)```", inspect.getdoc(self.function), re.S)
        return inspect.cleandoc(match.group(1)) if match else ""

    @property
    def summary(self) -> str:
        return inspect.getdoc(self.function).splitlines()[0]

    @property
    def papers(self) -> list:
        """``(label, url)`` pairs from the Reference section of the docstring."""
        return re.findall(r"- \[(.+?)\]\((.+?)\)", inspect.getdoc(self.function))

    @property
    def string_names(self) -> tuple:
        """Activation strings: ``krf_<name>`` and the canonical registered name."""
        return (STRING_PREFIX + self.name, f"{PACKAGE}>{self.name}") if self.string else ()

    def params_of(self, obj) -> dict:
        """The fixed keyword parameters of ``obj``: a layer's config, or the function's defaults."""
        if isinstance(obj, keras.layers.Layer):
            config = obj.get_config()
            return {k: config[k] for k in self.defaults if k in config}
        return dict(self.defaults)

    def dead_rule_of(self, obj):
        """The dead-unit rule of ``obj`` (this activation's layer or function), or ``None``."""
        return None if self.dead_rule is None else self.dead_rule(self.params_of(obj))
