"""Fused cross entropy over class indices (device 'cuda', Triton): the GPU twin of
``kernels/numba/cross_entropy.py``, same formulas (see there)::

    loss_i = (1 - eps) w_t (lse - x_t) + eps / C (W lse - sum_c w_c x_c)
    dx_ic  = g_i ((1 - eps) w_t (p_c - [c == t]) + eps / C (W p_c - w_c)),   p_c = exp(x_c - lse)

Forward: a program owns ``BLOCK_N`` rows and sweeps their classes in ``BLOCK_C`` tiles
with an online max / rescaled sum-exp (as ``reduction.softmax_kernel``), accumulating
``sum_c w_c x_c`` for label smoothing in the same sweep, so each logit is read once and
no probability or log-probability tensor exists. It stores ``lse`` per row (the only
state the backward needs) and the per-row loss for ``'none'``. For 'sum'/'mean', a batch
in one program stores the reduced loss (and total target weight) itself; over several
programs each stores its partial sums and a one-program ``finish_kernel`` adds them in a
fixed order (deterministic, no atomics; float64 accumulation). An out-of-range target
makes its row's loss nan and is recorded in the device's error word
(``backends/cuda_errors.py``): nothing is read back to the host.

Backward: one sweep over the same tiles reading ``x`` and ``lse`` once and writing the
gradient once (the mean's division by the total weight included; nan for a bad target).
16-bit logits are read as they are and computed in fp32; float64 scalars travel as int64
bits (Triton passes Python floats as fp32).
"""
from __future__ import annotations

import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends import cuda_errors
from ...backends.cuda_errors import TARGET_OUT_OF_BOUNDS as _TARGET_OUT_OF_BOUNDS
from ...backends.cuda_memory import KernelPointer, allocate, interpreting
from ...backends.cuda_replay import replayable
from .checks import record_first
from .elementwise import cast_to
from .launch import cdiv, cuda_backend as _backend, launch
from .reduction import add, online_max_sumexp, reduce_rows
from .scalars import float64_bits, from_float64_bits

INF = tl.constexpr(float("inf"))
TARGET_OUT_OF_BOUNDS = tl.constexpr(_TARGET_OUT_OF_BOUNDS)


@triton.jit
def _rows(target, t_stride, N, C, ignore_index, BLOCK_N: tl.constexpr):
    """This program's rows, their targets as given and made safe to index with, and which
    rows count and which hold an out-of-range target."""
    rows = tl.program_id(0).to(tl.int64) * BLOCK_N + tl.arange(0, BLOCK_N)
    in_range = rows < N
    t = tl.load(target + rows * t_stride, mask=in_range, other=ignore_index)
    counted = in_range & (t != ignore_index)
    bad = counted & ((t < 0) | (t >= C))
    keep = counted & ~bad
    return rows, in_range, t, tl.where(keep, t, 0), keep, bad


@triton.jit
def _store_reduced(loss, total, loss_sum, weight_sum, REDUCTION: tl.constexpr):
    """'sum' (REDUCTION 1) stores the loss sum, 'mean' (2) also the total target weight and
    the loss divided by it (all rows ignored: 0 / 0 = nan, like torch)."""
    if REDUCTION == 2:
        tl.store(total, weight_sum.to(total.dtype.element_ty))
        loss_sum = loss_sum / weight_sum
    tl.store(loss, loss_sum.to(loss.dtype.element_ty))


@triton.jit
def forward_kernel(x, target, weight, loss, total, lse_out, sums, errors, N, C, sxn, sxc, t_stride,
                   ignore_index, eps_bits, HAS_WEIGHT: tl.constexpr, SMOOTH: tl.constexpr,
                   REDUCTION: tl.constexpr, ONE_PROGRAM: tl.constexpr, ACC: tl.constexpr,
                   BLOCK_N: tl.constexpr, BLOCK_C: tl.constexpr):
    rows, in_range, t_given, t, keep, bad = _rows(target, t_stride, N, C, ignore_index, BLOCK_N)
    record_first(errors, rows, bad, t_given, N, TARGET_OUT_OF_BOUNDS)
    eps = from_float64_bits(eps_bits).to(ACC)
    base = rows * sxn
    mx = tl.full([BLOCK_N], -INF, ACC)
    total_exp = tl.full([BLOCK_N], 0, ACC)
    wx = tl.full([BLOCK_N], 0, ACC)      # sum_c w_c x_c (label smoothing)
    w_sum = tl.full([BLOCK_N], 0, ACC)   # W = sum_c w_c (the same for every row)
    for c0 in range(0, C, BLOCK_C):
        cs = c0 + tl.arange(0, BLOCK_C)
        m = keep[:, None] & (cs < C)[None, :]
        v = tl.load(x + base[:, None] + cs[None, :].to(tl.int64) * sxc, mask=m, other=0).to(ACC)
        mx, total_exp = online_max_sumexp(mx, total_exp, v, m, BLOCK_N, BLOCK_C)
        if SMOOTH:
            if HAS_WEIGHT:
                wc = tl.load(weight + cs, mask=cs < C, other=0).to(ACC)
            else:
                wc = tl.where(cs < C, 1.0, 0.0).to(ACC)
            wx += reduce_rows(tl.where(m, v * wc[None, :], 0.0), add, BLOCK_N, BLOCK_C)
            w_sum += tl.sum(wc, 0)
    # nan, +inf or all -inf logits give nan, as in torch
    lse = tl.where((mx == mx) & (tl.abs(mx) != INF), mx + tl.log(total_exp), float("nan"))
    x_t = tl.load(x + base + t * sxc, mask=keep, other=0).to(ACC)
    if HAS_WEIGHT:
        w_t = tl.load(weight + t, mask=keep, other=0).to(ACC)
    else:
        w_t = tl.full([BLOCK_N], 1, ACC)
    value = (1.0 - eps) * w_t * (lse - x_t)
    if SMOOTH:
        value += eps / C * (w_sum * lse - wx)
    value = tl.where(keep, value, tl.where(bad, float("nan"), 0.0))  # a bad target poisons its loss
    tl.store(lse_out + rows, tl.where(keep, lse, 0.0), mask=in_range)
    if REDUCTION == 0:
        tl.store(loss + rows, value.to(loss.dtype.element_ty), mask=in_range)
    else:
        loss_sum = tl.sum(value.to(tl.float64), 0)
        weight_sum = tl.sum(tl.where(keep, w_t, 0.0).to(tl.float64), 0)
        if ONE_PROGRAM:
            _store_reduced(loss, total, loss_sum, weight_sum, REDUCTION)
        else:  # partial sums, added up by finish_kernel
            pid = tl.program_id(0)
            tl.store(sums + pid, loss_sum)
            tl.store(sums + tl.num_programs(0) + pid, weight_sum)


@triton.jit
def finish_kernel(sums, loss, total, P, REDUCTION: tl.constexpr, BLOCK: tl.constexpr):
    """One program adds the forward programs' partial sums in a fixed order (deterministic,
    float64) into the reduced loss (and total target weight for 'mean')."""
    s = tl.full([BLOCK], 0, tl.float64)
    w = tl.full([BLOCK], 0, tl.float64)
    for p0 in range(0, P, BLOCK):
        ps = p0 + tl.arange(0, BLOCK)
        m = ps < P
        s += tl.load(sums + ps, mask=m, other=0)
        w += tl.load(sums + P + ps, mask=m, other=0)
    _store_reduced(loss, total, tl.sum(s, 0), tl.sum(w, 0), REDUCTION)


@triton.jit
def backward_kernel(out, x, target, weight, lse, g, total, N, C, sxn, sxc, t_stride, g_stride,
                    ignore_index, eps_bits, total_weight_bits, HAS_WEIGHT: tl.constexpr,
                    SMOOTH: tl.constexpr, MEAN: tl.constexpr, ACC: tl.constexpr, BLOCK_N: tl.constexpr,
                    BLOCK_C: tl.constexpr):
    rows, in_range, t_given, t, keep, bad = _rows(target, t_stride, N, C, ignore_index, BLOCK_N)
    eps = from_float64_bits(eps_bits).to(ACC)
    gi = tl.load(g + rows * g_stride, mask=keep, other=0).to(ACC)
    if MEAN:  # the mean's division by the total target weight, which the forward stored
        gi = gi / tl.load(total).to(ACC)
    lz = tl.load(lse + rows, mask=keep, other=0).to(ACC)
    if HAS_WEIGHT:
        w_t = tl.load(weight + t, mask=keep, other=0).to(ACC)
    else:
        w_t = tl.full([BLOCK_N], 1, ACC)
    hit = gi * (1.0 - eps) * w_t               # coefficient of p_c and of the one-hot
    a = hit + gi * eps / C * from_float64_bits(total_weight_bits).to(ACC)
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
        r = tl.where(keep[:, None], r, tl.where(bad[:, None], float("nan"), 0.0))
        tl.store(out + rows[:, None] * C + cs[None, :], cast_to(r, out.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- host side
def _tiles(n, c):
    """(BLOCK_N, BLOCK_C): a row's classes in as few tiles as fit the budget, rows filling
    the rest (the interpreter's budget is larger: a program is a Python iteration there).
    Up to 128 rows, so a training batch over few classes is one program: one launch, no
    reduction of partial sums."""
    budget = 1 << 14 if interpreting() else 4096
    block = _backend()._block
    bc = block(c, 1024)
    return max(1, min(block(n, 128), budget // bc)), bc


def _layout(x, target, weight):
    """The kernels' leading pointers (x, target, weight), sizes (N, C, x's strides, target's
    stride) and tiles (BLOCK_N, BLOCK_C)."""
    pointer = _backend().pointer
    n, c = x._shape
    pointers = (pointer(x), pointer(target), pointer(weight if weight is not None else x))
    return pointers, (n, c, *x._stride, target._stride[0] if n else 1), _tiles(n, c)


@replayable
def _forward_into(loss, total, lse, x, target, weight, errors, ignore_index, eps, reduction):
    be = _backend()
    pointers, sizes, (bn, bc) = _layout(x, target, weight)
    programs = max(1, cdiv(x._shape[0], bn))  # one program even for an empty batch: it writes the zeros
    code = _REDUCTIONS[reduction]
    one_program = programs == 1 or code == 0
    sums = None if one_program else KernelPointer(allocate(16 * programs, x._storage.device), 0, "float64")
    pointer = be.pointer
    total_ptr = pointer(total if total is not None else loss)
    launch(forward_kernel, (programs,), *pointers, pointer(loss), total_ptr, pointer(lse),
           sums if sums is not None else pointer(lse), pointer(errors), *sizes, ignore_index,
           float64_bits(eps), weight is not None, eps != 0, code, one_program, _TL[lse.dtype], bn, bc)
    if not one_program:
        launch(finish_kernel, (1,), sums, pointer(loss), total_ptr, programs, code, be._block(programs, 1024))


@replayable
def _backward_into(out, x, target, weight, lse, g, total, ignore_index, eps, total_weight):
    pointers, sizes, (bn, bc) = _layout(x, target, weight)
    pointer = _backend().pointer
    launch(backward_kernel, (cdiv(x._shape[0], bn),), pointer(out), *pointers, pointer(lse), pointer(g),
           pointer(total if total is not None else g), *sizes, g._stride[0] if g.dim() else 0, ignore_index,
           float64_bits(eps), float64_bits(total_weight), weight is not None, eps != 0, total is not None,
           _TL[lse.dtype], bn, bc)


class CrossEntropy:
    """``nn._fused.CROSS_ENTROPY['cuda']`` (interface in ``nn/_fused.py``). Reads float16,
    bfloat16, float32 and float64 logits in place (any strides); loss, total and ``lse``
    come back in the compute dtype (float32 for 16-bit input), the gradient in ``x``'s.

    Nothing is read back to the host: an out-of-range target makes its row's loss and
    gradient nan and is raised as IndexError at the next call that waits for the device
    (``backends/cuda_errors.py``), where torch's CUDA build fails a device-side assert."""

    dtypes = (dt.float16, dt.bfloat16, dt.float32, dt.float64)

    def forward(self, x, target, weight, ignore_index, eps, reduction):
        be = _backend()
        acc = dt.float64 if x.dtype is dt.float64 else dt.float32
        n = x._shape[0]
        device = x._storage.device
        lse = be.empty((n,), acc, device)
        loss = be.empty((n,) if reduction == "none" else (), acc, device)
        total = be.empty((), acc, device) if reduction == "mean" else None
        _forward_into(loss, total, lse, x, target, weight, cuda_errors.word(device), ignore_index, eps,
                      reduction)
        return loss, total, lse

    def backward(self, x, target, weight, ignore_index, eps, lse, g, total_weight, total):
        out = _backend().empty(x._shape, x.dtype, x._storage.device)
        if out.numel():
            _backward_into(out, x, target, weight, lse, g, total, ignore_index, eps, total_weight)
        return out


_REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}
_TL = {dt.float32: tl.float32, dt.float64: tl.float64}
