"""Reduction, scan and softmax CPU kernels over 2-D views.

Every reduction is a map-reduce: ``acc = combine(acc, transform(x, shift))`` where
``shift`` is one value per output (the mean for variance, the max for logsumexp, the
order p for norms). The backend presents the input as a 2-D strided view, either
(kept, reduced) — ``rows`` kernels walk each row, best when the reduced dim is the
contiguous one — or (reduced, kept) — ``cols`` kernels sweep whole rows into an
accumulator vector, so memory is still read in order when the kept dim is contiguous.
Templates are specialised per op by ``specialize`` (one cached machine-code copy each).
"""
from __future__ import annotations

import numba
import numpy as np

from ._specialize import specialize
from .elementwise import logaddexp
from .vmath import exp, exp_nonpositive, like, maximum, minimum, row_max

inline = numba.njit(inline="always", cache=True)


# ---------------------------------------------------------------- combine functions
@inline
def add(a, b):
    return a + b


@inline
def mul(a, b):
    return a * b


@inline
def nan_max(a, b):
    # torch propagates NaN through max/min
    return maximum(a, b)


@inline
def nan_min(a, b):
    return minimum(a, b)


@inline
def logical_and(a, b):
    return a and b


@inline
def logical_or(a, b):
    return a or b


# ---------------------------------------------------------------- transforms
@inline
def identity(v, s):
    return v


@inline
def truth(v, s):
    return v != 0


@inline
def square_deviation(v, s):
    d = v - s
    return d * d


@inline
def exp_shifted(v, s):
    return exp(v - s)


@inline
def abs_pow(v, s):
    # the common norms without a pow call (s is the same for a whole row, so this predicts well)
    if s == 2.0:
        return v * v
    if s == 1.0:
        return np.abs(v)
    return np.abs(v) ** s


@inline
def abs_(v, s):
    return np.abs(v)


@inline
def nonzero(v, s):
    return 1 if v != 0 else 0


#: op name -> (combine, transform, name of the op that merges partial results)
REDUCTIONS = {
    "sum": (add, identity, "sum"),
    "prod": (mul, identity, "prod"),
    "max": (nan_max, identity, "max"),
    "min": (nan_min, identity, "min"),
    "all": (logical_and, truth, "all"),
    "any": (logical_or, truth, "any"),
    "sum_square_deviation": (add, square_deviation, "sum"),
    "sum_exp_shifted": (add, exp_shifted, "sum"),
    "sum_abs_pow": (add, abs_pow, "sum"),
    "max_abs": (nan_max, abs_, "max"),
    "min_abs": (nan_min, abs_, "min"),
    "count_nonzero": (add, nonzero, "sum"),
}


def combine(a, b):  # bound per specialisation
    raise NotImplementedError


def transform(v, s):  # bound per specialisation
    raise NotImplementedError


def _reduce_rows(out, x, shift, init):
    for i in range(x.shape[0]):
        acc = init
        s = shift[i]
        for j in range(x.shape[1]):
            acc = combine(acc, transform(x[i, j], s))
        out[i] = acc


#: elements per block of a float32 row sum (``_sum_rows_float32``)
SUM_ROW_BLOCK = 1024


def _sum_rows_float32(out, x, shift, init):
    # A float32 row sum into float64: blocks of SUM_ROW_BLOCK elements are summed in float32
    # (the vectorised loop keeps 32 partial sums, so each adds ~32 values in float32), then
    # each block's sum goes into the float64 total. float64 throughout converts every value
    # and uses half the vector lanes: 3.3 -> 2.8 ms for 2^24 on one core (torch: 2.8 ms).
    n = x.shape[1]
    whole = n - n % SUM_ROW_BLOCK
    for i in range(x.shape[0]):
        acc = init
        for b in range(0, whole, SUM_ROW_BLOCK):
            part = np.float32(0)
            for j in range(b, b + SUM_ROW_BLOCK):
                part += x[i, j]
            acc += part
        for j in range(whole, n):
            acc += x[i, j]
        out[i] = acc


def _reduce_cols(acc, x, shift):
    # acc arrives filled with the identity; x is (reduced, kept)
    for r in range(x.shape[0]):
        for k in range(x.shape[1]):
            acc[k] = combine(acc[k], transform(x[r, k], shift[k]))


#: rows per block of a float32 column sum (``_sum_cols_float32``)
SUM_BLOCK = 32


def _sum_cols_float32(acc, x, shift):
    # A float32 column sum into a float64 acc: blocks of SUM_BLOCK rows are summed in float32
    # (twice the vector lanes of float64: 4.35 -> 3.19 ms for 4096 x 4096 on one core), then
    # each block's sums go into acc. Relative error ~3e-8 there, below torch's float32 sum.
    part = np.empty(x.shape[1], x.dtype)
    for r0 in range(0, x.shape[0], SUM_BLOCK):
        for k in range(x.shape[1]):
            part[k] = 0
        for r in range(r0, min(r0 + SUM_BLOCK, x.shape[0])):
            for k in range(x.shape[1]):
                part[k] += x[r, k]
        for k in range(x.shape[1]):
            acc[k] += part[k]


def columns(acc, x, shift):  # bound per specialisation: one of the two column loops above
    raise NotImplementedError


def _reduce_cols_into(out, x, shift, init):
    # the column loop with its own accumulator (init's type), landing in out (any dtype) at
    # the end: one call for a leading-dims reduction such as a bias gradient
    acc = np.full(x.shape[1], init)
    columns(acc, x, shift)
    for k in range(x.shape[1]):
        out[k] = acc[k]


def _reduce_cols_batched(acc, x, shift):
    # x is (outer, reduced, kept), acc (outer, kept) arrives filled with the identity: the
    # column loop once per outer slice, each slice's rows unit-stride (a reduced middle dim)
    for o in range(x.shape[0]):
        columns(acc[o], x[o], shift[o])


_FASTMATH = {"fastmath": {"reassoc", "contract"}}


def rows_kernel(op, dtype=None):
    """The row loop of ``op`` (float32 sums in blocks when ``dtype`` is float32)."""
    if op == "sum" and dtype == np.float32:
        return specialize(_sum_rows_float32, "sum_float32", _FASTMATH)
    comb, trans, _ = REDUCTIONS[op]
    return specialize(_reduce_rows, op, _FASTMATH, combine=comb, transform=trans)


def cols_kernel(op, dtype):
    """The column loop of ``op`` over rows of ``dtype`` (float32 sums in blocks)."""
    if op == "sum" and dtype == np.float32:
        return specialize(_sum_cols_float32, "sum_float32", _FASTMATH)
    comb, trans, _ = REDUCTIONS[op]
    return specialize(_reduce_cols, op, _FASTMATH, combine=comb, transform=trans)


def cols_batched_kernel(op, dtype):
    """The column loop over each outer slice of an (outer, reduced, kept) array."""
    blocked = op == "sum" and dtype == np.float32
    return specialize(_reduce_cols_batched, op + ("_float32" if blocked else ""), None,
                      columns=cols_kernel(op, dtype))


def cols_into_kernel(op, dtype):
    blocked = op == "sum" and dtype == np.float32
    return specialize(_reduce_cols_into, op + ("_float32" if blocked else ""), None,
                      columns=cols_kernel(op, dtype))


# ---------------------------------------------------------------- arg reductions
def extreme(a, b):  # bound per specialisation: vmath.maximum or vmath.minimum
    raise NotImplementedError


#: elements per block of the search for the extreme's first position
ARG_BLOCK = 64


def _arg_reduce_rows(values, indices, x):
    # Two sweeps that vectorise, where one compare-and-branch loop does not: the row's extreme
    # (NaN if the row holds one), then its first position, found block by block (a block's
    # "does it hold it" is a vector reduction; only the block that does is walked). torch's
    # argmax is the first maximum, or the first NaN.
    n = x.shape[1]
    for i in range(x.shape[0]):
        row = x[i]
        top = row[0]
        for j in range(n):
            top = extreme(top, row[j])
        is_nan = top != top
        start = 0
        while start < n:
            stop = min(start + ARG_BLOCK, n)
            hits = 0
            for j in range(start, stop):
                v = row[j]
                hits += (v == top) | (is_nan & (v != v))
            if hits:
                break
            start = stop
        idx = start
        while not ((row[idx] == top) | (is_nan & (row[idx] != row[idx]))):
            idx += 1
        values[i] = row[idx]
        indices[i] = idx


@inline
def greater(a, b):
    # NaN wins, and among equals the first (torch's argmax: the first maximum or first NaN)
    return (a > b) | ((a != a) & (b == b))


@inline
def less(a, b):
    return (a < b) | ((a != a) & (b == b))


def better(a, b):  # bound per specialisation: greater or less
    raise NotImplementedError


def _arg_reduce_cols(values, indices, x):
    # x is (reduced, kept) with the kept dim contiguous: whole rows swept into the running
    # extremes and their positions, one select each (no branch, so the sweep vectorises)
    for k in range(x.shape[1]):
        values[k] = x[0, k]
        indices[k] = 0
    for r in range(1, x.shape[0]):
        for k in range(x.shape[1]):
            v = x[r, k]
            replace = better(v, values[k])
            values[k] = v if replace else values[k]
            indices[k] = r if replace else indices[k]


def arg_rows_kernel(op):
    return specialize(_arg_reduce_rows, op, None, extreme=maximum if op == "argmax" else minimum)


def arg_cols_kernel(op):
    return specialize(_arg_reduce_cols, op, None, better=greater if op == "argmax" else less)


# ---------------------------------------------------------------- scans
log_add_exp = inline(logaddexp)  # equal infinities stay, NaN propagates: torch's _log_add_exp_helper


@inline
def later_max(best, v):
    # cummax takes every NaN and the last of equal values: torch returns the index of the last
    # NaN, else of the last maximum
    return v != v or (best == best and v >= best)


@inline
def later_min(best, v):
    return v != v or (best == best and v <= best)


#: scan op -> (combine for a value scan, None) or (None, pick for a scan that carries an index)
SCANS = {"cumsum": (add, None), "cumprod": (mul, None), "logcumsumexp": (log_add_exp, None),
         "cummax": (None, later_max), "cummin": (None, later_min)}

INDEXED = False  # bound per specialisation: the scan keeps the index of its value


def pick(best, v):  # bound per specialisation: True where v replaces the running value
    raise NotImplementedError


def _scan_rows(out, indices, x, zero):
    # a value scan combines each element into the running value; an indexed scan replaces the
    # running value (and its index) by an element it picks. ``indices`` is unused (0 x 0) then.
    # The running value has the type of x + ``zero`` (a float64 zero for float scans: a float32
    # row accumulates in float64, each result rounded once as it is stored).
    for i in range(x.shape[0]):
        if x.shape[1] == 0:
            continue
        acc = x[i, 0] + zero
        idx = 0
        out[i, 0] = acc
        if INDEXED:
            indices[i, 0] = 0
        for j in range(1, x.shape[1]):
            v = x[i, j]
            if INDEXED:
                if pick(acc, v):
                    acc = v
                    idx = j
                indices[i, j] = idx
            else:
                acc = combine(acc, v)
            out[i, j] = acc


def _scan_cols(out, x, zero, running, lo, hi):
    # a value scan along the middle dim of C-contiguous (outer, n, inner) arrays for inner
    # positions lo:hi, vectorised along the inner runs; ``running`` holds one running value
    # per inner position (the type of x + ``zero``)
    for o in range(x.shape[0]):
        first, dst = x[o, 0], out[o, 0]
        for k in range(lo, hi):
            running[k] = first[k] + zero
            dst[k] = running[k]
        for j in range(1, x.shape[1]):
            row, dst = x[o, j], out[o, j]
            for k in range(lo, hi):
                running[k] = combine(running[k], row[k])
                dst[k] = running[k]


def scan_cols_kernel(op):
    """``kernel(out, x, zero, running, lo, hi)`` of value scan ``op`` along the middle dim (see
    ``_scan_cols``): a scan over dim 0 of (1024, 1024) read strided rows at 17-33 ms."""
    comb, chooser = SCANS[op]
    assert chooser is None, "indexed scans run by rows"
    return specialize(_scan_cols, op, None, combine=comb)


def scan_kernel(op):
    """``kernel(out_rows, index_rows, rows, zero)`` of scan ``op`` (index_rows unused unless it
    keeps one; ``zero`` sets the running value's type)."""
    comb, chooser = SCANS[op]
    return specialize(_scan_rows, op, None, combine=comb or add, pick=chooser or later_max,
                      INDEXED=chooser is not None)


# ---------------------------------------------------------------- softmax
@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def softmax_rows(out, x, log):
    """Softmax (or log-softmax) of each row: a max pass (``vmath.row_max``), then one exp
    per element.

    Softmax stores exp(x - max) while summing it and rescales in place, so the
    vectorisable ``vmath.exp_nonpositive`` runs once per element; log-softmax only sums.
    The sum accumulates in the row's float type, in vector lanes (``reassoc``), as torch's
    vectorised CPU kernels do: a float64 sum of float32 terms halves the lanes and took 2.2x
    the time. A row holding NaN or +inf becomes all NaN, and an all -inf row gives NaN, like
    torch.
    """
    n = x.shape[1]
    for i in range(x.shape[0]):
        row, res = x[i], out[i]
        m = row_max(row)
        if not np.isfinite(m):  # NaN, +inf (inf - inf is NaN) or an all -inf row: NaN, as torch
            for j in range(n):
                res[j] = np.nan
            continue
        total = like(0.0, m)
        if log:
            for j in range(n):
                total += exp_nonpositive(row[j] - m)
            shift = m + np.log(total)
            for j in range(n):
                res[j] = row[j] - shift
        else:
            for j in range(n):
                e = exp_nonpositive(row[j] - m)
                res[j] = e
                total += e
            inv = like(1.0, m) / total
            for j in range(n):
                res[j] = res[j] * inv


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def softmax_cols(out, x, log, peak, total, lo, hi):
    """``softmax_rows`` along the middle dim of C-contiguous (outer, n, inner) arrays, for
    inner positions lo:hi (softmax over channels of NCHW, over dim 0): every loop runs along
    a run of the inner dim, vectorised, where the row kernel would read strided rows.
    ``peak`` and ``total`` are scratch rows of ``inner`` elements. Same results: a column
    holding NaN or +inf, or all -inf, becomes NaN (its sum starts as NaN)."""
    n = x.shape[1]
    for o in range(x.shape[0]):
        src, res = x[o], out[o]
        first = src[0]
        for k in range(lo, hi):
            peak[k] = first[k]
        for j in range(1, n):
            row = src[j]
            for k in range(lo, hi):
                v, m = row[k], peak[k]
                peak[k] = v if (v > m or v != v) else m
        for k in range(lo, hi):
            finite = np.isfinite(peak[k])
            total[k] = 0 if finite else np.nan
            peak[k] = peak[k] if finite else 0
        for j in range(n):  # the exponentials into the result, then summed: one loop doing
            row, dst = src[j], res[j]  # both did not vectorise (4.5 against 1.7 ms a 1024^2)
            for k in range(lo, hi):
                dst[k] = exp_nonpositive(row[k] - peak[k])
            for k in range(lo, hi):
                total[k] += dst[k]
        for k in range(lo, hi):
            total[k] = peak[k] + np.log(total[k]) if log else 1 / total[k]
        for j in range(n):
            row, dst = src[j], res[j]
            if log:
                for k in range(lo, hi):
                    dst[k] = row[k] - total[k]
            else:
                for k in range(lo, hi):
                    dst[k] *= total[k]


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def softmax_backward_cols(out, y, grad, log, total, lo, hi):
    """``softmax_backward_rows`` along the middle dim of C-contiguous (outer, n, inner)
    arrays, for inner positions lo:hi (see ``softmax_cols``); ``total`` is a scratch row of
    ``inner`` elements."""
    n = y.shape[1]
    for o in range(y.shape[0]):
        ys, gs, res = y[o], grad[o], out[o]
        for k in range(lo, hi):
            total[k] = 0
        for j in range(n):
            y_row, g_row = ys[j], gs[j]
            if log:
                for k in range(lo, hi):
                    total[k] += g_row[k]
            else:
                for k in range(lo, hi):
                    total[k] += g_row[k] * y_row[k]
        for j in range(n):
            y_row, g_row, dst = ys[j], gs[j], res[j]
            if log:
                for k in range(lo, hi):
                    dst[k] = g_row[k] - exp(y_row[k]) * total[k]
            else:
                for k in range(lo, hi):
                    dst[k] = y_row[k] * (g_row[k] - total[k])


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def softmax_backward_rows(out, y, grad, log):
    """The input gradient of each row from the output ``y`` and its gradient, in one pass to
    reduce the row and one to write it: ``y (grad - sum(grad y))`` for softmax,
    ``grad - exp(y) sum(grad)`` for log-softmax. The sum accumulates in the row's float type
    in vector lanes, like the forward."""
    n = y.shape[1]
    for i in range(y.shape[0]):
        y_row, g_row, res = y[i], grad[i], out[i]
        total = like(0.0, y_row[0])
        if log:
            for j in range(n):
                total += g_row[j]
            for j in range(n):
                res[j] = g_row[j] - exp(y_row[j]) * total
        else:
            for j in range(n):
                total += g_row[j] * y_row[j]
            for j in range(n):
                res[j] = y_row[j] * (g_row[j] - total)
