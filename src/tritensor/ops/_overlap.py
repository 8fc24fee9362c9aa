"""torch's memory-overlap rules for ops that write into an existing tensor.

An in-place or ``out=`` op whose output shares memory with one of its inputs would read
elements it has already written, in an order no kernel promises (``x[1:].add_(x[:-1])``
would become a running sum on one device and something else on another). torch refuses
such calls (aten/src/ATen/MemoryOverlap.cpp), and so does tritensor, with torch's messages:
an output with an expanded dim (several elements at one address), or an input that overlaps
the output without being exactly it. Exact overlap (``x.add_(x)``) is fine: each element
then reads only itself. Layouts too involved to judge cheaply (neither dense nor expanded)
pass, as in torch.
"""
from __future__ import annotations

from ..tensor import Tensor

_INTERNAL = ("unsupported operation: more than one element of the written-to tensor refers to a single "
             "memory location. Please clone() the tensor before performing the operation.")
_SHARED = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
           "single memory location. Please clone() the tensor before performing the operation.")


def is_non_overlapping_and_dense(t: Tensor) -> bool:
    """Whether ``t``'s elements tile a block of memory exactly once, in some dim order."""
    dims = sorted((st, sz) for sz, st in zip(t._shape, t._stride) if sz >= 2)
    expected = 1
    for stride, size in dims:
        if stride != expected:
            return False
        expected *= size
    return True


def has_internal_overlap(t: Tensor) -> bool:
    """Whether two elements of ``t`` surely share an address: a dim of size > 1 with stride 0."""
    for size, stride in zip(t._shape, t._stride):
        if stride == 0 and size > 1:
            return True
    return False


def overlap(a: Tensor, b: Tensor):
    """"full" (the same elements in the same layout), "partial", or None (disjoint, or a
    layout too involved to tell: torch's TOO_HARD)."""
    if a is b:
        return "full"
    if a._storage is not b._storage or not a.numel() or not b.numel():
        return None
    if not (is_non_overlapping_and_dense(a) and is_non_overlapping_and_dense(b)):
        return None
    a_start, a_end = _byte_range(a)
    b_start, b_end = _byte_range(b)
    if a_start == b_start and a_end == b_end:
        return "full" if a._stride == b._stride else "partial"
    return "partial" if a_start < b_end and b_start < a_end else None


def _byte_range(t: Tensor):
    start = t._offset * t.dtype.itemsize
    return start, start + t.numel() * t.dtype.itemsize


def check_writable(out: Tensor) -> None:
    """torch's assert_no_internal_overlap: refuse to write into an expanded tensor."""
    if 0 in out._stride and has_internal_overlap(out):
        raise RuntimeError(_INTERNAL)


def check_inplace_overlap(out: Tensor, inputs) -> None:
    """An elementwise write into ``out`` reading ``inputs`` (tensors or scalars): ``out``
    must not be expanded, and an input sharing its memory must be exactly ``out``."""
    check_writable(out)
    storage = out._storage
    for x in inputs:
        if isinstance(x, Tensor) and x._storage is storage and overlap(out, x) == "partial":
            raise RuntimeError(_SHARED)


def check_no_overlap(out: Tensor, inputs) -> None:
    """A write into ``out`` that is not elementwise (cat, index_copy_ ...): no input may share
    any of its memory, not even all of it (torch's assert_no_overlap)."""
    storage = out._storage
    for x in inputs:
        if isinstance(x, Tensor) and x._storage is storage and overlap(out, x) is not None:
            raise RuntimeError(_SHARED)
