"""Max pooling on 'cuda' (Triton): the GPU twin of ``kernels/numba/pool.py``'s forward,
registered as ``nn._fused.MAX_POOL['cuda']`` (interface in ``nn/_fused.py``). Each window's
max and its flat input index in one pass, where the composed forward copied every window
(kernel-size times the output), took their max and gathered the picks' indices.

The search is torch's CPU kernel's, as the Numba kernel's: from the window's first position
inside the input, a value replaces the running max when it is larger or NaN (ties keep the
first, NaNs the last); a window that dilation leaves empty gets -inf and the index where its
search would have started. Each dim's window bounds (first in-input position, how many
positions) are computed once per geometry on the host (``window_plan``) and kept on the
device.

Memory pattern: a program owns ``BLOCK`` consecutive outputs of the flattened (P, OD, OH,
OW) planes; for each kernel offset it reads one input element per output, so neighbouring
outputs read elements a stride apart in one row (coalesced for stride 1) and overlapping
windows re-read from cache. Outputs are written once, in order. float32 and float64.

The backward gathers instead of scattering: each input element sums, in output order, the
gradients of the outputs (at most ceil(reach / stride) per dim) that picked it, so no atomics
and the same result every run (torch's CUDA max_pool2d backward is deterministic too; the
composed ``scatter_add`` is not, and deterministic mode refuses it).
"""
from __future__ import annotations

import functools

import numpy as np
import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_replay import replayable
from ..numba.pool import window_plan
from .launch import cdiv, cuda_backend as _backend, launch


@triton.jit
def _bounds(table, o):
    """Output positions ``o``'s first in-input position and number of positions along a dim."""
    return tl.load(table + 2 * o), tl.load(table + 2 * o + 1)


@triton.jit
def max_pool_kernel(x, bounds_d, bounds_h, bounds_w, values, indices, total, D, H, W, OD, OH, OW,
                    dd, dh, dw, KD, KH, KW, BLOCK: tl.constexpr):
    """``values`` and ``indices`` (flat within the plane) of outputs pid * BLOCK ... of the
    (P, OD, OH, OW) result from ``x`` (P, D, H, W); kernel sizes KD, KH, KW, dilations dd, dh, dw."""
    o = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = o < total
    o = tl.where(in_range, o, 0)
    ow = o % OW
    oh = o // OW % OH
    od = o // (OW * OH) % OD
    plane = x + o // (OW * OH * OD) * (D * H * W)
    d0, nd = _bounds(bounds_d, od)
    h0, nh = _bounds(bounds_h, oh)
    w0, nw = _bounds(bounds_w, ow)
    best = tl.full([BLOCK], float("-inf"), values.dtype.element_ty)
    pick = (d0 * H + h0) * W + w0
    for i in range(KD):
        for j in range(KH):
            for k in range(KW):
                inside = in_range & (i < nd) & (j < nh) & (k < nw)
                at = ((d0 + i * dd) * H + h0 + j * dh) * W + w0 + k * dw
                v = tl.load(plane + at, mask=inside, other=float("-inf"))
                take = inside & ((v > best) | (v != v))
                best = tl.where(take, v, best)
                pick = tl.where(take, at, pick)
    o = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    tl.store(values + o, best, mask=in_range)
    tl.store(indices + o, pick, mask=in_range)


@triton.jit
def _covering(z, pad, stride, reach, count):
    """The outputs whose windows (``reach`` = (kernel - 1) dilation + 1 wide) may hold input
    position ``z`` along a dim: the first, and one past the last (clipped to 0 .. count)."""
    first = tl.maximum(z + pad - reach + stride, 0) // stride  # ceil((z + pad - reach + 1) / stride)
    last = tl.minimum((z + pad) // stride + 1, count)
    return first, last


@triton.jit
def max_pool_backward_kernel(grad, indices, grad_x, total, D, H, W, OD, OH, OW, pd, ph, pw, sd, sh, sw,
                             rd, rh, rw, SPAN_D, SPAN_H, SPAN_W, BLOCK: tl.constexpr):
    """Input gradient elements pid * BLOCK ... of the (P, D, H, W) planes: the sum of the
    gradients of the outputs that picked each, gathered in output order (so deterministic,
    and added in the order of the CPU kernel's scatter). ``p*`` low pads, ``s*`` strides,
    ``r*`` window reaches, ``SPAN_*`` the most outputs whose windows hold one position."""
    e = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = e < total
    w = e % W
    h = e // W % H
    d = e // (W * H) % D
    plane = e // (W * H * D) * (OD * OH * OW)
    here = (d * H + h) * W + w
    d_first, d_last = _covering(d, pd, sd, rd, OD)
    h_first, h_last = _covering(h, ph, sh, rh, OH)
    w_first, w_last = _covering(w, pw, sw, rw, OW)
    total_grad = tl.zeros([BLOCK], grad_x.dtype.element_ty)
    for a in range(SPAN_D):
        od = d_first + a
        for b in range(SPAN_H):
            oh = h_first + b
            for c in range(SPAN_W):
                ow = w_first + c
                o = plane + (od * OH + oh) * OW + ow
                inside = in_range & (od < d_last) & (oh < h_last) & (ow < w_last)
                picked = inside & (tl.load(indices + o, mask=inside, other=-1) == here)
                total_grad += tl.load(grad + o, mask=picked, other=0)
    tl.store(grad_x + e, total_grad, mask=in_range)


@functools.lru_cache(maxsize=64)
def _device_bounds(geo, device):
    """Each dim's window bounds of ``geo`` as int64 tensors on ``device``, once per geometry."""
    be = _backend()
    tables = []
    for bounds in window_plan(geo).bounds:
        table = be.empty(bounds.shape, dt.int64, device)
        be.write(table, np.ascontiguousarray(bounds))
        tables.append(table)
    return tuple(tables)


@replayable
def _max_pool_into(x, values, indices, tables, size, out, dilation, kernel):
    be = _backend()
    total = values.numel()
    block = be._block(total, 512)
    launch(max_pool_kernel, (cdiv(total, block),), be.pointer(x), *(be.pointer(t) for t in tables),
           be.pointer(values), be.pointer(indices), total, *size, *out, *dilation, *kernel, block)


@replayable
def _max_pool_backward_into(grad, indices, grad_x, geometry):
    be = _backend()
    total = grad_x.numel()
    block = be._block(total, 512)
    launch(max_pool_backward_kernel, (cdiv(total, block),), be.pointer(grad), be.pointer(indices),
           be.pointer(grad_x), total, *geometry, block)


@functools.lru_cache(maxsize=64)
def _backward_plan(geo):
    """The backward kernel's geometry arguments, once per geometry: the lifted sizes, low
    pads and strides, each dim's window reach ((kernel - 1) dilation + 1) and the most
    outputs whose windows hold one input position (ceil(reach / stride))."""
    plan = window_plan(geo)
    reaches = tuple((k - 1) * d + 1 for k, d in zip(plan.kernel, plan.dilation))
    spans = tuple(-(-r // s) for r, s in zip(reaches, plan.stride))
    return (*plan.size, *plan.out, *plan.pad, *plan.stride, *reaches, *spans)


class MaxPool:
    """``nn._fused.MAX_POOL['cuda']``: a max pool of float32/float64 planes (N x C of any
    spatial rank up to 3), and its backward gathering each input's gradient."""

    dtypes = (dt.float32, dt.float64)

    def forward(self, x, geo):
        """``(values, indices)`` of ``x`` (N, C, *size) or (C, *size)."""
        be, device = _backend(), x._storage.device
        plan = window_plan(geo)
        lead = tuple(x._shape[:-len(geo.kernel)])
        values = be.empty(lead + tuple(geo.out), x.dtype, device)
        indices = be.empty(lead + tuple(geo.out), dt.int64, device)
        if values.numel():
            _max_pool_into(x.contiguous(), values, indices, _device_bounds(geo, device), plan.size, plan.out,
                           plan.dilation, plan.kernel)
        return values, indices

    def backward(self, grad, indices, shape, geo):
        """The input gradient (``shape``) from the output's and the picks of ``forward``."""
        be = _backend()
        grad_x = be.empty(tuple(shape), grad.dtype, grad._storage.device)
        if not grad_x.numel():
            return grad_x
        if not grad.numel():
            be.fill_(grad_x, 0)
            return grad_x
        _max_pool_backward_into(grad.contiguous(), indices, grad_x, _backward_plan(geo))
        return grad_x
