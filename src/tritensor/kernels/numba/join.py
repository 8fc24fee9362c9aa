"""Block copy for cat/stack: each input lands in its slice of the output.

An input and its output slice are both presented as 3-D (outer, along, inner) strided
views: dims before the cat dim merge into ``outer``, dims after it into ``inner``, so
transposed or sliced inputs are read in place. Writes walk the output slice in order.
"""
from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def copy_block(dst, src):
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            for k in range(dst.shape[2]):
                dst[i, j, k] = src[i, j, k]


@numba.njit(cache=True, nogil=True)
def copy_flat(dst, src):
    """Contiguous block to contiguous block: one unit-stride loop that vectorizes."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


#: the rank ``copy_strided`` works in: lower-rank copies get leading unit dims
STRIDED_RANK = 6


@numba.njit(cache=True, nogil=True)
def copy_strided(dst, src):
    """``dst[...] = src`` for two 6-D arrays of one shape, any strides, walking ``dst`` in
    order with a tight loop per innermost row: ~2x numpy's copy for the short rows of a
    permuted tensor (im2col's columns, a transposed matrix), where numpy's iterator pays per
    row (the copy is memory-bound: read src as it lies, write dst sequentially)."""
    a, b, c, d, e, f = dst.shape
    for i0 in range(a):
        for i1 in range(b):
            for i2 in range(c):
                for i3 in range(d):
                    for i4 in range(e):
                        out_row, in_row = dst[i0, i1, i2, i3, i4], src[i0, i1, i2, i3, i4]
                        for i5 in range(f):
                            out_row[i5] = in_row[i5]
