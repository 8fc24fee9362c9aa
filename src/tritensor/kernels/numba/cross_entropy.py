"""Fused cross entropy over class indices (CPU, Numba): one pass per row forward, one backward.

For a row ``x`` (C logits) with target ``t``, class weights ``w`` (all ones when unweighted,
``W = sum(w)``) and label smoothing ``eps``::

    lse    = log(sum_c exp(x_c))                       (max-shifted)
    loss   = (1 - eps) * w_t * (lse - x_t) + eps / C * sum_c w_c * (lse - x_c)
    dx_c   = g * ((1 - eps) * w_t * (p_c - [c == t]) + eps / C * (W * p_c - w_c)),  p_c = exp(x_c - lse)

which is torch's log_softmax + nll_loss (+ its label-smoothing term) without materialising
the log-probabilities; ``exp`` is a vectorizable polynomial (``exp_nonpositive``). Rows
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
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

_jit = numba.njit(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract", "afn", "reassoc"})
_inline = numba.njit(cache=True, nogil=True, inline="always")


@intrinsic
def _bits_to_float32(typingctx, bits):
    """Reinterpret an int32 as a float32 (an LLVM bitcast)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return sig, codegen


@intrinsic
def _bits_to_float64(typingctx, bits):
    """Reinterpret an int64 as a float64 (an LLVM bitcast, so loops using it vectorize)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return sig, codegen


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.44269504088896338700
_F32 = np.float32
_LN2_HI_32, _LN2_LO_32, _LOG2E_32 = _F32(0.693359375), _F32(-2.12194440e-4), _F32(_LOG2E)
_C32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(8))


@_inline
def _exp64(x):
    x = max(x, -708.0)
    n = np.floor(x * _LOG2E + 0.5)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (
        1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r / 3628800)))))))))
    scale = _bits_to_float64((np.int64(n) + 1023) << 52)
    return p * scale if x > -708.0 else 0.0


@_inline
def _exp32(x):
    x = max(x, _F32(-87.0))
    n = np.floor(x * _LOG2E_32 + _F32(0.5))
    r = (x - n * _LN2_HI_32) - n * _LN2_LO_32
    p = _C32[0] + r * (_C32[1] + r * (_C32[2] + r * (_C32[3] + r * (_C32[4] + r * (
        _C32[5] + r * (_C32[6] + r * _C32[7]))))))
    scale = _bits_to_float32((np.int32(n) + np.int32(127)) << np.int32(23))
    return p * scale if x > _F32(-87.0) else _F32(0.0)


def exp_nonpositive(x):
    """exp(x) for x <= 0 (logits minus their row max), branch-free so LLVM vectorizes it:
    x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a Taylor polynomial (degree 10 in float64,
    relative error < 1e-11; degree 7 in float32, < 1e-7), 2^n built from its exponent bits.
    Underflows to 0 below -708 (float64) / -87 (float32)."""
    return math.exp(x)


@overload(exp_nonpositive, inline="always")
def _exp_nonpositive_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _exp32(x)
    return lambda x: _exp64(x)


def like(value, sample):
    """``value`` in ``sample``'s float type, so a float32 row's arithmetic stays in float32
    lanes (twice as many per vector as float64)."""
    return float(value)


@overload(like, inline="always")
def _like_impl(value, sample):
    if isinstance(sample, types.Float) and sample.bitwidth == 32:
        return lambda value, sample: np.float32(value)
    return lambda value, sample: np.float64(value)


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
        m = row[0]  # stays in the row's dtype, so exp runs in float32 lanes for float32 input
        has_nan = False
        for c in range(n_classes):
            v = row[c]
            has_nan |= v != v
            m = max(m, v)
        if has_nan or not math.isfinite(m):  # nan, +inf or all -inf logits give nan, as in torch
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
