"""Adadelta (torch.optim.Adadelta)."""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _to_scalar, check_nonneg, new_step

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Step sizes from running averages of squared gradients and of squared updates."""

    _kernel = "adadelta"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_nonneg("lr", lr, "learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonneg("eps", eps, "epsilon value")
        check_nonneg("weight_decay", weight_decay, "weight_decay value")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["square_avg"] = _ops.zeros_like(p)
        state["acc_delta"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        lr, rho, eps, wd = _to_scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        grad = -grad if group["maximize"] else grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)

    # fused: hp = (-lr, weight_decay, rho, 1 - rho, eps)
    def _state_slots(self, group):
        return ("square_avg", "acc_delta")

    def _fused_args(self, group):
        wd, rho = group["weight_decay"], group["rho"]
        hp = (-_to_scalar(group["lr"]), wd, rho, 1 - rho, group["eps"])
        return hp, (group["maximize"], wd != 0)

    def _prepare_fused(self, group, p, state):
        _multi_tensor.advance_step(state)
        return (0.0,)
