"""eigh/eigvalsh, svd/svdvals and the rest of torch.linalg (ops/spectral.py) against torch.

Eigenvectors and singular vectors are defined up to sign, and LAPACK's signs are not
tritensor's: tests compare what does not depend on them (values, squared entries,
reconstructions, and gradients of such quantities), on matrices with distinct eigenvalues
/ singular values (repeated ones make the vector gradients infinite)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, gradcheck

rng = np.random.default_rng(0)
EMULATED = DEVICE != "cpu"
DTYPES = ["float32", "float64"]


def on_device(full, emulated):
    """The cases a test runs: all of them on the CPU, ``emulated`` (a few small ones) on the
    emulated GPU, where each of the O(n) launches of a Jacobi sweep costs milliseconds."""
    return emulated if EMULATED else full


def L(lib):
    return lib.linalg


def randn(*shape):
    return rng.standard_normal(shape)


def conditioned(shape, seed=0):
    """A random (batch of) matrix with singular values spread over [1, 3]: the gradients of
    pinv/lstsq grow with the condition number, and so would float32 rounding differences."""
    r = np.random.default_rng(seed)
    m, n = shape[-2:]
    k = min(m, n)
    left = np.linalg.qr(r.standard_normal(shape[:-2] + (m, k)))[0]
    right = np.linalg.qr(r.standard_normal(shape[:-2] + (n, k)))[0]
    return (left * np.linspace(3, 1, k)) @ np.swapaxes(right, -1, -2)


def symmetric(shape, seed=0):
    """A random symmetric matrix (distinct eigenvalues almost surely)."""
    a = np.random.default_rng(seed).standard_normal(shape)
    return a + np.swapaxes(a, -1, -2)


# ---------------------------------------------------------------------------- eigh / eigvalsh
EIGH_SHAPES = on_device([(1, 1), (2, 2), (3, 3), (5, 5), (2, 3, 4, 4)], [(1, 1), (2, 3, 3)])


def eigh_invariants(lib, a, uplo="L"):
    """The eigenvalues, the squared eigenvector entries and the reconstruction V diag(w) V^T."""
    w, v = L(lib).eigh(a, UPLO=uplo)
    return w, v * v, (v * w[..., None, :]) @ v.mT


@pytest.mark.parametrize("shape", EIGH_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_eigh(shape, dtype):
    check(eigh_invariants, Arg(symmetric(shape), dtype, requires_grad=True))


@pytest.mark.parametrize("uplo", on_device(["L", "U"], ["U"]))
def test_eigh_reads_one_triangle(uplo):
    a = randn(2, 4, 4)  # not symmetric: only the named triangle counts
    check(lambda lib, a: eigh_invariants(lib, a, uplo), Arg(a, requires_grad=True))
    check(lambda lib, a: L(lib).eigvalsh(a, uplo), Arg(a, requires_grad=True))


@pytest.mark.parametrize("dtype", on_device(DTYPES, ["float32"]))
def test_eigvalsh(dtype):
    check(lambda lib, a: L(lib).eigvalsh(a), Arg(symmetric((2, 3, 3)), dtype, requires_grad=True))


def test_eigh_non_contiguous_and_empty():
    check(eigh_invariants, Arg(symmetric((4, 4)), requires_grad=True, transpose=True))
    for shape in [(0, 3, 3), (2, 0, 0)]:
        check(lambda lib, a: L(lib).eigh(a), Arg(np.zeros(shape)))
        check(lambda lib, a: L(lib).eigvalsh(a), Arg(np.zeros(shape)))


def test_eigh_special_matrices():
    """Diagonal, zero, repeated and ill-conditioned spectra (one batch): values and
    reconstructions."""
    q = np.linalg.qr(randn(4, 4))[0]
    cases = [np.diag([3.0, -1.0, 2.0, 0.5]), np.zeros((4, 4)), np.kron(np.eye(2), np.ones((2, 2))),
             q @ np.diag([1, 1e-4, -1e-8, 1e-12]) @ q.T]
    check(lambda lib, a: (L(lib).eigvalsh(a), eigh_invariants(lib, a)[2]), Arg(np.stack(cases)))


def test_eigh_out():
    a = symmetric((3, 3))

    def fn(lib, a):
        out = tuple(lib.empty(0, dtype=lib.float64, device=a.device) for _ in range(2))
        w, v = L(lib).eigh(a, out=out)
        assert w is out[0] and v is out[1]
        return w, v * v
    check(fn, Arg(a))
    check(lambda lib, a, o: L(lib).eigvalsh(a, out=o), Arg(a), Arg(np.zeros(3)))
    check(lambda lib, a, o: L(lib).eigvalsh(a, out=o), Arg(np.eye(2)), Arg(np.zeros(2), "float32"))
    check(lambda lib, a, o: L(lib).eigh(a, out=o), Arg(np.eye(2)), Arg(np.zeros(2)))  # not a tuple


@pytest.mark.parametrize("bad", [Arg(np.eye(3), "float16"), Arg(np.eye(3), "bfloat16"),
                                 Arg(np.eye(3, dtype=np.int64)), Arg(randn(2, 3)), Arg(randn(3)), "uplo"],
                         ids=["half", "bfloat16", "int", "non-square", "vector", "uplo"])
def test_eigh_errors(bad):
    if bad == "uplo":
        check(lambda lib, a: L(lib).eigh(a, "X"), Arg(np.eye(3)))
        check(lambda lib, a: L(lib).eigvalsh(a, UPLO="lower"), Arg(np.eye(3)))
        return
    check(lambda lib, a: L(lib).eigh(a), bad)
    check(lambda lib, a: L(lib).eigvalsh(a), bad)


# ---------------------------------------------------------------------------- svd / svdvals
SVD_SHAPES = on_device([(1, 1), (3, 3), (5, 3), (3, 5), (4, 1), (2, 3, 4, 2), (2, 2, 5)], [(4, 2), (2, 3, 4)])


def svd_invariants(lib, a, full_matrices=False):
    """Singular values, squared entries of the first k singular vectors, the reconstruction
    and (full matrices) U^T U and Vh Vh^T, which must be identities (not differentiated: the
    completion of U or Vh to a basis is not unique, so neither is their gradient)."""
    u, s, vh = L(lib).svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u_k, vh_k = u[..., :k], vh[..., :k, :]
    result = (s, u_k * u_k, vh_k * vh_k, (u_k * s[..., None, :]) @ vh_k)
    if full_matrices:
        u, vh = u.detach(), vh.detach()
        result += (u.mT @ u, vh @ vh.mT)
    return result


@pytest.mark.parametrize("shape", SVD_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_svd(shape, dtype):
    check(svd_invariants, Arg(randn(*shape), dtype, requires_grad=True))


@pytest.mark.parametrize("shape", [(4, 2), (2, 3)])
def test_svd_full_matrices(shape):
    check(lambda lib, a: svd_invariants(lib, a, True), Arg(randn(*shape), requires_grad=True))


@pytest.mark.parametrize("dtype", on_device(DTYPES, ["float32"]))
def test_svdvals(dtype):
    check(lambda lib, a: L(lib).svdvals(a), Arg(randn(2, 4, 3), dtype, requires_grad=True))
    check(lambda lib, a: L(lib).svdvals(a), Arg(randn(3, 5), dtype, requires_grad=True))


def test_svd_non_contiguous_empty_and_rank_deficient():
    check(svd_invariants, Arg(randn(3, 4), requires_grad=True, transpose=True))
    for shape in [(0, 3, 3), (2, 0, 0), (3, 0), (0, 2)]:
        for full in (True, False):
            check(lambda lib, a: L(lib).svd(a, full_matrices=full), Arg(np.zeros(shape)))
        check(lambda lib, a: L(lib).svdvals(a), Arg(np.zeros(shape)))
    low_rank = randn(5, 2) @ randn(2, 4)
    check(lambda lib, a: (L(lib).svdvals(a), svd_invariants(lib, a, True)[3:]), Arg(low_rank))
    check(lambda lib, a: (L(lib).svdvals(a), svd_invariants(lib, a, True)[3:]), Arg(np.zeros((3, 2))))
    q = np.linalg.qr(randn(4, 4))[0]
    check(lambda lib, a: L(lib).svdvals(a), Arg(q @ np.diag([1, 1e-4, 1e-8, 1e-12]) @ q.T))


@pytest.mark.parametrize("some", on_device([True, False], [False]))
def test_torch_svd(some):
    def fn(lib, a):
        u, s, v = lib.svd(a, some=some)
        k = s.shape[-1]
        return s, u[..., :k] ** 2, v[..., :k] ** 2, (u[..., :k] * s[..., None, :]) @ v[..., :k].mT
    check(fn, Arg(randn(4, 3), requires_grad=True))
    check(lambda lib, a: fn(lib, a.mT), Arg(randn(2, 4, 3), requires_grad=True))
    check(lambda lib, a: a.svd(some=some, compute_uv=False), Arg(randn(2, 4, 3), requires_grad=True))


def test_svd_grad_fn_names():
    def names(lib):
        a = (torch if lib is torch else tritensor).tensor(randn(3, 2), requires_grad=True)
        return [type(t.grad_fn).__name__ for t in (*L(lib).svd(a), *lib.svd(a), L(lib).svdvals(a),
                                                    *L(lib).eigh(a[:2]), L(lib).eigvalsh(a[:2]))]
    assert names(tritensor) == names(torch)


def test_svd_out():
    def fn(lib, a, u, s, vh):
        result = L(lib).svd(a, full_matrices=False, out=(u, s, vh))
        assert result.U is u and result.S is s and result.Vh is vh
        return s, u * u, vh * vh
    check(fn, Arg(randn(3, 3)), Arg(np.zeros(0)), Arg(np.zeros(0)), Arg(np.zeros(0)))
    check(lambda lib, a, o: L(lib).svdvals(a, out=o), Arg(randn(3, 2)), Arg(np.zeros(2)))
    check(lambda lib, a, o: L(lib).svd(a, out=o), Arg(randn(3, 2)), Arg(np.zeros(2)))  # not a tuple
    check(lambda lib, a, o: L(lib).svd(a, out=(o, o)), Arg(randn(3, 2)), Arg(np.zeros(2)))
    check(lambda lib, a, o: lib.svd(a, out=(o, o, o)), Arg(randn(2, 2)), Arg(np.zeros(2), "float32"))


@pytest.mark.parametrize("bad", [Arg(np.eye(3), "float16"), Arg(np.eye(3), "bfloat16"),
                                 Arg(np.eye(3, dtype=np.int64)), Arg(np.eye(3, dtype=bool)), Arg(randn(3)),
                                 "driver"], ids=["half", "bfloat16", "int", "bool", "vector", "driver"])
def test_svd_errors(bad):
    if bad == "driver":
        check(lambda lib, a: L(lib).svd(a, driver="gesvd"), Arg(np.eye(3)))
        check(lambda lib, a: L(lib).svdvals(a, driver="gesvdj"), Arg(np.eye(3)))
        return
    for fn in (lambda lib, a: L(lib).svd(a), lambda lib, a: L(lib).svdvals(a), lambda lib, a: lib.svd(a)):
        check(fn, bad)


# ---------------------------------------------------------------------------- gradcheck, double backward
def sym(a):
    """The symmetric part: eigh's gradient is symmetric (torch's convention), finite
    differences of the one triangle it reads are not."""
    return (a + a.mT) / 2


GRADCHECK = {
    "eigvalsh": lambda lib, a: L(lib).eigvalsh(sym(a)),
    "eigh_vectors": lambda lib, a: L(lib).eigh(sym(a), "U").eigenvectors ** 2,
    "svdvals": lambda lib, a: L(lib).svdvals(a),
    "svd_U": lambda lib, a: L(lib).svd(a, full_matrices=False).U[..., :, :2] ** 2,
    "svd_Vh_wide": lambda lib, a: L(lib).svd(a[..., :2, :], full_matrices=False).Vh ** 2,
    "svd_all": lambda lib, a: (lambda u, s, vh: (u * s[..., None, :]) @ vh + u.abs() + vh.abs())(
        *L(lib).svd(a, full_matrices=False)),
    "pinv": lambda lib, a: L(lib).pinv(a),
    "pinv_wide": lambda lib, a: L(lib).pinv(a[..., :2, :]),
    "pinv_hermitian": lambda lib, a: L(lib).pinv(sym(a), hermitian=True),
    "lstsq": lambda lib, a: L(lib).lstsq(a, a.sin()).solution,
    "lstsq_tall_vector": lambda lib, a: L(lib).lstsq(a.mT[..., :, :2], a[..., 0]).solution,
    "lstsq_residuals": lambda lib, a: L(lib).lstsq(a[..., :, :2], a.exp(), driver="gelsd").residuals,
    "cond": lambda lib, a: L(lib).cond(a),
    "cond_-2": lambda lib, a: L(lib).cond(a, -2),
    "cond_nuc": lambda lib, a: L(lib).cond(a, "nuc"),
    "cond_fro": lambda lib, a: L(lib).cond(a, "fro"),
    "cond_1": lambda lib, a: L(lib).cond(a, 1),
    "matrix_exp": lambda lib, a: L(lib).matrix_exp(a),
    "matrix_exp_large": lambda lib, a: L(lib).matrix_exp(3 * a),
    "householder_product": lambda lib, a: L(lib).householder_product(a, a[..., 0, :2].cos()),
}


EMULATED_GRADCHECK = ["eigvalsh", "eigh_vectors", "svd_all", "pinv", "matrix_exp", "householder_product"]


@pytest.mark.parametrize("name", on_device(list(GRADCHECK), EMULATED_GRADCHECK))
def test_gradcheck(name):
    """3 x 3 inputs; 2 x 2 on the emulated GPU (finite differences decompose 2 n^2 times)."""
    n = 2 if EMULATED else 3
    a = symmetric((n, n), seed=3) if name.startswith("eig") else randn(n, n)
    gradcheck(GRADCHECK[name], a)


@pytest.mark.parametrize("name", on_device(["eigvalsh", "eigh_vectors", "svdvals", "svd_U", "pinv", "lstsq",
                                            "matrix_exp", "householder_product"],
                                           ["eigh_vectors", "svd_U", "lstsq"]))
def test_double_backward(name):
    fn = GRADCHECK[name]

    def second(lib, a):
        out = fn(lib, a)
        (g,) = lib.autograd.grad((out * out).sum(), a, create_graph=True)
        return (g * g.cos()).sum()
    a = symmetric((3, 3), seed=3) if name.startswith("eig") else randn(3, 3)
    check(second, Arg(a, requires_grad=True), same_node=False)


# ---------------------------------------------------------------------------- pinv, matrix_rank
def rank_deficient(shape, rank, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal(shape[:-1] + (rank,)) @ r.standard_normal(shape[:-2] + (rank, shape[-1]))


PINV_SHAPES = on_device([(1, 1), (3, 3), (5, 3), (3, 5), (2, 2, 4, 3)], [(4, 2), (2, 2, 3)])


@pytest.mark.parametrize("shape", PINV_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_pinv(shape, dtype):
    check(lambda lib, a: L(lib).pinv(a), Arg(conditioned(shape), dtype, requires_grad=True))


def test_pinv_names_and_options():
    a = Arg(conditioned((3, 2)) * np.array([1.0, 0.1]), requires_grad=True)  # rcond=0.3 drops one value
    check(lambda lib, a: lib.pinverse(a), a)
    check(lambda lib, a: a.pinverse(rcond=0.3), a)
    check(lambda lib, a: L(lib).pinv(a, 0.3), a)
    s = Arg(symmetric((2, 3, 3)), requires_grad=True)
    check(lambda lib, a: L(lib).pinv((a + a.mT) / 2, hermitian=True), s)
    check(lambda lib, a: L(lib).pinv(a, hermitian=True), Arg(randn(3, 3)))  # reads the lower triangle
    check(lambda lib, a: L(lib).pinv(a), Arg(randn(3, 2), requires_grad=True, transpose=True))
    for shape in [(0, 3, 3), (2, 0, 0), (3, 0), (0, 2)]:
        check(lambda lib, a: L(lib).pinv(a), Arg(np.zeros(shape)))
        check(lambda lib, a: L(lib).matrix_rank(a), Arg(np.zeros(shape)))


TOLERANCES = {"default": dict(), "atol": dict(atol=1.0), "rtol": dict(rtol=0.3),
              "both": dict(atol=0.5, rtol=0.3), "negative-atol": dict(atol=-1.0), "tensor": "tensor"}


@pytest.mark.parametrize("name", on_device(list(TOLERANCES), ["tensor"]))
def test_tolerances(name):
    tol = TOLERANCES[name]
    a = rank_deficient((2, 4, 3), 2) + 0.1 * randn(2, 4, 3)  # two large, one small singular value
    if tol == "tensor":
        def fn(lib, a, t):
            return L(lib).pinv(a, atol=t), L(lib).matrix_rank(a, atol=t), L(lib).matrix_rank(a, rtol=t * 0.1)
        check(fn, Arg(a), Arg(np.array([0.0, 100.0])))
        return
    check(lambda lib, a: (L(lib).pinv(a, **tol), L(lib).matrix_rank(a, **tol)), Arg(a))
    s = symmetric((4, 4)) + 0
    check(lambda lib, a: (L(lib).pinv(a, hermitian=True, **tol),
                          L(lib).matrix_rank(a, hermitian=True, **tol)),
          Arg(s))


def test_matrix_rank():
    a = np.stack([np.zeros((5, 3)), rank_deficient((5, 3), 1), rank_deficient((5, 3), 2), randn(5, 3)])
    for dtype in on_device(DTYPES, ["float32"]):
        check(lambda lib, a: L(lib).matrix_rank(a), Arg(a, dtype))
    check(lambda lib, a: L(lib).matrix_rank(a.mT), Arg(a))
    a = Arg(rank_deficient((4, 4), 2) + 1e-3 * randn(4, 4))
    check(lambda lib, a: L(lib).matrix_rank(a, 1e-2), a)
    check(lambda lib, a: L(lib).matrix_rank(a, tol=1e-2, hermitian=True), Arg(symmetric((4, 4))))
    check(lambda lib, a, o: L(lib).matrix_rank(a, out=o), a, Arg(np.zeros(0, dtype=np.int64)))
    check(lambda lib, a, o: L(lib).matrix_rank(a, out=o), a, Arg(np.zeros(0, dtype=np.int32)))
    check(lambda lib, a, o: L(lib).pinv(a, out=o), a, Arg(np.zeros((4, 4))))


@pytest.mark.parametrize("bad", [Arg(np.eye(3), "float16"), Arg(np.eye(3, dtype=np.int64)), Arg(randn(3)),
                                 Arg(np.eye(3, dtype=bool))], ids=["half", "int", "vector", "bool"])
def test_pinv_rank_errors(bad):
    for fn in (lambda lib, a: L(lib).pinv(a), lambda lib, a: L(lib).pinv(a, hermitian=True),
               lambda lib, a: lib.pinverse(a), lambda lib, a: L(lib).matrix_rank(a),
               lambda lib, a: L(lib).matrix_rank(a, hermitian=True)):
        check(fn, bad)
    check(lambda lib, a: L(lib).pinv(a, hermitian=True), Arg(randn(2, 3)))
    check(lambda lib, a: L(lib).matrix_rank(a, hermitian=True), Arg(randn(2, 3)))
    with pytest.raises(TypeError):
        tritensor.linalg.pinv(tritensor.eye(2, device=DEVICE), 0.1, atol=0.1)


# ---------------------------------------------------------------------------- lstsq
@pytest.mark.parametrize("a_shape, b_shape", on_device(
    [((5, 3), (5, 2)), ((3, 3), (3, 1)), ((2, 5), (2, 3)), ((2, 4, 3), (2, 4, 2)), ((2, 4, 3), (2, 4)),
     ((4, 3), (4,)), ((2, 1, 4, 3), (3, 4, 2))], [((2, 4, 3), (2, 4)), ((2, 1, 3, 2), (3, 3, 2))]))
@pytest.mark.parametrize("dtype", on_device(DTYPES, ["float64"]))
def test_lstsq(a_shape, b_shape, dtype):
    check(lambda lib, a, b: L(lib).lstsq(a, b), Arg(conditioned(a_shape), dtype, requires_grad=True),
          Arg(randn(*b_shape), dtype, requires_grad=True))


@pytest.mark.parametrize("driver", on_device(["gelsy", "gels", "gelsd", "gelss"], ["gelsd"]))
def test_lstsq_drivers(driver):
    cases = on_device([((5, 3), (5, 2)), ((2, 5, 3), (2, 5)), ((3, 4), (3, 2))], [((2, 4, 3), (2, 4))])
    for a_shape, b_shape in cases:
        check(lambda lib, a, b: L(lib).lstsq(a, b, driver=driver), Arg(randn(*a_shape), requires_grad=True),
              Arg(randn(*b_shape), requires_grad=True))
    if driver != "gels":  # gels assumes full rank
        check(lambda lib, a, b: L(lib).lstsq(a, b, driver=driver), Arg(rank_deficient((5, 3), 2)),
              Arg(randn(5, 2)))


def test_lstsq_rcond_non_contiguous_and_empty():
    """rcond with the SVD drivers (gelsy decides the rank from a pivoted QR: where it drops a
    small but nonzero singular value, its solution differs from the truncated SVD's)."""
    a = rank_deficient((4, 3), 2) + 1e-3 * randn(4, 3)
    check(lambda lib, a, b: L(lib).lstsq(a, b, rcond=1e-2, driver="gelsd"), Arg(a), Arg(randn(4, 2)))
    check(lambda lib, a, b: L(lib).lstsq(a, b, rcond=1e-2).rank, Arg(a), Arg(randn(4, 2)))
    check(lambda lib, a, b: L(lib).lstsq(a, b), Arg(randn(3, 4), requires_grad=True, transpose=True),
          Arg(randn(2, 4), requires_grad=True, transpose=True))
    empty = [((0, 3, 3), (0, 3, 2)), ((2, 0, 0), (2, 0, 1)), ((3, 0), (3, 2)), ((0, 2), (0, 1))]
    for a_shape, b_shape in empty:
        check(lambda lib, a, b: L(lib).lstsq(a, b), Arg(np.zeros(a_shape)), Arg(np.zeros(b_shape)))


@pytest.mark.parametrize("a, b", [(Arg(np.eye(3, dtype=np.int64)), Arg(np.ones((3, 1), dtype=np.int64))),
                                  (Arg(np.eye(3), "float16"), Arg(np.ones((3, 1)), "float16")),
                                  (Arg(np.ones(3)), Arg(np.ones(3))),
                                  (Arg(np.eye(3)), Arg(np.ones((2, 3, 1)))),
                                  (Arg(np.eye(3)), Arg(np.ones((3, 1)), "float32")),
                                  (Arg(np.eye(3)), Arg(np.ones((4, 1)))), (Arg(np.eye(3)), "driver")],
                         ids=["int", "half", "vector", "dims", "dtype", "rows", "driver"])
def test_lstsq_errors(a, b):
    if b == "driver":
        check(lambda lib, a: L(lib).lstsq(a, a, driver="gesvd"), a)
    else:
        check(lambda lib, a, b: L(lib).lstsq(a, b), a, b)


# ---------------------------------------------------------------------------- cond
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", on_device(DTYPES, ["float64"]))
def test_cond(p, dtype):
    """Gradients for the orders torch can differentiate: torch 2.13's backward through its
    inverse-based orders fails (it masks the inverse in place); gradcheck covers ours."""
    shape = (2, 3, 3) if EMULATED else (2, 4, 4)
    grad = p in (None, 2, -2, "nuc")
    a = randn(*shape) + 3 * np.eye(shape[-1])
    check(lambda lib, a: L(lib).cond(a, p), Arg(a, dtype, requires_grad=grad))


def test_cond_special():
    check(lambda lib, a: L(lib).cond(a), Arg(randn(4, 2), requires_grad=True))
    check(lambda lib, a: L(lib).cond(a, -2), Arg(randn(2, 3), requires_grad=True, transpose=True))
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in (1, -1, "fro", float("inf")):
        check(lambda lib, a: L(lib).cond(a, p), Arg(np.stack([singular, np.eye(2), np.zeros((2, 2))])))
    check(lambda lib, a: L(lib).cond(a, "nuc"), Arg(np.stack([np.eye(2), np.zeros((2, 2))])))
    for p in (None, 1, "nuc"):
        for shape in [(0, 3, 3), (2, 0, 0)]:
            check(lambda lib, a: L(lib).cond(a, p), Arg(np.zeros(shape)))
    check(lambda lib, a: L(lib).cond(a), Arg(np.zeros((3, 0))))
    check(lambda lib, a, o: L(lib).cond(a, out=o), Arg(np.eye(3)), Arg(np.zeros(1)))


@pytest.mark.parametrize("p", [None, 1, "fro", 3, "bad"])
def test_cond_errors(p):
    for bad in (Arg(np.eye(3), "float16"), Arg(np.eye(3, dtype=np.int64)), Arg(randn(3)), Arg(randn(2, 3))):
        check(lambda lib, a: L(lib).cond(a, p), bad)


# ---------------------------------------------------------------------------- matrix_exp
@pytest.mark.parametrize("shape", on_device([(1, 1), (3, 3), (5, 5), (2, 3, 4, 4)], [(1, 1), (2, 3, 3)]))
@pytest.mark.parametrize("dtype", DTYPES)
def test_matrix_exp(shape, dtype):
    check(lambda lib, a: L(lib).matrix_exp(a), Arg(randn(*shape), dtype, requires_grad=True))


def test_matrix_exp_scales_and_names():
    """Norms from tiny to large (per-matrix scaling), the torch/Tensor names, out=, empty."""
    a = randn(4, 3, 3) * np.array([1e-8, 0.5, 4.0, 20.0])[:, None, None]
    check(lambda lib, a: L(lib).matrix_exp(a), Arg(a, requires_grad=True))
    check(lambda lib, a: lib.matrix_exp(a), Arg(randn(3, 3), requires_grad=True, transpose=True))
    check(lambda lib, a: a.matrix_exp(), Arg(np.zeros((3, 3))))
    check(lambda lib, a, o: L(lib).matrix_exp(a, out=o), Arg(randn(3, 3)), Arg(np.zeros(1)))  # no out=
    for shape in [(0, 3, 3), (2, 0, 0)]:
        check(lambda lib, a: L(lib).matrix_exp(a), Arg(np.zeros(shape)))


def test_matrix_exp_16_bit():
    """torch's CPU float16/bfloat16 kernel is not a reliable oracle (exp(I) = -20896 in float16
    with torch 2.13): compare with its float64 result, rounded to the 16-bit type."""
    a = 0.5 * randn(2, 3, 3)
    for dtype, torch_dtype in (("float16", torch.float16), ("bfloat16", torch.bfloat16)):
        ours = tritensor.linalg.matrix_exp(tritensor.tensor(a, device=DEVICE).to(getattr(tritensor, dtype)))
        assert str(ours.dtype) == str(torch_dtype)
        want = torch.linalg.matrix_exp(torch.tensor(a).to(torch_dtype).double())
        np.testing.assert_allclose(ours.float().cpu().numpy(), want.numpy(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("bad", [Arg(np.eye(3, dtype=np.int64)), Arg(randn(3)), Arg(randn(2, 3))],
                         ids=["int", "vector", "non-square"])
def test_matrix_exp_errors(bad):
    check(lambda lib, a: L(lib).matrix_exp(a), bad)


# ---------------------------------------------------------------------------- multi_dot, chain_matmul
@pytest.mark.parametrize("shapes", [[(2, 3), (3, 4)], [(5, 2), (2, 6), (6, 3)],
                                    [(3,), (3, 4), (4, 2), (2, 5)],
                                    [(2, 3), (3, 1), (1, 4), (4,)], [(3,), (3,)], [(4,), (4, 2), (2,)]])
def test_multi_dot(shapes):
    args = [Arg(randn(*s), requires_grad=True) for s in shapes]
    check(lambda lib, *ts: L(lib).multi_dot(ts), *args)
    if all(len(s) == 2 for s in shapes):
        with pytest.warns(UserWarning, match="deprecated"):
            check(lambda lib, *ts: lib.chain_matmul(*ts), *args)


def test_multi_dot_out_int_and_errors():
    check(lambda lib, a, b, o: L(lib).multi_dot([a, b], out=o), Arg(randn(2, 3)), Arg(randn(3, 2)),
          Arg(np.zeros(1)))
    check(lambda lib, a, b: L(lib).multi_dot([a, b]), Arg(np.ones((2, 3), dtype=np.int64)),
          Arg(np.ones((3, 2), dtype=np.int64)))
    two, vec = randn(2, 2), randn(2)
    for tensors in ([two], [], [two, vec, two], [randn(2, 2, 2), two], [two, randn(2, 2, 2)],
                    [randn(2, 3), two], [two, two.astype(np.float32)]):
        check(lambda lib, *ts: L(lib).multi_dot(list(ts)), *[Arg(t) for t in tensors])
    with pytest.warns(UserWarning):
        check(lambda lib, a: lib.chain_matmul(a), Arg(two, requires_grad=True))
        check(lambda lib: lib.chain_matmul())
        check(lambda lib, a, b: lib.chain_matmul(a, b), Arg(two), Arg(vec))


# ---------------------------------------------------------------------------- vander, diagonal
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_vander(dtype):
    x = np.array([[1.5, -2.0, 0.5], [0.0, 3.0, 1.0]]) if dtype.startswith("float") else np.array([1, 2, 3, 0])
    grad = dtype.startswith("float")
    check(lambda lib, x: L(lib).vander(x), Arg(x.astype(dtype), requires_grad=grad))
    check(lambda lib, x: L(lib).vander(x, N=5), Arg(x.astype(dtype), requires_grad=grad))


def test_vander_errors_and_empty():
    check(lambda lib, x: L(lib).vander(x), Arg(np.zeros((0, 3))))
    for bad in (Arg(np.ones(3), "float16"), Arg(np.ones(3, dtype=bool)), Arg(np.ones(1)), Arg(np.ones(0)),
                Arg(np.array(2.0))):
        check(lambda lib, x: L(lib).vander(x), bad)
    check(lambda lib, x: L(lib).vander(x, N=1), Arg(np.ones(3)))


def test_diagonal():
    a = Arg(randn(2, 3, 4), requires_grad=True)
    check(lambda lib, a: L(lib).diagonal(a), a)
    check(lambda lib, a: L(lib).diagonal(a, offset=1, dim1=0, dim2=2), a)
    check(lambda lib, a: L(lib).diagonal(a, offset=-1), a)
    check(lambda lib, a: L(lib).diagonal(a), Arg(randn(3)))


# ---------------------------------------------------------------------------- householder_product
def geqrf_like(shape, k, seed=0, orthogonal=True):
    """Reflectors as geqrf packs them (any values below the diagonal) and taus: 2 / |v|^2
    (orthogonal reflections, as geqrf's) or, otherwise, any in [1, 2]."""
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape)
    if not orthogonal:
        return a, 1 + r.random(shape[:-2] + (k,))
    below = np.tril(a, -1)[..., :k]
    return a, 2 / (1 + (below ** 2).sum(-2))


@pytest.mark.parametrize("shape, k", on_device(
    [((3, 3), 3), ((4, 2), 2), ((5, 3), 1), ((2, 4, 3), 2), ((3, 3), 0)], [((2, 4, 3), 2), ((3, 3), 0)]))
@pytest.mark.parametrize("dtype", DTYPES)
def test_householder_product(shape, k, dtype):
    a, tau = geqrf_like(shape, k)
    check(lambda lib, a, t: L(lib).householder_product(a, t), Arg(a, dtype, requires_grad=True),
          Arg(tau, dtype, requires_grad=True))


def test_householder_product_names_out_and_empty():
    a, tau = geqrf_like((4, 3), 2, orthogonal=False)
    check(lambda lib, a, t: lib.orgqr(a, t), Arg(a, requires_grad=True), Arg(tau, requires_grad=True))
    check(lambda lib, a, t: a.orgqr(t), Arg(a, requires_grad=True, transpose=True), Arg(tau))
    check(lambda lib, a, t, o: L(lib).householder_product(a, t, out=o), Arg(a), Arg(tau), Arg(np.zeros(1)))
    check(lambda lib, a, t: L(lib).householder_product(a, t), Arg(np.zeros((0, 3, 3))), Arg(np.zeros((0, 2))))
    check(lambda lib, a, t: L(lib).householder_product(a, t), Arg(np.zeros((3, 0))), Arg(np.zeros(0)))


def test_householder_product_is_qr_q():
    """With geqrf's reflectors the product is QR's Q (torch's geqrf gives them)."""
    a, tau = torch.geqrf(torch.tensor(randn(5, 3)))
    check(lambda lib, a, t: L(lib).householder_product(a, t), Arg(a.numpy(), requires_grad=True),
          Arg(tau.numpy(), requires_grad=True))


@pytest.mark.parametrize("a, tau", [(np.ones((2, 3)), np.ones(2)), (np.ones(3), np.ones(1)),
                                    (np.ones((4, 3)), np.ones(4)), (np.ones((4, 3)), np.ones((2, 2))),
                                    (np.ones((2, 4, 3)), np.ones((3, 2))),
                                    (np.ones((4, 3)), np.ones(2, np.float32)),
                                    (np.ones((4, 3), np.float16), np.ones(2, np.float16)),
                                    (np.ones((4, 3), np.int64), np.ones(2, np.int64))])
def test_householder_product_errors(a, tau):
    check(lambda lib, a, t: L(lib).householder_product(a, t), Arg(a), Arg(tau))


# ---------------------------------------------------------------------------- tensorinv, tensorsolve
def test_tensorinv():
    a = randn(4, 4) + 4 * np.eye(4)
    check(lambda lib, a: L(lib).tensorinv(a.reshape(2, 2, 4), 2), Arg(a, requires_grad=True), same_node=False)
    check(lambda lib, a: L(lib).tensorinv(a.reshape(4, 2, 2), ind=1), Arg(a, "float32", True),
          same_node=False)
    check(lambda lib, a, o: L(lib).tensorinv(a.reshape(4, 2, 2), 1, out=o), Arg(a), Arg(np.zeros(1)))
    for shape, ind in [((2, 2, 4), 0), ((2, 3, 4), 1), ((2, 2, 3), 2)]:
        check(lambda lib, a: L(lib).tensorinv(a, ind), Arg(np.ones(shape)))
    with pytest.raises(tritensor.linalg.LinAlgError):
        tritensor.linalg.tensorinv(tritensor.ones(2, 2, 4, device=DEVICE))


def test_tensorsolve():
    a, b = randn(4, 4) + 4 * np.eye(4), randn(2, 2)
    check(lambda lib, a, b: L(lib).tensorsolve(a.reshape(2, 2, 4), b), Arg(a, requires_grad=True),
          Arg(b, requires_grad=True))
    check(lambda lib, a, b: L(lib).tensorsolve(a.reshape(4, 2, 2), b, dims=(0,)), Arg(a, requires_grad=True),
          Arg(b, requires_grad=True))
    check(lambda lib, a, b: L(lib).tensorsolve(a.reshape(2, 2, 2, 2), b), Arg(a, "float32", True),
          Arg(b, "float32", True))
    check(lambda lib, a, b, o: L(lib).tensorsolve(a.reshape(2, 2, 4), b, out=o), Arg(a), Arg(b),
          Arg(np.zeros(1)))
    for a_shape, b_shape, dtype in [((2, 3, 6), (3, 2, 1), "float64"), ((2, 3, 5), (2, 3), "float64"),
                                    ((2, 2, 4), (2, 2), "float32")]:
        check(lambda lib, a, b: L(lib).tensorsolve(a, b), Arg(np.ones(a_shape)), Arg(np.ones(b_shape), dtype))


# ---------------------------------------------------------------------------- eig, eigvals
@pytest.mark.parametrize("name", ["eig", "eigvals"])
def test_eig_not_implemented(name):
    """eig returns complex tensors, which tritensor lacks; torch's argument errors come first."""
    with pytest.raises(NotImplementedError, match="complex"):
        getattr(tritensor.linalg, name)(tritensor.eye(3, device=DEVICE))
    for bad in (Arg(np.eye(3), "float16"), Arg(np.eye(3, dtype=np.int64)), Arg(randn(3)), Arg(randn(2, 3))):
        check(lambda lib, a: getattr(L(lib), name)(a), bad)
