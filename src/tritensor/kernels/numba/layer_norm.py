"""Layer normalisation of rows (CPU, Numba): the statistics and the normalised row in one
kernel, where the composed version made seven passes (mean, a difference, a square, another
mean, rsqrt, a difference and a product, then the affine).

Each step rounds as the composed ops do: the mean and the mean square deviation accumulate in
float64 and round once to the row's type; differences, products and the affine's multiply
and add round in the row's type (no fused multiply-add). Only the float64 sums are
reassociated (vector lanes), which changes them by far less than their final rounding.
"""
from __future__ import annotations

import numba
import numpy as np

from .vmath import like


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_sum(row):
    total = 0.0
    for j in range(row.shape[0]):
        total += row[j]
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_square_deviation(row, mean):
    total = 0.0
    for j in range(row.shape[0]):
        d = row[j] - mean
        total += d * d
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def forward_rows(x, weight, bias, eps, y, xhat, rstd, lo, hi):
    """Rows lo:hi of ``xhat = (x - mean) * rstd`` and ``y = xhat * weight + bias`` over the
    rows of ``x`` (B, n); ``weight``/``bias`` of n elements, or of none (skipped; with neither,
    ``y`` is not written: the caller's output is ``xhat`` itself)."""
    n = x.shape[1]
    for i in range(lo, hi):
        row, h, out = x[i], xhat[i], y[i]
        m = like(_row_sum(row) / n, row[0])
        r = like(1.0, m) / np.sqrt(like(_row_square_deviation(row, m) / n, m) + like(eps, m))
        rstd[i] = r
        for j in range(n):
            h[j] = (row[j] - m) * r
        if weight.shape[0] and bias.shape[0]:
            for j in range(n):
                out[j] = h[j] * weight[j] + bias[j]
        elif weight.shape[0]:
            for j in range(n):
                out[j] = h[j] * weight[j]
        elif bias.shape[0]:
            for j in range(n):
                out[j] = h[j] + bias[j]
