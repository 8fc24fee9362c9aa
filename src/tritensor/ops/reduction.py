"""Reductions, scans and softmax, with torch's dtype rules and backward formulas."""
from __future__ import annotations

import builtins
import math

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import backend, float_result, wrap_dim, wrap_dims
from ._registry import export
from .creation import new_empty
from .elementwise import _torch_name


def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _normalize_dims(x, dim):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x.dim()))
    return wrap_dims(dim, x.dim())


def _run_reduce(op, x, dims, keepdim, result_dtype, shift=None):
    out = new_empty(_reduced_shape(x._shape, dims, keepdim), result_dtype, x.device)
    backend(x).reduce(op, out, x, dims, shift)
    return out


def _expand_back(grad, input_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims of the input."""
    if not keepdim:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
    return grad.expand(input_shape)


# ------------------------------------------------------------------ sum / mean / prod
def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype
    return dt.int64 if x.dtype.category != dt._FLOAT else x.dtype


class _Sum(Function):
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.meta = (x._shape, dims, keepdim)
        return _run_reduce("sum", x, dims, keepdim, _sum_dtype(x, dtype))

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, *ctx.meta), None, None, None


class _SumAll(_Sum):
    node_name = "SumBackward0"


@export
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    dims = _normalize_dims(input, dim)
    if dtype is not None and input.dtype is not dtype:
        input = input.to(dtype)
    cls = _SumAll if dim is None else _Sum
    return cls.apply(input, dims, keepdim, dtype)


@export
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum(input.nan_to_num(0.0, float("inf"), float("-inf")) if input.dtype.is_floating_point
               else input, dim, keepdim, dtype=dtype)


class _Mean(Function):
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        count = 1
        for d in dims:
            count *= x._shape[d]
        ctx.meta = (x._shape, dims, keepdim)
        ctx.count = count
        total = _run_reduce("sum", x, dims, keepdim, dtype)
        return total.div_(count) if count else total.fill_(float("nan"))

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, *ctx.meta) / ctx.count, None, None, None


class _MeanAll(_Mean):
    node_name = "MeanBackward0"


@export
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    target = dtype or input.dtype
    if not target.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                           f"point or complex dtype. Got: {_torch_name(target)}")
    if dtype is not None and input.dtype is not dtype:
        input = input.to(dtype)
    dims = _normalize_dims(input, dim)
    return (_MeanAll if dim is None else _Mean).apply(input, dims, keepdim, target)


@export
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    not_nan = input.isnan().logical_not()
    return nansum(input, dim, keepdim, dtype=dtype) / not_nan.sum(dim, keepdim=keepdim)


class _Prod(Function):
    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.meta = (x._shape, dims, keepdim)
        out = _run_reduce("prod", x, dims, keepdim, _sum_dtype(x, dtype))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        g = _expand_back(grad, shape, dims, keepdim)
        res = _expand_back(out, shape, dims, keepdim)
        # exact for inputs without zeros; zeros get the product of the other elements
        safe = x.masked_fill(x == 0, 1)
        zeros = (x == 0)
        n_zero = _expand_back(zeros.sum(dims, keepdim=keepdim), shape, dims, keepdim)
        prod_nonzero = _expand_back(safe.prod_dims(dims, keepdim), shape, dims, keepdim)
        grad_in = (res / safe).masked_fill(zeros, 0) + prod_nonzero * (zeros & (n_zero == 1))
        return g * grad_in, None, None, None


class _ProdAll(_Prod):
    node_name = "ProdBackward0"


@export
def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None and input.dtype is not dtype:
        input = input.to(dtype)
    if dim is None:
        return _ProdAll.apply(input, tuple(range(input.dim())), False, dtype)
    return _Prod.apply(input, (wrap_dim(dim, input.dim()),), keepdim, dtype)


def _prod_dims(self, dims, keepdim):
    return _Prod.apply(self, dims, keepdim, None)


Tensor.prod_dims = _prod_dims


# ------------------------------------------------------------------ max / min
def _check_nonempty(name, x, dims):
    for d in dims:
        if x._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if x.numel() == 0 and not dims:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")


class _AMax(Function):
    """amax/amin: gradient split evenly among the tied extreme elements."""

    node_name = "AmaxBackward0"
    op = "max"

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        out = _run_reduce(cls.op, x, dims, keepdim, x.dtype)
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        mask = (x == _expand_back(out, shape, dims, keepdim))
        count = _expand_back(mask.sum(dims, keepdim=keepdim), shape, dims, keepdim)
        return _expand_back(grad, shape, dims, keepdim) * mask / count, None, None


class _AMin(_AMax):
    node_name = "AminBackward0"
    op = "min"


class _MaxAll(_AMax):
    node_name = "MaxBackward1"


class _MinAll(_AMin):
    node_name = "MinBackward1"


@export
def amax(input, dim=(), keepdim=False):
    dims = _normalize_dims(input, dim)
    _check_nonempty("amax", input, dims)
    return _AMax.apply(input, dims, keepdim)


@export
def amin(input, dim=(), keepdim=False):
    dims = _normalize_dims(input, dim)
    _check_nonempty("amin", input, dims)
    return _AMin.apply(input, dims, keepdim)


class _MaxDim(Function):
    """max/min along a dim: (values, indices); the gradient goes to the returned index."""

    node_name = "MaxBackward0"
    op = "argmax"

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        shape = _reduced_shape(x._shape, (dim,), keepdim)
        values = new_empty(shape, x.dtype, x.device)
        indices = new_empty(shape, dt.int64, x.device)
        backend(x).arg_reduce(cls.op, values, indices, x, dim)
        ctx.meta = (x._shape, dim, keepdim)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @classmethod
    def backward(cls, ctx, grad, grad_indices=None):
        (indices,) = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        return _index_scatter(grad, indices, shape, dim, keepdim), None, None


class _MinDim(_MaxDim):
    node_name = "MinBackward0"
    op = "argmin"


def _index_scatter(grad, indices, shape, dim, keepdim):
    from .creation import zeros
    if not keepdim:
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    return zeros(shape, dtype=grad.dtype, device=grad.device).scatter(dim, indices, grad)


class _ValuesIndices(tuple):
    """torch.return_types.max: a tuple with ``values`` and ``indices`` fields."""

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
            return binary(input, dim)
        if dim is None:
            _check_nonempty(name, input, ())
            return cls_all.apply(input, tuple(range(input.dim())), False)
        d = wrap_dim(dim, input.dim())
        if input.dim():
            _check_nonempty(name, input, (d,))
        values, indices = cls_dim.apply(input, d, keepdim)
        return _ValuesIndices(values, indices, name)
    op.__name__ = name
    return export(op)


def _maximum(a, b):
    from .elementwise import maximum
    return maximum(a, b)


def _minimum(a, b):
    from .elementwise import minimum
    return minimum(a, b)


max = _max_min("max", _MaxAll, _MaxDim, _maximum)
min = _max_min("min", _MinAll, _MinDim, _minimum)


def _arg(name):
    def op(input, dim=None, keepdim=False):
        x = input
        if dim is None:
            if x.numel() == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            x = x.reshape(-1)
            d = 0
        else:
            d = wrap_dim(dim, x.dim())
            if x.dim():
                _check_nonempty(name, x, (d,))
        shape = _reduced_shape(x._shape, (d,), keepdim) if dim is not None else \
            ((1,) * input.dim() if keepdim else ())
        indices = new_empty(shape, dt.int64, x.device)
        if x.dim() == 0:
            return indices.fill_(0)
        backend(x).arg_reduce(name, None, indices, x, d)
        return indices
    op.__name__ = name
    return export(op)


argmax = _arg("argmax")
argmin = _arg("argmin")


# ------------------------------------------------------------------ all / any / count
def _logical_reduce(name):
    def op(input, dim=None, keepdim=False, *, out=None):
        dims = _normalize_dims(input, dim)
        result_dtype = dt.uint8 if input.dtype is dt.uint8 else dt.bool
        return _run_reduce(name, input, dims, keepdim, result_dtype)
    op.__name__ = name
    return export(op)


all = _logical_reduce("all")
any = _logical_reduce("any")


@export
def count_nonzero(input, dim=None):
    dims = _normalize_dims(input, dim)
    return _run_reduce("count_nonzero", input, dims, False, dt.int64)


# ------------------------------------------------------------------ var / std
def _var_correction(correction, unbiased):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class _Var(Function):
    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        n = 1
        for d in dims:
            n *= x._shape[d]
        mean_keep = _run_reduce("sum", x, dims, True, float_result(x.dtype))
        mean_keep = mean_keep.div_(n) if n else mean_keep
        total = _run_reduce("sum_square_deviation", x, dims, keepdim, x.dtype, shift=mean_keep)
        ctx.meta = (x._shape, dims, keepdim, n - correction)
        ctx.save_for_backward(x)
        return total.div_(builtins.max(0, n - correction)) if n - correction > 0 else total.fill_(float("nan"))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, dims, keepdim, denom = ctx.meta
        centered = x - x.mean(dims, keepdim=True)
        return _expand_back(grad, shape, dims, keepdim) * centered * (2.0 / denom), None, None, None


def _var_args(input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    return _normalize_dims(input, dim), _var_correction(correction, unbiased), keepdim


@export
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    dims, corr, keepdim = _var_args(input, dim, unbiased, keepdim, correction)
    return _Var.apply(input, dims, corr, keepdim)


@export
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


@export(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), \
        mean(input, _normalize_dims(input, dim), keepdim)


@export(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), \
        mean(input, _normalize_dims(input, dim), keepdim)


# ------------------------------------------------------------------ norm / logsumexp
class _Norm(Function):
    node_name = "NormBackward1"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.meta = (x._shape, dims, keepdim, p)
        if p == math.inf:
            out = _run_reduce("max_abs", x, dims, keepdim, x.dtype)
        elif p == -math.inf:
            out = _run_reduce("min_abs", x, dims, keepdim, x.dtype)
        elif p == 0:
            out = _run_reduce("count_nonzero", x, dims, keepdim, x.dtype)
        else:
            out = _run_reduce("sum_abs_pow", x, dims, keepdim, x.dtype, shift=float(p))
            out = out.pow_(1.0 / p) if p != 1 else out
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim, p = ctx.meta
        g = _expand_back(grad, shape, dims, keepdim)
        n = _expand_back(out, shape, dims, keepdim)
        if p == 0:
            return g * 0, None, None, None
        if p in (math.inf, -math.inf):
            mask = x.abs() == n
            count = _expand_back(mask.sum(dims, keepdim=keepdim), shape, dims, keepdim)
            return g * x.sign() * mask / count, None, None, None
        if p == 1:
            return g * x.sign(), None, None, None
        if p == 2:
            return (g * x / n).masked_fill(n == 0, 0), None, None, None
        scale = x.abs().pow(p - 2) * x / n.pow(p - 1)
        return (g * scale).masked_fill(n == 0, 0), None, None, None


class _NormAll(_Norm):
    node_name = "NormBackward0"


@export
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(input.dtype)}")
    if dtype is not None:
        input = input.to(dtype)
    if p in ("fro", None):
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported by tritensor")
    dims = _normalize_dims(input, dim)
    return (_NormAll if dim is None else _Norm).apply(input, float(p), dims, keepdim)


class _LogSumExp(Function):
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        m = _run_reduce("max", x, dims, True, x.dtype)
        m = m.masked_fill(m.isinf(), 0)
        s = _run_reduce("sum_exp_shifted", x, dims, True, x.dtype, shift=m)
        out = s.log_().add_(m)
        if not keepdim:
            out = out.squeeze(dims) if dims else out
        ctx.meta = (x._shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        return _expand_back(grad, shape, dims, keepdim) * (x - _expand_back(out, shape, dims, keepdim)).exp(), \
            None, None


@export
def logsumexp(input, dim=None, keepdim=False):
    if not input.dtype.is_floating_point:
        input = input.to(dt.get_default_dtype())
    dims = _normalize_dims(input, dim)
    return _LogSumExp.apply(input, dims, keepdim)


# ------------------------------------------------------------------ softmax
class _Softmax(Function):
    node_name = "SoftmaxBackward0"
    log = False

    @classmethod
    def forward(cls, ctx, x, dim):
        out = new_empty(x._shape, x.dtype, x.device)
        if x.numel():
            backend(x).softmax(out, x, dim, cls.log)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        (y,) = ctx.saved_tensors
        if cls.log:
            return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class _LogSoftmax(_Softmax):
    node_name = "LogSoftmaxBackward0"
    log = True


def _softmax_input(input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    elif not input.dtype.is_floating_point:
        raise RuntimeError(f"\"softmax_lastdim_kernel_impl\" not implemented for '{_torch_name(input.dtype)}'")
    if input.dim() == 0:
        return input.reshape(1), 0, True
    return input, wrap_dim(dim, input.dim()), False


@export
def softmax(input, dim=None, dtype=None, _stacklevel=3):
    x, d, scalar = _softmax_input(input, -1 if dim is None else dim, dtype)
    out = _Softmax.apply(x, d)
    return out.reshape(()) if scalar else out


@export
def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    x, d, scalar = _softmax_input(input, -1 if dim is None else dim, dtype)
    out = _LogSoftmax.apply(x, d)
    return out.reshape(()) if scalar else out


# ------------------------------------------------------------------ scans
class _CumSum(Function):
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim, dtype):
        out = new_empty(x._shape, dtype, x.device)
        backend(x).scan("cumsum", out, x, dim, dtype.compute_np if dtype.is_floating_point else
                        dt.int64.compute_np)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None, None


class _CumProd(Function):
    node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim, dtype):
        out = new_empty(x._shape, dtype, x.device)
        backend(x).scan("cumprod", out, x, dim, dtype.compute_np if dtype.is_floating_point else
                        dt.int64.compute_np)
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        d = ctx.dim
        # valid when x has no zeros; zeros are handled by the exclusive-product formula below
        if not bool((x == 0).any()):
            return (grad * out).flip(d).cumsum(d).flip(d) / x, None, None
        n = x.shape[d]
        grads = []
        for k in range(n):
            # d out_j / d x_k = prod_{i<=j, i!=k} x_i for j >= k
            xs = x.narrow(d, 0, n).clone()
            xs = xs.index_fill(d, _scalar_index(k, x.device), 1.0)
            partial = xs.cumprod(d).narrow(d, k, n - k)
            grads.append((partial * grad.narrow(d, k, n - k)).sum(d, keepdim=True))
        from .joining import cat
        return cat(grads, d), None, None


def _scalar_index(k, device):
    from .creation import tensor
    return tensor([k], device=device)


def _scan(name, cls):
    def op(input, dim, *, dtype=None, out=None):
        d = wrap_dim(dim, input.dim()) if input.dim() else 0
        x = input.reshape(1) if input.dim() == 0 else input
        target = dtype or (dt.int64 if not input.dtype.is_floating_point else input.dtype)
        if dtype is not None and input.dtype is not dtype:
            x = x.to(dtype)
        result = cls.apply(x, d, target)
        return result.reshape(()) if input.dim() == 0 else result
    op.__name__ = name
    return export(op)


cumsum = _scan("cumsum", _CumSum)
cumprod = _scan("cumprod", _CumProd)


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
    out = sum(self, dims, keepdim=True) if dims else self
    return out.reshape(size) if lead else out


Tensor.sum_to_size = _sum_to_size
