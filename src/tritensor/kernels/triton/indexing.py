"""Indexing Triton kernels: one gather kernel (take, gather, index_select, advanced
indexing), one scatter kernel (scatter, index_add/copy/fill, put, index_put) and tril/triu.

``out[p] = x[xoff(p) + wrap(index[p]) * dim_stride]`` over out's (collapsed) shape, where
``xoff`` walks x with the indexed dim's stride zeroed and ``index`` is walked with its own
strides (a vector along the dim for index_select, stride 0 where it broadcasts). Values
move as raw elements of the same dtype, so no conversion happens. Advanced indexing
passes a table of precomputed element offsets as the index (dim stride 1, not ``BOUNDED``).

With ``BOUNDED``, an index outside [0, dim_size) after wrapping reads nothing and writes nothing (a gathered
element is 0): on 'cuda' the op's bounds check is reported after the launch, at the next
call that waits for the device (``ops/_indexing_common._check_bounds``), so the kernel must
stay inside the tensor meanwhile. The offsets tables of advanced indexing are checked on
the host before they are built.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .elementwise import _offsets


@triton.jit
def take_kernel(out, x, index, n, shape, so, sx, si, dim_stride, dim_size, BOUNDED: tl.constexpr,
                NDIM: tl.constexpr, INT64: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    idx = pid * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    i = tl.load(index + _offsets(idx, shape, si, NDIM), mask=mask, other=0).to(tl.int64)
    i = tl.where(i < 0, i + dim_size, i)
    if BOUNDED:  # see the module docstring
        inside = mask & (i >= 0) & (i < dim_size)
    else:
        inside = mask
    v = tl.load(x + _offsets(idx, shape, sx, NDIM) + i * dim_stride, mask=inside, other=0)
    tl.store(out + _offsets(idx, shape, so, NDIM), v, mask=mask)


@triton.jit
def tri_kernel(out, x, n, rows, cols, shape, so, sx, diagonal, UPPER: tl.constexpr, NDIM: tl.constexpr,
               INT64: tl.constexpr, BLOCK: tl.constexpr):
    """tril/triu of the last two dims: keep x where col - row is on the kept side of diagonal."""
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    idx = pid * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    col = idx % cols
    row = (idx // cols) % rows
    if UPPER:
        keep = col - row >= diagonal
    else:
        keep = col - row <= diagonal
    v = tl.load(x + _offsets(idx, shape, sx, NDIM), mask=mask & keep, other=0)
    tl.store(out + _offsets(idx, shape, so, NDIM), v, mask=mask)


@triton.jit
def _atomic_multiply(target, v, mask, safe):
    """``*target *= v`` in each lane of ``mask``, atomically. GPUs have no atomic multiply:
    read, multiply, compare-and-swap the bits, and retry the lanes another write overtook
    (lanes aiming at one element serialise that way, within a block too). Lanes outside the
    mask swap ``safe``'s element with itself, a no-op, so no lane touches memory out of range."""
    if v.dtype.primitive_bitwidth == 64:
        bits = tl.where(mask, target, safe).to(tl.pointer_type(tl.int64), bitcast=True)
    else:
        bits = tl.where(mask, target, safe).to(tl.pointer_type(tl.int32), bitcast=True)
    pending = mask
    while tl.max(pending.to(tl.int32), 0) > 0:
        old = tl.load(bits, volatile=True)
        product = (old.to(v.dtype, bitcast=True) * v).to(old.dtype, bitcast=True)
        seen = tl.atomic_cas(bits, old, tl.where(pending, product, old))
        pending = pending & (seen != old)


@triton.jit
def put_kernel(dst, src, index, n, shape, sd, ss, si, dim_stride, dim_size, BOUNDED: tl.constexpr,
               OP: tl.constexpr, NDIM: tl.constexpr, INT64: tl.constexpr, BLOCK: tl.constexpr):
    """``dst[doff(p) + wrap(index[p]) * dim_stride] (op)= src[p]`` over the index's shape.

    OP: 0 store, 1 add, 2 max, 3 min, 4 multiply. Combining is atomic, so repeated indices
    all count (the order of plain stores to one element is unspecified, as in torch on a
    GPU). For bool, add and max are "or" (store True where src is), min and multiply "and".
    """
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    idx = pid * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    i = tl.load(index + _offsets(idx, shape, si, NDIM), mask=mask, other=0).to(tl.int64)
    i = tl.where(i < 0, i + dim_size, i)
    if BOUNDED:  # see the module docstring
        mask = mask & (i >= 0) & (i < dim_size)
    v = tl.load(src + _offsets(idx, shape, ss, NDIM), mask=mask).to(dst.dtype.element_ty)
    target = dst + _offsets(idx, shape, sd, NDIM) + i * dim_stride
    if OP == 0:
        tl.store(target, v, mask=mask)
    elif dst.dtype.element_ty == tl.int1:
        if OP >= 3:
            tl.store(target, v, mask=mask & (v == 0))
        else:
            tl.store(target, v, mask=mask & (v != 0))
    elif OP == 1:
        tl.atomic_add(target, v, mask=mask)
    elif OP == 2:
        tl.atomic_max(target, v, mask=mask)
    elif OP == 3:
        tl.atomic_min(target, v, mask=mask)
    else:
        _atomic_multiply(target, v, mask, dst)
