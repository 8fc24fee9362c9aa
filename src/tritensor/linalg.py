"""torch.linalg: the norms, vecdot, matmul and cross.

All are composites of ops that exist (``vector_norm``'s reduction, amax/amin, sum, mul,
matmul), so they run on every device and differentiate through those ops. The
LU/Cholesky decompositions and what is built on them (det, inv, solve, ...) live in
ops/decompositions.py, eigh/svd and what is built on them (pinv, lstsq, cond, matrix_exp
...) in ops/spectral.py; the matrix norms of singular values ('nuc', 2, -2) take them from
``svdvals``.
"""
from __future__ import annotations

import math

from . import dtypes as dt
from .ops import reduction as _reduction
from .ops._common import wrap_dim
from .ops.creation import resize_out, with_out
from .ops.decompositions import (LinAlgError, cholesky, cholesky_ex, det, inv, inv_ex, lu, lu_factor,
                                 lu_factor_ex, lu_solve, qr, slogdet, solve, solve_ex, solve_triangular)
from .ops.einsum import linalg_cross
from .ops.elementwise import _torch_name
from .ops.ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .ops.linalg import matmul as _matmul, matrix_power as _matrix_power
from .ops.spectral import (cond, diagonal, eig, eigh, eigvals, eigvalsh, householder_product, lstsq,
                           matrix_exp, matrix_rank, multi_dot, pinv, svd, svdvals, tensorinv, tensorsolve,
                           vander)
from .tensor import Tensor

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cross", "det", "inv", "inv_ex", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "matmul", "matrix_norm", "matrix_power", "norm", "qr", "slogdet",
           "solve", "solve_ex", "solve_triangular", "vecdot", "vector_norm"]
__all__ += ["cond", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "householder_product", "lstsq",
            "matrix_exp", "matrix_rank", "multi_dot", "pinv", "svd", "svdvals", "tensorinv", "tensorsolve",
            "vander"]
__all__ += ["ldl_factor", "ldl_factor_ex", "ldl_solve"]


def _check_float(name, x):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(x.dtype)}")


def _check_dtype(name, x, dtype):
    """torch's check_linalg_norm_dtype: ``dtype`` must be a float that ``x`` widens to."""
    if dtype is None:
        return
    if not dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: dtype should be floating point or complex, but got "
                           f"{_torch_name(dtype)}")
    if dt.promote_types(x.dtype, dtype) is not dtype:
        raise RuntimeError(f"linalg.{name}: the dtype of the input ({_torch_name(x.dtype)}) should be "
                           f"convertible without narrowing to the specified dtype ({_torch_name(dtype)})")


def _copy_out(name, out, result):
    """``out=`` of torch's composite norms: a copy into ``out`` (recorded, as torch's is),
    which must have the result's dtype."""
    if out is None:
        return result
    if out.dtype is not result.dtype:
        raise RuntimeError(f"linalg.{name} expected out tensor dtype {_torch_name(result.dtype)} but got: "
                           f"{_torch_name(out.dtype)}")
    resize_out(out, result._shape)
    return out.copy_(result)


def _order(ord):
    """An order as torch prints it: 3.0 -> '3', 0.5 -> '0.5'."""
    return f"{ord:g}" if isinstance(ord, float) else str(ord)


@with_out
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements by default)."""
    if isinstance(ord, Tensor) and ord.dim() == 0:  # a 0-d tensor is a Number to torch's parser
        ord = ord.item()
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    _check_float("vector_norm", x)
    _check_dtype("vector_norm", x, dtype)
    return _reduction.vector_norm(x, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The matrix norm over the two dims ``dim``: 'fro' is the 2-norm of the elements; 1 and
    inf (-1, -inf) the largest (smallest) absolute column and row sum; 'nuc' the sum of the
    singular values, 2 (-2) the largest (smallest) one."""
    return _copy_out("matrix_norm", out, _matrix_norm(A, ord, dim, keepdim, dtype))


def _matrix_norm(A, ord, dim, keepdim, dtype):
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif abs(ord) not in (1, 2, math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_order(ord)} not supported.")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_float("matrix_norm", A)
    dim = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = (wrap_dim(d, A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    _check_dtype("matrix_norm", A, dtype)
    if ord == "fro":
        return _reduction.vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord == "nuc" or abs(ord) == 2:
        return _singular_value_norm(A, ord, d0, d1, keepdim, dtype)
    if abs(ord) == math.inf:  # the inf-norm is the 1-norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:  # the first reduction removes d0
        d1 -= 1
    sums = _reduction.vector_norm(A, 1, d0, keepdim, dtype=dtype)
    if ord < 0:
        return sums.amin(d1, keepdim)
    # the largest of no sums is 0 in torch (the smallest stays amin's error)
    return sums.sum(d1, keepdim) if sums._shape[d1] == 0 else sums.amax(d1, keepdim)


def _singular_value_norm(A, ord, d0, d1, keepdim, dtype):
    """'nuc' (the singular values' sum), 2 / -2 (the largest / smallest) over dims d0, d1."""
    if A.dtype in (dt.float16, dt.bfloat16):
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got "
                           f"{_torch_name(A.dtype)}")
    order = [d for d in range(A.dim()) if d not in (d0, d1)] + [d0, d1]
    moved = A.permute(order)
    values = svdvals(moved if dtype is None else moved.to(dtype))
    if ord == "nuc":
        result = values.sum(-1, keepdim)
    elif ord < 0:
        result = values.amin(-1, keepdim)
    else:  # the largest of no singular values is 0, as torch's
        result = values.sum(-1, keepdim) if values._shape[-1] == 0 else values.amax(-1, keepdim)
    if not keepdim:
        return result
    return result.unsqueeze(-1).permute([order.index(d) for d in range(A.dim())])  # dims back in place


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector norm, or a matrix norm when ``dim`` has two dims (or A is 2-D) and ``ord``
    is given; with neither, the 2-norm of all elements."""
    return _copy_out("norm", out, _norm(A, ord, dim, keepdim, dtype))


def _norm(A, ord, dim, keepdim, dtype):
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if dim is None and ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.dim()}D.")
    if isinstance(ord, str):
        return _matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype)
    if ord is not None and (len(dim) == 2 if dim is not None else A.dim() == 2):
        return _matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


@with_out
def vecdot(x, y, *, dim=-1):
    """sum(x * y) over ``dim``, the vectors broadcast against each other."""
    _check_float("vecdot", x)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_torch_name(x.dtype)} and y of type {_torch_name(y.dtype)} instead")
    return (x * y).sum(dim)


@with_out
def cross(input, other, *, dim=-1):
    """The cross product along ``dim`` (which must have size 3); the other dims broadcast."""
    return linalg_cross(input, other, dim)


matmul = _matmul
matrix_power = _matrix_power
