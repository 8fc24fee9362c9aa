"""Adam (and, with decoupled weight decay, AdamW): torch.optim.Adam's algorithm and options."""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _to_scalar, new_step

__all__ = ["Adam"]  # and the Adam family's shared pieces below


class Adam(Optimizer):
    """Adam with bias correction, L2 or decoupled weight decay, AMSGrad and maximize."""

    _kernel = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_hyper_parameters(lr, betas, eps, weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(map(_to_scalar, betas))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("amsgrad", False), ("maximize", False), ("foreach", None), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False), ("fused", None))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["exp_avg"] = _ops.zeros_like(p)
        state["exp_avg_sq"] = _ops.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            grad = -grad
        exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        step_t += 1
        grad = apply_weight_decay(p, grad, group)
        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        step_size, bias_correction2_sqrt = _bias_corrections(lr, beta1, beta2, step_t.item())
        if group["amsgrad"]:
            v = _max_exp_avg_sq(state, exp_avg_sq)
            _ops.maximum(v, exp_avg_sq, out=v)
        else:
            v = exp_avg_sq
        denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-step_size)

    # fused: hp = (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps); pt = (-step_size, bc2 ** 0.5)
    def _state_slots(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _fused_args(self, group):
        return moment_hp(group), (*moment_flags(group), group["amsgrad"])

    def _prepare_fused(self, group, p, state):
        if group["amsgrad"]:
            _max_exp_avg_sq(state, state["exp_avg_sq"])
        beta1, beta2 = group["betas"]
        step = _multi_tensor.advance_step(state)
        step_size, bias_correction2_sqrt = _bias_corrections(_to_scalar(group["lr"]), beta1, beta2, step)
        return (-step_size, bias_correction2_sqrt)


def check_hyper_parameters(lr, betas, eps, weight_decay):
    """torch's checks, shared by the Adam family (Adam, AdamW, Adamax, NAdam, RAdam)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def apply_weight_decay(p, grad, group):
    """The Adam family's weight decay (reference path): L2, added to the gradient (returned),
    or decoupled (AdamW's), shrinking ``p`` in place."""
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay"):
            p.mul_(1 - _to_scalar(group["lr"]) * wd)
        else:
            grad = grad.add(p, alpha=wd)
    return grad


def update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2):
    """Adam's running averages of the gradient and of its square, in place (reference path)."""
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)


def moment_hp(group):
    """The fused kernels' ``hp`` head shared by Adam, NAdam and RAdam (``_adam_grad`` and
    ``_adam_moments`` read it): (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps)."""
    lr, wd = _to_scalar(group["lr"]), group["weight_decay"]
    beta1, beta2 = group["betas"]
    return (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, group["eps"])


def moment_flags(group):
    """The matching switches: (maximize, weight decay on, decoupled)."""
    return (group["maximize"], group["weight_decay"] != 0, group.get("decoupled_weight_decay", False))


def _bias_corrections(lr, beta1, beta2, step):
    """torch's host-side scalars: (lr / (1 - beta1**t), sqrt(1 - beta2**t))."""
    return lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5


def _max_exp_avg_sq(state, exp_avg_sq):
    """AMSGrad's running max (created if amsgrad was switched on after the first step)."""
    v = state.get("max_exp_avg_sq")
    if v is None:
        v = state["max_exp_avg_sq"] = _ops.zeros_like(exp_avg_sq)
    return v
