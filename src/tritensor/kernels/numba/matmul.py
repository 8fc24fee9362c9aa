"""Matrix-multiply CPU kernels.

Small products run in a Numba loop (no BLAS call overhead, any strides, any dtype,
integers wrap around like torch's); large floating-point products go to the BLAS that
numpy links (OpenBLAS), which no hand-written kernel on this machine beats: see
docs/design.md. Integer products never use BLAS (numpy has no integer BLAS).
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def bmm_small(out, a, b):
    """out[q, i, j] = sum_k a[q, i, k] * b[q, k, j], k outside j so b is read row by row.

    Works for K == 0 too (out is zeroed first).
    """
    batch, m, k = a.shape
    n = b.shape[2]
    for q in range(batch):
        for i in range(m):
            for j in range(n):
                out[q, i, j] = 0
            for p in range(k):
                aip = a[q, i, p]
                for j in range(n):
                    out[q, i, j] += aip * b[q, p, j]


#: At or above this many multiply-adds in all a float product goes to numpy's matmul (BLAS).
#: Measured (numpy 2, OpenBLAS, 2 cores): the Numba loop wins below ~16^3 (0.8 against
#: 1.0 us for one 16^3 product), numpy beyond (1.8 against 5 us at 32^3, 11 against 61 us
#: for 64 products of 16^3: its stacked matmul loops in C).
BLAS_MIN_FLOPS = 8192


def uses_blas(dtype: np.dtype, m: int, k: int, n: int, batch: int = 1) -> bool:
    return dtype.kind == "f" and k > 0 and batch * m * n * k >= BLAS_MIN_FLOPS


def bmm(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """out = a @ b for 3-D arrays of one dtype (out may be any strided view). numpy's stacked
    matmul: as fast as one gemm call per matrix for big ones (measured up to 4 x 512^3, any
    of the three operands transposed), 1.7-2.3x faster for many small ones (128 x 64x16x64:
    184 against 307 us), having no Python loop."""
    batch, m, k = a.shape
    if uses_blas(out.dtype, m, k, b.shape[2], batch):
        np.matmul(a, b, out=out)
    else:
        bmm_small(out, a, b)


@numba.njit(cache=True, nogil=True)
def add_row_bias(out, bias):
    """out[i, :] += bias: linear's bias, added in one pass over the product (contiguous rows)."""
    for i in range(out.shape[0]):
        row = out[i]
        for j in range(out.shape[1]):
            row[j] += bias[j]


def mm(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """out = a @ b for 2-D arrays of one dtype (out may be any strided view)."""
    m, k = a.shape
    if uses_blas(out.dtype, m, k, b.shape[1]):
        np.matmul(a, b, out=out)
    else:
        bmm_small(out[None], a[None], b[None])
