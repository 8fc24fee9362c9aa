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
