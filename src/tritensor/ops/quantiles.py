"""Order statistics built on the stable sort: quantile, nanquantile and mode.

Composites of sort, gather, lerp and scans, so both devices and autograd come from those ops:
a quantile's gradient goes through the sort's scatter and lerp's weights (to ``q`` too, as in
torch), the mode's to the index it returns.
"""
from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from ._common import raise_if_any, wrap_dim
from ._registry import export
from .creation import arange, full_like, tensor
from .elementwise import lerp, where
from .joining import cat
from .reduction import _ValuesIndices, _check_out_dtypes, _int_dim, _into
from .sorting import _check_reduced_dim, _node, _order

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")
_ROUND = {"lower": "floor", "higher": "ceil", "nearest": "round"}


def _quantile_q(input, q):
    """``q`` as a 1-D tensor of ``input``'s dtype (checked as torch does) and whether it was a
    scalar."""
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if not isinstance(q, Tensor):
        q = float(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    elif q.dim() > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input.dtype not in (dt.float32, dt.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if not isinstance(q, Tensor):
        return tensor([q], dtype=input.dtype, device=input.device), True
    if q.dtype is not input.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if q.device != input.device:
        raise RuntimeError(f"quantile() q tensor must be on the same device as the input tensor, but got "
                           f"q on {q.device} and input on {input.device}")
    raise_if_any((q < 0) | (q > 1) | q.isnan(), RuntimeError,
                 "quantile() q values must be in the range [0, 1]")
    return q.reshape(-1), q.dim() == 0


def _quantile(input, q, dim, keepdim, interpolation, out, ignore_nan):
    q, scalar = _quantile_q(input, q)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, midpoint or "
                           f"nearest, but got {interpolation}")
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError("quantile() out tensor must be same dtype as the input tensor")
    if dim is None:
        rows = input.reshape(-1)
    else:
        d = wrap_dim(_int_dim("quantile", dim), input.dim())
        rows = input.movedim(d, -1) if input.dim() else input.reshape(1)
    ordered = rows.sort(-1).values  # NaN last
    n = ordered._shape[-1]
    nans = ordered.isnan()
    if ignore_nan:  # an all-NaN row gets rank 0, its first NaN
        ranks = (q * (n - nans.sum(-1, keepdim=True) - 1)).clamp_min(0)
    else:  # a row holding NaN gets its last element, a NaN
        ranks = where(nans.any(-1, keepdim=True), n - 1, q * (n - 1))
    if interpolation in _ROUND:
        ranks = getattr(ranks, _ROUND[interpolation])()
    ranks = ranks.expand(ordered._shape[:-1] + (q._shape[0],))
    below = ranks.long()
    result = ordered.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        result = lerp(result, ordered.gather(-1, ranks.ceil().long()), weights)
    if keepdim:  # the reduced dims come back with size 1, before q's dim is moved first
        result = result.reshape((1,) * input.dim() + q._shape) if dim is None or not input.dim() \
            else result.unsqueeze(d)
    result = result.squeeze(-1) if scalar else result.movedim(-1, 0)
    return _into(out, result)


@export
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """torch.quantile: the ``q``-th quantiles (float or 1-D tensor, q's dim first) of all
    elements or along ``dim``; a row holding NaN gives NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, out, False)


@export
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """torch.nanquantile: quantile ignoring NaN (NaN only for a row of all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, out, True)


_Mode = _node("ModeBackward0")


def _mode_index(rows):
    """Per row of ``rows`` (the reduced dim last): the index, kept as a size-1 last dim, of
    torch's CPU mode: the smallest of the most frequent values, its last index (torch's
    std::sort is stable on rows up to 16 elements and returns the last of equal values; longer
    rows may give any index of the mode). NaN equals nothing, so each NaN counts once."""
    order = _order(rows, rows.dim() - 1, False)
    ordered = rows.gather(-1, order)
    n = ordered._shape[-1]
    ends = (ordered.narrow(-1, 1, n - 1) != ordered.narrow(-1, 0, n - 1))
    edge = ends.new_ones(ends._shape[:-1] + (1,))
    ends, starts = cat([ends, edge], -1), cat([edge, ends], -1)
    position = arange(n, device=rows.device)
    run_start = where(starts, position, 0).cummax(-1).values
    counts = where(ends, position - run_start + 1, 0)
    return order.gather(-1, counts.argmax(-1, keepdim=True))


@export
def mode(input, dim=-1, keepdim=False, *, out=None):
    """torch.mode: (values, indices) of the most frequent value along ``dim``, the smallest
    such value, at its last index."""
    d = wrap_dim(_int_dim("mode", dim), input.dim())
    _check_reduced_dim("mode", input, d)
    _check_out_dtypes(out, (input.dtype, dt.int64))
    if not input.dim():
        index = input.new_zeros((), dtype=dt.int64)
    elif input.numel() == 0:
        index = input.new_zeros(input._shape[:d] + (1,) + input._shape[d + 1:], dtype=dt.int64)
    else:
        index = _mode_index(input.detach().movedim(d, -1)).movedim(-1, d)
    values = _Mode.apply(input, d, index, keepdim)
    if input.dim() and not keepdim:
        index = index.squeeze(d)
    return _into(out, _ValuesIndices(values, index, "mode"))
