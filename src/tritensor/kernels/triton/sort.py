"""Sorting Triton kernels: a stable argsort of every row, in blocks and then merges.

Every element becomes a (key, index) pair. The key is an integer whose signed order is the
sort order: float bits with the magnitude bits flipped for negatives, -0.0 read as 0.0 and
every NaN as the largest key (NaN sorts last, as in torch), bitwise-negated for descending order.
Ties are broken by the index, so the order is stable and one strict total order serves
every step.

``sort_blocks_kernel``: a program loads ``BLOCK`` elements of each of ``ROWS`` rows (strided,
read in place) into registers, sorts the pairs of every row with a bitonic network and writes
them to contiguous scratch rows. ``merge_kernel``: merges neighbouring sorted runs of ``RUN``
elements; each element finds its place by a binary search in the other run (its rank there
plus its rank in its own run), so a merge is one fully parallel pass. Rows longer than one
block take log2(R / BLOCK) merge passes.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .elementwise import _offsets


@triton.jit
def _sort_key(v, descending, KEY: tl.constexpr, IS_FLOAT: tl.constexpr):
    """An integer of type KEY whose order is the sort order of ``v``."""
    if IS_FLOAT:
        # chosen among integers: LLVM may fold a float select of NaN back to ``v`` (NaN signs
        # are unspecified there), so a negative NaN would sort first on a GPU
        largest = (1 << (KEY.primitive_bitwidth - 1)) - 1
        bits = tl.where(v == 0, 0, v.to(KEY, bitcast=True))
        key = tl.where(bits < 0, bits ^ largest, bits)
        key = tl.where(v != v, largest, key)
    else:
        key = v.to(KEY)
    return tl.where(descending, ~key, key)


@triton.jit
def _before(key_a, idx_a, key_b, idx_b):
    """Whether the pair (key_a, idx_a) sorts before (key_b, idx_b)."""
    return (key_a < key_b) | ((key_a == key_b) & (idx_a < idx_b))


@triton.jit
def _pair_halves(x, shape: tl.constexpr):
    """Each element's pair (lower, upper member) for a step whose pairs are ``shape[3]`` apart.

    Viewed as [ROWS, outer, 2, DIST], axis 2 holds the two members of each pair: each is
    extracted by a masked sum (exact for integers) and broadcast back to both members."""
    side = tl.arange(0, 2)[None, None, :, None]
    x4 = tl.reshape(x, shape)
    lo = tl.reshape(tl.broadcast_to(tl.sum(x4 * (1 - side), 2)[:, :, None, :], shape), x.shape)
    hi = tl.reshape(tl.broadcast_to(tl.sum(x4 * side, 2)[:, :, None, :], shape), x.shape)
    return lo, hi


@triton.jit
def _compare_swap(key, idx, pos, DIST_LOG: tl.constexpr, RUN_LOG: tl.constexpr, ROWS: tl.constexpr,
                  N_LOG: tl.constexpr):
    """One bitonic step on [ROWS, 2**N_LOG] pairs: elements ``DIST`` apart in a row swap when
    out of order; runs of 2**RUN_LOG alternate ascending and descending so that the next stage
    merges bitonic sequences."""
    shape: tl.constexpr = [ROWS, 1 << (N_LOG - DIST_LOG - 1), 2, 1 << DIST_LOG]
    k_lo, k_hi = _pair_halves(key, shape)
    i_lo, i_hi = _pair_halves(idx, shape)
    descending_run = ((pos >> RUN_LOG) & 1) == 1
    swap = _before(k_hi, i_hi, k_lo, i_lo) != descending_run
    key = tl.where(swap, key ^ k_lo ^ k_hi, key)
    idx = tl.where(swap, idx ^ i_lo ^ i_hi, idx)
    return key, idx


@triton.jit
def sort_blocks_kernel(keys, idx_out, x, K, R, kshape, xk, xr, descending, KEY: tl.constexpr,
                       VALUE: tl.constexpr, IS_FLOAT: tl.constexpr, KDIM: tl.constexpr, ROWS: tl.constexpr,
                       N_LOG: tl.constexpr):
    """Sort block ``program_id(1)`` of ``ROWS`` rows (from ``program_id(0) * ROWS``) into
    scratch rows of length R: short rows are sorted many to a program."""
    BLOCK: tl.constexpr = 1 << N_LOG
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    pos = tl.arange(0, BLOCK)
    cols = tl.program_id(1).to(tl.int64) * BLOCK + pos
    mask = (rows < K)[:, None] & (cols < R)[None, :]
    base = _offsets(rows, kshape, xk, KDIM)
    v = tl.load(x + base[:, None] + cols[None, :] * xr, mask=mask, other=0).to(VALUE)  # 16-bit, bool: widened
    key = _sort_key(v, descending, KEY, IS_FLOAT)
    # padding sorts last: the largest key, and indices past every real one
    key = tl.where(mask, key, (1 << (KEY.primitive_bitwidth - 1)) - 1)
    idx = tl.broadcast_to(cols[None, :], [ROWS, BLOCK])
    # stage s sorts runs of 2**s, alternately ascending and descending (the last: the whole
    # block, ascending), by steps DIST = 2**(s-1) ... 1
    for stage in tl.static_range(1, N_LOG + 1):
        for step in tl.static_range(stage):
            key, idx = _compare_swap(key, idx, pos[None, :], stage - 1 - step, stage, ROWS, N_LOG)
    out = rows[:, None] * R + cols[None, :]
    tl.store(keys + out, key, mask=mask)
    tl.store(idx_out + out, idx, mask=mask)


@triton.jit
def merge_kernel(keys_in, idx_in, keys_out, idx_out, R, RUN, SEARCH_STEPS, BLOCK: tl.constexpr):
    """Merge sorted runs ``2j`` and ``2j + 1`` (each RUN long, the last may be shorter) of every
    scratch row: an element's place is its rank in its run plus the number of elements of the
    other run that sort before it (a binary search there)."""
    row = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < R
    base = row * R
    key = tl.load(keys_in + base + cols, mask=mask)
    idx = tl.load(idx_in + base + cols, mask=mask)
    run = cols // RUN
    other = (run ^ 1) * RUN
    lo = tl.zeros_like(cols)
    hi = tl.minimum(tl.maximum(R - other, 0), RUN)
    for _ in range(SEARCH_STEPS):
        active = lo < hi
        mid = (lo + hi) // 2
        k_mid = tl.load(keys_in + base + other + mid, mask=mask & active)
        i_mid = tl.load(idx_in + base + other + mid, mask=mask & active)
        earlier = _before(k_mid, i_mid, key, idx)
        lo = tl.where(active & earlier, mid + 1, lo)
        hi = tl.where(active & ~earlier, mid, hi)
    dest = base + (run & ~1) * RUN + (cols - run * RUN) + lo
    tl.store(keys_out + dest, key, mask=mask)
    tl.store(idx_out + dest, idx, mask=mask)
