"""Multi-tensor gradient norm and scaling (device 'cuda', Triton) for ``clip_grad_norm_``.

The GPU twin of ``kernels/numba/grad_norm.py``, on the address-table scheme of
``kernels/triton/optim.py``: the host packs ``work`` rows (tensor, start, stop) and the
gradients' data addresses into one device buffer, and ``partial_norm_kernel`` runs one
program per work chunk, whatever the number of gradients (an address is loaded as int64
and cast to a typed pointer; the interpreter's pointers are host addresses, so the same
cast works there). Each program writes one float64 partial (sum of ``|g|^p``, or the max
of ``|g|`` for p = inf, NaN winning); ``total_kernel`` (one program) folds the partials in
a fixed order, deterministically, and takes the p-th root on the device, and
``scale_kernel`` multiplies every gradient by a coefficient read from a device scalar,
so clipping never reads a value back to the host (``error_if_nonfinite`` does, as in
torch). Within a program the sums run in fp32 (fp64 for float64 grads), 16-bit grads
are widened as they are loaded.
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_memory import KernelPointer, allocate
from .elementwise import _div, cast_to
from .launch import launch
from .optim import _TL_DTYPES, _block, _device_tables, chunk
from .scalars import float64_bits, from_float64_bits

#: ``KIND`` codes (as in the Numba kernels); ``tl.constexpr``s, the only globals a compiled kernel reads
SUM_SQUARES, SUM_ABS, MAX_ABS, SUM_POW = (tl.constexpr(code) for code in range(4))


@triton.jit
def _max_nan(acc):
    """max of a vector of non-negative values, NaN if any is NaN (tl.max drops NaN)."""
    return tl.where(tl.sum(tl.where(acc != acc, 1, 0), 0) > 0, float("nan"), tl.max(acc, 0))


@triton.jit
def partial_norm_kernel(work, addrs, partials, p_bits, KIND: tl.constexpr, DTYPE: tl.constexpr,
                        ACC: tl.constexpr, BLOCK: tl.constexpr):
    w = tl.program_id(0).to(tl.int64)
    i = tl.load(work + 3 * w)
    lo = tl.load(work + 3 * w + 1)
    hi = tl.load(work + 3 * w + 2)
    g = tl.load(addrs + i).to(tl.pointer_type(DTYPE))
    p = from_float64_bits(p_bits).to(ACC)
    acc = tl.full([BLOCK], 0, ACC)
    for start in range(lo, hi, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        v = tl.abs(tl.load(g + offs, mask=offs < hi, other=0).to(ACC))
        if KIND == MAX_ABS:
            acc = tl.where((v > acc) | (v != v), v, acc)
        elif KIND == SUM_SQUARES:
            acc += v * v
        elif KIND == SUM_ABS:
            acc += v
        else:
            acc += tl.where(v == 0, 0.0, tl.exp2(p * tl.log2(v)))
    if KIND == MAX_ABS:
        tl.store(partials + w, _max_nan(acc).to(tl.float64))
    else:
        tl.store(partials + w, tl.sum(acc.to(tl.float64), 0))


@triton.jit
def total_kernel(partials, out, P, p_bits, coef, max_bits, KIND: tl.constexpr, CLIP: tl.constexpr,
                 BLOCK: tl.constexpr):
    """out = the norm from the ``P`` partials (one program, fixed order); with ``CLIP`` also
    coef = min(max_norm / (out + 1e-6), 1), each op rounded to out's dtype as torch's are (NaN
    stays NaN): clip_grad_norm_ needs no elementwise launches for it."""
    acc = tl.full([BLOCK], 0, tl.float64)
    for p0 in range(0, P, BLOCK):
        ps = p0 + tl.arange(0, BLOCK)
        v = tl.load(partials + ps, mask=ps < P, other=0)
        if KIND == MAX_ABS:
            acc = tl.where((v > acc) | (v != v), v, acc)
        else:
            acc += v
    if KIND == MAX_ABS:
        total = _max_nan(acc)
    else:
        total = tl.sum(acc, 0)
        if KIND == SUM_SQUARES:
            total = tl.sqrt(total)
        elif KIND == SUM_POW:
            total = tl.where(total == 0, 0.0, tl.exp2(tl.log2(total) / from_float64_bits(p_bits)))
    DTYPE: tl.constexpr = out.dtype.element_ty
    tl.store(out, cast_to(total, DTYPE))
    if CLIP:  # torch: (norm + 1e-6).reciprocal() * max_norm (its __rtruediv__), then clamp_max(1)
        OPMATH: tl.constexpr = tl.float64 if DTYPE == tl.float64 else tl.float32
        held = _rounded(total, DTYPE, OPMATH)
        shifted = _rounded(held + tl.full([], 1e-6, tl.float64).to(OPMATH), DTYPE, OPMATH)
        max_norm = from_float64_bits(max_bits).to(OPMATH)
        c = _rounded(_rounded(_div(1.0, shifted), DTYPE, OPMATH) * max_norm, DTYPE, OPMATH)
        tl.store(coef, cast_to(tl.where(c > 1, 1.0, c), DTYPE))


@triton.jit
def _rounded(x, DTYPE: tl.constexpr, OPMATH: tl.constexpr):
    """``x`` rounded to ``DTYPE`` (as a torch op's result is), computed on in ``OPMATH``."""
    return cast_to(x, DTYPE).to(OPMATH)


@triton.jit
def scale_kernel(work, addrs, coef, DTYPE: tl.constexpr, ACC: tl.constexpr, BLOCK: tl.constexpr):
    """Every gradient *= coef[0] (a device scalar), 16-bit ones computed in fp32."""
    w = tl.program_id(0).to(tl.int64)
    i = tl.load(work + 3 * w)
    lo = tl.load(work + 3 * w + 1)
    hi = tl.load(work + 3 * w + 2)
    g = tl.load(addrs + i).to(tl.pointer_type(DTYPE))
    c = tl.load(coef).to(ACC)
    for start in range(lo, hi, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < hi
        v = tl.load(g + offs, mask=mask).to(ACC)
        tl.store(g + offs, cast_to(v * c, DTYPE), mask=mask)


# ---------------------------------------------------------------- host side
def _kind(norm_type):
    if norm_type == float("inf"):
        return MAX_ABS.value
    return {2.0: SUM_SQUARES, 1.0: SUM_ABS}.get(norm_type, SUM_POW).value


class GradNorm:
    """``nn._fused.GRAD_NORM['cuda']``: one launch for all gradients' partial norms (plus a
    one-program fold), one launch to scale them. Takes same-dtype, same-device contiguous
    float tensors (float16/bfloat16/float32/float64)."""

    def accepts(self, tensors):
        first = tensors[0]
        return first.dtype in _TL_DTYPES and all(
            t.dtype is first.dtype and t.device == first.device and t.is_contiguous() for t in tensors)

    @staticmethod
    def _table(tensors):
        from ...optim._multi_tensor import _work_blocks
        addrs = np.array([t.data_ptr() for t in tensors], np.int64)
        work = _work_blocks(np.array([t.numel() for t in tensors], np.int64), chunk())
        device = tensors[0].device
        dtype = tensors[0].dtype
        acc = tl.float64 if dtype is dt.float64 else tl.float32
        return work, _device_tables(device, work, addrs)[0], device, _TL_DTYPES[dtype], acc

    def total_norm(self, tensors, norm_type, max_norm=None):
        """The joint ``norm_type``-norm (p > 0) as a 0-d device tensor of the gradients' dtype;
        with ``max_norm`` also the clip coefficient (a 0-d device tensor), from the same launch."""
        from ...backends import cuda as be
        work, (work_p, addrs_p), device, dtype, acc = self._table(tensors)
        n = work.shape[0]
        partials = KernelPointer(allocate(8 * max(n, 1), device), 0, "float64")
        kind, p_bits = _kind(norm_type), float64_bits(norm_type)
        if n:
            launch(partial_norm_kernel, (n,), work_p, addrs_p, partials, p_bits, kind, dtype, acc,
                   _block(work))
        out = be.empty((), tensors[0].dtype, device)
        coef = None if max_norm is None else be.empty((), tensors[0].dtype, device)
        launch(total_kernel, (1,), partials, be.pointer(out), n, p_bits,
               0 if coef is None else be.pointer(coef), float64_bits(max_norm or 0.0), kind, coef is not None,
               be._block(n, 1024))
        return out if coef is None else (out, coef)

    def scale_(self, tensors, coef):
        """Multiply every gradient by the 0-d device tensor ``coef`` (of their dtype)."""
        from ...backends import cuda as be
        work, (work_p, addrs_p), device, dtype, acc = self._table(tensors)
        if work.shape[0]:
            launch(scale_kernel, (work.shape[0],), work_p, addrs_p, be.pointer(coef), dtype, acc,
                   _block(work))
        for t in tensors:
            t._bump_version()
