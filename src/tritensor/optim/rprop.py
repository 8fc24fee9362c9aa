"""Resilient backpropagation (torch.optim.Rprop): each element moves by its own step size
against the sign of its gradient; the step size grows (``etas[1]``) while the gradient keeps
its sign, shrinks (``etas[0]``) when it flips, and stays within ``step_sizes``.

State layout is torch's: ``step`` a 0-d CPU tensor, ``prev`` (the last gradient used, zero
where it flipped) and ``step_size`` with the param's shape. ``lr`` only sets the initial
step sizes: changing it later has no effect, as in torch.
"""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _to_scalar, new_step

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Sign-based updates with per-element adaptive step sizes."""

    _kernel = "rprop"

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    _TENSOR_STATE_KEYS = ("step",)

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["prev"] = _ops.zeros_like(p)
        state["step_size"] = _ops.full_like(p.grad, _to_scalar(group["lr"]))

    def _single_tensor(self, p, grad, state, group):
        etaminus, etaplus = group["etas"]
        grad = -grad if group["maximize"] else grad
        prev, step_size = state["prev"], state["step_size"]
        state["step"] += 1
        # the step-size factor: etaplus where the gradient kept its sign, etaminus where it
        # flipped, 1 where either is zero (torch's in-place replacement, in its order)
        factor = grad.mul(prev).sign()
        factor.masked_fill_(factor.gt(0), etaplus)
        factor.masked_fill_(factor.lt(0), etaminus)
        factor.masked_fill_(factor.eq(0), 1)
        step_size.mul_(factor).clamp_(*group["step_sizes"])
        # where the sign flipped, no move this step, and the next step sees a zero gradient
        grad = grad.clone()
        grad.masked_fill_(factor.eq(etaminus), 0)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)

    # fused: hp = (etaminus, etaplus, min step size, max step size, 1); pt unused
    def _state_slots(self, group):
        return ("prev", "step_size")

    def _fused_args(self, group):
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        return (etaminus, etaplus, lo, hi, 1.0), (group["maximize"],)

    def _prepare_fused(self, group, p, state):
        _multi_tensor.advance_step(state)
        return (0.0,)
