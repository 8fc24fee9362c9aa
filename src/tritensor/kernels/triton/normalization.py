"""Layer norm on 'cuda' (Triton): the GPU twin of ``kernels/numba/layer_norm.py``'s row
kernels, registered as ``nn._fused.LAYER_NORM['cuda']`` (interface in ``nn/_fused.py``)::

    xhat = (x - mean) * rstd,   rstd = 1 / sqrt(var + eps),   y = xhat * w + b
    dx   = rstd * (g - mean(g) - xhat * mean(g * xhat)),      g = dy * w
    dw   = sum over rows of dy * xhat,                         db = sum over rows of dy

Composed of tensor ops the forward is seven launches (mean, difference, square, mean,
rsqrt, normalise, affine) and the backward ten; here each is one launch (the backward two
when several programs' parameter sums are added up).

Memory pattern: rows of ``n`` contiguous elements. A forward program owns ``BLOCK_M`` rows
(many for short rows, one for long ones) and sweeps them in ``BLOCK_N``-wide column tiles
three times, as the Triton tutorial's layer norm: sums, squared deviations from the mean,
then the normalised values (the second and third sweeps re-read a row the first brought into
cache). The backward's ``P`` programs each take every ``P``-th block of rows, sweeping each
row twice (the two dot products, then the input gradient) and adding the rows' parameter
gradients into their own slice of a (P, 2, n) buffer: no atomics, so deterministic; the
host sums the P slices once. float32 and float64, each computed in its own width (16-bit
inputs reach nn's normalisation widened to float32).
"""
from __future__ import annotations

import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_memory import interpreting
from ...backends.cuda_replay import replayable
from .launch import cdiv, cuda_backend as _backend, launch
from .scalars import float64_bits, from_float64_bits


@triton.jit
def _row_block(r0, rows, BLOCK_M: tl.constexpr):
    """Rows r0 .. r0 + BLOCK_M - 1: their indices (int64) and which exist."""
    r = r0 + tl.arange(0, BLOCK_M).to(tl.int64)
    return r, r < rows


@triton.jit
def _tile(base, row_ok, c0, n, BLOCK_N: tl.constexpr):
    """Offsets and mask of the column tile c0 .. c0 + BLOCK_N - 1 of rows starting at ``base``."""
    cols = c0 + tl.arange(0, BLOCK_N)
    return base[:, None] + cols[None, :], row_ok[:, None] & (cols < n)[None, :], cols


@triton.jit
def layer_norm_forward_kernel(x, weight, bias, y, xhat, rstd, rows, n, eps_bits, HAS_WEIGHT: tl.constexpr,
                   HAS_BIAS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """``xhat`` and ``rstd`` (one a row) of this program's rows, and ``y`` when there is a
    weight or a bias (without either the caller's output is ``xhat`` itself)."""
    r, row_ok = _row_block(tl.program_id(0).to(tl.int64) * BLOCK_M, rows, BLOCK_M)
    base = r * n
    total = tl.zeros([BLOCK_M, BLOCK_N], x.dtype.element_ty)
    for c0 in range(0, n, BLOCK_N):
        at, m, cols = _tile(base, row_ok, c0, n, BLOCK_N)
        total += tl.load(x + at, mask=m, other=0)
    mean = tl.sum(total, 1) / n
    deviation = tl.zeros([BLOCK_M, BLOCK_N], x.dtype.element_ty)
    for c0 in range(0, n, BLOCK_N):
        at, m, cols = _tile(base, row_ok, c0, n, BLOCK_N)
        d = tl.where(m, tl.load(x + at, mask=m, other=0) - mean[:, None], 0.0)
        deviation += d * d
    eps = from_float64_bits(eps_bits).to(x.dtype.element_ty)
    r_std = 1.0 / tl.sqrt(tl.sum(deviation, 1) / n + eps)
    tl.store(rstd + r, r_std, mask=row_ok)
    for c0 in range(0, n, BLOCK_N):
        at, m, cols = _tile(base, row_ok, c0, n, BLOCK_N)
        h = (tl.load(x + at, mask=m, other=0) - mean[:, None]) * r_std[:, None]
        tl.store(xhat + at, h, mask=m)
        if HAS_WEIGHT or HAS_BIAS:
            out = h
            if HAS_WEIGHT:
                out = out * tl.load(weight + cols, mask=cols < n, other=0)[None, :]
            if HAS_BIAS:
                out = out + tl.load(bias + cols, mask=cols < n, other=0)[None, :]
            tl.store(y + at, out, mask=m)


@triton.jit
def _scaled_grad(grad, weight, at, m, cols, n, HAS_WEIGHT: tl.constexpr):
    """The incoming gradient of a tile, and times the weight (``g`` above)."""
    dy = tl.load(grad + at, mask=m, other=0)
    if HAS_WEIGHT:
        return dy, dy * tl.load(weight + cols, mask=cols < n, other=0)[None, :]
    return dy, dy


@triton.jit
def layer_norm_backward_kernel(grad, xhat, rstd, weight, grad_x, partials, rows, n, HAS_WEIGHT: tl.constexpr,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """Row blocks pid, pid + P, ... of the input gradient, and their sums of ``dy * xhat``
    and ``dy`` per column into this program's (2, n) slice of ``partials`` (zeroed here first)."""
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    weight_sums = partials + pid.to(tl.int64) * 2 * n
    bias_sums = weight_sums + n
    for c0 in range(0, n, BLOCK_N):
        cols = c0 + tl.arange(0, BLOCK_N)
        zero = tl.zeros([BLOCK_N], partials.dtype.element_ty)
        tl.store(weight_sums + cols, zero, mask=cols < n)
        tl.store(bias_sums + cols, zero, mask=cols < n)
    for r0 in range(pid * BLOCK_M, rows, programs * BLOCK_M):
        r, row_ok = _row_block(r0, rows, BLOCK_M)
        base = r * n
        g_total = tl.zeros([BLOCK_M, BLOCK_N], xhat.dtype.element_ty)
        g_projected = tl.zeros([BLOCK_M, BLOCK_N], xhat.dtype.element_ty)
        for c0 in range(0, n, BLOCK_N):
            at, m, cols = _tile(base, row_ok, c0, n, BLOCK_N)
            dy, g = _scaled_grad(grad, weight, at, m, cols, n, HAS_WEIGHT)
            g_total += g
            g_projected += g * tl.load(xhat + at, mask=m, other=0)
        mean_g = tl.sum(g_total, 1) / n
        mean_projected = tl.sum(g_projected, 1) / n
        r_std = tl.load(rstd + r, mask=row_ok, other=0)
        for c0 in range(0, n, BLOCK_N):
            at, m, cols = _tile(base, row_ok, c0, n, BLOCK_N)
            dy, g = _scaled_grad(grad, weight, at, m, cols, n, HAS_WEIGHT)
            h = tl.load(xhat + at, mask=m, other=0)
            dx = r_std[:, None] * ((g - mean_g[:, None]) - h * mean_projected[:, None])
            tl.store(grad_x + at, dx, mask=m)
            in_row = cols < n
            tl.store(weight_sums + cols, tl.load(weight_sums + cols, mask=in_row) + tl.sum(dy * h, 0),
                     mask=in_row)
            tl.store(bias_sums + cols, tl.load(bias_sums + cols, mask=in_row) + tl.sum(dy, 0), mask=in_row)


# ---------------------------------------------------------------- host side
def _tiles(rows, n):
    """(BLOCK_M, BLOCK_N): a row in as few column tiles as fit, rows filling the rest of a
    tile of 4096 elements (the interpreter's is larger: a program is a Python iteration)."""
    be = _backend()
    budget = 1 << 14 if interpreting() else 4096
    block_n = be._block(n, 4096)
    return max(1, min(be._block(rows, 1024), budget // block_n)), block_n


def _backward_programs(row_blocks):
    """How many programs share the backward's row blocks: enough to fill the GPU twice over
    (each adds a (2, n) slice for the host to sum); a few under the interpreter, so the
    slices' sum is exercised there too."""
    cap = 4 if interpreting() else 2 * _backend()._sm_count()
    return max(1, min(row_blocks, cap))


@replayable
def _forward_into(x, weight, bias, y, xhat, rstd, eps):
    pointer = _backend().pointer
    n = x.numel() // rstd.numel()
    rows = rstd.numel()
    block_m, block_n = _tiles(rows, n)
    launch(layer_norm_forward_kernel, (cdiv(rows, block_m),), pointer(x),
           pointer(weight if weight is not None else x),
           pointer(bias if bias is not None else x), pointer(y), pointer(xhat), pointer(rstd), rows, n,
           float64_bits(eps), weight is not None, bias is not None, block_m, block_n)


@replayable
def _backward_into(grad, xhat, rstd, weight, grad_x, partials):
    pointer = _backend().pointer
    rows = rstd.numel()
    n = xhat.numel() // rows
    block_m, block_n = _tiles(rows, n)
    launch(layer_norm_backward_kernel, (partials._shape[0],), pointer(grad), pointer(xhat), pointer(rstd),
           pointer(weight if weight is not None else xhat), pointer(grad_x), pointer(partials), rows, n,
           weight is not None, block_m, block_n)


class LayerNorm:
    """``nn._fused.LAYER_NORM['cuda']``: layer norm over the trailing dims of a contiguous
    float32/float64 input, its statistics computed from it."""

    dtypes = (dt.float32, dt.float64)

    def accepts(self, x, weight, bias):
        return (x.dtype in self.dtypes and x.is_contiguous() and x.numel() > 0
                and all(p is None or (p.dtype is x.dtype and p.is_contiguous()) for p in (weight, bias)))

    def forward(self, x, weight, bias, eps, stat_dims):
        """``(y, xhat, rstd)``, ``rstd`` keeping the statistics dims as 1s."""
        be = _backend()
        device = x._storage.device
        keep = tuple(x._shape[:x.dim() - stat_dims]) + (1,) * stat_dims
        xhat = be.empty(x._shape, x.dtype, device)
        y = be.empty(x._shape, x.dtype, device) if weight is not None or bias is not None else xhat
        rstd = be.empty(keep, x.dtype, device)
        _forward_into(x, weight, bias, y, xhat, rstd, eps)
        return y, xhat, rstd

    def backward(self, grad, xhat, rstd, weight):
        """``(grad_x, grad_weight, grad_bias)``, the parameters' gradients flat."""
        be = _backend()
        device = xhat._storage.device
        rows = rstd.numel()
        n = xhat.numel() // rows
        grad_x = be.empty(xhat._shape, xhat.dtype, device)
        programs = _backward_programs(cdiv(rows, _tiles(rows, n)[0]))
        partials = be.empty((programs, 2, n), xhat.dtype, device)
        _backward_into(grad.contiguous(), xhat, rstd, weight, grad_x, partials)
        sums = partials[0] if programs == 1 else partials.sum(0)
        return grad_x, sums[0], sums[1]
