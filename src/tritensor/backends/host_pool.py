"""Recycling of large host buffers for CPU storages.

A fresh ``np.empty`` of many MiB is mapped lazily: the first write to each 4 KiB page
faults and the kernel zeroes it. For an eager op on big tensors that costs more than the
op: a 2^24-element float32 add ran in 13 ms into a fresh output and in 8 ms into a reused
one (docs/performance.md). Eager code allocates and drops same-sized temporaries every
step, so a CPU storage of at least ``MIN_BYTES`` hands its buffer back here when it dies,
and the next allocation of the same size class takes it instead of mapping new pages.

A returned buffer is reused only once nothing references it any more: a numpy view the
user got from ``Tensor.numpy()`` keeps its memory alive and private. Views of a buffer
all point at it as their ``base``, so its reference count says whether one is alive; the
check runs when a buffer is taken, by which time a dying tensor's own views are gone.
At most ``LIMIT_BYTES`` wait here; ``empty_cache()`` releases them.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from ..storage import Storage

#: smaller buffers come from malloc's free lists, which already reuse memory
MIN_BYTES = 1 << 20
#: buffers are handed out in multiples of this, so near sizes share one class
GRANULE = 1 << 16


def _limit_bytes() -> int:
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        ram = 8 << 30
    return min(2 << 30, ram // 8)


LIMIT_BYTES = _limit_bytes()

#: references to a returned buffer when nothing outside the pool holds it: its slot in the
#: free list, the loop variable and getrefcount's own argument
_UNREFERENCED = 3


class RecyclingPool:
    """Buffers of dead storages kept by size class for the next allocation of that class.

    A buffer goes back to the pool when its storage dies, but views of it may outlive the
    storage (a numpy array from ``Tensor.numpy()``, an upload still in flight): it is handed
    out again only when its reference count shows that nothing else holds it. At most
    ``limit`` bytes wait; ``clear()`` lets them all go. The CPU's large buffers use one
    (this module), pinned host memory another (``cuda_memory``)."""

    def __init__(self, size_class, make, limit):
        self.size_class = size_class  # bytes -> the size of buffer that serves them
        self.make = make              # size -> a new buffer
        self.limit = limit
        self.free = {}                # size -> returned buffers
        self.held = 0

    def take(self, nbytes: int):
        """A buffer of ``size_class(nbytes)`` bytes: a recycled one if any is free."""
        size = self.size_class(nbytes)
        waiting = self.free.get(size)
        if waiting:
            for i in range(len(waiting) - 1, -1, -1):
                buf = waiting[i]
                if sys.getrefcount(buf) == _UNREFERENCED:
                    del waiting[i]
                    self.held -= size
                    return buf
                del buf
        return self.make(size)

    def give(self, buf, size: int) -> None:
        """Take back a buffer of ``size`` bytes from ``take`` whose storage died."""
        if self.held + size <= self.limit:
            self.free.setdefault(size, []).append(buf)
            self.held += size

    def clear(self) -> None:
        self.free.clear()
        self.held = 0


class PooledStorage(Storage):
    """A CPU storage on a pool buffer (``raw``), which goes back to the pool when it dies."""

    __slots__ = ("raw",)

    def __del__(self):
        try:
            give(self.raw)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def new_storage(nbytes: int, dtype: np.dtype, device) -> PooledStorage:
    """A storage of ``nbytes`` bytes viewed as a flat ``dtype`` array, on a pool buffer."""
    raw = take(nbytes)
    storage = PooledStorage(raw[:nbytes].view(dtype), device)
    storage.raw = raw
    return storage


def size_class(nbytes: int) -> int:
    return -(-nbytes // GRANULE) * GRANULE


POOL = RecyclingPool(size_class, lambda size: np.empty(size, np.uint8), LIMIT_BYTES)


def take(nbytes: int) -> np.ndarray:
    """A raw uint8 buffer of ``size_class(nbytes)`` bytes: a recycled one if any is free."""
    return POOL.take(nbytes)


def give(raw: np.ndarray) -> None:
    """Take back a buffer from ``take`` whose storage died (it may still have live views)."""
    POOL.give(raw, raw.shape[0])


def empty_cache() -> None:
    """Release every buffer waiting for reuse."""
    POOL.clear()


def held_bytes() -> int:
    return POOL.held
