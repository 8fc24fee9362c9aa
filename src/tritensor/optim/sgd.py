"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD)."""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from .optimizer import Optimizer, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent; ``state['momentum_buffer']`` starts as the first gradient."""

    _kernel = "sgd"

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("nesterov", False), ("maximize", False), ("foreach", None), ("differentiable", False),
                       ("fused", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _state_for(self, p, group):
        # torch keeps no SGD state until a momentum buffer exists
        return self.state[p] if group["momentum"] != 0 else {}

    def _single_tensor(self, p, grad, state, group):
        lr, wd, momentum = _to_scalar(group["lr"]), group["weight_decay"], group["momentum"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-lr)

    # fused: hp = (-lr, weight_decay, momentum, 1 - dampening); pt = (first step,)
    def _state_slots(self, group):
        return ("momentum_buffer",)

    def _fused_args(self, group):
        momentum, wd = group["momentum"], group["weight_decay"]
        hp = (-_to_scalar(group["lr"]), wd, momentum, 1 - group["dampening"])
        flags = (group["maximize"], wd != 0, momentum != 0, group["nesterov"])
        return hp, flags

    def _prepare_fused(self, group, p, state):
        if group["momentum"] == 0 or state.get("momentum_buffer") is not None:
            return (0.0,)
        state["momentum_buffer"] = _ops.empty_like(p)  # the kernel writes it
        return (1.0,)
