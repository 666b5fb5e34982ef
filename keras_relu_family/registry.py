"""One entry per activation: the single place that ties its pieces together.

An :class:`ActivationSpec` names the function, its forward and backward
kernels, its layer, its numpy reference and derivative, TensorFlow's own
versions, where its derivative jumps, and the parameter values the tests
use. Defaults come from the function's signature, the formula and paper
from its docstring. The tests, the docs tables and the ``"krf_<name>"``
activation strings are all generated from :data:`REGISTRY`, so adding an
activation means adding one entry here.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping

import keras

from keras_relu_family import activations as fn
from keras_relu_family import baselines, layers, reference
from keras_relu_family._kernels import Kernel
from keras_relu_family._kernels import exponential as exp_k
from keras_relu_family._kernels import rectifiers as rect_k
from keras_relu_family._kernels import smooth as smooth_k

PACKAGE = "keras_relu_family"
STRING_PREFIX = "krf_"


@dataclasses.dataclass(frozen=True)
class ActivationSpec:
    """Everything about one activation.

    Attributes:
        name: Registry name, e.g. ``"leaky_relu"``.
        function: The public function in ``keras_relu_family.activations``.
        kernel: Its forward/backward pair (the main one, where the function
            picks between several by its parameters).
        layer: The Keras layer class.
        numpy_forward: Independent float64 numpy reference of the function.
        numpy_derivative: Its derivative (right-hand at kinks); for an
            activation with a trainable parameter, a pair (d/dx, d/dparam).
        builtin: Fastest TensorFlow/Keras built-in equivalent.
        autodiff: Plain TensorFlow formula differentiated by TensorFlow.
        kinks: ``params -> tuple`` of points where the derivative jumps.
        param_sets: Parameter values the tests run with; the first is the
            defaults (plus required arguments).
        layer_kwargs: Non-default layer arguments for the Keras layer test.
        trainable: Names of parameters that can receive gradients.
        string: Whether ``"krf_<name>"`` names it as an activation string
            (not for required trainable parameters).
        dead_rule: ``params -> rule`` for a rectifier, ``None`` otherwise. A rule is
            ``("output", v)`` (a unit fired where its output is ``> v``) or
            ``("input", k)`` (fired where its input is ``>= k``, the kink below
            which no gradient passes but the small leaky slope).
    """

    name: str
    function: Callable
    kernel: Kernel
    layer: type
    numpy_forward: Callable
    numpy_derivative: Callable
    kinks: Callable[[Mapping], tuple]
    param_sets: tuple
    layer_kwargs: Mapping
    trainable: tuple = ()
    string: bool = True
    dead_rule: Callable[[Mapping], tuple] | None = None

    def params_of(self, obj) -> dict:
        """The fixed keyword parameters of ``obj``: a layer's config, or the function's defaults."""
        if isinstance(obj, keras.layers.Layer):
            config = obj.get_config()
            return {k: config[k] for k in self.defaults if k in config}
        return dict(self.defaults)

    def dead_rule_of(self, obj):
        """The dead-unit rule of ``obj`` (this activation's layer or function), or ``None``."""
        return None if self.dead_rule is None else self.dead_rule(self.params_of(obj))

    @property
    def builtin(self) -> Callable:
        return baselines.BUILTIN[self.name]

    @property
    def autodiff(self) -> Callable:
        return baselines.AUTODIFF[self.name]

    @property
    def defaults(self) -> dict:
        """Keyword defaults of the function (and so of the layer)."""
        return {
            name: p.default
            for name, p in inspect.signature(self.function).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

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


def _at_zero(_params):
    return (0.0,)


def _none(_params):
    return ()


def _output_zero(_params):
    return ("output", 0.0)


def _input_zero(_params):
    return ("input", 0.0)


REGISTRY: dict = {
    spec.name: spec
    for spec in [
        ActivationSpec(
            "relu",
            fn.relu,
            rect_k.RELU,
            layers.ReLU,
            reference.relu,
            reference.relu_grad,
            _at_zero,
            ({},),
            {},
            dead_rule=_output_zero,
        ),
        ActivationSpec(
            "leaky_relu",
            fn.leaky_relu,
            rect_k.LEAKY_RELU,
            layers.LeakyReLU,
            reference.leaky_relu,
            reference.leaky_relu_grad,
            _at_zero,
            ({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": 1.5}),
            {"negative_slope": 0.2},
            dead_rule=_input_zero,
        ),
        ActivationSpec(
            "prelu",
            fn.prelu,
            rect_k.PRELU,
            layers.PReLU,
            reference.prelu,
            reference.prelu_grad,
            _at_zero,
            ({"alpha": 0.25}, {"alpha": 1.5}, {"alpha": -0.3}),
            {"alpha_initializer": keras.initializers.Constant(0.1), "shared_axes": [1]},
            trainable=("alpha",),
            string=False,
            dead_rule=_input_zero,
        ),
        ActivationSpec(
            "elu",
            fn.elu,
            exp_k.elu_kernel(1.0)[0],
            layers.ELU,
            reference.elu,
            reference.elu_grad,
            lambda p: () if p.get("alpha", 1.0) == 1.0 else (0.0,),
            ({}, {"alpha": 0.5}, {"alpha": 2.0}, {"alpha": 0.0}),
            {"alpha": 0.5},
        ),
        ActivationSpec(
            "swish",
            fn.swish,
            smooth_k.SWISH,
            layers.Swish,
            reference.swish,
            reference.swish_grad,
            _none,
            ({}, {"beta": 1.7}, {"beta": -0.5}),
            {"beta": 1.5, "trainable_beta": True},
            trainable=("beta",),
        ),
        ActivationSpec(
            "relu6",
            fn.relu6,
            rect_k.RELU6,
            layers.ReLU6,
            reference.relu6,
            reference.relu6_grad,
            lambda p: (0.0, 6.0),
            ({},),
            {},
            dead_rule=_output_zero,
        ),
        ActivationSpec(
            "rrelu",
            fn.rrelu,
            rect_k.RRELU,
            layers.RReLU,
            reference.rrelu,
            reference.rrelu_grad,
            _at_zero,
            ({}, {"lower": 0.1, "upper": 0.5}),
            {"lower": 0.1, "upper": 0.5, "seed": 7},
            dead_rule=_input_zero,
        ),
        ActivationSpec(
            "selu",
            fn.selu,
            exp_k.SELU,
            layers.SELU,
            reference.selu,
            reference.selu_grad,
            _at_zero,
            ({},),
            {},
        ),
        ActivationSpec(
            "celu",
            fn.celu,
            exp_k.celu_kernel(2.0)[0],
            layers.CELU,
            reference.celu,
            reference.celu_grad,
            _none,
            ({}, {"alpha": 2.0}, {"alpha": 0.3}),
            {"alpha": 2.0},
        ),
        ActivationSpec(
            "gelu",
            fn.gelu,
            smooth_k.GELU,
            layers.GELU,
            reference.gelu,
            reference.gelu_grad,
            _none,
            ({}, {"approximate": True}),
            {"approximate": True},
        ),
        ActivationSpec(
            "mish",
            fn.mish,
            smooth_k.MISH,
            layers.Mish,
            reference.mish,
            reference.mish_grad,
            _none,
            ({},),
            {},
        ),
        ActivationSpec(
            "hard_swish",
            fn.hard_swish,
            smooth_k.HARD_SWISH,
            layers.HardSwish,
            reference.hard_swish,
            reference.hard_swish_grad,
            lambda p: (-3.0, 3.0),
            ({},),
            {},
        ),
        ActivationSpec(
            "softplus",
            fn.softplus,
            smooth_k.SOFTPLUS,
            layers.Softplus,
            reference.softplus,
            reference.softplus_grad,
            lambda p: (p.get("threshold", 20.0) / p.get("beta", 1.0),),
            ({}, {"beta": 2.0, "threshold": 5.0}, {"beta": 0.5}),
            {"beta": 2.0, "threshold": 5.0},
        ),
    ]
}

for _spec in REGISTRY.values():
    keras.saving.register_keras_serializable(package=PACKAGE, name=_spec.name)(_spec.function)


def available() -> list:
    """The sorted names of all activations."""
    return sorted(REGISTRY)


def spec(name: str) -> ActivationSpec:
    """The registry entry for ``name``; ``ValueError`` listing the names if unknown."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(
            f"Unknown activation. Expected one of {available()}. Received: name={name!r}"
        )
    return REGISTRY[name]


def spec_of(obj) -> ActivationSpec | None:
    """The entry whose function, layer class or layer instance ``obj`` is; ``None`` if none."""
    for entry in REGISTRY.values():
        if obj is entry.function or obj is entry.layer or type(obj) is entry.layer:
            return entry
    return None


def get(name: str) -> Callable:
    """The function for ``name`` (e.g. ``get("elu")(x, alpha=0.5)``)."""
    return spec(name).function


def string_table() -> dict:
    """Every activation string (``krf_<name>`` and ``keras_relu_family>name``) to its function."""
    return {s: spec.function for spec in REGISTRY.values() for s in spec.string_names}
