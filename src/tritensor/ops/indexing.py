"""Indexing: ``t[...]`` and ``t[...] = v``.

Basic indices (ints, slices, None, Ellipsis) become views through ``views``; advanced
indices (bool masks, integer tensors and lists) go through ``index``/``index_put``.
"""
from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from . import views
from ._common import wrap_dim
from ._registry import export


def _expand_ellipsis(index, ndim):
    if not isinstance(index, tuple):
        index = (index,)
    consumed = 0
    for i in index:
        if i is None or i is Ellipsis:
            continue
        if isinstance(i, Tensor) and i.dtype is dt.bool:
            consumed += max(i.dim(), 1) if i.dim() else 0
        else:
            consumed += 1
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(i)
    return out


def _is_advanced(i):
    return isinstance(i, (Tensor, list)) or (type(i).__module__ == "numpy" and hasattr(i, "shape")
                                              and getattr(i, "ndim", 0) > 0)


def _basic(x, items):
    """Apply ints/slices/None to ``x``; return the view and the advanced indices with their dims."""
    dim = 0
    advanced = []
    for item in items:
        if item is None:
            x = views.unsqueeze(x, dim)
            dim += 1
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start = None if item.start is None else int(item.start)
            stop = None if item.stop is None else int(item.stop)
            if (start, stop, step) != (None, None, 1):
                x = views.slice_dim(x, dim, start, stop, step)
            dim += 1
        elif isinstance(item, bool):
            x = views.unsqueeze(x, dim)
            if not item:
                x = views.narrow(x, dim, 0, 0)
            dim += 1
        elif _is_advanced(item):
            advanced.append((dim, item))
            if isinstance(item, Tensor) and item.dtype in (dt.bool, dt.uint8):
                dim += max(item.dim(), 1) if item.dim() else 1
            else:
                dim += 1
        elif hasattr(item, "__index__"):
            size = x._shape[dim] if dim < x.dim() else None
            idx = item.__index__()
            if size is None:
                raise IndexError(f"too many indices for tensor of dimension {x.dim()}")
            if idx < -size or idx >= size:
                raise IndexError(f"index {idx} is out of bounds for dimension {dim} with size {size}")
            x = views.select(x, dim, idx)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             f"are valid indices (got {type(item).__name__})")
    return x, advanced


@export(method=False)
def getitem(self, index):
    items = _expand_ellipsis(index, self.dim())
    if not any(_is_advanced(i) for i in items):
        x, _ = _basic(self, items)
        if x is self:
            return views.view(self, self._shape)
        return x
    from .advanced_indexing import advanced_getitem
    return advanced_getitem(self, items)


@export(method=False)
def setitem(self, index, value):
    from .elementwise import check_inplace
    check_inplace(self)
    items = _expand_ellipsis(index, self.dim())
    if not any(_is_advanced(i) for i in items):
        target, _ = _basic(self.detach() if not self._requires_grad else self, items)
        _assign(target, value)
        return
    from .advanced_indexing import advanced_setitem
    advanced_setitem(self, items, value)


def _assign(target, value):
    from .creation import tensor
    if isinstance(value, Tensor):
        if value.device != target.device:
            value = value.to(target.device)
        target.copy_(value)
    else:
        if isinstance(value, (list, tuple)):
            value = tensor(value, dtype=target.dtype, device=target.device)
            target.copy_(value)
        else:
            target.fill_(value)


def normalize_index_dim(dim, ndim):
    return wrap_dim(dim, ndim)
