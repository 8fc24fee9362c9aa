"""LU, Cholesky, triangular solves and what is built on them (det, slogdet, inv, solve,
cholesky_solve, cholesky_inverse, lu_solve, lu_unpack) against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, gradcheck

rng = np.random.default_rng(0)
EMULATED = DEVICE != "cpu"
SHAPES = [(1, 1), (3, 3), (2, 3, 4, 4)] if EMULATED else [(1, 1), (3, 3), (5, 5), (2, 3, 4, 4), (0, 3, 3)]
DTYPES = ["float32", "float64"]


def general(shape, seed=0):
    """Well conditioned, needing row swaps: a random matrix plus n on the diagonal, rows reversed."""
    r = np.random.default_rng(seed)
    n = shape[-1]
    a = r.standard_normal(shape) + n * np.eye(n)
    return a[..., ::-1, :].copy()


def spd(shape, seed=0):
    r = np.random.default_rng(seed)
    n = shape[-1]
    b = r.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def lower(shape, seed=0):
    n = shape[-1]
    return np.tril(np.random.default_rng(seed).standard_normal(shape)) + n * np.eye(n)


def L(lib):
    return lib.linalg


# ---------------------------------------------------------------------------- values and gradients
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["det", "slogdet", "inv", "inv_ex", "lu_factor", "lu_factor_ex", "lu"])
def test_lu_family(name, shape, dtype):
    check(lambda lib, a: getattr(L(lib), name)(a), Arg(general(shape), dtype, requires_grad=True),
          )


@pytest.mark.parametrize("fn", [lambda lib, a: lib.det(a), lambda lib, a: a.det(),
                                lambda lib, a: lib.inverse(a), lambda lib, a: a.inverse(),
                                lambda lib, a: lib.slogdet(a), lambda lib, a: a.logdet(),
                                lambda lib, a: lib.logdet(-a)])
def test_torch_names(fn):
    check(fn, Arg(general((3, 3)), requires_grad=True))


def test_non_contiguous():
    a = Arg(general((4, 4)), requires_grad=True, transpose=True)
    for name in ("det", "inv", "lu_factor"):
        check(lambda lib, x: getattr(L(lib), name)(x), a)
    check(lambda lib, x: L(lib).cholesky(x), Arg(spd((4, 4)), requires_grad=True, transpose=True))


def test_zero_size():
    for name in ("det", "inv", "slogdet", "cholesky", "lu_factor"):
        check(lambda lib, x: getattr(L(lib), name)(x), Arg(np.zeros((2, 0, 0))))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape, b_shape", [((3, 3), (3, 2)), ((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 3)),
                                              ((2, 1, 3, 3), (4, 3, 3)), ((3, 3), (3,)), ((2, 3, 3), (2, 3))])
def test_solve(a_shape, b_shape, dtype, left):
    if not left and len(b_shape) >= 2 and b_shape[-2:] == (3, 2):
        b_shape = b_shape[:-2] + (2, 3)
    b = rng.standard_normal(b_shape)
    for fn in (lambda lib, a, b: L(lib).solve(a, b, left=left),
               lambda lib, a, b: L(lib).solve_ex(a, b, left=left)):
        check(fn, Arg(general(a_shape), dtype, requires_grad=True), Arg(b, dtype, requires_grad=True))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(upper, left, unit):
    a = general((2, 4, 4))  # a full matrix: only the triangle may be read
    b = rng.standard_normal((2, 4, 4))
    check(lambda lib, a, b: L(lib).solve_triangular(a, b.mT, upper=upper, left=left, unitriangular=unit),
          Arg(a, requires_grad=True), Arg(b, requires_grad=True))  # b.mT: a non-contiguous B


def test_solve_triangular_broadcast():
    check(lambda lib, a, b: L(lib).solve_triangular(a, b, upper=False), Arg(lower((3, 3)), "float32", True),
          Arg(rng.standard_normal((2, 3, 5)), "float32", True))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, dtype, upper):
    a = Arg(spd(shape), dtype, requires_grad=True)
    # the symmetric part: torch's gradient is symmetric, finite differences of one triangle are not
    check(lambda lib, a: L(lib).cholesky((a + a.mT) / 2, upper=upper), a)
    check(lambda lib, a: L(lib).cholesky_ex((a + a.mT) / 2, upper=upper), a)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle(upper):
    a = spd((2, 4, 4))
    a[..., 0, 3] += 5  # the two triangles differ
    check(lambda lib, a: L(lib).cholesky(a, upper=upper), Arg(a))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    fac = np.linalg.cholesky(spd((2, 3, 3)))
    fac = np.swapaxes(fac, -1, -2) if upper else fac
    b = rng.standard_normal((3, 2))
    check(lambda lib, b, f: lib.cholesky_solve(b, f, upper), Arg(b, requires_grad=True),
          Arg(fac, requires_grad=True))
    check(lambda lib, b, f: b.cholesky_solve(f, upper=upper), Arg(b.astype(np.float32)), Arg(fac, "float32"))
    check(lambda lib, f: lib.cholesky_inverse(f, upper), Arg(fac, requires_grad=True))
    check(lambda lib, f: f.cholesky_inverse(upper=upper), Arg(fac[0], "float32", requires_grad=True))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    a = general((2, 4, 4))
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))

    def fn(lib, a, b):
        LU, piv = L(lib).lu_factor(a)
        return L(lib).lu_solve(LU, piv, b, left=left, adjoint=adjoint)
    check(fn, Arg(a, requires_grad=True), Arg(b, requires_grad=True))


def test_lu_solve_broadcast_and_errors():
    def fn(lib, a, b):
        return L(lib).lu_solve(*L(lib).lu_factor(a), b)
    check(fn, Arg(general((2, 1, 3, 3)), requires_grad=True),
          Arg(rng.standard_normal((3, 3, 2)), requires_grad=True))
    for b in (rng.standard_normal((2, 2)), rng.standard_normal(3),
              rng.standard_normal((3, 2)).astype(np.float32)):
        check(fn, Arg(general((3, 3))), Arg(b))


@pytest.mark.parametrize("unpack_data, unpack_pivots", [(True, True), (False, True), (True, False)])
def test_lu_unpack(unpack_data, unpack_pivots):
    def fn(lib, a):
        LU, piv = L(lib).lu_factor(a)
        return lib.lu_unpack(LU, piv, unpack_data, unpack_pivots)
    check(fn, Arg(general((2, 4, 4)), requires_grad=True), grad=unpack_data)


@pytest.mark.parametrize("n", [-1, -3])
def test_matrix_power_negative(n):
    check(lambda lib, a: lib.linalg.matrix_power(a, n), Arg(general((2, 3, 3)), requires_grad=True),
          same_node=False)


def test_out():
    a, b = general((3, 3)), rng.standard_normal((3, 2))
    for fn in (lambda lib, a, b, o: L(lib).solve(a, b, out=o), lambda lib, a, b, o: L(lib).inv(a, out=o),
               lambda lib, a, b, o: L(lib).det(a, out=o)):
        check(fn, Arg(a), Arg(b), Arg(np.zeros((1,))))


QR_SHAPES = [(1, 1), (4, 3), (3, 3), (3, 5), (2, 4, 2), (0, 3, 2), (3, 0)]


@pytest.mark.parametrize("shape", QR_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(shape, dtype, mode):
    differentiable = mode == "reduced" or (mode == "complete" and shape[-2] <= shape[-1])
    check(lambda lib, a: L(lib).qr(a, mode), Arg(rng.standard_normal(shape), dtype, requires_grad=True),
          grad=differentiable)


def test_qr_non_contiguous_and_zero_column():
    check(lambda lib, a: L(lib).qr(a), Arg(rng.standard_normal((3, 4)), requires_grad=True, transpose=True))
    a = rng.standard_normal((4, 3))
    a[1:, 0] = 0  # no reflection in the first column (LAPACK keeps R[0, 0]'s sign)
    a[0, 0] = -2
    check(lambda lib, a: L(lib).qr(a, "complete"), Arg(a))


@pytest.mark.parametrize("mode, shape", [("r", (3, 3)), ("complete", (4, 3))])
def test_qr_not_differentiable(mode, shape):
    for lib in (torch, tritensor):
        a = lib.tensor(rng.standard_normal(shape), requires_grad=True)
        if lib is tritensor:
            a = tritensor.tensor(a.detach().numpy(), device=DEVICE, requires_grad=True)
        q, r = lib.linalg.qr(a, mode)
        with pytest.raises(RuntimeError, match="mode="):
            (r.sum() + q.sum()).backward()


@pytest.mark.parametrize("bad", [Arg(np.eye(3), "float16"), Arg(np.eye(3, dtype=np.int64)),
                                 Arg(rng.standard_normal(3)), "mode"], ids=["half", "int", "vector", "mode"])
def test_qr_errors(bad):
    if bad == "mode":
        check(lambda lib, a: L(lib).qr(a, "full"), Arg(np.eye(3)))
    else:
        check(lambda lib, a: L(lib).qr(a), bad)


# ---------------------------------------------------------------------------- singular inputs
def test_singular_info():
    a = general((3, 4, 4))
    a[1, :, 2] = 0  # singular, exactly so in floating point (a multiple of a column may leave a tiny pivot)
    s = spd((3, 4, 4))
    s[2] = -s[2]
    for fn in (lambda lib, a: L(lib).inv_ex(a).info, lambda lib, a: L(lib).lu_factor_ex(a).info,
               lambda lib, a: L(lib).solve_ex(a, a).info):
        check(fn, Arg(a))
    check(lambda lib, a: L(lib).cholesky_ex(a).info, Arg(s))
    check(lambda lib, a: L(lib).det(a), Arg(a))
    check(lambda lib, a: L(lib).slogdet(a), Arg(a[1:2]))


@pytest.mark.parametrize("call", [lambda lib, a: L(lib).inv(a), lambda lib, a: L(lib).solve(a, a),
                                  lambda lib, a: L(lib).cholesky(a),
                                  lambda lib, a: L(lib).inv_ex(a, check_errors=True),
                                  lambda lib, a: L(lib).cholesky_ex(a, check_errors=True),
                                  lambda lib, a: lib.linalg.matrix_power(a, -1)])
def test_singular_raises(call):
    a = np.zeros((2, 3, 3))
    with pytest.raises(torch.linalg.LinAlgError):
        call(torch, torch.tensor(a))
    with pytest.raises(tritensor.linalg.LinAlgError, match="singular|positive-definite|zero"):
        call(tritensor, tritensor.tensor(a, device=DEVICE))
    assert issubclass(tritensor.linalg.LinAlgError, RuntimeError)


def test_singular_lu_factor_raises_runtime_error():
    check(lambda lib, a: L(lib).lu_factor(a), Arg(np.zeros((2, 3, 3))))


# ---------------------------------------------------------------------------- errors
BAD = [Arg(np.eye(3), "float16"), Arg(np.eye(3, dtype=np.int64)), Arg(rng.standard_normal((2, 3))),
       Arg(rng.standard_normal(3))]


@pytest.mark.parametrize("bad", BAD, ids=["half", "int", "non-square", "vector"])
@pytest.mark.parametrize("fn", [
    lambda lib, a: L(lib).det(a), lambda lib, a: L(lib).slogdet(a), lambda lib, a: lib.logdet(a),
    lambda lib, a: L(lib).inv(a), lambda lib, a: L(lib).inv_ex(a), lambda lib, a: L(lib).solve(a, a),
    lambda lib, a: L(lib).solve_triangular(a, a, upper=True), lambda lib, a: L(lib).cholesky(a),
    lambda lib, a: lib.cholesky_solve(a, a), lambda lib, a: lib.cholesky_inverse(a),
    lambda lib, a: L(lib).lu_factor_ex(a), lambda lib, a: L(lib).lu(a)])
def test_errors(fn, bad):
    if bad.data.shape == (2, 3) and fn.__code__.co_names[-1] in ("lu_factor_ex", "lu"):
        pytest.skip("torch factors rectangular matrices; tritensor raises NotImplementedError")
    check(fn, bad)


@pytest.mark.parametrize("b", [Arg(rng.standard_normal((3, 2)), "float32"), Arg(rng.standard_normal((4, 2))),
                               Arg(rng.standard_normal((2, 3, 2))), Arg(rng.standard_normal((2,)))])
def test_solve_errors(b):
    check(lambda lib, a, b: L(lib).solve(a, b), Arg(general((3, 3))), b)
    check(lambda lib, a, b: L(lib).solve(a, b), Arg(general((3, 3, 3))), b)
    if b.data.ndim >= 2:
        check(lambda lib, a, b: L(lib).solve_triangular(a, b, upper=False), Arg(general((3, 3))), b)


def test_rectangular_lu_not_implemented():
    with pytest.raises(NotImplementedError):
        tritensor.linalg.lu_factor(tritensor.zeros(2, 3, device=DEVICE))
    with pytest.raises(RuntimeError):
        tritensor.linalg.lu_factor(tritensor.eye(3, device=DEVICE), pivot=False)


# ---------------------------------------------------------------------------- gradcheck, double backward
GRADCHECK = {
    "det": lambda lib, a: L(lib).det(a),
    "logabsdet": lambda lib, a: L(lib).slogdet(a).logabsdet,
    "inv": lambda lib, a: L(lib).inv(a),
    "solve": lambda lib, a: L(lib).solve(a, a.sin()),
    "solve_right": lambda lib, a: L(lib).solve(a, a.cos()[..., :2, :], left=False),
    "solve_triangular": lambda lib, a: L(lib).solve_triangular(a, a.cos(), upper=True),
    "solve_triangular_unit": lambda lib, a: L(lib).solve_triangular(a, a.cos(), upper=False, left=False,
                                                                    unitriangular=True),
    "cholesky": lambda lib, a: L(lib).cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype, device=a.device)),
    "cholesky_upper": lambda lib, a: L(lib).cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype,
                                                                              device=a.device), upper=True),
    "cholesky_solve": lambda lib, a: lib.cholesky_solve(a.sin(), a.tril() + 3 * lib.eye(3, dtype=a.dtype,
                                                                                           device=a.device)),
    "cholesky_inverse": lambda lib, a: lib.cholesky_inverse(a.triu() + 3 * lib.eye(3, dtype=a.dtype,
                                                                                     device=a.device), True),
    "lu_factor": lambda lib, a: L(lib).lu_factor(a).LU,
    "qr_Q": lambda lib, a: L(lib).qr(a).Q,
    "qr_R": lambda lib, a: L(lib).qr(a).R,
    "qr_wide": lambda lib, a: L(lib).qr(a[..., :2, :]).Q.exp() + L(lib).qr(a[..., :2, :]).R.sum(),
    "lu_solve": lambda lib, a: L(lib).lu_solve(*L(lib).lu_factor(a), a.sin(), adjoint=True),
    "lu_solve_right": lambda lib, a: L(lib).lu_solve(*L(lib).lu_factor(a), a.sin(), left=False),
    "lu_L": lambda lib, a: L(lib).lu(a).L,
    "lu_U": lambda lib, a: L(lib).lu(a).U,
    "lu_unpack": lambda lib, a: lib.lu_unpack(*L(lib).lu_factor(a)).L.exp(),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    gradcheck(GRADCHECK[name], general((3, 3), seed=3))


@pytest.mark.parametrize("name", ["det", "inv", "solve", "cholesky", "solve_triangular", "logabsdet", "qr_R",
                                  "lu_factor", "lu_solve", "cholesky_solve", "cholesky_inverse"])
def test_double_backward(name):
    fn = GRADCHECK[name]

    def second(lib, a):
        out = fn(lib, a)
        (g,) = lib.autograd.grad((out * out).sum(), a, create_graph=True)
        return (g * g.cos()).sum()
    check(second, Arg(general((3, 3), seed=3), requires_grad=True), same_node=False)


#: the LU factors of ``default_rng(3).standard_normal((3, 3))`` rounded one operation at a time,
#: as torch's CPU LAPACK (MKL) computes them on its generic path (e.g. on AMD CPUs)
_PROBE_LU = {
    "float32": [[2.040919065475464, -2.5556650161743164, 0.4180988371372223],
                [-0.9897434115409851, -2.761384963989258, -0.4514025151729584],
                [-0.27819308638572693, 0.4213891327381134, 0.09093114733695984]],
    "float64": [[2.0409191213851825, -2.5556650313141818, 0.41809884672577885],
                [-0.9897433504255062, -2.7613848483023937, -0.45140252290752914],
                [-0.27819309456152364, 0.4213891651320403, 0.09093118117998306]],
}


def _torch_lu_rounds_unfused(dtype):
    """Whether torch's LU rounds like MKL's generic path here. On CPUs where MKL takes its
    AVX-512 path it fuses the updates' multiply-adds, and its bits differ from these by a few
    ulp: the bits torch gives then depend on the CPU, not on what it computes."""
    a = np.random.default_rng(3).standard_normal((3, 3)).astype(dtype)
    return torch.linalg.lu_factor(torch.tensor(a))[0].tolist() == _PROBE_LU[dtype]


@pytest.mark.cpu_only  # the bits are torch's CPU LAPACK's (MKL); elsewhere they agree to tolerance only
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 16])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lu_factor_and_det_round_like_torch(n, dtype):
    """The LU's scaling (pivot reciprocal; a division in the small kernel's last step), det's
    factoring of A^T and its in-order product: torch's values bit for bit, so e.g.
    det([[1, 2], [3, 4]]) is exactly -2 as in torch (the row-major LU gives -1.9999999).
    Where torch's MKL fuses multiply-adds, its values and these agree to a few ulp, and the
    probe's bits pin these."""
    probe = np.random.default_rng(3).standard_normal((3, 3)).astype(dtype)
    assert tritensor.linalg.lu_factor(tritensor.tensor(probe))[0].tolist() == _PROBE_LU[dtype]
    bitwise = _torch_lu_rounds_unfused(dtype)

    def same(ours, ref, scale):
        if bitwise:
            np.testing.assert_array_equal(ours, ref)
        else:  # a few ulp of the values' scale (the LU's entries; det's Hadamard bound)
            np.testing.assert_allclose(ours, ref, rtol=0, atol=8 * n * np.finfo(dtype).eps * scale)
    local = np.random.default_rng(n)
    for _ in range(20):
        a = local.standard_normal((n, n)).astype(dtype)
        ref_lu = torch.linalg.lu_factor(torch.tensor(a))[0].numpy()
        same(tritensor.linalg.lu_factor(tritensor.tensor(a))[0].numpy(), ref_lu, np.abs(ref_lu).max())
        ours, ref = tritensor.tensor(a), torch.tensor(a)
        bound = np.prod(np.linalg.norm(a.astype(np.float64), axis=1))
        for view in (lambda t: t, lambda t: t.mT):  # contiguous (factored as its transpose) and not
            same(tritensor.det(view(ours)).item(), torch.det(view(ref)).item(), bound)
    assert tritensor.det(tritensor.tensor([[1.0, 2.0], [3.0, 4.0]])).item() == -2.0
