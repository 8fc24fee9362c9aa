"""Searching sorted sequences: searchsorted, bucketize and isin.

No binary-search kernel: the values and the boundaries of a row are merged by one stable sort
(the backend's), and a value's position is the number of boundaries ordered before it, a
cumulative count of the merged order. Stability decides the ties: for ``side='left'`` the
values go first, so a value lands before the boundaries equal to it; for ``'right'`` after.
"""
from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from ._common import raise_if_any
from ._registry import export
from .creation import arange, tensor, zeros
from .elementwise import where
from .joining import cat
from .reduction import _into, _torch_name
from .sorting import _order


def _merged_counts(boundaries, values, right):
    """For rows ``boundaries`` (R, M) and ``values`` (R, N) of one dtype: per value, how many
    boundaries of its row are < it (``right``: <= it). A NaN value counts them all, as
    torch's binary search does."""
    m, n = boundaries._shape[-1], values._shape[-1]
    merged = cat([boundaries, values] if right else [values, boundaries], -1)
    order = _order(merged, 1, False)
    is_boundary = (order < m) if right else (order >= n)
    before = is_boundary.long().cumsum(1)  # boundaries at or before each merged position
    position = zeros(order._shape, dtype=dt.int64, device=order.device)
    position.scatter_(1, order, arange(m + n, device=order.device).expand(order._shape))
    counts = before.gather(1, position.narrow(1, m if right else 0, n))
    return where(values.isnan(), m, counts) if values.dtype.is_floating_point else counts


def _check_search(boundaries, values, side, right, sorter, out, out_int32):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of "
                               "left while right was True")
    if boundaries.dim() == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got "
                           "0 dimension")
    if boundaries.dim() > 1 and (values.dim() != boundaries.dim()
                                 or values._shape[:-1] != boundaries._shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(boundaries._shape)} and input value tensor "
                           f"{list(values._shape)}")
    for x in (boundaries, values):
        if x.dtype is dt.bool:
            raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    want = dt.int32 if out_int32 else dt.int64
    if out is not None and out.dtype is not want:
        raise RuntimeError("torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) "
                           "or Long(int64) depending on whether out_int32 flag is True, but we got output "
                           f"tensor's dtype {_torch_name(out.dtype)} and out_int32 flag is {out_int32}")
    if sorter is not None:
        if sorter.dtype is not dt.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_torch_name(sorter.dtype)}")
        if sorter._shape != boundaries._shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(boundaries._shape)}and got sorter tensor "
                               f"{list(sorter._shape)}")
        n = boundaries._shape[-1]
        raise_if_any((sorter < 0) | (sorter >= n), RuntimeError,
                     "torch.searchsorted(): sorter index out of range")


@export(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """torch.searchsorted: for each value of ``input``, the index in the last dim of
    ``sorted_sequence`` (1-D, or matching ``input``'s leading dims) where inserting it keeps
    the order; ``right``/``side='right'`` places it after equal boundaries."""
    scalar = not isinstance(input, Tensor)
    values = tensor(input, device=sorted_sequence.device) if scalar else input
    _check_search(sorted_sequence, values, side, right, sorter, out, out_int32)
    right = right or side == "right"
    common = dt.promote_types(sorted_sequence.dtype, values.dtype)
    boundaries = sorted_sequence if sorter is None else sorted_sequence.gather(-1, sorter)
    boundaries, values = boundaries.detach().to(common), values.detach().to(common)
    m = boundaries._shape[-1]
    if values.numel() == 0 or m == 0:
        result = zeros(values._shape, dtype=dt.int64, device=values.device)
    elif boundaries.dim() == 1:
        result = _merged_counts(boundaries.reshape(1, m), values.reshape(1, -1), right).reshape(values._shape)
    else:
        rows, flat_values = boundaries.reshape(-1, m), values.reshape(-1, values._shape[-1])
        result = _merged_counts(rows, flat_values, right).reshape(values._shape)
    return _into(out, result.int() if out_int32 else result)


@export(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """torch.bucketize: searchsorted with the arguments swapped and 1-D ``boundaries``."""
    if isinstance(boundaries, Tensor) and boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


@export(method=False)
def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """torch.isin: whether each of ``elements`` is one of ``test_elements`` (NaN never is):
    a search of the sorted test elements."""
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    elements = elements if isinstance(elements, Tensor) else tensor(elements, device=device)
    tests = test_elements if isinstance(test_elements, Tensor) else tensor(test_elements, device=device)
    for x in (elements, tests):
        if x.dtype is dt.bool:
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    common = dt.promote_types(elements.dtype, tests.dtype)
    values, tests = elements.detach().to(common), tests.detach().reshape(-1).to(common)
    if tests.numel() == 0 or values.numel() == 0:
        found = zeros(values._shape, dtype=dt.bool, device=values.device)
    else:
        tests = tests.sort().values
        at = searchsorted(tests, values).clamp_max(tests._shape[0] - 1)
        found = tests[at.reshape(-1)].reshape(values._shape) == values
    return _into(out, found.logical_not() if invert else found)

