"""Fused cross entropy over class indices (CPU, Numba): one pass per row forward, one backward.

For a row ``x`` (C logits) with target ``t``, class weights ``w`` (all ones when unweighted,
``W = sum(w)``) and label smoothing ``eps``::

    lse    = log(sum_c exp(x_c))                       (max-shifted)
    loss   = (1 - eps) * w_t * (lse - x_t) + eps / C * sum_c w_c * (lse - x_c)
    dx_c   = g * ((1 - eps) * w_t * (p_c - [c == t]) + eps / C * (W * p_c - w_c)),  p_c = exp(x_c - lse)

which is torch's log_softmax + nll_loss (+ its label-smoothing term) without materialising
the log-probabilities; ``exp`` is the vectorisable one of ``vmath``. Rows
whose target is ``ignore_index`` give loss 0, weight 0 and gradient 0. The forward also
returns each row's target weight (for 'mean') and ``lse`` (so the backward recomputes
``p_c`` with one exp per element). Sums accumulate in float64; 16-bit inputs are widened
to float32 by the caller. Inputs may be strided; rows are independent, so the host splits
them across threads (``nogil``).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .vmath import exp_nonpositive, like, row_max

_jit = numba.njit(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract", "afn", "reassoc"})


@_jit
def forward_rows(x, target, weight, use_weight, ignore_index, eps, lo, hi, loss, row_weight, lse):
    n_classes = x.shape[1]
    for i in range(lo, hi):
        t = target[i]
        if t == ignore_index:
            loss[i] = 0.0
            row_weight[i] = 0.0
            lse[i] = 0.0
            continue
        row = x[i]
        m = row_max(row)  # in the row's dtype, so exp runs in float32 lanes for float32 input
        if not math.isfinite(m):  # nan, +inf or all -inf logits give nan, as in torch
            loss[i] = row_weight[i] = lse[i] = np.nan
            continue
        s = like(0.0, row[0])  # accumulate in the row dtype: float32 lanes for float32 logits
        for c in range(n_classes):
            s += exp_nonpositive(row[c] - m)
        log_z = m + math.log(s)
        w_t = weight[t] if use_weight else 1.0
        value = (1.0 - eps) * w_t * (log_z - row[t])
        if eps != 0.0:
            smooth = 0.0
            for c in range(n_classes):
                w_c = weight[c] if use_weight else 1.0
                smooth += w_c * (log_z - row[c])
            value += eps / n_classes * smooth
        loss[i] = value
        row_weight[i] = w_t
        lse[i] = log_z


@_jit
def backward_rows(x, target, weight, use_weight, ignore_index, eps, lse, g, total_weight, lo, hi, out):
    n_classes = x.shape[1]
    for i in range(lo, hi):
        t = target[i]
        orow = out[i]
        if t == ignore_index:
            for c in range(n_classes):
                orow[c] = 0.0
            continue
        if math.isnan(lse[i]):
            for c in range(n_classes):
                orow[c] = np.nan
            continue
        row = x[i]
        gi = g[i]
        w_t = weight[t] if use_weight else 1.0
        sample = row[0]
        a = like(gi * (1.0 - eps) * w_t + gi * eps / n_classes * total_weight, sample)  # coefficient of p_c
        log_z = like(lse[i], sample)
        for c in range(n_classes):
            orow[c] = a * exp_nonpositive(row[c] - log_z)
        if eps != 0.0:  # label smoothing: the uniform target's share, a second pass over the (cached) row
            b = like(gi * eps / n_classes, sample)
            for c in range(n_classes):
                orow[c] -= b * (weight[c] if use_weight else 1.0)
        orow[t] -= gi * (1.0 - eps) * w_t


@_jit
def check_targets(target, n_classes, ignore_index):
    """Index of the first target outside [0, C) that is not ignore_index, or -1."""
    for i in range(target.shape[0]):
        t = target[i]
        if t != ignore_index and (t < 0 or t >= n_classes):
            return i
    return -1


@_jit
def reduced_sums(loss, row_weight):
    """(sum of the rows' losses, sum of their target weights), accumulated in float64."""
    total = 0.0
    weight = 0.0
    for i in range(loss.shape[0]):
        total += loss[i]
        weight += row_weight[i]
    return total, weight
