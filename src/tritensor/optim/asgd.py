"""Averaged SGD (torch.optim.ASGD): SGD with a decaying step size, plus a running average
``ax`` of the iterates (Polyak averaging) that starts once the step count passes ``t0``.

State layout is torch's: ``step``, ``eta`` (the step size of the next step) and ``mu`` (the
averaging weight of the next step) are 0-d tensors of the default float dtype on the
param's device; ``ax`` has the param's shape. ``eta`` and ``mu`` are read each step (a
checkpoint may have changed them), so on 'cuda' a step reads them back, as torch's
non-capturable ASGD does.
"""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _scalar_dtype, _to_scalar, check_nonneg

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Stochastic gradient descent with step size ``lr / (1 + lambd * lr * t) ** alpha`` and
    iterate averaging after ``t0`` steps."""

    _kernel = "asgd"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("weight_decay", weight_decay, "weight_decay value")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    _TENSOR_STATE_KEYS = ("step", "eta", "mu")

    def _scalar_state_tensor(self, value, p):
        return _scalar_state(value, p)

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0, p)
        state["eta"] = _scalar_state(_to_scalar(group["lr"]), p)
        state["mu"] = _scalar_state(1.0, p)
        state["ax"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        grad = -grad if group["maximize"] else grad
        ax = state["ax"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        eta = state["eta"].item()
        p.mul_(1 - group["lambd"] * eta)  # decay term
        p.add_(grad, alpha=-eta)
        mu = state["mu"]
        if mu.item() != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)  # before t0: the average is the iterate itself
        _schedule(group, state, state["step"].item())

    # fused: hp = (weight_decay,); pt = (1 - lambd * eta, -eta, mu, whether mu != 1)
    def _state_slots(self, group):
        return ("ax",)

    def _fused_args(self, group):
        wd = group["weight_decay"]
        return (wd,), (group["maximize"], wd != 0)

    def _prepare_fused(self, group, p, state):
        step = _multi_tensor.advance_step(state)
        eta, mu = state["eta"].item(), state["mu"].item()
        _schedule(group, state, step)  # the kernel needs only this step's values, read above
        return (1 - group["lambd"] * eta, -eta, mu, float(mu != 1))


def _scalar_state(value, p):
    """A 0-d state tensor of the default float dtype on ``p``'s device (torch's layout)."""
    return _ops.tensor(value, dtype=_scalar_dtype(), device=p.device)


def _schedule(group, state, step):
    """``eta`` and ``mu`` for the step after ``step``: torch computes them on the host in double
    precision and stores them through ``as_tensor``."""
    lr, lambd = _to_scalar(group["lr"]), group["lambd"]
    _multi_tensor.assign_scalar(state["eta"], lr / ((1 + lambd * lr * step) ** group["alpha"]))
    _multi_tensor.assign_scalar(state["mu"], 1 / max(1, step - group["t0"]))
