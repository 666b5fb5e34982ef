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
    away_from_kinks,
    call,
    numpy_derivative,
    ordinary,
    value_and_grad,
)

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
