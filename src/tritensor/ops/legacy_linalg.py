"""The deprecated torch.* linear algebra that torch 2.13 still ships, as thin layers over the
torch.linalg ops (ops/decompositions.py, ops/spectral.py, the norms in tritensor/linalg.py):
``lu``, ``lu_solve``, ``qr``, ``cholesky``, ``triangular_solve`` (each warning as torch does
that it is deprecated), ``geqrf``/``ormqr`` (LAPACK's packed Householder form, no warning)
and the ATen leftovers ``nuclear_norm``/``frobenius_norm``. The functions torch removed but
still binds (``lstsq``, ``solve``, ``symeig``, ``eig``, ``matrix_rank``) raise its
RuntimeError telling what replaces them.

Where torch records its own node for the legacy op (``CholeskyBackward0``,
``TriangularSolveBackward0``) a subclass of the linalg op's Function carries that name; the
formulas are the linalg ones.
"""
from __future__ import annotations

import warnings
from collections import namedtuple

from .. import dtypes as dt
from ..autograd.function import Function
from ._registry import export
from .creation import with_out
from .decompositions import (LinAlgError, _CholeskyEx, _check_matrix, _no_kernel, _raise_on_info,
                             check_b_and_A_dtype, _SolveTriangular, _batch_expand, lu_factor_ex, lu_solve as _linalg_lu_solve,
                             qr as _linalg_qr)
from .elementwise import _torch_name, where
from .joining import cat, stack
from .spectral import householder_product

LuWithInfoResult = namedtuple("_lu_with_info", "LU pivots info")
TriangularSolveResult = namedtuple("triangular_solve", "solution cloned_coefficient")
GeqrfResult = namedtuple("geqrf", "a tau")
QrResult = namedtuple("qr", "Q R")


def _deprecated(message):
    """torch's deprecation warning of a legacy op (UserWarning, as its TORCH_WARN_ONCE)."""
    warnings.warn(message, UserWarning, stacklevel=3)


# ------------------------------------------------------------------ lu, lu_solve
@export
def lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu: (LU, pivots), plus info with ``get_infos``: linalg.lu_factor_ex (square
    matrices, as tritensor's LU)."""
    _deprecated("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
                "will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\n"
                "should be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
                "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    if out is not None:
        raise NotImplementedError("torch.lu: tritensor does not support out=")
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return LuWithInfoResult(LU, pivots, info) if get_infos else (LU, pivots)


@export
@with_out
def lu_solve(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU, pivots): linalg.lu_solve with the arguments reversed."""
    _deprecated("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a "
                "future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\n"
                "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\n"
                "X = torch.linalg.lu_solve(LU, pivots, B)")
    return _linalg_lu_solve(LU_data, LU_pivots, b)


# ------------------------------------------------------------------ qr, cholesky
@export
def qr(input, some=True, *, out=None):
    """torch.qr: linalg.qr in mode 'reduced' (``some``) or 'complete'."""
    _deprecated("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                "Q, R = torch.qr(A, some)\nshould be replaced with\n"
                "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    if out is not None:
        raise NotImplementedError("torch.qr: tritensor does not support out=")
    return QrResult(*_linalg_qr(input, "reduced" if some else "complete"))


class _Cholesky(_CholeskyEx):
    """linalg.cholesky_ex's node under torch.cholesky's name."""

    node_name = "CholeskyBackward0"


@export
@with_out
def cholesky(input, upper=False):
    """torch.cholesky: L with A = L L^T (U with A = U^T U when ``upper``); raises
    LinAlgError for a matrix that is not positive-definite."""
    _deprecated("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
                "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\n"
                "L = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced "
                "with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for "
                "all valid (symmetric positive definite) inputs.")
    _check_matrix("cholesky", input, kernel="cholesky_cpu")
    L, info = _Cholesky.apply(input, upper)
    _raise_on_info(info, lambda prefix, k: (
        f"cholesky: {prefix}The factorization could not be completed because the input is not "
        f"positive-definite (the leading minor of order {k} is not positive-definite)."), LinAlgError)
    return L


# ------------------------------------------------------------------ triangular_solve
class _TriangularSolve(_SolveTriangular):
    """X = op(A)^-1 B with op(A) = A or A^T, and a copy of A, in one node (torch's
    TriangularSolveBackward0): the solve's gradient plus the copy's own."""

    node_name = "TriangularSolveBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, transpose, unitriangular):
        coefficient = A.mT if transpose else A
        ctx.transpose = transpose
        X = _SolveTriangular.forward(ctx, coefficient, B, upper != transpose, True, unitriangular)
        return X, A.clone()

    @staticmethod
    def backward(ctx, grad, grad_clone):
        gA, gB = _SolveTriangular.backward(ctx, grad)[:2]
        gA = gA.mT if ctx.transpose else gA
        return gA + grad_clone, gB, None, None, None


@export
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch.triangular_solve: (X with op(A) X = b, a clone of A); batch dims broadcast."""
    _deprecated("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be "
                "removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments "
                "reversed and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, A)"
                ".solution\nshould be replaced with\nX = torch.linalg.solve_triangular(A, B).")
    if out is not None:
        raise NotImplementedError("torch.triangular_solve: tritensor does not support out=")
    if b.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{b.dim()} dimensions instead")
    if A.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
                           f"{A.dim()} dimensions instead")
    check_b_and_A_dtype(b, A)
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("triangular_solve_cpu", A.dtype)
    n = A.shape[-1]
    if A.shape[-2] != n or b.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-2]} by {n} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    A, b = _batch_expand(A, b)  # the copy of A has the broadcast batch shape, as torch's
    return TriangularSolveResult(*_TriangularSolve.apply(A, b, upper, transpose, unitriangular))


# ------------------------------------------------------------------ geqrf, ormqr
def _geqrf_packed(A):
    """LAPACK geqr2 on (*, m, n) ``A``: R on and above the diagonal, reflector j's tail v_j
    (v_j[j] = 1 implied) below it, and tau; dlarfg's conventions (beta = -sign(alpha) |x|,
    tau = 0 when the column below the diagonal is already zero)."""
    batch, (m, n) = tuple(A.shape[:-2]), tuple(A.shape[-2:])
    R = A.contiguous().clone()
    taus = []
    for j in range(min(m, n)):
        alpha, below = R[..., j, j].clone(), R[..., j + 1:, j]
        tail = (below * below).sum(-1)
        reflect = tail > 0
        norm = (alpha * alpha + tail).sqrt()
        beta = where(reflect, where(alpha >= 0, -norm, norm), alpha)
        tau = where(reflect, (beta - alpha) / where(reflect, beta, 1), 0)
        v_tail = below * where(reflect, 1 / where(reflect, alpha - beta, 1), 0)[..., None]
        v = cat([R.new_ones(batch + (1,)), v_tail], -1)
        trailing = R[..., j:, j + 1:]
        trailing -= (tau[..., None, None] * v[..., :, None]) * (v[..., None, :] @ trailing)
        R[..., j, j] = beta
        R[..., j + 1:, j] = v_tail
        taus.append(tau)
    tau = stack(taus, -1) if taus else R.new_zeros(batch + (0,))
    return R, tau


class _Geqrf(Function):
    """geqrf has no derivative in torch: its node raises NotImplementedError."""

    node_name = "GeqrfBackward0"

    @staticmethod
    def forward(ctx, A):
        return _geqrf_packed(A)

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


@export
def geqrf(input, *, out=None):
    """torch.geqrf: (a, tau), the QR factorization in LAPACK's packed form (R in the upper
    triangle, Householder vectors below it, their scalars tau)."""
    if out is not None:
        raise NotImplementedError("torch.geqrf: tritensor does not support out=")
    if input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("geqrf_cpu", input.dtype)
    return GeqrfResult(*_Geqrf.apply(input))


def _check_ormqr(input, tau, other, left):
    name = "torch.ormqr"
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if other.dim() < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    if tau.dim() != input.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim "
                           f"equal to {tau.dim()} and input.ndim is equal to {input.dim()}")
    if other.dim() != input.dim():
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as input, but got "
                           f"other.ndim equal to {other.dim()} and input.ndim is equal to {input.dim()}")
    m = input.shape[-2]
    side = -2 if left else -1
    if other.shape[side] != m:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.shape[-1] > min(m, input.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be less than or equal to input.shape[-1] and "
                           f"input.shape[-2] (got {tau.shape[-1]} for input {list(input.shape)})")
    if tuple(tau.shape[:-1]) != tuple(input.shape[:-2]) or tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau and other to be equal to "
                           f"input.shape[:-2] = {list(input.shape[:-2])}, but got {list(tau.shape[:-1])} "
                           f"and {list(other.shape[:-2])}")
    for what, t in (("tau", tau), ("other", other)):
        if t.dtype is not input.dtype:
            raise RuntimeError(f"{name}: Expected input and {what} to have the same dtype, but input "
                               f"has dtype{_torch_name(input.dtype)} and {what} has dtype "
                               f"{_torch_name(t.dtype)}")
    if input.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("ormqr_cpu", input.dtype)


@export
@with_out
def ormqr(input, tau, other, left=True, transpose=False):
    """torch.ormqr: Q other, Q^T other, other Q or other Q^T with Q = H_1 ... H_k (m x m)
    from geqrf's reflectors: the full Q by householder_product over the reflectors padded
    to a square matrix, then one matmul (differentiable through both)."""
    _check_ormqr(input, tau, other, left)
    m, k = input.shape[-2], tau.shape[-1]
    padding = input.new_zeros(tuple(input.shape[:-2]) + (m, m - k))
    Q = householder_product(cat([input[..., :, :k], padding], -1), tau)
    Q = Q.mT if transpose else Q
    return Q @ other if left else other @ Q


# ------------------------------------------------------------------ norms
def _norm_dims(dim):
    return (dim,) if isinstance(dim, int) else tuple(dim)


@export(method=False)
def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """torch.nuclear_norm(input, keepdim=False) / (input, dim, keepdim=False): the sum of the
    singular values over ``dim`` (the last two dims by default)."""
    from .. import linalg
    _deprecated("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be "
                "removed in a future PyTorch release. Please use "
                "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    dims = (-2, -1) if dim is None else _norm_dims(dim)
    return linalg.matrix_norm(input, "nuc", dims, keepdim, out=out)


@export(method=False)
def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """torch.frobenius_norm: the 2-norm of the elements over one or two dims."""
    from .. import linalg
    _deprecated("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be "
                "removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` "
                "instead")
    dims = _norm_dims(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    return linalg.vector_norm(input, 2, dims, keepdim, out=out)


# ------------------------------------------------------------------ removed, still bound
_REMOVED = "This function was deprecated since version 1.9 and is now removed."

_REPLACEMENTS = {
    "lstsq": (
        "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in the "
        "returned tuple (although it returns other information about the problem).\n\n"
        "To get the QR decomposition consider using `torch.linalg.qr`.\n\n"
        "The returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n "
        "columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the "
        "field 'residuals' of the returned named tuple.\n\n"
        "The unpacking of the solution, as in\n"
        "X, _ = torch.lstsq(B, A).solution[:A.size(1)]\n"
        "should be replaced with:\n"
        "X = torch.linalg.lstsq(A, B).solution"),
    "solve": (
        "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its "
        "arguments reversed and does not return the LU factorization.\n\n"
        "To get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
        "`torch.lu_unpack`.\n"
        "X = torch.solve(B, A).solution should be replaced with:\n"
        "X = torch.linalg.solve(A, B)"),
    "symeig": (
        "The default behavior has changed from using the upper triangular portion of the matrix by "
        "default to using the lower triangular portion.\n\n"
        "L, _ = torch.symeig(A, upper=upper) should be replaced with:\n"
        "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\n"
        "L, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n"
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"),
    "eig": (
        "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real "
        "tensors mimicking complex tensors.\n\n"
        "L, _ = torch.eig(A) should be replaced with:\n"
        "L_complex = torch.linalg.eigvals(A)\n\nand\n\n"
        "L, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = torch.linalg.eig(A)"),
    "matrix_rank": (
        "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was "
        "renamed in `torch.linalg.matrix_rank()` to 'hermitian'."),
}


def _removed(name, method):
    """A stand-in for a removed op: raises torch's RuntimeError naming the replacement."""
    def removed(*args, **kwargs):
        separator = "" if _REPLACEMENTS[name].startswith("\n") else " "
        raise RuntimeError(_REMOVED + separator + _REPLACEMENTS[name])

    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = f"torch.{name}: removed in torch 1.9; raises RuntimeError naming its replacement."
    return export(removed, method=method)


for _name in ("lstsq", "solve", "symeig", "eig"):
    _removed(_name, method=True)
_removed("matrix_rank", method=False)
