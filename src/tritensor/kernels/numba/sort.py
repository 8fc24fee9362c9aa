"""Sorting CPU kernels: a stable argsort of each row of a 2-D view, its first k alone, and
the element at one position of that order (kthvalue, median) without sorting.

Numba's merge sort is stable, orders NaN after every number (torch's order) and treats -0.0
and 0.0 as equal. Descending order reuses it on the reversed row: reversing the row and then
the result keeps equal elements in their original order and puts NaN first, as torch does.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def argsort_rows(indices, x, descending):
    """``indices[i]`` = the positions that sort ``x[i]`` (rows of equal length)."""
    n = x.shape[1]
    for i in range(x.shape[0]):
        if descending:
            order = np.argsort(x[i, ::-1], kind="mergesort")
            for j in range(n):
                indices[i, j] = n - 1 - order[n - 1 - j]
        else:
            indices[i] = np.argsort(x[i], kind="mergesort")


@numba.njit(cache=True, nogil=True, inline="always")
def _better(a, b, largest):
    """Whether ``a`` comes strictly before ``b`` (NaN is the largest value)."""
    if largest:
        return a > b or (a != a and b == b)
    return a < b or (b != b and a == a)


#: up to this k a row's first k are selected in one pass (O(n) for most data, O(n k) at
#: worst); a larger k sorts the row
SELECT_MAX = 64


@numba.njit(cache=True, nogil=True)
def topk_rows(indices, x, k, largest):
    """``indices[i]`` = the positions of the k first values of ``x[i]`` in sorted order (the
    largest first, or the smallest): the stable sort's first k. A small k is found in one
    pass that keeps them in a sorted buffer (a later equal value never displaces an earlier
    one)."""
    n = x.shape[1]
    if k > SELECT_MAX:
        order = np.empty((1, n), np.int64)
        for i in range(x.shape[0]):
            argsort_rows(order, x[i:i + 1], largest)
            indices[i] = order[0, :k]
        return
    best = np.empty(k, x.dtype)
    for i in range(x.shape[0]):
        count = 0
        for j in range(n):
            v = x[i, j]
            if count == k and not _better(v, best[k - 1], largest):
                continue
            slot = count if count < k else k - 1
            while slot > 0 and _better(v, best[slot - 1], largest):
                best[slot] = best[slot - 1]
                indices[i, slot] = indices[i, slot - 1]
                slot -= 1
            best[slot] = v
            indices[i, slot] = j
            if count < k:
                count += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _nth_equal(row, v, nth):
    """The position of the ``nth`` (from 0) element of ``row`` equal to ``v`` (NaN: the nth NaN)."""
    for j in range(row.shape[0]):
        if row[j] == v or (v != v and row[j] != row[j]):
            if nth == 0:
                return j
            nth -= 1
    return -1


@numba.njit(cache=True, nogil=True)
def select_rows(indices, x, positions):
    """``indices[i, 0]`` = the element at ``positions[i]`` of the stable ascending order of
    ``x[i]`` (kthvalue, median), in linear expected time instead of a sort: the value there
    by quickselect over the row's numbers (NaN sorts last), then, as the stable order ranks
    equal values by position, the (p - count below it)-th occurrence of that value."""
    n = x.shape[1]
    numbers = np.empty(n, x.dtype)
    for i in range(x.shape[0]):
        row = x[i]
        p = positions[i]
        m = 0
        for j in range(n):
            numbers[m] = row[j]
            m += row[j] == row[j]
        if p >= m:
            indices[i, 0] = _nth_equal(row, np.nan, p - m)
            continue
        v = np.partition(numbers[:m], p)[p]
        below = 0
        for j in range(m):
            below += numbers[j] < v
        indices[i, 0] = _nth_equal(row, v, p - below)


# ---------------------------------------------------------------- radix sort
#: rows at least this long are radix-sorted: a pass per byte of the key whatever the order
#: (four for 32-bit values, eight for 64-bit ones, fewer where a byte is the same throughout:
#: small integers), against merge sort's log2(n) passes (1M int64 in [0, 1024): 300 -> ~20 ms)
RADIX_MIN = 2048


#: how ``radix_argsort_rows`` reads its unsigned words: as they are, as two's complement
#: integers, or as IEEE floats
UNSIGNED, SIGNED, FLOAT = 0, 1, 2


def key_words(x):
    """``x`` (2-D) as ``radix_argsort_rows`` reads it: unsigned words (uint32, or uint64 for
    64-bit values), the ``kind`` of number they hold, the sign bit and +inf's bits (floats)."""
    if x.dtype.kind != "f" and x.dtype.itemsize < 4:  # small integers widen to 32 bits, keeping their value
        x = x.astype(np.uint32 if x.dtype.kind == "u" else np.int32)
    unsigned = np.uint64 if x.dtype.itemsize == 8 else np.uint32
    top = unsigned(1 << (8 * x.dtype.itemsize - 1))
    if x.dtype.kind == "f":
        return x.view(unsigned), FLOAT, top, np.array(np.inf, x.dtype).view(unsigned)[()]
    return x.view(unsigned), (UNSIGNED if x.dtype.kind == "u" else SIGNED), top, unsigned(0)


@numba.njit(cache=True, nogil=True, inline="always")
def _sortable(word, kind, top, infinity, descending):
    """The unsigned key whose order is the sort order of the number in ``word``: float bits
    with the sign bit set for positives and every bit flipped for negatives, -0.0 read as 0.0
    and every NaN as one positive quiet NaN (the largest); integers offset into unsigned
    order. Descending order flips every bit."""
    if kind == FLOAT:
        magnitude = word & ~top
        if magnitude > infinity:  # a NaN, whatever its sign and payload
            word = infinity | (infinity >> 1)
        elif magnitude == 0:  # -0.0
            word = magnitude
        key = ~word if word & top else word | top
    elif kind == SIGNED:
        key = word ^ top
    else:
        key = word
    return ~key if descending else key


@numba.njit(cache=True, nogil=True)
def radix_argsort_rows(indices, words, kind, top, infinity, descending):
    """``indices[i]``: the stable order of the numbers in ``words[i]`` (``key_words``), by a
    least-significant-byte first radix sort of their keys. The pass that computes the keys
    also counts every byte's digits; a byte that is the same for the whole row needs no pass
    (small integers: two of eight)."""
    n, width = words.shape[1], words.itemsize
    key, key_next = np.empty(n, words.dtype), np.empty(n, words.dtype)
    idx, idx_next = np.empty(n, np.int64), np.empty(n, np.int64)
    counts = np.empty((width, 256), np.int64)
    for i in range(words.shape[0]):
        counts[:] = 0
        row = words[i]
        for j in range(n):
            idx[j] = j
            k = _sortable(row[j], kind, top, infinity, descending)
            key[j] = k
            for b in range(width):
                counts[b, (k >> (8 * b)) & 255] += 1
        for b in range(width):
            count = counts[b]
            if count.max() == n:
                continue
            total = 0
            for d in range(256):
                c = count[d]
                count[d] = total
                total += c
            shift = 8 * b
            for j in range(n):
                d = (key[j] >> shift) & 255
                p = count[d]
                count[d] = p + 1
                key_next[p] = key[j]
                idx_next[p] = idx[j]
            key, key_next = key_next, key
            idx, idx_next = idx_next, idx
        indices[i] = idx
