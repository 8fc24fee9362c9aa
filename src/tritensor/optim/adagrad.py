"""Adagrad with learning-rate decay and an initial accumulator (torch.optim.Adagrad)."""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _to_scalar, check_nonneg, new_step

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Per-element step sizes from the running sum of squared gradients."""

    _kernel = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("lr_decay", lr_decay, "lr_decay value")
        check_nonneg("weight_decay", weight_decay, "weight_decay value")
        check_nonneg("initial_accumulator_value", initial_accumulator_value,
                     "initial_accumulator_value value")
        check_nonneg("eps", eps, "epsilon value")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        self._check_flags(defaults)
        super().__init__(params, defaults)
        # torch creates Adagrad's state eagerly
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["sum"] = _ops.full_like(p, group["initial_accumulator_value"])

    def _single_tensor(self, p, grad, state, group):
        state["step"] += 1
        clr = _decayed_lr(group, state["step"].item())
        grad = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(group["eps"])
        p.addcdiv_(grad, std, value=-clr)

    # fused: hp = (weight_decay, eps); pt = (-clr,)
    def _state_slots(self, group):
        return ("sum",)

    def _fused_args(self, group):
        wd = group["weight_decay"]
        return (wd, group["eps"]), (group["maximize"], wd != 0)

    def _prepare_fused(self, group, p, state):
        return (-_decayed_lr(group, _multi_tensor.advance_step(state)),)


def _decayed_lr(group, step):
    return _to_scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
