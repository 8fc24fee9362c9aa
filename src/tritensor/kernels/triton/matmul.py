"""Batched matrix multiply: one tiled kernel for mm, bmm, matmul and addmm, plus its tiles.

Each program computes a ``BLOCK_M x BLOCK_N`` tile of one batch entry (and one K slice
when split-K is on), walking K in ``BLOCK_K`` steps (at least 16, the smallest legal
``tl.dot`` K for 16-bit inputs) and accumulating in fp32 (fp64 for float64, int64 for
integers). Operands are read in place through their strides, so transposed inputs need no
copy. Tiles are visited in ``GROUP_M``-row groups (the Triton tutorial's swizzle) so that
neighbouring programs share A rows and B columns in L2.

fp32 products use ``PRECISION`` = ``'ieee'`` (exact fp32 products), ``'tf32'`` or
``'tf32x3'`` (three TF32 products: about fp32 accuracy at tensor-core speed), as
``tritensor.backends.cuda.matmul`` asks. float64 (on a GPU) and integer products
accumulate outer products on the CUDA cores instead of ``tl.dot``.

The epilogue (``alpha * acc + beta * bias``, the cast, the store) runs in the same kernel,
which is how ``addmm`` avoids a second pass. Split-K writes fp32 (ACC) partials instead and
``splitk_kernel`` sums them in a fixed order and runs the same epilogue: deterministic,
no atomics.

Kernels here use only ``tl`` builtins and tritensor's own ``@triton.jit`` helpers (not
``tl.sum``/``tl.zeros``/``tl.cdiv``, which triton defines with ``@jit`` at its own import
and so only interpret if TRITON_INTERPRET was set before triton was imported).
"""
from __future__ import annotations

import contextlib
import functools
from typing import NamedTuple

import triton
import triton.language as tl


@triton.jit
def _scalar(x, ACC: tl.constexpr, BITS: tl.constexpr):
    """A host scalar in the accumulator type (float64 scalars travel as int64 bits)."""
    if BITS:
        return tl.cast(tl.cast(x, tl.int64), tl.float64, bitcast=True)
    return tl.cast(x, ACC)


@triton.jit
def _epilogue(acc, out, bias, batch, rm, rn, M, N, sob, som, son, scb, scm, scn, alpha, beta,
              ACC: tl.constexpr, HAS_BIAS: tl.constexpr, SCALE: tl.constexpr, BITS: tl.constexpr):
    """out[batch, rm, rn] = alpha * acc (+ beta * bias), cast to out's dtype."""
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    if SCALE:
        acc = acc * _scalar(alpha, ACC, BITS)
    if HAS_BIAS:
        c = tl.load(bias + batch * scb + rm[:, None] * scm + rn[None, :] * scn, mask=mask, other=0).to(ACC)
        acc += c * _scalar(beta, ACC, BITS)
    dst = out + batch * sob + rm[:, None] * som + rn[None, :] * son
    tl.store(dst, acc.to(out.dtype.element_ty), mask=mask)


@triton.jit
def _tile(pid, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr, BIG: tl.constexpr):
    """Row and column indices of program ``pid``'s tile, grouped ``GROUP_M`` tile rows at a time."""
    grid_m = (M + BLOCK_M - 1) // BLOCK_M
    grid_n = (N + BLOCK_N - 1) // BLOCK_N
    per_group = GROUP_M * grid_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = tl.minimum(grid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    if BIG:  # offsets past 2^31 elements
        rm = rm.to(tl.int64)
        rn = rn.to(tl.int64)
    return rm, rn


@triton.jit
def bmm_kernel(out, a, b, bias, M, N, K, K_SPLIT, sab, sam, sak, sbb, sbk, sbn, sob, som, son, scb, scm, scn,
               alpha, beta,
               ACC: tl.constexpr, USE_DOT: tl.constexpr, PRECISION: tl.constexpr, UPCAST: tl.constexpr,
               HAS_BIAS: tl.constexpr, SCALE: tl.constexpr, BITS: tl.constexpr, PARTIAL: tl.constexpr,
               BIG: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
               GROUP_M: tl.constexpr):
    """One output tile (grid: tiles, batch, K slices). ``PARTIAL``: store the raw
    accumulator of K slice ``program_id(2)`` at out[slice * B + batch] (split-K)."""
    rm, rn = _tile(tl.program_id(0), M, N, BLOCK_M, BLOCK_N, GROUP_M, BIG)
    batch = tl.program_id(1).to(tl.int64)
    k_start = tl.program_id(2) * K_SPLIT
    k_end = tl.minimum(K, k_start + K_SPLIT)
    acc = tl.full([BLOCK_M, BLOCK_N], 0, ACC)
    if USE_DOT:
        rk = tl.arange(0, BLOCK_K)
        a_ptrs = a + batch * sab + rm[:, None] * sam + (k_start + rk[None, :]) * sak
        b_ptrs = b + batch * sbb + (k_start + rk[:, None]) * sbk + rn[None, :] * sbn
        for k0 in range(k_start, k_end, BLOCK_K):
            ka = k0 + rk
            av = tl.load(a_ptrs, mask=(rm[:, None] < M) & (ka[None, :] < k_end), other=0)
            bv = tl.load(b_ptrs, mask=(ka[:, None] < k_end) & (rn[None, :] < N), other=0)
            if UPCAST:  # the interpreter's dot reads bf16 as raw bits
                av = av.to(tl.float32)
                bv = bv.to(tl.float32)
            acc = tl.dot(av, bv, acc, input_precision=PRECISION, out_dtype=ACC)
            a_ptrs += BLOCK_K * sak
            b_ptrs += BLOCK_K * sbk
    else:
        # outer products, one k at a time: float64 on GPUs, integers everywhere
        a_col = a + batch * sab + rm * sam
        b_row = b + batch * sbb + rn * sbn
        for k in range(k_start, k_end):
            av = tl.load(a_col + k * sak, mask=rm < M, other=0).to(ACC)
            bv = tl.load(b_row + k * sbk, mask=rn < N, other=0).to(ACC)
            if ACC == tl.float64 or ACC == tl.float32:  # one rounding per step, as BLAS (kernels
                acc = tl.fma(av[:, None], bv[None, :], acc)  # compile without contraction)
            else:
                acc += av[:, None] * bv[None, :]
    if PARTIAL:
        nb = tl.num_programs(1).to(tl.int64)
        _epilogue(acc, out, bias, tl.program_id(2) * nb + batch, rm, rn, M, N, sob, som, son, 0, 0, 0, alpha,
                  beta, ACC, False, False, False)
    else:
        _epilogue(acc, out, bias, batch, rm, rn, M, N, sob, som, son, scb, scm, scn, alpha, beta, ACC,
                  HAS_BIAS, SCALE, BITS)


@triton.jit
def splitk_kernel(out, partials, bias, M, N, SPLITS, sob, som, son, scb, scm, scn, alpha, beta,
                  ACC: tl.constexpr, HAS_BIAS: tl.constexpr, SCALE: tl.constexpr, BITS: tl.constexpr,
                  BIG: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """out = epilogue(sum over slices of partials[slice, batch]), slices added in order."""
    rm, rn = _tile(tl.program_id(0), M, N, BLOCK_M, BLOCK_N, 1, BIG)
    batch = tl.program_id(1).to(tl.int64)
    nb = tl.num_programs(1).to(tl.int64)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    offs = rm[:, None] * N + rn[None, :]
    acc = tl.full([BLOCK_M, BLOCK_N], 0, ACC)
    for s in range(0, SPLITS):
        acc += tl.load(partials + (s * nb + batch) * M * N + offs, mask=mask, other=0)
    _epilogue(acc, out, bias, batch, rm, rn, M, N, sob, som, son, scb, scm, scn, alpha, beta, ACC, HAS_BIAS,
              SCALE, BITS)


# ------------------------------------------------------------------ tiles (host side)
class Tile(NamedTuple):
    """A launch configuration: block sizes, K slices (split-K), and Triton's compile options."""

    shape_class: str
    block_m: int
    block_n: int
    block_k: int
    group_m: int = 8
    splits: int = 1
    num_warps: int = 4
    num_stages: int = 3


#: the interpreter runs each program as a Python loop over numpy blocks: few, big programs
INTERPRETER_TILE = Tile("interpreter", 64, 64, 64, 1)

#: (shape class, kind) -> Tile. kind: 'mma' (16-bit and tf32 tensor cores), 'tf32x3', 'ieee'
#: (fp32 FMA), 'cores' (float64 and integer outer products). splits is decided per shape.
_TILES = {
    # measured on an H200 (bench/tile_sweep.py, 4096^3, 2026-11-27): fp16 128x256x64/3 stages
    # 666 TFLOP/s against 582 for 128x128x64/4 (torch 704). tf32 on a K-major B (which
    # backends/cuda._k_major stages; 2026-11-28, `--k-major-b`): 128x256x32/3 stages 350 TFLOP/s
    # against 248 for 256x128x32, the best on the N-major B before the staging (torch 412)
    ("large", "mma"): Tile("large", 128, 256, 64, 8, 1, 8, 3),
    ("large", "tf32"): Tile("large", 128, 256, 32, 8, 1, 8, 3),
    ("large", "tf32x3"): Tile("large", 128, 128, 32, 8, 1, 8, 3),
    ("large", "ieee"): Tile("large", 128, 128, 32, 8, 1, 8, 2),
    ("large", "cores"): Tile("large", 64, 64, 16, 8, 1, 4, 2),
    ("tall", "mma"): Tile("tall", 128, 32, 64, 8, 1, 4, 4),
    ("tall", "tf32"): Tile("tall", 128, 32, 32, 8, 1, 4, 3),
    ("tall", "tf32x3"): Tile("tall", 128, 32, 32, 8, 1, 4, 3),
    ("tall", "ieee"): Tile("tall", 128, 32, 32, 8, 1, 4, 2),
    ("tall", "cores"): Tile("tall", 128, 16, 16, 8, 1, 4, 2),
    ("wide", "mma"): Tile("wide", 32, 128, 64, 1, 1, 4, 4),
    ("wide", "tf32"): Tile("wide", 32, 128, 32, 1, 1, 4, 3),
    ("wide", "tf32x3"): Tile("wide", 32, 128, 32, 1, 1, 4, 3),
    ("wide", "ieee"): Tile("wide", 32, 128, 32, 1, 1, 4, 2),
    ("wide", "cores"): Tile("wide", 16, 128, 16, 1, 1, 4, 2),
    ("small", "mma"): Tile("small", 64, 64, 64, 4, 1, 4, 4),
    ("small", "tf32"): Tile("small", 64, 64, 32, 4, 1, 4, 3),
    ("small", "tf32x3"): Tile("small", 64, 64, 32, 4, 1, 4, 3),
    ("small", "ieee"): Tile("small", 64, 64, 32, 4, 1, 4, 2),
    ("small", "cores"): Tile("small", 32, 32, 16, 4, 1, 4, 2),
}

_forced = None


@contextlib.contextmanager
def force_tile(tile: Tile):
    """Use ``tile`` for every product in the block (tests reach each code path with small shapes)."""
    global _forced
    previous, _forced = _forced, tile
    try:
        yield
    finally:
        _forced = previous


def shape_class(B, M, N, sms) -> str:
    """'small' when 128x128 tiles would leave SMs idle, 'tall'/'wide' for a narrow output
    (a thin side of 64 or less against a long one), else 'large'."""
    if min(M, N) <= 64 and max(M, N) >= 16 * min(M, N):
        return "tall" if M > N else "wide"
    if B * -(-M // 128) * -(-N // 128) < sms:
        return "small"
    return "large"


def choose_tile(B, M, N, K, kind, sms, interpreting) -> Tile:
    """The tile for a (B, M, N, K) product of ``kind`` on a GPU of ``sms`` SMs (cached)."""
    if _forced is not None:
        return _forced
    if interpreting:
        return INTERPRETER_TILE
    return _choose(B, M, N, K, kind, sms)


@functools.lru_cache(maxsize=4096)
def _choose(B, M, N, K, kind, sms) -> Tile:
    tile = _TILES[shape_class(B, M, N, sms), kind]
    tiles = B * -(-M // tile.block_m) * -(-N // tile.block_n)
    # split K when the output tiles fill under half the SMs and each slice keeps 4+ K steps
    if 2 * tiles <= sms and K >= 8 * tile.block_k:
        splits = min(-(-sms // tiles), K // (4 * tile.block_k), 16)
        tile = tile._replace(splits=splits)
    return tile
