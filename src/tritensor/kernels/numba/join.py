"""Block copy for cat/stack: each input lands in its slice of the output.

Inputs and the output slice are presented as 2-D (outer, inner) strided views; the copy
walks rows of the output slice in order, so writes are sequential.
"""
from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def copy_block(dst, src):
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = src[i, j]
