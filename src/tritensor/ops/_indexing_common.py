"""Shared pieces of the indexing ops: copies and views without autograd, argument checks,
and ``_Mutating``, the base of ops that return ``self`` with some elements replaced."""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from . import views
from ._common import backend
from ._overlap import check_no_overlap, check_writable
from .creation import new_empty, zeros
from .elementwise import _torch_name, check_inplace

_INT_INDEX = (dt.int64, dt.int32)


def _clone(t: Tensor) -> Tensor:
    out = new_empty(t._shape, t.dtype, t.device)
    backend(out).copy_(out, t)
    return out


def _cast(t: Tensor, dtype) -> Tensor:
    if t.dtype is dtype:
        return t
    out = new_empty(t._shape, dtype, t.device)
    backend(out).copy_(out, t)
    return out


def _as_vector(t: Tensor) -> Tensor:
    """Differentiable ``_vec`` for backward formulas."""
    return t.reshape(1) if t.dim() == 0 else t


def _vec(t: Tensor) -> Tensor:
    """A 0-d tensor as a 1-element vector view (torch treats 0-d as 1-D in the gather family)."""
    return views.make_view(t, (1,), (1,), t._offset) if t.dim() == 0 else t


def _expand_raw(t: Tensor, shape) -> Tensor:
    """An unrecorded broadcast view of ``t`` with ``shape`` (0 strides where t broadcasts)."""
    shape = tuple(shape)
    if t._shape == shape:
        return t
    lead = len(shape) - t.dim()
    stride = [0] * lead + [0 if n == 1 and s != 1 else st
                           for n, s, st in zip(t._shape, shape[lead:], t._stride)]
    return views.make_view(t, shape, stride, t._offset)


def _check_index_dtype(index, allowed, exc, message):
    if not isinstance(index, Tensor):
        op = message.split("(")[0]
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in allowed:
        raise exc(message.format(name=_torch_name(index.dtype)))


def _check_bounds(index, size, dim, exc=RuntimeError, negative=False, message=None, deferrable=True):
    """Raise ``exc`` (torch's message) if an index falls outside [0, size) (or [-size, size)).

    On a backend that checks on its device (``report_out_of_range``: 'cuda'), a ``deferrable``
    check is raised at the next call that waits for the device instead, as torch's CUDA build
    reports its device-side assert: no host sync per op; its indexing kernels skip such
    indices. Not deferrable: a caller that computes with the indices on the host."""
    if index.numel() == 0:
        return
    text = (message.format(bad="{}", size=size, dim=dim) if message else
            f"index {{}} is out of bounds for dimension {dim} with size {size}")
    lower = -size if negative else 0
    # a dim of size 0 has no index in range; the kernels read unbounded there (dim_size 0),
    # so such a call is refused now rather than reported later
    report = getattr(backend(index), "report_out_of_range", None) if deferrable and size > 0 else None
    if report is not None and report(index, lower, size, exc, text):
        return
    lo, hi = backend(index).index_range(index)
    bad = hi if hi >= size else (lo if lo < lower else None)
    if bad is not None:
        raise exc(text.format(bad))


class _Mutating(Function):
    """An op returning ``self`` with some elements replaced: in place, or on a copy of self."""

    #: torch's checks of an in-place call (ops/_overlap.py), which differ by op: ``self`` may
    #: not be expanded (elements sharing an address) / may share no memory with the other
    #: tensor arguments (index, source), whose values the write would change while reading them
    refuses_expanded = True
    refuses_shared_arguments = True

    @classmethod
    def forward(cls, ctx, self, *args, inplace=False):
        out = self if inplace else _clone(self)
        cls.write(ctx, out, *args)
        return cls.finish(ctx, self, out, inplace)

    @staticmethod
    def finish(ctx, self, out, inplace):
        if inplace:
            self._bump_version()
            ctx.mark_dirty(self)
        return out

    @staticmethod
    def write(ctx, out, *args):
        raise NotImplementedError


def _run(cls, self, *args, inplace=False):
    if inplace:
        check_inplace(self)
        if cls.refuses_expanded:
            check_writable(self)
        if cls.refuses_shared_arguments:
            check_no_overlap(self, args)
    return cls.apply(self, *args, inplace=inplace)


_C_NAMES = {dt.uint8: "unsigned char", dt.int8: "signed char", dt.int16: "short int", dt.int32: "int",
            dt.int64: "long int", dt.float16: "c10::Half", dt.bfloat16: "c10::BFloat16", dt.float32: "float",
            dt.float64: "double"}


def _check_mask(mask, message):
    if not isinstance(mask, Tensor):
        raise TypeError(f"argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not dt.bool:
        raise RuntimeError(message.format(c=_C_NAMES.get(mask.dtype), name=_torch_name(mask.dtype)))


def _columns(idx):
    """The columns of a nonzero() result as 1-D index tensors."""
    if idx._shape[0] == 0:  # fresh empties: a column view of no rows would point past the storage
        return tuple(zeros(0, dtype=dt.int64, device=idx.device) for _ in range(idx._shape[1]))
    return tuple(views._select_raw(idx, 1, d) for d in range(idx._shape[1]))


def _flat_view(t: Tensor) -> Tensor:
    """``t`` as a 1-D view (t must be contiguous)."""
    return views.make_view(t, (t.numel(),), (1,), t._offset)
