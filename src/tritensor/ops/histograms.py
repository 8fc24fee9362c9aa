"""Counting into bins: bincount and histc, each an ``index_add`` (the backends' scatter-add
kernels) of ones or weights at the bin of every element. The bin count depends on the data,
so both read its maximum (or range) back to the host first, as torch does."""
from __future__ import annotations

import math

from .. import dtypes as dt
from ..autograd.function import Function
from ._registry import export
from .creation import ones, zeros
from .elementwise import not_implemented_for, where
from .reduction import _into


def _device_name(x):
    return "cpu" if x.device.type == "cpu" else "cuda"


class _BinCount(Function):
    """torch records a node whose backward raises (bincount has no derivative): so does this."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, weights, input, length, dtype):
        return zeros(length, dtype=dtype, device=input.device).index_add_(0, input, weights.to(dtype))

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'bincount' is not implemented.")


@export
def bincount(input, weights=None, minlength=0):
    """torch.bincount: how often each non-negative integer occurs in the 1-D ``input`` (the
    sum of its ``weights``: float32/float64 weights keep their dtype, others give float64)."""
    if input.dtype is dt.bool or input.dtype.is_floating_point:
        raise not_implemented_for(f"bincount_{_device_name(input)}", input.dtype)
    if input.dim() != 1 or (input.numel() and int(input.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and (weights.dim() != 1 or weights._shape[0] != input._shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    length = max(int(input.max()) + 1 if input.numel() else 0, minlength)
    input = input.long()
    if weights is None:
        return zeros(length, dtype=dt.int64, device=input.device).index_add_(
            0, input, ones(input._shape, dtype=dt.int64, device=input.device))
    dtype = weights.dtype if weights.dtype in (dt.float32, dt.float64) else dt.float64
    return _BinCount.apply(weights, input, length, dtype)


@export
def histc(input, bins=100, min=0, max=0, *, out=None):
    """torch.histc: counts of the elements in ``bins`` equal-width bins over [min, max] (the
    data's range when both are 0); elements outside, and NaN, are not counted."""
    if not input.dtype.is_floating_point:
        raise not_implemented_for(f"histogram_{_device_name(input)}", input.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    counted = (x >= lo) & (x <= hi)
    # the bin as torch computes it, in the input's dtype: (x - lo) * bins / (hi - lo)
    at = ((x - lo) * bins / (x.new_full((), hi) - lo)).floor().nan_to_num(0).long().clamp(0, bins - 1)
    counts = zeros(bins, dtype=input.dtype, device=input.device)
    counts.index_add_(0, at, where(counted, 1, 0).to(input.dtype))
    return _into(out, counts)
