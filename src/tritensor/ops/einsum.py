"""Contractions composed of existing ops: einsum, tensordot, trace, kron, cross.

Each lowers, as in ATen, to views (permute, reshape, diagonal, unsqueeze), ``sum``, ``mul``
and one ``bmm``/``mm`` per pair of operands, so autograd, the products' dtype rules and both
devices come from those ops and there is no kernel here. einsum follows ATen's algorithm
step by step (parse, align every operand to one label order, contract left to right,
summing a label as soon as no later operand has it), so its values, dtypes and errors are
torch's. trace and cross are Functions only to carry torch's node names and short
backward formulas; their forward passes are composites too.
"""
from __future__ import annotations

import string
import warnings

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from . import views
from ._common import broadcast_shapes, wrap_dim, wrap_dims
from ._registry import export
from .creation import resize_out, with_out
from .elementwise import _torch_name
from .joining import cat
from .linalg import bmm, mm
from .reduction import _into

_LETTERS = 26
_ELLIPSIS = 2 * _LETTERS  # the label code of "..."; letters are 0..51, 'A'-'Z' first as in torch


def _code(ch):
    return ord(ch) - ord("A") if ch.isupper() else ord(ch) - ord("a") + _LETTERS


def _letter(code):
    return chr(ord("A") + code) if code < _LETTERS else chr(ord("a") + code - _LETTERS)


# ------------------------------------------------------------------ einsum: arguments and parsing
def _sublist_equation(args):
    """torch's sublist format, einsum(a, [0, 1], b, [1, 2], [0, 2]), as an equation string."""
    def subscripts(sub):
        out = []
        for n in sub:
            if n is Ellipsis:
                out.append("...")
            elif 0 <= n < 2 * _LETTERS:
                out.append(_letter(n))
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range "
                                 "[0, 52)")
        return "".join(out)
    equation = ",".join(subscripts(s) for s in args[1::2])
    if len(args) % 2:
        return equation + "->" + subscripts(args[-1]), args[:-1:2]
    return equation, args[::2]


def _arguments(args):
    if len(args) == 2 and isinstance(args[1], (list, tuple)) and not isinstance(args[0], Tensor):
        args = (args[0], *args[1])  # the old form: einsum(eq, [a, b])
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    equation, operands = _sublist_equation(args) if isinstance(args[0], Tensor) else (args[0], args[1:])
    if not isinstance(equation, str):
        raise TypeError("einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(op).__name__}")
    return equation, operands


def _parse_inputs(lhs, num_ops):
    """Each operand's label codes (``_ELLIPSIS`` for "..."), with torch's checks."""
    labels = [[] for _ in range(num_ops)]
    op, seen_ellipsis, i = 0, False, 0
    while i < len(lhs):
        ch = lhs[i]
        if ch == ".":
            if seen_ellipsis:
                raise RuntimeError(f"einsum(): found '.' for operand {op} for which an ellipsis was already "
                                   "found")
            if lhs[i + 1:i + 3] != "..":
                raise RuntimeError(f"einsum(): found '.' for operand {op} that is not part of any ellipsis")
            labels[op].append(_ELLIPSIS)
            seen_ellipsis, i = True, i + 2
        elif ch == ",":
            op += 1
            if op >= num_ops:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            seen_ellipsis = False
        elif ch in string.ascii_letters:
            labels[op].append(_code(ch))
        elif ch != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        i += 1
    if op != num_ops - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _parse_output(rhs, offset, counts, position, ell_ndim):
    """Place the output's labels first in ``position`` (label -> aligned dim); returns the
    number of output dims and where the ellipsis dims start (None: not in the output)."""
    index, ell_index, i = 0, None, 0
    while i < len(rhs):
        ch = rhs[i]
        if ch == ".":
            if ell_index is not None:
                raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
            if rhs[i + 1:i + 3] != "..":
                raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
            ell_index, index, i = index, index + ell_ndim, i + 2
        elif ch in string.ascii_letters:
            s = _code(ch)
            if counts[s] == 0 or position[s] != -1:
                raise RuntimeError(f"einsum(): output subscript {ch} " + (
                    "appears more than once in the output" if position[s] != -1 else
                    "does not appear in the equation for any input operand"))
            position[s], index = index, index + 1
        elif ch != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
        i += 1
    return index, ell_index


def _align(i, op, labels, position, ndim, ell_index, ell_ndim, sizes, ell_sizes, dim_counts):
    """``op`` as a view with one dim per aligned position (size 1 where it lacks the label),
    its repeated labels reduced to their diagonal; checks and records the label sizes."""
    permutation = [-1] * ndim
    dim, covered = 0, op.dim() - (len(labels) - 1)  # the dims "..." stands for
    for s in labels:
        if s == _ELLIPSIS:
            for j in range(ell_ndim - covered, ell_ndim):
                size = op._shape[dim]
                if size != 1:
                    if ell_sizes[j] not in (1, size):
                        raise RuntimeError(
                            f"einsum(): dimension {dim} covered by ellipsis in operand {i} has size {size} "
                            "which does not broadcast with previously seen ellipsis with size "
                            f"{ell_sizes[j]} for the respective dimension")
                    ell_sizes[j] = size
                    dim_counts[ell_index + j] += 1
                permutation[ell_index + j] = dim
                dim += 1
        elif permutation[position[s]] == -1:
            size = op._shape[dim]
            if size != 1:
                if sizes[s] not in (1, size):
                    raise RuntimeError(f"einsum(): subscript {_letter(s)} has size {size} for operand {i} "
                                       f"which does not broadcast with previously seen size {sizes[s]}")
                sizes[s] = size
                dim_counts[position[s]] += 1
            permutation[position[s]] = dim
            dim += 1
        else:  # a repeated label: keep the diagonal, where the label first appeared
            prev = permutation[position[s]]
            if op._shape[dim] != op._shape[prev]:
                raise RuntimeError(f"einsum(): subscript {_letter(s)} is repeated for operand {i} but the "
                                   f"sizes don't match, {op._shape[dim]} != {op._shape[prev]}")
            op = op.diagonal(0, prev, dim).movedim(-1, prev)
    for k, d in enumerate(permutation):
        if d == -1:
            op = op.unsqueeze(dim)
            permutation[k] = dim
            dim += 1
    return op.permute(permutation)


def _sumproduct_pair(left, right, sum_dims):
    """(left * right).sum(sum_dims, keepdim=True) for aligned operands, as one bmm: the dims
    both have form the batch B, the summed ones K, the others each side's rows/columns."""
    if not sum_dims:
        return left * right
    both, lonly, ronly = [], [], []
    for d in range(left.dim()):
        if d in sum_dims:
            continue
        nl, nr = left._shape[d] != 1, right._shape[d] != 1
        (both if nl and nr else lonly if nl else ronly).append(d)
    size = lambda t, dims: _prod(t._shape[d] for d in dims)  # noqa: E731
    b, m, k, n = size(left, both), size(left, lonly), size(left, sum_dims), size(right, ronly)
    out_size = [left._shape[d] for d in both + lonly] + [1] * len(sum_dims) + [right._shape[d] for d in ronly]
    order = both + lonly + sum_dims + ronly
    left = left.permute(order).reshape(b, m, k)
    right = right.permute(both + sum_dims + ronly + lonly).reshape(b, k, n)
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return bmm(left, right).view(out_size).permute(inverse)


def _prod(values):
    out = 1
    for v in values:
        out *= v
    return out


@export(method=False)
def einsum(*args):
    """torch.einsum: equation or sublist format, ellipsis, implicit output, repeated labels."""
    equation, operands = _arguments(args)
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    op_labels = _parse_inputs(lhs, len(operands))

    counts, ell_ndim = [0] * _ELLIPSIS, 0
    for i, (op, labels) in enumerate(zip(operands, op_labels)):
        has_ellipsis = _ELLIPSIS in labels
        n = len(labels) - has_ellipsis
        for s in labels:
            if s != _ELLIPSIS:
                counts[s] += 1
        if has_ellipsis:
            ell_ndim = max(ell_ndim, op.dim() - n)
        if (n > op.dim()) if has_ellipsis else (n != op.dim()):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) " + (
                f"is more than the number of dimensions ({op.dim()}) for operand {i}" if has_ellipsis else
                f"does not match the number of dimensions ({op.dim()}) for operand {i} and no ellipsis was "
                "given"))

    # the aligned layout: output dims (ellipsis + labels), then the contracted ones
    position = [-1] * _ELLIPSIS
    if arrow < 0:  # implicit output: the ellipsis, then the labels seen once, in order
        ell_index, out_ndim = 0, ell_ndim
        for s in range(_ELLIPSIS):
            if counts[s] == 1:
                position[s], out_ndim = out_ndim, out_ndim + 1
    else:
        out_ndim, ell_index = _parse_output(equation[arrow + 2:], len(lhs) + 2, counts, position, ell_ndim)
    ndim = out_ndim
    if ell_index is None:
        ell_index, ndim = ndim, ndim + ell_ndim
    for s in range(_ELLIPSIS):
        if counts[s] and position[s] == -1:
            position[s], ndim = ndim, ndim + 1

    sizes, ell_sizes, dim_counts = [1] * _ELLIPSIS, [1] * ell_ndim, [0] * ndim
    ops = [_align(i, op, labels, position, ndim, ell_index, ell_ndim, sizes, ell_sizes, dim_counts)
           for i, (op, labels) in enumerate(zip(operands, op_labels))]

    while len(ops) > 1:  # left to right; a label is summed once no later operand has it
        a, b = ops[0], ops[1]
        sum_dims, a_only, b_only = [], [], []
        for d in range(out_ndim, ndim):
            if a._shape[d] != 1 and b._shape[d] != 1:
                dim_counts[d] -= 1
                if dim_counts[d] == 1:
                    sum_dims.append(d)
                    dim_counts[d] = 0
            elif dim_counts[d] == 1:
                if a._shape[d] != 1:
                    a_only.append(d)
                    dim_counts[d] = 0
                elif b._shape[d] != 1:
                    b_only.append(d)
                    dim_counts[d] = 0
        if a_only:
            a = a.sum(a_only, keepdim=True)
        if b_only:
            b = b.sum(b_only, keepdim=True)
        ops = [_sumproduct_pair(a, b, sum_dims)] + ops[2:]

    result = ops[0]
    if ndim > out_ndim:
        if len(operands) > 1:  # the contracted dims are all 1 by now
            return result.view(result._shape[:out_ndim])
        return result.sum(tuple(range(out_ndim, ndim)))
    return result


# ------------------------------------------------------------------ tensordot
def _int_list(dims, name, position):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if not isinstance(dims, (tuple, list)) or not all(isinstance(d, int) for d in dims):
        raise TypeError(f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    return list(dims)


def _tensordot_dims(a, b, dims):
    """torch.functional.tensordot's reading of ``dims``: an int n (the last n dims of a with
    the first n of b), two lists, or a tensor of either."""
    if not isinstance(dims, (tuple, list, Tensor, int)):
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if isinstance(dims, (tuple, list)):
        dims_a, dims_b = dims
    elif isinstance(dims, Tensor) and dims.numel() > 1:
        if dims._shape[0] != 2:
            raise AssertionError(f"dims tensor must have size 2 in first dimension, got {dims._shape[0]}")
        dims_a, dims_b = dims[0].tolist(), dims[1].tolist()
    else:
        n = int(dims.item()) if isinstance(dims, Tensor) else dims
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if not isinstance(dims, Tensor) and n > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-n, 0)), list(range(n))
    return _int_list(dims_a, "dims_self", 3), _int_list(dims_b, "dims_other", 4)


@export(method=False)
def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` of a with those of b as one mm (ATen's tensordot)."""
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    t1, t2, csize = a, b, 1
    for d1, d2 in zip(dims_a, dims_b):
        s1, s2 = a._shape[wrap_dim(d1, a.dim())], b._shape[wrap_dim(d2, b.dim())]
        if s2 == 1:  # a broadcast dim: summed right away
            t1 = t1.sum(d1, keepdim=True, dtype=t1.dtype)  # integers keep their dtype
        elif s1 == 1:
            t2 = t2.sum(d2, keepdim=True, dtype=t2.dtype)
        elif s1 != s2:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {s1} in dim {d1} "
                               f"and second has size {s2} in dim {d2}")
        else:
            csize *= s1
    ca, cb = wrap_dims(dims_a, a.dim()), wrap_dims(dims_b, b.dim())
    keep_a = [d for d in range(a.dim()) if d not in ca]
    keep_b = [d for d in range(b.dim()) if d not in cb]
    t1 = t1.permute(keep_a + list(ca)).reshape(_prod(t1._shape[d] for d in keep_a), csize)
    t2 = t2.permute(list(cb) + keep_b).reshape(csize, _prod(t2._shape[d] for d in keep_b))
    result = mm(t1, t2).reshape([a._shape[d] for d in keep_a] + [b._shape[d] for d in keep_b])
    if out is None:
        return result
    if out.dtype is not result.dtype:
        raise RuntimeError("tensordot: Expected the output tensor to have dtype "
                           f"{_torch_name(result.dtype)}, but got an output tensor with dtype "
                           f"{_torch_name(out.dtype)}")
    resize_out(out, result._shape)
    return out.copy_(result)


# ------------------------------------------------------------------ trace
class _Trace(Function):
    node_name = "TraceBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x._shape
        return views._diagonal_raw(x, 0, 0, 1).sum()

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shape
        return views._ViewScatter.apply(grad.expand(min(shape)), shape,
                                        lambda t: views._diagonal_raw(t, 0, 0, 1))


@export
def trace(input):
    """The sum of a matrix's diagonal; integers sum to int64 as in ``sum``."""
    if input.dtype is dt.bool:  # torch checks the dtype first
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return _Trace.apply(input)


# ------------------------------------------------------------------ kron
@export
def kron(input, other, *, out=None):
    """Kronecker product: each operand viewed with a 1 interleaved after (input) or before
    (other) each dim, one broadcast multiply, then the pairs of dims merged (ATen's way)."""
    nd = max(input.dim(), other.dim())
    sa = (1,) * (nd - input.dim()) + input._shape
    sb = (1,) * (nd - other.dim()) + other._shape
    a = input.reshape([s for x in sa for s in (x, 1)])
    b = other.reshape([s for x in sb for s in (1, x)])
    return _into(out, views.unsafe_view(a * b, tuple(x * y for x, y in zip(sa, sb))))


# ------------------------------------------------------------------ cross
def _cross_raw(a, b, dim):
    a0, a1, a2 = (a.narrow(dim, k, 1) for k in range(3))
    b0, b1, b2 = (b.narrow(dim, k, 1) for k in range(3))
    return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


class _Cross(Function):
    node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.save_for_backward(a, b)
        ctx.dim = dim
        return _cross_raw(a, b, dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (_Cross.apply(b, grad, ctx.dim).sum_to_size(a._shape) if need[0] else None,
                _Cross.apply(grad, a, ctx.dim).sum_to_size(b._shape) if need[1] else None, None)


def linalg_cross(input, other, dim=-1):
    """torch.linalg.cross: the cross product along ``dim`` (size 3), the rest broadcast."""
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, input.dim())
    if input._shape[d] != 3 or other._shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input._shape[d]} "
                           f"and {other._shape[d]}")
    broadcast_shapes(input._shape, other._shape)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(input.dtype)} but found "
                           f"{_torch_name(other.dtype)}")
    if input.dtype is dt.bool:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    return _Cross.apply(input, other, d)


@export
@with_out
def cross(input, other, dim=None):
    """torch.cross; without ``dim``, the first dim of size 3 (deprecated in torch, which warns)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
                      "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
                      "change to agree with that of linalg.cross in a future release.", UserWarning,
                      stacklevel=2)
        dim = next((i for i, s in enumerate(input._shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim)
