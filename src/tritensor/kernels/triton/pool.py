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

The backward is the composed scatter_add of the gradient to the picked indices (``backward
= None``), as nn/_pool.py does without a fused kernel.
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


@functools.lru_cache(maxsize=64)
def _device_bounds(geo, device):
    """Each dim's window bounds of ``geo`` as int64 tensors on ``device``, once per geometry."""
    be = _backend()
    tables = []
    for bounds in window_plan(geo)[3]:
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


class MaxPool:
    """``nn._fused.MAX_POOL['cuda']``: the forward of a max pool of float32/float64 planes (N x
    C of any spatial rank up to 3)."""

    dtypes = (dt.float32, dt.float64)
    backward = None  # the composed scatter_add of nn/_pool.py

    def forward(self, x, geo):
        """``(values, indices)`` of ``x`` (N, C, *size) or (C, *size)."""
        be, device = _backend(), x._storage.device
        dilation, size, out, _ = window_plan(geo)
        lead = tuple(x._shape[:-len(geo.kernel)])
        values = be.empty(lead + tuple(geo.out), x.dtype, device)
        indices = be.empty(lead + tuple(geo.out), dt.int64, device)
        if values.numel():
            kernel = (1,) * (3 - len(geo.kernel)) + tuple(geo.kernel)
            _max_pool_into(x.contiguous(), values, indices, _device_bounds(geo, device), size, out, dilation,
                           kernel)
        return values, indices

