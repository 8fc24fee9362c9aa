"""Composite ops against torch: quantile, nanquantile, mode, searchsorted, bucketize,
bincount, histc, diff, isin, and the smaller helpers (take_along_dim, rot90, meshgrid ...).

These are built from existing ops, so their grad_fn names may differ from torch's:
``check_grads`` compares the gradients themselves (and ``gradcheck`` finite differences in
float64) instead of the node names.
"""
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (ALL_DTYPES, ALONG_DIM_CASES, DEVICE, FLOAT_DTYPES, INT_DTYPES, Arg,
                     assert_same, check, dev, distinct, gradcheck, make_pair, tied)


#: Triton's interpreter runs each kernel on the host, slowly: the emulated 'cuda' run takes
#: a subset of the along-dim shapes (0-d, empty, 1-D, 2-D, 3-D, negative dim all still in it)
EMULATED = DEVICE != "cpu" and os.environ.get("TRITON_INTERPRET") == "1"
SHAPES = [c for c in ALONG_DIM_CASES if not EMULATED or c in (((), 0), ((3, 0), 1), ((7,), 0), ((3, 5), 0),
                                                                 ((2, 3, 4), -1))]
EXAMPLES = 8 if EMULATED else 25


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
    torch.autograd.backward(expected, [torch.tensor(s, dtype=o.dtype, device=o.device)
                                       for s, o in zip(seeds, expected)])
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
    return lib.tensor(values, dtype=lib.float64, device=dev(lib))


# ------------------------------------------------------------------ quantile, nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]
QUANTILES = [0.0, 0.25, 0.5, 1.0, 1 / 3]


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("shape,dim", SHAPES + [((2, 3, 4), None), ((5,), None)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quantile(name, shape, dim, dtype):
    a = tied(shape, dtype, seed=2)
    for keepdim in (False, True):
        for interpolation in INTERPOLATIONS[::2] if EMULATED else INTERPOLATIONS:
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


@settings(max_examples=EXAMPLES, deadline=None)
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
@pytest.mark.parametrize("shape,dim", SHAPES)
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


@settings(max_examples=EXAMPLES, deadline=None)
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


# ------------------------------------------------------------------ searchsorted, bucketize, isin
SEARCH_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8"]


def sorted_tied(shape, dtype, seed=0):
    """Sorted rows with repeats (and -inf/inf for floats; NaN is not a sorted boundary)."""
    a = tied(shape, dtype, seed)
    if dtype in FLOAT_DTYPES:
        a = np.where(np.isnan(a), 1.0, a)
    return np.sort(a, axis=-1)


@pytest.mark.parametrize("dtype", SEARCH_DTYPES)
@pytest.mark.parametrize("side", [None, "left", "right"])
def test_searchsorted(dtype, side):
    b, v = sorted_tied((7,), dtype, 1), tied((3, 4), dtype, 2)
    right = side == "right"
    for out_int32 in (False, True):
        check(lambda lib, b, v: lib.searchsorted(b, v, side=side, out_int32=out_int32), Arg(b, dtype),
              Arg(v, dtype))
        check(lambda lib, b, v: lib.searchsorted(b, v, right=right, out_int32=out_int32), Arg(b, dtype),
              Arg(v, dtype))
        check(lambda lib, v, b: lib.bucketize(v, b, right=right, out_int32=out_int32), Arg(v, dtype),
              Arg(b, dtype))
    check(lambda lib, b, v: lib.searchsorted(b, v, right=right), Arg(sorted_tied((2, 3, 6), dtype, 3), dtype),
          Arg(tied((2, 3, 5), dtype, 4), dtype))  # one row of boundaries per row of values
    check(lambda lib, b: lib.searchsorted(b, 2, right=right), Arg(b, dtype))
    check(lambda lib, b: lib.bucketize(1, b, right=right), Arg(b, dtype))


def test_searchsorted_shapes_sorter_and_mixed_dtypes():
    b = sorted_tied((6,), "float32", 5)
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(b), Arg(np.zeros((0, 3))))
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(np.zeros(0)), Arg(np.arange(3.0)))
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(np.zeros((2, 0))), Arg(np.ones((2, 3))))
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(b), Arg(np.array(0.5)))
    check(lambda lib, b, v: lib.searchsorted(b, v, right=True), Arg(b, "float32"),
          Arg(np.arange(-3, 4), "int64"))
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(np.arange(-3, 4), "int32"), Arg(b / 3, "float64"))
    check(lambda lib, b, v: lib.searchsorted(b, v), Arg(b, "float32"),
          Arg(tied((5, 4), "float32"), transpose=True))
    check(lambda lib, b, v: lib.searchsorted(b[::2], v[:, 1:]), Arg(b), Arg(tied((5, 4), "float32")))
    unsorted = np.random.default_rng(0).permutation(b)
    for side in ("left", "right"):
        check(lambda lib, b, v: lib.searchsorted(b, v, side=side, sorter=lib.argsort(b, stable=True)),
              Arg(unsorted, "float32"), Arg(tied((9,), "float32")))
    check(lambda lib, b, v: lib.searchsorted(b, v, out=lib.empty(0, dtype=lib.int64, device=b.device)),
          Arg(b), Arg(tied((3,), "float32")))


def test_searchsorted_errors():
    b, v = Arg(np.array([1.0, 2, 3])), Arg(np.array([2.0, 0.5]))
    check(lambda lib, b, v: lib.searchsorted(b, v, side="middle"), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, side="left", right=True), b, v)
    check(lambda lib, b, v: lib.searchsorted(b[0], v), b, v)
    check(lambda lib, b, v: lib.searchsorted(b.reshape(3, 1), v), b, v)
    check(lambda lib, b, v: lib.searchsorted(b > 1, v > 1), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, sorter=lib.argsort(b).int()), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, sorter=lib.argsort(b)[:2]), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, sorter=lib.argsort(b) + 1), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, out=lib.empty(0, dtype=lib.int32, device=b.device)), b, v)
    check(lambda lib, b, v: lib.searchsorted(b, v, out_int32=True, out=lib.empty(0, dtype=lib.int64,
                                                                                device=b.device)), b, v)
    check(lambda lib, b, v: lib.bucketize(v, b.reshape(1, 3)), b, v)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_searchsorted_hypothesis(data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "int16"]))
    m = data.draw(st.integers(0, 9))
    shape = tuple(data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    right = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 2**16))
    b = make_pair(Arg(sorted_tied((m,), dtype, seed), dtype))
    v = make_pair(Arg(tied(shape, dtype, seed + 1), dtype))
    assert_same(torch.searchsorted(b[0], v[0], right=right), tritensor.searchsorted(b[1], v[1], right=right))


@pytest.mark.parametrize("dtype", SEARCH_DTYPES + ["bool"])
def test_isin(dtype):
    a, t = tied((4, 5), dtype, 1), tied((6,), dtype, 2)
    for invert in (False, True):
        check(lambda lib, a, t: lib.isin(a, t, invert=invert), Arg(a, dtype), Arg(t, dtype))
        check(lambda lib, a, t: lib.isin(a, t, assume_unique=True, invert=invert), Arg(a, dtype),
              Arg(np.unique(t), dtype))
    check(lambda lib, a: lib.isin(a, 1), Arg(a, dtype))
    check(lambda lib, t: lib.isin(0, t), Arg(t, dtype))


def test_isin_shapes_and_mixed_dtypes():
    a = tied((4, 5), "float32", 3)
    check(lambda lib, a, t: lib.isin(a, t), Arg(a, transpose=True), Arg(np.array([[0.0, np.nan], [1, 7]])))
    check(lambda lib, a, t: lib.isin(a[::2], t), Arg(a), Arg(np.zeros((0,))))
    check(lambda lib, a, t: lib.isin(a, t), Arg(np.zeros((0, 2))), Arg(np.ones(3)))
    check(lambda lib, a, t: lib.isin(a, t), Arg(np.array(1.0)), Arg(np.ones(3)))
    check(lambda lib, a, t: lib.isin(a, t), Arg(np.arange(-3, 4)), Arg(np.array([0.5, 1.0, 2.0]), "float16"))
    check(lambda lib, a, t: lib.isin(a, t, out=lib.empty(0, dtype=lib.bool, device=a.device)),
          Arg(np.arange(-3, 4)), Arg(np.arange(2)))


# ------------------------------------------------------------------ bincount, histc
@pytest.mark.parametrize("dtype", INT_DTYPES + ("bool", "float32"))
def test_bincount(dtype):
    a = np.random.default_rng(0).integers(0, 7, 20)
    check(lambda lib, a: lib.bincount(a), Arg(a, dtype))
    check(lambda lib, a: a.bincount(minlength=10), Arg(a, dtype))
    check(lambda lib, a: lib.bincount(a, minlength=3), Arg(a, dtype))
    for wdtype in ("float32", "float64", "float16", "bfloat16", "int64", "bool"):
        check(lambda lib, a, w: lib.bincount(a, w), Arg(a, dtype), Arg(tied((20,), wdtype), wdtype))


def test_bincount_edges_and_errors():
    a = np.array([3, 0, 3, 1])
    check(lambda lib, a: lib.bincount(a), Arg(np.zeros(0, np.int64)))
    check(lambda lib, a: lib.bincount(a, minlength=4), Arg(np.zeros(0, np.int64)))
    check(lambda lib, a: lib.bincount(a[::2]), Arg(a))
    check(lambda lib, a, w: lib.bincount(a, w[::2]), Arg(a), Arg(np.arange(8.0)))
    check(lambda lib, a: lib.bincount(a - 1), Arg(a))
    check(lambda lib, a: lib.bincount(a.reshape(2, 2)), Arg(a))
    check(lambda lib, a: lib.bincount(a[0]), Arg(a))
    check(lambda lib, a: lib.bincount(a, minlength=-1), Arg(a))
    check(lambda lib, a, w: lib.bincount(a, w), Arg(a), Arg(np.ones(3)))
    w = tritensor.ones(4, requires_grad=True, device=DEVICE)
    counts = tritensor.bincount(tritensor.tensor(a, device=DEVICE), w)
    assert counts.requires_grad  # as torch: a node whose backward raises
    with pytest.raises(NotImplementedError):
        counts.sum().backward()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_histc(dtype):
    a = tied((5, 6), dtype, 2)
    finite = np.where(np.isfinite(a), a, 0.5)
    check(lambda lib, a: lib.histc(a, bins=4), Arg(finite, dtype))
    check(lambda lib, a: a.histc(7, -3, 3), Arg(a, dtype))  # out of range, inf and NaN are not counted
    check(lambda lib, a: lib.histc(a, 5, 0, 4), Arg(finite, dtype, transpose=True))
    check(lambda lib, a: lib.histc(a[::2, 1:], 3, -1, 1), Arg(a, dtype))
    check(lambda lib, a: lib.histc(a, 3, 2, 2), Arg(np.array([2.0, 2.0]), dtype))  # min == max == data
    check(lambda lib, a: lib.histc(a, 4, out=lib.empty(0, dtype=a.dtype, device=a.device)),
          Arg(finite, dtype))


@pytest.mark.cpu_only  # the CPU's counting kernel, its slices on separate threads
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_counted_in_threads(dtype):
    a = np.random.default_rng(6).standard_normal(1 << 20)
    a[::1000] = np.nan
    check(lambda lib, a: (lib.histc(a, 50, -2, 2), lib.histc(a[a == a], 7)), Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16",
                                   "bfloat16"])
def test_histc_bin_edges(dtype):
    """Elements on the bin edges: the bin is computed in the input's dtype, as torch, so each
    rounding step must match (round to nearest even for bfloat16)."""
    check(lambda lib, a: lib.histc(a, 10, 0.1, 0.3), Arg(np.linspace(0.1, 0.3, 21), dtype))


def test_histc_edges_and_errors():
    check(lambda lib, a: lib.histc(a, 4), Arg(np.zeros(0)))
    check(lambda lib, a: lib.histc(a, 3), Arg(np.array(2.0)))
    check(lambda lib, a: lib.histc(a, 3), Arg(np.array([1.0, np.nan])))
    check(lambda lib, a: lib.histc(a, 3), Arg(np.array([1.0, np.inf])))
    check(lambda lib, a: lib.histc(a, 3, 0, np.inf), Arg(np.array([1.0, 2.0])))
    check(lambda lib, a: lib.histc(a, 3, 2, 1), Arg(np.array([1.0, 2.0])))
    check(lambda lib, a: lib.histc(a, 0), Arg(np.array([1.0, 2.0])))
    check(lambda lib, a: lib.histc(a, 3), Arg(np.array([1, 2])))
    a = tritensor.tensor([1.0, 2.0], requires_grad=True, device=DEVICE)
    assert not tritensor.histc(a, 3).requires_grad


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_histc_hypothesis(data):
    n = data.draw(st.integers(0, 40))
    bins = data.draw(st.integers(1, 12))
    lo = data.draw(st.floats(-3, 3))
    hi = lo + data.draw(st.floats(0, 4))
    a = np.random.default_rng(data.draw(st.integers(0, 2**16))).uniform(-4, 4, n)
    check(lambda lib, a: lib.histc(a, bins, lo, hi), Arg(a, "float64"))


# ------------------------------------------------------------------ diff
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_diff(dtype):
    a = tied((4, 6), dtype, 5)
    for n in (0, 1, 2, 7):
        for dim in (0, 1, -1):
            check(lambda lib, a: lib.diff(a, n, dim), Arg(a, dtype))
    check(lambda lib, a, p, q: a.diff(1, 1, p, q), Arg(a, dtype), Arg(tied((4, 2), dtype, 1), dtype),
          Arg(tied((4, 1), dtype, 2), dtype))
    check(lambda lib, a, p: lib.diff(a, 2, 0, prepend=p), Arg(a, dtype), Arg(tied((1, 6), dtype, 3), dtype))
    check(lambda lib, a: lib.diff(a, 1, 0), Arg(a, dtype, transpose=True))


def test_diff_shapes_promotion_out_and_errors():
    a = distinct((3, 5))
    check(lambda lib, a: lib.diff(a), Arg(np.zeros((3, 0))))
    check(lambda lib, a: lib.diff(a[:, ::2], 2), Arg(a))
    check(lambda lib, a, p: lib.diff(a, append=p), Arg(a, "int64"), Arg(np.ones((3, 1)), "float32"))
    check(lambda lib, a: lib.diff(a, out=lib.empty(0, dtype=lib.float64, device=a.device)), Arg(a, "float32"))
    check(lambda lib, a: lib.diff(a, out=lib.empty(0, dtype=lib.int64, device=a.device)), Arg(a, "float32"))
    check(lambda lib, a: lib.diff(a[0, 0]), Arg(a))
    check(lambda lib, a: lib.diff(a, -1), Arg(a))
    check(lambda lib, a: lib.diff(a, dim=2), Arg(a))
    check(lambda lib, a: lib.diff(a, prepend=a[0]), Arg(a))
    check(lambda lib, a: lib.diff(a, prepend=a[:2]), Arg(a))
    check(lambda lib, a: lib.diff(a, append=1.0), Arg(a))


# ------------------------------------------------------------------ gradient
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_torch(dtype, edge_order):
    a = distinct((4, 5)).astype(np.float64)
    grad = dtype in ("float64", "float32")
    options = [{}, {"spacing": 2.0}, {"spacing": [0.5, 3]}, {"dim": 1}, {"dim": (-1, 0), "spacing": 2},
               {"dim": -1, "spacing": (3.0,)}]
    for kw in options:
        check(lambda lib, a: lib.gradient(a, edge_order=edge_order, **kw), Arg(a, dtype, requires_grad=grad))
    check(lambda lib, a: lib.gradient(a, edge_order=edge_order), Arg(a, dtype, transpose=True))

    def coordinates(lib, a, x0, x1):
        return lib.gradient(a, spacing=[x0, x1], edge_order=edge_order)
    # mixed dtypes promote (the ends compute in the input's dtype, as torch's); float16 input takes
    # float16 coordinates, so the result is float16 and compared at float16's tolerance
    x0, x1 = ("float16", "float16") if dtype == "float16" else ("float32", "float64")
    check(coordinates, Arg(a, dtype, requires_grad=grad), Arg(np.array([0, 1, 3, 4.5]), x0),
          Arg(np.array([-1, 0, 2, 2.5, 4]), x1))


def test_gradient_gradcheck_and_edge_cases():
    x = np.array([0.0, 0.4, 1.5, 1.7, 3.0])
    gradcheck(lambda lib, a: lib.gradient(a, edge_order=2)[1], distinct((3, 4)).astype(np.float64))
    gradcheck(lambda lib, a: lib.gradient(a, spacing=(lib.tensor(x, dtype=lib.float64, device=a.device),),
                                          edge_order=2)[0], np.sin(x))
    check(lambda lib, a: lib.gradient(a), Arg(np.float64(3)))                  # 0-d: no dims, ()
    check(lambda lib, a: lib.gradient(a), Arg(np.ones(2)))                     # the smallest size
    check(lambda lib, a: lib.gradient(a, edge_order=2), Arg(np.ones(2)))       # too small for order 2
    check(lambda lib, a: lib.gradient(a, edge_order=3), Arg(np.ones(4)))
    check(lambda lib, a: lib.gradient(a, spacing=[1.0, 2.0, 3.0]), Arg(np.ones((3, 3))))
    check(lambda lib, a: lib.gradient(a, dim=1, spacing=[1.0, 2.0]), Arg(np.ones((3, 3))))
    check(lambda lib, a: lib.gradient(a, dim=(1, 1)), Arg(np.ones((3, 3))))
    check(lambda lib, a: lib.gradient(a, dim=2), Arg(np.ones((3, 3))))
    check(lambda lib, a: lib.gradient(a), Arg(np.array([True, False, True])))


def test_diff_gradients():
    a = distinct((3, 5), seed=2)
    check_grads(lambda lib, a, p: lib.diff(a, 2, 1, prepend=p), Arg(a, requires_grad=True),
                Arg(distinct((3, 2), 3), requires_grad=True))
    gradcheck(lambda lib, a: lib.diff(a, 3, 0), distinct((5, 2), seed=4))


# ------------------------------------------------------------------ take_along_dim, rot90
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "bfloat16"])
def test_take_along_dim(dtype):
    a = tied((3, 4), dtype, 1)
    idx = np.array([[0, 3, 1, 2]])
    check(lambda lib, a, i: lib.take_along_dim(a, i, 1), Arg(a, dtype), Arg(np.array([[3], [0], [1]])))
    check(lambda lib, a, i: a.take_along_dim(i, 0), Arg(a, dtype), Arg(np.array([[2, 0, 1, 2]])))
    check(lambda lib, a, i: lib.take_along_dim(a, i), Arg(a, dtype), Arg(np.array([11, 0, 5])))
    check(lambda lib, a, i: lib.take_along_dim(a, i, 0), Arg(a, dtype, transpose=True), Arg(idx[:, :3]))
    check(lambda lib, a, i: lib.take_along_dim(a[:, :1], i, 1), Arg(a, dtype), Arg(np.array([[0, 0, 0]])))
    check(lambda lib, a, i: lib.take_along_dim(a.reshape(3, 1, 4), i.reshape(1, 1, 4), 0), Arg(a, dtype),
          Arg(np.array([2, 0, 1, 0])))  # broadcast both ways


def test_take_along_dim_gradients_and_errors():
    a = distinct((3, 4))
    check_grads(lambda lib, a, i: lib.take_along_dim(a, i, 1), Arg(a, requires_grad=True),
                Arg(np.array([[3, 3], [0, 1], [2, 2]])))
    check(lambda lib, a, i: lib.take_along_dim(a, i, 1), Arg(a), Arg(np.array([[1]]), "int32"))
    check(lambda lib, a, i: lib.take_along_dim(a, i, 1), Arg(a), Arg(np.array([1])))
    check(lambda lib, a, i: lib.take_along_dim(a, i, 2), Arg(a), Arg(np.array([[1]])))
    check(lambda lib, a, i: lib.take_along_dim(a.t(), i), Arg(a), Arg(np.array([1])))  # not viewable
    check(lambda lib, a, i: lib.take_along_dim(a, i, 0, out=lib.empty(0, dtype=a.dtype, device=a.device)),
          Arg(a), Arg(np.array([[2, 0, 1, 2]])))


@pytest.mark.parametrize("dtype", ["float32", "int16", "bool"])
def test_rot90(dtype):
    a = tied((3, 4, 2), dtype, 2)
    for k in (-5, -1, 0, 1, 2, 3, 4, 6):
        for dims in ((0, 1), (1, 0), (2, 0), (-1, -2)):
            check(lambda lib, a: lib.rot90(a, k, dims), Arg(a, dtype))
    check(lambda lib, a: a[0].rot90(), Arg(a, dtype))
    check(lambda lib, a: lib.rot90(a[:, 0].t()), Arg(a, dtype))
    check(lambda lib, a: lib.rot90(a[:, :0, 0], 1), Arg(a, dtype))


def test_rot90_gradients_and_errors():
    check_grads(lambda lib, a: lib.rot90(a, 3, (0, 1)), Arg(distinct((2, 3)), requires_grad=True))
    for dims in ((0,), (0, 1, 2), (0, 0), (0, -2), (0, 2), (3, 5)):
        check(lambda lib, a: lib.rot90(a, 1, dims), Arg(distinct((2, 3))))
    check(lambda lib, a: lib.rot90(a), Arg(distinct((3,))))


# ------------------------------------------------------------------ meshgrid, cartesian_prod, combinations
@pytest.mark.parametrize("dtype", ["float32", "int8", "bool", "float16"])
def test_meshgrid_and_cartesian_prod(dtype):
    x, y, z = tied((2,), dtype, 1), tied((3,), dtype, 2), tied((), dtype, 3)
    for indexing in ("ij", "xy"):
        check(lambda lib, x, y, z: lib.meshgrid(x, y, z, indexing=indexing), Arg(x, dtype), Arg(y, dtype),
              Arg(z, dtype))
        check(lambda lib, x, y: lib.meshgrid([x, y[::2]], indexing=indexing), Arg(x, dtype), Arg(y, dtype))
        check(lambda lib, x: lib.meshgrid(x, indexing=indexing), Arg(x, dtype))
        check(lambda lib, x, y: lib.meshgrid(x[:0], y, indexing=indexing), Arg(x, dtype), Arg(y, dtype))
    check(lambda lib, x, y: lib.cartesian_prod(x, y, x), Arg(x, dtype), Arg(y, dtype))
    check(lambda lib, x: lib.cartesian_prod(x), Arg(x, dtype))
    check(lambda lib, x, y: lib.cartesian_prod(x[:0], y), Arg(x, dtype), Arg(y, dtype))


def test_meshgrid_warns_and_errors():
    x, y = tritensor.tensor([1, 2], device=DEVICE), tritensor.tensor([3, 4, 5], device=DEVICE)
    with pytest.warns(UserWarning, match="indexing argument"):
        grids = tritensor.meshgrid(x, y)
    assert [tuple(g.shape) for g in grids] == [(2, 3), (2, 3)]
    check(lambda lib, x, y: lib.meshgrid(x, y, indexing="ab"), Arg(np.ones(2)), Arg(np.ones(3)))
    check(lambda lib, x, y: lib.meshgrid(x, y, indexing="ij"), Arg(np.ones(2)), Arg(np.ones(3), "float32"))
    check(lambda lib, x: lib.meshgrid(x, indexing="ij"), Arg(np.ones((2, 2))))
    check(lambda lib: lib.meshgrid([], indexing="ij"))
    check(lambda lib, x: lib.cartesian_prod(x, x), Arg(np.ones((2, 2))))
    check_grads(lambda lib, x, y: lib.cartesian_prod(x, y), Arg(distinct((3,)), requires_grad=True),
                Arg(distinct((2,), 1), requires_grad=True))
    check_grads(lambda lib, x, y: lib.meshgrid(x, y, indexing="xy"), Arg(distinct((3,)), requires_grad=True),
                Arg(distinct((2,), 1), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_combinations(dtype):
    a = tied((5,), dtype, 4)
    for r in (0, 1, 2, 3, 6):
        for with_replacement in (False, True):
            check(lambda lib, a: lib.combinations(a, r, with_replacement), Arg(a, dtype))
    check(lambda lib, a: lib.combinations(a[::2]), Arg(a, dtype))
    check(lambda lib, a: lib.combinations(a[:0]), Arg(a, dtype))


def test_combinations_gradients_and_errors():
    check_grads(lambda lib, a: lib.combinations(a, 2, True), Arg(distinct((4,)), requires_grad=True))
    check(lambda lib, a: lib.combinations(a), Arg(np.ones((2, 2))))
    check(lambda lib, a: lib.combinations(a, -1), Arg(np.ones(3)))


# ------------------------------------------------------ block_diag, atleast_nd, tril_indices, vander
def test_block_diag():
    check(lambda lib, a, b, c: lib.block_diag(a, b, c), Arg(np.array(1.0), "float32"),
          Arg(np.arange(3), "int64"), Arg(distinct((2, 3)), "float64"))
    check(lambda lib, a, b: lib.block_diag(a.t(), b[:, :0]), Arg(tied((2, 3), "int8"), "int8"),
          Arg(tied((2, 2), "bool"), "bool"))
    check(lambda lib, a: lib.block_diag(a), Arg(tied((2, 3), "bfloat16"), "bfloat16"))
    if DEVICE == "cpu":  # no inputs: torch's result is on the CPU whatever the test device
        check(lambda lib: lib.block_diag())
    check(lambda lib, a: lib.block_diag(a), Arg(np.ones((1, 2, 2))))
    check_grads(lambda lib, a, b: lib.block_diag(a, b), Arg(distinct((2, 3)), requires_grad=True),
                Arg(distinct((2,), 1), requires_grad=True))


def test_atleast_nd():
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for shape in ((), (3,), (2, 3), (2, 3, 4), (0,), (1, 2, 3, 4)):
            check(lambda lib, a: getattr(lib, name)(a), Arg(tied(shape, "float32"), "float32"))
        check(lambda lib, a, b: getattr(lib, name)(a, b), Arg(np.array(1)), Arg(np.ones(3)))
        check(lambda lib, a, b: getattr(lib, name)([a, b]), Arg(np.array(1)), Arg(np.ones((3, 2))))
        check(lambda lib: getattr(lib, name)(1))
        check_grads(lambda lib, a: getattr(lib, name)(a), Arg(distinct((3,)), requires_grad=True))


def on(lib):
    return DEVICE if lib is tritensor else "cpu"


def test_tril_triu_indices():
    for row, col in ((3, 4), (4, 3), (0, 3), (3, 0), (1, 1), (5, 5)):
        for offset in (-6, -1, 0, 1, 2, 7):
            for name in ("tril_indices", "triu_indices"):
                check(lambda lib: getattr(lib, name)(row, col, offset, device=on(lib)))
    for name in ("tril_indices", "triu_indices"):
        check(lambda lib: getattr(lib, name)(3, 3, dtype=lib.int32, device=on(lib)))
        for dtype in ("float32", "int16"):
            check(lambda lib: getattr(lib, name)(3, 3, dtype=getattr(lib, dtype)))
        check(lambda lib: getattr(lib, name)(-1, 3))
        check(lambda lib: getattr(lib, name)(3, -1))
        for args in ((3.0, 3), (3, 3, 1.0), (np.int32(3), 2)):  # floats are refused (TypeError)
            check(lambda lib: getattr(lib, name)(*args, device=on(lib)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool", "float16"])
def test_vander(dtype):
    a = np.array([1, 2, 0, 3]) if dtype != "bool" else np.array([True, False, True])
    for N in (None, 0, 1, 2, 5):
        for increasing in (False, True):
            check(lambda lib, a: lib.vander(a, N, increasing), Arg(a, dtype))
    check(lambda lib, a: lib.vander(a[::2]), Arg(a, dtype))
    check(lambda lib, a: lib.vander(a[:0], 3), Arg(a, dtype))


def test_vander_gradients_and_errors():
    # (torch 2.13's vander raises in backward: its cumprod is written in place; tritensor's
    # gradient is checked by finite differences)
    gradcheck(lambda lib, a: lib.vander(a, 4, True), distinct((3,)))
    check(lambda lib, a: lib.vander(a, -1), Arg(np.ones(3)))
    check(lambda lib, a: lib.vander(a), Arg(np.ones((3, 1))))


# ------------------------------------------------------------------ dist, cdist, renorm
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dist(dtype):
    a, b = distinct((3, 4), 1), distinct((4,), 2)
    for p in (0, 1, 2, 3.5, float("inf"), -float("inf")):
        check(lambda lib, a, b: lib.dist(a, b, p), Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, a, b: a.dist(b), Arg(a, dtype, transpose=True), Arg(distinct((4, 3)), dtype))
    check(lambda lib, a, b: lib.dist(a, b), Arg(np.zeros((0, 2)), dtype), Arg(np.zeros(2), dtype))


def test_dist_gradients_and_errors():
    for p in (1, 2, 3, float("inf")):
        check_grads(lambda lib, a, b: lib.dist(a, b, p), Arg(distinct((3, 2)), requires_grad=True),
                    Arg(distinct((2,), 1), requires_grad=True))
        gradcheck(lambda lib, a, b: lib.dist(a, b, p), distinct((3, 2)), distinct((2,), 1))
    check_grads(lambda lib, a, b: lib.dist(a, b), Arg(np.ones(3), requires_grad=True),
                Arg(np.ones(3), requires_grad=True))  # zero distance: zero gradient
    check(lambda lib, a, b: lib.dist(a, b), Arg(np.arange(3)), Arg(np.arange(3)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_cdist(dtype):
    a, b = distinct((4, 3), 1) / 3, distinct((5, 3), 2) / 3
    for p in (0, 1, 2, 0.5, 3, float("inf")):
        check(lambda lib, a, b: lib.cdist(a, b, p), Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(a.reshape(2, 2, 3), b.reshape(1, 5, 3)), Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"), Arg(a, dtype),
          Arg(np.ascontiguousarray(b[:, :3].T[:3]), dtype, transpose=True))
    check(lambda lib, a, b: lib.cdist(a[:0], b), Arg(a, dtype), Arg(b, dtype))


def test_cdist_gradients_and_errors():
    """Random data: no ties among a pair's coordinate differences, where p=inf's subgradient
    differs (torch's cdist gives each tied coordinate the whole gradient, tritensor shares it
    as linalg.vector_norm does)."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    for p in (1, 2, 3, float("inf")):
        check_grads(lambda lib, a, b: lib.cdist(a, b, p), Arg(a, requires_grad=True),
                    Arg(b, requires_grad=True))
        gradcheck(lambda lib, a, b: lib.cdist(a, b, p), a[:2], b[:2])
    f32, f64 = Arg(a, "float32"), Arg(b, "float64")
    check(lambda lib, a, b: lib.cdist(a, b), f32, f64)
    check(lambda lib, a, b: lib.cdist(a[0], b), f32, Arg(b, "float32"))
    check(lambda lib, a, b: lib.cdist(a, b[:, :2]), f32, Arg(b, "float32"))
    check(lambda lib, a, b: lib.cdist(a, b, -1), f32, Arg(b, "float32"))
    check(lambda lib, a, b: lib.cdist(a, b, compute_mode="fast"), f32, Arg(b, "float32"))
    check(lambda lib, a, b: lib.cdist(a, b), Arg(a, "bfloat16"), Arg(b, "bfloat16"))
    check(lambda lib, a, b: lib.cdist(a, b), Arg(a, "float16"), Arg(b, "float16"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cdist_matmul_path(dtype):
    """p=2 with more than 25 rows (or use_mm_for_euclid_dist) is one matmul, as in torch."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 30, 4)), rng.standard_normal((1, 7, 4))
    check(lambda lib, a, b: lib.cdist(a, b), Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(b, a), Arg(a[0], dtype, transpose=True), Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(a[0, :3], b[0], compute_mode="use_mm_for_euclid_dist"), Arg(a, dtype),
          Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(a[0, :0], a[0]), Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, a, b: lib.cdist(a[..., :0], b[..., :0]), Arg(a, dtype), Arg(b, dtype))


def test_cdist_matmul_path_gradients():
    """The matmul path's own backward, with torch's zero subgradient where rows coincide
    (integer coordinates: the matmul gives exactly zero there)."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 28, 3)), rng.standard_normal((5, 3))
    check_grads(lambda lib, a, b: lib.cdist(a, b), Arg(a, requires_grad=True), Arg(b, requires_grad=True))
    gradcheck(lambda lib, a, b: lib.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), a[0, :3], b[:2])
    ints = rng.integers(-3, 4, (27, 2)).astype(np.float64)
    check_grads(lambda lib, a, b: lib.cdist(a, b), Arg(ints, requires_grad=True),
                Arg(ints[:4], requires_grad=True))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_renorm(dtype):
    a = distinct((3, 4, 2), 3)
    for p in (1, 2, 3, float("inf")):
        for dim in (0, 1, -1):
            check(lambda lib, a: lib.renorm(a, p, dim, 2.5), Arg(a, dtype))
    check(lambda lib, a: a.renorm(2, 0, 0), Arg(a[0], dtype, transpose=True))
    check(lambda lib, a: a.clone().renorm_(2, 1, 1.0), Arg(a[0], dtype))
    check(lambda lib, a: lib.renorm(a, 2, 0, 1.0, out=lib.empty(0, dtype=a.dtype, device=a.device)),
          Arg(a, dtype))


def test_renorm_gradients_and_errors():
    a = distinct((3, 4), 3)
    check_grads(lambda lib, a: lib.renorm(a, 2, 0, 1.5), Arg(a, requires_grad=True))
    gradcheck(lambda lib, a: lib.renorm(a, 3, 1, 1.5), a)
    for args in ((0, 0, 1.0), (2, 0, -1.0), (2, 2, 1.0)):
        check(lambda lib, a: lib.renorm(a, *args), Arg(a))
    check(lambda lib, a: lib.renorm(a, 2, 0, 1), Arg(np.arange(4)))
    check(lambda lib, a: lib.renorm(a, 2, 0, 1), Arg(np.arange(4.0)))


# ------------------------------------------------------------------ cov, corrcoef
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int16", "float16", "bfloat16"])
def test_cov_corrcoef(dtype):
    a = distinct((3, 5), 4)
    for x in (a, a[0], a[:1]):
        for correction in (0, 1, 2):
            check(lambda lib, x: lib.cov(x, correction=correction), Arg(x, dtype))
        check(lambda lib, x: lib.corrcoef(x), Arg(x, dtype))
    check(lambda lib, x: x.cov(), Arg(distinct((5, 3)), dtype, transpose=True))
    check(lambda lib, x: x.corrcoef(), Arg(distinct((5, 3)), dtype, transpose=True))


def test_cov_weights():
    a, fw, aw = distinct((3, 5), 4), np.array([1, 0, 3, 2, 1]), np.array([0.5, 1.0, 0.25, 2.0, 0.0])
    for correction in (0, 1, 2):
        check(lambda lib, x, f: lib.cov(x, correction=correction, fweights=f), Arg(a), Arg(fw))
        check(lambda lib, x, w: lib.cov(x, correction=correction, aweights=w), Arg(a, "float32"), Arg(aw))
        check(lambda lib, x, f, w: lib.cov(x, correction=correction, fweights=f, aweights=w), Arg(a), Arg(fw),
              Arg(aw, "float32"))
    check_grads(lambda lib, x, f, w: lib.cov(x, fweights=f, aweights=w), Arg(a, requires_grad=True),
                Arg(fw + 1), Arg(aw + 0.5, requires_grad=True))
    check_grads(lambda lib, x: lib.corrcoef(x), Arg(a, requires_grad=True))
    gradcheck(lambda lib, x: lib.cov(x, correction=0), a)
    gradcheck(lambda lib, x: lib.corrcoef(x), a[:2, :4])


def test_cov_edges_and_errors():
    a = distinct((2, 3))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        check(lambda lib, x: lib.cov(x, correction=3), Arg(a))
    check(lambda lib, x: lib.corrcoef(x), Arg(np.ones(4)))  # zero variance: nan
    check(lambda lib, x: lib.cov(x), Arg(np.ones((2, 2, 2))))
    check(lambda lib, x: lib.corrcoef(x), Arg(np.ones((2, 2, 2))))
    check(lambda lib, x: lib.cov(x), Arg(np.ones(3, bool)))
    for f in (np.array([1.0, 2, 1]), np.array([[1, 2, 1]]), np.array([1, 2]), np.array([1, -2, 1]),
              np.zeros(3, int)):
        check(lambda lib, x, f: lib.cov(x, fweights=f), Arg(a), Arg(f))
    for w in (np.array([1, 2, 1]), np.array([[1.0, 2, 1]]), np.array([1.0, 2]), np.array([1.0, -2, 1])):
        check(lambda lib, x, w: lib.cov(x, aweights=w), Arg(a), Arg(w))
