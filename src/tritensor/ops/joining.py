"""Joining: cat, stack, hstack, vstack, dstack, column_stack."""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import backend, common_device, wrap_dim
from ._registry import export
from .creation import new_empty


class _Cat(Function):
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.sizes = [t._shape[dim] if t.dim() else 0 for t in tensors]
        ctx.dim = dim
        device = common_device(*tensors)
        result_dtype = dt.result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype
        parts = [t for t in tensors if not _legacy_empty(t)]
        if not parts:
            return new_empty((0,), result_dtype, device)
        ref = parts[0]
        shape = list(ref._shape)
        shape[dim] = 0
        for i, t in enumerate(parts):
            if t.dim() != ref.dim():
                raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
            for d in range(ref.dim()):
                if d != dim and t._shape[d] != ref._shape[d]:
                    raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                       f"{ref._shape[d]} but got size {t._shape[d]} for tensor number {i} in "
                                       "the list.")
            shape[dim] += t._shape[dim]
        out = new_empty(tuple(shape), result_dtype, device)
        if out.numel():
            backend(out).cat(out, parts, dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        grads, start = [None], 0
        for i, n in enumerate(ctx.sizes):
            grads.append(grad.narrow(ctx.dim, start, n) if ctx.needs_input_grad[i + 1] and n else
                         (grad.narrow(ctx.dim, start, 0) if ctx.needs_input_grad[i + 1] else None))
            start += n
        return tuple(grads)


def _legacy_empty(t):
    # torch skips 1-D empty tensors in cat for backward compatibility
    return t.dim() == 1 and t._shape[0] == 0


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return tensors


@export(method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "cat")
    ref = next((t for t in tensors if not _legacy_empty(t)), tensors[0])
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.dim())
    return _Cat.apply(d, *tensors)


@export(method=False)
def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "stack")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref.shape)} at "
                               f"entry 0 and {list(t.shape)} at entry {i}")
    d = wrap_dim(dim, ref.dim() + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


@export(method=False)
def hstack(tensors):
    tensors = [t if t.dim() else t.reshape(1) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


@export(method=False, aliases=("row_stack",))
def vstack(tensors):
    return cat([t.reshape(1, -1) if t.dim() < 2 else t for t in _tensor_list(tensors, "vstack")], 0)


@export(method=False)
def dstack(tensors):
    out = []
    for t in _tensor_list(tensors, "dstack"):
        if t.dim() == 0:
            t = t.reshape(1, 1, 1)
        elif t.dim() == 1:
            t = t.reshape(1, -1, 1)
        elif t.dim() == 2:
            t = t.unsqueeze(-1)
        out.append(t)
    return cat(out, 2)


@export(method=False)
def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.dim() <= 1 else t for t in _tensor_list(tensors, "column_stack")])
