"""Joining: cat, stack, hstack, vstack, dstack, column_stack (and atleast_1d/2d/3d, their
shape rule).

Everything is one backend primitive, ``cat`` (each input copied into its slice of a
new tensor, cast to the promoted dtype). ``stack`` is a cat of unsqueezed inputs with
its own node so the graph reads ``StackBackward0`` like torch's.
"""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._autocast import autocast_call, state as _amp
from ._common import backend, common_device, wrap_dim
from ._registry import export
from .creation import new_empty, with_out
from .views import unsqueezed_geometry


def _cat_raw(tensors, dim):
    """New tensor: ``tensors`` (already checked) joined along ``dim``."""
    device = common_device(*tensors)
    result_dtype = _promoted(tensors)
    parts = [t for t in tensors if not _legacy_empty(t)]
    if not parts:
        return new_empty((0,), result_dtype, device)
    shape = list(parts[0]._shape)
    shape[dim] = sum(t._shape[dim] for t in parts)
    out = new_empty(tuple(shape), result_dtype, device)
    if out.numel():
        backend(out).cat(out, parts, dim)
    return out


class _Cat(Function):
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.sizes = [None if _legacy_empty(t) else t._shape[dim] for t in tensors]  # None: skipped
        ctx.dim = dim
        return _cat_raw(tensors, dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [None], 0
        for i, n in enumerate(ctx.sizes):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
            elif n is None:  # a skipped (0,) input: an empty gradient of its own shape
                grads.append(grad.new_zeros(0))
            else:
                grads.append(grad.narrow(ctx.dim, start, n))
            start += n or 0
        return tuple(grads)


class _Stack(Function):
    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        into = getattr(backend(tensors[0]), "stack", None)
        if into is None:  # cat of the inputs unsqueezed at dim
            return _cat_raw([Tensor._make(t._storage, *unsqueezed_geometry(t, dim), t._offset, t.dtype)
                             for t in tensors], dim)
        device = common_device(*tensors)
        shape = tensors[0]._shape
        out = new_empty(shape[:dim] + (len(tensors),) + shape[dim:], _promoted(tensors), device)
        if out.numel():
            into(out, tensors, dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(grad.select(ctx.dim, i) if need else None
                               for i, need in enumerate(ctx.needs_input_grad[1:]))


def _promoted(tensors):
    """The dtype all ``tensors`` promote to."""
    result = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not result:
            result = dt.promote_types(result, t.dtype)
    return result


def _legacy_empty(t):
    """torch skips 1-D empty tensors in cat, whatever the other shapes (backward compatibility)."""
    return t.dim() == 1 and t._shape[0] == 0


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def _check_cat(tensors, dim):
    """Wrap ``dim`` and check shapes like torch (RuntimeError; IndexError for the dim)."""
    for i, t in enumerate(tensors):
        if t.dim() == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    parts = [(i, t) for i, t in enumerate(tensors) if not _legacy_empty(t)]
    if not parts:  # only skipped (0,) tensors: torch returns an empty one, whatever the dim
        return 0
    ref = parts[0][1]
    dim = wrap_dim(dim, ref.dim())
    for i, t in parts:
        if t.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
        for d in range(ref.dim()):
            if d != dim and t._shape[d] != ref._shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{ref._shape[d]} but got size {t._shape[d]} for tensor number {i} in "
                                   "the list.")
    return dim


@export(method=False, aliases=("concat", "concatenate"))
@with_out(castable=True, no_overlap=True)
def cat(tensors, dim=0):
    if _amp.on:
        return autocast_call("cat", cat, tensors, dim)
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return _Cat.apply(_check_cat(tensors, dim), *tensors)


@export(method=False)
@with_out(no_overlap=True)
def stack(tensors, dim=0):
    if _amp.on:
        return autocast_call("stack", stack, tensors, dim)
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t._shape != ref._shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref._shape)} at "
                               f"entry 0 and {list(t._shape)} at entry {i}")
    return _Stack.apply(wrap_dim(dim, ref.dim() + 1), *tensors)


def _at_least(tensors, name, ndim):
    """Inputs raised to ``ndim`` dims the way torch's atleast_{1,2,3}d does it."""
    return [_raise_dims(t, ndim) for t in _tensor_list(tensors, name)]


def _raise_dims(t, ndim):
    if t.dim() >= ndim:
        return t
    if t.dim() == 0:
        return t.reshape((1,) * ndim)
    if ndim == 2:
        return t.unsqueeze(0)
    return t.unsqueeze(0).unsqueeze(-1) if t.dim() == 1 else t.unsqueeze(-1)


def _atleast(ndim):
    def op(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], Tensor):
            return _raise_dims(tensors[0], ndim)
        if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
            tensors = tensors[0]
        return tuple(_at_least(tensors, f"atleast_{ndim}d", ndim))
    op.__name__ = op.__qualname__ = f"atleast_{ndim}d"
    op.__doc__ = f"torch.atleast_{ndim}d: the input (or a tuple of the inputs) with at least {ndim} dims."
    return export(op, method=False)


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


@export(method=False)
@with_out(castable=True, no_overlap=True)
def hstack(tensors):
    tensors = _at_least(tensors, "hstack", 1)
    return cat(tensors, 0 if tensors and tensors[0].dim() == 1 else 1)


@export(method=False, aliases=("row_stack",))
@with_out(castable=True, no_overlap=True)
def vstack(tensors):
    return cat(_at_least(tensors, "vstack", 2), 0)


@export(method=False)
@with_out(castable=True, no_overlap=True)
def dstack(tensors):
    return cat(_at_least(tensors, "dstack", 3), 2)


@export(method=False)
@with_out(castable=True, no_overlap=True)
def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.dim() <= 1 else t for t in _tensor_list(tensors, "column_stack")])
