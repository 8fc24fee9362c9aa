"""NAdam: Adam with Nesterov momentum and momentum decay (torch.optim.NAdam)."""
from __future__ import annotations

from .. import ops as _ops
from . import _multi_tensor
from .adam import apply_weight_decay, check_hyper_parameters, moment_flags, moment_hp, update_moments
from .optimizer import Optimizer, _scalar_dtype, _to_scalar, check_nonneg, new_step

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam whose step looks ahead along the momentum, with the momentum warmed up by the
    schedule mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))."""

    _kernel = "nadam"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_hyper_parameters(lr, betas, eps, weight_decay)
        check_nonneg("momentum_decay", momentum_decay, "momentum_decay value")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("maximize", False), ("foreach", None), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        # the running product of the mu_t: a host scalar like the step (torch's layout)
        state["mu_product"] = _ops.tensor(1.0, dtype=_scalar_dtype())
        state["exp_avg"] = _ops.zeros_like(p)
        state["exp_avg_sq"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        beta2 = group["betas"][1]
        grad = -grad if group["maximize"] else grad
        exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
        state["step"] += 1
        step = state["step"].item()
        grad = apply_weight_decay(p, grad, group)
        mu, mu_next = _momentum_cache(group, step)
        mu_product *= mu
        update_moments(exp_avg, exp_avg_sq, grad, *group["betas"])
        denom = exp_avg_sq.div(1 - beta2 ** step).sqrt().add_(group["eps"])
        grad_coef, avg_coef = _coefficients(group, mu, mu_next, mu_product.item())
        p.addcdiv_(grad, denom, value=grad_coef)
        p.addcdiv_(exp_avg, denom, value=avg_coef)

    # fused: hp = moment_hp's (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps);
    # pt = (1 - beta2 ** t, gradient coefficient, exp_avg coefficient)
    def _state_slots(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _fused_args(self, group):
        return moment_hp(group), moment_flags(group)

    def _prepare_fused(self, group, p, state):
        step = _multi_tensor.advance_step(state)
        mu, mu_next = _momentum_cache(group, step)
        mu_product = _multi_tensor.scale_scalar(state["mu_product"], mu)
        return (1 - group["betas"][1] ** step, *_coefficients(group, mu, mu_next, mu_product))


def _momentum_cache(group, step):
    """(mu_t, mu_{t+1}): the momentum schedule at steps t and t + 1."""
    beta1, decay = group["betas"][0], group["momentum_decay"]
    return (beta1 * (1.0 - 0.5 * (0.96 ** (step * decay))),
            beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay))))


def _coefficients(group, mu, mu_next, mu_product):
    """torch's host-side step sizes of the gradient and of exp_avg (``mu_product`` includes mu_t)."""
    lr = _to_scalar(group["lr"])
    return -lr * (1.0 - mu) / (1.0 - mu_product), (-lr * mu_next) / (1.0 - mu_product * mu_next)
