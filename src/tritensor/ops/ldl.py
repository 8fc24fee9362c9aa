"""torch.linalg.ldl_factor / ldl_factor_ex / ldl_solve: symmetric indefinite factorization
A = P L D L^T P^T with Bunch-Kaufman pivoting, in LAPACK sytrf's layout (lower triangle).

The result is what torch returns: ``LD`` holds the unit-lower L below the diagonal and the
1x1/2x2 blocks of D on and just below it (its strict upper triangle is zero); ``pivots``
are 1-based, a positive k for a 1x1 block whose row/column was swapped with k, and the
same negative -k twice for a 2x2 block whose second row/column was swapped with k. As in
sytrf, each interchange touches only the trailing submatrix, so L's earlier columns keep
their rows: solves replay the interchanges in order (sytrs) rather than forming P.

Which pivot to take depends on the values of each matrix, so every matrix of a batch is
factored by its own column loop: the pivot decision reads a column (and at most one row)
on the host, the updates are tensor ops, so the same code runs on every device. Meant for
small and batched matrices (O(n) small launches per matrix). torch has no derivative for
either op: outputs of inputs that require grad get a node whose backward raises, as torch's.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .. import dtypes as dt
from ..autograd.function import Function
from ._common import broadcast_shapes
from .creation import zeros
from .decompositions import _no_kernel, check_b_and_A_dtype, check_square
from .elementwise import _torch_name
from .joining import stack

LdlFactorResult = namedtuple("linalg_ldl_factor", "LD pivots")
LdlFactorExResult = namedtuple("linalg_ldl_factor_ex", "LD pivots info")

#: Bunch-Kaufman's growth bound (1 + sqrt(17)) / 8: a 1x1 pivot is kept while |a_kk| >= ALPHA * colmax
ALPHA = (1 + math.sqrt(17)) / 8


# ------------------------------------------------------------------ factorization (one matrix)
def _swap(A, first, second):
    """Exchange two equally shaped regions of ``A`` (index tuples)."""
    kept = A[first].clone()
    A[first] = A[second]
    A[second] = kept


def _interchange(A, k, kk, kp, kstep):
    """Symmetric interchange of rows/columns kk and kp (kp > kk) of the trailing lower
    triangle A[k:, k:], as sytf2 does it: only the stored (lower) entries move."""
    _swap(A, (slice(kp + 1, None), kk), (slice(kp + 1, None), kp))
    if kp - kk > 1:
        _swap(A, (slice(kk + 1, kp), kk), (kp, slice(kk + 1, kp)))
    _swap(A, (kk, kk), (kp, kp))
    if kstep == 2:
        _swap(A, (k + 1, k), (kp, k))


def _choose_pivot(A, k, n):
    """sytf2's pivot choice at step k: (kstep, kp, singular) with kp the row/column that
    moves to position k (kstep 1) or k + 1 (kstep 2)."""
    column = A[k:, k].abs().tolist()
    absakk, below = column[0], column[1:]
    colmax = max(below) if below else 0.0
    if max(absakk, colmax) == 0 or math.isnan(absakk):
        return 1, k, True
    if absakk >= ALPHA * colmax:
        return 1, k, False
    imax = k + 1 + below.index(colmax)
    row = A[imax, k:imax].abs().tolist() + A[imax + 1:, imax].abs().tolist()
    rowmax = max(row)
    if absakk >= ALPHA * colmax * (colmax / rowmax):
        return 1, k, False
    if abs(A[imax, imax].item()) >= ALPHA * rowmax:
        return 1, imax, False
    return 2, imax, False


def _eliminate_1x1(A, k):
    """Rank-1 update of the trailing lower triangle by the 1x1 pivot A[k, k]."""
    r1 = 1 / A[k, k]
    x = A[k + 1:, k].clone()
    A[k + 1:, k + 1:] -= x[:, None] * (r1 * x)[None, :]
    A[k + 1:, k] *= r1


def _eliminate_2x2(A, k):
    """Rank-2 update by the 2x2 pivot block A[k:k+2, k:k+2] (sytf2's scaled formulas, so
    the multipliers round as LAPACK's)."""
    d21 = A[k + 1, k]
    d11, d22 = A[k + 1, k + 1] / d21, A[k, k] / d21
    d21 = (1 / (d11 * d22 - 1)) / d21
    a0, a1 = A[k + 2:, k].clone(), A[k + 2:, k + 1].clone()
    wk = d21 * (d11 * a0 - a1)
    wkp1 = d21 * (d22 * a1 - a0)
    A[k + 2:, k + 2:] -= a0[:, None] * wk[None, :] + a1[:, None] * wkp1[None, :]
    A[k + 2:, k] = wk
    A[k + 2:, k + 1] = wkp1


def _sytrf_lower(A):
    """(LD, 1-based pivots list, info) of one n x n matrix (its lower triangle)."""
    A = A.clone()
    n = A.shape[-1]
    pivots, info, k = [0] * n, 0, 0
    while k < n:
        kstep, kp, singular = _choose_pivot(A, k, n)
        if singular:
            info = info or k + 1
        else:
            kk = k + kstep - 1
            if kp != kk:
                _interchange(A, k, kk, kp, kstep)
            if kstep == 1 and k + 1 < n:
                _eliminate_1x1(A, k)
            elif kstep == 2 and k + 2 < n:
                _eliminate_2x2(A, k)
        if kstep == 1:
            pivots[k] = kp + 1
        else:
            pivots[k] = pivots[k + 1] = -(kp + 1)
        k += kstep
    return A.tril(), pivots, info


def _ldl_factor_batch(A):
    """(LD, int32 pivots, int32 info) of a (batch of) matrices, one matrix at a time."""
    batch, n = tuple(A.shape[:-2]), A.shape[-1]
    flat = A.reshape((math.prod(batch), n, n))
    results = [_sytrf_lower(flat[i]) for i in range(flat.shape[0])]
    if not results:
        return (A.new_zeros(A.shape), zeros(batch + (n,), dtype=dt.int32, device=A.device),
                zeros(batch, dtype=dt.int32, device=A.device))
    LD = stack([r[0] for r in results]).reshape(A.shape)
    pivots = A.new_tensor([r[1] for r in results], dtype=dt.int32).reshape(batch + (n,))
    info = A.new_tensor([r[2] for r in results], dtype=dt.int32).reshape(batch)
    return LD, pivots, info


# ------------------------------------------------------------------ solve (one matrix)
def _swap_rows(B, i, j):
    if i != j:
        _swap(B, (i,), (j,))


def _solve_2x2(LD, B, k):
    """B[k:k+2] <- D_k^-1 B[k:k+2] for the 2x2 block at k (sytrs's scaled Cramer rule)."""
    akm1k = LD[k + 1, k]
    akm1, ak = LD[k, k] / akm1k, LD[k + 1, k + 1] / akm1k
    denom = akm1 * ak - 1
    bkm1, bk = B[k] / akm1k, B[k + 1] / akm1k
    B[k] = (ak * bkm1 - bk) / denom
    B[k + 1] = (akm1 * bk - bkm1) / denom


def _sytrs_lower(LD, pivots, B):
    """X with A X = B for one factored matrix (LD, host pivots) and one n x nrhs B."""
    B = B.clone()
    n = LD.shape[-1]
    k = 0
    while k < n:  # L D y = P^T b, interchanges replayed forwards
        if pivots[k] > 0:
            _swap_rows(B, k, pivots[k] - 1)
            B[k + 1:] -= LD[k + 1:, k, None] * B[k][None, :]
            B[k] /= LD[k, k]
            k += 1
        else:
            _swap_rows(B, k + 1, -pivots[k] - 1)
            B[k + 2:] -= LD[k + 2:, k, None] * B[k][None, :] + LD[k + 2:, k + 1, None] * B[k + 1][None, :]
            _solve_2x2(LD, B, k)
            k += 2
    k = n - 1
    while k >= 0:  # L^T x = y, interchanges undone backwards
        step = 1 if pivots[k] > 0 else 2
        for col in range(k, k - step, -1):
            B[col] -= (LD[k + 1:, col, None] * B[k + 1:]).sum(0)
        _swap_rows(B, k, abs(pivots[k]) - 1)
        k -= step
    return B


def _ldl_solve_batch(LD, pivots, B):
    """ldl_solve over broadcast batch dims."""
    n, nrhs = LD.shape[-1], B.shape[-1]
    batch = broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2]))
    count = math.prod(batch)
    LD3 = LD.expand(batch + (n, n)).reshape((count, n, n))
    piv = pivots.expand(batch + (n,)).reshape((count, n)).tolist()
    B3 = B.expand(batch + (n, nrhs)).reshape((count, n, nrhs))
    if not piv:
        return B.new_zeros(batch + (n, nrhs))
    return stack([_sytrs_lower(LD3[i], piv[i], B3[i]) for i in range(len(piv))]).reshape(batch + (n, nrhs))


# ------------------------------------------------------------------ autograd: none, as torch
def _no_derivative(op):
    """A Function for ``op`` whose backward raises torch's error (grad_fn 'NotImplemented')."""

    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    return backward


class _LdlFactorEx(Function):
    node_name = "NotImplemented"
    backward = staticmethod(_no_derivative("linalg_ldl_factor_ex"))

    @staticmethod
    def forward(ctx, A):
        LD, pivots, info = _ldl_factor_batch(A)
        ctx.mark_non_differentiable(pivots, info)
        return LD, pivots, info


class _LdlSolve(Function):
    node_name = "NotImplemented"
    backward = staticmethod(_no_derivative("linalg_ldl_solve"))

    @staticmethod
    def forward(ctx, LD, pivots, B):
        return _ldl_solve_batch(LD, pivots, B)


# ------------------------------------------------------------------ public ops
def _check_ldl_input(A):
    name = "torch.linalg.ldl_factor_ex"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    check_square(name, A)
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("ldl_factor_kernel_cpu", A.dtype)


def _raise_singular(info, name):
    """A zero pivot block. (torch 2.13 trips an internal assert here; its type is kept.)"""
    flat = info.reshape(-1).tolist()
    for batch, code in enumerate(flat):
        if code:
            prefix = f"(Batch element {batch}): " if info.dim() else ""
            raise RuntimeError(f"{name}: {prefix}The factorization could not be completed because "
                               f"D[{code - 1}, {code - 1}] is exactly zero (the matrix is singular).")


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """torch.linalg.ldl_factor_ex: (LD, pivots, info); info = k > 0 when D's k-th diagonal
    entry (1-based) is exactly zero. ``hermitian`` is the same factorization for real input."""
    _check_ldl_input(A)
    LD, pivots, info = _LdlFactorEx.apply(A)
    if check_errors:
        _raise_singular(info, "torch.linalg.ldl_factor_ex")
    return LdlFactorExResult(LD, pivots, info)


def ldl_factor(A, *, hermitian=False):
    """torch.linalg.ldl_factor: (LD, pivots); a singular D raises RuntimeError."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _raise_singular(info, "torch.linalg.ldl_factor")
    return LdlFactorResult(LD, pivots)


def _check_ldl_solve(LD, pivots, B):
    name = "torch.linalg.ldl_solve"
    if LD.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor LD must have at least 2 dimensions.")
    if B.dim() < 2:  # torch indexes B.shape[-2] unchecked
        raise IndexError(f"{name}: B must have at least 2 dimensions (n x k right-hand sides), got shape "
                         f"{list(B.shape)}")
    check_square(name, LD)
    if tuple(LD.shape[:-1]) != tuple(pivots.shape):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
                           f"with shape {list(pivots.shape)} instead")
    if pivots.dtype not in (dt.int32, dt.int64):
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {_torch_name(pivots.dtype)}")
    check_b_and_A_dtype(B, LD)
    if LD.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("ldl_solve_cpu", LD.dtype)
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b "
                           f"matrix is {B.shape[-2]} by {B.shape[-1]}")


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """torch.linalg.ldl_solve: X with A X = B from ldl_factor's (LD, pivots); batch dims of
    LD and B broadcast."""
    _check_ldl_solve(LD, pivots, B)
    return _LdlSolve.apply(LD, pivots, B)
