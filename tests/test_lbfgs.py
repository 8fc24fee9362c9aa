"""torch.optim.LBFGS against torch: parameters, losses and counters after several steps, with
and without the strong-Wolfe line search, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, assert_same, dev

rng = np.random.default_rng(0)
A, B = rng.standard_normal((20, 5)), rng.standard_normal(20)


def _fit(lib, dtype, steps=4, **kwargs):
    """Least squares with a quartic penalty (not quadratic, so the history matters)."""
    w = lib.tensor(np.zeros(5), dtype=getattr(lib, dtype), device=dev(lib), requires_grad=True)
    c = lib.tensor([0.5], dtype=getattr(lib, dtype), device=dev(lib), requires_grad=True)
    a, b = (lib.tensor(x, dtype=getattr(lib, dtype), device=dev(lib)) for x in (A, B))
    opt = lib.optim.LBFGS([w, c], **kwargs)

    def closure():
        opt.zero_grad()
        loss = ((a @ w + c - b) ** 2).mean() + (w**4).sum() * 0.1
        loss.backward()
        return loss

    losses = [opt.step(closure).detach() for _ in range(steps)]
    state = opt.state[w]
    return [w.detach(), c.detach()] + losses + [state["n_iter"], state["func_evals"]]


CONFIGS = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 3, "history_size": 2},
    {"tolerance_grad": 1e-3, "max_eval": 4},
]
# Five strong-Wolfe searches in a row run in float64 only: in float32 a dot product rounded
# otherwise than torch's (the emulated device's reduction order) may take one more bracket step
# and stop at another, equally good point.
LONG_SEARCH = {"line_search_fn": "strong_wolfe", "max_iter": 5, "history_size": 3}


@pytest.mark.parametrize(
    "dtype,kwargs", [(d, k) for d in ("float32", "float64") for k in CONFIGS] + [("float64", LONG_SEARCH)]
)
def test_lbfgs_matches_torch(dtype, kwargs):
    theirs, ours = _fit(torch, dtype, **kwargs), _fit(tritensor, dtype, **kwargs)
    if dtype == "float32":  # a dot product rounded otherwise than torch's BLAS may flip one line-search
        theirs, ours = theirs[:-2], ours[:-2]  # decision (an evaluation more or fewer), not the result
    assert_same(theirs, ours)


def test_lbfgs_errors_and_converged_start():
    w = tritensor.zeros(2, device=DEVICE, requires_grad=True)
    with pytest.raises(ValueError):
        tritensor.optim.LBFGS([w], lr=-1)
    with pytest.raises(ValueError):
        tritensor.optim.LBFGS([{"params": [w]}, {"params": [tritensor.zeros(1, requires_grad=True)]}])
    opt = tritensor.optim.LBFGS([w], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)
    with pytest.raises(RuntimeError, match="closure"):
        tritensor.optim.LBFGS([w]).step(None)
    flat = tritensor.optim.LBFGS([tritensor.ones(2, device=DEVICE, requires_grad=True)])
    x = flat.param_groups[0]["params"][0]

    def at_minimum():
        flat.zero_grad()
        loss = (x * 0).sum()
        loss.backward()
        return loss

    assert float(flat.step(at_minimum)) == 0.0  # the gradient is already below tolerance_grad
    assert flat.state[x]["func_evals"] == 1
