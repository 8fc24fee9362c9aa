"""The gather/scatter family: gather, scatter(_add/_reduce), index_select/add/copy/fill, take, put.

Each maps onto one of two backend walks, *take along a dim* or *put along a dim*; the
ones that write (scatter, index_add, put ...) run in place or on a copy via ``_Mutating``.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._autocast import autocast_call, state as _amp
from ._common import backend, broadcast_shapes, wrap_dim
from ._overlap import check_no_overlap, check_writable
from ._indexing_common import (_INT_INDEX, _Mutating, _as_vector, _cast, _check_bounds, _check_index_dtype,
                               _clone, _flat_view, _run, _vec)
from ._registry import export, method
from .creation import check_fill_value, full, new_empty, ones_like, with_out, zeros, zeros_like
from .elementwise import _torch_name, check_inplace, not_implemented_for, where


# ------------------------------------------------------------------ gather / scatter
def _check_same_rank(self, index, what):
    if max(index.dim(), 1) != max(self.dim(), 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")


class _Gather(Function):
    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        out = new_empty(index._shape, x.dtype, x.device)
        backend(x).gather(_vec(out), _vec(x), dim, _vec(index))
        ctx.meta = (x._shape, dim)
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dim = ctx.meta
        (index,) = ctx.saved_tensors
        return zeros(shape, dtype=grad.dtype, device=grad.device).scatter_add(dim, index, grad), None, None


@export
@with_out(no_overlap=True)
def gather(input, dim, index, *, sparse_grad=False):
    _check_index_dtype(index, _INT_INDEX, RuntimeError, "gather(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, input.dim())
    _check_same_rank(input, index, "input")
    for d in range(index.dim()):
        if d != dim and index._shape[d] > input._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index._shape)} "
                               f"to be no larger than self {list(input._shape)} apart from dimension {dim}")
    _check_bounds(index, _vec(input)._shape[dim], dim)
    return _Gather.apply(input, dim, index)


@export
@with_out(no_overlap=True)
def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: gather along ``dim`` after broadcasting ``input`` and ``indices``
    against each other everywhere but ``dim`` (``dim=None``: of the flattened input)."""
    if input.device != indices.device:
        raise RuntimeError("torch.take_along_dim(): Expected all tensors to be on the same device, but "
                           f"found at least two devices, {input.device} and {indices.device}!")
    if dim is None:
        return input.view(-1).gather(0, indices.view(-1))
    if input.dim() != indices.dim():
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {input.dim()} dimensions for input, and {indices.dim()} "
                           "dimensions for indices")
    if indices.dtype is not dt.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_torch_name(indices.dtype)}")
    if input.dim() == 0:  # gather's rule: a 0-d tensor has no dim to take along
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, input.dim())
    shape = broadcast_shapes(input._shape[:d] + indices._shape[d:d + 1] + input._shape[d + 1:],
                             indices._shape)
    indices = indices.expand(shape)
    shape = broadcast_shapes(shape[:d] + input._shape[d:d + 1] + shape[d + 1:], input._shape)
    return input.expand(shape).gather(d, indices)


class _Scatter(_Mutating):
    """scatter with a src tensor (ScatterBackward0); subclasses: scalar value, reduce, scatter_add."""

    node_name = "ScatterBackward0"

    @staticmethod
    def write(ctx, out, dim, index, src, reduce):
        src = _vec(src) if isinstance(src, Tensor) else src
        backend(out).scatter(_vec(out), dim, _vec(index), src, reduce)
        ctx.dim = dim
        ctx.save_for_backward(index)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_src = grad.gather(ctx.dim, index) if ctx.needs_input_grad[3] else None
        return grad.scatter(ctx.dim, index, 0), None, None, grad_src, None


class _ScatterValue(_Scatter):
    node_name = "ScatterBackward1"


class _ScatterAdd(_Scatter):
    node_name = "ScatterAddBackward0"

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_src = grad.gather(ctx.dim, index) if ctx.needs_input_grad[3] else None
        return grad, None, None, grad_src, None


class _ScatterReduce(_Scatter):
    node_name = "NotImplemented"

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::scatter is not implemented")


def _scatter_entry(name, input, dim, index, src, reduce, inplace, cls=None):
    _check_index_dtype(index, _INT_INDEX, RuntimeError, f"{name}(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, input.dim())
    _check_same_rank(input, index, "self")
    is_tensor = isinstance(src, Tensor)
    _check_scatter_sizes(input, dim, index, src)
    if is_tensor and src.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    _check_reduce_kernel(input, reduce)
    _check_bounds(index, _vec(input)._shape[dim], dim)
    if cls is None:
        cls = _ScatterReduce if reduce else (_Scatter if is_tensor else _ScatterValue)
    return _run(cls, input, dim, index, src, reduce, inplace=inplace)


def _check_scatter_sizes(input, dim, index, src):
    is_tensor = isinstance(src, Tensor)
    for d in range(index.dim()):
        too_big = is_tensor and index._shape[d] > _vec(src)._shape[d]
        if (d != dim and index._shape[d] > input._shape[d]) or too_big:
            extra = f" and to be no larger size than src {list(src._shape)}" if is_tensor else ""
            raise RuntimeError(f"Expected index {list(index._shape)} to be no larger than self "
                               f"{list(input._shape)} apart from dimension {dim}{extra}")


def _scatter_src(src, value):
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    return value if src is None else src


@export
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    return _scatter_entry("scatter", input, dim, index, _scatter_src(src, value), reduce, False)


@method
def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return _scatter_entry("scatter", self, dim, index, _scatter_src(src, value), reduce, True)


@export
def scatter_add(input, dim, index, src):
    if _amp.on:
        return autocast_call("scatter_add", scatter_add, input, dim, index, src)
    return _scatter_entry("scatter_add", input, dim, index, src, "add", False, _ScatterAdd)


@method
def scatter_add_(self, dim, index, src):
    return _scatter_entry("scatter_add", self, dim, index, src, "add", True, _ScatterAdd)


_REDUCTIONS = {"sum": "add", "prod": "multiply", "mean": "add", "amax": "amax", "amin": "amin"}


def _reduce_identity(reduce, dtype):
    """What positions start from when ``include_self=False``."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype is dt.bool:
        return reduce == "amin"
    if dtype.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    info = np.iinfo(dtype.storage_np)
    return int(info.min) if reduce == "amax" else int(info.max)


class _ScatterReduceTwo(Function):
    """torch.scatter_reduce (the two-argument-reduction API): sum/prod/mean/amax/amin."""

    node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, self, dim, index, src, reduce, include_self, inplace=False):
        out = self if inplace else _clone(self)
        original = _clone(self) if inplace and any(ctx.needs_input_grad) else self
        o, i = _vec(out), _vec(index)
        if not include_self:
            backend(out).scatter(o, dim, i, _reduce_identity(reduce, out.dtype))
        backend(out).scatter(o, dim, i, _vec(src), _REDUCTIONS[reduce])
        if reduce == "mean":
            _divide_by_counts(out, dim, index, include_self)
        out = _Mutating.finish(ctx, self, out, inplace)
        ctx.meta = (dim, reduce, include_self)
        ctx.save_for_backward(index, original, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        dim, reduce, include_self = ctx.meta
        index, self, src, result = ctx.saved_tensors
        grad_self, grad_src = _scatter_reduce_grads(grad, dim, index, self, src, result, reduce, include_self)
        if not include_self:
            grad_self = grad_self.scatter(dim, index, 0)
        return grad_self, None, None, grad_src, None, None


def _divide_by_counts(out, dim, index, include_self):
    """mean: divide each position by how many values reduced into it (floor division for integers)."""
    counts = full(out._shape, 1 if include_self else 0, dtype=dt.int64, device=out.device)
    backend(out).scatter(_vec(counts), dim, _vec(index), 1, "add")
    counts = counts.clamp_min(1)
    mean = out / counts if out.is_floating_point() else out.div(counts, rounding_mode="floor")
    backend(out).copy_(out, mean)


def _scatter_reduce_grads(grad, dim, index, self, src, result, reduce, include_self):
    """torch's scatter_reduce_backward, in differentiable ops."""
    if reduce == "sum":
        return grad, grad.gather(dim, index)
    if reduce == "mean":
        n = (ones_like(grad) if include_self else zeros_like(grad)).scatter_add(dim, index, ones_like(src))
        n = n.masked_fill(n == 0, 1)
        return grad / n, grad.gather(dim, index) / n.gather(dim, index)
    if reduce == "prod":
        masked_self = self.masked_fill(self == 0, 1)
        grad_self = grad * masked_self.scatter_reduce(dim, index, src, reduce, include_self=include_self) / \
            masked_self
        src_zero = src == 0
        zeros_per_slot = zeros_like(self).scatter_add(dim, index, src_zero.to(self.dtype)).gather(dim, index)
        single_zero = src_zero & (zeros_per_slot == 1)
        masked_src_result = self.scatter_reduce(dim, index, src.masked_fill(single_zero, 1), reduce,
                                                include_self=include_self)
        grad_src = where(single_zero, (grad * masked_src_result).gather(dim, index),
                         (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1))
        return grad_self, grad_src
    value = result.gather(dim, index)  # amax / amin: ties share the gradient evenly
    self_is_result = (self == result).to(grad.dtype)
    src_is_result = (src == value).to(grad.dtype)
    share = grad / self_is_result.scatter_add(dim, index, src_is_result)
    return self_is_result * share, src_is_result * share.gather(dim, index)


def _check_reduce_kernel(input, reduce):
    """The backend's refusal of a reduction it has no kernel for (multiply on 'cuda'), raised
    before anything is launched."""
    check = getattr(backend(input), "check_put_reduce", None)
    if check is not None:
        check(reduce)


def _scatter_reduce_entry(input, dim, index, src, reduce, include_self, inplace):
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _check_index_dtype(index, _INT_INDEX, RuntimeError,
                       "scatter_reduce(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, input.dim())
    _check_same_rank(input, index, "self")
    _check_scatter_sizes(input, dim, index, src)
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce == "mean" and input.dtype is dt.bool:  # no mean of booleans, as in torch
        raise not_implemented_for("scatter_gather_tensor_cpu_reduce_mean", input.dtype)
    _check_reduce_kernel(input, _REDUCTIONS[reduce])
    _check_bounds(index, _vec(input)._shape[dim], dim)
    if inplace:
        check_inplace(input)
        check_writable(input)
        check_no_overlap(input, (index, src))
    return _ScatterReduceTwo.apply(input, dim, index, src, reduce, bool(include_self), inplace=inplace)


@export
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce_entry(input, dim, index, src, reduce, include_self, False)


@method
def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce_entry(self, dim, index, src, reduce, include_self, True)


# ------------------------------------------------------------------ index_select / index_add / copy / fill
def _check_vector(index, exc, message):
    if index.dim() > 1:
        raise exc(message.format(dim=index.dim(), type=_torch_name(index.dtype), size=list(index._shape)))


class _IndexSelect(Function):
    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        shape = list(x._shape)
        if shape:
            shape[dim] = index.numel()
        out = new_empty(tuple(shape), x.dtype, x.device)
        backend(x).index_select(_vec(out), _vec(x), dim, index)
        ctx.meta = (x._shape, dim)
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dim = ctx.meta
        (index,) = ctx.saved_tensors
        # in place on the fresh zeros: index_add would copy them first
        return zeros(shape, dtype=grad.dtype, device=grad.device).index_add_(dim, index, grad), None, None


@export
@with_out(no_overlap=True)
def index_select(input, dim, index):
    _check_vector(index, IndexError, "index_select(): Index is supposed to be a vector")
    _check_index_dtype(index, _INT_INDEX, RuntimeError,
                       "index_select(): Expected dtype int32 or int64 for index")
    dim = wrap_dim(dim, input.dim())
    if input.dim() == 0 and index.numel() != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index.numel()} "
                           "value(s)")
    if dim == 1:  # torch's dim-1 kernel reports differently (the same bounds: one check)
        _check_bounds(index, input._shape[dim], dim,
                      message="INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    else:
        _check_bounds(index, _vec(input)._shape[dim], dim, IndexError, message="index out of range in self")
    return _IndexSelect.apply(input, dim, index)


def _check_source_slices(name, self, dim, index, source):
    src = source._shape or (1,)
    n = src[dim] if dim < len(src) else 1
    if index.numel() != n:
        raise RuntimeError(f"{name}(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {dim}")
    if len(src) != max(self.dim(), 1) or any(d != dim and self._shape[d] != src[d]
                                              for d in range(self.dim())):
        _raise_slices_mismatch(self, source)


def _raise_slices_mismatch(self, source):
    raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified "
                       f"dimension. Got self.shape = {list(self._shape)} "
                       f"source.shape = {list(source._shape)}")


class _IndexAdd(_Mutating):
    node_name = "IndexAddBackward0"

    @staticmethod
    def write(ctx, out, dim, index, source, alpha):
        src = source if alpha == 1 else _cast(source * alpha, source.dtype)
        backend(out).index_scatter(_vec(out), dim, index, _vec(src), "add")
        ctx.meta = (dim, alpha, source._shape)
        ctx.save_for_backward(index)

    @staticmethod
    def backward(ctx, grad):
        dim, alpha, shape = ctx.meta
        (index,) = ctx.saved_tensors
        g = _as_vector(grad).index_select(dim, index).reshape(shape)
        return grad, None, None, (g if alpha == 1 else g * alpha), None


def _index_add_entry(self, dim, index, source, alpha, inplace):
    dim = wrap_dim(dim, self.dim())
    _check_vector(index, IndexError,
                  "index_add_(): Index is supposed to be a vector, but got dim: {dim} with type: {type} and "
                  "size: {size}")
    _check_index_dtype(index, _INT_INDEX, RuntimeError, "index_add_(): Expected dtype int32/int64 for index")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"index_add_(): self ({_torch_name(self.dtype)}) and source "
                           f"({_torch_name(source.dtype)}) must have the same scalar type")
    if source.dim() != self.dim():  # index_add_ takes no 0-d source for a 1-d self (index_copy_ does)
        _raise_slices_mismatch(self, source)
    _check_source_slices("index_add_", self, dim, index, source)
    if self.dim() > 1 and dim in (0, self.dim() - 1):
        # torch 2.13's CPU kernel reports by its scatter_add path for an outer or inner dim
        # (whatever the strides: probed over 2-4-d and permuted layouts), IndexError otherwise
        _check_bounds(index, _vec(self)._shape[dim], dim)
    else:
        _check_bounds(index, _vec(self)._shape[dim], dim, IndexError, message="index out of range in self")
    return _run(_IndexAdd, self, dim, index, source, alpha, inplace=inplace)


@export
def index_add(input, dim, index, source, *, alpha=1):
    return _index_add_entry(input, dim, index, source, alpha, False)


@method
def index_add_(self, dim, index, source, *, alpha=1):
    return _index_add_entry(self, dim, index, source, alpha, True)


class _IndexCopy(_Mutating):
    node_name = "IndexCopyBackward0"

    @staticmethod
    def write(ctx, out, dim, index, source):
        backend(out).index_scatter(_vec(out), dim, index, _vec(source))
        ctx.dim = dim
        ctx.source_shape = source._shape
        ctx.save_for_backward(index)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        g = _as_vector(grad).index_select(ctx.dim, index).reshape(ctx.source_shape)
        return grad.index_fill(ctx.dim, index, 0), None, None, g


def _index_copy_entry(self, dim, index, source, inplace):
    dim = wrap_dim(dim, self.dim())
    if index.dim() > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.dim()})")
    _check_index_dtype(index, (dt.int64,), RuntimeError,
                       "index_copy_(): Expected a long tensor for index, but got {name}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_torch_name(self.dtype)} and (source) {_torch_name(source.dtype)}")
    _check_source_slices("index_copy_", self, dim, index, source)
    _check_bounds(index, _vec(self)._shape[dim], dim, IndexError,
                  message="index_copy_(): index {bad} is out of bounds for dimension {dim} with size {size}")
    return _run(_IndexCopy, self, dim, index, source, inplace=inplace)


@export
def index_copy(input, dim, index, source):
    if _amp.on:
        return autocast_call("index_copy", index_copy, input, dim, index, source)
    return _index_copy_entry(input, dim, index, source, False)


@method
def index_copy_(self, dim, index, source):
    return _index_copy_entry(self, dim, index, source, True)


class _IndexFill(_Mutating):
    node_name = "IndexFillBackward0"
    refuses_expanded = False  # torch fills an expanded self (deprecated, with a warning)

    @staticmethod
    def write(ctx, out, dim, index, value):
        value = value.item() if isinstance(value, Tensor) else value
        backend(out).index_scatter(_vec(out), dim, index, value)
        ctx.dim = dim
        ctx.save_for_backward(index)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return grad.index_fill(ctx.dim, index, 0), None, None, None


class _IndexFillTensor(_IndexFill):
    node_name = "IndexFillBackward1"

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        value_grad = _as_vector(grad).index_select(ctx.dim, index).sum()
        return grad.index_fill(ctx.dim, index, 0), None, None, value_grad


def _index_fill_entry(self, dim, index, value, inplace):
    dim = wrap_dim(dim, self.dim())
    _check_index_dtype(index, (dt.int64,), IndexError, "index_fill_(): Expected dtype int64 for index.")
    if index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.dim()} dimension(s).")
    _check_bounds(index, _vec(self)._shape[dim], dim, IndexError, negative=True)
    check_fill_value(value.item() if isinstance(value, Tensor) else value, self.dtype)
    cls = _IndexFillTensor if isinstance(value, Tensor) else _IndexFill
    return _run(cls, self, dim, index, value, inplace=inplace)


@export
def index_fill(input, dim, index, value):
    return _index_fill_entry(input, dim, index, value, False)


@method
def index_fill_(self, dim, index, value):
    return _index_fill_entry(self, dim, index, value, True)


# ------------------------------------------------------------------ take / put
def _check_long(index, name):
    _check_index_dtype(index, (dt.int64,), RuntimeError,
                       name + "(): Expected a long tensor for index, but got {name}")


def _check_take_bounds(index, numel):
    _check_bounds(index, numel, 0, IndexError, negative=True,
                  message="out of range: tried to access index {bad} on a tensor of {size} elements.")


class _Take(Function):
    node_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, x, index):
        out = new_empty(index._shape, x.dtype, x.device)
        src = x if x.is_contiguous() else _clone(x)
        backend(x).take(out, _flat_view(src), index)
        ctx.shape = x._shape
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return zeros(ctx.shape, dtype=grad.dtype, device=grad.device).put(index, grad, accumulate=True), None


@export
def take(input, index):
    _check_long(index, "take")
    _check_take_bounds(index, input.numel())
    return _Take.apply(input, index)


class _Put(_Mutating):
    node_name = "PutBackward0"

    @staticmethod
    def write(ctx, out, index, source, accumulate):
        target = out if out.is_contiguous() else _clone(out)
        src = source if source._shape == index._shape else source.reshape(index._shape)
        backend(out).put(_flat_view(target), index, src, accumulate)
        if target is not out:
            backend(out).copy_(out, target)
        ctx.meta = (accumulate, source._shape)
        ctx.save_for_backward(index)

    @staticmethod
    def backward(ctx, grad):
        accumulate, shape = ctx.meta
        (index,) = ctx.saved_tensors
        grad_self = grad if accumulate else \
            grad.put(index, zeros(shape, dtype=grad.dtype, device=grad.device))
        return grad_self, None, grad.take(index).reshape(shape), None


def _put_entry(self, index, source, accumulate, inplace):
    _check_long(index, "put_")
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_torch_name(self.dtype)} and source.dtype = {_torch_name(source.dtype)}")
    _check_take_bounds(index, self.numel())
    return _run(_Put, self, index, source, accumulate, inplace=inplace)


@export
def put(input, index, source, accumulate=False):
    return _put_entry(input, index, source, accumulate, False)


@method
def put_(self, index, source, accumulate=False):
    return _put_entry(self, index, source, accumulate, True)
