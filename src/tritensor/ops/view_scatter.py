"""Out-of-place writes through a view (``select_scatter``, ``slice_scatter``,
``diagonal_scatter``) and ``fill_diagonal_``: a copy of the input with the view's elements
replaced, composed of clone, a view and ``copy_`` so the gradient splits between input and src."""

from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from . import views
from .conversion import clone
from ._common import wrap_dim
from ._registry import export, method


def _scatter_into(input, src, view_of):
    part = view_of(input)
    if tuple(src.shape) != tuple(part.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
            f"slice size = {list(part.shape)}"
        )
    out = clone(input)
    view_of(out).copy_(src)
    return out


@export
def select_scatter(input, src, dim, index):
    return _scatter_into(input, src, lambda t: views.select(t, dim, index))


@export
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    def view_of(t):
        d = wrap_dim(dim, t.dim())
        size = t.shape[d]
        first = 0 if start is None else max(min(start + size if start < 0 else start, size), 0)
        last = size if end is None else max(min(end + size if end < 0 else end, size), first)
        return views.slice_dim(t, d, first, last, step)

    return _scatter_into(input, src, view_of)


@export
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    return _scatter_into(input, src, lambda t: views.diagonal(t, offset, dim1, dim2))


@method
def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal in place; a tall matrix with ``wrap`` restarts it every
    ``columns + 1`` rows, as torch (and NumPy's fill_diagonal) do."""
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    shape = tuple(self.shape)
    if self.dim() > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    count = min(shape)
    if self.dim() == 2 and wrap and shape[0] > shape[1] + 1:
        flat = np.arange(0, self.numel(), shape[1] + 1)  # row-major positions of the wrapped diagonal
        where = np.unravel_index(flat, shape)
    else:
        where = (np.arange(count),) * self.dim()
    if count:
        from .creation import tensor

        self[tuple(tensor(w, dtype=dt.int64, device=self.device) for w in where)] = fill_value
    return self
