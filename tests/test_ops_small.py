"""Small ops: hsplit/vsplit/dsplit, diagflat, trapezoid family, select/slice/diagonal_scatter,
fill_diagonal_, positive, is_complex, apply_/map_, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import Arg, check, gradcheck

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def g(x, dtype=None, transpose=False):
    return Arg(x, dtype=dtype, requires_grad=True, transpose=transpose)


@pytest.mark.parametrize(
    "name,shape,sections",
    [
        ("hsplit", (6,), 3),
        ("hsplit", (2, 6), [1, 4]),
        ("hsplit", (2, 6, 2), 2),
        ("vsplit", (4, 3), 2),
        ("vsplit", (5, 2), [1, 3, 9]),
        ("dsplit", (1, 2, 4), 2),
        ("dsplit", (1, 2, 4), [3]),
        ("vsplit", (6,), 2),
        ("hsplit", (), 2),
        ("dsplit", (2, 2), 2),
        ("hsplit", (2, 3), 2),
        ("vsplit", (4, 3), 0),
    ],
)
def test_directional_splits(name, shape, sections):
    check(lambda lib, x: getattr(lib, name)(x, sections), g(randn(*shape)))
    if len(shape) >= 2:
        check(
            lambda lib, x: getattr(x, name)(sections),
            Arg(randn(*shape[::-1]), transpose=True) if len(shape) == 2 else randn(*shape),
        )


@pytest.mark.parametrize("shape,offset", [((3,), 0), ((2, 2), 1), ((2, 2), -2), ((0,), 0), ((), 0)])
def test_diagflat(shape, offset):
    check(lambda lib, x: lib.diagflat(x, offset), g(randn(*shape)))
    check(lambda lib, x: lib.diagflat(x, offset), rng.integers(0, 5, shape))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize(
    "shape,dim", [((5,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 1, 3), 1), ((2, 0), 1), ((0, 3), 1)]
)
def test_trapezoid_family(dtype, shape, dim):
    y = Arg(rng.integers(-3, 4, shape).astype(np.float64), dtype, requires_grad=dtype != "int64")
    for name in ("trapezoid", "trapz", "cumulative_trapezoid"):
        check(lambda lib, t: getattr(lib, name)(t, dim=dim), y, same_node=False)
        check(lambda lib, t: getattr(lib, name)(t, dx=0.5, dim=dim), y, same_node=False)
        if shape[dim]:
            x = np.cumsum(rng.uniform(0.1, 1, shape[dim]))
            check(lambda lib, t, s: getattr(lib, name)(t, s, dim=dim), y, g(x), same_node=False)


def test_trapezoid_sample_points_of_the_same_shape_and_errors():
    y = randn(3, 4)
    x = np.cumsum(rng.uniform(0.1, 1, (3, 4)), 1)
    check(lambda lib, t, s: lib.trapezoid(t, s), g(y), g(x), same_node=False)
    check(lambda lib, t, s: lib.cumulative_trapezoid(t, s, dim=0), g(y), g(x), same_node=False)
    check(lambda lib, t, s: lib.trapezoid(t, s), y, np.ones(2, np.float32))
    check(lambda lib, t: lib.trapezoid(t), np.array(1.0))
    check(lambda lib, t: lib.trapezoid(t), np.array([True, False]))
    check(lambda lib, t, s: lib.trapezoid(t, s, dx=1), y, np.ones(4, np.float32))
    gradcheck(lambda lib, t, s: lib.trapezoid(t, s), randn(2, 3), np.array([0.0, 0.5, 2.0]))


@pytest.mark.parametrize("src_shape,dim,index", [((3,), 0, 1), ((2,), 1, -1), ((2,), 1, 3), ((3,), 0, 0)])
def test_select_scatter(src_shape, dim, index):
    check(
        lambda lib, a, s: lib.select_scatter(a, s, dim, index),
        g(randn(2, 3)),
        g(randn(*src_shape)),
        same_node=False,
    )


@pytest.mark.parametrize(
    "src_shape,dim,start,end,step",
    [
        ((2, 2), 1, 0, 3, 2),
        ((1, 3), 0, 1, None, 1),
        ((2, 1), 1, -1, None, 1),
        ((2, 2), 1, None, None, 2),
        ((2, 2), 1, 0, 3, 1),
        ((0, 3), 0, 5, 9, 1),
    ],
)
def test_slice_scatter(src_shape, dim, start, end, step):
    check(
        lambda lib, a, s: lib.slice_scatter(a, s, dim, start, end, step),
        g(randn(2, 3)),
        g(randn(*src_shape)),
        same_node=False,
    )


@pytest.mark.parametrize(
    "src_shape,offset,dims",
    [((2,), 0, (0, 1)), ((2,), 1, (0, 1)), ((1,), -1, (0, 1)), ((3,), 0, (0, 1)), ((3, 2), 0, (1, 2))],
)
def test_diagonal_scatter(src_shape, offset, dims):
    a = randn(2, 3) if len(src_shape) == 1 else randn(3, 2, 2)
    check(
        lambda lib, t, s: lib.diagonal_scatter(t, s, offset, *dims),
        g(a),
        g(randn(*src_shape)),
        same_node=False,
    )


@pytest.mark.parametrize(
    "shape,wrap",
    [
        ((3, 4), False),
        ((4, 3), False),
        ((7, 3), True),
        ((7, 3), False),
        ((4, 3), True),
        ((2, 2, 2), False),
        ((3, 3, 3), True),
        ((0, 2), False),
    ],
)
def test_fill_diagonal(shape, wrap):
    check(lambda lib, x: x.clone().fill_diagonal_(2.5, wrap), g(randn(*shape)), same_node=False)
    check(lambda lib, x: x.fill_diagonal_(7, wrap), rng.integers(0, 5, shape))


def test_fill_diagonal_errors_positive_is_complex():
    check(lambda lib, x: x.fill_diagonal_(1), randn(2, 3, 2))
    check(lambda lib, x: x.fill_diagonal_(1), randn(3))
    check(lambda lib, x: lib.positive(x), g(randn(3)), same_node=False)
    check(lambda lib, x: lib.positive(x), np.array([True]))
    x = tritensor.ones(2)
    assert tritensor.positive(x) is x and tritensor.is_complex(x) is False and x.positive() is x


@pytest.mark.cpu_only
def test_apply_and_map():
    def both(fn):
        return fn(torch), fn(tritensor)

    for build in [lambda lib: lib.tensor([[1.0, 2], [3, 4]]).t(), lambda lib: lib.arange(6)]:
        theirs, ours = both(lambda lib: build(lib).apply_(lambda v: v * 3 + 1))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        theirs, ours = both(
            lambda lib: build(lib).map_(lib.tensor([10], dtype=build(lib).dtype), lambda a, b: a - b)
        )
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="expected torch.FloatTensor"):
        tritensor.ones(2).map_(tritensor.ones(2, dtype=tritensor.int64), max)
    with pytest.raises(RuntimeError, match="requires grad"):
        tritensor.ones(2, requires_grad=True).apply_(abs)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(-5, 5), st.sampled_from([1, 2, 3]))
def test_slice_scatter_hypothesis(rows, cols, start, step):
    a = randn(rows, cols)
    view = torch.tensor(a)[:, start:None:step] if start >= -cols else torch.tensor(a)[:, 0::step]
    check(
        lambda lib, t, s: lib.slice_scatter(t, s, 1, start, None, step),
        g(a),
        g(randn(*view.shape)),
        same_node=False,
    )


# ------------------------------------------------------------------ second names and small ops
ALIASES = {  # alias -> what torch defines it as, both called the same way
    "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arcsinh": "asinh", "arctanh": "atanh",
    "negative_": "neg_", "fix_": "trunc_", "arccos_": "acos_", "arcsinh_": "asinh_",
}
INPLACE_ALIASES = {
    "absolute_": ((), "abs_"), "sgn_": ((), "sign_"), "fix_": ((), "trunc_"), "negative_": ((), "neg_"),
    "arctan2_": ((None,), "atan2_"),  # None: a 0-d tensor (atan2 takes no number)
    "true_divide_": ((3.0,), "div_"), "divide_": ((3.0,), "div_"),
    "multiply_": ((3.0,), "mul_"), "subtract_": ((0.25,), "sub_"), "greater_": ((0.1,), "gt_"),
    "greater_equal_": ((0.1,), "ge_"), "less_": ((0.1,), "lt_"), "less_equal_": ((0.1,), "le_"),
    "not_equal_": ((0.1,), "ne_"), "swapaxes_": ((0, 1), "transpose_"), "swapdims_": ((1, 0), "transpose_"),
    "arccos_": ((), "acos_"), "arctanh_": ((), "atanh_"), "arccosh_": ((), "acosh_"),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ALIASES))
def test_inplace_aliases_match_torch(name):
    args, _ = INPLACE_ALIASES[name]
    x = rng.uniform(-0.9, 0.9, (3, 4)).astype(np.float32)
    if name == "arccosh_":
        x = x + 2
    check(lambda lib, t: getattr(t.clone(), name)(*_args(lib, t, args)), x)
    if name in ("arctanh_", "arccosh_"):  # torch: "the derivative for 'inplace version of atanh' is not
        gradcheck(lambda lib, t: getattr(t * 1, name)(), x[0])  # implemented"; ours is checked instead
        return
    check(lambda lib, t: getattr(t.clone(), name)(*_args(lib, t, args)), g(x.astype(np.float64)),
          grad=name != "sgn_")  # torch's sgn_ passes back a ZeroTensor, which has no numpy form


def _args(lib, t, args):
    """None stands for a 0-d tensor 0.5 on t's device (atan2 takes no number)."""
    return tuple(lib.tensor(0.5, dtype=t.dtype, device=t.device) if a is None else a for a in args)


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_function_aliases_are_their_targets(name):
    assert getattr(tritensor, name) is getattr(tritensor, ALIASES[name])
    x = rng.uniform(-0.9, 0.9, (4,)).astype(np.float32)
    check(lambda lib, t: getattr(lib, name)(t.clone() if name.endswith("_") else t), x)


def test_function_forms_of_methods():
    x = randn(2, 3)
    check(lambda lib, t: (lib.clamp_(t.clone(), -0.5, 0.5), lib.clip_(t.clone(), max=0.1),
                          lib.clamp_min_(t.clone(), 0), lib.clamp_max_(t.clone(), 0), lib.fill_(t.clone(), 2),
                          lib.zero_(t.clone()), lib.round_(t.clone() * 10), lib.detach(t),
                          lib.nan_to_num_(t.clone() / 0), lib.is_signed(t),
                          lib.get_device(t) == t.get_device()), x)
    check(lambda lib, t: lib.index_put_(t.clone(), (lib.tensor([1, 0], device=t.device),), lib.tensor(7.0)),
          x)
    y = tritensor.ones(2, requires_grad=True) * 2
    assert tritensor.detach_(y) is y and not y.requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "uint8", "bool"])
def test_posinf_neginf_isreal_angle(dtype):
    x = np.array([1.0, -np.inf, np.inf, np.nan, -0.0, -2.5, 0.0])
    if dtype in ("int64", "uint8", "bool"):
        x = np.array([0, 1, 3, 2]).astype(dtype)
    check(lambda lib, t: (lib.isposinf(t), lib.isneginf(t), lib.isreal(t), t.isposinf(), t.isreal()),
          Arg(x, dtype))
    if dtype != "bool":
        check(lambda lib, t: (lib.angle(t), t.angle()), Arg(x, dtype))
    for out_dtype, test in (("float32", "isposinf"), ("bool", "isneginf")):
        check(lambda lib, t: getattr(lib, test)(t, out=lib.empty(t.shape, dtype=getattr(lib, out_dtype),
                                                                 device=t.device)), Arg(x, dtype))


def test_angle_grad_is_zero():
    check(lambda lib, t: lib.angle(t), g(np.array([1.0, -2.0, 0.0, np.nan])))
    check(lambda lib, t: lib.angle(t), np.array(-3.0, np.float32))  # 0-d


def test_real_tensors_conjugate_to_themselves():
    x = tritensor.randn(3)
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
        assert getattr(tritensor, name)(x) is x and getattr(x, name)() is x
    assert tritensor.conj_physical_(x) is x and x.conj_physical_() is x
    assert not x.is_conj() and not tritensor.is_neg(x)
    check(lambda lib, t: (t.is_same_size(t.t()), lib.is_same_size(t, t + 1)), randn(2, 3))
    for value in ([], [0.0], [2], [1, 2]):
        check(lambda lib: lib.tensor(value).is_nonzero())
        check(lambda lib: lib.is_nonzero(lib.tensor(value)))


@pytest.mark.parametrize("a_dtype,b_dtype", [("float32", "int64"), ("float16", "int64"), ("int64", "int64"),
                                             ("int32", "float16"), ("float32", "float64"),
                                             ("float64", "int32"),
                                             ("bfloat16", "bool")])
def test_ldexp(a_dtype, b_dtype):
    a = np.array([1.0, -2.5, 0.0, 3.0, 7.0]).astype("float64" if a_dtype == "bfloat16" else a_dtype)
    b = np.array([3, -1, 5, 0, 2]).astype(b_dtype if b_dtype != "bool" else "int64")
    b = b.astype(bool) if b_dtype == "bool" else b
    check(lambda lib, x, y: (lib.ldexp(x, y), x.ldexp(y)), Arg(a, a_dtype), Arg(b, b_dtype))
    check(lambda lib, x, y: x.clone().ldexp_(y), Arg(a, a_dtype), Arg(b, b_dtype))


def test_ldexp_grads_and_errors():
    check(lambda lib, x, y: lib.ldexp(x, y), g(randn(2, 3).astype(np.float64)),
          g(randn(3).astype(np.float64)))
    gradcheck(lambda lib, x, y: lib.ldexp(x, y), randn(4), randn(4))
    check(lambda lib, x: lib.ldexp(x, 2), randn(3))  # torch: the exponent must be a tensor
    check(lambda lib, x: lib.ldexp(x, x[:2]), randn(3))  # shapes that do not broadcast
    check(lambda lib, x: x.ldexp(x.t()), randn(2, 3))


def test_float_power_inplace():
    check(lambda lib, t: t.clone().float_power_(2), g(randn(3).astype(np.float64)))
    check(lambda lib, t: t.clone().float_power_(lib.tensor([1, 2, 3], device=t.device)),
          randn(3).astype(np.float64))
    for dtype in ("float32", "int64"):
        check(lambda lib, t: t.clone().float_power_(2), Arg(np.array([1, 2]), dtype))


@pytest.mark.parametrize("shape,dim,sizes", [((5,), 0, [2, 3]), ((2, 6), 1, (1, 0, 5)), ((3, 2), -2, [3]),
                                             ((0, 2), 0, [0, 0]), ((4,), 0, [1, 1])])
def test_split_with_sizes_and_narrow_copy(shape, dim, sizes):
    check(lambda lib, t: (lib.split_with_sizes(t, sizes, dim), t.split_with_sizes(sizes, dim=dim)),
          g(randn(*shape)))
    check(lambda lib, t: t.split_with_sizes(2), randn(*shape))
    last = shape[dim] - 1  # (torch's NarrowCopyBackward0 drops the gradient of a negative start)
    check(lambda lib, t: (lib.narrow_copy(t, dim, 0, 1), t.narrow_copy(dim, last, 1)), g(randn(*shape)),
          same_node=False)


def test_broadcast_shapes():
    for shapes in [((2, 1), 3), (), ([1, 4], (3, 1)), ((0,), (1,)), ((2,), (3,)), (5, (2, 1))]:
        check(lambda lib: lib.broadcast_shapes(*shapes))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_addr(dtype):
    v1, v2 = np.array([1, -2, 3]).astype(dtype), np.array([2, 5]).astype(dtype)
    m = np.arange(6).reshape(3, 2).astype(dtype)
    check(lambda lib, m, a, b: (lib.addr(m, a, b), m.addr(a, b, beta=2, alpha=3), lib.addr(m[0], a, b),
                                lib.addr(m, a, b, beta=0)), m, v1, v2)
    check(lambda lib, m, a, b: m.clone().addr_(a, b, alpha=2), m, v1, v2)
    check(lambda lib, m, a, b: lib.addr(m, a, b, alpha=0.5), m, v1, v2)  # float alpha: integral refused
    check(lambda lib, m, a, b: lib.addr(m, a[None], b), m, v1, v2)
    check(lambda lib, m, a, b: lib.addr(m[:, :1].t(), a, b), m, v1, v2)  # input not broadcastable


def test_addr_grad_and_nan_input_ignored_by_beta_zero():
    check(lambda lib, m, a, b: lib.addr(m, a, b, beta=0.5, alpha=2), g(randn(3, 2).astype(np.float64)),
          g(randn(3).astype(np.float64)), g(randn(2).astype(np.float64)), same_node=False)
    check(lambda lib, m, a, b: lib.addr(m, a, b, beta=0), np.full((3, 2), np.nan, np.float32), randn(3),
          randn(2))
    check(lambda lib, m, a, b: lib.addr(m, a, b), randn(3, 2), randn(3).astype(np.float64), randn(2))
    gradcheck(lambda lib, m, a, b: lib.addr(m, a, b, alpha=2), randn(3, 2), randn(3), randn(2))


def test_inplace_products_and_scans():
    m, a, b = randn(2, 3), randn(2, 4), randn(4, 3)
    check(lambda lib, m, a, b: m.clone().addmm_(a, b, beta=0.5), m, a, b)
    check(lambda lib, m, a, b: (m * 1).addmm_(a, b), g(m.astype(np.float64)), g(a.astype(np.float64)),
          g(b.astype(np.float64)), same_node=False)
    check(lambda lib, m, a, b: m[0].clone().addmm_(a, b), m, a, b)  # self not broadcast in place
    check(lambda lib, m, a, b: m.clone().addmm_(a, b), Arg(m, "int64"), a, b)
    check(lambda lib, m, a, b: (m[0].clone().addmv_(a.t(), b[:, 0]),
                                lib.addmv_(m[0].clone(), a.t(), b[:, 0])), m, a, b)
    bm = randn(2, 2, 3)
    check(lambda lib, x, p, q: (x.clone().baddbmm_(p, q), x[0].clone().addbmm_(p, q, alpha=2)), bm,
          randn(2, 2, 4), randn(2, 4, 3))
    x = np.array([[1.0, 2, 0, -3], [0.5, 4, 2, 1]])
    check(lambda lib, t: (t.clone().cumsum_(1), t.clone().cumprod_(0),
                          t.clone().cumsum_(-1, dtype=t.dtype)), x)
    check(lambda lib, t: (t * 1).cumprod_(1), g(x), same_node=False)  # the scan saved a clone, not t
    for dtype in ("int32", "int8", "bool"):
        check(lambda lib, t: t.clone().cumsum_(0), Arg(np.array([100, 100, 3]), dtype))
    check(lambda lib, t: t.clone().cumsum_(0, dtype=lib.float64), x.astype(np.float32))
    check(lambda lib, t: t.cumsum(0, dtype=lib.bool), Arg(np.array([1, 0, 1]), "bool"))
    check(lambda lib, t: t.cumprod(0, dtype=lib.bool), Arg(np.array([1, 0, 1]), "int64"))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6])
def test_matrix_power(n):
    check(lambda lib, t: (lib.matrix_power(t, n), t.matrix_power(n), lib.linalg.matrix_power(t, n)),
          g(randn(3, 3).astype(np.float64) / 2), same_node=False)
    check(lambda lib, t: lib.matrix_power(t, n), randn(2, 0, 0))
    check(lambda lib, t: lib.matrix_power(t, n), Arg(np.array([[1, 1], [0, 1]]), "int64"))
    check(lambda lib, t: lib.matrix_power(t, n), randn(2, 2, 2))


def test_matrix_power_errors():
    check(lambda lib, t: lib.matrix_power(t, 2), randn(2, 3))
    check(lambda lib, t: lib.matrix_power(t, 2), randn(3))
    a = randn(3, 3).astype(np.float64) + 3 * np.eye(3)  # well conditioned: negative powers invert it
    check(lambda lib, t: (lib.matrix_power(t, -1), lib.matrix_power(t, -3)), g(a), same_node=False)


def test_vdot_and_functional_forms():
    check(lambda lib, a, b: (lib.vdot(a, b), a.vdot(b)), g(randn(4).astype(np.float64)),
          g(randn(4).astype(np.float64)), same_node=False)
    check(lambda lib, a, b: lib.vdot(a, b), randn(4), randn(3))
    check(lambda lib, a, b: lib.vdot(a, b), randn(2, 2), randn(4))
    x = randn(2, 3, 8)
    check(lambda lib, t: (lib.hardshrink(t, 0.3), t.hardshrink(), lib.max_pool1d(t, 2), lib.avg_pool1d(t, 2),
                          lib.adaptive_avg_pool1d(t, 3), lib.cosine_similarity(t, t + 1),
                          lib.pairwise_distance(t[0], t[1])), g(x.astype(np.float64)), same_node=False)
    check(lambda lib, t, w: (lib.conv1d(t, w, padding=1), lib.prelu(t, w[:, 0, :1].reshape(-1)[:1]),
                             t.prelu(w[:1, 0, 0])),
          g(x.astype(np.float64)), g(randn(4, 3, 3).astype(np.float64)), same_node=False)


def test_aten_ordered_forms():
    """torch.<name> forms whose arguments differ from nn.functional's (ATen's order)."""
    x = g(randn(4, 3).astype(np.float64))
    check(lambda lib, t: (lib.dropout(t, 0.5, False), lib.dropout(t, 0.0, True), lib.fill(t, 2.5),
                          lib.layer_norm(t, (3,), None, None, 1e-5, True),
                          lib.batch_norm(t, None, None, None, None, True, 0.1, 1e-5, False)),
          x, same_node=False)
    check(lambda lib, w, t: lib.layer_norm(t, [3], w, w * 2), g(randn(3).astype(np.float64)), x,
          same_node=False)
    check(lambda lib, w: (lib.embedding(w, lib.tensor([2, 0, 2], device=w.device)),
                          lib.embedding(w, lib.tensor([[1, 0]], device=w.device), 0)),
          g(randn(3, 4).astype(np.float64)), same_node=False)
    check(lambda lib, t: lib.dropout_(t.clone(), 0.0, True), randn(3))
    check(lambda lib, t: lib.fill(t, 300), Arg(np.array([1, 2]), "int8"))


# ---------------------------------------------------------------------------- unravel_index
@pytest.mark.parametrize("indices, dtype, shape", [
    (4, "int64", (2, 3)), ([4, 1, 0, 5], "int64", (2, 3)), ([[4], [5]], "int32", (2, 3)),
    ([6, -1, -7, 100], "int64", (2, 3)),            # out of range: wrapped, as torch
    ([1, 2], "int16", 3), ([1, 2], "uint8", (2, 1, 2)), ([3], "int64", ()), ([], "int64", (2, 3)),
    ([1], "float32", (2, 3)), ([1], "bool", (2, 3)), ([1], "int64", (2, -3)), ([0], "int64", (0,)),
    ([1], "int64", (2.0, 3)),
])
def test_unravel_index(indices, dtype, shape):
    check(lambda lib, i: lib.unravel_index(i, shape), Arg(np.array(indices), dtype))
