"""RMSprop with optional momentum and centering (torch.optim.RMSprop)."""
from __future__ import annotations

from .. import ops as _ops
from ..tensor import Tensor
from . import _multi_tensor
from .optimizer import Optimizer, _to_scalar, check_nonneg, new_step

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Divides the gradient by a running RMS of recent gradients (centered: by their std)."""

    _kernel = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("eps", eps, "epsilon value")
        check_nonneg("momentum", momentum, "momentum value")
        check_nonneg("weight_decay", weight_decay, "weight_decay value")
        check_nonneg("alpha", alpha, "alpha value")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        self._check_flags(defaults)
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                       ("differentiable", False), ("capturable", False))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        state["square_avg"] = _ops.zeros_like(p)

    def _buffers(self, p, state, group):
        """The optional buffers, created when momentum or centering is (or becomes) active."""
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _ops.zeros_like(p)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = _ops.zeros_like(p)

    def _single_tensor(self, p, grad, state, group):
        self._buffers(p, state, group)
        lr, wd, alpha, eps = _to_scalar(group["lr"]), group["weight_decay"], group["alpha"], group["eps"]
        grad = -grad if group["maximize"] else grad
        square_avg = state["square_avg"]
        state["step"] += 1
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)

    # fused: hp = (-lr, weight_decay, alpha, 1 - alpha, eps, momentum)
    def _state_slots(self, group):
        return ("square_avg", "momentum_buffer", "grad_avg")

    def _fused_args(self, group):
        wd, alpha, momentum = group["weight_decay"], group["alpha"], group["momentum"]
        hp = (-_to_scalar(group["lr"]), wd, alpha, 1 - alpha, group["eps"], momentum)
        flags = (group["maximize"], wd != 0, group["centered"], momentum > 0)
        return hp, flags

    def _prepare_fused(self, group, p, state):
        self._buffers(p, state, group)
        _multi_tensor.advance_step(state)
        return (0.0,)
