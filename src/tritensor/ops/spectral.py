"""Spectral decompositions (eigh, svd) and the rest of torch.linalg built on them or on
ops/decompositions.py: pinv, matrix_rank, lstsq, cond, matrix_exp, multi_dot, vander,
householder_product, tensorinv, tensorsolve.

As in decompositions.py the compute is written on the Tensor surface, so it runs on every
device: eigh and svd are Jacobi loops (ops/_jacobi.py) inside ``Function.forward``, one
autograd node per op named like torch's, whose backward is the textbook formula written
with differentiable ops (so double backward works). Eigenvectors and singular vectors are
defined up to sign; tritensor's signs need not be LAPACK's.
"""
from __future__ import annotations

import math
import warnings

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..type_info import finfo
from ._jacobi import singular_decomposition, symmetric_eigen
from ._registry import export
from .creation import eye, with_out, write_out, zeros
from .decompositions import (_batch_expand, _householder_qr, _no_kernel, _return_type, check_square, inv,
                             inv_ex, solve)
from .elementwise import _torch_name, where
from .joining import cat, stack

EighResult = _return_type("linalg_eigh", "eigenvalues eigenvectors")
SvdResult = _return_type("linalg_svd", "U S Vh")
TorchSvdResult = _return_type("svd", "U S V")
LstsqResult = _return_type("linalg_lstsq", "solution residuals rank singular_values")


# ------------------------------------------------------------------ argument checks and out=
def _check_svd_input(name, A):
    """torch's linalg.svd checks: a float32/float64 (batch of) matrix."""
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.svd: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("linalg_svd_cpu", A.dtype)
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def _check_outs(out, count, name):
    """torch's argument check of ``out=`` for an op with ``count`` results: a tuple of as
    many tensors (before anything is computed)."""
    if out is None:
        return
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != count:
        raise TypeError(f"expected tuple of {count} elements but got {len(out)}")


def _finish(results, out, name):
    """``results``, or each written into ``out`` as ``with_out`` writes one (same dtype,
    resized if needed) and ``out`` returned as the same named tuple."""
    if out is None:
        return results
    for target, result in zip(out, results):
        write_out(target, result, name)
    return type(results)(*out)


# ------------------------------------------------------------------ eigh
def _symmetric_from(A, upper):
    """The symmetric matrix of A's lower (upper) triangle: only that triangle is read."""
    if upper:
        return A.triu() + A.triu(1).mT
    return A.tril() + A.tril(-1).mT


class _Eigh(Function):
    """A = V diag(w) V^T. Backward: gA = V (diag(gw) + skew(V^T gV) / E) V^T with
    E_ij = w_j - w_i (off the diagonal; repeated eigenvalues make it infinite, as torch)."""

    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, upper):
        w, V = symmetric_eigen(_symmetric_from(A, upper))
        ctx.save_for_backward(w, V)
        ctx.set_materialize_grads(False)
        return w, V

    @staticmethod
    def backward(ctx, gw, gV):
        w, V = ctx.saved_tensors
        inner = None
        if gV is not None:
            VtgV = V.mT @ gV
            gaps = w[..., None, :] - w[..., :, None] + eye(w.shape[-1], dtype=w.dtype, device=w.device)
            inner = 0.5 * (VtgV - VtgV.mT) / gaps
        if gw is not None:
            inner = gw.diag_embed() if inner is None else inner + gw.diag_embed()
        return V @ inner @ V.mT, None


def _check_eigh(A, UPLO):
    check_square("linalg.eigh", A)
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("linalg_eigh_cpu", A.dtype)


def eigh(A, UPLO="L", *, out=None):
    """torch.linalg.eigh: (eigenvalues ascending, orthonormal eigenvectors as columns) of the
    symmetric matrix in A's lower ('L') or upper ('U') triangle. Cyclic Jacobi."""
    _check_eigh(A, UPLO)
    _check_outs(out, 2, "linalg_eigh")
    return _finish(EighResult(*_Eigh.apply(A, UPLO in "Uu")), out, "linalg_eigh")


@with_out
def eigvalsh(A, UPLO="L"):
    """torch.linalg.eigvalsh: the eigenvalues of eigh (differentiable as torch's, through
    the eigenvectors computed alongside)."""
    _check_eigh(A, UPLO)
    return _Eigh.apply(A, UPLO in "Uu")[0]


# ------------------------------------------------------------------ svd
def _orthonormal_columns(W, S, complete):
    """The left singular vectors from W = U diag(S): W's columns normalised, made orthonormal
    to working precision and, for zero singular values (or ``complete``), completed to an
    orthonormal basis by a Householder QR (whose Q, with R's diagonal signs, is U)."""
    k = S.shape[-1]
    U = W / where(S > 0, S, 1)[..., None, :]
    Q, R = _householder_qr(U)
    signs = where(R.diagonal(0, -2, -1)[..., :k] < 0, -1.0, 1.0).to(W.dtype)
    first = Q[..., :, :k] * signs[..., None, :]
    return cat([first, Q[..., :, k:]], -1) if complete else first


def _svd_factors(A, full_matrices):
    """(U, S, Vh) of A (no autograd); a wide A is the transpose of its tall transpose's."""
    m, n = A.shape[-2:]
    if m < n:
        U, S, Vh = _svd_factors(A.mT, full_matrices)
        return Vh.mT, S, U.mT
    W, S, V = singular_decomposition(A)
    return _orthonormal_columns(W, S, full_matrices), S, V.mT


class _Svd(Function):
    """A = U diag(S) Vh (singular values descending). Backward: torch's real-case formula on
    the reduced factors (the completion of full matrices gets no gradient, as torch)."""

    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = _svd_factors(A, full_matrices)
        ctx.save_for_backward(U, S, Vh)  # the outputs themselves: double backward goes through them
        ctx.set_materialize_grads(False)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        gU = None if gU is None else gU[..., :, :k]
        gVh = None if gVh is None else gVh[..., :k, :]
        return _svd_backward(U[..., :, :k], S, Vh[..., :k, :], gU, gS, gVh), None


def _svd_backward(U, S, Vh, gU, gS, gVh):
    """gA of the reduced SVD: U [skew(U^T gU) S / E + S skew(V^T gV) / E + diag(gS)] Vh, with
    E_ij = S_j^2 - S_i^2, plus the parts of gU (gVh) outside U's (Vh's) span when A is tall
    (wide); repeated singular values make it infinite, as torch."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        return U @ (gS[..., :, None] * Vh)
    squares = S * S
    gaps = squares[..., None, :] - squares[..., :, None] + eye(S.shape[-1], dtype=S.dtype, device=S.device)
    inner = 0
    if gU is not None:
        UtgU = U.mT @ gU
        inner = (UtgU - UtgU.mT) * S[..., None, :]
    if gVh is not None:
        VtgV = Vh @ gVh.mT
        inner = inner + S[..., :, None] * (VtgV - VtgV.mT)
    inner = inner / gaps
    if gS is not None:
        inner = inner + gS.diag_embed()
    if m > n and gU is not None:
        scaled = gU / S[..., None, :]
        return (U @ inner + scaled - U @ (U.mT @ scaled)) @ Vh
    if m < n and gVh is not None:
        scaled = gVh / S[..., :, None]
        return U @ (inner @ Vh + scaled - (scaled @ Vh.mT) @ Vh)
    return U @ inner @ Vh


def _check_driver(name, driver):
    if driver is not None:
        raise RuntimeError(f"{name}: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


def svd(A, full_matrices=True, *, driver=None, out=None):
    """torch.linalg.svd: (U, S, Vh), singular values descending; one-sided Jacobi. ``driver``
    (cuSOLVER's) is refused as on torch's CPU build."""
    _check_svd_input("linalg.svd", A)
    _check_driver("torch.linalg.svd", driver)
    _check_outs(out, 3, "linalg_svd")
    return _finish(SvdResult(*_Svd.apply(A, full_matrices)), out, "linalg_svd")


@with_out
def svdvals(A, *, driver=None):
    """torch.linalg.svdvals: the singular values, descending."""
    _check_svd_input("linalg.svd", A)
    _check_driver("torch.linalg.svd", driver)
    return _singular_values_of(A)


def _singular_values_of(A):
    """The singular values, through the SVD node when a gradient is wanted (its backward
    needs U and V) and without computing U otherwise."""
    if grad_mode.enabled and A.requires_grad:
        return _Svd.apply(A, False)[1]
    return _singular_values(A)


@export(method=True, name="svd")
def torch_svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd / Tensor.svd: (U, S, V) with V = Vh^T (reduced with ``some``); without
    ``compute_uv``, U and V are zero (m, m) and (n, n) matrices, as torch."""
    if input.dim() < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has {input.dim()} "
                           "dimensions instead")
    _check_svd_input("linalg.svd", input)
    _check_outs(out, 3, "svd")
    if compute_uv:
        U, S, Vh = _Svd.apply(input, not some)
        result = TorchSvdResult(U, S, Vh.mT)
    else:
        batch, (m, n) = tuple(input.shape[:-2]), tuple(input.shape[-2:])
        result = TorchSvdResult(input.new_zeros(batch + (m, m)), _singular_values_of(input),
                                input.new_zeros(batch + (n, n)))
    return _finish(result, out, "svd")


# ------------------------------------------------------------------ pinv, matrix_rank
def _largest(values):
    """The largest of each row of nonnegative ``values`` (0 for an empty row)."""
    return values.amax(-1) if values.shape[-1] else values.sum(-1)


def _threshold(largest, atol, rtol, shape, dtype):
    """torch's cut-off for "zero" singular values: max(atol, rtol * largest); rtol defaults
    to eps * max(m, n), or to 0 where a positive atol is given without it."""
    default = finfo(dtype).eps * max(shape[-2:])
    if rtol is None:
        rtol = default if atol is None else where(_as_tensor(atol, largest) > 0, 0.0, default)
    cut = _as_tensor(rtol, largest) * largest
    return cut if atol is None else cut.maximum(_as_tensor(atol, largest))


def _as_tensor(value, like):
    """A float or tensor tolerance as a tensor of ``like``'s dtype and device."""
    if isinstance(value, (int, float)):
        return like.new_full((), float(value))
    return value.to(like.dtype)


def _spectrum(A, hermitian):
    """(values, U, Vh) with A = U diag(values) Vh: the SVD, or with ``hermitian`` eigh's
    (eigenvalues, V, V^T) of A's lower triangle (values then signed, unordered in size)."""
    if hermitian:
        w, V = symmetric_eigen(_symmetric_from(A, False))
        return w, V, V.mT
    U, S, Vh = _svd_factors(A, False)
    return S, U, Vh


class _Pinv(Function):
    """The pseudo-inverse from the SVD (or eigh) with values below the threshold dropped.
    Backward (Golub & Pereyra): gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""

    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        values, U, Vh = _spectrum(A, hermitian)
        keep = values.abs() > _threshold(_largest(values.abs()), atol, rtol, A.shape, A.dtype)[..., None]
        P = _inverse_of_kept(values, U, Vh, keep)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, grad):
        A, P = ctx.saved_tensors
        return _pinv_backward(A, P, grad), None, None, None


def _inverse_of_kept(values, U, Vh, keep):
    """Vh^T diag(1 / values) U^T over the ``keep`` values only: the pseudo-inverse."""
    inverse = where(keep, 1 / where(keep, values, 1), 0)
    return (Vh.mT * inverse[..., None, :]) @ U.mT


def _pinv_backward(A, P, grad):
    """The gradient of <grad, pinv(A)> for P = pinv(A) (rank held fixed)."""
    gt = grad.mT
    return -(P.mT @ grad @ P.mT) + (gt - A @ (P @ gt)) @ (P @ P.mT) + (P.mT @ P) @ (gt - (gt @ P) @ A)


def _check_pinv_input(A):
    if A.dim() < 2 or A.dtype not in (dt.float32, dt.float64):
        raise RuntimeError(f"linalg.pinv({_torch_name(A.dtype).capitalize()}{{{list(A.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble types")


def _no_mixed_tolerances(name, positional, atol, rtol):
    """torch's overloads take the deprecated positional tolerance or atol=/rtol=, not both."""
    if positional is not None and (atol is not None or rtol is not None):
        raise TypeError(f"{name}() received an invalid combination of arguments: the positional tolerance "
                        "cannot be combined with atol= or rtol=")


@with_out
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """torch.linalg.pinv: the Moore-Penrose pseudo-inverse; singular values (eigenvalues with
    ``hermitian``) at most max(atol, rtol * largest) count as zero. ``atol``/``rtol``
    floats or tensors broadcasting against the batch; a positional ``rcond`` is ``rtol``."""
    _no_mixed_tolerances("linalg_pinv", rcond, atol, rtol)
    rtol = rtol if rcond is None else rcond
    _check_pinv_input(A)
    if hermitian:
        check_square("linalg.eigh", A)
    return _Pinv.apply(A, atol, rtol, hermitian)


@export(method=True)
def pinverse(input, rcond=1e-15):
    """torch.pinverse / Tensor.pinverse: linalg.pinv with ``rtol=rcond``."""
    return pinv(input, rtol=rcond)


@with_out(castable=True)
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """torch.linalg.matrix_rank: how many singular values (absolute eigenvalues with
    ``hermitian``) exceed max(atol, rtol * largest); ``tol`` (positional or keyword) is
    ``atol`` with rtol = 0, as torch's deprecated overload."""
    _no_mixed_tolerances("linalg_matrix_rank", tol, atol, rtol)
    if tol is not None:
        atol, rtol = tol, 0.0
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    if A.dtype not in (dt.float32, dt.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if hermitian:
        check_square("linalg.eigh", A)
    A = A.detach()
    values = symmetric_eigen(_symmetric_from(A, False))[0].abs() if hermitian else _singular_values(A)
    cut = _threshold(_largest(values), atol, rtol, A.shape, A.dtype)
    return (values > cut[..., None]).sum(-1)


def _singular_values(A):
    """The singular values of A (no autograd)."""
    m, n = A.shape[-2:]
    return singular_decomposition(A if m >= n else A.mT)[1]


# ------------------------------------------------------------------ lstsq
LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class _Lstsq(Function):
    """The minimum-norm least-squares solution X = pinv(A) B (singular values at most
    rcond * largest dropped), and the fields torch CPU's ``driver`` fills: residuals
    ||A X - B||^2 per column (not gelsy; gelsd/gelss only when every A has full column rank),
    the rank (not gels), the singular values (gelsd, gelss). Backward: X's through pinv's
    formula (gB = P^T gX); the residuals' by the envelope theorem (X is optimal):
    gA = 2 R diag(g) X^T, gB = -2 R diag(g), R = A X - B."""

    node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, A, B, rcond, driver, vector):
        m, n = A.shape[-2:]
        U, S, Vh = _svd_factors(A, False)
        rcond = finfo(A.dtype).eps * max(m, n) if rcond is None else rcond
        keep = S > (rcond * _largest(S))[..., None]
        X = _inverse_of_kept(S, U, Vh, keep) @ B
        rank = keep.sum(-1)
        full_rank = rank.numel() == 0 or bool((rank == n).all().item())
        with_residuals = m > n and (driver == "gels" or (driver in ("gelsd", "gelss") and full_rank))
        residuals = ((A @ X - B) ** 2).sum(-2) if with_residuals else A.new_zeros((0,))
        empty_rank = zeros((0,), dtype=dt.int64, device=A.device)
        values = S if driver in ("gelsd", "gelss") else A.new_zeros((0,))
        ctx.save_for_backward(A, B)
        ctx.rcond, ctx.vector, ctx.residuals = rcond, vector, with_residuals
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(values)
        return (X[..., 0] if vector else X), residuals, (empty_rank if driver == "gels" else rank), values

    @staticmethod
    def backward(ctx, gX, gR, _grank=None, _gvalues=None):
        A, B = ctx.saved_tensors
        P = pinv(A, rtol=ctx.rcond)  # differentiable (double backward), as X = P B
        X = P @ B
        gA = gB = None
        if gX is not None:
            gX = gX[..., None] if ctx.vector else gX
            gA, gB = _pinv_backward(A, P, gX @ B.mT), P.mT @ gX
        if gR is not None and ctx.residuals:
            weighted = (A @ X - B) * gR[..., None, :]
            gA = 2 * weighted @ X.mT + (0 if gA is None else gA)
            gB = -2 * weighted + (0 if gB is None else gB)
        return gA, gB, None, None, None


def lstsq(A, B, rcond=None, *, driver=None):
    """torch.linalg.lstsq: (solution, residuals, rank, singular_values) as torch's CPU build
    fills them for ``driver`` (default 'gelsy': residuals and singular values empty); the
    solution is the minimum-norm one from the SVD (singular values at most rcond * largest,
    rcond = eps * max(m, n) by default, count as zero). B is (*, m, k) or (*, m); batch
    dims broadcast."""
    if A.dtype not in (dt.float32, dt.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if not (0 <= A.dim() - B.dim() <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_torch_name(A.dtype)} and other's dtype {_torch_name(B.dtype)}")
    vector = A.dim() == B.dim() + 1
    Bm = B[..., None] if vector else B
    if A.shape[-2] != Bm.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"({A.shape[-2]} != {Bm.shape[-2]})")
    driver = "gelsy" if driver is None else driver
    if driver not in LSTSQ_DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"({', '.join(LSTSQ_DRIVERS)}), got {driver!r}")
    A, Bm = _batch_expand(A, Bm)
    return LstsqResult(*_Lstsq.apply(A, Bm, rcond, driver, vector))


# ------------------------------------------------------------------ cond
def _order_name(p):
    """A norm order as torch's messages print it: 1, -1, inf, -inf, fro, nuc."""
    if isinstance(p, str):
        return p
    if math.isinf(p):
        return "inf" if p > 0 else "-inf"
    return str(int(p))


@with_out
def cond(A, p=None):
    """torch.linalg.cond: p None/2/-2 from the singular values (largest / smallest or its
    inverse), 'nuc' as sum(s) * sum(1 / s); 'fro', inf, -inf, 1, -1 as norm(A) * norm(A^-1)
    of square matrices (a singular matrix gives inf), as torch computes them."""
    if p is None or (not isinstance(p, str) and abs(p) == 2):
        if A.dim() < 2:
            raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
        values = svdvals(A)
        if values.shape[-1] == 0:
            return values.sum(-1)  # torch's 0 for empty matrices
        largest, smallest = values[..., :1], values[..., -1:]
        return (smallest / largest if p == -2 else largest / smallest).squeeze(-1)
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    name = f"linalg.cond(ord={_order_name(p)})"
    if A.dim() < 2:
        prefix = f"{name}: The input tensor A" if isinstance(p, str) else "linalg.cond: The input tensor"
        raise RuntimeError(f"{prefix} must have at least 2 dimensions.")
    check_square(name, A)
    if p == "nuc":  # sum(s) * sum(1 / s) (NaN for a zero matrix, as torch)
        values = svdvals(A)
        return values.sum(-1) * values.reciprocal().sum(-1)
    inverse, info = inv_ex(A)
    inverse = where((info > 0)[..., None, None], math.inf, inverse)
    from .. import linalg  # the matrix norms (tritensor.linalg imports this module)
    product = linalg.matrix_norm(A, p) * linalg.matrix_norm(inverse, p)
    return product.nan_to_num(math.inf, math.inf)  # 0 * inf of a zero matrix is inf, as torch


# ------------------------------------------------------------------ matrix_exp
#: Taylor degrees that reach the dtype's precision for a matrix scaled to 1-norm <= 1
_TAYLOR_DEGREE = {dt.float32: 12, dt.float64: 18}


def _expm(A):
    """exp(A) by scaling and squaring (no autograd): each matrix scaled by 2^-s to 1-norm
    <= 1, a Taylor polynomial (Horner), then squared s times (per batch element)."""
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    norm = A.abs().sum(-2).amax(-1)
    norm = where(norm.isfinite(), norm, 1)
    squarings = norm.clamp(min=1).log2().ceil()
    X = A / (2 ** squarings)[..., None, None]
    identity = eye(n, dtype=A.dtype, device=A.device)
    T = identity.expand(tuple(A.shape))
    for j in range(_TAYLOR_DEGREE[A.dtype], 0, -1):
        T = identity + (X @ T) / j
    for i in range(int(squarings.amax().item())):
        T = where((squarings > i)[..., None, None], T @ T, T)
    return T.contiguous()


class _MatrixExp(Function):
    """exp(A); backward: the upper-right block of exp([[A^T, g], [0, A^T]]) (the Fréchet
    derivative of exp at A^T in the direction g), through matrix_exp itself."""

    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        if A.dtype in (dt.float16, dt.bfloat16):  # torch computes 16-bit inputs too: in float32 here
            return _expm(A.to(dt.float32)).to(A.dtype)
        return _expm(A)

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        At = A.mT
        block = cat([cat([At, grad], -1), cat([A.new_zeros(tuple(A.shape)), At], -1)], -2)
        return matrix_exp(block)[..., :n, n:]


@export(method=True)
def matrix_exp(A):
    """torch.linalg.matrix_exp / torch.matrix_exp / Tensor.matrix_exp: the matrix
    exponential of a (batch of) square matrices (16-bit floats computed in float32)."""
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_name(A.dtype)}")
    check_square("linalg.matrix_exp", A)
    return _MatrixExp.apply(A)


# ------------------------------------------------------------------ products
def _chain_order(dims):
    """The cheapest parenthesisation of a matrix chain with shapes dims[i] x dims[i + 1]:
    split[i][j] is where the product of matrices i..j splits (textbook dynamic program)."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(matrices, split, i, j):
    if i == j:
        return matrices[i]
    k = split[i][j]
    return _chain_product(matrices, split, i, k) @ _chain_product(matrices, split, k + 1, j)


def _check_multi_dot(tensors):
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    last = len(tensors) - 1
    for i, t in enumerate(tensors):
        where_ = "first" if i == 0 else "last" if i == last else None
        if where_ and t.dim() not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {where_} tensor must be 1D or 2D but got {t.dim()}D")
        if not where_ and t.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_torch_name(tensors[0].dtype).lower()} and tensor {i} "
                               f"{_torch_name(t.dtype).lower()}")


@with_out
def multi_dot(tensors):
    """torch.linalg.multi_dot: the product of a chain of matrices in the cheapest order (the
    first may be a row vector, the last a column vector, as 1-D tensors)."""
    tensors = list(tensors)
    _check_multi_dot(tensors)
    shape = ()
    matrices = list(tensors)
    if matrices[0].dim() == 1:
        matrices[0] = matrices[0][None, :]
    else:
        shape += (matrices[0].shape[0],)
    if matrices[-1].dim() == 1:
        matrices[-1] = matrices[-1][:, None]
    else:
        shape += (matrices[-1].shape[-1],)
    for i in range(len(matrices) - 1):
        if matrices[i].shape[-1] != matrices[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} "
                               f"and {list(tensors[i + 1].shape)} cannot be multiplied")
    dims = [matrices[0].shape[0]] + [m.shape[1] for m in matrices]
    product = _chain_product(matrices, _chain_order(dims), 0, len(matrices) - 1)
    return product.view(shape)


@export(method=False)
def chain_matmul(*matrices, out=None):
    """torch.chain_matmul (deprecated, as torch warns): linalg.multi_dot of 2-D matrices."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        if t.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {t.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        result = matrices[0].clone()
        return result if out is None else write_out(out, result, "chain_matmul")
    return multi_dot(matrices, out=out)


def vander(x, *, N=None):
    """torch.linalg.vander: (*, n, N) with columns x^0 .. x^(N-1) (integers as int64), as a
    cumulative product (CatBackward0, as torch)."""
    if x.dtype in (dt.float16, dt.bfloat16, dt.bool):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_torch_name(x.dtype)}")
    N = (x.shape[-1] if x.dim() else 1) if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if not x.dtype.is_floating_point:
        x = x.to(dt.int64)
    powers = x[..., None].expand(tuple(x.shape) + (N - 1,)).cumprod(-1)
    return cat([x.new_ones(tuple(x.shape) + (1,)), powers], -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: torch.diagonal with the last two dims as default."""
    return A.diagonal(offset, dim1, dim2)


# ------------------------------------------------------------------ householder_product
def _reflector(A, j):
    """v_j of LAPACK's packed reflectors: zeros above row j, 1 at j, A[j+1:, j] below."""
    batch = tuple(A.shape[:-2])
    return cat([A.new_zeros(batch + (j,)), A.new_ones(batch + (1,)), A[..., j + 1:, j]], -1)


def _reflect(Y, v, tau):
    """H Y with H = I - tau v v^T (batched)."""
    return Y - tau[..., None, None] * v[..., :, None] * (v[..., None, :] @ Y)


def _householder_steps(A, tau):
    """[Y_k, ..., Y_0]: Y_k the first n columns of I, Y_j = H_j Y_(j+1); Y_0 is the product."""
    m, n = A.shape[-2:]
    Y = eye(m, n, dtype=A.dtype, device=A.device).expand(tuple(A.shape))
    steps = [Y]
    for j in reversed(range(tau.shape[-1])):
        Y = _reflect(Y, _reflector(A, j), tau[..., j])
        steps.append(Y)
    return steps


class _HouseholderProduct(Function):
    """Q = H_0 ... H_(k-1) (first n columns). Backward, from the front reflector on, with
    G the gradient of H_j's output Y_j = H_j Y_(j+1): gtau_j = -<v^T G, v^T Y_(j+1)>,
    gv_j = -tau_j (G Y_(j+1)^T v + Y_(j+1) G^T v) (its entries below row j go to A[j+1:, j]),
    and H_j^T G is the gradient of Y_(j+1)."""

    node_name = "LinalgHouseholderProductBackward0"

    @staticmethod
    def forward(ctx, A, tau):
        ctx.save_for_backward(A, tau)
        return _householder_steps(A, tau)[-1].contiguous()

    @staticmethod
    def backward(ctx, grad):
        A, tau = ctx.saved_tensors
        m, n = A.shape[-2:]
        k = tau.shape[-1]
        if k == 0:  # no reflectors: Q does not depend on A (torch gives no gradient either)
            return None, None
        inputs = _householder_steps(A, tau)[::-1][1:]  # Y_1 .. Y_k: the input of each H_j
        columns, gtau = [], []
        G = grad
        for j in range(k):
            v, Y, t = _reflector(A, j), inputs[j], tau[..., j]
            vG, vY = (v[..., None, :] @ G)[..., 0, :], (v[..., None, :] @ Y)[..., 0, :]
            gtau.append(-(vG * vY).sum(-1))
            gv = -t[..., None] * ((G @ vY[..., :, None]) + (Y @ vG[..., :, None]))[..., 0]
            columns.append(cat([A.new_zeros(tuple(A.shape[:-2]) + (j + 1,)), gv[..., j + 1:]], -1))
            G = _reflect(G, v, t)
        columns += [A.new_zeros(tuple(A.shape[:-1]))] * (n - k)
        return stack(columns, -1), stack(gtau, -1)


def _check_householder(A, tau):
    name = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1] "
                           f"(got {A.shape[-2]} by {A.shape[-1]})")
    if tau.dim() >= 1 and A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1] "
                           f"(got {A.shape[-1]} and {tau.shape[-1]})")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim "
                           f"equal to {tau.dim()} and input.ndim is equal to {A.dim()}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but "
                           f"got {list(tau.shape[:-1])}")
    if tau.dtype is not A.dtype:
        raise RuntimeError(f"{name}: tau dtype {_torch_name(tau.dtype)} does not match input dtype "
                           f"{_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("orgqr_cpu", A.dtype)


@with_out
def householder_product(A, tau):
    """torch.linalg.householder_product: the first n columns of H_0 ... H_(k-1),
    H_j = I - tau_j v_j v_j^T with v_j in A's column j below the diagonal (LAPACK's orgqr)."""
    _check_householder(A, tau)
    return _HouseholderProduct.apply(A, tau)


@export(method=True)
@with_out
def orgqr(input, tau):
    """torch.orgqr / Tensor.orgqr: linalg.householder_product."""
    return householder_product(input, tau)


# ------------------------------------------------------------------ tensorinv, tensorsolve
@with_out
def tensorinv(A, ind=2):
    """torch.linalg.tensorinv: the inverse of A seen as a prod(shape[:ind]) square matrix,
    shaped shape[ind:] + shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind])


@with_out
def tensorsolve(A, B, dims=None):
    """torch.linalg.tensorsolve: X with tensordot(A, X, X.ndim) = B, i.e. linalg.solve of A as
    a (B.numel(), X.numel()) matrix; ``dims`` of A are moved to the end first."""
    if dims is not None:
        dims = list(dims)
        A = A.movedim(dims, list(range(A.dim() - len(dims), A.dim())))
    result_shape = tuple(A.shape[B.dim():])
    rows, cols = B.numel(), math.prod(result_shape)
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(result_shape)


# ------------------------------------------------------------------ eig, eigvals (complex results)
def _complex_only(name, A):
    """torch's checks, then NotImplementedError: eig's results are complex tensors."""
    check_square(f"linalg.{name}", A)
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"Unknown Complex ScalarType for {_torch_name(A.dtype)}")
    if A.dtype not in (dt.float32, dt.float64):
        raise _no_kernel("linalg_eig_out_cpu", A.dtype)
    raise NotImplementedError(f"torch.linalg.{name} returns complex tensors (a real matrix may have complex "
                              "eigenvalues) and tritensor has no complex dtypes; for symmetric matrices use "
                              "linalg.eigh / linalg.eigvalsh")


def eig(A, *, out=None):
    """torch.linalg.eig: not available (complex results); raises NotImplementedError."""
    _complex_only("eig", A)


def eigvals(A, *, out=None):
    """torch.linalg.eigvals: not available (complex results); raises NotImplementedError."""
    _complex_only("eigvals", A)
