"""One separable pass of ``F.interpolate`` on 'cuda' (Triton): the GPU twin of
``kernels/numba/resample.py``'s ``resample_taps``, registered as
``nn._fused.RESAMPLE['cuda']`` (interface in ``nn/_fused.py``)::

    y[o, j, i] = sum_t weight[t, j] * x[o, index[t, j], i]

over the (outer, size, inner) view of a contiguous tensor around the resampled dim. Composed
of tensor ops a pass is an ``index_select`` of every tap (taps times the output), a multiply
and a sum; here it is one launch that writes the output once.

Memory pattern: a program owns ``BLOCK`` consecutive outputs of the flattened (outer, out,
inner) result. Along a dim that is not the last, neighbouring lanes read neighbouring
elements of the same input rows (coalesced); along the last (inner 1) each lane gathers its
taps from one input row, which neighbouring lanes share in cache. The taps are summed in tap
order from the first product (no fused multiply-add, so the rounding, and the sign of a zero,
are the CPU kernel's). float32, float64 and int64 (the uint8 modes' fixed point).

The adjoint is the composed ``index_add`` (``scatter = None``): a kernel would add with
atomics, in no fixed order.
"""
from __future__ import annotations

import math

import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_replay import replayable
from .launch import cdiv, cuda_backend as _backend, launch


@triton.jit
def resample_taps_kernel(y, x, index, weight, total, size_in, size_out, inner, TAPS, BLOCK: tl.constexpr):
    """Outputs pid * BLOCK ... of ``y`` (outer, size_out, inner) from ``x`` (outer, size_in,
    inner) and the (TAPS, size_out) ``index`` and ``weight`` tables."""
    e = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = e < total
    i = e % inner
    j = e // inner % size_out
    row = x + e // (inner * size_out) * size_in * inner + i
    pick = tl.load(index + j, mask=in_range, other=0)
    value = tl.load(weight + j, mask=in_range, other=0) * tl.load(row + pick * inner, mask=in_range, other=0)
    for t in range(1, TAPS):
        pick = tl.load(index + t * size_out + j, mask=in_range, other=0)
        w = tl.load(weight + t * size_out + j, mask=in_range, other=0)
        value += w * tl.load(row + pick * inner, mask=in_range, other=0)
    tl.store(y + e, value, mask=in_range)


@replayable
def _resample_into(y, x, index, weight, dim):
    be = _backend()
    total = y.numel()
    block = be._block(total, 1024)
    inner = math.prod(y._shape[dim + 1:])
    launch(resample_taps_kernel, (cdiv(total, block),), be.pointer(y), be.pointer(x), be.pointer(index),
           be.pointer(weight), total, x._shape[dim], y._shape[dim], inner, index._shape[0], block)


class Resample:
    """``nn._fused.RESAMPLE['cuda']``: the weighted gather of one interpolation pass."""

    dtypes = (dt.float32, dt.float64, dt.int64)
    scatter = None  # the composed index_add of nn/_interpolate.py

    def gather(self, x, dim, index, weight):
        """x resampled along ``dim``: every output position's taps, summed with their weights."""
        shape = tuple(x._shape[:dim]) + (index._shape[1],) + tuple(x._shape[dim + 1:])
        y = _backend().empty(shape, x.dtype, x._storage.device)
        if y.numel():
            _resample_into(y, x.contiguous(), index.contiguous(), weight.contiguous(), dim)
        return y
