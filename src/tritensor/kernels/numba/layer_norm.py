"""Layer normalisation of rows (CPU, Numba): the statistics and the normalised row in one
kernel, where the composed version made seven passes (mean, a difference, a square, another
mean, rsqrt, a difference and a product, then the affine); the backward's input gradient and
the parameters' in one more (the composed backward made ten).

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


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_dots(grad, weight, xhat):
    """(sum of g, sum of g * xhat) over a row, g = grad * weight (or grad), in float64."""
    total = 0.0
    projected = 0.0
    for j in range(grad.shape[0]):
        g = grad[j] * weight[j] if weight.shape[0] else grad[j]
        total += g
        projected += g * xhat[j]
    return total, projected


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _add_columns(weight_grad, bias_grad, grad, xhat):
    for j in range(grad.shape[0]):
        weight_grad[j] += grad[j] * xhat[j]
        bias_grad[j] += grad[j]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def backward_rows(grad, xhat, rstd, weight, grad_x, weight_grad, bias_grad, lo, hi):
    """Rows lo:hi of the input gradient ``rstd * (g - mean(g) - xhat * mean(g * xhat))``,
    g = grad * weight, and their parts of the parameters' gradients: ``sum(grad * xhat)`` and
    ``sum(grad)`` over the rows, added into float64 ``weight_grad``/``bias_grad``. The means
    accumulate in float64 and round once to the row's type, as the composed ops'."""
    n = xhat.shape[1]
    for i in range(lo, hi):
        g, h, out = grad[i], xhat[i], grad_x[i]
        total, projected = _row_dots(g, weight, h)
        mean = like(total / n, h[0])
        mean_projected = like(projected / n, h[0])
        r = rstd[i]
        if weight.shape[0]:
            for j in range(n):
                out[j] = r * ((g[j] * weight[j] - mean) - h[j] * mean_projected)
        else:
            for j in range(n):
                out[j] = r * ((g[j] - mean) - h[j] * mean_projected)
        _add_columns(weight_grad, bias_grad, g, h)
