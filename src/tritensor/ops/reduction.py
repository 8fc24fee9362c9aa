"""Reductions, scans and softmax, with torch's dtype rules and backward formulas.

A reduction is described by the dims it reduces (a sorted tuple, ``()`` for a 0-d input)
and ``keepdim``; the backend reduces a tensor into a new one with the kept dims. Backward
formulas follow torch's derivatives.yaml and are written in differentiable tensor ops, so
double backward works.
"""
from __future__ import annotations

import builtins
import math
import warnings

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_info import finfo
from ._autocast import autocast_call, state as _amp
from ._common import backend, inplace_by_copy, wrap_dim, wrap_dims
from ._overlap import check_inplace_overlap
from ._registry import export, method
from .creation import arange, new_empty, ones_like, resize_out, zeros, zeros_like
from .elementwise import _torch_name, not_implemented_for, where


class _AllDims:
    """Default ``dim`` of sum/mean: "not given", which torch records differently from None."""

    def __repr__(self):
        return "None"


_ALL = _AllDims()


# ------------------------------------------------------------------ helpers
def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _normalize_dims(x, dim):
    """The sorted dims to reduce: all of them for None or an empty list, as in torch."""
    if dim is None or dim is _ALL or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x.dim()))
    dims = wrap_dims(dim, x.dim())
    return () if x.dim() == 0 else tuple(sorted(dims))


def _count(x, dims):
    n = 1
    for d in dims:
        n *= x._shape[d]
    return n


def _run_reduce(op, x, dims, keepdim, result_dtype, shift=None):
    out = new_empty(_reduced_shape(x._shape, dims, keepdim), result_dtype, x.device)
    backend(x).reduce(op, out, x, dims, shift)
    return out


def _float_acc(dtype):
    """Where a float result is divided before rounding: 16-bit floats use float32, as torch."""
    return dt.float32 if dtype.itemsize == 2 else dtype


def _expand_back(grad, input_shape, dims, keepdim):
    """Broadcast a reduced gradient (or result) back over the reduced dims of the input."""
    if not keepdim and grad._shape:  # a 0-d gradient (full reduction) expands as it is
        for d in dims:
            grad = grad.unsqueeze(d)
    return grad.expand(input_shape)


def _into(out, result):
    """torch's ``out=``: the result copied into ``out``, which must match it."""
    if out is None:
        return result
    if isinstance(out, (tuple, list)):
        parts = [_into(o, r) for o, r in zip(out, result)]
        if isinstance(result, _ValuesIndices):  # keeps its torch.return_types name
            return _ValuesIndices(*parts, result._name)
        return type(result)(*parts)
    if grad_mode.enabled and result.requires_grad:
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if not dt.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_torch_name(result.dtype)} can't be cast to the desired output "
                           f"type {_torch_name(out.dtype)}")
    resize_out(out, result._shape)
    return out.copy_(result)


#: C++ type names, as torch's out= dtype messages print them
_C_TYPES = {dt.float32: "float", dt.float64: "double", dt.float16: "c10::Half", dt.bfloat16: "c10::BFloat16",
            dt.int64: "long int", dt.int32: "int", dt.int16: "short int", dt.int8: "signed char",
            dt.uint8: "unsigned char", dt.bool: "bool"}


def _require_out_dtype(out, want):
    """torch's check of an ``out=`` whose dtype the op fixes (argmax's int64, max's values)."""
    for o, w in zip(out if isinstance(out, (tuple, list)) else (out,), want):
        if o is not None and o.dtype is not w:
            raise RuntimeError(f"Expected out tensor to have dtype {_C_TYPES[w]}, but got "
                               f"{_C_TYPES[o.dtype]} instead")


def _dtype_from_out(dtype, out):
    """sum / prod / mean with ``out=`` compute in out's dtype, as if ``dtype=out.dtype`` (sum of
    [1.5, 2.5] into int64 is 1 + 2); an explicit ``dtype`` must be out's."""
    if out is None:
        return dtype
    if dtype is not None:
        _require_out_dtype(out, (dtype,))
        return dtype
    return out.dtype


def _int_dim(name, dim):
    """Ops reducing exactly one dim take an int, like torch's ``int dim`` overloads."""
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def _check_nonempty(name, x, dims):
    """max-like reductions have no identity: reducing an empty dim is an error."""
    for d in dims:
        if x._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _check_full_nonempty(name, x):
    if x.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")


# ------------------------------------------------------------------ sum / nansum / mean / prod
def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype
    return dt.int64 if not x.dtype.is_floating_point else x.dtype


class _Sum(Function):
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.meta = (x._shape, dims, keepdim)
        return _run_reduce("sum", x, dims, keepdim, dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, *ctx.meta), None, None, None


class _SumAll(_Sum):
    node_name = "SumBackward0"


def _cast_input(input, dtype):
    return input.to(dtype) if dtype is not None and input.dtype is not dtype else input


@export
def sum(input, dim=_ALL, keepdim=False, *, dtype=None, out=None):
    """Sum over ``dim`` (all dims by default); integers and bool sum to int64."""
    if _amp.on:
        return autocast_call("sum", sum, input, dim, keepdim, dtype=dtype, out=out)
    if dim is _ALL and keepdim:
        raise TypeError("sum() received an invalid combination of arguments - got (Tensor, keepdim=bool): "
                        "keepdim needs a dim (the all-dims overload is sum(input, *, dtype=None))")
    dtype = _dtype_from_out(dtype, out)
    result_dtype = _sum_dtype(input, dtype)
    x = _cast_input(input, dtype)
    cls = _SumAll if dim is _ALL else _Sum
    return _into(out, cls.apply(x, _normalize_dims(x, dim), keepdim, result_dtype))


class _NanSum(Function):
    node_name = "NansumBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x)
        return _run_reduce("sum", where(x.isnan(), 0, x), dims, keepdim, dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # torch's grad * (x == x): an infinite gradient (nanmean of all-NaN) gives NaN, not 0
        return _expand_back(grad, *ctx.meta) * x.isnan().logical_not(), None, None, None


@export
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    if not input.dtype.is_floating_point:
        return sum(input, dim, keepdim, dtype=dtype, out=out)
    if dtype is not None and not dtype.is_floating_point:  # NaN is zeroed before the cast, as torch
        input = input.masked_fill(input != input, 0)
    x = _cast_input(input, dtype)
    return _into(out, _NanSum.apply(x, _normalize_dims(x, dim), keepdim, _sum_dtype(input, dtype)))


class _Mean(Function):
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        count = _count(x, dims)
        ctx.meta = (x._shape, dims, keepdim)
        ctx.count = count
        total = _run_reduce("sum", x, dims, keepdim, _float_acc(dtype)).div_(count)
        return total if total.dtype is dtype else total.to(dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, *ctx.meta) / ctx.count, None, None, None


class _MeanAll(_Mean):
    node_name = "MeanBackward0"


@export
def mean(input, dim=_ALL, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean; the dtype must be floating (no integer means, like torch)."""
    if out is not None and (dtype is not None or out.dtype.is_floating_point):
        dtype = _dtype_from_out(dtype, out)  # (an integer out is refused by the cast rule)
    target = dtype or input.dtype
    if not target.is_floating_point:
        what = "Optional dtype" if dtype is not None else "Input dtype"
        raise RuntimeError("mean(): could not infer output dtype. " + what + " must be either a floating "
                           f"point or complex dtype. Got: {_torch_name(target)}")
    # a 16-bit dtype for floats: summed in float32 and rounded once, as torch (not rounded first)
    narrow = dtype in dt.NARROW_FLOATS and input.dtype.is_floating_point
    x = input if narrow else _cast_input(input, dtype)
    cls = _MeanAll if dim is _ALL and not keepdim else _Mean
    return _into(out, cls.apply(x, _normalize_dims(x, dim), keepdim, target))


@export
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the non-NaN elements."""
    if not input.dtype.is_floating_point:
        return mean(input, dim, keepdim, dtype=dtype, out=out)
    counted = input.isnan().logical_not().sum(dim, keepdim=keepdim)
    return _into(out, nansum(input, dim, keepdim, dtype=dtype) / counted)


class _Prod(Function):
    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.meta = (x._shape, dims, keepdim)
        out = _run_reduce("prod", x, dims, keepdim, dtype)
        ctx.save_for_backward(x, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        grad = _expand_back(grad, shape, dims, keepdim)
        # d prod / d x_i is the product of the others: result / x_i without zeros; with any zero
        # (read on the host, as torch does), the products before and after x_i, as torch's
        # prod_safe_zeros_backward, so [0, inf, 2] gives (inf, 0, nan) like torch
        zeros = int((x == 0).sum())
        if not zeros:
            return grad * (_expand_back(out, shape, dims, keepdim) / x), None, None, None
        if cls is _ProdAll and zeros > 1 and not grad_mode.enabled:  # torch's shortcut, inf or not
            return zeros_like(x), None, None, None
        if len(dims) == 1:
            return grad * _product_of_others(x, dims[0]), None, None, None
        return grad * _product_of_others(x.reshape(-1), 0).view(shape), None, None, None


def _product_of_others(x, dim):
    """Along ``dim``, each element's exclusive prefix product times its exclusive suffix product."""
    from .joining import cat  # joining's kernels import this module

    def exclusive(t):
        head = ones_like(t.narrow(dim, 0, 1))
        return cat([head, t.narrow(dim, 0, t.shape[dim] - 1)], dim).cumprod(dim)
    return exclusive(x) * exclusive(x.flip(dim)).flip(dim)


class _ProdAll(_Prod):
    node_name = "ProdBackward0"


@export
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along one ``dim``; integers and bool give int64."""
    if _amp.on:
        return autocast_call("prod", prod, input, dim, keepdim, dtype=dtype, out=out)
    dtype = _dtype_from_out(dtype, out)
    result_dtype = _sum_dtype(input, dtype)
    x = _cast_input(input, dtype)
    if dim is None:
        return _into(out, _ProdAll.apply(x, _normalize_dims(x, None), False, result_dtype))
    return _into(out, _Prod.apply(x, _normalize_dims(x, _int_dim("prod", dim)), keepdim, result_dtype))


# ------------------------------------------------------------------ max / min / amax / amin
class _AMax(Function):
    """amax/amin: the gradient is split evenly among the elements equal to the result."""

    node_name = "AmaxBackward0"
    op = "max"
    nan_ties = False  # max()/min() (evenly_distribute_backward) also count NaN as the extreme

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        out = _run_reduce(cls.op, x, dims, keepdim, x.dtype)
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, out = ctx.saved_tensors
        _, dims, keepdim = ctx.meta
        return share_among_equal(grad, x, out, dims, keepdim, cls.nan_ties), None, None


def share_among_equal(grad, x, result, dims, keepdim, nan_ties):
    """The gradient of a ``result`` picked over ``dims`` of ``x``, shared evenly by the elements
    equal to it. ``nan_ties``: a NaN result is every NaN's (torch's evenly_distribute_backward);
    else a NaN result equals no element and 0 / 0 makes the gradient NaN (scale_grad_by_count)."""
    shape = x._shape
    result = _expand_back(result, shape, dims, keepdim)
    mask = x == result
    if nan_ties:
        mask = mask | (x.isnan() & result.isnan())
    count = _expand_back(mask.sum(dims, keepdim=True), shape, dims, True)
    share = _expand_back(grad, shape, dims, keepdim) / count
    return where(mask, share, 0.0) if nan_ties else share * mask


class _AMin(_AMax):
    node_name = "AminBackward0"
    op = "min"


class _MaxAll(_AMax):
    node_name = "MaxBackward1"
    nan_ties = True


class _MinAll(_AMin):
    node_name = "MinBackward1"
    nan_ties = True


def _full_reduction(dim):
    return dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)


def _extreme(name, cls):
    def op(input, dim=(), keepdim=False, *, out=None):
        if _full_reduction(dim):
            _check_full_nonempty(name, input)
        dims = _normalize_dims(input, dim)
        _check_nonempty(name, input, dims)
        if out is not None and out.dtype is not input.dtype:
            raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                               f"{_torch_name(input.dtype)} for input's dtype and "
                               f"{_torch_name(out.dtype)} for out's dtype.")
        return _into(out, cls.apply(input, dims, keepdim))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: the {'largest' if cls.op == 'max' else 'smallest'} value over ``dim`` " \
                 "(all dims by default); NaN propagates."
    return export(op)


amax = _extreme("amax", _AMax)
amin = _extreme("amin", _AMin)


class _MaxDim(Function):
    """max/min along a dim: (values, indices); the gradient goes to the returned index."""

    node_name = "MaxBackward0"
    op = "argmax"

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        shape = _reduced_shape(x._shape, (dim,), keepdim) if x.dim() else ()
        values = new_empty(shape, x.dtype, x.device)
        indices = new_empty(shape, dt.int64, x.device)
        src = x.reshape(1) if x.dim() == 0 else x
        backend(x).arg_reduce(cls.op, values, indices, src, dim)
        ctx.meta = (x._shape, dim, keepdim)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @classmethod
    def backward(cls, ctx, grad, grad_indices=None):
        (indices,) = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        return _index_backward(grad, indices, shape, dim, keepdim), None, None


class _MinDim(_MaxDim):
    node_name = "MinBackward0"
    op = "argmin"


def _index_backward(grad, indices, shape, dim, keepdim):
    """The gradient of picking ``indices`` along ``dim``: grad there, zero elsewhere."""
    if not shape:
        return grad
    if not keepdim:
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    positions = arange(shape[dim], device=grad.device).reshape(
        tuple(-1 if i == dim else 1 for i in range(len(shape))))
    return where(positions == indices, grad, 0.0)


class _ValuesIndices(tuple):
    """torch.return_types.max/min: a tuple with ``values`` and ``indices`` fields."""

    def __new__(cls, values, indices, name="max"):
        self = tuple.__new__(cls, (values, indices))
        self._name = name
        return self

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _max_min(name, cls_all, cls_dim, binary):
    def op(input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, Tensor):
            return binary(input, dim, out=out)
        if dim is None:
            _check_full_nonempty(name, input)
            return _into(out, cls_all.apply(input, _normalize_dims(input, None), False))
        d = wrap_dim(_int_dim(name, dim), input.dim())
        if input.dim():
            _check_nonempty(name, input, (d,))
        if out is not None:
            _require_out_dtype(out, (input.dtype, dt.int64))
        values, indices = cls_dim.apply(input, d, keepdim)
        result = _ValuesIndices(values, indices, name)
        return _into(out, result)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: over all elements, along ``dim`` as (values, indices), or " \
                 f"elementwise with another tensor."
    return export(op)


def _maximum(a, b, out=None):
    from .elementwise import maximum
    return maximum(a, b, out=out)


def _minimum(a, b, out=None):
    from .elementwise import minimum
    return minimum(a, b, out=out)


max = _max_min("max", _MaxAll, _MaxDim, _maximum)
min = _max_min("min", _MinAll, _MinDim, _minimum)


class _MinMax(tuple):
    """torch.return_types.aminmax: a tuple with ``min`` and ``max`` fields."""

    def __new__(cls, lo, hi):
        return tuple.__new__(cls, (lo, hi))

    min = property(lambda self: self[0])
    max = property(lambda self: self[1])

    def __repr__(self):
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


class _AMinMax(Function):
    """aminmax: the amin and amax reductions; each gradient is split evenly among the elements
    equal to its result (torch's scale_grad_by_count, so a NaN result makes NaN gradients)."""

    node_name = "AminmaxBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        lo = _run_reduce("min", x, dims, keepdim, x.dtype)
        hi = _run_reduce("max", x, dims, keepdim, x.dtype)
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x, lo, hi)
        return lo, hi

    @staticmethod
    def backward(ctx, grad_min, grad_max):
        x, lo, hi = ctx.saved_tensors
        _, dims, keepdim = ctx.meta
        return (share_among_equal(grad_min, x, lo, dims, keepdim, False)
                + share_among_equal(grad_max, x, hi, dims, keepdim, False)), None, None


@export
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """torch.aminmax: (min, max) over all elements or one ``dim``; NaN propagates."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                               "has no identity.")
        dims = _normalize_dims(input, None)
    else:
        dims = _normalize_dims(input, wrap_dim(_int_dim("aminmax", dim), input.dim()))
        if dims and input._shape[dims[0]] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero size.")
    _check_out_dtypes(out, (input.dtype, input.dtype))
    return _into(out, _MinMax(*_AMinMax.apply(input, dims, keepdim)))


def _arg(name):
    def op(input, dim=None, keepdim=False, *, out=None):
        if input.dtype is dt.bool:
            raise RuntimeError(f"{name}(): does not support bool input")
        if dim is None:
            if input.numel() == 0:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            x, d, shape = input.reshape(-1), 0, (1,) * input.dim() if keepdim else ()
        else:
            d = wrap_dim(_int_dim(name, dim), input.dim())
            if input.dim():
                _check_nonempty(name, input, (d,))
            x = input if input.dim() else input.reshape(1)
            shape = _reduced_shape(input._shape, (d,), keepdim) if input.dim() else ()
        if out is not None:
            _require_out_dtype(out, (dt.int64,))
        indices = new_empty(shape, dt.int64, input.device)
        backend(x).arg_reduce(name, None, indices, x, d)
        return _into(out, indices)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: index of the first extreme element (the first NaN if any)."
    return export(op)


argmax = _arg("argmax")
argmin = _arg("argmin")


# ------------------------------------------------------------------ all / any / count_nonzero
def _logical_reduce(name):
    def op(input, dim=None, keepdim=False, *, out=None):
        result_dtype = dt.uint8 if input.dtype is dt.uint8 else dt.bool
        if out is not None:  # computed in out's dtype: bool or uint8 from any input
            if out.dtype not in (dt.bool, dt.uint8):
                raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                                   f"{_torch_name(out.dtype)}")
            result_dtype = out.dtype
        # unlike sum, torch's all/any reduce nothing for an empty dim list
        dims = () if isinstance(dim, (tuple, list)) and not dim else _normalize_dims(input, dim)
        return _into(out, _run_reduce(name, input, dims, keepdim, result_dtype))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: bool (uint8 for uint8 input) reduction of the truth values."
    return export(op)


all = _logical_reduce("all")
any = _logical_reduce("any")


@export
def count_nonzero(input, dim=None):
    return _run_reduce("count_nonzero", input, _normalize_dims(input, dim), False, dt.int64)


# ------------------------------------------------------------------ var / std
class _Var(Function):
    """Variance with ``correction`` (Bessel's by default); std is its square root, and
    var_mean/std_mean return the mean too, from the same node (as torch records them)."""

    node_name = "VarBackward0"
    root = False
    with_mean = False

    @classmethod
    def forward(cls, ctx, x, dims, correction, keepdim):
        n = _count(x, dims)
        dof = builtins.max(0, n - correction)
        if dof == 0:
            warnings.warn(f"{'std' if cls.root else 'var'}(): degrees of freedom is <= 0. Correction should "
                          "be strictly less than the reduction factor (input numel divided by output numel).",
                          stacklevel=4)
        acc = _float_acc(x.dtype)
        center = _run_reduce("sum", x, dims, True, acc).div_(n)
        out = _run_reduce("sum_square_deviation", x, dims, keepdim, acc, shift=center).div_(dof)
        if cls.root:
            out = out.sqrt_()
        ctx.meta = (x._shape, dims, keepdim, n, dof)
        ctx.save_for_backward(x, _as_dtype(out, x.dtype) if cls.root else None)
        if cls.with_mean:
            ctx.set_materialize_grads(False)  # an unused output's gradient is None, not zeros
            mean_ = _run_reduce("sum", x, dims, keepdim, acc).div_(n)
            return _as_dtype(out, x.dtype), _as_dtype(mean_, x.dtype)
        return _as_dtype(out, x.dtype)

    @classmethod
    def backward(cls, ctx, grad, grad_mean=None):
        x, result = ctx.saved_tensors
        shape, dims, keepdim, n, dof = ctx.meta
        grad_in = None
        if grad is not None:  # (var_mean/std_mean: None when only the mean is used, as torch)
            if cls.root:  # torch's std_backward: d sqrt(v) = dv / (2 sqrt(v)), zero where std == 0
                grad = where(result == 0, 0.0, grad / (result * 2))
            scale = 2.0 / dof if dof else math.inf
            grad_in = scale * _expand_back(grad, shape, dims, keepdim) * (x - x.mean(dims, keepdim=True))
        if grad_mean is not None:
            from_mean = _expand_back(grad_mean, shape, dims, keepdim) / n
            grad_in = from_mean if grad_in is None else grad_in + from_mean
        return grad_in, None, None, None


def _as_dtype(t, dtype):
    return t if t.dtype is dtype else t.to(dtype)


class _Std(_Var):
    node_name = "StdBackward0"
    root = True


class _VarMean(_Var):
    node_name = "VarMeanBackward0"
    with_mean = True


class _StdMean(_VarMean):
    node_name = "StdMeanBackward0"
    root = True


def _var_args(input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is not None and unbiased is not None:
        raise TypeError("pass either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return _normalize_dims(input, dim), correction, keepdim


@export
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim``, dividing by ``N - correction``."""
    return _into(out, _Var.apply(input, *_var_args(input, dim, unbiased, keepdim, correction)))


@export
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim``, dividing by ``N - correction``."""
    return _into(out, _Std.apply(input, *_var_args(input, dim, unbiased, keepdim, correction)))


@export(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    return _VarMean.apply(input, *_var_args(input, dim, unbiased, keepdim, correction))


@export(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    return _StdMean.apply(input, *_var_args(input, dim, unbiased, keepdim, correction))


# ------------------------------------------------------------------ norm / logsumexp
class _Norm(Function):
    """The vector p-norm over ``dims`` (torch.linalg.vector_norm)."""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        if p == math.inf:
            out = _run_reduce("max_abs", x, dims, keepdim, x.dtype)
        elif p == -math.inf:
            out = _run_reduce("min_abs", x, dims, keepdim, x.dtype)
        elif p == 0:
            out = _run_reduce("count_nonzero", x, dims, keepdim, x.dtype)
        else:
            acc = _float_acc(x.dtype)
            out = _run_reduce("sum_abs_pow", x, dims, keepdim, acc, shift=p)
            out = out.sqrt_() if p == 2 else out if p == 1 else out.pow_(1.0 / p)
            out = out if out.dtype is x.dtype else out.to(x.dtype)
        ctx.meta = (x._shape, dims, keepdim, p)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim, p = ctx.meta
        return _norm_backward(x, _expand_back(grad, shape, dims, keepdim),
                              _expand_back(out, shape, dims, keepdim), p, dims), None, None, None


def _norm_backward(x, grad, norm, p, dims):
    """torch's linalg_vector_norm_backward, case by case."""
    if p == 0:
        return None  # torch leaves the gradient of the 0-"norm" undefined
    if p == 1:
        return x.sgn() * grad
    if p == 2:
        return grad * where(norm == 0, 0.0, x / norm)
    if math.isinf(p):
        magnitude = x.abs()
        mask = (magnitude == norm) | magnitude.isnan()
        return x.sgn() * ((grad / mask.sum(dims, keepdim=True)) * mask)
    if p < 1:
        scaled = where(x == 0, 0.0, x.sgn() * x.abs().pow(p - 1))
        return scaled * grad * norm.pow(1 - p)
    scaled = x.sgn() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return scaled * where(norm == 0, 0.0, grad / norm.pow(p - 1))


@export
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm for vectors: p in numbers, inf, -inf, 0 and 'fro' (the 2-norm)."""
    if _amp.on:
        return autocast_call("norm", norm, input, p, dim, keepdim, out=out, dtype=dtype)
    if p == "nuc":
        raise NotImplementedError("tritensor does not support the nuclear norm (p='nuc')")
    if isinstance(p, str) and p != "fro":
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    return _into(out, vector_norm(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(x.dtype)}")
    x = _cast_input(x, dtype)
    dims = _normalize_dims(x, dim)
    p = builtins.float(ord)
    if (p < 0 or p == math.inf) and x.numel() == 0:  # no identity: the max, min, or 1 / sum(1 / ...)
        what = f"linalg.vector_norm cannot compute the {p:g} norm on "
        if dim is None:
            raise RuntimeError(what + "an empty tensor because the operation does not have an identity")
        for d in dims:
            if x._shape[d] == 0:
                raise RuntimeError(what + f"the dimension {d} because this dimension is empty and the "
                                   "operation does not have an identity")
    return _Norm.apply(x, p, dims, keepdim)


class _LogSumExp(Function):
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        m = _run_reduce("max", x, dims, True, x.dtype)
        m = where(m.isinf(), 0, m)  # all -inf (or +inf) rows: shift by 0, the result is then exact
        s = _run_reduce("sum_exp_shifted", x, dims, True, _float_acc(x.dtype), shift=m)
        out = s.log_().add_(m)
        out = out.reshape(_reduced_shape(x._shape, dims, keepdim))
        out = out if out.dtype is x.dtype else out.to(x.dtype)
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        weights = (x - _expand_back(out, shape, dims, keepdim)).exp()
        return _expand_back(grad, shape, dims, keepdim) * weights, None, None


@export
def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over ``dim``, computed stably; integers give the default float."""
    if _amp.on:
        return autocast_call("logsumexp", logsumexp, input, dim, keepdim, out=out)
    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    return _into(out, _LogSumExp.apply(x, _normalize_dims(x, dim), keepdim))


# ------------------------------------------------------------------ softmax
class _Softmax(Function):
    node_name = "SoftmaxBackward0"
    log = False

    @classmethod
    def forward(cls, ctx, x, dim):
        out = new_empty(x._shape, x.dtype, x.device)
        if x.dim() == 0:
            backend(x).softmax(out.reshape(1), x.reshape(1), 0, cls.log)
        elif x.numel():
            backend(x).softmax(out, x, dim, cls.log)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        (y,) = ctx.saved_tensors
        if grad_mode.is_grad_enabled():  # create_graph: the gradient in differentiable tensor ops
            d = ctx.dim if y.dim() else ()
            if cls.log:
                return grad - y.exp() * grad.sum(d, keepdim=True), None
            return y * (grad - (grad * y).sum(d, keepdim=True)), None
        grad_x = new_empty(y._shape, y.dtype, y.device)  # one fused kernel: a reduction and a write a row
        if y.dim() == 0:
            backend(y).softmax_backward(grad_x.reshape(1), grad.reshape(1), y.reshape(1), 0, cls.log)
        elif y.numel():
            backend(y).softmax_backward(grad_x, grad, y, ctx.dim, cls.log)
        return grad_x, None


class _LogSoftmax(_Softmax):
    node_name = "LogSoftmaxBackward0"
    log = True


def _softmax(cls, name, input, dim, dtype):
    if dim is None or not isinstance(dim, int):
        raise TypeError(f"{name}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")
    d = wrap_dim(dim, input.dim())
    if dtype is not None:
        input = _cast_input(input, dtype)
    if not input.dtype.is_floating_point:
        last = d == builtins.max(input.dim() - 1, 0)
        kernel = "softmax_lastdim_kernel_impl" if last else "softmax_kernel_impl"
        raise not_implemented_for(kernel if not cls.log else kernel.replace("softmax", "log_softmax"),
                                  input.dtype)
    return cls.apply(input, d)


@export
def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    if _amp.on:
        return autocast_call("softmax", softmax, input, dim, dtype=dtype)
    return _softmax(_Softmax, "softmax", input, dim, dtype)


@export
def log_softmax(input, dim, dtype=None):
    """x - logsumexp(x) along ``dim``."""
    if _amp.on:
        return autocast_call("log_softmax", log_softmax, input, dim, dtype=dtype)
    return _softmax(_LogSoftmax, "log_softmax", input, dim, dtype)


# ------------------------------------------------------------------ scans
def _scan_acc(dtype):
    return dtype.compute_np if dtype.is_floating_point else dt.int64.compute_np


def _reverse_cumsum(x, dim):
    """sum over j >= i (the adjoint of cumsum), as torch computes it."""
    return x.flip(dim).cumsum(dim).flip(dim)


class _Scan(Function):
    """cumsum along ``dim`` (a 0-d input is its own scan); subclasses name the backend's scan
    op, and ``indexed`` ones (cummax/cummin) also return the int64 index of each value."""

    node_name = "CumsumBackward0"
    op = "cumsum"
    indexed = False
    saves_result = False  # backward needs the input and the result (cumprod, logcumsumexp)

    @classmethod
    def forward(cls, ctx, x, dim, dtype):
        out = new_empty(x._shape, dtype, x.device)
        indices = new_empty(x._shape, dt.int64, x.device) if cls.indexed else None
        if x.dim() == 0:
            backend(x).scan(cls.op, out.reshape(1), x.reshape(1), 0, _scan_acc(dtype),
                            indices if indices is None else indices.reshape(1))
        else:
            backend(x).scan(cls.op, out, x, dim, _scan_acc(dtype), indices)
        ctx.dim = dim
        if cls.saves_result:
            ctx.save_for_backward(x, out)
        if cls.indexed:
            ctx.save_for_backward(indices)
            ctx.mark_non_differentiable(indices)
            return out, indices
        return out

    @classmethod
    def backward(cls, ctx, grad):
        if grad.dim() == 0:
            return grad, None, None
        return _reverse_cumsum(grad, ctx.dim), None, None


class _CumProd(_Scan):
    node_name = "CumprodBackward0"
    op = "cumprod"
    saves_result = True

    @classmethod
    def backward(cls, ctx, grad):
        if grad.dim() == 0:
            return grad, None, None
        x, out = ctx.saved_tensors
        return _cumprod_backward(grad, x, out, ctx.dim), None, None


def _cumprod_backward(grad, x, out, d):
    """d/dx_i of sum_j g_j out_j, exact with zeros in x.

    Before the first zero of a slice, out_j / x_i is the product without x_i. At the first
    zero k, the product without x_k is cumprod of x with x_k replaced by 1. After it, every
    out_j with j >= i contains x_k = 0, so the gradient is 0.
    """
    zeros = x == 0
    seen = zeros.cumsum(d)
    before_zero = seen == 0
    first_zero = zeros & (seen == 1)
    safe = where(zeros, 1, x)
    before = where(before_zero, _reverse_cumsum(grad * out, d) / safe, 0.0)
    at_zero = where(first_zero, _reverse_cumsum(grad * where(first_zero, 1, x).cumprod(d), d), 0.0)
    return before + at_zero


def _scan(name, cls):
    def op(input, dim, *, dtype=None, out=None):
        if _amp.on:
            return autocast_call(name, op, input, dim, dtype=dtype, out=out)
        d = wrap_dim(_int_dim(name, dim), input.dim())
        if isinstance(out, Tensor):  # torch scans in out's dtype (float into int64 out= truncates first)
            if dtype is not None and dtype is not out.dtype:
                raise RuntimeError(f"Expected out tensor to have dtype {_C_TYPES[dtype]}, but got "
                                   f"{_C_TYPES[out.dtype]} instead")
            dtype = out.dtype
        target = dtype or (dt.int64 if not input.dtype.is_floating_point else input.dtype)
        if target is dt.bool:
            raise not_implemented_for(f"{name}_out_cpu", target)
        if isinstance(out, Tensor):
            check_inplace_overlap(out, (input,))  # torch's scans refuse an out= sharing the input
        return _into(out, cls.apply(_cast_input(input, dtype), d, target))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name} along ``dim``; integers and bool accumulate in int64."
    return export(op)


cumsum = _scan("cumsum", _Scan)
cumprod = _scan("cumprod", _CumProd)


def _scan_inplace(op):
    """Tensor.cumsum_ / cumprod_: accumulated in self's dtype unless ``dtype`` says otherwise
    (which must then be self's, as torch)."""
    write = inplace_by_copy(op, op.__name__ + "_")

    def op_(self, dim, *, dtype=None):
        return write(self, dim, dtype=dtype or self.dtype)
    op_.__name__ = op_.__qualname__ = write.__name__
    op_.__doc__ = write.__doc__
    return method(op_)


_scan_inplace(cumsum)
_scan_inplace(cumprod)


class _LogCumSumExp(_Scan):
    node_name = "LogcumsumexpBackward0"
    op = "logcumsumexp"
    saves_result = True

    @classmethod
    def backward(cls, ctx, grad):
        if grad.dim() == 0 or grad.numel() == 0:
            return grad, None, None
        x, out = ctx.saved_tensors
        return _logcumsumexp_backward(grad, x, out, ctx.dim), None, None


def _logcumsumexp_backward(grad, x, out, d):
    """torch's logcumsumexp_backward: sum_{j >= i} g_j exp(x_i - out_j), with the positive and
    negative parts of g each summed in log space (a reverse logcumsumexp), so no exp overflows."""
    lowest = finfo(grad.dtype).min
    log_abs = grad.abs().log()

    def part(mask):
        log_g = where(mask, log_abs, lowest)
        return ((log_g - out).flip(d).logcumsumexp(d).flip(d) + x).exp()
    return part(grad > 0) - part(grad < 0)


@export
def logcumsumexp(input, dim, *, out=None):
    """torch.logcumsumexp: log(cumsum(exp(input))) along ``dim`` without overflow; 16-bit
    floats accumulate in float32 (float64 on the CPU, as torch's CPU kernel)."""
    d = wrap_dim(_int_dim("logcumsumexp", dim), input.dim())
    if not input.dtype.is_floating_point:
        raise not_implemented_for(f"logcumsumexp_out_{input.device.type}", input.dtype)
    if isinstance(out, Tensor):
        _check_out_dtypes(out, (input.dtype,))
        check_inplace_overlap(out, (input,))
    return _into(out, _LogCumSumExp.apply(input, d, input.dtype))


class _CumMax(_Scan):
    node_name = "CummaxBackward0"
    op = "cummax"
    indexed = True

    @classmethod
    def backward(cls, ctx, grad, grad_indices=None):
        # torch's cummaxmin_backward: each value's gradient goes to the index it came from
        if grad.dim() == 0 or grad.numel() == 0:
            return grad, None, None
        (indices,) = ctx.saved_tensors
        return zeros(grad._shape, dtype=grad.dtype, device=grad.device).scatter_add(ctx.dim, indices, grad), \
            None, None


class _CumMin(_CumMax):
    node_name = "CumminBackward0"
    op = "cummin"


def _cum_extreme(name, cls):
    def op(input, dim, *, out=None):
        d = wrap_dim(_int_dim(name, dim), input.dim())
        _check_out_dtypes(out, (input.dtype, dt.int64))
        result = _ValuesIndices(*cls.apply(input, d, input.dtype), name)
        return _into(out, result)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: the running {name[3:]}imum along ``dim`` and its index, (values, " \
                 "indices); on ties the last index, a NaN propagates with the index of the last NaN."
    return export(op)


cummax = _cum_extreme("cummax", _CumMax)
cummin = _cum_extreme("cummin", _CumMin)


def _check_out_dtypes(out, dtypes):
    """Ops whose ``out=`` must have the result's dtype exactly (torch's scans, aminmax)."""
    if out is None:
        return
    for o, want in zip(out if isinstance(out, (tuple, list)) else (out,), dtypes):
        if o.dtype is not want:
            raise RuntimeError(f"expected scalar_type {_torch_name(want)} but found {_torch_name(o.dtype)}")


# ------------------------------------------------------------------ sum_to_size
def _sum_to_size(self, *size):
    """Sum the broadcast dims away so the result has ``size`` (the reverse of expand)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(size)
    if self._shape == size:
        return self
    lead = self.dim() - len(size)
    if lead < 0:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(self._shape)}}}.")
    dims = list(range(lead))
    for i, s in enumerate(size):
        cur = self._shape[lead + i]
        if s == 1 and cur != 1:
            dims.append(lead + i)
        elif s != cur:
            raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(self._shape)}}}.")
    if not dims:
        return self.reshape(size) if lead else self
    if len(dims) == lead:  # only leading dims go (a bias gradient): the sum has the size already
        if not grad_mode.enabled and self.dtype.is_floating_point:  # a plain backward: the kernel alone
            return _run_reduce("sum", self, tuple(dims), False, self.dtype)
        return sum(self, dims)
    out = sum(self, dims, keepdim=True)
    return out.reshape(size) if lead else out


Tensor.sum_to_size = _sum_to_size
