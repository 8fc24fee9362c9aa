"""Input checks on the device: a kernel that finds bad input records it in the device's error
word (``backends/cuda_errors.py``), raised at the next call that waits for the device."""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def record_first(word, idx, bad, values, n, code):
    """Store ``code`` and the value at the first index of ``idx`` where ``bad`` holds (if any)
    in the error word ``word``, unless an earlier launch stored one (the first error is the one
    reported; only a program that found something reads the word). Programs of one launch
    that find one race to store theirs: any is a true one."""
    first = tl.min(tl.where(bad, idx, n), 0)
    found = first < n
    found = found & (tl.load(word, mask=found, other=1) == 0)
    tl.store(word + 1, tl.sum(tl.where(idx == first, values, 0), 0), mask=found)
    tl.store(word, tl.full([], 0, tl.int64) + code, mask=found)  # code: a constexpr or an int argument


@triton.jit
def report_kernel(bad, values, n, word, code, HAS_VALUES: tl.constexpr, BLOCK: tl.constexpr):
    """Record ``code`` if any of the ``n`` flags in ``bad`` is set, with the flagged element of
    ``values`` (int64, same layout). Memory pattern: one contiguous block per program."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = offs < n
    hit = tl.load(bad + offs, mask=in_range, other=0) != 0
    if HAS_VALUES:
        v = tl.load(values + offs, mask=hit, other=0).to(tl.int64)
    else:
        v = tl.full([BLOCK], 0, tl.int64)
    record_first(word, offs, hit, v, n, code)


@triton.jit
def range_kernel(values, n, lo, hi, word, code, BLOCK: tl.constexpr):
    """Record ``code`` with the first of the ``n`` (contiguous) ``values`` outside [lo, hi)."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = offs < n
    v = tl.load(values + offs, mask=in_range, other=lo).to(tl.int64)
    record_first(word, offs, in_range & ((v < lo) | (v >= hi)), v, n, code)
