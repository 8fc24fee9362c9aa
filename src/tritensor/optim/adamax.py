"""Adamax: Adam with the infinity norm in place of the second moment (torch.optim.Adamax)."""
from __future__ import annotations

from .. import ops as _ops
from . import _multi_tensor
from .adam import apply_weight_decay, check_hyper_parameters, moment_flags, moment_hp
from .optimizer import Optimizer, _to_scalar, new_step

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Steps scaled by an exponentially weighted max of |g| (no second-moment bias correction)."""

    _kernel = "adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_hyper_parameters(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["exp_avg"] = _ops.zeros_like(p)
        state["exp_inf"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        grad = -grad if group["maximize"] else grad
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        state["step"] += 1
        grad = apply_weight_decay(p, grad, group)
        exp_avg.lerp_(grad, 1 - beta1)
        _ops.maximum(exp_inf.mul_(beta2), grad.abs().add_(group["eps"]), out=exp_inf)
        p.addcdiv_(exp_avg, exp_inf, value=-_step_size(group, state["step"].item()))

    # fused: hp = moment_hp's (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps); pt = (-step_size,)
    def _state_slots(self, group):
        return ("exp_avg", "exp_inf")

    def _fused_args(self, group):
        return moment_hp(group), moment_flags(group)

    def _prepare_fused(self, group, p, state):
        return (-_step_size(group, _multi_tensor.advance_step(state)),)


def _step_size(group, step):
    """lr / (1 - beta1 ** t): only the first moment is bias-corrected."""
    return _to_scalar(group["lr"]) / (1 - group["betas"][0] ** step)
