"""Layer and batch normalisation (CPU, Numba). Layer norm: the statistics and the normalised
row in one kernel, where the composed version made seven passes (mean, a difference, a
square, another mean, rsqrt, a difference and a product, then the affine); the backward's
input gradient and the parameters' in one more (the composed backward made ten). Batch norm:
the same per channel of an (N, C, L) view, the channels split across threads (so no partial
sums merge).

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


# ---------------------------------------------------------------- batch norm: one channel at a time
@numba.njit(cache=True, nogil=True, error_model="numpy")
def batch_forward(x, weight, bias, eps, y, xhat, mean, var, rstd, lo, hi):
    """Channels lo:hi of batch norm over ``x`` (N, C, L): each channel's mean and (biased)
    variance over its N x L values, rounded as the composed ops round, then ``xhat`` and
    ``y = xhat * weight[c] + bias[c]`` (``weight``/``bias`` of C elements, or empty: skipped;
    with neither, ``y`` is not written). ``mean``, ``var``, ``rstd``: one value a channel."""
    count = x.shape[0] * x.shape[2]
    for c in range(lo, hi):
        total = 0.0
        for n in range(x.shape[0]):
            total += _row_sum(x[n, c])
        m = like(total / count, x[0, 0, 0])
        deviation = 0.0
        for n in range(x.shape[0]):
            deviation += _row_square_deviation(x[n, c], m)
        v = like(deviation / count, m)
        r = like(1.0, m) / np.sqrt(v + like(eps, m))
        mean[c], var[c], rstd[c] = m, v, r
        for n in range(x.shape[0]):
            row, h, out = x[n, c], xhat[n, c], y[n, c]
            for j in range(row.shape[0]):
                h[j] = (row[j] - m) * r
            if weight.shape[0] and bias.shape[0]:
                w, b = weight[c], bias[c]
                for j in range(row.shape[0]):
                    out[j] = h[j] * w + b
            elif weight.shape[0]:
                w = weight[c]
                for j in range(row.shape[0]):
                    out[j] = h[j] * w
            elif bias.shape[0]:
                b = bias[c]
                for j in range(row.shape[0]):
                    out[j] = h[j] + b


@numba.njit(cache=True, nogil=True, error_model="numpy")
def batch_backward(grad, xhat, rstd, weight, grad_x, weight_grad, bias_grad, lo, hi):
    """Channels lo:hi of batch norm's backward over (N, C, L): ``rstd * (g - mean(g) - xhat *
    mean(g * xhat))`` with g = grad * weight[c], and the channel's ``sum(grad * xhat)`` and
    ``sum(grad)`` (float64 sums, rounded once) into ``weight_grad``/``bias_grad``."""
    count = grad.shape[0] * grad.shape[2]
    for c in range(lo, hi):
        total = 0.0
        projected = 0.0
        for n in range(grad.shape[0]):
            t, p = _row_dots(grad[n, c], weight[:0], xhat[n, c])  # unweighted: the weight applies after
            total += t
            projected += p
        h0 = xhat[0, 0, 0]
        w = weight[c] if weight.shape[0] else like(1.0, h0)
        mean = like(total * w / count, h0)
        mean_projected = like(projected * w / count, h0)
        r = rstd[c]
        for n in range(grad.shape[0]):
            g, h, out = grad[n, c], xhat[n, c], grad_x[n, c]
            for j in range(g.shape[0]):
                out[j] = r * ((g[j] * w - mean) - h[j] * mean_projected)
        weight_grad[c] = like(projected, h0)
        bias_grad[c] = like(total, h0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def batch_forward_columns(x, weight, bias, eps, y, xhat, mean, var, rstd, lo, hi):
    """``batch_forward`` for an (N, C) input, whose channels are columns lo:hi: rows swept
    into per-channel float64 sums (unit stride, so the sweeps vectorise) instead of one
    strided walk per channel."""
    n = x.shape[0]
    total = np.zeros(hi - lo)
    for i in range(n):
        row = x[i, lo:hi]
        for c in range(hi - lo):
            total[c] += row[c]
    for c in range(hi - lo):
        mean[lo + c] = like(total[c] / n, x[0, 0])
    m = mean[lo:hi]
    deviation = np.zeros(hi - lo)
    for i in range(n):
        row = x[i, lo:hi]
        for c in range(hi - lo):
            d = row[c] - m[c]
            deviation[c] += d * d
    for c in range(hi - lo):
        v = like(deviation[c] / n, m[c])
        var[lo + c] = v
        rstd[lo + c] = like(1.0, v) / np.sqrt(v + like(eps, v))
    r = rstd[lo:hi]
    for i in range(n):
        row, h, out = x[i, lo:hi], xhat[i, lo:hi], y[i, lo:hi]
        for c in range(hi - lo):
            h[c] = (row[c] - m[c]) * r[c]
        if weight.shape[0] and bias.shape[0]:
            for c in range(hi - lo):
                out[c] = h[c] * weight[lo + c] + bias[lo + c]
        elif weight.shape[0]:
            for c in range(hi - lo):
                out[c] = h[c] * weight[lo + c]
        elif bias.shape[0]:
            for c in range(hi - lo):
                out[c] = h[c] + bias[lo + c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def batch_backward_columns(grad, xhat, rstd, weight, grad_x, weight_grad, bias_grad, lo, hi):
    """``batch_backward`` for an (N, C) input, columns lo:hi, by row sweeps."""
    n = grad.shape[0]
    total = np.zeros(hi - lo)
    projected = np.zeros(hi - lo)
    for i in range(n):
        g, h = grad[i, lo:hi], xhat[i, lo:hi]
        for c in range(hi - lo):
            total[c] += g[c]
            projected[c] += g[c] * h[c]
    h0 = xhat[0, 0]
    w = np.empty(hi - lo, xhat.dtype)
    mean = np.empty(hi - lo, xhat.dtype)
    mean_projected = np.empty(hi - lo, xhat.dtype)
    for c in range(hi - lo):
        w[c] = weight[lo + c] if weight.shape[0] else like(1.0, h0)
        mean[c] = like(total[c] * w[c] / n, h0)
        mean_projected[c] = like(projected[c] * w[c] / n, h0)
        weight_grad[lo + c] = like(projected[c], h0)
        bias_grad[lo + c] = like(total[c], h0)
    r = rstd[lo:hi]
    for i in range(n):
        g, h, out = grad[i, lo:hi], xhat[i, lo:hi], grad_x[i, lo:hi]
        for c in range(hi - lo):
            out[c] = r[c] * ((g[c] * w[c] - mean[c]) - h[c] * mean_projected[c])
