"""Composite ops against torch: quantile, nanquantile, mode, searchsorted, bucketize,
bincount, histc, diff, isin, and the smaller helpers (take_along_dim, rot90, meshgrid ...).

These are built from existing ops, so their grad_fn names may differ from torch's:
``check_grads`` compares the gradients themselves (and ``gradcheck`` finite differences in
float64) instead of the node names.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (ALL_DTYPES, ALONG_DIM_CASES, DEVICE, FLOAT_DTYPES, Arg, assert_same, check, distinct,
                     gradcheck, make_pair, tied)


def check_grads(fn, *inputs, seed=0):
    """Values as ``check``, then gradients of every output that requires grad vs torch's,
    whatever the grad_fn is called."""
    check(fn, *inputs, grad=False)
    pairs = [make_pair(a) if isinstance(a, Arg) else (a, a) for a in inputs]
    expected, actual = fn(torch, *[p[0] for p in pairs]), fn(tritensor, *[p[1] for p in pairs])
    expected = [o for o in (expected if isinstance(expected, tuple) else (expected,)) if o.requires_grad]
    actual = [o for o in (actual if isinstance(actual, tuple) else (actual,)) if o.requires_grad]
    assert len(expected) == len(actual) > 0
    rng = np.random.default_rng(seed)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in expected]
    torch.autograd.backward(expected, [torch.tensor(s, dtype=o.dtype) for s, o in zip(seeds, expected)])
    tritensor.autograd.backward(actual, [tritensor.tensor(s, dtype=o.dtype, device=DEVICE)
                                         for s, o in zip(seeds, actual)])
    for i, (arg, (t, tt)) in enumerate(zip(inputs, pairs)):
        if isinstance(arg, Arg) and arg.requires_grad:
            assert_same(t.grad if t.grad is not None else torch.zeros_like(t),
                        tt.grad if tt.grad is not None else tritensor.zeros_like(tt),
                        what=f"grad of input {i}")


TYPES = {lib: {n: getattr(lib, n) for n in FLOAT_DTYPES} for lib in (torch, tritensor)}


def qs(lib, values):
    """``values`` as a float64 tensor on the test device."""
    return lib.tensor(values, dtype=lib.float64, device=DEVICE if lib is tritensor else "cpu")


# ------------------------------------------------------------------ quantile, nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]
QUANTILES = [0.0, 0.25, 0.5, 1.0, 1 / 3]


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("shape,dim", ALONG_DIM_CASES + [((2, 3, 4), None), ((5,), None)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quantile(name, shape, dim, dtype):
    a = tied(shape, dtype, seed=2)
    for keepdim in (False, True):
        for interpolation in INTERPOLATIONS:
            check(lambda lib, x, q: getattr(lib, name)(x, q, dim, keepdim, interpolation=interpolation),
                  Arg(a, dtype), Arg(np.array([0.1, 0.5, 0.9, 0.0, 1.0, 1 / 3]), dtype))
        check(lambda lib, x, q: getattr(lib, name)(x, q, dim, keepdim), Arg(a, dtype),
              Arg(np.array(0.7), dtype))
    for q in QUANTILES:
        check(lambda lib, x: getattr(lib, name)(x, q, dim, interpolation="nearest"), Arg(a, dtype))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_nan_rows(name):
    """quantile: NaN for any row holding NaN; nanquantile: the rest's quantile, NaN when all
    are NaN."""
    a = np.array([[1.0, np.nan, 3, 2], [np.nan] * 4, [4, 3, 2, 1], [np.inf, -np.inf, 0, np.nan]])
    for interpolation in INTERPOLATIONS:
        check(lambda lib, x: getattr(lib, name)(x, qs(lib, [0.2, 0.5, 1.0]), 1, interpolation=interpolation),
              Arg(a))
        check(lambda lib, x: getattr(lib, name)(x, 0.5, interpolation=interpolation), Arg(a))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_non_contiguous_and_out(name):
    a = distinct((6, 5), seed=4)
    check(lambda lib, x: getattr(lib, name)(x, 0.3, 1), Arg(a, "float32", transpose=True))
    check(lambda lib, x: getattr(lib, name)(x[::2, 1:], 0.6, 0, True), Arg(a, "float32"))
    for dtype in ("float32", "float64"):
        check(lambda lib, x: getattr(lib, name)(x, 0.6, 0, out=lib.empty(0, dtype=TYPES[lib][dtype],
                                                                         device=x.device)), Arg(a, "float32"))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_gradients(name, interpolation):
    a, q = distinct((3, 7), seed=5), np.array([0.15, 0.5, 0.8])
    a[1, 2] = np.nan
    for dim in (0, 1, None):
        check_grads(lambda lib, x, q: getattr(lib, name)(x, q, dim, interpolation=interpolation),
                    Arg(a, "float64", requires_grad=True), Arg(q, "float64", requires_grad=True))
    gradcheck(lambda lib, x: getattr(lib, name)(x, qs(lib, [0.15, 0.5, 0.8]), 1, interpolation=interpolation),
              distinct((3, 7), seed=6))
    gradcheck(lambda lib, x, q: getattr(lib, name)(x, q, 0), distinct((7, 2), seed=7), np.array([0.15, 0.55]))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_errors(name):
    a = distinct((2, 3))
    op = lambda *args, **kw: lambda lib, x: getattr(lib, name)(x, *args, **kw)  # noqa: E731
    for dtype in ("float16", "bfloat16", "int64", "int32", "bool"):
        check(op(0.5), Arg(a, dtype))
    check(op(1.5), Arg(a))
    check(op(-0.1), Arg(a))
    check(op(0.5, 2), Arg(a))
    check(op(0.5, interpolation="cubic"), Arg(a))
    check(op(0.5), Arg(np.zeros((0, 3))))
    check(op(0.5, 1), Arg(np.zeros((2, 0))))
    check(lambda lib, x: getattr(lib, name)(x, lib.tensor([0.5, 1.5], dtype=lib.float64, device=x.device)),
          Arg(a))
    check(lambda lib, x: getattr(lib, name)(x, lib.tensor([[0.5]], dtype=lib.float64, device=x.device)),
          Arg(a))
    check(lambda lib, x: getattr(lib, name)(x, lib.tensor([0.5], dtype=lib.float32, device=x.device)),
          Arg(a))
    check(lambda lib, x: getattr(lib, name)(x, 0.5, out=lib.empty(0, dtype=lib.float32, device=x.device)),
          Arg(a))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_quantile_hypothesis(data):
    ndim = data.draw(st.integers(0, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.one_of(st.none(), st.integers(-max(ndim, 1), max(ndim, 1) - 1)))
    name = data.draw(st.sampled_from(["quantile", "nanquantile"]))
    interpolation = data.draw(st.sampled_from(INTERPOLATIONS))
    q = data.draw(st.lists(st.floats(0, 1), min_size=1, max_size=4))
    keepdim = data.draw(st.booleans())
    a = tied(shape, "float64", seed=data.draw(st.integers(0, 2**16)))
    t, tt = make_pair(Arg(a, "float64"))
    assert_same(getattr(torch, name)(t, torch.tensor(q, dtype=torch.float64), dim, keepdim,
                                     interpolation=interpolation),
                getattr(tritensor, name)(tt, tritensor.tensor(q, dtype=tritensor.float64, device=DEVICE), dim,
                                         keepdim, interpolation=interpolation))


def test_quantile_method():
    check(lambda lib, x: (x.quantile(0.3, 0), x.nanquantile(0.3, 1, True)), Arg(distinct((4, 5)), "float32"))


# ------------------------------------------------------------------ mode
def tied_mode(shape, dtype, seed=0):
    """``tied`` without NaN: torch's CPU mode sorts with ``<``, which NaN breaks (its result
    then depends on where the NaNs are); tritensor sorts NaN last and counts each once."""
    a = tied(shape, dtype, seed)
    return np.where(np.isnan(a), 1.5, a) if dtype in FLOAT_DTYPES else a


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape,dim", ALONG_DIM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode(dtype, shape, dim, keepdim):
    """Rows of up to 16 elements, where torch's CPU index is defined: the last index of the
    smallest most frequent value (each NaN counts once)."""
    check(lambda lib, x: lib.mode(x, dim, keepdim), Arg(tied_mode(shape, dtype, seed=1), dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64", "float16"])
def test_mode_non_contiguous_and_out(dtype):
    a = tied_mode((6, 5), dtype, seed=3)
    check(lambda lib, x: lib.mode(x, 0), Arg(a, dtype, transpose=True))
    check(lambda lib, x: x[::2, 1:].mode(1, True), Arg(a, dtype))
    check(lambda lib, x: lib.mode(x, 0, out=(lib.empty(0, dtype=x.dtype, device=x.device),
                                             lib.empty(0, dtype=lib.int64, device=x.device))), Arg(a, dtype))
    check(lambda lib, x: lib.mode(x, 0, out=(lib.empty(0, dtype=x.dtype, device=x.device),
                                             lib.empty(0, dtype=lib.int32, device=x.device))), Arg(a, dtype))


def test_mode_long_rows():
    """Past 16 elements torch's index of the mode is any of its indices: the values match
    torch's and the index points at the mode (the last one)."""
    a = tied_mode((3, 200), "float32", seed=8)
    t, tt = make_pair(Arg(a, "float32"))
    values, indices = tritensor.mode(tt, 1)
    assert_same(torch.mode(t, 1).values, values)
    got = indices.cpu().numpy()
    for row, v, i in zip(a, values.cpu().numpy(), got):
        assert row[i] == v and (row[i + 1:] != v).all()


def test_mode_gradients_and_errors():
    check_grads(lambda lib, x: lib.mode(x, 1).values,
                Arg(tied_mode((4, 9), "float64", seed=2), requires_grad=True))
    check_grads(lambda lib, x: lib.mode(x).values, Arg(np.array(2.5), requires_grad=True))
    # (no finite differences: moving one of the tied values changes the mode)
    check(lambda lib, x: lib.mode(x, 1), Arg(np.zeros((3, 0))))
    check(lambda lib, x: lib.mode(x, 0), Arg(np.zeros((3, 0))))
    check(lambda lib, x: lib.mode(x, 2), Arg(np.zeros((3, 2))))
    check(lambda lib, x: lib.mode(x, 0.5), Arg(np.zeros((3, 2))))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_mode_hypothesis(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "int8", "bool", "float16"]))
    a = tied_mode(shape, dtype, seed=data.draw(st.integers(0, 2**16)))
    t, tt = make_pair(Arg(a, dtype))
    assert_same(torch.mode(t, dim), tritensor.mode(tt, dim))


def test_mode_nan_counts_once():
    """Each NaN is its own run (NaN != NaN), sorted last: the mode is NaN only when nothing
    repeats and there is nothing but NaN."""
    x = tritensor.tensor([[np.nan, -1, -2, np.nan, -2], [np.nan, np.nan, 3, 4, 5], [np.nan] * 5],
                         device=DEVICE)
    values, indices = x.mode(1)
    np.testing.assert_array_equal(values.cpu().numpy(), [-2, 3, np.nan])
    np.testing.assert_array_equal(indices.cpu().numpy(), [4, 2, 0])
