"""Adafactor (torch.optim.Adafactor): Adam-like steps whose second moment is stored factored.

A parameter with two or more dims keeps only a row factor (``row_var``, the last dim reduced
to 1) and a column factor (``col_var``, the second-to-last dim reduced to 1) of the running
mean of squared gradients; their outer product over the row factor's mean estimates the full
matrix. Vectors keep a full ``variance``. The step is relative: it scales with the param's
RMS (at least ``eps[1]``), uses ``min(lr, 1/sqrt(t))`` as its rate, and the update is
clipped to RMS ``d``. State layout is torch's: ``step`` a 0-d CPU tensor, then ``row_var``
and ``col_var`` or ``variance``.

No fused kernel: the factored moments need reductions, an outer product and norms read back
to the host per tensor, so the step is written in tensor ops (one per param, or grouped per
op with ``foreach=True``, which rounds the final update as torch's foreach path does).
"""
from __future__ import annotations

from .. import ops as _ops
from ..autograd import grad_mode
from ..tensor import Tensor
from ..type_info import finfo
from .optimizer import Optimizer, _to_scalar, new_step

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor with torch's defaults, errors, state and ``foreach``/``maximize`` switches."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    _GROUP_DEFAULTS = (("foreach", None),)

    _TENSOR_STATE_KEYS = ("step",)

    def step(self, closure=None):
        return step_by_group(self, closure)

    def _init_state(self, p, state, group):
        state["step"] = new_step()
        grad = p.grad
        if grad.dim() > 1:
            shape = list(grad.shape)
            state["row_var"] = grad.new_zeros(shape[:-1] + [1])
            state["col_var"] = grad.new_zeros(shape[:-2] + [1, shape[-1]])
        else:
            state["variance"] = _ops.zeros_like(grad)

    def _step_group(self, group, params):
        """One group: the per-param updates in param order. ``eps[0] = None`` means the
        machine epsilon of the group's first param (with a grad), kept for the whole group
        as torch does."""
        for p in params:
            if p.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
        states = [self._state_for(p, group) for p in params]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = finfo(params[0].dtype).eps
        for p, state in zip(params, states):
            self._update(p, state, group, eps1, eps2)

    @staticmethod
    def _update(p, state, group, eps1, eps2):
        """torch's Adafactor update of one param, with its roundings."""
        lr, d, weight_decay = tensor_lr(group["lr"]), group["d"], group["weight_decay"]
        grad = -p.grad if group["maximize"] else p.grad
        state["step"] += 1
        step = state["step"].item()
        one_minus_beta2 = step ** group["beta2_decay"]
        rate = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, p.norm(2).item() / p.numel() ** 0.5) * rate  # the param's RMS before decay
        if weight_decay != 0:
            p.mul_(_to_scalar(1 - lr * weight_decay))
        var_estimate = _second_moment_estimate(grad, state, one_minus_beta2, eps1)
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * d))
        if group["foreach"]:  # torch's foreach path scales the update, then adds it
            p.add_(update.mul_(_to_scalar(-alpha / denom)))
        else:
            p.add_(update, alpha=_to_scalar(-alpha / denom))


def step_by_group(optimizer, closure):
    """The ``step`` of the optimizers written in tensor ops (Adafactor, Muon): the closure
    with grad enabled, then ``optimizer._step_group(group, params)`` without grad for each
    group's params that have a grad."""
    loss = None
    if closure is not None:
        with grad_mode.enable_grad():
            loss = closure()
    with grad_mode.no_grad():
        for group in optimizer.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                optimizer._step_group(group, params)
    return loss


def tensor_lr(lr):
    """The group's lr as torch's Adafactor and Muon use it: a Tensor lr stays a 0-d tensor, so
    the step sizes derived from it are rounded to its dtype (float32) as torch's are."""
    return lr.squeeze() if isinstance(lr, Tensor) and lr.dim() != 0 else lr


def _second_moment_estimate(grad, state, one_minus_beta2, eps1):
    """Advance the running mean of ``grad**2`` (factored for >= 2-D) and return a fresh
    tensor estimating it elementwise."""
    if grad.dim() <= 1:
        variance = state["variance"]
        variance.lerp_(grad * grad, one_minus_beta2)
        return variance.clone()
    row_var, col_var = state["row_var"], state["col_var"]
    row_var.lerp_(_mean_square(grad, -1), one_minus_beta2)
    col_var.lerp_(_mean_square(grad, -2), one_minus_beta2)
    estimate = _ops.matmul(row_var, col_var)
    return estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))


def _mean_square(grad, dim):
    """Mean of ``grad**2`` along ``dim`` (kept), as torch computes it: the squared norm over
    the size."""
    return _ops.norm(grad, dim=dim, keepdim=True).square_().div_(grad.size(dim))
