"""torch.svd_lowrank and torch.pca_lowrank: randomized truncated SVD (Halko, Martinsson and
Tropp 2009, algorithms 4.4 and 5.1).

A Gaussian test matrix sketches A's range, ``niter`` power (subspace) iterations sharpen
it, each followed by a QR so the basis stays orthonormal, and the small projected matrix
Q^T A gets an exact SVD. Every step is an existing differentiable op (randn, matmul,
linalg.qr, linalg.svd), so this runs on every device and has gradients. The test matrix
comes from tritensor's generator: results equal torch's up to the randomness (the
singular values agree within the sketch's accuracy, exactly for a matrix of rank <= q).
"""
from __future__ import annotations

from .. import dtypes as dt
from ._registry import export
from .decompositions import qr
from .spectral import svd


def _minus(product, M, right):
    """``product`` minus M's share of it (A - M applied without forming A - M)."""
    return product if M is None else product - M @ right


def _approximate_basis(A, q, niter, M):
    """An orthonormal (*, m, q') basis Q with (A - M) ~ Q Q^T (A - M) (range finder with
    ``niter`` power iterations)."""
    from ..random import randn  # the generator module imports the op layer
    dtype = A.dtype if A.dtype.is_floating_point else dt.float32
    sketch = randn(A.shape[-1], q, dtype=dtype, device=A.device)
    Q = qr(_minus(A @ sketch, M, sketch)).Q
    for _ in range(niter):
        Q = qr(_minus(A.mH @ Q, None if M is None else M.mH, Q)).Q
        Q = qr(_minus(A @ Q, M, Q)).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    """(U, S, V) of A - M, of rank min(q, m, n), working on the tall orientation."""
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = m < n
    if wide:
        A, M = A.mH, (None if M is None else M.mH)
    Q = _approximate_basis(A, q, niter, M)
    projected = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = svd(projected, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if wide else (U, S, V)


@export(method=False)
def svd_lowrank(A, q=6, niter=2, M=None):
    """torch.svd_lowrank: (U, S, V), A - M ~ U diag(S) V^T with k = min(q, m, n) columns
    (batched); M broadcasts to A. Randomized: the test matrix comes from tritensor's RNG."""
    return _svd_lowrank(A, q, niter, M)


@export(method=False)
def pca_lowrank(A, q=None, center=True, niter=2):
    """torch.pca_lowrank: svd_lowrank of A with its column means removed (``center``);
    q defaults to min(6, m, n) and may not exceed min(m, n)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(dim=(-2,), keepdim=True)
    return _svd_lowrank(A, q, niter, None)
