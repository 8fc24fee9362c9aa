"""RAdam: Adam with the variance of its adaptive step rectified (torch.optim.RAdam)."""
from __future__ import annotations

from .. import ops as _ops
from . import _multi_tensor
from .adam import apply_weight_decay, check_hyper_parameters, moment_flags, moment_hp, update_moments
from .optimizer import Optimizer, _to_scalar, new_step

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Plain bias-corrected momentum until the adaptive step's variance is tractable (the
    approximated SMA length rho_t exceeds 5), then Adam's step scaled by the rectification."""

    _kernel = "radam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_hyper_parameters(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("decoupled_weight_decay", False), ("capturable", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["exp_avg"] = _ops.zeros_like(p)
        state["exp_avg_sq"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        lr = _to_scalar(group["lr"])
        grad = -grad if group["maximize"] else grad
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        grad = apply_weight_decay(p, grad, group)
        update_moments(exp_avg, exp_avg_sq, grad, *group["betas"])
        bias_correction1, bias_correction2_sqrt, rect = _rectification(group, state["step"].item())
        update = exp_avg / bias_correction1 * lr
        if rect is not None:
            update = update * (bias_correction2_sqrt / exp_avg_sq.sqrt().add_(group["eps"])) * rect
        p.add_(update, alpha=-1.0)

    # fused: hp = moment_hp's (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps) + (lr,);
    # pt = (1 - beta1 ** t, sqrt(1 - beta2 ** t), rectification, rectified (1) or not (0))
    def _state_slots(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _fused_args(self, group):
        return (*moment_hp(group), _to_scalar(group["lr"])), moment_flags(group)

    def _prepare_fused(self, group, p, state):
        bias_correction1, bc2_sqrt, rect = _rectification(group, _multi_tensor.advance_step(state))
        return (bias_correction1, bc2_sqrt, rect or 0.0, float(rect is not None))


def _rectification(group, step):
    """torch's host-side scalars of step t: (1 - beta1 ** t, sqrt(1 - beta2 ** t), the variance
    rectification, None while rho_t <= 5)."""
    beta1, beta2 = group["betas"]
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    rect = None
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    return 1 - beta1 ** step, bias_correction2 ** 0.5, rect
