"""torch.linalg.ldl_factor/ldl_factor_ex/ldl_solve, the deprecated torch.* linear algebra
(lu, lu_solve, qr, cholesky, triangular_solve, geqrf, ormqr, nuclear_norm, frobenius_norm,
and the removed lstsq/solve/symeig/eig/matrix_rank) and the randomized svd_lowrank /
pca_lowrank, against torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, gradcheck

rng = np.random.default_rng(0)
EMULATED = DEVICE != "cpu"
DTYPES = ["float32"] if EMULATED else ["float32", "float64"]  # the same kernels either way
BATCHED = [(3, 3), (2, 4, 4)] if EMULATED else [(1, 1), (3, 3), (5, 5), (2, 3, 4, 4), (0, 3, 3), (2, 0, 0)]

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


def symmetric(shape, seed=0, small_diagonal=False):
    """A symmetric indefinite matrix; a tiny diagonal forces 2x2 Bunch-Kaufman pivots."""
    a = np.random.default_rng(seed).standard_normal(shape)
    a = a + np.swapaxes(a, -1, -2)
    if small_diagonal and shape[-1]:
        idx = np.arange(shape[-1])
        a[..., idx, idx] *= 1e-3
    return a


def general(shape, seed=0):
    r = np.random.default_rng(seed)
    n = shape[-1]
    return (r.standard_normal(shape) + n * np.eye(n))[..., ::-1, :].copy()


def spd(shape, seed=0):
    b = np.random.default_rng(seed).standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def triangular(shape, seed=0):
    n = shape[-1]
    return np.random.default_rng(seed).standard_normal(shape) + n * np.eye(n)


# ---------------------------------------------------------------------------- ldl
@pytest.mark.parametrize("shape", BATCHED)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("small_diagonal", [False, True])
def test_ldl_factor_matches_lapack(shape, dtype, small_diagonal):
    """Same pivots as LAPACK's sytrf (1x1 and 2x2 blocks), same LD and info."""
    a = symmetric(shape, small_diagonal=small_diagonal)
    check(lambda lib, x: lib.linalg.ldl_factor_ex(x), Arg(a, dtype))
    check(lambda lib, x: lib.linalg.ldl_factor(x, hermitian=True), Arg(a, dtype))


def test_ldl_pivot_kinds():
    """Matrices whose pivoting takes each branch of Bunch-Kaufman (kept, swapped 1x1, 2x2)."""
    cases = [np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]]),  # zero diagonal: 2x2 blocks
             np.array([[1e-3, 1, 0], [1, 5, 0], [0, 0, 2]]),  # swap with a large diagonal: 1x1 at imax
             symmetric((6, 6), seed=3, small_diagonal=True)]
    for a in cases:
        ours = check(lambda lib, x: lib.linalg.ldl_factor_ex(x), Arg(a))
        pivots = ours.pivots.tolist()
        assert pivots != list(range(1, a.shape[0] + 1))


def test_ldl_non_contiguous():
    a = symmetric((4, 4), small_diagonal=True)
    check(lambda lib, x: lib.linalg.ldl_factor(x), Arg(a, transpose=True))


def ldl_solution(lib, a, b, hermitian=False):
    LD, pivots = lib.linalg.ldl_factor(a)
    return lib.linalg.ldl_solve(LD, pivots, b, hermitian=hermitian)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((4, 4), (4, 2)), ((2, 3, 3), (3, 1)), ((3, 3), (2, 3, 2)),
                                    ((0, 3, 3), (3, 2))])
def test_ldl_solve(dtype, shapes):
    """Solves replay the interchanges (LD's earlier columns are not permuted); B broadcasts."""
    a_shape, b_shape = shapes
    check(ldl_solution, Arg(symmetric(a_shape, small_diagonal=True), dtype),
          Arg(rng.standard_normal(b_shape), dtype))
    check(lambda lib, a, b: ldl_solution(lib, a, b, hermitian=True), Arg(symmetric(a_shape), dtype),
          Arg(rng.standard_normal(b_shape), dtype))


def test_ldl_solve_residual():
    a = symmetric((6, 6), seed=5, small_diagonal=True)
    b = rng.standard_normal((6, 3))
    x = ldl_solution(tritensor, tritensor.tensor(a, device=DEVICE), tritensor.tensor(b, device=DEVICE))
    np.testing.assert_allclose(a @ x.cpu().numpy(), b, atol=1e-9)


def test_ldl_has_no_derivative():
    """As torch: outputs record a 'NotImplemented' node whose backward raises."""
    a, b = symmetric((3, 3)), rng.standard_normal((3, 2))
    for fn, inputs in ((lambda lib, x: lib.linalg.ldl_factor(x).LD, (a,)),
                       (lambda lib, x, y: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(x.detach()), y),
                        (a, b))):
        for lib in (torch, tritensor):
            tensors = [lib.tensor(x, requires_grad=True) for x in inputs]
            out = fn(lib, *tensors)
            assert type(out.grad_fn).__name__ == "NotImplemented"
            with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_"):
                out.sum().backward()


@pytest.mark.parametrize("fn, a", [
    (lambda lib, x: lib.linalg.ldl_factor(x), np.zeros(3)),
    (lambda lib, x: lib.linalg.ldl_factor(x), np.zeros((3, 4))),
    (lambda lib, x: lib.linalg.ldl_factor(x.half()), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_factor(x.bfloat16()), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_factor(x.long()), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_factor(x), np.zeros((3, 3))),  # singular: torch 2.13 asserts internally
    (lambda lib, x: lib.linalg.ldl_factor_ex(x, check_errors=True), np.zeros((2, 3, 3))),
    (lambda lib, x: lib.linalg.ldl_factor_ex(x), np.zeros((2, 3, 3))),  # info, no error
    (lambda lib, x: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(x), x[:, :1].float()), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(x), x[0]), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(x), lib.cat([x, x])), np.eye(3)),
    (lambda lib, x: lib.linalg.ldl_solve(lib.linalg.ldl_factor(x)[0], lib.linalg.ldl_factor(x)[1][:2], x),
     np.eye(3)),
])
def test_ldl_errors(fn, a):
    check(fn, Arg(a))


def test_ldl_singular_message():
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\).*D\[0, 0\] is exactly zero"):
        tritensor.linalg.ldl_factor(tritensor.tensor(np.stack([np.eye(2), np.zeros((2, 2))]), device=DEVICE))


# ---------------------------------------------------------------------------- deprecated, still working
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_lu(dtype, shape):
    a = Arg(general(shape), dtype, requires_grad=True)
    check(lambda lib, x: lib.lu(x), a)
    check(lambda lib, x: lib.lu(x, get_infos=True), a)
    check(lambda lib, x: x.lu(pivot=True), a)
    check(lambda lib, x: lib.lu(x.detach() * 0, get_infos=True).info, Arg(general(shape), dtype))


@pytest.mark.parametrize("fn", [lambda lib, x: lib.lu(x, pivot=False), lambda lib, x: lib.lu(x[0]),
                                lambda lib, x: lib.lu(x.half())])
def test_lu_errors(fn):
    check(fn, Arg(general((3, 3))))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_solve(dtype):
    def solve(lib, a, b, method):
        LU, pivots = lib.lu(a)
        return b.lu_solve(LU, pivots) if method else lib.lu_solve(b, LU, pivots)

    for method in (False, True):
        check(lambda lib, a, b: solve(lib, a, b, method), Arg(general((2, 3, 3)), dtype, requires_grad=True),
              Arg(rng.standard_normal((2, 3, 2)), dtype, requires_grad=True))
    check(lambda lib, a, b: solve(lib, a, b, False), Arg(general((3, 3))), Arg(rng.standard_normal(3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)] if EMULATED else [(4, 3), (3, 3), (2, 3, 5), (0, 3, 2)])
@pytest.mark.parametrize("some", [True, False])
def test_qr(dtype, shape, some):
    grad = some or shape[-2] <= shape[-1]  # complete mode with m > n has no derivative (torch too)
    check(lambda lib, x: lib.qr(x, some=some), Arg(rng.standard_normal(shape), dtype, requires_grad=grad))
    check(lambda lib, x: x.qr(some), Arg(rng.standard_normal(shape), dtype))


@pytest.mark.parametrize("fn", [lambda lib, x: lib.qr(x[0]), lambda lib, x: lib.qr(x.half())])
def test_qr_errors(fn):
    check(fn, Arg(rng.standard_normal((3, 3))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)])
def test_cholesky(dtype, upper, shape):
    check(lambda lib, x: lib.cholesky(x, upper=upper), Arg(spd(shape), dtype, requires_grad=True))
    check(lambda lib, x: x.cholesky(upper), Arg(spd(shape), dtype))


@pytest.mark.parametrize("fn", [lambda lib, x: lib.cholesky(x.half()),
                                lambda lib, x: lib.cholesky(x[0])])
def test_cholesky_errors(fn):
    check(fn, Arg(spd((3, 3))))


def test_cholesky_error_is_linalg_error():
    """Not positive-definite: LinAlgError (torch's is torch.linalg.LinAlgError) with its message."""
    with pytest.raises(torch.linalg.LinAlgError) as expected:
        torch.cholesky(-torch.eye(2))
    with pytest.raises(tritensor.linalg.LinAlgError) as ours:
        tritensor.cholesky(-tritensor.eye(2, device=DEVICE))
    assert str(ours.value) == str(expected.value)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_triangular_solve(dtype, upper, transpose, unitriangular):
    a = triangular((4, 4))
    check(lambda lib, b, x: lib.triangular_solve(b, x, upper, transpose, unitriangular),
          Arg(rng.standard_normal((4, 2)), dtype, requires_grad=True), Arg(a, dtype, requires_grad=True))


def test_triangular_solve_batched():
    """b's batch broadcasts against A's; the copy of A has the broadcast shape, as torch's."""
    check(lambda lib, b, x: b.triangular_solve(x, upper=False),
          Arg(rng.standard_normal((2, 3, 2)), requires_grad=True),
          Arg(triangular((3, 3)), requires_grad=True))
    check(lambda lib, b, x: lib.triangular_solve(b, x), Arg(rng.standard_normal((3, 2))),
          Arg(triangular((2, 3, 3)), transpose=False))
    check(lambda lib, b, x: lib.triangular_solve(b, x), Arg(rng.standard_normal((0, 3, 2))),
          Arg(triangular((3, 3))))


def test_triangular_solve_gradcheck():
    n = 2 if EMULATED else 3
    gradcheck(lambda lib, b, x: lib.triangular_solve(b, x, transpose=True)[0] +
              lib.triangular_solve(b, x)[1].sum(), rng.standard_normal((n, 2)), triangular((n, n)))


@pytest.mark.parametrize("fn", [lambda lib, b, x: lib.triangular_solve(b[:, 0], x),
                                lambda lib, b, x: lib.triangular_solve(b, x.float()),
                                lambda lib, b, x: lib.triangular_solve(b[:2], x),
                                lambda lib, b, x: lib.triangular_solve(b.half(), x.half())])
def test_triangular_solve_errors(fn):
    check(fn, Arg(rng.standard_normal((3, 2))), Arg(triangular((3, 3))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (0, 3, 2)] if EMULATED else
                         [(5, 3), (3, 5), (4, 4), (2, 3, 2), (0, 3, 2), (3, 0)])
def test_geqrf(dtype, shape):
    """LAPACK's packed form, exactly: R above, reflectors below, tau."""
    check(lambda lib, x: lib.geqrf(x), Arg(rng.standard_normal(shape), dtype))
    check(lambda lib, x: x.geqrf(), Arg(rng.standard_normal(shape), dtype))


def test_geqrf_has_no_derivative():
    for lib, error in ((torch, NotImplementedError), (tritensor, NotImplementedError)):
        a, tau = lib.geqrf(lib.tensor(rng.standard_normal((3, 3)), requires_grad=True))
        assert type(a.grad_fn).__name__ == "GeqrfBackward0"
        with pytest.raises(error, match="derivative for 'geqrf' is not implemented"):
            a.sum().backward()


@pytest.mark.parametrize("fn", [lambda lib, x: lib.geqrf(x[0]), lambda lib, x: lib.geqrf(x.half()),
                                lambda lib, x: lib.geqrf(x.long())])
def test_geqrf_errors(fn):
    check(fn, Arg(rng.standard_normal((3, 3))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3)] if EMULATED else [(5, 3), (3, 4), (2, 4, 4)])
def test_ormqr(dtype, left, transpose, shape):
    """Q from geqrf's reflectors applied from either side; gradients through the reflectors
    (tritensor's node is householder_product's and a matmul, torch's one OrmqrBackward0)."""
    m = shape[-2]
    a, tau = torch.geqrf(torch.tensor(rng.standard_normal(shape)))
    other_shape = shape[:-2] + ((m, 2) if left else (2, m))
    check(lambda lib, x, t, c: lib.ormqr(x, t, c, left, transpose), Arg(a.numpy(), dtype, requires_grad=True),
          Arg(tau.numpy(), dtype, requires_grad=True), Arg(rng.standard_normal(other_shape), dtype,
                                                           requires_grad=True), same_node=False)
    check(lambda lib, x, t, c: x.ormqr(t, c, left=left, transpose=transpose), Arg(a.numpy(), dtype),
          Arg(tau.numpy(), dtype), Arg(rng.standard_normal(other_shape), dtype))


def test_ormqr_gradcheck():
    m, n = (3, 2) if EMULATED else (4, 3)
    a, tau = torch.geqrf(torch.tensor(rng.standard_normal((m, n))))
    a = np.ascontiguousarray(a.numpy())  # geqrf's a is column-major; gradcheck perturbs in C order
    gradcheck(lambda lib, x, t, c: lib.ormqr(x, t, c, transpose=True), a, tau.numpy(),
              rng.standard_normal((m, 2)))


@pytest.mark.parametrize("args", [((4,), (3,), (4, 2)), ((4, 3), (3,), (4,)),
                                  ((2, 4, 3), (3,), (2, 4, 2)), ((2, 4, 3), (2, 3), (4, 2)),
                                  ((4, 3), (4,), (4, 2)), ((4, 3), (3,), (3, 2))])
def test_ormqr_shape_errors(args):
    check(lambda lib, x, t, c: lib.ormqr(x, t, c), *(Arg(rng.standard_normal(s)) for s in args))


@pytest.mark.parametrize("fn", [lambda lib, x, t, c: lib.ormqr(x, t.float(), c),
                                lambda lib, x, t, c: lib.ormqr(x, t, c.float()),
                                lambda lib, x, t, c: lib.ormqr(x.half(), t.half(), c.half())])
def test_ormqr_dtype_errors(fn):
    check(fn, Arg(rng.standard_normal((4, 3))), Arg(rng.standard_normal(3)), Arg(rng.standard_normal((4, 2))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", [lambda lib, x: lib.nuclear_norm(x[0]),
                                  lambda lib, x: lib.nuclear_norm(x[0], True),
                                  lambda lib, x: lib.nuclear_norm(x, (0, 2)),
                                  lambda lib, x: lib.nuclear_norm(x, (1, 2), keepdim=True),
                                  lambda lib, x: lib.nuclear_norm(x),
                                  lambda lib, x: lib.frobenius_norm(x, (0, 1)),
                                  lambda lib, x: lib.frobenius_norm(x, 2, True),
                                  lambda lib, x: lib.frobenius_norm(x, (-1,))])
def test_deprecated_norms(dtype, call):
    check(call, Arg(rng.standard_normal((2, 3, 4)), dtype, requires_grad=True), same_node=False)


@pytest.mark.parametrize("call", [lambda lib, x: lib.nuclear_norm(x[0, 0]),
                                  lambda lib, x: lib.nuclear_norm(x.half()),
                                  lambda lib, x: lib.frobenius_norm(x, (0, 1, 2)),
                                  lambda lib, x: lib.frobenius_norm(x)])
def test_deprecated_norm_errors(call):
    check(call, Arg(rng.standard_normal((2, 3, 4))))


def test_frobenius_norm_half():
    check(lambda lib, x: lib.frobenius_norm(x, (0, 1)), Arg(rng.standard_normal((3, 3)), "float16"))


@pytest.mark.parametrize("name, call", [
    ("torch.lu", lambda lib, a: lib.lu(a)),
    ("torch.lu_solve", lambda lib, a: lib.lu_solve(a, *lib.linalg.lu_factor(a))),
    ("torch.qr", lambda lib, a: lib.qr(a)),
    ("torch.cholesky", lambda lib, a: lib.cholesky(a)),
    ("torch.triangular_solve", lambda lib, a: lib.triangular_solve(a, a)),
    ("at::nuclear_norm", lambda lib, a: lib.nuclear_norm(a)),
    ("at::frobenius_norm", lambda lib, a: lib.frobenius_norm(a, (0, 1))),
])
def test_deprecation_warnings(name, call):
    """torch warns once per process (TORCH_WARN_ONCE); tritensor warns through Python's
    warnings, which show each call site once by default."""
    a = tritensor.tensor(spd((3, 3)), device=DEVICE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(tritensor, a)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any(m.startswith(name) and "deprecated" in m for m in messages), messages


# ---------------------------------------------------------------------------- removed, still bound
@pytest.mark.parametrize("call", [lambda lib, a: lib.lstsq(a, a), lambda lib, a: a.lstsq(a),
                                  lambda lib, a: lib.solve(a, a), lambda lib, a: a.solve(a),
                                  lambda lib, a: lib.symeig(a, eigenvectors=True), lambda lib, a: a.symeig(),
                                  lambda lib, a: lib.eig(a), lambda lib, a: a.eig(True),
                                  lambda lib, a: lib.matrix_rank(a, symmetric=True)])
def test_removed_functions(call):
    """The same RuntimeError and the same guidance as torch."""
    a = np.eye(3)
    with pytest.raises(RuntimeError) as expected:
        call(torch, torch.tensor(a))
    with pytest.raises(RuntimeError) as ours:
        call(tritensor, tritensor.tensor(a, device=DEVICE))
    assert str(ours.value) == str(expected.value)


def test_removed_not_methods_where_torch_has_none():
    assert hasattr(torch.Tensor, "matrix_rank") == hasattr(tritensor.Tensor, "matrix_rank")
    for name in ("nuclear_norm", "frobenius_norm", "svd_lowrank", "pca_lowrank"):
        assert hasattr(torch.Tensor, name) == hasattr(tritensor.Tensor, name)


# ---------------------------------------------------------------------------- randomized low rank
def low_rank(shape, rank, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal(shape[:-1] + (rank,)) @ r.standard_normal(shape[:-2] + (rank, shape[-1]))


def assert_factorization(U, S, V, a, rank, atol):
    """Orthonormal columns, the exact leading singular values, and U S V^T = a (rank <= q)."""
    U, S, V = (t.cpu().numpy() for t in (U, S, V))
    exact = np.linalg.svd(a, compute_uv=False)
    np.testing.assert_allclose(S[..., :rank], exact[..., :rank], rtol=atol, atol=atol)
    np.testing.assert_allclose((U * S[..., None, :]) @ np.swapaxes(V, -1, -2), a, atol=atol * 10)
    k = S.shape[-1]
    np.testing.assert_allclose(np.swapaxes(U, -1, -2) @ U, np.broadcast_to(np.eye(k), U.shape[:-2] + (k, k)),
                               atol=atol * 10)


LOWRANK_DTYPES = [("float32", 1e-4)] if EMULATED else [("float64", 1e-9), ("float32", 1e-4)]
LOWRANK_CASES = ([((5, 3), 2, 1), ((3, 5), 3, 0), ((2, 4, 3), 2, 1)] if EMULATED else
                 [((6, 4), 3, 2), ((4, 7), 3, 0), ((2, 5, 4), 4, 1)])


@pytest.mark.parametrize("dtype, atol", LOWRANK_DTYPES)
@pytest.mark.parametrize("shape, q, niter", LOWRANK_CASES)
def test_svd_lowrank(dtype, atol, shape, q, niter):
    rank = 2
    a = low_rank(shape, rank)
    tritensor.manual_seed(0)
    U, S, V = tritensor.svd_lowrank(tritensor.tensor(a, dtype=getattr(tritensor, dtype), device=DEVICE), q=q,
                                    niter=niter)
    k = min(q, *shape[-2:])
    assert tuple(U.shape) == shape[:-1] + (k,) and tuple(V.shape) == shape[:-2] + (shape[-1], k)
    assert str(S.dtype) == f"torch.{dtype}"
    assert_factorization(U, S, V, a, rank, atol)


def test_svd_lowrank_shapes_match_torch():
    cases = ((4, 3), 6), ((0, 3, 2), 2), ((3, 4), 2)
    for shape, q in cases if EMULATED else cases + (((5, 4), None), ((2, 4, 6), 3)):
        a = rng.standard_normal(shape)
        expected = torch.svd_lowrank(torch.tensor(a), q=q)
        ours = tritensor.svd_lowrank(tritensor.tensor(a, device=DEVICE), q=q)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in expected]


def test_svd_lowrank_with_M():
    """A - M is factored without being formed; M broadcasts (a row of column means here)."""
    a = low_rank((6, 5), 2)
    mean = a.mean(0)
    shifted = a + 3.0
    tritensor.manual_seed(0)
    U, S, V = tritensor.svd_lowrank(tritensor.tensor(shifted, device=DEVICE), q=3,
                                    M=tritensor.tensor(mean + 3.0, device=DEVICE))
    assert_factorization(U, S, V, a - mean, 2, 1e-9)


@pytest.mark.parametrize("center", [True, False])
def test_pca_lowrank(center):
    a = low_rank((5, 4) if EMULATED else (2, 7, 5), 2) + 1.5
    tritensor.manual_seed(0)
    U, S, V = tritensor.pca_lowrank(tritensor.tensor(a, device=DEVICE), q=4 if center else 3, center=center)
    target = a - a.mean(-2, keepdims=True) if center else a
    rank = 2 if center else 3
    assert_factorization(U, S, V, target, rank, 1e-9)


def test_pca_lowrank_defaults_match_torch():
    a = rng.standard_normal((3, 5) if EMULATED else (4, 9))
    assert [tuple(t.shape) for t in tritensor.pca_lowrank(tritensor.tensor(a, device=DEVICE))] == \
        [tuple(t.shape) for t in torch.pca_lowrank(torch.tensor(a))]


@pytest.mark.parametrize("call", [lambda lib, x: lib.pca_lowrank(x, q=5),
                                  lambda lib, x: lib.pca_lowrank(x, q=-1),
                                  lambda lib, x: lib.pca_lowrank(x, niter=-1),
                                  lambda lib, x: lib.svd_lowrank(x[0], q=1),
                                  lambda lib, x: lib.svd_lowrank(x.half(), q=2)])
def test_lowrank_errors(call):
    check(call, Arg(rng.standard_normal((5, 4))))


def test_svd_lowrank_gradcheck():
    """Differentiable through qr/svd; the sketch is re-drawn from the same seed per evaluation."""
    def fn(lib, x):
        lib.manual_seed(0)
        U, S, V = lib.svd_lowrank(x, q=2, niter=0 if EMULATED else 1)
        return S

    shape = (3, 2) if EMULATED else (5, 4)  # each finite difference is a full randomized SVD
    gradcheck(fn, low_rank(shape, 2) + 0.1 * np.eye(*shape))


def test_svd_lowrank_gradient_of_values_matches_torch():
    """With q = n the sketch spans A's whole column space, so S is the exact singular values
    and their gradient torch's whatever the sketch."""
    a = rng.standard_normal((5, 3))
    t = torch.tensor(a, requires_grad=True)
    torch.svd_lowrank(t, q=3)[1].sum().backward()
    tritensor.manual_seed(0)
    ours = tritensor.tensor(a, device=DEVICE, requires_grad=True)
    tritensor.svd_lowrank(ours, q=3)[1].sum().backward()
    np.testing.assert_allclose(ours.grad.cpu().numpy(), t.grad.numpy(), atol=1e-8)
