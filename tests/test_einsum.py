"""einsum, tensordot, trace, kron, cross and torch.linalg's norms/vecdot against torch: values,
dtypes, shapes, gradients (vs torch and finite differences), and the errors torch raises."""
import math
import string
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tritensor
from harness import DEVICE, Arg, check, gradcheck, torch_2_13

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    if dtype in ("int64", "int32", "int16", "int8", "uint8"):
        return rng.integers(0 if dtype == "uint8" else -4, 5, shape).astype(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.standard_normal(shape).astype(np.float64 if dtype in ("float16", "bfloat16") else dtype)


def A(*shape, dtype="float32", grad=False):
    return Arg(data(*shape, dtype=dtype), dtype, requires_grad=grad)


# ------------------------------------------------------------------ einsum
EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),                      # matmul
    ("ij,jk", [(2, 3), (3, 4)]),                          # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),             # batch matmul
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),    # attention scores
    ("i,j->ij", [(3,), (4,)]),                            # outer
    ("i,i->", [(5,), (5,)]),                              # inner
    ("i,i", [(5,), (5,)]),
    ("ii", [(3, 3)]),                                     # trace
    ("ii->i", [(4, 4)]),                                  # diagonal
    ("iii->i", [(3, 3, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),                  # diagonal, then a product
    ("ij->ji", [(2, 3)]),                                 # transposes
    ("ijk->kij", [(2, 3, 4)]),
    ("ij->ij", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ba", [(2, 3)]),                                     # implicit output in alphabetical order
    ("ij->", [(2, 3)]),                                   # sums
    ("ij->j", [(2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),                      # elementwise: no contraction
    ("ij,jk->k", [(2, 3), (3, 4)]),                       # i appears in one operand only
    ("ijk,jl->il", [(2, 3, 4), (3, 5)]),
    ("ij,kl->", [(2, 3), (4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),           # three operands
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("bi,bj,bk->bijk", [(2, 3), (2, 2), (2, 4)]),
    ("ij,jk,ki", [(2, 3), (3, 4), (4, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),   # ellipsis broadcast
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("i...->...", [(3, 2, 2)]),
    ("...,...", [(2, 1), (3,)]),
    ("...i,...i->...", [(2, 3), (3,)]),
    ("ij...,j->i", [(2, 3, 4), (3,)]),                    # ellipsis summed out
    ("ij->...", [(2, 3)]),
    ("i,i->i", [(1,), (3,)]),                             # a size-1 label broadcasts
    ("ij,ij->ij", [(1, 3), (2, 1)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),                      # upper-case labels sort first
    ("bA,Ab", [(2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),            # spaces
    (",->", [(), ()]),                                    # 0-d
    ("i,->i", [(3,), ()]),
    ("", [()]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),                      # empty dims
    ("ij,jk->ik", [(0, 3), (3, 2)]),
    ("i->", [(0,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 0), (0, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS)
def test_einsum_matches_torch(equation, shapes):
    check(lambda lib, *ts: lib.einsum(equation, *ts), *[A(*s) for s in shapes])


@pytest.mark.parametrize("equation,shapes", EQUATIONS)
def test_einsum_grads(equation, shapes):
    check(lambda lib, *ts: lib.einsum(equation, *ts), *[A(*s, dtype="float64", grad=True) for s in shapes])


@pytest.mark.parametrize("equation,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
                                             ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                                             ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
                                             ("...i,...i->...", [(2, 3), (3,)]),
                                             ("iij,j", [(2, 2, 3), (3,)])])
def test_einsum_gradcheck(equation, shapes):
    gradcheck(lambda lib, *ts: lib.einsum(equation, *ts), *[data(*s, dtype="float64") for s in shapes])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int64", "int32", "uint8"])
def test_einsum_dtypes(dtype):
    for equation, shapes in [("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
                             ("ii->i", [(3, 3)]), ("ij->", [(3, 4)]), ("ij,ij->i", [(2, 3), (2, 3)]),
                             ("ij,jk->k", [(2, 3), (3, 4)]), ("i,j->ij", [(3,), (4,)])]:
        check(lambda lib, *ts: lib.einsum(equation, *ts), *[A(*s, dtype=dtype) for s in shapes])


def test_einsum_mixed_and_bool_dtypes():
    # products of mixed dtypes take bmm's same-dtype rule; elementwise-only ones promote
    check(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), A(2, 3), A(3, 4, dtype="float64"))
    check(lambda lib, a, b: lib.einsum("ij,ij->ij", a, b), A(2, 3), A(2, 3, dtype="int64"))
    check(lambda lib, a, b: lib.einsum("ij,jk->k", a, b), A(2, 3, dtype="int32"), A(3, 4, dtype="int32"))
    check(lambda lib, a: lib.einsum("ij->", a), A(2, 3, dtype="bool"))
    check(lambda lib, a, b: lib.einsum("ij,ij->", a, b), A(2, 3, dtype="bool"), A(2, 3, dtype="bool"))


def test_einsum_noncontiguous():
    check(lambda lib, a, b: lib.einsum("ij,jk->ik", a.t(), b[:, ::2]), A(3, 2, grad=True), A(3, 8, grad=True),
          grad=False)
    check(lambda lib, a, b: lib.einsum("bij,bjk->bik", a.transpose(1, 2), b.permute(0, 2, 1)),
          A(2, 4, 3, dtype="float64", grad=True), A(2, 5, 4, dtype="float64", grad=True))
    check(lambda lib, a: lib.einsum("ii->i", a[::2, ::2]), A(6, 6))
    check(lambda lib, a, b: lib.einsum("i,j->ij", a.expand(3, 4)[0], b), A(1, 4), A(5))


def test_einsum_double_backward():
    def grad_a(lib, a, b):
        g, = lib.autograd.grad(lib.einsum("bij,bjk->", a, b).square(), (a,), create_graph=True)
        return g.clone()  # the backward graph's own nodes are named by the ops' backward formulas
    check(grad_a, A(2, 2, 3, dtype="float64", grad=True), A(2, 3, 2, dtype="float64", grad=True))


def test_einsum_views_and_forms():
    check(lambda lib, a: (lib.einsum("ij->ji", a).is_contiguous(), lib.einsum("ii->i", a).is_contiguous()),
          A(3, 3))
    check(lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]), A(2, 3), A(3, 4))          # one list argument
    check(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), A(2, 3), A(3, 4))  # sublists
    check(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2]), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.einsum(a, [..., 30], b, [30, 28], [..., 28]), A(5, 2, 3), A(3, 4))
    check(lambda lib, a: lib.einsum(a, [0, 52]), A(2, 3))


def test_einsum_on_device():
    a, b = tritensor.ones(2, 3, device=DEVICE), tritensor.ones(3, 4, device=DEVICE)
    out = tritensor.einsum("ij,jk->ik", a, b)
    assert out.device.type == DEVICE and out.tolist() == [[3.0] * 4] * 2


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3)]),                # fewer operands than the equation names
    ("ij,jk->ik", [(2, 3), (3, 4), (4, 5)]),
    ("ij", [(2, 3), (3, 4)]),
    ("ijk,jk->ik", [(2, 3), (3, 4)]),       # more subscripts than dims
    ("ij,jk->ik", [(2, 3), (2, 3)]),        # j: 3 vs 2
    ("...i,...i", [(2, 3), (4, 3)]),        # ellipsis sizes
    ("...ijk", [(2, 3)]),
    ("ij,jk->iz", [(2, 3), (3, 4)]),        # output letter not in the inputs
    ("ij,jk->ii", [(2, 3), (3, 4)]),        # repeated output letter
    ("i0,jk->ik", [(2, 3), (3, 4)]),        # not a letter
    ("ij->j->i", [(2, 3)]),
    ("ii", [(2, 3)]),                       # repeated subscript, different sizes
    ("i.j", [(2, 3)]),
    ("......", [(2, 3)]),
    ("...ij...", [(2, 3)]),
    ("ij->.", [(2, 3)]),
    ("ij->......", [(2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)], "bool"),  # bmm has no bool kernel
]


@torch_2_13
@pytest.mark.parametrize("case", EINSUM_ERRORS, ids=[e[0] for e in EINSUM_ERRORS])
def test_einsum_errors(case):
    equation, shapes = case[:2]
    dtype = case[2] if len(case) > 2 else "float32"
    check(lambda lib, *ts: lib.einsum(equation, *ts), *[A(*s, dtype=dtype) for s in shapes])


def test_einsum_argument_errors():
    check(lambda lib, a: lib.einsum("ij"), A(2, 3))
    check(lambda lib, a: lib.einsum("ij,jk->ik", a, 3), A(2, 3))
    check(lambda lib, a: lib.einsum(3, a), A(2, 3))
    check(lambda lib, a: lib.einsum(a, [0, 60]), A(2, 3))
    check(lambda lib, a: lib.einsum("ij", []), A(2, 3))
    with pytest.raises(RuntimeError, match="subscript j has size 2 for operand 1 which does not broadcast"):
        tritensor.einsum("ij,jk->ik", *[tritensor.ones(2, 3, device=DEVICE)] * 2)
    with pytest.raises(RuntimeError, match="invalid subscript given at index 5"):
        tritensor.einsum("ij->j->i", tritensor.ones(2, 3, device=DEVICE))


@st.composite
def einsum_cases(draw):
    """A random equation over letters a-e (repeats within an operand included), sizes to
    match (1s that broadcast too), an explicit or implicit output, maybe an ellipsis."""
    letters = "abcde"
    size = {c: draw(st.integers(1, 3)) for c in letters}
    n_ops = draw(st.integers(1, 3))
    ellipsis = draw(st.booleans())
    ell_shape = draw(st.lists(st.integers(1, 2), max_size=2)) if ellipsis else []
    terms, shapes = [], []
    for _ in range(n_ops):
        subs = draw(st.lists(st.sampled_from(letters), max_size=3))
        shape = [1 if draw(st.integers(0, 5)) == 0 else size[c] for c in subs]
        for c in set(subs):  # a repeated label must have one size within its operand
            shape = [shape[subs.index(c)] if s == c else x for s, x in zip(subs, shape)]
        if ellipsis and draw(st.booleans()):
            tail = ell_shape[draw(st.integers(0, len(ell_shape))):]
            at = draw(st.integers(0, len(subs)))
            subs, shape = subs[:at] + ["..."] + subs[at:], shape[:at] + tail + shape[at:]
        terms.append("".join(subs))
        shapes.append(tuple(shape))
    used = sorted({c for t in terms for c in t if c in string.ascii_letters})
    equation = ",".join(terms)
    if draw(st.booleans()):
        out = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        ellipsis_out = any("..." in t for t in terms) and draw(st.booleans())
        equation += "->" + ("..." if ellipsis_out else "") + "".join(out)
    return equation, shapes


@settings(max_examples=60)
@given(einsum_cases())
def test_einsum_hypothesis(case):
    equation, shapes = case
    check(lambda lib, *ts: lib.einsum(equation, *ts), *[A(*s, dtype="float64", grad=True) for s in shapes])


# ------------------------------------------------------------------ tensordot
@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4, 5), 0), ((2, 3), (3, 2), ([1, 0], [0, 1])),
    ((2, 3, 4), (4, 2), ([0, 2], [1, 0])), ((2, 3), (1, 4), 1), ((2, 1), (3, 4), 1), ((), (), 0),
    ((3,), (3,), 1), ((2, 3), (3, 4), ([-1], [-2])), ((0, 3), (3, 2), 1), ((2, 0), (0, 2), 1)])
def test_tensordot(sa, sb, dims):
    check(lambda lib, a, b: lib.tensordot(a, b, dims), A(*sa), A(*sb))
    if 0 not in sa + sb:
        check(lambda lib, a, b: lib.tensordot(a, b, dims=dims), A(*sa, dtype="float64", grad=True),
              A(*sb, dtype="float64", grad=True))


def test_tensordot_forms_and_dtypes():
    check(lambda lib, a, b: lib.tensordot(a, b), A(2, 3, 4), A(3, 4, 2))  # dims=2
    check(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor([[1], [0]])), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor(1)), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor([[1, 0]])), A(3, 3), A(3, 3))
    for dtype in ("int64", "int32", "float16", "bfloat16", "float64"):
        check(lambda lib, a, b: lib.tensordot(a, b, 1), A(2, 3, dtype=dtype), A(3, 4, dtype=dtype))
    check(lambda lib, a, b: lib.tensordot(a.t(), b[:, ::2], 1), A(3, 2), A(3, 8))
    gradcheck(lambda lib, a, b: lib.tensordot(a, b, ([0, 2], [1, 0])), data(2, 3, 2, dtype="float64"),
              data(2, 2, dtype="float64"))


def test_tensordot_out():
    check(lambda lib, a, b: lib.tensordot(a, b, 1, out=lib.empty(0, device=a.device)), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.tensordot(a, b, 1, out=lib.empty(0, dtype=lib.float64, device=a.device)),
          A(2, 3), A(3, 4))


@pytest.mark.parametrize("dims", [([1, 0], [0]), 3, -1, 1.5, (1, 0), [[1], [0], [1]], ([0], [0]), ([5], [0]),
                                  ([0, 0], [0, 1])])
def test_tensordot_errors(dims):
    check(lambda lib, a, b: lib.tensordot(a, b, dims), A(2, 3), A(3, 4))
    check(lambda lib, a, b: lib.tensordot(a, b, dims), A(3, 3), A(3, 3))


def test_tensordot_dtype_errors():
    check(lambda lib, a, b: lib.tensordot(a, b, 1), A(2, 3), A(3, 4, dtype="float64"))
    check(lambda lib, a, b: lib.tensordot(a, b, 2), A(2, 3, dtype="bool"), A(2, 3, dtype="bool"))


# ------------------------------------------------------------------ trace
@torch_2_13
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8"])
def test_trace_dtypes(dtype):
    check(lambda lib, a: (lib.trace(a), a.trace()), A(3, 4, dtype=dtype))


@torch_2_13
def test_trace():
    check(lambda lib, a: lib.trace(a), A(4, 3, dtype="float64", grad=True))
    check(lambda lib, a: lib.trace(a.t()), A(3, 5, dtype="float64", grad=True))
    check(lambda lib, a: lib.trace(a), A(0, 3))
    gradcheck(lambda lib, a: lib.trace(a), data(3, 4, dtype="float64"))
    gradcheck(lambda lib, a: lib.trace(a * a), data(3, 3, dtype="float64"))

    def double(lib, a):  # a gradient that depends on a: the backward is differentiable
        g, = lib.autograd.grad(lib.trace(a * a), (a,), create_graph=True)
        return g
    check(double, A(3, 3, dtype="float64", grad=True))


@pytest.mark.parametrize("shape,dtype", [((3,), "float32"), ((2, 2, 2), "float32"), ((), "float32"),
                                         ((2, 2), "bool"), ((2, 2, 2), "bool")])
def test_trace_errors(shape, dtype):
    check(lambda lib, a: lib.trace(a), A(*shape, dtype=dtype))


# ------------------------------------------------------------------ kron
@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((2, 3), (4, 3)), ((3,), (3, 4)), ((2, 1, 2), (3, 2)),
                                   ((), (3, 4)), ((), ()), ((2, 0), (3, 2)), ((4,), (5,))])
def test_kron(sa, sb):
    check(lambda lib, a, b: (lib.kron(a, b), a.kron(b)), A(*sa), A(*sb))
    if 0 not in sa + sb:
        check(lambda lib, a, b: lib.kron(a, b), A(*sa, dtype="float64", grad=True),
              A(*sb, dtype="float64", grad=True))


def test_kron_dtypes_strides_out():
    for da, db in [("int32", "float32"), ("bool", "bool"), ("int64", "int64"), ("float16", "float16"),
                   ("bfloat16", "float32")]:
        check(lambda lib, a, b: lib.kron(a, b), A(2, 3, dtype=da), A(2, 2, dtype=db))
    # torch 2.13 raises a view error for a transposed operand (its final _unsafe_view of mul's
    # result, which keeps the operand's layout); tritensor computes it: compared with contiguous
    same = lambda lib, t: t.contiguous() if lib is not tritensor else t  # noqa: E731
    check(lambda lib, a, b: lib.kron(same(lib, a.t()), same(lib, b[:, ::2])), A(3, 2), A(2, 6),
          check_stride=True)
    check(lambda lib, a, b: lib.kron(same(lib, a[:, ::2]), same(lib, b.t())), A(3, 4), A(2, 2),
          check_stride=True)
    check(lambda lib, a, b: lib.kron(same(lib, a.t()), b), A(3, 2, dtype="float64", grad=True),
          A(2, 2, dtype="float64", grad=True))
    check(lambda lib, a, b: lib.kron(a, b, out=lib.empty(0, device=a.device)), A(2, 3), A(2, 2))
    check(lambda lib, a, b: lib.kron(a, b, out=lib.empty(0, dtype=lib.int64, device=a.device)),
          A(2, 3), A(2, 2))
    gradcheck(lambda lib, a, b: lib.kron(a, b), data(2, 3, dtype="float64"), data(3, 2, dtype="float64"))


# ------------------------------------------------------------------ cross
@pytest.mark.parametrize("sa,sb,dim", [((3,), (3,), -1), ((4, 3), (4, 3), -1), ((4, 3), (4, 3), 1),
                                       ((3, 4), (3, 4), 0), ((1, 3), (4, 3), -1), ((2, 1, 3), (1, 5, 3), 2),
                                       ((0, 3), (0, 3), 1)])
def test_cross(sa, sb, dim):
    check(lambda lib, a, b: (lib.linalg.cross(a, b, dim=dim), lib.cross(a, b, dim=dim), a.cross(b, dim)),
          A(*sa), A(*sb))
    if 0 not in sa:
        check(lambda lib, a, b: lib.linalg.cross(a, b, dim=dim), A(*sa, dtype="float64", grad=True),
              A(*sb, dtype="float64", grad=True))


def test_cross_dtypes_and_layouts():
    for dtype in ("float64", "float16", "bfloat16", "int64", "int32"):
        check(lambda lib, a, b: lib.linalg.cross(a, b), A(4, 3, dtype=dtype), A(4, 3, dtype=dtype))
    check(lambda lib, a, b: lib.linalg.cross(a.t(), b[::2]), A(3, 4), A(8, 3))
    check(lambda lib, a, b: lib.linalg.cross(a, b, out=lib.empty(0, device=a.device)), A(4, 3), A(4, 3))
    gradcheck(lambda lib, a, b: lib.linalg.cross(a, b), data(2, 3, dtype="float64"),
              data(1, 3, dtype="float64"))


def test_cross_default_dim():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(lambda lib, a, b: lib.cross(a, b), A(3, 4), A(3, 4))
        check(lambda lib, a, b: lib.cross(a, b), A(4, 3), A(4, 3))
        check(lambda lib, a, b: lib.cross(a, b), A(2, 4), A(2, 4))  # no dim of size 3
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        tritensor.cross(tritensor.ones(3, device=DEVICE), tritensor.ones(3, device=DEVICE))


@pytest.mark.parametrize("sa,sb,dim,dtype", [
    ((4, 2), (4, 2), -1, "float32"), ((4, 3), (4, 3), 0, "float32"), ((4, 3), (3,), -1, "float32"),
    ((4, 3), (2, 4, 3), -1, "float32"), ((4, 3), (2, 3), -1, "float32"), ((4, 3), (4, 3), 2, "float32"),
    ((), (), -1, "float32"), ((3,), (3,), -1, "bool")])
def test_cross_errors(sa, sb, dim, dtype):
    check(lambda lib, a, b: lib.linalg.cross(a, b, dim=dim), A(*sa, dtype=dtype), A(*sb, dtype=dtype))
    check(lambda lib, a, b: lib.cross(a, b, dim=dim), A(*sa, dtype=dtype), A(*sb, dtype=dtype))


def test_cross_dtype_mismatch():
    check(lambda lib, a, b: lib.linalg.cross(a, b), A(4, 3), A(4, 3, dtype="float64"))
    with pytest.raises(RuntimeError, match="inputs dimension -1 must have length 3. Got 2 and 2"):
        tritensor.linalg.cross(tritensor.ones(2, device=DEVICE), tritensor.ones(2, device=DEVICE))


# ------------------------------------------------------------------ torch.linalg
MATRIX_ORDS = ["fro", math.inf, -math.inf, 1, -1]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False), ((1, 0), True)])
def test_matrix_norm(ord, dim, keepdim):
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim, keepdim), A(2, 3, 4, dtype="float64", grad=True))


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_dtypes_and_empty(ord):
    for dtype in ("float32", "float16", "bfloat16"):
        check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(3, 4, dtype=dtype))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord, dtype=lib.float64), A(3, 4))
    check(lambda lib, a: lib.linalg.matrix_norm(a.mT, ord), A(2, 4, 3))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(0, 3, 4))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(0, 3))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord, out=lib.empty(0, device=a.device)), A(3, 4))
    gradcheck(lambda lib, a: lib.linalg.matrix_norm(a, ord), data(3, 4, dtype="float64"))


@pytest.mark.parametrize("ord,dim,dtype,want", [
    (3, (-2, -1), "float32", None), (0, (-2, -1), "float32", None), ("abc", (-2, -1), "float32", None),
    ("fro", (0, 0), "float32", None), ("fro", (0, -3), "float32", None), ("fro", (0,), "float32", None),
    ("fro", (0, 1, 2), "float32", None), ("fro", (0, 5), "float32", None), ("fro", (-2, -1), "int64", None),
    (1, (-2, -1), "float32", "float16"), ("fro", (-2, -1), "float32", "int64"),
    (1, (-2, -1), "float64", "float32")])
def test_matrix_norm_errors(ord, dim, dtype, want):
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim, dtype=want and getattr(lib, want)),
          A(2, 3, 4, dtype=dtype))


@pytest.mark.parametrize("ord", ["nuc", 2, -2, 2.0])
def test_matrix_norms_of_singular_values(ord):
    """'nuc', 2 and -2 from the singular values: values, gradients, dims, keepdim, dtype=, empty
    matrices (torch: 0 for 'nuc' and 2, an error for -2), 16-bit inputs refused as torch."""
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(2, 3, 4, dtype="float64", grad=True))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), A(3, 2, 4, grad=True))
    check(lambda lib, a: lib.linalg.matrix_norm(a.mT, ord, dtype=lib.float64), A(2, 4, 3))
    check(lambda lib, a: lib.linalg.norm(a, ord), A(3, 3, dtype="float64", grad=True))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(0, 3))
    check(lambda lib, a: lib.linalg.matrix_norm(a, ord), A(2, 3, 3, dtype="float16"))
    gradcheck(lambda lib, a: lib.linalg.matrix_norm(a, ord), data(2, 3, dtype="float64"))  # each probe an SVD


def test_matrix_norm_not_a_matrix():
    check(lambda lib, a: lib.linalg.matrix_norm(a), A(3))


@pytest.mark.parametrize("ord,dim,shape", [
    (None, None, (2, 3, 4)), (None, None, (3,)), (None, None, ()), ("fro", None, (3, 4)), (1, None, (3, 4)),
    (math.inf, None, (3, 4)), (1, None, (4,)), (3, None, (4,)), (0, None, (4,)), (None, (0, 1), (2, 3, 4)),
    (1, (0, 1), (2, 3, 4)), (1, 1, (2, 3, 4)), (1, (1,), (2, 3, 4)), (None, 1, (2, 3, 4)),
    ("fro", (2, 0), (2, 3, 4)), (-math.inf, (1, 2), (2, 3, 4))])
def test_norm(ord, dim, shape):
    check(lambda lib, a: lib.linalg.norm(a, ord, dim), A(*shape, dtype="float64", grad=True))
    check(lambda lib, a: lib.linalg.norm(a, ord, dim, keepdim=True), A(*shape))


@pytest.mark.parametrize("ord,dim,shape", [
    (2, None, (2, 3, 4)), ("fro", None, (2, 3, 4)), (None, (0, 1, 2), (2, 3, 4)), (1, (0, 1, 2), (2, 3, 4)),
    ("fro", (0, 1, 2), (2, 3, 4)), ("fro", 1, (2, 3, 4)), ("fro", None, (3,)), (0, None, (3, 4)),
    ("abc", (0, 1), (2, 3, 4)), (2, None, ())])
def test_norm_errors(ord, dim, shape):
    check(lambda lib, a: lib.linalg.norm(a, ord, dim), A(*shape))


def test_norm_dtype_and_out():
    check(lambda lib, a: lib.linalg.norm(a, dtype=lib.float64), A(3, 4))
    check(lambda lib, a: lib.linalg.norm(a, 1, dtype=lib.float64), A(3, 4))
    check(lambda lib, a: lib.linalg.norm(a), A(3, 4, dtype="int64"))
    check(lambda lib, a: lib.linalg.norm(a, out=lib.empty((), device=a.device)), A(3, 4))
    check(lambda lib, a: lib.linalg.norm(a, 1, out=lib.empty(0, device=a.device)), A(3, 4, grad=True))
    check(lambda lib, a: lib.linalg.norm(a, 1, out=lib.empty((), dtype=lib.float64, device=a.device)),
          A(3, 4))
    check(lambda lib, a: lib.linalg.matrix_norm(a, out=lib.empty(0, device=a.device)), A(2, 3, 4, grad=True))
    check(lambda lib, a, b: lib.tensordot(a, b, 1, out=lib.empty(0, device=a.device)), A(2, 3, grad=True),
          A(3, 4, grad=True))


@pytest.mark.parametrize("ord", [2, 1, math.inf, -math.inf, 0, 3, 0.5])
def test_vector_norm(ord):
    check(lambda lib, a: lib.linalg.vector_norm(a, ord, (0, 2)), A(2, 3, 4, dtype="float64", grad=True))
    check(lambda lib, a: lib.linalg.vector_norm(a, ord, keepdim=True), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, ord, -1, dtype=lib.float64), A(3, 4, dtype="float16"))


@pytest.mark.parametrize("ord", [-1, -0.5, -math.inf, math.inf, 2, 0])
@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), 1), ((0, 3), 0), ((3, 0), 0), ((0, 3), (0, 1))])
def test_vector_norm_of_empty(ord, shape, dim):
    """Orders without an identity (negative, inf) refuse to reduce an empty dim, as torch."""
    check(lambda lib, a: lib.linalg.vector_norm(a, ord, dim), A(*shape))


def test_vector_norm_errors_and_out():
    check(lambda lib, a: lib.linalg.vector_norm(a), A(3, 4, dtype="int64"))
    check(lambda lib, a: lib.linalg.vector_norm(a, dtype=lib.float16), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, dtype=lib.int64), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, "fro"), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, 2, 5), A(3, 4))
    for ord in ((3.0,), (1.0, 2.0), 2.0, 1):  # a 0-d tensor is a number to torch; others are not
        check(lambda lib, a: lib.linalg.vector_norm(a, lib.tensor(ord, device=a.device)), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, out=lib.empty((), device=a.device)), A(3, 4))
    check(lambda lib, a: lib.linalg.vector_norm(a, out=lib.empty((), dtype=lib.float64, device=a.device)),
          A(3, 4))


@pytest.mark.parametrize("sa,sb,dim", [((4, 3), (4, 3), -1), ((4, 3), (4, 3), 0), ((4, 3), (3,), -1),
                                       ((2, 1, 3), (4, 3), -1), ((), (), -1), ((0, 3), (0, 3), -1)])
def test_vecdot(sa, sb, dim):
    check(lambda lib, a, b: lib.linalg.vecdot(a, b, dim=dim), A(*sa, dtype="float64", grad=True),
          A(*sb, dtype="float64", grad=True))
    check(lambda lib, a, b: lib.linalg.vecdot(a, b, dim=dim), A(*sa, dtype="bfloat16"),
          A(*sb, dtype="bfloat16"))


def test_vecdot_errors_and_out():
    check(lambda lib, a, b: lib.linalg.vecdot(a, b), A(4, 3), A(4, 3, dtype="float64"))
    check(lambda lib, a, b: lib.linalg.vecdot(a, b), A(4, 3, dtype="int32"), A(4, 3, dtype="int32"))
    check(lambda lib, a, b: lib.linalg.vecdot(a, b), A(4, 3, dtype="bool"), A(4, 3, dtype="bool"))
    check(lambda lib, a, b: lib.linalg.vecdot(a, b), A(4, 3), A(4, 2))
    check(lambda lib, a, b: lib.linalg.vecdot(a, b, out=lib.empty(4, device=a.device)), A(4, 3), A(4, 3))


def test_linalg_matmul():
    check(lambda lib, a, b: lib.linalg.matmul(a, b), A(2, 3, 4, dtype="float64", grad=True),
          A(4, 2, dtype="float64", grad=True))
