"""Matrix-multiply CPU kernels.

Small products run in a Numba loop (no BLAS call overhead, any strides, any dtype);
large floating-point products go to the BLAS that numpy links (OpenBLAS), which no
hand-written kernel on this machine beats: see docs/design.md.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def mm_small(out, a, b):
    """out[i, j] = sum_k a[i, k] * b[k, j], iterating k outside j so b is read row by row."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            aip = a[i, p]
            for j in range(n):
                out[i, j] += aip * b[p, j]


#: At or above this many multiply-adds a float product goes to BLAS.
BLAS_MIN_FLOPS = 32 * 32 * 32


def mm(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    m, k = a.shape
    n = b.shape[1]
    if out.dtype.kind == "f" and m * n * k >= BLAS_MIN_FLOPS:
        np.matmul(a, b, out=out)
    else:
        mm_small(out, a, b)
