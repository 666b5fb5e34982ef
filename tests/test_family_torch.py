"""On PyTorch: every activation against ``torch.nn.functional``'s own, in float64.

Forward values and gradients on the ordinary inputs, away from the kinks
(where PyTorch's conventions differ from ours: ``relu'(0)`` is 0 there, 1
here), for every registry entry whose ``torch_builtin`` names PyTorch's
version and every parameter set it takes. Equal to 1e-12 relative, or, where
PyTorch's value differs more, closer than PyTorch's to the numpy reference
(PyTorch's CELU gradient, for one, works from the output and cancels in the
tail: 5.77775212e-8 for exp(-5 / 0.3) = 5.77774852e-8).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _family_helpers import (
    CASE_IDS,
    CASES,
    assert_close,
    away_from_kinks,
    call,
    inputs,
    numpy_derivative,
    ordinary,
    representable,
    value_and_grad,
)
from test_family_gradients import grad_tol

import keras_relu_family as krf
from keras_relu_family._backend import torch_ops

TORCH_CASES = [(c, i) for c, i in zip(CASES, CASE_IDS, strict=True) if c[0].torch_builtin]


def _torch_params(params):
    """Python numbers as they are; PReLU's alpha as PyTorch's weight tensor."""
    return {
        k: torch.tensor(v, dtype=torch.float64) if k == "alpha" and isinstance(v, float) else v
        for k, v in params.items()
    }


def test_pytorch_has_a_version_of_most_of_the_family():
    names = {spec.name for (spec, _), _ in TORCH_CASES}
    assert len(names) >= 15, names  # all but squareplus and sparse_plus


@pytest.mark.parametrize(
    ("spec", "params"), [c for c, _ in TORCH_CASES], ids=[i for _, i in TORCH_CASES]
)
def test_forward_and_gradient_match_torch_nn_functional_in_float64(spec, params):
    x = ordinary()
    x = torch.tensor(x[away_from_kinks(x, spec.kinks(params))], dtype=torch.float64)
    theirs_fn = lambda u: spec.torch_builtin(F, u, **_torch_params(params))  # noqa: E731
    if theirs_fn(x) is None:
        pytest.skip(f"torch.nn.functional has no {spec.name} with {params}")
    y, dx = value_and_grad(lambda u: call(spec, u, params), x)
    y_ref, dx_ref = value_and_grad(theirs_fn, x)
    exact = (spec.numpy_forward(x.numpy(), **params), numpy_derivative(spec, x.numpy(), params))
    for what, ours, theirs, reference in (
        ("forward", y.numpy(), y_ref.numpy(), exact[0]),
        ("gradient", dx.numpy(), dx_ref.numpy(), exact[1]),
    ):
        agree = np.isclose(ours, theirs, rtol=1e-12, atol=1e-14)
        closer = np.abs(ours - reference) <= np.abs(theirs - reference)
        assert (agree | closer).all(), (what, x.numpy()[~(agree | closer)][:5])
        assert agree.mean() > 0.5, (what, agree.mean())  # mostly the same numbers


# -- the eager forms (``Kernel.eager``): PyTorch's fused backward ops at our conventions ----

EAGER_FORMS = {
    "relu": lambda u: krf.relu(u),
    "relu max_value": lambda u: krf.relu(u, max_value=6.0),
    "relu6": lambda u: krf.relu6(u),
    "hard_tanh": lambda u: krf.hard_tanh(u, min_val=-1.0, max_val=0.5),
    "leaky_relu": lambda u: krf.leaky_relu(u, negative_slope=0.1),
    # slopes below 1/2 take lerp_, the 0.7 one PyTorch's fused op with its zeros rewritten
    "leaky_relu slope 0": lambda u: krf.leaky_relu(u, negative_slope=0.0),
    "leaky_relu slope 0.49": lambda u: krf.leaky_relu(u, negative_slope=0.49),
    "leaky_relu slope 0.7": lambda u: krf.leaky_relu(u, negative_slope=0.7),
    "rrelu inference": lambda u: krf.rrelu(u),
    "threshold": lambda u: krf.threshold(u, threshold=0.5, value=-1.0),
}
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def _edges(dtype):
    """Every kink of the forms above, both zeros, subnormals, infinities, NaN, and noise."""
    finfo = torch.finfo(dtype)
    sub = float(finfo.smallest_normal) / 4
    special = [-np.inf, -6.0, -1.0, -sub, -0.0, 0.0, sub, 0.5, 1.0, 6.0, np.inf, np.nan]
    noise = np.random.default_rng(0).normal(0.0, 4.0, 500)
    x = torch.tensor(np.concatenate([special, np.round(noise * 2) / 2, noise]), dtype=torch.float64)
    return x.to(dtype)


def _value_and_grad(fn, x, dy):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    (dx,) = torch.autograd.grad(y, [x], grad_outputs=dy)
    return y.detach(), dx


def _eager_and_kernel(run, monkeypatch):
    """``run()`` eagerly, where ``apply`` takes a kernel's eager form, then told that it is
    compiling, where it takes the kernel itself (what torch.compile traces)."""
    eager = run()
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    return eager, run()


def _ulps(dtype) -> tuple:
    """``(eps, rounding)``: the epsilon of the dtype the kernels compute ``dtype`` in
    (float32 for the halves), and that of the one rounding to a half dtype at the end."""
    finfo = torch.finfo(dtype)
    if finfo.bits < 32:
        return float(torch.finfo(torch.float32).eps), float(finfo.eps)
    return float(finfo.eps), 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
@pytest.mark.parametrize("name", list(EAGER_FORMS))
def test_eager_forms_equal_the_kernels_they_stand_for(name, dtype, monkeypatch):
    # The eager form and the kernel must agree exactly, kinks included.
    fn, x = EAGER_FORMS[name], _edges(dtype)
    dy = torch.tensor(np.random.default_rng(1).normal(size=x.shape[0]), dtype=dtype)
    eager, kernel = _eager_and_kernel(lambda: _value_and_grad(fn, x, dy), monkeypatch)
    for what, a, b in zip(("forward", "gradient"), eager, kernel, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=what)
    assert torch.isnan(eager[1][x.isnan()]).all()  # NaN in, NaN gradient out


@pytest.mark.parametrize("per_unit", [False, True], ids=["one alpha", "alpha per unit"])
@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_prelu_eager_form_equals_its_kernel_in_both_gradients(dtype, per_unit, monkeypatch):
    # PyTorch's fused PReLU ops, at our slope at 0 and NaN: dx and dalpha exactly.
    x = _edges(dtype)[:520].reshape(-1, 4)
    rng = np.random.default_rng(2)
    dy = torch.tensor(rng.normal(size=x.shape), dtype=dtype)
    values = rng.uniform(-0.5, 1.5, 4) if per_unit else [0.25]
    alpha = torch.tensor(values, dtype=dtype)

    def run():
        u, a = x.clone().requires_grad_(True), alpha.clone().requires_grad_(True)
        y = krf.prelu(u, a)
        return (y.detach(), *torch.autograd.grad(y, [u, a], grad_outputs=dy))

    eager, kernel = _eager_and_kernel(run, monkeypatch)
    for what, a, b in zip(("forward", "dx", "dalpha"), eager, kernel, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=what)
    assert torch.isnan(eager[1][x.isnan()]).all()
    assert (eager[1][x == 0] == dy[x == 0]).all()  # the right-hand slope, 1, at 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_the_exponential_family_compiled_keeps_its_digits_near_zero_and_in_the_tail(name, dtype):
    # Inductor's expm1 is exp - 1 (compiled F.elu is 19% off at -1e-7 in float32): the
    # kernels' own expm1, compiled, must stay within two ulps of expm1 from -1e-9 to -31.6.
    fn, alpha = {
        "elu": (lambda u: krf.elu(u, alpha=0.7), 0.7),
        "selu": (krf.selu, 1.6732632423543772),
        "celu": (lambda u: krf.celu(u, alpha=2.0), 2.0),
    }[name]
    x = -np.logspace(-9, 1.5, 20001)
    compiled = torch.compile(fn)
    y = compiled(torch.tensor(x, dtype=dtype)).double().numpy()
    u = torch.tensor(x, dtype=dtype).double().numpy()  # the inputs as rounded to dtype
    width = 2.0 if name == "celu" else 1.0
    scale = 1.0507009873554805 if name == "selu" else 1.0
    expected = scale * alpha * np.expm1(u / width)
    err = np.abs(y - expected) / np.abs(expected)
    # Two ulps, and the constants' own rounding to dtype in float32.
    assert err.max() <= 2.0 * float(torch.finfo(dtype).eps), (name, dtype, err.max())


def test_relu_keeps_its_slope_at_zero_where_the_cpu_reads_subnormals_as_zero(monkeypatch):
    # The eager form moves the kink to the number just below 0, a subnormal, which
    # torch.set_flush_denormal(True) reads as 0: there it selects instead. And the
    # number it keeps for later must not be the -0 read while subnormals are flushed.
    from keras_relu_family._backend import torch_ops

    monkeypatch.setattr(torch_ops, "_BELOW", {})  # first worked out while flushing
    x = torch.tensor([-2.0, -0.0, 0.0, 3.0, np.nan])
    expected = torch.tensor([0.0, 1.0, 1.0, 1.0, np.nan])
    fns = (krf.relu, krf.relu6, lambda u: krf.leaky_relu(u, negative_slope=0.0))
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    try:
        for fn in fns:
            _, dx = _value_and_grad(fn, x, torch.ones(5))
            torch.testing.assert_close(dx, expected, equal_nan=True)
    finally:
        torch.set_flush_denormal(False)
    for fn in fns:  # and after
        _, dx = _value_and_grad(fn, x, torch.ones(5))
        torch.testing.assert_close(dx, expected, equal_nan=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_gelu_eager_form_agrees_with_its_kernel_and_takes_its_gradient_where_y_over_x_fails(
    dtype, monkeypatch
):
    # The eager form reads Phi(x) off y / x; at zeros, subnormals (x * x == 0) and
    # non-finite x it must take the kernel's own gradient instead, bit for bit.
    finfo = torch.finfo(dtype)
    tail = torch.tensor([-30.0, -14.0, -9.0, -1e-20, 1e-20, float(finfo.max), -float(finfo.max)])
    x = torch.cat([_edges(dtype), tail.to(dtype)])
    dy = torch.tensor(np.random.default_rng(2).normal(size=x.shape[0]), dtype=dtype)
    eager, kernel = _eager_and_kernel(lambda: _value_and_grad(krf.gelu, x, dy), monkeypatch)
    # A few ulps of each term: near x = -0.75 the derivative's two terms cancel, so the
    # bound there is on the terms' size (about |dy| / 4), not on the difference.
    eps, rounding = _ulps(dtype)
    for what, i, scale in (("forward", 0, x), ("gradient", 1, dy)):
        a, b, scale = (t.double().numpy() for t in (eager[i], kernel[i], scale))
        assert (np.isnan(a) == np.isnan(b)).all(), what
        with np.errstate(invalid="ignore"):  # inf - inf where both are inf
            bound = 4 * eps * (np.abs(b) + np.abs(scale) / 4) + rounding * np.abs(b)
            off = np.abs(a - b) > bound + float(finfo.smallest_normal)
        ok = np.isnan(b) | (a == b) | ~off
        assert ok.all(), (what, x[~torch.from_numpy(ok)][:5], a[~ok][:5], b[~ok][:5])
    taken = (x.to(torch.float32) ** 2 == 0) | ~torch.isfinite(x)
    torch.testing.assert_close(eager[1][taken], kernel[1][taken], rtol=0, atol=0, equal_nan=True)
    assert taken.sum() >= 7  # -inf, -sub, -0, 0, sub, inf, NaN


@pytest.mark.parametrize("b", [4.0, 1e-3, 100.0])
@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_squareplus_eager_form_agrees_with_its_kernel(dtype, b, monkeypatch):
    finfo = torch.finfo(dtype)
    tail = torch.tensor([float(finfo.max), -float(finfo.max), 1e4, -1e4, -1e-3])
    x = torch.cat([_edges(dtype), tail.to(dtype)])
    dy = torch.tensor(np.random.default_rng(3).normal(size=x.shape[0]), dtype=dtype)
    fn = lambda u: krf.squareplus(u, b=b)  # noqa: E731
    eager, kernel = _eager_and_kernel(lambda: _value_and_grad(fn, x, dy), monkeypatch)
    # Both exact to about an ulp (no cancellation on either side): a few ulps apart.
    eps, rounding = _ulps(dtype)
    rtol = 4 * eps + rounding
    for what, a, k in zip(("forward", "gradient"), eager, kernel, strict=True):
        torch.testing.assert_close(
            a, k, rtol=rtol, atol=float(finfo.smallest_normal), equal_nan=True, msg=what
        )
    assert torch.isnan(eager[1][x.isnan()]).all() and torch.isfinite(eager[0][x.isfinite()]).all()


@pytest.mark.parametrize("far", [False, True], ids=["in range", "one far out"])
@pytest.mark.parametrize("beta", [1.0, 0.3, -2.0])
@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_trainable_swish_eager_form_agrees_with_its_kernel(dtype, beta, far, monkeypatch):
    # dx from PyTorch's fused SiLU gradient at z = beta * x, dbeta from 1 / (2 + 2 cosh z),
    # where every z is in silu_backward's range (above -85); with one x far out, where
    # silu_backward turns a normal gradient to 0 (z = -90; -710 in float64), the kernel
    # itself for the whole tensor.
    z_far = -710.0 if dtype == torch.float64 else -90.0
    points = [-20.0, -9.0, 9.0, 20.0, 40.0] + ([z_far / beta] if far else [])
    finite = torch.tensor(points).to(dtype)
    x = torch.cat([_edges(dtype)[3:-2], finite])  # finite x: from -sub to 6, then the noise
    x = x[torch.isfinite(x)]
    dy = torch.tensor(np.random.default_rng(4).normal(size=x.shape[0]), dtype=dtype)

    def both(u):
        b = torch.full(u.shape, beta, dtype=dtype, requires_grad=True)  # one beta per element
        u = u.clone().requires_grad_(True)
        y = krf.swish(u, beta=b)
        return (y.detach(), *torch.autograd.grad(y, [u, b], grad_outputs=dy))

    eager, kernel = _eager_and_kernel(lambda: both(x), monkeypatch)
    eps, rounding = _ulps(dtype)
    rtol = 8 * eps + rounding
    tiny = float(torch.finfo(dtype).smallest_normal)
    # dx = s + z s (1 - s) has a root (z = -1.28): there both cancel, so the bound is
    # also on the terms' size (under |dy|), as for GELU.
    for what, a, k in zip(("forward", "dx", "dbeta"), eager, kernel, strict=True):
        a, k, scale = (t.double().numpy() for t in (a, k, dy))
        bound = rtol * np.abs(k) + (8 * eps * np.abs(scale) if what == "dx" else 0.0) + 4 * tiny
        assert (np.abs(a - k) <= bound).all(), (what, x[torch.from_numpy(np.abs(a - k) > bound)])


# -- big tensors: where few blocks hold a kink or a NaN, only they are mended --------------
#
# The eager forms search a whole tensor once; where that finds a kink or a NaN, they
# search its blocks of torch_ops._BLOCK elements and mend only those that hold one
# (torch_ops._mend_blocks), or, where more than a quarter do or the tensors are not
# contiguous, the whole tensor. All three against the numpy references.

BIG_SHAPE = (101, 1000)  # 24 blocks and 2696 elements left over; blocks straddle rows
LAYOUTS = ("two blocks and the rest", "every block", "two blocks, transposed")


def _planted(spec, params, dtype: str, layout: str) -> np.ndarray:
    """Ordinary values away from the kinks, and the family's inputs (tails, zeros, kinks,
    NaN) planted where ``layout`` says (in two blocks or in each, and in the rest)."""
    kinks = spec.kinks(params)
    special = np.concatenate([inputs(dtype), np.array(kinks, np.float64), [np.nan]])
    rng = np.random.default_rng(5)
    flat = rng.normal(0.0, 3.0, int(np.prod(BIG_SHAPE)))
    flat = representable(np.where(away_from_kinks(flat, kinks, 1e-2), flat, 1.5), dtype)
    block = torch_ops._BLOCK
    starts = range(0, flat.size - block, block) if layout == "every block" else (3, 17)
    for start in starts:
        at = start * block + 50 if layout != "every block" else start + 50
        flat[at : at + special.size] = representable(special, dtype)
    flat[-special.size :] = representable(special, dtype)  # the elements left over
    return flat.reshape(BIG_SHAPE)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize(("spec", "params"), CASES, ids=CASE_IDS)
def test_big_tensors_with_kinks_and_nan_in_some_blocks_match_the_numpy_derivative(
    spec, params, dtype, layout
):
    x = _planted(spec, params, dtype, layout)
    dy = np.random.default_rng(6).normal(0.0, 1.0, x.shape)
    dy = representable(dy, dtype)
    transposed = layout.endswith("transposed")
    torch_dtype = getattr(torch, dtype)
    # Transposed: the function sees a view of x's transpose, whose elements are in
    # another order than its blocks' (not contiguous).
    leaf = torch.tensor(x.T.copy() if transposed else x, dtype=torch_dtype, requires_grad=True)
    seen = leaf.T if transposed else leaf
    assert seen.is_contiguous() != transposed
    y = call(spec, seen, params)
    (dx,) = torch.autograd.grad(y, [leaf], grad_outputs=torch.tensor(dy, dtype=torch_dtype))
    dx = dx.T if transposed else dx
    rtol, atol = grad_tol(dtype)
    expected = numpy_derivative(spec, x, params) * dy
    assert_close(dx.double().numpy(), expected, rtol, atol * np.maximum(1.0, np.abs(dy)), spec.name)


@pytest.mark.parametrize(
    "name",
    ["selu", "celu", "elu", "leaky_relu", "gelu", "prelu"],
)
def test_the_block_search_is_what_mends_big_tensors_with_few_odd_blocks(name, monkeypatch):
    # The test above passes through the whole-tensor search too: here, that the
    # activations which have the block search take it, and only where it pays.
    fn = {
        "selu": krf.selu,
        "celu": lambda u: krf.celu(u, alpha=0.5),
        "elu": lambda u: krf.elu(u, alpha=0.5),
        "leaky_relu": lambda u: krf.leaky_relu(u, negative_slope=0.7),
        "gelu": krf.gelu,
        "prelu": lambda u: krf.prelu(u, alpha=0.25),
    }[name]
    calls = []
    mend = torch_ops._mend_blocks
    monkeypatch.setattr(torch_ops, "_mend_blocks", lambda *a: calls.append(1) or mend(*a))
    spec = krf.REGISTRY[name]
    for layout, taken in zip(LAYOUTS, (True, False, False), strict=True):
        x = _planted(spec, {}, "float32", layout)
        leaf = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        seen = leaf.T.contiguous().T if layout.endswith("transposed") else leaf
        assert seen.is_contiguous() != layout.endswith("transposed")
        calls.clear()
        y = fn(seen)
        torch.autograd.grad(y, [leaf], grad_outputs=torch.ones_like(y))  # contiguous
        assert bool(calls) == taken, (name, layout)
