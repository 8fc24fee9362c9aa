"""Input checks on the device: a kernel that finds bad input records it in the device's error
word (``backends/cuda_errors.py``), raised at the next call that waits for the device."""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def record_first(word, idx, bad, values, n, code):
    """Store ``code`` and the value at the first index of ``idx`` where ``bad`` holds (if any)
    in the error word ``word``. Programs that find one race to store theirs: any is a true one."""
    first = tl.min(tl.where(bad, idx, n), 0)
    found = first < n
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
