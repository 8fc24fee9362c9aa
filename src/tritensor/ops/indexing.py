"""Indexing: ``t[...]`` and ``t[...] = v``.

An index is first normalised to a list of items (ints, slices, None, bools and tensors;
Python lists and numpy arrays become tensors, 0-d integer tensors become ints) with the
Ellipsis expanded. Basic items (ints, slices, None) are applied as views; what is left
(integer tensors, bool masks, bools) goes to ``advanced_indexing`` as (dim, tensor)
pairs. Writes always go through ``advanced_setitem``, which records them for autograd.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from . import views
from ._registry import export
from .creation import arange, tensor
from .elementwise import check_inplace

_MASKS = (dt.bool, dt.uint8)


# ------------------------------------------------------------------ normalisation
def _sequence_as_tuple(seq) -> bool:
    """torch's treatSequenceAsTuple: ``x[[0, slice]]`` means ``x[0, slice]``, ``x[[0, 1]]`` a tensor."""
    return len(seq) < 32 and any(isinstance(i, (Tensor, list, tuple, range, slice)) or i is None
                                 or i is Ellipsis for i in seq)


def _item(i, like: Tensor):
    if isinstance(i, (bool, np.bool_)):
        return bool(i)
    if isinstance(i, Tensor):
        if i.dim() == 0 and i.dtype in _MASKS:  # a 0-d uint8 is a (deprecated) mask too, as in torch
            return bool(i.item())
        if i.dim() == 0 and i.dtype.category == dt._INT:
            return int(i.item())
        return i
    if isinstance(i, range):  # a sequence of ints to torch: an int64 index tensor
        return arange(i.start, i.stop, i.step, device=like.device)
    if isinstance(i, (list, tuple, np.ndarray)):
        t = tensor(i, device=like.device)
        return t.long() if t.numel() == 0 and t.is_floating_point() else t
    return i


def _normalize(index, like: Tensor):
    if isinstance(index, list) and _sequence_as_tuple(index):
        index = tuple(index)
    if not isinstance(index, tuple):
        index = (index,)
    return [_item(i, like) for i in index]


def _consumed(i) -> int:
    """How many dims of the tensor an item indexes."""
    if i is None or i is Ellipsis or isinstance(i, bool):
        return 0
    if isinstance(i, Tensor) and i.dtype in _MASKS:
        return i.dim()
    return 1


def _expand_ellipsis(index, ndim):
    """The items with ``...`` replaced by full slices; IndexError for too many indices."""
    items = list(index) if isinstance(index, (tuple, list)) else [index]
    consumed = sum(_consumed(i) for i in items)
    if consumed > ndim:
        if ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    for i in items:
        if i is Ellipsis:  # like torch, a second ellipsis stands for no dims
            out.extend([slice(None)] * (ndim - consumed))
            consumed = ndim
        else:
            out.append(i)
    return out


# ------------------------------------------------------------------ basic part
def _basic(x, items):
    """Apply ints/slices/None to ``x`` as views; return the view and the advanced (dim, tensor) pairs.

    A bool item adds a size-1 dim that an index of length 1 (True) or 0 (False) then picks,
    so ``x[True]`` copies like torch.
    """
    dim = 0
    advanced = []
    for item in items:
        if item is None:
            x = views.unsqueeze(x, dim)
            dim += 1
        elif isinstance(item, slice):
            start, stop, step = _slice_bounds(item)
            if (start, stop, step) != (None, None, 1):
                x = views.slice_dim(x, dim, start, stop, step)
            dim += 1
        elif isinstance(item, bool):
            x = views.unsqueeze(x, dim)
            advanced.append((dim, arange(int(item), device=x.device)))
            dim += 1
        elif isinstance(item, Tensor):
            advanced.append((dim, item))
            dim += _consumed(item)
        elif hasattr(item, "__index__"):
            x = _select(x, dim, item.__index__())
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             f"are valid indices (got {type(item).__name__})")
    return x, advanced


def _slice_bounds(item):
    """A slice's (start, stop, step) as ints or None; torch's ValueError for a step below 1."""
    step = 1 if item.step is None else int(item.step)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start = None if item.start is None else int(item.start)
    return start, (None if item.stop is None else int(item.stop)), step


def _select(x, dim, idx):
    size = x._shape[dim]
    if idx < -size or idx >= size:
        raise IndexError(f"index {idx} is out of bounds for dimension {dim} with size {size}")
    return views.select(x, dim, idx)


class _Alias(Function):
    """``x[...]``: a view of the whole tensor."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, x):
        return views.make_view(x, x._shape, x._stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad


# ------------------------------------------------------------------ entry points
@export(method=False)
def getitem(self, index):
    kind = type(index)
    if self._shape and (kind is int or kind is slice):  # ``x[i]``, ``x[a:b]``: straight to the view
        return _select(self, 0, index) if kind is int else views.slice_dim(self, 0, *_slice_bounds(index))
    given = _normalize(index, self)
    x, advanced = _basic(self, _expand_ellipsis(given, self.dim()))
    if advanced:
        from .advanced_indexing import advanced_getitem
        return advanced_getitem(x, advanced)
    if x is self:
        if any(isinstance(i, slice) for i in given):
            return views.slice_dim(self, 0, None, None, 1)
        return _Alias.apply(self)
    return x


@export(method=False)
def setitem(self, index, value):
    from .advanced_indexing import advanced_setitem
    if type(index) is bool:  # torch's shortcut for a lone Python bool: False writes nothing,
        if not index:        # True copies like ``x[None] = value`` (converting the value's dtype)
            return
        index = None
    check_inplace(self)
    advanced_setitem(self, _expand_ellipsis(_normalize(index, self), self.dim()), value)
