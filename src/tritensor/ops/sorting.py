"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian,
unique, unique_consecutive.

Each is one stable argsort along a dim (the backend's kernel) followed by picking positions
of that order: the values are a gather of the input at the picked indices, and the gradient
goes back to those indices (a scatter), so one autograd Function serves them all (but the
median of all elements, whose gradient torch shares among the elements equal to it). NaN sorts
as the largest value, as in torch. Ties keep their input order; torch leaves that order
unspecified for ``stable=False``, topk and kthvalue, so any index of an equal value is
correct there.
"""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ._common import backend, wrap_dim
from ._registry import export
from ..type_info import iinfo
from .creation import arange, new_empty, ones, tensor, zeros
from .elementwise import where
from .joining import cat
from .reduction import _ValuesIndices, _check_out_dtypes, _int_dim, _into, share_among_equal


class _Picked(Function):
    """``x`` at ``indices`` along ``dim``; ``keepdim`` False drops ``dim``, which then has
    size 1 in ``indices``."""

    node_name = "SortBackward0"

    @classmethod
    def forward(cls, ctx, x, dim, indices, keepdim):
        ctx.meta = (x._shape, dim, keepdim)
        ctx.save_for_backward(indices)
        values = new_empty(indices._shape, x.dtype, x.device)
        if x.dim() == 0:
            values.copy_(x)
        elif values.numel():
            backend(x).gather(values, x, dim, indices)
        return values if keepdim else values.squeeze(dim)

    @classmethod
    def backward(cls, ctx, grad):
        shape, dim, keepdim = ctx.meta
        (indices,) = ctx.saved_tensors
        if not shape:
            return grad, None, None, None
        if not keepdim:
            grad = grad.unsqueeze(dim)
        grad_x = zeros(shape, dtype=grad.dtype, device=grad.device).scatter(dim, indices, grad)
        return grad_x, None, None, None


class _PickedOfAll(Function):
    """The median of all elements: its gradient is shared evenly by every element equal to it
    (every NaN for a NaN median), as torch's ``evenly_distribute_backward``."""

    node_name = "MedianBackward0"

    @classmethod
    def forward(cls, ctx, x, index):
        value = x.reshape(-1)[index]
        ctx.save_for_backward(x, value)
        return value

    @classmethod
    def backward(cls, ctx, grad):
        x, value = ctx.saved_tensors
        return share_among_equal(grad, x, value, tuple(range(x.dim())), False, True), None


def _node(name, base=_Picked):
    return type(f"_{name}", (base,), {"node_name": name})


_Sorted, _TopK, _KthValue = _node("SortBackward0"), _node("TopkBackward0"), _node("KthvalueBackward0")
_MedianAll, _MedianDim = _node("MedianBackward0", _PickedOfAll), _node("MedianBackward1")
_NanMedianAll, _NanMedianDim = _node("NanmedianBackward0", _PickedOfAll), _node("NanmedianBackward1")


def _order(x, dim, descending):
    """int64 positions that sort ``x`` along ``dim``, stably."""
    indices = new_empty(x._shape, dt.int64, x.device)
    if x.dim() == 0:
        indices.zero_()
    elif x.numel():
        backend(x).argsort(indices, x, dim, descending)
    return indices


def _dim_size(x, dim):
    return x._shape[dim] if x.dim() else 1


def _not_for_bool(name, x, exc=NotImplementedError):
    if x.dtype is dt.bool:
        device = "CPU" if x.device.type == "cpu" else "CUDA"
        raise exc(f'"{name}_{device.lower()}" not implemented for \'Bool\'' if exc is NotImplementedError
                  else f"{name} does not support bool dtypes on {device}")


@export
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """torch.sort: (values, indices) along ``dim``; always stable (torch allows any order of
    equal values unless ``stable=True``)."""
    d = wrap_dim(_int_dim("sort", dim), input.dim())
    _check_out_dtypes(out, (input.dtype, dt.int64))
    indices = _order(input, d, descending)
    return _into(out, _ValuesIndices(_Sorted.apply(input, d, indices, True), indices, "sort"))


@export
def argsort(input, dim=-1, descending=False, stable=False):
    """torch.argsort: the indices that sort ``input`` along ``dim`` (stable)."""
    return _order(input, wrap_dim(_int_dim("argsort", dim), input.dim()), descending)


@export
def msort(input, *, out=None):
    """torch.msort: ``input`` sorted along its first dim."""
    _check_out_dtypes(out, (input.dtype,))
    return _into(out, sort(input, 0).values)


@export
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """torch.topk: the ``k`` largest (``largest=False``: smallest) values along ``dim`` and
    their indices, in sorted order (also for ``sorted=False``, which allows any order)."""
    _not_for_bool("topk", input, RuntimeError)
    d = wrap_dim(_int_dim("topk", dim), input.dim())
    if not 0 <= k <= _dim_size(input, d):
        raise RuntimeError("selected index k out of range")
    _check_out_dtypes(out, (input.dtype, dt.int64))
    if input.dim():
        indices = new_empty(input._shape[:d] + (k,) + input._shape[d + 1:], dt.int64, input.device)
        if indices.numel():
            backend(input).topk(indices, input, d, k, largest)
    else:
        indices = _order(input, d, largest)
    return _into(out, _ValuesIndices(_TopK.apply(input, d, indices, True), indices, "topk"))


def _check_reduced_dim(name, x, d):
    if x.dim() and x._shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _indices_at(input, d, position):
    """Where the element at ``position`` (an int, or an int64 tensor with ``d`` of size 1) of
    the stable ascending order along ``d`` is, with ``d`` kept (size 1). The CPU selects in
    linear time; other devices sort."""
    if not input.dim():
        return _order(input, d, False)
    if input.device.type == "cpu" and input.numel():
        indices = new_empty(input._shape[:d] + (1,) + input._shape[d + 1:], dt.int64, input.device)
        backend(input).select(indices, input, d, position)
        return indices
    if isinstance(position, int):
        return _order(input, d, False).narrow(d, position, 1).contiguous()
    return _order(input, d, False).gather(d, position)


def _pick(cls, name, input, d, position, keepdim):
    """(values, indices) at ``position`` (an int, or an int64 tensor with ``d`` of size 1)
    of the ascending order along ``d``."""
    indices = _indices_at(input, d, position)
    values = cls.apply(input, d, indices, keepdim)
    if input.dim() and not keepdim:
        indices = indices.squeeze(d)
    return _ValuesIndices(values, indices, name)


@export
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """torch.kthvalue: the k-th smallest value along ``dim`` (1-based) and its index."""
    _not_for_bool("kthvalue", input)
    d = wrap_dim(_int_dim("kthvalue", dim), input.dim())
    _check_reduced_dim("kthvalue", input, d)
    if not 1 <= k <= _dim_size(input, d):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    _check_out_dtypes(out, (input.dtype, dt.int64))
    return _into(out, _pick(_KthValue, "kthvalue", input, d, k - 1, keepdim))


def _median_position(x, d, ignore_nan):
    """Per row along ``d`` (kept, size 1): where the lower median sits in ascending order.
    NaN sorts last; median returns the first NaN of a row holding any, nanmedian the lower
    median of the rest (the first NaN of an all-NaN row)."""
    n = _dim_size(x, d)
    if not x.dtype.is_floating_point:
        return (n - 1) // 2
    nans = x.isnan().sum(d, keepdim=True) if x.dim() else x.isnan().long()
    if ignore_nan:
        return ((n - nans - 1) // 2).clamp_min(0)
    return where(nans > 0, n - nans, (n - 1) // 2)


def _median_dim(name, cls, input, dim, keepdim, ignore_nan):
    _not_for_bool(name, input)
    d = wrap_dim(_int_dim(name, dim), input.dim())
    _check_reduced_dim(name, input, d)
    if input.numel() == 0:
        return _pick(cls, name, input, d, 0, keepdim)
    return _pick(cls, name, input, d, _median_position(input, d, ignore_nan), keepdim)


def _median_all(cls, name, input, ignore_nan):
    _not_for_bool(name, input)
    flat = input.reshape(-1)
    if flat.numel() == 0:
        empty_value = float("nan") if input.dtype.is_floating_point else iinfo(input.dtype).min
        return zeros((), dtype=input.dtype, device=input.device).fill_(empty_value)
    return cls.apply(input, _indices_at(flat, 0, _median_position(flat, 0, ignore_nan)).reshape(()))


def _median(name, cls_all, cls_dim, ignore_nan):
    def op(input, dim=None, keepdim=False, *, out=None):
        _check_out_dtypes(out, (input.dtype, dt.int64))
        if dim is None:
            return _into(out, _median_all(cls_all, name, input, ignore_nan))
        return _into(out, _median_dim(name, cls_dim, input, dim, keepdim, ignore_nan))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: the lower median of all elements, or (values, indices) along ``dim``; " + \
                 ("NaN is ignored." if ignore_nan else "a NaN makes the median NaN.")
    return export(op)


median = _median("median", _MedianAll, _MedianDim, False)
nanmedian = _median("nanmedian", _NanMedianAll, _NanMedianDim, True)


# ------------------------------------------------------------------ unique
class _Unique(Function):
    """Runs ``find(x)`` -> (values, inverse, counts); torch records a node whose backward
    raises (no derivative), and so does this."""

    node_name = "Unique2Backward0"
    native = "_unique2"

    @classmethod
    def forward(cls, ctx, x, find):
        values, inverse, counts = find(x)
        ctx.mark_non_differentiable(inverse, counts)
        return values, inverse, counts

    @classmethod
    def backward(cls, ctx, *grads):
        raise NotImplementedError(f"the derivative for '{cls.native}' is not implemented.")


_UniqueDim = type("_UniqueDim", (_Unique,), {"node_name": "UniqueDimBackward0", "native": "unique_dim"})
_UniqueConsecutive = type("_UniqueConsecutive", (_Unique,),
                          {"node_name": "UniqueConsecutiveBackward0", "native": "unique_consecutive"})


def _lexicographic_order(rows):
    """The stable order of the rows of a 2-D tensor, compared column by column: one stable sort
    per column, the last column first (least significant digit first, as in a radix sort)."""
    order = arange(rows._shape[0], device=rows.device)
    for c in range(rows._shape[1] - 1, -1, -1):
        order = order[_order(rows[:, c][order], 0, False)]
    return order


def _groups(rows, order):
    """Runs of equal rows of a 2-D ``rows`` (elements of a 1-D one; NaN equals nothing, as in
    torch) taken in ``order``: (the rows so ordered, whether each starts a run, the run each
    row of ``rows`` is in, the run lengths)."""
    ordered = rows[order] if order is not None else rows
    n = ordered._shape[0]
    starts = ones(n, dtype=dt.bool, device=rows.device)
    if n > 1:
        differs = ordered[1:] != ordered[:-1]
        starts[1:] = differs.any(1) if differs.dim() > 1 else differs
    run = starts.cumsum(0) - 1
    inverse = run if order is None else zeros(n, dtype=dt.int64, device=rows.device).scatter(0, order, run)
    bounds = cat([starts.nonzero().reshape(-1), tensor([n], device=rows.device)])
    counts = bounds[1:] - bounds[:-1]
    return ordered, starts, inverse, counts


#: integer values spanning at most this many (or twice their count) are counted, not sorted
_COUNTED_SPAN = 1 << 16


def _unique_by_counting(flat):
    """(values, inverse, counts) of a non-empty 1-D integer tensor whose values span a range
    not much longer than it, else None: one counting pass over the range instead of a sort
    (linear time), the distinct values coming out of the bins in ascending order and each
    element's run being its bin's rank among the occupied bins."""
    lowest, highest = backend(flat).index_range(flat)
    span = highest - lowest + 1
    if span > max(_COUNTED_SPAN, 2 * flat.numel()):
        return None
    from .histograms import _counted
    shifted = flat.long() - lowest if lowest else flat.long()
    bins = _counted(shifted, None, span, dt.int64)
    occupied = bins > 0
    rank = occupied.cumsum(0) - 1
    values = (occupied.nonzero().reshape(-1) + lowest).to(flat.dtype)
    return values, rank[shifted], bins[occupied]


def _unique_flat(x, sort):
    flat = x.reshape(-1)
    if sort and flat.numel() and not flat.dtype.is_floating_point and flat.dtype is not dt.bool:
        counted = _unique_by_counting(flat)
        if counted is not None:
            values, inverse, counts = counted
            return values, inverse.reshape(x._shape), counts
    ordered, starts, inverse, counts = _groups(flat, _order(flat, 0, False) if sort else None)
    return ordered[starts], inverse.reshape(x._shape), counts


def _unique_dim(x, dim, sort):
    if x.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, x.dim())
    if x._shape[d] == 0:
        return (x.clone(), new_empty((0,), dt.int64, x.device), new_empty((0,), dt.int64, x.device))
    if x.numel() == 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                           "applied")
    moved = x.movedim(d, 0)
    rows = moved.reshape(moved._shape[0], -1)
    ordered, starts, inverse, counts = _groups(rows, _lexicographic_order(rows) if sort else None)
    values = ordered[starts].reshape((-1,) + moved._shape[1:]).movedim(0, d).contiguous()
    return values, inverse, counts


def _unique_result(cls, input, find, return_inverse, return_counts):
    values, inverse, counts = cls.apply(input, find)
    if not (return_inverse or return_counts):
        return values
    return (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())


@export
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """torch.unique: the distinct values (or slices along ``dim``), sorted (also for
    ``sorted=False``, which allows any order); NaNs are all distinct, as in torch."""
    cls, find = (_Unique, lambda x: _unique_flat(x, True)) if dim is None else \
        (_UniqueDim, lambda x: _unique_dim(x, dim, True))
    return _unique_result(cls, input, find, return_inverse, return_counts)


@export
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """torch.unique_consecutive: each run of equal consecutive values (or slices) once."""
    find = (lambda x: _unique_flat(x, False)) if dim is None else (lambda x: _unique_dim(x, dim, False))
    return _unique_result(_UniqueConsecutive, input, find, return_inverse, return_counts)
