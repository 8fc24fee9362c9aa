"""Fused cross entropy over class indices (device 'cuda', Triton): the GPU twin of
``kernels/numba/cross_entropy.py``, same formulas (see there)::

    loss_i = (1 - eps) w_t (lse - x_t) + eps / C (W lse - sum_c w_c x_c)
    dx_ic  = g_i ((1 - eps) w_t (p_c - [c == t]) + eps / C (W p_c - w_c)),   p_c = exp(x_c - lse)

Forward: a program owns ``BLOCK_N`` rows and sweeps their classes in ``BLOCK_C`` tiles
with an online max / rescaled sum-exp (as ``reduction.softmax_kernel``), accumulating
``sum_c w_c x_c`` for label smoothing in the same sweep, so each logit is read once and
no probability or log-probability tensor exists. It stores ``lse`` per row (the only
state the backward needs), the per-row loss for ``'none'``, and per program the partial
loss and target-weight sums plus the first out-of-range target row. A one-program
``finish_kernel`` adds the partials in a fixed order (deterministic, no atomics; float64
accumulation) into the reduced loss / total weight and the first bad row.

Backward: one sweep over the same tiles reading ``x`` and ``lse`` once and writing the
gradient once. 16-bit logits are read as they are and computed in fp32; float64 scalars
travel as int64 bits (Triton passes Python floats as fp32).
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_memory import KernelPointer, allocate, download, interpreting
from .elementwise import cast_to
from .launch import cdiv, launch
from .reduction import add, online_max_sumexp, reduce_rows

INF = tl.constexpr(float("inf"))


@triton.jit
def _f64(bits, ACC: tl.constexpr):
    """A float64 scalar passed as its int64 bits, in the compute dtype."""
    return tl.cast(tl.cast(bits, tl.int64), tl.float64, bitcast=True).to(ACC)


@triton.jit
def _rows(target, t_stride, N, C, ignore_index, BLOCK_N: tl.constexpr):
    """This program's rows, their (safe) targets and which rows count / are out of range."""
    rows = tl.program_id(0).to(tl.int64) * BLOCK_N + tl.arange(0, BLOCK_N)
    in_range = rows < N
    t = tl.load(target + rows * t_stride, mask=in_range, other=ignore_index)
    counted = in_range & (t != ignore_index)
    bad = counted & ((t < 0) | (t >= C))
    keep = counted & ~bad
    return rows, in_range, tl.where(keep, t, 0), keep, bad


@triton.jit
def forward_kernel(x, target, weight, loss, lse_out, sums, first_bad, N, C, sxn, sxc, t_stride,
                   ignore_index, eps_bits, HAS_WEIGHT: tl.constexpr, SMOOTH: tl.constexpr,
                   ROW_LOSS: tl.constexpr, ACC: tl.constexpr, BLOCK_N: tl.constexpr,
                   BLOCK_C: tl.constexpr):
    rows, in_range, t, keep, bad = _rows(target, t_stride, N, C, ignore_index, BLOCK_N)
    eps = _f64(eps_bits, ACC)
    base = rows * sxn
    mx = tl.full([BLOCK_N], -INF, ACC)
    total = tl.full([BLOCK_N], 0, ACC)
    wx = tl.full([BLOCK_N], 0, ACC)      # sum_c w_c x_c (label smoothing)
    w_sum = tl.full([BLOCK_N], 0, ACC)   # W = sum_c w_c (the same for every row)
    for c0 in range(0, C, BLOCK_C):
        cs = c0 + tl.arange(0, BLOCK_C)
        m = keep[:, None] & (cs < C)[None, :]
        v = tl.load(x + base[:, None] + cs[None, :].to(tl.int64) * sxc, mask=m, other=0).to(ACC)
        mx, total = online_max_sumexp(mx, total, v, m, BLOCK_N, BLOCK_C)
        if SMOOTH:
            if HAS_WEIGHT:
                wc = tl.load(weight + cs, mask=cs < C, other=0).to(ACC)
            else:
                wc = tl.where(cs < C, 1.0, 0.0).to(ACC)
            wx += reduce_rows(tl.where(m, v * wc[None, :], 0.0), add, BLOCK_N, BLOCK_C)
            w_sum += tl.sum(wc, 0)
    # nan, +inf or all -inf logits give nan, as in torch
    lse = tl.where((mx == mx) & (tl.abs(mx) != INF), mx + tl.log(total), float("nan"))
    x_t = tl.load(x + base + t * sxc, mask=keep, other=0).to(ACC)
    if HAS_WEIGHT:
        w_t = tl.load(weight + t, mask=keep, other=0).to(ACC)
    else:
        w_t = tl.full([BLOCK_N], 1, ACC)
    value = (1.0 - eps) * w_t * (lse - x_t)
    if SMOOTH:
        value += eps / C * (w_sum * lse - wx)
    value = tl.where(keep, value, 0.0)
    tl.store(lse_out + rows, tl.where(keep, lse, 0.0), mask=in_range)
    if ROW_LOSS:
        tl.store(loss + rows, value.to(loss.dtype.element_ty), mask=in_range)
    pid = tl.program_id(0)
    n_programs = tl.num_programs(0)
    tl.store(sums + pid, tl.sum(value.to(tl.float64), 0))
    tl.store(sums + n_programs + pid, tl.sum(tl.where(keep, w_t, 0.0).to(tl.float64), 0))
    tl.store(first_bad + pid, tl.min(tl.where(bad, rows, N), 0))


@triton.jit
def finish_kernel(sums, first_bad, loss, total, P, N, REDUCTION: tl.constexpr, BLOCK: tl.constexpr):
    """One program: first_bad[0] = min over programs; for 'sum'/'mean' (REDUCTION 1/2) the
    reduced loss (and the total target weight for 'mean')."""
    s = tl.full([BLOCK], 0, tl.float64)
    w = tl.full([BLOCK], 0, tl.float64)
    b = tl.full([BLOCK], N, tl.int64)
    for p0 in range(0, P, BLOCK):
        ps = p0 + tl.arange(0, BLOCK)
        m = ps < P
        s += tl.load(sums + ps, mask=m, other=0)
        w += tl.load(sums + P + ps, mask=m, other=0)
        b = tl.minimum(b, tl.load(first_bad + ps, mask=m, other=N))
    tl.store(first_bad, tl.min(b, 0))
    if REDUCTION != 0:
        value = tl.sum(s, 0)
        if REDUCTION == 2:
            weight = tl.sum(w, 0)
            value = value / weight  # all rows ignored: 0 / 0 = nan, like torch
            tl.store(total, weight.to(total.dtype.element_ty))
        tl.store(loss, value.to(loss.dtype.element_ty))


@triton.jit
def backward_kernel(out, x, target, weight, lse, g, N, C, sxn, sxc, t_stride, g_stride, ignore_index,
                    eps_bits, total_weight_bits, HAS_WEIGHT: tl.constexpr, SMOOTH: tl.constexpr,
                    ACC: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_C: tl.constexpr):
    rows, in_range, t, keep, bad = _rows(target, t_stride, N, C, ignore_index, BLOCK_N)
    eps = _f64(eps_bits, ACC)
    gi = tl.load(g + rows * g_stride, mask=keep, other=0).to(ACC)
    lz = tl.load(lse + rows, mask=keep, other=0).to(ACC)
    if HAS_WEIGHT:
        w_t = tl.load(weight + t, mask=keep, other=0).to(ACC)
    else:
        w_t = tl.full([BLOCK_N], 1, ACC)
    hit = gi * (1.0 - eps) * w_t               # coefficient of p_c and of the one-hot
    a = hit + gi * eps / C * _f64(total_weight_bits, ACC)
    b = gi * eps / C
    for c0 in range(0, C, BLOCK_C):
        cs = c0 + tl.arange(0, BLOCK_C)
        m = in_range[:, None] & (cs < C)[None, :]
        v = tl.load(x + rows[:, None] * sxn + cs[None, :].to(tl.int64) * sxc,
                    mask=m & keep[:, None], other=0).to(ACC)
        r = a[:, None] * tl.exp(v - lz[:, None]) - tl.where(cs[None, :] == t[:, None], hit[:, None], 0.0)
        if SMOOTH:
            if HAS_WEIGHT:
                wc = tl.load(weight + cs, mask=cs < C, other=0).to(ACC)
                r -= b[:, None] * wc[None, :]
            else:
                r -= b[:, None]
        r = tl.where(keep[:, None], r, 0.0)
        tl.store(out + rows[:, None] * C + cs[None, :], cast_to(r, out.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- host side
def _bits(x) -> int:
    return int(np.float64(x).view(np.int64))


_be = None


def _backend():
    """``backends.cuda``, bound on first use (it imports this module while it loads)."""
    global _be
    if _be is None:
        from ...backends import cuda
        _be = cuda
    return _be


def _tiles(n, c):
    """(BLOCK_N, BLOCK_C): a row's classes in as few tiles as fit the budget, rows filling
    the rest (the interpreter's budget is larger: a program is a Python iteration there)."""
    budget = 1 << 14 if interpreting() else 4096
    block = (_be or _backend())._block
    bc = block(c, 1024)
    return max(1, min(block(n, 64), budget // bc)), bc


class CrossEntropy:
    """``nn._fused.CROSS_ENTROPY['cuda']`` (interface in ``nn/_fused.py``). Reads float16,
    bfloat16, float32 and float64 logits in place (any strides); loss, total and ``lse``
    come back in the compute dtype (float32 for 16-bit input), the gradient in ``x``'s.

    The out-of-range target check costs one host read of 8 bytes per forward (a sync on a
    GPU, where torch's device-side assert is asynchronous) to raise IndexError like the CPU."""

    dtypes = (dt.float16, dt.bfloat16, dt.float32, dt.float64)

    @staticmethod
    def _layout(x, target, weight):
        """The backend, the accumulation dtype, and the kernels' leading arguments:
        (x, target, weight) pointers, then N, C, x's strides, target's stride."""
        be = _be or _backend()
        acc = dt.float64 if x.dtype is dt.float64 else dt.float32
        n, c = x.shape
        pointers = (be.pointer(x), be.pointer(target), be.pointer(weight if weight is not None else x))
        sizes = (n, c, *x._stride, target._stride[0] if n else 1)
        return be, acc, pointers, sizes

    def forward(self, x, target, weight, ignore_index, eps, reduction):
        be, acc, pointers, sizes = self._layout(x, target, weight)
        n, c = x.shape
        device = x._storage.device
        lse = be.empty((n,), acc, device)
        loss = be.empty((n,) if reduction == "none" else (), acc, device)
        total = be.empty((), acc, device) if reduction == "mean" else None
        bn, bc = _tiles(n, c)
        programs = max(1, cdiv(n, bn))  # one program even for an empty batch: it writes the zeros
        scratch = allocate(24 * programs, device)  # float64 sums (2 per program), int64 first bad rows
        sums, first_bad = KernelPointer(scratch, 0, "float64"), KernelPointer(scratch, 16 * programs, "int64")
        launch(forward_kernel, (programs,), *pointers, be.pointer(loss), be.pointer(lse), sums, first_bad,
               *sizes, ignore_index, _bits(eps), weight is not None, eps != 0, reduction == "none",
               _TL[acc], bn, bc)
        launch(finish_kernel, (1,), sums, first_bad, be.pointer(loss),
               be.pointer(total if total is not None else loss), programs, n,
               _REDUCTIONS[reduction], be._block(programs, 1024))
        bad = int(download(scratch, 16 * programs, 8).view(np.int64)[0])  # the one host read
        if bad < n:
            raise IndexError(f"Target {int(target[bad].item())} is out of bounds.")
        return loss, total, lse

    def backward(self, x, target, weight, ignore_index, eps, lse, g, total_weight):
        be, acc, pointers, sizes = self._layout(x, target, weight)
        n, c = x.shape
        out = be.empty((n, c), x.dtype, x._storage.device)
        if n == 0 or c == 0:
            return out
        bn, bc = _tiles(n, c)
        launch(backward_kernel, (cdiv(n, bn),), be.pointer(out), *pointers, be.pointer(lse), be.pointer(g),
               *sizes, g._stride[0] if g.dim() else 0, ignore_index, _bits(eps), _bits(total_weight),
               weight is not None, eps != 0, _TL[acc], bn, bc)
        return out


_REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}
_TL = {dt.float32: tl.float32, dt.float64: tl.float64}
