"""Random numbers on the device: Philox-4x32-10 counters turned into samples in a kernel.

Element ``i`` of a draw (in row-major order of the output's shape) takes the four 32-bit
words of ``philox(counter=offset + i, key=seed)``: the result depends on (seed, offset)
and the element's index only, never on block sizes or the output's strides, and a draw
of n elements consumes counters ``offset .. offset + n - 1`` (the Generator then advances
its offset by n). Philox rounds are written here with ``tl.umulhi`` (a builtin) because
triton's own ``tl.rand``/``tl.philox`` are ``@jit`` functions that interpret only if
TRITON_INTERPRET was set before triton's import (see matmul.py's header).

Each distribution is a ``@triton.jit`` function of the four words and two parameters,
passed to one generic kernel as a constexpr (as ``elementwise_kernel`` takes its op):

- uniform(a, b): ``a + (b - a) * u`` with ``u = k * 2**-DIGITS`` from the top DIGITS bits
  (DIGITS = the output dtype's mantissa digits: 53 from two words for float64), exact in
  the output dtype, so rand's values are < 1 even after rounding to fp16/bf16.
- normal(mean, std): Box-Muller, ``sqrt(-2 log u1) * cos(2 pi u2)`` in the compute dtype
  (fp32, or fp64 for float64), u1 in (0, 1] with 32 (53) bits: |z| reaches 6.7 (8.6) sigma.
- exponential(lambd): ``-log(u) / lambd``, u in (0, 1] as for u1, log clamped to at most
  -eps/2 of the output dtype as torch's CUDA kernel does, so the result is never 0.
- bernoulli(p): ``u < p`` with a 32-bit u compared in float64.
- integer(low, range): ``low + floor(x * range / 2**128)`` for the 128-bit x of all four
  words (range 0 means 2**64): the bias is below range / 2**128 for any range, where the
  usual ``x % range`` of 64 bits is badly skewed for ranges near 2**63.

Float parameters travel as the int64 bits of their float64 value (Triton passes Python
floats as fp32), like elementwise.py's scalars. Scalar arguments are read with ``tl.cast``,
not ``.to``: an integer argument equal to 1 arrives as a constexpr on a GPU.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .elementwise import _offsets, cast_to

# ``tl.constexpr(...)`` instances: a compiled kernel reads no other globals (annotated
# ``X: tl.constexpr = ...`` ones fail to compile). Keep them right of tensor operands: in the
# interpreter ``constexpr * tensor`` stays a constexpr.
PI2 = tl.constexpr(6.283185307179586)
ROUND_A = tl.constexpr(0xD2511F53)
ROUND_B = tl.constexpr(0xCD9E8D57)
KEY_A = tl.constexpr(0x9E3779B9)
KEY_B = tl.constexpr(0xBB67AE85)


@triton.jit
def philox(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 (Salmon et al., SC'11) of counter (c0..c3) under key (k0, k1), uint32."""
    for _ in tl.static_range(10):
        a = c0
        c = c2
        c0 = tl.umulhi(c, ROUND_B) ^ c1 ^ k0
        c2 = tl.umulhi(a, ROUND_A) ^ c3 ^ k1
        c1 = c * ROUND_B
        c3 = a * ROUND_A
        k0 = k0 + KEY_A
        k1 = k1 + KEY_B
    return c0, c1, c2, c3


@triton.jit
def _u64(hi, lo):
    return (hi.to(tl.uint64) << 32) | lo.to(tl.uint64)


@triton.jit
def _unit(r0, r1, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    """k * 2**-DIGITS in [0, 1) from the top DIGITS bits of r0 (and r1 when DIGITS > 32)."""
    if DIGITS > 32:
        k = _u64(r0, r1) >> (64 - DIGITS)
    else:
        k = r0 >> (32 - DIGITS)
    return k.to(tl.int64).to(COMPUTE) * (0.5 ** DIGITS)


@triton.jit
def _open_unit(r0, r1, COMPUTE: tl.constexpr):
    """u in (0, 1] at the compute precision, with 32 (fp32) or 53 (fp64) bits of resolution
    near 0: the normal's and exponential's tails come from there."""
    if COMPUTE == tl.float64:
        k = _u64(r0, r1) >> 11
        return (k.to(tl.int64).to(tl.float64) + 1.0) * (0.5 ** 53)
    else:
        return (r0.to(tl.int64).to(tl.float32) + 1.0) * (0.5 ** 32)


@triton.jit
def _param(bits, COMPUTE: tl.constexpr):
    """A float parameter from its float64 bits."""
    return tl.cast(tl.cast(bits, tl.int64), tl.float64, bitcast=True).to(COMPUTE)


@triton.jit
def uniform(r0, r1, r2, r3, a, b, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    lo = _param(a, COMPUTE)
    return lo + (_param(b, COMPUTE) - lo) * _unit(r0, r1, COMPUTE, DIGITS)


@triton.jit
def normal(r0, r1, r2, r3, a, b, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    # Box-Muller at the compute precision whatever the output's DIGITS (a 16-bit output
    # still gets an fp32 sample, rounded once)
    radius = tl.sqrt(-2.0 * tl.log(_open_unit(r0, r1, COMPUTE)))
    if COMPUTE == tl.float64:
        angle = _unit(r2, r3, COMPUTE, 53)
    else:
        angle = _unit(r2, r3, COMPUTE, 24)
    return _param(a, COMPUTE) + _param(b, COMPUTE) * (radius * tl.cos(angle * PI2))


@triton.jit
def exponential(r0, r1, r2, r3, a, b, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    u = _open_unit(r0, r1, COMPUTE)
    half_eps = 0.5 ** DIGITS  # half the output dtype's epsilon, as in torch's CUDA kernel
    log = tl.where(u >= 1.0 - half_eps, -half_eps, tl.log(u))
    return -log / _param(a, COMPUTE)


@triton.jit
def bernoulli(r0, r1, r2, r3, a, b, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    u = r0.to(tl.int64).to(tl.float64) * (0.5 ** 32)
    return (u < _param(a, tl.float64)).to(tl.int8)


@triton.jit
def integer(r0, r1, r2, r3, a, b, COMPUTE: tl.constexpr, DIGITS: tl.constexpr):
    hi = _u64(r0, r1)
    lo = _u64(r2, r3)
    span = tl.cast(b, tl.int64).to(tl.uint64)
    part = hi * span
    carry = ((part + tl.umulhi(lo, span)) < part).to(tl.uint64)
    q = tl.where(span == 0, hi, tl.umulhi(hi, span) + carry)
    return (tl.cast(a, tl.int64).to(tl.uint64) + q).to(tl.int64)


DISTRIBUTIONS = {"uniform": uniform, "normal": normal, "exponential": exponential, "bernoulli": bernoulli,
                 "integer": integer}


@triton.jit
def _words(seed, offset, idx):
    """The four Philox words of element ``idx`` (int64) under the generator's (seed, offset)."""
    key = tl.cast(seed, tl.int64).to(tl.uint64)
    k0 = (key & 0xFFFFFFFF).to(tl.uint32)
    k1 = (key >> 32).to(tl.uint32)
    ctr = (idx + offset).to(tl.uint64)
    zero = (idx * 0).to(tl.uint32)
    return philox((ctr & 0xFFFFFFFF).to(tl.uint32), (ctr >> 32).to(tl.uint32), zero, zero,
                  k0 + zero, k1 + zero)


@triton.jit
def random_kernel(out, n, shape, so, seed, offset, a, b, DIST: tl.constexpr, COMPUTE: tl.constexpr,
                  DIGITS: tl.constexpr, NDIM: tl.constexpr, CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    idx = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    r0, r1, r2, r3 = _words(seed, offset, idx)
    r = DIST(r0, r1, r2, r3, a, b, COMPUTE, DIGITS)
    if CONTIG:
        dst = out + idx
    else:
        dst = out + _offsets(idx, shape, so, NDIM)
    tl.store(dst, cast_to(r, out.dtype.element_ty), mask=mask)


@triton.jit
def dropout_kernel(out, keep, x, n, seed, offset, p_keep, scale, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    """out = x * keep * scale (NaN stays NaN, as in torch) and the bool mask ``keep``
    (u < p_keep with a 24-bit u), in one pass over contiguous x."""
    idx = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    r0, r1, r2, r3 = _words(seed, offset, idx)
    kept = _unit(r0, r1, tl.float32, 24) < p_keep
    v = tl.load(x + idx, mask=mask).to(COMPUTE)
    tl.store(out + idx, cast_to(v * (kept.to(COMPUTE) * _param(scale, COMPUTE)), out.dtype.element_ty),
             mask=mask)
    tl.store(keep + idx, kept, mask=mask)
