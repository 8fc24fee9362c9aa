"""Muon (torch.optim.Muon): momentum SGD for 2-D params whose update is orthogonalised.

Each step updates a momentum buffer (``lerp`` towards the gradient), takes the Nesterov
blend (or the buffer), and replaces it by an approximation of its nearest semi-orthogonal
matrix: ``ns_steps`` quintic Newton-Schulz iterations ``X <- a X + (b G + c G G) X`` with
``G = X X^T``, run in bfloat16 on the wider orientation of the matrix after scaling it to
norm <= 1. The param is then decayed (``1 - lr * weight_decay``) and moved by the update
times ``lr`` adjusted to the matrix shape (``adjust_lr_fn``: 'original' ``sqrt(max(1,
rows/cols))``, or 'match_rms_adamw' ``0.2 sqrt(max(rows, cols))``).

No fused kernel: the iteration is matrix products, so the step is written in tensor ops
(our matmuls). torch computes each bfloat16 ``addmm`` in float32 and rounds once; the
products here are likewise taken on float32 copies of the bfloat16 values and rounded to
bfloat16 once per ``addmm``, so the bits match torch's.
"""
from __future__ import annotations

import math

from .. import dtypes as _dt
from .. import ops as _ops
from ..tensor import Tensor
from .adafactor import step_by_group, tensor_lr
from .optimizer import Optimizer, _to_scalar

__all__ = ["Muon"]

#: Keller Jordan's quintic coefficients, steps and norm floor (torch's defaults)
DEFAULT_NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)
DEFAULT_NS_STEPS = 5
EPS = 1e-7
ADJUST_LR_FNS = ("original", "match_rms_adamw")


class Muon(Optimizer):
    """Muon with torch's defaults and errors; only 2-D params."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=DEFAULT_NS_COEFFICIENTS, eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ADJUST_LR_FNS:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported "
                             f"(expected None or one of {ADJUST_LR_FNS})")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
                    "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a parameter with "
                                     f"size: {p.size()}")

    def step(self, closure=None):
        return step_by_group(self, closure)

    def _step_group(self, group, params):
        """One group: buffers created for all its params first, then updated in order."""
        for p in params:
            if p.is_complex():
                raise RuntimeError("Muon does not support complex parameters")
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _ops.zeros_like(p.grad)
        for p in params:
            self._update(p, self.state[p]["momentum_buffer"], group)

    @staticmethod
    def _update(p, buf, group):
        grad = p.grad
        if grad.ndim != 2:
            raise ValueError(f"Param gradient must be a 2D matrix, got size {grad.size()}")
        lr, momentum = tensor_lr(group["lr"]), group["momentum"]
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        update = zeropower_via_newton_schulz(update, group["ns_coefficients"], group["ns_steps"],
                                             group["eps"])
        p.mul_(_to_scalar(1 - lr * group["weight_decay"]))
        p.add_(update, alpha=_to_scalar(-adjusted_lr(lr, group["adjust_lr_fn"], p.shape)))


def adjusted_lr(lr, adjust_lr_fn, shape):
    """``lr`` scaled for a (rows, cols) matrix, as torch's ``adjust_lr_fn`` options define."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def zeropower_via_newton_schulz(matrix, ns_coefficients, ns_steps, eps):
    """The approximately orthogonalised ``matrix`` (bfloat16), torch's Newton-Schulz scheme:
    the iteration runs on the orientation with fewer rows, so ``X X^T`` is the small Gram."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency, "
                         f"got {ns_steps}")
    if matrix.dim() != 2:
        raise ValueError(f"Input tensor gradient must be a 2D matrix, got size {matrix.size()}")
    if len(ns_coefficients) != 3:
        raise ValueError(f"Coefficients must be a tuple of exactly 3 values, got {ns_coefficients}")
    a, b, c = ns_coefficients
    tall = matrix.size(0) > matrix.size(1)
    x = matrix.bfloat16()
    if tall:
        x = x.T
    x.div_(x.norm().clamp(min=eps))  # in place, as torch: a bfloat16 input is scaled itself
    for _ in range(ns_steps):
        gram = _bf16_addmm(None, x, x.T)
        gram_update = _bf16_addmm(gram, gram, gram, beta=b, alpha=c)
        x = _bf16_addmm(x, gram_update, x, beta=a)
    return x.T if tall else x


def _bf16_addmm(input, mat1, mat2, beta=1.0, alpha=1.0):
    """``beta input + alpha mat1 @ mat2`` of bfloat16 matrices, computed in float32 and
    rounded to bfloat16 once (torch's CPU rounding; the products of bfloat16 values are
    exact in float32)."""
    f32 = _dt.float32
    result = _ops.mm(mat1.to(f32), mat2.to(f32))
    if alpha != 1:
        result = result * alpha
    if input is not None:
        result = result + (input.to(f32) if beta == 1 else input.to(f32) * beta)
    return result.to(_dt.bfloat16)
