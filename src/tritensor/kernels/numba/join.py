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
