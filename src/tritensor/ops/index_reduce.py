"""index_reduce: reduce slices of ``source`` into the slices of ``self`` chosen by a 1-D
index along ``dim``. It is scatter_reduce with the index broadcast over ``source``'s other
dims, so it shares that op's forward and backward under torch's node name."""
from __future__ import annotations

from ._common import wrap_dim
from ._indexing_common import _INT_INDEX, _check_bounds, _check_index_dtype, _vec
from ._overlap import check_no_overlap, check_writable
from ._registry import export, method
from .elementwise import _torch_name, check_inplace, not_implemented_for
from .gather_scatter import (_ScatterReduceTwo, _check_reduce_kernel, _check_source_slices, _check_vector,
                             _raise_slices_mismatch)
from .. import dtypes as dt


class _IndexReduce(_ScatterReduceTwo):
    node_name = "IndexReduceBackward0"


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _check_index_reduce(self, dim, index, source, reduce):
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
                           f"{reduce}.")
    _check_vector(index, IndexError,
                  "index_reduce_(): Index is supposed to be a vector, but got dim: {dim} with type: {type} "
                  "and size: {size}")
    _check_index_dtype(index, _INT_INDEX, RuntimeError,
                       "index_reduce_(): Expected dtype int32/int64 for index but got: {name}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_torch_name(self.dtype)}) and source "
                           f"({_torch_name(source.dtype)}) must have the same scalar type")
    if source.dim() != self.dim():
        _raise_slices_mismatch(self, source)
    _check_source_slices("index_reduce_", self, dim, index, source)
    if self.dtype is dt.bool:
        raise not_implemented_for("index_func_", self.dtype)
    _check_bounds(index, _vec(self)._shape[dim], dim, IndexError, message="index out of range in self")


def _index_reduce_entry(self, dim, index, source, reduce, include_self, inplace):
    dim = wrap_dim(dim, self.dim())
    _check_index_reduce(self, dim, index, source, reduce)
    _check_reduce_kernel(self, "multiply" if reduce == "prod" else "add")
    if self.dim():  # the index along dim, the same for every position of the other dims
        shape = [1] * self.dim()
        shape[dim] = index.numel()
        index = index.long().reshape(shape).expand(source._shape)
    else:
        index = index.long().reshape(())
    if inplace:
        check_inplace(self)
        check_writable(self)
        check_no_overlap(self, (index, source))
    return _IndexReduce.apply(self, dim, index, source, reduce, bool(include_self), inplace=inplace)


@export
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """torch.index_reduce: ``input`` with each source slice i reduced ('prod', 'mean', 'amax',
    'amin') into its slice ``index[i]`` along ``dim`` (``include_self=False``: without the
    slices' own values)."""
    return _index_reduce_entry(input, dim, index, source, reduce, include_self, False)


@method
def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return _index_reduce_entry(self, dim, index, source, reduce, include_self, True)
