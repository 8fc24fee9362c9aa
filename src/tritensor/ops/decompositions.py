"""Dense decompositions: LU (partial pivoting), Cholesky, triangular solves, and what is
built on them (det, slogdet, inv, solve, cholesky_solve, cholesky_inverse).

The compute is written on the Tensor surface, so the same code runs on every device: each
factorization is a loop over columns of batched tensor ops (argmax of the pivot column,
row swaps by gather/scatter, rank-1 updates), i.e. O(n) launches per call. The loops run
inside ``Function.forward`` (grad mode off); each public op is one autograd node named like
torch's, whose backward is torch's documented formula written with the differentiable ops
of this module, so double backward works.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .. import dtypes as dt
from ..autograd.function import Function
from ._common import broadcast_shapes
from ._registry import export
from .creation import arange, eye, with_out, zeros
from .elementwise import _torch_name, where
from .joining import cat, stack


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


def _return_type(name, fields):
    """A ``torch.return_types.<name>``-like named tuple."""
    return namedtuple(name, fields)


SlogdetResult = _return_type("linalg_slogdet", "sign logabsdet")
InvExResult = _return_type("linalg_inv_ex", "inverse info")
SolveExResult = _return_type("linalg_solve_ex", "result info")
CholeskyExResult = _return_type("linalg_cholesky_ex", "L info")
LuFactorResult = _return_type("linalg_lu_factor", "LU pivots")
LuFactorExResult = _return_type("linalg_lu_factor_ex", "LU pivots info")
LuResult = _return_type("linalg_lu", "P L U")
LuUnpackResult = _return_type("lu_unpack", "P L U")
QrResult = _return_type("linalg_qr", "Q R")


# ------------------------------------------------------------------ argument checks
def _check_matrix(name, A, kernel=None, ints_by_kernel=False):
    """torch's checks of a (batch of) square float32/float64 matrices. ``kernel``: the ATen
    CPU kernel whose missing 16-bit (and, with ``ints_by_kernel``, integer) instantiation
    torch reports as NotImplementedError; without it 16-bit inputs are a RuntimeError."""
    if not A.dtype.is_floating_point:
        if ints_by_kernel:
            raise _no_kernel(kernel, A.dtype)
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        if kernel:
            raise _no_kernel(kernel, A.dtype)
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {_torch_name(A.dtype)}")
    check_square(name, A)


def check_square(name, A):
    """torch's squareCheckInputs: a (batch of) square matrices."""
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    rows, cols = A.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {rows} by {cols} "
                           "matrices")


def _no_kernel(kernel, dtype):
    """torch's error for a dtype its CPU kernel is not instantiated for."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{_torch_name(dtype)}\'')


def _check_same_dtype(name, A, B, a_name="A"):
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected {a_name} and B to have the same dtype, but found {a_name} of "
                           f"type {_torch_name(A.dtype)} and B of type {_torch_name(B.dtype)} instead")


def check_b_and_A_dtype(b, A):  # noqa: N802 - torch's names for the operands
    """torch's solve-family dtype check (cholesky_solve, triangular_solve, ldl_solve)."""
    if b.dtype is not A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_torch_name(b.dtype)} and A of type {_torch_name(A.dtype)} instead.")


def _raise_on_info(info, describe, error=LinAlgError):
    """Raise ``error`` for the first nonzero ``info`` (a host read, as torch's check)."""
    flat = info.reshape(-1).tolist()
    for batch, code in enumerate(flat):
        if code:
            prefix = f"(Batch element {batch}): " if info.dim() else ""
            raise error(describe(prefix, code))


def _batch_expand(A, B):
    """A and B with their batch dims broadcast against each other."""
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    return A.expand(batch + tuple(A.shape[-2:])), B.expand(batch + tuple(B.shape[-2:]))


def _reduce_to(grad, shape):
    """A gradient of a batch-broadcast operand summed back to the operand's shape."""
    return grad if tuple(grad.shape) == tuple(shape) else grad.sum_to_size(shape)


# ------------------------------------------------------------------ the loops (no autograd)
def _lu_packed(A):
    """Right-looking LU with partial pivoting of square (*, n, n) ``A``: the packed LU (unit
    L below the diagonal, U on and above), LAPACK's 1-based int32 pivots and info (the
    1-based index of the first zero pivot, 0 if none)."""
    LU = A.contiguous().clone()
    batch, n = tuple(A.shape[:-2]), A.shape[-1]
    info = zeros(batch, dtype=dt.int32, device=A.device)
    pivots = []
    for k in range(n):
        p = LU[..., k:, k].abs().argmax(-1) + k
        pivots.append(p)
        rows = p[..., None, None].expand(batch + (1, n))
        pivot_row, row_k = LU.gather(-2, rows), LU[..., k:k + 1, :].clone()
        LU[..., k:k + 1, :] = pivot_row
        LU.scatter_(-2, rows, row_k)
        pivot = LU[..., k, k]
        zero = pivot == 0
        info = where((info == 0) & zero, k + 1, info).to(dt.int32)
        if k + 1 < n:  # a zero pivot has a zero column below it: leave it (LAPACK does not divide)
            # scaled by the pivot's reciprocal as LAPACK's getf2 (and MKL, whose small-matrix
            # kernel divides in its last step up to 4 x 4): torch's LU bit for bit up to 16 x 16
            safe_pivot = where(zero, 1, pivot)[..., None]
            if k == n - 2 and n <= 4:
                LU[..., k + 1:, k] /= safe_pivot
            else:
                LU[..., k + 1:, k] *= 1 / safe_pivot
            LU[..., k + 1:, k + 1:] -= LU[..., k + 1:, k:k + 1] * LU[..., k:k + 1, k + 1:]
    if not pivots:
        return LU, zeros(batch + (0,), dtype=dt.int32, device=A.device), info
    return LU, (stack(pivots, -1) + 1).to(dt.int32), info


def _permutation(pivots, n, dtype):
    """The permutation matrix P of A = P L U from LAPACK's sequential row swaps."""
    batch = tuple(pivots.shape[:-1])
    order = arange(n, dtype=dt.int64, device=pivots.device).expand(batch + (n,)).clone()
    swaps = pivots.to(dt.int64) - 1
    for k in range(pivots.shape[-1]):
        target = swaps[..., k:k + 1]
        mine, theirs = order[..., k:k + 1].clone(), order.gather(-1, target)
        order[..., k:k + 1] = theirs
        order.scatter_(-1, target, mine)
    P = zeros(batch + (n, n), dtype=dtype, device=pivots.device)
    return P.scatter_(-2, order[..., None, :], 1)  # P[order[i], i] = 1


def _tri_solve(A, B, upper, unitriangular):
    """X with A X = B for triangular ``A`` (only its ``upper``/lower triangle is read), by
    columns: solve one unknown row, eliminate it from the rows still to solve."""
    A, X = _batch_expand(A, B)
    X = X.contiguous().clone()
    n = A.shape[-1]
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        if not unitriangular:
            X[..., i:i + 1, :] /= A[..., i:i + 1, i:i + 1]
        rest = slice(0, i) if upper else slice(i + 1, n)
        if (i if upper else n - i - 1):
            X[..., rest, :] -= A[..., rest, i:i + 1] * X[..., i:i + 1, :]
    return X


def _tri_solve_sided(A, B, upper, left, unitriangular):
    """A X = B (``left``) or X A = B, the latter as the transposed left problem."""
    if left:
        return _tri_solve(A, B, upper, unitriangular)
    return _tri_solve(A.mT, B.mT, not upper, unitriangular).mT


def _lu_solve_packed(LU, pivots, B):
    """X with P L U X = B."""
    n = LU.shape[-1]
    y = _permutation(pivots, n, LU.dtype).mT @ B
    return _tri_solve(LU, _tri_solve(LU, y, False, True), True, False)


def _cholesky_lower(A):
    """Column-by-column Cholesky of the lower triangle of ``A``: (L, info), info the order of
    the first leading minor that is not positive-definite (0 if none)."""
    batch, n = tuple(A.shape[:-2]), A.shape[-1]
    L = zeros(A.shape, dtype=A.dtype, device=A.device)
    info = zeros(batch, dtype=dt.int32, device=A.device)
    for j in range(n):
        row = L[..., j:j + 1, :j]
        d = A[..., j, j] - (row * row).sum((-2, -1))
        bad = ~(d > 0)  # NaN is not positive-definite either
        info = where((info == 0) & bad, j + 1, info).to(dt.int32)
        root = d.sqrt()
        L[..., j, j] = root
        if j + 1 < n:
            below = A[..., j + 1:, j] - (L[..., j + 1:, :j] * row).sum(-1)
            L[..., j + 1:, j] = below / root[..., None]
    return L, info


def _cholesky_solve_factor(B, L, upper):
    """(L L^H)^-1 B, or (U^H U)^-1 B with ``upper``."""
    if upper:
        return _tri_solve(L, _tri_solve(L.mT, B, False, False), True, False)
    return _tri_solve(L.mT, _tri_solve(L, B, False, False), True, False)


def _householder_qr(A):
    """Householder QR of (*, m, n) ``A`` with LAPACK's reflectors (dlarfg: R's diagonal is
    -sign(alpha) |x|, no reflection when the column below the diagonal is already zero):
    (Q (*, m, m) = H_1 ... H_k, R (*, m, n) upper triangular)."""
    batch, (m, n) = tuple(A.shape[:-2]), tuple(A.shape[-2:])
    R = A.contiguous().clone()
    Q = eye(m, dtype=A.dtype, device=A.device).expand(batch + (m, m)).clone()
    for j in range(min(m, n)):
        alpha, below = R[..., j, j], R[..., j + 1:, j]
        tail = (below * below).sum(-1)
        norm = (alpha * alpha + tail).sqrt()
        beta = where(alpha >= 0, -norm, norm)
        reflect = tail > 0
        safe_beta = where(reflect, beta, 1)
        tau = where(reflect, (beta - alpha) / safe_beta, 0)[..., None, None]
        scale = where(reflect, 1 / where(reflect, alpha - beta, 1), 0)
        v = cat([R.new_ones(batch + (1,)), below * scale[..., None]], -1)  # (*, m - j)
        R[..., j:, j:] -= (tau * v[..., :, None]) * (v[..., None, :] @ R[..., j:, j:])
        Q[..., :, j:] -= (Q[..., :, j:] @ v[..., :, None]) * (tau * v[..., None, :])
    return Q, R.triu()


def _identity_like(A):
    n = A.shape[-1]
    return eye(n, dtype=A.dtype, device=A.device).expand(tuple(A.shape))


# ------------------------------------------------------------------ autograd nodes
def _lu_backward(P, L, U, gL, gU):
    """torch's square-LU gradient: gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H. Only the
    strictly lower part of gL and the upper part of gU enter, so a packed gLU may be passed
    as both."""
    phi = (L.mH @ gL).tril(-1) + (gU @ U.mH).triu()
    x = solve_triangular(L.mH, phi, upper=True, unitriangular=True)
    return P @ solve_triangular(U.mH, x, upper=False, left=False)


def _unpacked(LU, pivots):
    """(P, L, U) of a square packed LU (no autograd)."""
    return (_permutation(pivots, LU.shape[-1], LU.dtype), LU.tril(-1) + _identity_like(LU), LU.triu())


class _LuFactorEx(Function):
    """LU with partial pivoting; backward ``_lu_backward`` with the packed gradient."""

    node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, info = _lu_packed(A)
        ctx.save_for_backward(LU, pivots)
        ctx.mark_non_differentiable(pivots, info)
        return LU, pivots, info

    @staticmethod
    def backward(ctx, gLU, _gpivots=None, _ginfo=None):
        LU, pivots = ctx.saved_tensors
        P, L, U = lu_unpack(LU, pivots)
        return _lu_backward(P, L, U, gLU, gLU)


class _Lu(Function):
    """A = P L U, unpacked; backward ``_lu_backward``."""

    node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, _ = _lu_packed(A)
        P, L, U = _unpacked(LU, pivots)
        ctx.save_for_backward(P, L, U)
        ctx.mark_non_differentiable(P)
        return P, L, U

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        P, L, U = ctx.saved_tensors
        return _lu_backward(P, L, U, gL, gU)


class _LuUnpack(Function):
    """(P, L, U) from a packed LU; backward tril(gL, -1) + triu(gU)."""

    node_name = "LuUnpackBackward0"

    @staticmethod
    def forward(ctx, LU, pivots, unpack_data, unpack_pivots):
        P, L, U = _unpacked(LU, pivots)
        empty = LU.new_empty((0,))
        P = P if unpack_pivots else empty
        L, U = (L, U) if unpack_data else (empty.clone(), empty.clone())
        ctx.mark_non_differentiable(P)
        return P, L, U

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        return gL.tril(-1) + gU.triu(), None, None, None


class _LuSolve(Function):
    """X with A X = B (A^H X = B with ``adjoint``; X A = B, X A^H = B without ``left``).
    Backward: gB solves the adjoint system, gA = -gB X^H (or its side's form), and
    gLU = tril(P^T gA U^H, -1) + triu(L^H P^T gA) from A = P L U."""

    node_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, LU, pivots, B, left, adjoint):
        X = _lu_solve_sided(LU, pivots, B, left, adjoint)
        ctx.save_for_backward(LU, pivots, X)
        ctx.flags, ctx.shapes = (left, adjoint), (tuple(LU.shape), tuple(B.shape))
        return X

    @staticmethod
    def backward(ctx, grad):
        LU, pivots, X = ctx.saved_tensors
        left, adjoint = ctx.flags
        gB = lu_solve(LU, pivots, grad, left=left, adjoint=not adjoint)
        if left:
            gA = -(X @ gB.mH) if adjoint else -(gB @ X.mH)
        else:
            gA = -(gB.mH @ X) if adjoint else -(X.mH @ gB)
        P, L, U = lu_unpack(LU, pivots)
        gA = P.mT @ gA
        gLU = (gA @ U.mH).tril(-1) + (L.mH @ gA).triu()
        lu_shape, b_shape = ctx.shapes
        return _reduce_to(gLU, lu_shape), None, _reduce_to(gB, b_shape), None, None


def _lu_solve_sided(LU, pivots, B, left, adjoint):
    """The four lu_solve systems from two triangular solves and a permutation (no autograd)."""
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return _lu_solve_sided(LU, pivots, B.mH, True, not adjoint).mH
    P = _permutation(pivots, LU.shape[-1], LU.dtype)
    if adjoint:  # A^H = U^H L^H P^T
        y = _tri_solve(LU.mH, B, False, False)
        return P @ _tri_solve(LU.mH, y, True, True)
    return _tri_solve(LU, _tri_solve(LU, P.mT @ B, False, True), True, False)


class _Det(Function):
    """det = sign(P) prod(diag U); backward g det A^-T (A invertible)."""

    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, _ = _lu_packed(_det_operand(A))
        diag = LU.diagonal(0, -2, -1)
        det = _pivot_sign(pivots, A.dtype) * _ordered_product(diag)
        ctx.save_for_backward(A, det)
        return det

    @staticmethod
    def backward(ctx, grad):
        A, det = ctx.saved_tensors
        return (grad * det)[..., None, None] * inv(A).mT


def _ordered_product(diag):
    """The product over the last dim multiplied in order, in the dtype (torch's det; a
    reduction may pair the factors differently, a float32 result then differs in the last bit)."""
    if diag.shape[-1] == 0:
        return diag.prod(-1)
    product = diag[..., 0]
    for k in range(1, diag.shape[-1]):
        product = product * diag[..., k]
    return product


def _det_operand(A):
    """det(A^T) = det(A): torch factors the transpose of a row-major A (LAPACK's column-major
    view of its memory, no copy), so det's rounding is that of A^T's LU; the same here."""
    return A.mT if A.is_contiguous() else A


def _pivot_sign(pivots, dtype):
    """(-1)^(number of actual row swaps)."""
    positions = arange(1, pivots.shape[-1] + 1, dtype=dt.int32, device=pivots.device)
    swaps = (pivots != positions).to(dt.int64).sum(-1)
    return 1 - 2 * (swaps % 2).to(dtype)


class _Slogdet(Function):
    """(sign, log|det|) from the LU diagonal; only log|det| has a gradient: g A^-T."""

    node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, _ = _lu_packed(_det_operand(A))
        diag = LU.diagonal(0, -2, -1)
        sign = _pivot_sign(pivots, A.dtype) * diag.sign().prod(-1)
        logabsdet = diag.abs().log().sum(-1)
        ctx.save_for_backward(A)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, _gsign, glogabsdet):
        (A,) = ctx.saved_tensors
        return glogabsdet[..., None, None] * inv(A).mT


class _InvEx(Function):
    """A^-1 by solving A X = I; backward -A^-H g A^-H."""

    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, info = _lu_packed(A)
        X = _lu_solve_packed(LU, pivots, _identity_like(A))
        ctx.save_for_backward(X)
        ctx.mark_non_differentiable(info)
        return X, info

    @staticmethod
    def backward(ctx, grad, _ginfo=None):
        (X,) = ctx.saved_tensors
        return -(X.mH @ grad @ X.mH)


class _SolveEx(Function):
    """X with A X = B (``left``) or X A = B; B batch-broadcasts; ``vector``: B is (*, n), a column.
    Backward: gB = solve(A^H, g) (same side), gA = -gB X^H (left) or -X^H gB."""

    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B, left, vector):
        Bm = B[..., None] if vector else B
        LU, pivots, info = _lu_packed(A)
        X = _lu_solve_packed(LU, pivots, Bm) if left else _right_solve(LU, pivots, Bm)
        ctx.save_for_backward(A, X)
        ctx.left, ctx.vector, ctx.shapes = left, vector, (tuple(A.shape), tuple(B.shape))
        ctx.mark_non_differentiable(info)
        return (X[..., 0] if vector else X), info

    @staticmethod
    def backward(ctx, grad, _ginfo=None):
        A, X = ctx.saved_tensors
        left, vector = ctx.left, ctx.vector
        if vector:
            grad = grad[..., None]
        gB = solve(A.mH, grad, left=left)
        gA = -(gB @ X.mH) if left else -(X.mH @ gB)
        if vector:
            gB = gB[..., 0]
        a_shape, b_shape = ctx.shapes
        return _reduce_to(gA, a_shape), _reduce_to(gB, b_shape), None, None


def _right_solve(LU, pivots, B):
    """X with X P L U = B: X = B U^-1 L^-1 P^T."""
    y = _tri_solve_sided(LU, B, True, False, False)
    y = _tri_solve_sided(LU, y, False, False, True)
    return y @ _permutation(pivots, LU.shape[-1], LU.dtype).mT


class _SolveTriangular(Function):
    """Triangular solve; backward gB = solve_triangular(A^H, g) (same side, other triangle),
    gA = -gB X^H (left) or -X^H gB, restricted to A's triangle (strictly, if unitriangular)."""

    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        X = _tri_solve_sided(A, B, upper, left, unitriangular)
        ctx.save_for_backward(A, X)
        ctx.flags, ctx.shapes = (upper, left, unitriangular), (tuple(A.shape), tuple(B.shape))
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        upper, left, unit = ctx.flags
        gB = solve_triangular(A.mH, grad, upper=not upper, left=left, unitriangular=unit)
        gA = -(gB @ X.mH) if left else -(X.mH @ gB)
        offset = 1 if unit else 0
        gA = gA.triu(offset) if upper else gA.tril(-offset)
        a_shape, b_shape = ctx.shapes
        return _reduce_to(gA, a_shape), _reduce_to(gB, b_shape), None, None, None


class _CholeskyEx(Function):
    """A = L L^H; backward (Murray 2016): gA = L^-H sym(Phi(L^H gL)) L^-1, Phi the lower
    triangle with the diagonal halved and sym(M) = (M + M^H) / 2."""

    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper):
        if upper:  # U^H U from A's upper triangle: the lower factor of A^H, transposed
            L, info = _cholesky_lower(A.mH)
            L = L.mH.contiguous()
        else:
            L, info = _cholesky_lower(A)
        ctx.save_for_backward(L)
        ctx.upper = upper
        ctx.mark_non_differentiable(info)
        return L, info

    @staticmethod
    def backward(ctx, grad, _ginfo=None):
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L, grad = L.mH, grad.mH
        phi = (L.mH @ grad).tril()
        phi = phi - 0.5 * phi.diagonal(0, -2, -1).diag_embed()
        sym = 0.5 * (phi + phi.mH)
        x = solve_triangular(L.mH, sym, upper=True)
        return solve_triangular(L, x, upper=False, left=False), None


class _CholeskySolve(Function):
    """X = (L L^H)^-1 B; backward gB = cholesky_solve(g, L), gL = -(gB X^H + X gB^H) L
    (or -U (...) for the upper factor)."""

    node_name = "CholeskySolveBackward0"

    @staticmethod
    def forward(ctx, B, L, upper):
        X = _cholesky_solve_factor(B, L, upper)
        ctx.save_for_backward(L, X)
        ctx.upper, ctx.shapes = upper, (tuple(B.shape), tuple(L.shape))
        return X

    @staticmethod
    def backward(ctx, grad):
        L, X = ctx.saved_tensors
        gB = cholesky_solve(grad, L, ctx.upper)
        common = gB @ X.mH
        common = common + common.mH
        gL = -(L @ common) if ctx.upper else -(common @ L)
        b_shape, l_shape = ctx.shapes
        return _reduce_to(gB, b_shape), _reduce_to(gL, l_shape), None


class _CholeskyInverse(Function):
    """Y = (L L^H)^-1; backward gL = -Y (g + g^H) Y L (or -U Y (g + g^H) Y)."""

    node_name = "CholeskyInverseBackward0"

    @staticmethod
    def forward(ctx, L, upper):
        Y = _cholesky_solve_factor(_identity_like(L), L, upper)
        ctx.save_for_backward(L, Y)
        ctx.upper = upper
        return Y

    @staticmethod
    def backward(ctx, grad):
        L, Y = ctx.saved_tensors
        common = Y @ (grad + grad.mH) @ Y
        return (-(L @ common) if ctx.upper else -(common @ L)), None


class _Qr(Function):
    """A = Q R by Householder reflections. Backward for m >= n (reduced, or square complete):
    gA = (gQ + Q copyltu(M)) R^-H with M = R gR^H - gQ^H Q and copyltu(M) the symmetric matrix
    of M's lower triangle; for m < n, A = [X | Y] and R = [U | V]: X gets the square formula
    with gQ + Y gV^H, Y gets Q gV."""

    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        Q, R = _householder_qr(A)
        m, n = A.shape[-2:]
        k = min(m, n)
        if mode != "complete":  # copies, not views of the full factors (outputs must own their data)
            Q = Q[..., :, :k].clone() if k < m else Q
            R = R[..., :k, :].clone() if k < m else R
        if mode == "r":
            Q = A.new_empty((0,))
        ctx.save_for_backward(A, Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                               "differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if m >= n:
            return _qr_square_backward(Q, R, gQ, gR), None
        U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
        gX = _qr_square_backward(Q, U, gQ + A[..., :, m:] @ gV.mH, gU)
        return cat([gX, Q @ gV], -1), None


def _qr_square_backward(Q, R, gQ, gR):
    """The QR gradient when R is square (Q's columns span A's)."""
    M = R @ gR.mH - gQ.mH @ Q
    sym = M.tril() + M.tril(-1).mH
    return solve_triangular(R.mH, gQ + Q @ sym, upper=False, left=False)


# ------------------------------------------------------------------ public ops
def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """torch.linalg.lu_factor_ex: (LU, pivots, info), square matrices only."""
    _check_lu_input("torch.lu_factor", "linalg.lu_factor", A, pivot)
    LU, pivots, info = _LuFactorEx.apply(A)
    if check_errors:
        _raise_on_info(info, lambda prefix, k: f"torch.linalg.lu_factor_ex: {prefix}U[{k},{k}] is zero.")
    return LuFactorExResult(LU, pivots, info)


def _check_lu_input(rank_name, name, A, pivot):
    """torch's checks of an LU factorization's input (``rank_name`` and ``name`` are how its
    messages name the op), and tritensor's limit to square matrices."""
    if A.dim() < 2:
        raise RuntimeError(f"{rank_name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("lu_cpu", A.dtype)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    if A.shape[-2] != A.shape[-1]:
        raise NotImplementedError(f"{name}: tritensor factors square matrices only, got "
                                  f"{A.shape[-2]} by {A.shape[-1]} matrices")


def lu_factor(A, *, pivot=True):
    """torch.linalg.lu_factor: (LU, pivots); a zero pivot raises RuntimeError, as torch (not
    LinAlgError)."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    _raise_on_info(info, lambda prefix, k: (
        f"torch.linalg.lu_factor: {prefix}U[{k},{k}] is zero and using it on lu_solve would result in a "
        "division by zero. If you still want to perform the factorization, consider calling "
        "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"), RuntimeError)
    return LuFactorResult(LU, pivots)


@export(method=False)
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """torch.lu_unpack: P, L (unit lower), U from a packed square LU (empty when not unpacked)."""
    if LU_data.dim() < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    if LU_data.shape[-2] != LU_data.shape[-1]:
        raise NotImplementedError(f"lu_unpack: tritensor unpacks square LU factors only, got "
                                  f"{LU_data.shape[-2]} by {LU_data.shape[-1]} matrices")
    return LuUnpackResult(*_LuUnpack.apply(LU_data, LU_pivots, unpack_data, unpack_pivots))


def lu(A, *, pivot=True):
    """torch.linalg.lu: (P, L, U) with A = P L U; singular inputs do not raise."""
    _check_lu_input("linalg.lu", "linalg.lu", A, pivot)
    return LuResult(*_Lu.apply(A))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """torch.linalg.lu_solve: X with A X = B (A^H X = B with ``adjoint``; X A = B, X A^H = B
    with ``left=False``), A = P L U; batch dims broadcast."""
    _check_matrix("torch.linalg.lu_solve", LU, kernel="linalg.lu_solve_cpu")
    _check_same_dtype("linalg.lu_solve", LU, B, "LU")
    n = LU.shape[-1]
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return _LuSolve.apply(LU, pivots, B, left, adjoint)


@export(method=True)
@with_out
def det(A):
    """torch.det / torch.linalg.det by LU; the gradient assumes A invertible (torch switches to
    an SVD for singular A)."""
    _check_matrix("linalg.det", A, kernel="lu_cpu")
    return _Det.apply(A)


@export(method=True)
def slogdet(A):
    """torch.slogdet / torch.linalg.slogdet: (sign, log|det|); singular A gives (0, -inf)."""
    _check_matrix("linalg.slogdet", A)
    return SlogdetResult(*_Slogdet.apply(A))


@export(method=True)
def logdet(A):
    """torch.logdet: log det, NaN where det < 0 (torch's composite over slogdet)."""
    _check_matrix("logdet", A)
    sign, logabsdet = _Slogdet.apply(A)
    return where(sign == -1, math.nan, logabsdet)


def inv_ex(A, *, check_errors=False):
    """torch.linalg.inv_ex: (inverse, info), info > 0 for singular matrices."""
    _check_matrix("linalg.inv", A)
    X, info = _InvEx.apply(A)
    if check_errors:
        _raise_on_info(info, _singular_inverse)
    return InvExResult(X, info)


def _singular_inverse(prefix, k):
    return (f"linalg.inv: {prefix}The diagonal element {k} is zero, the inversion could not be "
            "completed because the input matrix is singular.")


@with_out
def inv(A):
    """torch.linalg.inv; a singular matrix raises LinAlgError."""
    X, info = inv_ex(A)
    _raise_on_info(info, _singular_inverse)
    return X


@export(method=True)
@with_out
def inverse(A):
    """torch.inverse: torch.linalg.inv."""
    return inv(A)


def _solve_operands(name, A, B, left):
    """torch's linalg.solve checks; returns whether B is a (batch of) vector(s)."""
    _check_matrix(name, A, kernel="lu_cpu")
    _check_same_dtype(name, A, B)
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    n = A.shape[-1]
    rows, cols = (B.shape[-1], 1) if vector else B.shape[-2:]
    if (rows if left else cols) != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1 if vector else -2]))
    return vector


def solve_ex(A, B, *, left=True, check_errors=False):
    """torch.linalg.solve_ex: (result, info); B may be a (batch of) vector(s)."""
    vector = _solve_operands("linalg.solve", A, B, left)
    X, info = _SolveEx.apply(A, B, left, vector)
    if check_errors:
        _raise_on_info(info, _singular_solve)
    return SolveExResult(X, info)


def _singular_solve(prefix, k):
    return f"torch.linalg.solve: {prefix}The solver failed because the input matrix is singular."


@with_out
def solve(A, B, *, left=True):
    """torch.linalg.solve by LU with partial pivoting; a singular A raises LinAlgError."""
    X, info = solve_ex(A, B, left=left)
    _raise_on_info(info, _singular_solve)
    return X


@with_out
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """torch.linalg.solve_triangular (batch dims broadcast); no singularity check, as torch."""
    for t in (A, B):
        if t.dtype not in (dt.float32, dt.float64):
            raise _no_kernel("triangular_solve_cpu", t.dtype)
    _check_matrix("linalg.solve_triangular", A)
    if B.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    common = dt.promote_types(A.dtype, B.dtype)  # torch promotes here (solve does not)
    A, B = A.to(common), B.to(common)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return _SolveTriangular.apply(A, B, upper, left, unitriangular)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """torch.linalg.cholesky_ex: (L, info), info > 0 for matrices not positive-definite."""
    _check_matrix("linalg.cholesky", A, kernel="cholesky_cpu")
    L, info = _CholeskyEx.apply(A, upper)
    if check_errors:
        _raise_on_info(info, _not_positive_definite)
    return CholeskyExResult(L, info)


def _not_positive_definite(prefix, k):
    return (f"linalg.cholesky: {prefix}The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {k} is not positive-definite).")


@with_out
def cholesky(A, *, upper=False):
    """torch.linalg.cholesky (reads the lower triangle, the upper one with ``upper``); a matrix
    that is not positive-definite raises LinAlgError."""
    L, info = cholesky_ex(A, upper=upper)
    _raise_on_info(info, _not_positive_definite)
    return L


@export(method=True)
@with_out
def cholesky_solve(B, L, upper=False):
    """torch.cholesky_solve: (L L^H)^-1 B (batch dims broadcast)."""
    for t in (B, L):
        if t.dtype not in (dt.float32, dt.float64):
            raise _no_kernel("cholesky_solve_cpu", t.dtype)
    if B.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    if L.dim() < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    if L.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {L.shape[-2]} by "
                           f"{L.shape[-1]} matrices")
    check_b_and_A_dtype(B, L)
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {L.shape[-1]} by "
                           f"{L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    return _CholeskySolve.apply(B, L, upper)


@export(method=True)
@with_out
def cholesky_inverse(L, upper=False):
    """torch.cholesky_inverse: (L L^H)^-1 from the Cholesky factor."""
    if L.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("cholesky_inverse_out_cpu", L.dtype)
    _check_matrix("cholesky_inverse", L)
    return _CholeskyInverse.apply(L, upper)


def qr(A, mode="reduced"):
    """torch.linalg.qr: modes 'reduced' (Q (*, m, k), R (*, k, n)), 'complete' (Q (*, m, m))
    and 'r' (R only, Q empty), k = min(m, n); Householder reflections as LAPACK's geqrf/orgqr."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.qr: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("geqrf_cpu", A.dtype)
    if A.dim() < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    return QrResult(*_Qr.apply(A, mode))
