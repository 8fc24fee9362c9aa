"""The layout of a new result that follows its inputs, as torch chooses it.

torch gives ``x.t() * 2`` the strides of ``x.t()`` (a transposed result), not contiguous ones:
an elementwise output (TensorIterator) and a preserve-format copy (``clone``, ``to``,
``empty_like``) follow the memory order of their inputs, so code written for channels-last or
transposed tensors keeps their layout, and every operand is read in order. The rule: operands
that are all tensors of the output's shape and contiguous give a contiguous output; dense ones
with equal strides give those strides; otherwise the dims are ordered by the operands' strides,
the first operand deciding and later ones breaking its ties (a broadcast dim, stride 0, decides
nothing), and the output is packed in that order.
"""
from __future__ import annotations

from ..tensor import Tensor, _contiguous_strides
from ._overlap import is_non_overlapping_and_dense


def elementwise_strides(shape, operands):
    """Strides of a new elementwise result of ``shape`` over ``operands`` (tensors and Python
    scalars, which torch wraps into 0-d tensors: they too keep it off the fast set-up), or
    None for contiguous ones."""
    if len(shape) < 2:
        return None
    tensors = [x for x in operands if isinstance(x, Tensor)]
    if 0 not in shape and all(t._stride == _contiguous_strides(t._shape) for t in tensors):
        # operands with row-major strides (size-1 dims' included) never order a pair of dims
        # otherwise: the common case, decided without the sort
        return None
    if len(tensors) == len(operands) and all(t._shape == shape for t in tensors):  # torch's fast set-up
        if all(t.is_contiguous() for t in tensors):
            return None
        first = tensors[0]._stride
        if all(t._stride == first for t in tensors) and is_non_overlapping_and_dense(tensors[0]):
            return first
    return _packed(shape, tensors, empty_sizes_count=True)


def dense_strides(t: Tensor):
    """Strides of a preserve-format copy of ``t`` (torch's ``empty_like``): its own when it is
    dense, else packed in its dim order; None for contiguous ones."""
    if t.is_contiguous():
        return None
    if is_non_overlapping_and_dense(t):
        return t._stride
    return _packed(t._shape, [t], empty_sizes_count=False)


def _packed(shape, tensors, empty_sizes_count):
    """Packed strides of ``shape`` in the dim order the tensors' strides give, or None for the
    default (row-major) order. TensorIterator multiplies every size into the next stride, a
    size 0 included (``empty_sizes_count``); ``empty_like`` skips sizes below 2."""
    ndim = len(shape)
    stride_sets = []
    for t in tensors:
        lead = ndim - len(t._shape)
        stride_sets.append([0 if i < lead or (t._shape[i - lead] == 1 and shape[i] != 1)  # broadcast
                            else t._stride[i - lead] for i in range(ndim)])

    def order(d0, d1):
        """1: dim d0 is slower in memory than d1; -1: faster; 0: no tensor tells."""
        for strides in stride_sets:
            s0, s1 = strides[d0], strides[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    default = list(range(ndim - 1, -1, -1))  # fastest dim first
    perm = list(default)
    for i in range(1, ndim):  # insertion sort that leaves ambiguous pairs in place, as torch's
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = order(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    if perm == default:
        return None
    strides = [0] * ndim
    step = 1
    for d in perm:
        strides[d] = step
        if empty_sizes_count or shape[d] > 1:
            step *= shape[d]
    return tuple(strides)
