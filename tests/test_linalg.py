"""Matrix products against torch: every matmul rank combination, dtypes, strides, grads, errors."""
import numpy as np
import pytest

import tritensor
from harness import DEVICE, FLOAT_DTYPES, Arg, check, gradcheck
from tritensor.kernels.numba import matmul as mm_kernels

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    if dtype in ("int64", "int32", "int16", "int8", "uint8"):
        return rng.integers(0 if dtype == "uint8" else -4, 5, shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float64 if dtype in ("float16", "bfloat16") else dtype)


def A(*shape, dtype="float32", grad=False, transpose=False):
    """A tensor argument of ``shape``; ``transpose``: a non-contiguous (transposed) view of
    that shape."""
    return Arg(data(*shape, dtype=dtype), dtype, requires_grad=grad, transpose=transpose)


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((1, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((4, 1, 2, 3), (1, 6, 3, 2)),
                 ((0, 3), (3, 2)), ((2, 0), (0, 4)), ((2, 3), (3, 0)), ((3, 2, 0), (0,))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_ranks(sa, sb):
    check(lambda lib, a, b: (lib.matmul(a, b), a @ b, a.matmul(b)), A(*sa), A(*sb))


@pytest.mark.parametrize("sa,sb", [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]])
def test_matmul_grads(sa, sb):
    check(lambda lib, a, b: a @ b, A(*sa, dtype="float64", grad=True), A(*sb, dtype="float64", grad=True))


@pytest.mark.parametrize("sa,sb",
                         [((3,), (3,)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (5, 3, 4))])
def test_matmul_gradcheck(sa, sb):
    gradcheck(lambda lib, a, b: a @ b, data(*sa, dtype="float64"), data(*sb, dtype="float64"))


def test_mm_double_backward():
    def grad_a(lib, a, b):
        a = a if a.requires_grad else a.requires_grad_()  # finite differences pass plain leaves
        return lib.autograd.grad((a @ b).square().sum(), (a,), create_graph=True)[0]
    gradcheck(grad_a, data(2, 3, dtype="float64"), data(3, 4, dtype="float64"))

    def dd(lib, a, b):
        ga, = lib.autograd.grad(lib.mm(a, b).sin().sum(), (a,), create_graph=True)
        return ga
    check(dd, A(2, 3, dtype="float64", grad=True), A(3, 4, dtype="float64", grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16",
                                   "int8", "uint8"])
def test_mm_dtypes(dtype):
    check(lambda lib, a, b: (lib.mm(a, b), a @ b), A(4, 5, dtype=dtype), A(5, 3, dtype=dtype))
    check(lambda lib, a, b: lib.bmm(a, b), A(2, 4, 5, dtype=dtype), A(2, 5, 3, dtype=dtype))
    check(lambda lib, a, b: (lib.mv(a, b), a @ b), A(4, 5, dtype=dtype), A(5, dtype=dtype))
    check(lambda lib, a, b: lib.dot(a, b), A(5, dtype=dtype), A(5, dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("n", [8, 40])  # below and above the BLAS threshold
def test_mm_noncontiguous(dtype, n):
    check(lambda lib, a, b: (a @ b, a.t() @ b.t(), a[:, ::2] @ b[::2]),
          A(n, n, dtype=dtype, transpose=True), A(n, n, dtype=dtype))
    check(lambda lib, a, b: lib.bmm(a.transpose(1, 2), b), A(3, n, n, dtype=dtype), A(3, n, 5, dtype=dtype))
    check(lambda lib, a, b: lib.bmm(a.expand(3, n, n), b), A(1, n, n, dtype=dtype), A(3, n, 5, dtype=dtype))


def test_large_matmul_matches():
    check(lambda lib, a, b: a @ b, A(70, 65), A(65, 80))
    check(lambda lib, a, b: a @ b, A(70, 65, dtype="int64"), A(65, 80, dtype="int64"))
    check(lambda lib, a, b: a @ b, A(64, 64, dtype="float16"), A(64, 64, dtype="float16"), rtol=2e-2,
          atol=2e-2)


def test_kernel_threshold_and_empty_k():
    """The Numba path handles ints (never BLAS) and K == 0 (zeros), any strides."""
    for dtype in (np.int64, np.int32, np.float32, np.float64):
        for m, k, n in ((3, 0, 4), (2, 3, 4), (40, 40, 40), (1, 1, 1)):
            a = (rng.integers(-3, 4, (m, k))).astype(dtype)
            b = (rng.integers(-3, 4, (n, k))).astype(dtype).T  # non-contiguous
            out = np.full((m, n), 7, dtype)
            mm_kernels.mm(out, a, b)
            np.testing.assert_array_equal(out, (a.astype(np.float64) @ b.astype(np.float64)).astype(dtype))


def test_addmm_family():
    f64 = dict(dtype="float64", grad=True)
    check(lambda lib, c, a, b: (lib.addmm(c, a, b), lib.addmm(c, a, b, beta=0.5, alpha=2),
                                c.addmm(a, b, alpha=0)), A(2, 4, **f64), A(2, 3, **f64), A(3, 4, **f64))
    check(lambda lib, c, a, b: lib.addmm(c, a, b), A(4, **f64), A(2, 3, **f64), A(3, 4, **f64))
    check(lambda lib, c, a, b: lib.addmv(c, a, b, beta=2, alpha=0.5), A(2, **f64), A(2, 3, **f64),
          A(3, **f64))
    check(lambda lib, c, a, b: (lib.baddbmm(c, a, b), lib.baddbmm(c, a, b, beta=0.0, alpha=3)),
          A(5, 2, 4, **f64), A(5, 2, 3, **f64), A(5, 3, 4, **f64))
    check(lambda lib, c, a, b: lib.addbmm(c, a, b, beta=0.5), A(2, 4, **f64), A(5, 2, 3, **f64),
          A(5, 3, 4, **f64))
    check(lambda lib, c, a, b: lib.addmm(c, a, b), A(2, 4, dtype="int64"), A(2, 3, dtype="int64"),
          A(3, 4, dtype="int64"))
    nan = Arg(np.full((2, 4), np.nan))
    check(lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), nan, A(2, 3, dtype="float64"),
          A(3, 4, dtype="float64"))
    check(lambda lib, c, a, b: lib.addmm(c, a, b), A(3, 4), A(2, 3), A(3, 4))  # bad input shape


def test_dot_outer():
    f64 = dict(dtype="float64", grad=True)
    check(lambda lib, a, b: (lib.dot(a, b), lib.inner(a, b), lib.outer(a, b), lib.ger(a, b), a.outer(b)),
          A(4, **f64), A(4, **f64))
    check(lambda lib, a, b: lib.outer(a, b), A(3, dtype="int64"), A(2, dtype="int64"))
    check(lambda lib, a, b: (lib.inner(a, b), a.inner(b[0])), A(2, 3, **f64), A(4, 3, **f64))
    check(lambda lib, a: lib.inner(a, a[0, 0]), A(2, 3, **f64))
    check(lambda lib, a, b: lib.inner(a, b), A(2, 3), A(3, 2))


def test_errors():
    check(lambda lib, a, b: lib.mm(a, b), A(2, 3), A(4, 5))
    check(lambda lib, a, b: lib.mm(a, b), A(2, 3), A(3))
    check(lambda lib, a, b: lib.mm(a, b), A(2, 3), A(3, 4, dtype="float64"))
    check(lambda lib, a, b: lib.mm(a, b), A(2, 3, dtype="int64"), A(3, 4))
    check(lambda lib, a, b: a @ b, A(2, 3), A(2, 3))
    check(lambda lib, a, b: a @ b, A(3), A(4))
    check(lambda lib, a, b: a @ b, A(2, 5, 3), A(2, 4, 3))
    check(lambda lib, a, b: a @ b, A(2, 2, 3), A(3, 3, 4))
    check(lambda lib, a, b: a @ b, Arg(np.float32(2.0)), A(3))
    check(lambda lib, a, b: lib.bmm(a, b), A(2, 2, 3), A(3, 3, 4))
    check(lambda lib, a, b: lib.bmm(a, b), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.mv(a, b), A(2, 3), A(4))
    check(lambda lib, a, b: lib.mv(a, b), A(2, 3), A(3, 1))
    check(lambda lib, a, b: lib.dot(a, b), A(3), A(4))
    check(lambda lib, a, b: lib.dot(a, b), A(3), A(3, dtype="float64"))
    check(lambda lib, a, b: lib.dot(a, b), A(3, 1), A(3))
    check(lambda lib, a, b: a @ b, A(3, dtype="bool"), A(3, dtype="bool"))
    check(lambda lib, a, b: a @ b, A(2, 3, dtype="bool"), A(3, 2, dtype="bool"))


def test_error_messages_are_helpful():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        tritensor.ones(2, 3, device=DEVICE) @ tritensor.ones(4, 5, device=DEVICE)
    with pytest.raises(RuntimeError, match="same dtype"):
        tritensor.ones(2, 3, device=DEVICE).mm(tritensor.ones(3, 4, dtype=tritensor.float64, device=DEVICE))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_matmul_grad_dtypes(dtype):
    check(lambda lib, a, b: lib.matmul(a, b), A(3, 2, 3, dtype=dtype, grad=True),
          A(3, 4, dtype=dtype, grad=True))


def test_out_argument():
    def f(lib, a, b):
        o = lib.empty(2, 4, device=a.device)
        r = lib.mm(a, b, out=o)
        wrong = lib.zeros(1, device=a.device)
        r2 = lib.matmul(a, b, out=wrong)  # resized like torch
        return o, r is o, r2 is wrong, wrong
    check(f, A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.mm(a, b, out=lib.empty(2, 4, dtype=lib.float64, device=a.device)),
          A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.mm(a, b, out=lib.empty(2, 4, device=a.device)), A(2, 3, grad=True), A(3, 4))
    check(lambda lib, a, b, c: lib.addmm(c, a, b, out=lib.empty(2, 4, device=a.device)),
          A(2, 3), A(3, 4), A(4))


@pytest.mark.parametrize("dtype,value", [("int8", 100), ("uint8", 200), ("int16", 3000), ("int64", 2 ** 40)])
def test_integer_products_wrap_like_torch(dtype, value):
    a = Arg(np.full((3, 40), value, dtype))
    check(lambda lib, x: (x @ x.t(), lib.mv(x, x[0]), lib.dot(x[0], x[1])), a)


@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True), (True, True)])
def test_mm_grads_follow_operand_layout(transpose_a, transpose_b):
    """torch computes the gradient of a column-major operand (linear's ``weight.t()``) in that
    layout, so the leaf's own gradient comes out contiguous; same strides here."""
    import torch
    a_np, b_np = data(5, 4), data(4, 3)
    grads = {}
    for lib in (torch, tritensor):
        dev = DEVICE if lib is tritensor else "cpu"
        a_leaf = lib.tensor(a_np.T.copy() if transpose_a else a_np, device=dev, requires_grad=True)
        b_leaf = lib.tensor(b_np.T.copy() if transpose_b else b_np, device=dev, requires_grad=True)
        a = a_leaf.t() if transpose_a else a_leaf
        b = b_leaf.t() if transpose_b else b_leaf
        lib.mm(a, b).sum().backward()
        grads[lib.__name__] = [(tuple(t.grad.stride()), t.grad.cpu().numpy()) for t in (a_leaf, b_leaf)]
    for (s_t, v_t), (s_tt, v_tt) in zip(grads["torch"], grads["tritensor"]):
        assert s_tt == s_t
        np.testing.assert_allclose(v_tt, v_t, rtol=1e-5, atol=1e-6)


def test_linear_weight_grad_is_contiguous():
    lin = tritensor.nn.Linear(6, 4).to(DEVICE)
    lin(tritensor.ones(3, 6, device=DEVICE)).sum().backward()
    assert lin.weight.grad.is_contiguous() and lin.bias.grad.is_contiguous()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("m,k,n", [(2, 3, 4), (40, 50, 60), (0, 3, 4), (3, 0, 4)])
def test_addmm_row_bias_like_linear(dtype, m, k, n):
    """linear's addmm (1-d bias, beta = alpha = 1; one fused bias pass on CPU) against torch,
    with a transposed weight as linear passes it, and gradients."""
    grad = dtype in ("float32", "float64")
    check(lambda lib, c, a, w: lib.addmm(c, a, w.t()), A(n, dtype=dtype, grad=grad), A(m, k, dtype=dtype, grad=grad),
          A(n, k, dtype=dtype, grad=grad))
    transposed = A(m, k, dtype=dtype, transpose=True)
    assert check(lambda lib, c, a, b: lib.addmm(c, a, b), A(n, dtype=dtype), transposed,
                 A(k, n, dtype=dtype)) is not None


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("m,k,n", [(2, 3, 4), (40, 50, 60), (0, 3, 4), (3, 0, 4)])
def test_linear_recording_nothing(dtype, m, k, n):
    """F.linear where nothing is recorded (under no_grad, or operands that need no grad):
    the CPU's one backend call, the weight read transposed in place, against torch; with a
    transposed weight and a strided bias too. The results require no grad."""
    def unrecorded(lib, x, w, wt, b):
        f, bias = lib.nn.functional, b[:n]
        plain = f.linear(x.detach(), w.detach(), bias.detach())
        with lib.no_grad():
            return plain, f.linear(x, w, bias), f.linear(x, wt, b[::2]), f.linear(x, w, None)
    results = check(unrecorded, A(m, k, dtype=dtype, grad=True), A(n, k, dtype=dtype, grad=True),
                    A(n, k, dtype=dtype, transpose=True), A(2 * n, dtype=dtype, grad=True))
    assert results is not None  # computed, not an error raised by both


def test_linear_recording_nothing_errors():
    """The unrecorded path's operands that do not fit raise torch's errors (the general path's)."""
    def under_no_grad(fn):
        def run(lib, *args):
            with lib.no_grad():
                return fn(lib, *args)
        return run
    linear = lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)  # noqa: E731
    for x, w, b in [(A(2, 3), A(4, 5), A(4)),                       # in-features differ
                    (A(2, 3), A(4, 3), A(5)),                       # bias of another length
                    (A(2, 3), A(4, 3, dtype="float64"), A(4)),      # weight of another dtype
                    (A(2, 3), A(4, 3), A(4, dtype="float64")),      # bias of another dtype
                    (A(2, 3), A(3), A(4))]:                         # a 1-d weight
        assert check(under_no_grad(linear), x, w, b) is None  # both raised, the same type
    assert check(under_no_grad(linear), A(2, 3), A(4, 3), A(1, 4)) is not None  # a 2-d bias broadcasts


@pytest.mark.cpu_only  # the CPU backend's ``linear``
def test_linear_recording_nothing_is_one_backend_call(monkeypatch):
    from tritensor.backends import cpu
    calls = []
    real = cpu.linear
    monkeypatch.setattr(cpu, "linear", lambda *args: calls.append(1) or real(*args))
    lin = tritensor.nn.Linear(3, 4)
    x = tritensor.randn(2, 3)
    with tritensor.no_grad():
        assert not lin(x).requires_grad
    assert calls == [1]
    y = lin(x)  # recorded: the addmm node, as torch's
    assert calls == [1] and y.grad_fn.name() == "AddmmBackward0"


@pytest.mark.cpu_only  # the CPU's 16-bit path; 'cuda' fuses the epilogue in its own kernel
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,shapes", [("addmm", [(8, 8), (8, 64), (64, 8)]), ("addmv", [(8,), (8, 64), (64,)]),
                                         ("baddbmm", [(3, 8, 8), (3, 8, 64), (3, 64, 8)]),
                                         ("addbmm", [(8,), (3, 8, 64), (3, 64, 8)])])
def test_16_bit_add_products_round_like_torch(name, shapes, dtype):
    """beta * input + alpha * product rounded once (addbmm: once per batch, as torch's loop of
    addmm_), not the product rounded first: bfloat16 results equal torch's bit for bit."""
    import torch
    local = np.random.default_rng(7)
    values = [local.standard_normal(s).astype(np.float32) for s in shapes]
    for beta in (0.5, 0):
        ref = getattr(torch, name)(*[torch.tensor(v).to(getattr(torch, dtype)) for v in values], beta=beta,
                                   alpha=1.5).float().numpy()
        ours = getattr(tritensor, name)(*[tritensor.tensor(v).to(getattr(tritensor, dtype)) for v in values],
                                        beta=beta, alpha=1.5).float().numpy()
        if dtype == "bfloat16":  # 8 significant bits: the float32 sums' order never shows
            np.testing.assert_array_equal(ours, ref)
        else:  # float16's 11 bits can show it: within one unit in the last place
            np.testing.assert_allclose(ours, ref, rtol=2 ** -10, atol=0)
