"""Reduction, arg-reduction, scan and softmax Triton kernels over (kept, reduced) index spaces.

The backend describes the input as K outputs by R reduced elements, each side by its own
(collapsed) shape and strides, so contiguous, strided and permuted reduced dims all read in
place. A program owns ``BLOCK_K`` outputs and sweeps R in ``[BLOCK_K, BLOCK_R]`` tiles;
the backend picks the tile orientation (long rows when the reduced dim is contiguous, wide
columns when a kept dim is). When the kept dims are few, R is split across a second grid
axis into partial results that a second launch of the same kernel merges.

Like the CPU kernels every reduction is a map-reduce, ``combine(acc, transform(x, shift))``,
with ``shift`` one value per output (the mean for variance, the max for logsumexp, the
order p for norms). 16-bit inputs accumulate in fp32.
"""
from __future__ import annotations

import triton
import triton.language as tl

from ...backends.cuda_memory import interpreting
from .elementwise import _offsets, logaddexp

INF = tl.constexpr(float("inf"))
#: The interpreter runs ``tl.reduce`` with a user combine function one element at a time in
#: Python; there, tiles are reduced by a log2-deep tree of vector combines instead.
TREE = tl.constexpr(interpreting())


# ---------------------------------------------------------------- combine functions
@triton.jit
def add(a, b):
    return a + b


@triton.jit
def mul(a, b):
    return a * b


@triton.jit
def nan_max(a, b):
    return tl.where((a != a) | (b != b), a + b, tl.where(a >= b, a, b))


@triton.jit
def nan_min(a, b):
    return tl.where((a != a) | (b != b), a + b, tl.where(a <= b, a, b))


@triton.jit
def logical_and(a, b):
    return a & b


@triton.jit
def logical_or(a, b):
    return a | b


# ---------------------------------------------------------------- transforms
@triton.jit
def identity(v, s):
    return v


@triton.jit
def truth(v, s):
    return (v != 0).to(tl.int32)


@triton.jit
def square_deviation(v, s):
    d = v - s
    return d * d


@triton.jit
def exp_shifted(v, s):
    return tl.exp(v - s)


@triton.jit
def abs_pow(v, s):
    a = tl.abs(v)
    # |0|^p: 1 for the count (p = 0), inf for a negative p (the -p norm of a vector with a 0 is 0)
    zero = tl.where(s == 0, 1.0, tl.where(s < 0, INF, 0.0))
    return tl.where(a == 0, zero, tl.exp2(s * tl.log2(a))).to(v.dtype)


@triton.jit
def abs_(v, s):
    return tl.abs(v)


@triton.jit
def nonzero(v, s):
    return (v != 0).to(v.dtype)


#: op -> (combine, transform, op that merges partial results, identity kind)
REDUCTIONS = {
    "sum": (add, identity, "sum", "zero"),
    "prod": (mul, identity, "prod", "one"),
    "max": (nan_max, identity, "max", "lowest"),
    "min": (nan_min, identity, "min", "highest"),
    "all": (logical_and, truth, "all", "one"),
    "any": (logical_or, truth, "any", "zero"),
    "sum_square_deviation": (add, square_deviation, "sum", "zero"),
    "sum_exp_shifted": (add, exp_shifted, "sum", "zero"),
    "sum_abs_pow": (add, abs_pow, "sum", "zero"),
    "max_abs": (nan_max, abs_, "max", "lowest"),
    "min_abs": (nan_min, abs_, "min", "highest"),
    "count_nonzero": (add, nonzero, "sum", "zero"),
}



# ---------------------------------------------------------------- scans carrying an index
@triton.jit
def _later_max(av, ai, bv, bi):
    # cummax's pick between two (value, index) pairs: NaN beats numbers, then the larger value,
    # then (equal values, or NaN and NaN) the larger index; torch returns the index of the last
    # NaN, else of the last maximum. Commutative, so any reduction order gives the same pair.
    a_nan = av != av
    b_nan = bv != bv
    later = bi > ai
    take = (b_nan & (~a_nan | later)) | (~a_nan & ~b_nan & ((bv > av) | ((bv == av) & later)))
    return tl.where(take, bv, av), tl.where(take, bi, ai)


@triton.jit
def _later_min(av, ai, bv, bi):
    a_nan = av != av
    b_nan = bv != bv
    later = bi > ai
    take = (b_nan & (~a_nan | later)) | (~a_nan & ~b_nan & ((bv < av) | ((bv == av) & later)))
    return tl.where(take, bv, av), tl.where(take, bi, ai)


#: scan op -> (combine, identity kind, whether the combine takes and returns (value, index) pairs)
SCANS = {"cumsum": (add, "zero", False), "cumprod": (mul, "one", False),
         "logcumsumexp": (logaddexp, "lowest", False),
         "cummax": (_later_max, "lowest", True), "cummin": (_later_min, "highest", True)}


# ---------------------------------------------------------------- tile reduction
@triton.jit
def _tree(x, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    # interpreter only: the loop variable and widths are plain Python ints there
    for s in tl.static_range(WIDTH.bit_length() - 1):
        a, b = tl.split(tl.reshape(x, [ROWS, WIDTH >> (s + 1), 2]))
        x = COMBINE(a, b)
    return tl.reshape(x, [ROWS])


@triton.jit
def _tree2(v, i, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    for s in tl.static_range(WIDTH.bit_length() - 1):
        va, vb = tl.split(tl.reshape(v, [ROWS, WIDTH >> (s + 1), 2]))
        ia, ib = tl.split(tl.reshape(i, [ROWS, WIDTH >> (s + 1), 2]))
        v, i = COMBINE(va, ia, vb, ib)
    return tl.reshape(v, [ROWS]), tl.reshape(i, [ROWS])


@triton.jit
def _along_rows(x, COMBINE: tl.constexpr, SCAN: tl.constexpr):
    """Compiled ``tl.reduce`` (``tl.associative_scan`` with SCAN) along axis 1 with COMBINE.
    A jit function passed as a constexpr parameter arrives wrapped in ``tl.constexpr``, which
    these builtins do not unwrap (nor can a kernel: ``.value`` gives a bound method), so each
    combine function is named here (checked by bench/compile_check.py)."""
    if SCAN:
        if COMBINE == add:
            r = tl.associative_scan(x, 1, add)
        elif COMBINE == mul:
            r = tl.associative_scan(x, 1, mul)
        elif COMBINE == nan_max:
            r = tl.associative_scan(x, 1, nan_max)
        elif COMBINE == logaddexp:
            r = tl.associative_scan(x, 1, logaddexp)
        elif COMBINE == _later_max:
            r = tl.associative_scan(x, 1, _later_max)
        elif COMBINE == _later_min:
            r = tl.associative_scan(x, 1, _later_min)
        else:
            tl.static_assert(False, "scan: unknown combine function")
    else:
        if COMBINE == add:
            r = tl.reduce(x, 1, add)
        elif COMBINE == mul:
            r = tl.reduce(x, 1, mul)
        elif COMBINE == nan_max:
            r = tl.reduce(x, 1, nan_max)
        elif COMBINE == nan_min:
            r = tl.reduce(x, 1, nan_min)
        elif COMBINE == logical_and:
            r = tl.reduce(x, 1, logical_and)
        elif COMBINE == logical_or:
            r = tl.reduce(x, 1, logical_or)
        elif COMBINE == _argmax_combine:
            r = tl.reduce(x, 1, _argmax_combine)
        elif COMBINE == _argmin_combine:
            r = tl.reduce(x, 1, _argmin_combine)
        elif COMBINE == logaddexp:
            r = tl.reduce(x, 1, logaddexp)
        elif COMBINE == _later_max:
            r = tl.reduce(x, 1, _later_max)
        elif COMBINE == _later_min:
            r = tl.reduce(x, 1, _later_min)
        else:
            tl.static_assert(False, "reduce: unknown combine function")
    return r


@triton.jit
def reduce_rows(x, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    """Reduce a [ROWS, WIDTH] tile along its width with ``COMBINE``."""
    if TREE:
        return _tree(x, COMBINE, ROWS, WIDTH)
    else:
        return _along_rows(x, COMBINE, False)


@triton.jit
def _tree_scan(x, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    # interpreter only (its tl.associative_scan calls the combine once per element in Python):
    # Hillis-Steele, log2(WIDTH) vector steps, each combining an element with the one d before
    cols = tl.broadcast_to(tl.arange(0, WIDTH)[None, :], [ROWS, WIDTH])
    for s in tl.static_range(WIDTH.bit_length() - 1):
        d = 1 << s
        x = tl.where(cols >= d, COMBINE(tl.gather(x, tl.maximum(cols - d, 0), 1), x), x)
    return x


@triton.jit
def _tree_scan2(v, i, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    cols = tl.broadcast_to(tl.arange(0, WIDTH)[None, :], [ROWS, WIDTH])
    for s in tl.static_range(WIDTH.bit_length() - 1):
        d = 1 << s
        back = tl.maximum(cols - d, 0)
        nv, ni = COMBINE(tl.gather(v, back, 1), tl.gather(i, back, 1), v, i)
        v = tl.where(cols >= d, nv, v)
        i = tl.where(cols >= d, ni, i)
    return v, i


@triton.jit
def scan_rows(x, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    """Inclusive scan of a [ROWS, WIDTH] tile along its width with ``COMBINE``."""
    if TREE:
        return _tree_scan(x, COMBINE, ROWS, WIDTH)
    else:
        return _along_rows(x, COMBINE, True)


@triton.jit
def scan_rows2(v, i, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    """``scan_rows`` of (value, index) pairs."""
    if TREE:
        return _tree_scan2(v, i, COMBINE, ROWS, WIDTH)
    else:
        return _along_rows((v, i), COMBINE, True)


@triton.jit
def online_max_sumexp(mx, total, v, m, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    """Fold a (ROWS, WIDTH) tile ``v`` (valid where ``m``) into each row's running max ``mx``
    and sum of exp(x - max) ``total``: one step of the online softmax (Milakov & Gimelshein)."""
    v = tl.where(m, v, -INF)
    new = nan_max(mx, reduce_rows(v, nan_max, ROWS, WIDTH))
    safe = tl.where(new == -INF, 0.0, new)
    e = tl.where(m, tl.exp(v - safe[:, None]), 0.0)
    return new, total * tl.exp(mx - safe) + reduce_rows(e, add, ROWS, WIDTH)


@triton.jit
def reduce_rows2(v, i, COMBINE: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr):
    if TREE:
        return _tree2(v, i, COMBINE, ROWS, WIDTH)
    else:
        return _along_rows((v, i), COMBINE, False)


# ---------------------------------------------------------------- reductions
@triton.jit
def reduce_kernel(out, x, shift, K, R, R_PER_SPLIT, kshape, kstrides, rshape, rstrides,
                  COMBINE: tl.constexpr, TRANSFORM: tl.constexpr, IDENTITY: tl.constexpr,
                  COMPUTE: tl.constexpr, ACC: tl.constexpr, SHIFT_KIND: tl.constexpr, KDIM: tl.constexpr,
                  RDIM: tl.constexpr,
                  INT64: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr):
    """out[split, k] = reduce over r in this split's range of transform(x[k, r], shift[k])."""
    pid_k = tl.program_id(0)
    pid_s = tl.program_id(1)
    if INT64:
        pid_k = pid_k.to(tl.int64)
        pid_s = pid_s.to(tl.int64)
    ks = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    kmask = ks < K
    koff = _offsets(ks, kshape, kstrides, KDIM)
    if SHIFT_KIND == 1:
        s = tl.load(shift + ks, mask=kmask, other=0).to(ACC)
    elif SHIFT_KIND == 2:
        s = tl.full([BLOCK_K], shift, ACC)
    else:
        s = tl.full([BLOCK_K], 0, ACC)
    acc = tl.full([BLOCK_K, BLOCK_R], IDENTITY, ACC)
    r_start = pid_s * R_PER_SPLIT
    r_end = tl.minimum(R, r_start + R_PER_SPLIT)
    for r0 in range(r_start, r_end, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        rmask = rs < r_end
        roff = _offsets(rs, rshape, rstrides, RDIM)
        m = kmask[:, None] & rmask[None, :]
        v = tl.load(x + koff[:, None] + roff[None, :], mask=m, other=0).to(COMPUTE)
        acc = tl.where(m, COMBINE(acc, TRANSFORM(v, s[:, None]).to(ACC)), acc)
    res = reduce_rows(acc, COMBINE, BLOCK_K, BLOCK_R)
    tl.store(out + pid_s * K + ks, res.to(out.dtype.element_ty), mask=kmask)


# ---------------------------------------------------------------- arg reductions
@triton.jit
def _argmax_better(v, i, bv, bi):
    # larger wins; NaN beats numbers; ties (and NaN vs NaN) go to the first index
    return (v > bv) | ((v != v) & (bv == bv)) | (((v == bv) | ((v != v) & (bv != bv))) & (i < bi))


@triton.jit
def _argmin_better(v, i, bv, bi):
    return (v < bv) | ((v != v) & (bv == bv)) | (((v == bv) | ((v != v) & (bv != bv))) & (i < bi))


@triton.jit
def _argmax_combine(v, i, bv, bi):
    take = _argmax_better(v, i, bv, bi)
    return tl.where(take, v, bv), tl.where(take, i, bi)


@triton.jit
def _argmin_combine(v, i, bv, bi):
    take = _argmin_better(v, i, bv, bi)
    return tl.where(take, v, bv), tl.where(take, i, bi)


ARG_COMBINE = {"argmax": (_argmax_combine, "lowest"), "argmin": (_argmin_combine, "highest")}


@triton.jit
def _program_rows(K, INT64: tl.constexpr, BLOCK_K: tl.constexpr):
    """The BLOCK_K rows this program owns (int64 indices where offsets can pass 2^31) and the
    mask of those below K."""
    pid_k = tl.program_id(0)
    if INT64:
        pid_k = pid_k.to(tl.int64)
    ks = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    return ks, ks < K


@triton.jit
def arg_reduce_kernel(values, indices, x, K, R, kshape, kstrides, rstride,
                      COMBINE: tl.constexpr, IDENTITY: tl.constexpr, ACC: tl.constexpr,
                      WRITE_VALUES: tl.constexpr, KDIM: tl.constexpr, INT64: tl.constexpr,
                      BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr):
    ks, kmask = _program_rows(K, INT64, BLOCK_K)
    koff = _offsets(ks, kshape, kstrides, KDIM)
    best_v = tl.full([BLOCK_K, BLOCK_R], IDENTITY, ACC)
    best_i = tl.full([BLOCK_K, BLOCK_R], R, tl.int64)
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        v = tl.load(x + koff[:, None] + rs[None, :] * rstride, mask=m, other=0).to(ACC)
        i = tl.broadcast_to(rs[None, :].to(tl.int64), [BLOCK_K, BLOCK_R])
        nv, ni = COMBINE(v, i, best_v, best_i)
        best_v = tl.where(m, nv, best_v)
        best_i = tl.where(m, ni, best_i)
    rv, ri = reduce_rows2(best_v, best_i, COMBINE, BLOCK_K, BLOCK_R)
    tl.store(indices + ks, ri, mask=kmask)
    if WRITE_VALUES:
        tl.store(values + ks, rv.to(values.dtype.element_ty), mask=kmask)


# ---------------------------------------------------------------- scans
@triton.jit
def scan_kernel(out, x, K, R, kshape, xk, ok, xr, orr, indices, COMBINE: tl.constexpr, IDENTITY: tl.constexpr,
                ACC: tl.constexpr, INDEXED: tl.constexpr, KDIM: tl.constexpr, INT64: tl.constexpr,
                BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr):
    """Inclusive scan of each row; a running carry joins the tiles of one row. An INDEXED scan
    (cummax/cummin) scans (value, index) pairs and also stores the indices, laid out as out."""
    ks, kmask = _program_rows(K, INT64, BLOCK_K)
    kx = _offsets(ks, kshape, xk, KDIM)
    ko = _offsets(ks, kshape, ok, KDIM)
    carry = tl.full([BLOCK_K], IDENTITY, ACC)
    if INDEXED:
        carry_i = tl.zeros([BLOCK_K], tl.int64)
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        v = tl.load(x + kx[:, None] + rs[None, :] * xr, mask=m, other=0).to(ACC)
        v = tl.where(m, v, IDENTITY)
        dst = ko[:, None] + rs[None, :] * orr
        if INDEXED:
            i = tl.broadcast_to(rs[None, :].to(tl.int64), [BLOCK_K, BLOCK_R])
            s, si = scan_rows2(v, i, COMBINE, BLOCK_K, BLOCK_R)
            s, si = COMBINE(carry[:, None], carry_i[:, None], s, si)
            tl.store(indices + dst, si, mask=m)
            tile_v, tile_i = reduce_rows2(v, i, COMBINE, BLOCK_K, BLOCK_R)
            carry, carry_i = COMBINE(carry, carry_i, tile_v, tile_i)
        else:
            s = scan_rows(v, COMBINE, BLOCK_K, BLOCK_R)
            s = COMBINE(carry[:, None], s)
            carry = COMBINE(carry, reduce_rows(v, COMBINE, BLOCK_K, BLOCK_R))
        tl.store(out + dst, s.to(out.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- softmax
@triton.jit
def softmax_kernel(out, x, K, R, kshape, xk, ok, xr, orr, LOG: tl.constexpr, ACC: tl.constexpr,
                   KDIM: tl.constexpr, INT64: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr):
    """Online softmax: one pass for the running max and rescaled sum, one pass to write."""
    ks, kmask = _program_rows(K, INT64, BLOCK_K)
    kx = _offsets(ks, kshape, xk, KDIM)
    ko = _offsets(ks, kshape, ok, KDIM)
    mx = tl.full([BLOCK_K], -INF, ACC)
    total = tl.full([BLOCK_K], 0, ACC)
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        v = tl.load(x + kx[:, None] + rs[None, :] * xr, mask=m, other=0).to(ACC)
        mx, total = online_max_sumexp(mx, total, v, m, BLOCK_K, BLOCK_R)
    safe = tl.where(mx == -INF, 0.0, mx)
    if LOG:
        lse = safe + tl.log(total)
    else:
        inv = 1.0 / total
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        v = tl.load(x + kx[:, None] + rs[None, :] * xr, mask=m, other=0).to(ACC)
        if LOG:
            r = v - lse[:, None]
        else:
            r = tl.exp(v - safe[:, None]) * inv[:, None]
        tl.store(out + ko[:, None] + rs[None, :] * orr, r.to(out.dtype.element_ty), mask=m)


@triton.jit
def softmax_backward_kernel(out, y, grad, K, R, kshape, yk, gk, ok, yr, gr, orr, LOG: tl.constexpr,
                            ACC: tl.constexpr, KDIM: tl.constexpr, INT64: tl.constexpr,
                            BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr):
    """(Log-)softmax's input gradient from its output ``y`` and ``grad``: y (grad - sum(grad y)),
    or grad - exp(y) sum(grad). Each program owns BLOCK_K rows and walks them in BLOCK_R
    column tiles twice: once to reduce, once to write."""
    ks, kmask = _program_rows(K, INT64, BLOCK_K)
    ky = _offsets(ks, kshape, yk, KDIM)
    kg = _offsets(ks, kshape, gk, KDIM)
    ko = _offsets(ks, kshape, ok, KDIM)
    total = tl.full([BLOCK_K], 0, ACC)
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        g = tl.load(grad + kg[:, None] + rs[None, :] * gr, mask=m, other=0).to(ACC)
        if LOG:
            total += tl.sum(g, axis=1)
        else:
            v = tl.load(y + ky[:, None] + rs[None, :] * yr, mask=m, other=0).to(ACC)
            total += tl.sum(g * v, axis=1)
    for r0 in range(0, R, BLOCK_R):
        rs = r0 + tl.arange(0, BLOCK_R)
        m = kmask[:, None] & (rs < R)[None, :]
        g = tl.load(grad + kg[:, None] + rs[None, :] * gr, mask=m, other=0).to(ACC)
        v = tl.load(y + ky[:, None] + rs[None, :] * yr, mask=m, other=0).to(ACC)
        if LOG:
            r = g - tl.exp(v) * total[:, None]
        else:
            r = v * (g - total[:, None])
        tl.store(out + ko[:, None] + rs[None, :] * orr, r.to(out.dtype.element_ty), mask=m)
