"""sort, argsort, msort, topk, kthvalue, median and nanmedian against torch.

tritensor's sort is always stable, so its indices are compared exactly with torch's
``stable=True``. Where torch leaves the index of equal values unspecified (topk, kthvalue,
median of ties) the values are compared and the indices checked to point at them.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (ALL_DTYPES, ALONG_DIM_CASES, DEVICE, FLOAT_DTYPES, TT_DTYPES, Arg, assert_same, check,
                     gradcheck, distinct, make_pair, tied)

SHAPES = ALONG_DIM_CASES


def stable_sort(dim, descending, view=lambda x: x):
    """``lib.sort(view(x), ...)`` with torch's stable order, which tritensor always gives."""
    return lambda lib, x: lib.sort(view(x), dim=dim, descending=descending, stable=True)



@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape,dim", SHAPES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_torchs_stable_sort(dtype, shape, dim, descending):
    check(stable_sort(dim, descending), Arg(tied(shape, dtype), dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64", "float16"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_non_contiguous(dtype, descending):
    a = tied((6, 5), dtype, seed=3)
    for dim in (0, 1):
        check(stable_sort(dim, descending), Arg(a, dtype, transpose=True))
        check(stable_sort(dim, descending, lambda x: x[::2, 1:]), Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("descending", [False, True])
def test_long_rows_merge_sorted_blocks(dtype, descending):
    """Rows longer than one block (1024 on 'cuda') are sorted in blocks, then merged: two
    merge passes along the contiguous dim (written in place), one along the other."""
    a = tied((2, 2500), dtype, seed=1)
    check(stable_sort(-1, descending), Arg(a, dtype))
    check(stable_sort(0, descending), Arg(np.ascontiguousarray(a[:, :1100].T), dtype))


@pytest.mark.cpu_only
@pytest.mark.parametrize("dtype", ["float64", "int64", "float32", "float16", "bfloat16", "int32", "int16",
                                   "int8", "uint8", "bool"])
def test_radix_sorted_rows(dtype):
    """The CPU radix-sorts rows of 2048 or more values (keys built from the bits: NaN,
    infinities, -0.0, negative integers; a pass per byte that varies); shorter rows take
    merge sort. 64-bit values also far apart, so that every byte of the key varies."""
    a = tied((3, 2100), dtype, seed=9)
    for descending in (False, True):
        check(stable_sort(1, descending), Arg(a, dtype))
        check(stable_sort(0, descending), Arg(np.ascontiguousarray(a.T), dtype))
        check(stable_sort(1, descending), Arg(a * 7 - 3 if dtype not in ("bool", "uint8") else a, dtype))
    if dtype in ("float64", "int64"):
        rng = np.random.default_rng(5)
        wide = (rng.integers(-2 ** 62, 2 ** 62, (2, 3000)) if dtype == "int64" else
                rng.standard_normal((2, 3000)) * 10.0 ** rng.integers(-300, 300, (2, 3000)))
        wide[:, ::7] = wide[:, 1::7]  # ties
        if dtype == "int64":
            wide[0, :4] = [2 ** 63 - 1, -2 ** 63, 0, -1]
        for descending in (False, True):
            check(stable_sort(1, descending), Arg(wide, dtype))


@pytest.mark.cpu_only
@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "float32"])
def test_radix_sort_orders_by_every_byte(dtype):
    """Values tied in every byte but one, for every byte (each byte one of three digits; the
    top one picks sign and magnitude), so that each pass of the CPU's radix sort decides some
    order; NaNs of either sign and any payload sort last, in input order."""
    rng = np.random.default_rng(11)
    width = np.dtype(dtype).itemsize
    unsigned = np.uint64 if width == 8 else np.uint32
    digits = rng.integers(0, 3, (2, 3000, width)).astype(unsigned)
    digits[..., -1] = np.array([0x3F, 0x40, 0xC0], unsigned)[digits[..., -1]]
    words = (digits << (8 * np.arange(width, dtype=unsigned))).sum(-1, dtype=unsigned)
    if "float" in dtype:
        words[:, ::97] = np.array(np.nan, dtype).view(unsigned)
        words[:, 5::97] = np.array(np.copysign(np.nan, -1), dtype).view(unsigned)
        words[:, 9::97] = np.array(np.nan, dtype).view(unsigned) | unsigned(5)  # another payload
    a = words.view(dtype)
    for descending in (False, True):
        check(stable_sort(1, descending), Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_argsort_and_msort(dtype):
    a = tied((4, 6), dtype, seed=2)
    for dim in (0, 1, -1):
        for descending in (False, True):
            check(lambda lib, x: lib.argsort(x, dim=dim, descending=descending, stable=True), Arg(a, dtype))
            check(lambda lib, x: x.argsort(dim=dim, descending=descending, stable=True), Arg(a, dtype))
    check(lambda lib, x: lib.msort(x), Arg(a, dtype))


def test_unstable_sort_gives_sorted_values():
    """``stable=False`` (the default) lets torch order ties freely: the values must agree."""
    a = tied((5, 8), "float32", seed=4)
    check(lambda lib, x: lib.sort(x, 1, True).values, Arg(a, "float32"))
    got = tritensor.sort(tritensor.tensor(a, device=DEVICE), 1)
    assert_same(torch.sort(torch.tensor(a), dim=1, stable=True).indices, got.indices)  # ours is stable anyway


def test_sort_gradient_and_out():
    a = distinct((3, 4))
    for dim in (0, 1):
        check(lambda lib, x: lib.sort(x, dim, True), Arg(a, "float32", requires_grad=True))
        check(lambda lib, x: x.sort(dim).values * 2, Arg(a, "float64", requires_grad=True))
    check(lambda lib, x: lib.msort(x), Arg(a, "float32", requires_grad=True))
    check(lambda lib, x: lib.sort(x, 0), Arg(np.array(2.5), "float32", requires_grad=True))
    gradcheck(lambda lib, x: lib.sort(x, 1, True).values, a)
    gradcheck(lambda lib, x: lib.topk(x, 2, 0).values, a)

    def into(lib, x):
        values, indices = lib.empty(0, device=x.device), lib.empty(0, dtype=lib.int64, device=x.device)
        result = lib.sort(x, 1, out=(values, indices))
        return result, values, indices
    check(into, Arg(a, "float32"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bfloat16"])
def test_topk_distinct_values(dtype):
    a = distinct((4, 7))
    a = a * 4 + 14 if dtype in ("int64", "uint8") else a
    for k, dim, largest in [(3, 1, True), (3, 1, False), (2, 0, True), (0, 1, True), (7, -1, False),
                            (4, 0, False)]:
        check(lambda lib, x: lib.topk(x, k, dim, largest), Arg(a, dtype))
    check(lambda lib, x: x.topk(2, sorted=False), Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64", "float16"])
@pytest.mark.parametrize("k", [1, 5, 64, 65])
def test_topk_is_the_stable_sorts_head(dtype, k):
    """The CPU selects a small k in one pass and sorts for a large one (above 64): both give
    the stable order's first k (ties, NaN), and torch's values."""
    a = tied((3, 90), dtype, seed=8)
    for largest in (True, False):
        check(lambda lib, x: lib.topk(x, k, 1, largest).values, Arg(a, dtype))
        x = tritensor.tensor(a, dtype=TT_DTYPES[dtype], device=DEVICE)
        assert_same(torch.tensor(x.argsort(1, descending=largest)[:, :k].cpu().numpy()),
                    x.topk(k, 1, largest).indices)


def test_topk_gradient_and_edges():
    a = distinct((4, 6))
    check(lambda lib, x: lib.topk(x, 3), Arg(a, "float32", requires_grad=True))
    check(lambda lib, x: lib.topk(x, 2, dim=0, largest=False), Arg(a, "float64", requires_grad=True))
    for k in (0, 1):
        check(lambda lib, x: lib.topk(x, k), Arg(np.array(1.5), "float32"))
    check(lambda lib, x: lib.topk(x, 2), Arg(np.zeros((3, 0)), "float32"))
    check(lambda lib, x: lib.topk(x, 7), Arg(a, "float32"))        # k > size
    check(lambda lib, x: lib.topk(x, -1), Arg(a, "float32"))
    check(lambda lib, x: lib.topk(x, 2, dim=2), Arg(a, "float32"))
    check(lambda lib, x: lib.topk(x, 1), Arg(a > 0, "bool"))

    def into(lib, x):
        values, indices = lib.empty(0, device=x.device), lib.empty(0, dtype=lib.int64, device=x.device)
        return lib.topk(x, 2, out=(values, indices)), values, indices
    check(into, Arg(a, "float32"))


def _assert_picks(result, x, dim, keepdim):
    """Indices point at the returned values (any of equal values may be picked)."""
    values, indices = result
    picked = x.gather(dim, indices if keepdim else indices.unsqueeze(dim))
    assert_same(torch.tensor(picked.cpu().numpy()).float(), values.float() if keepdim else
                values.unsqueeze(dim).float())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8"])
def test_kthvalue_and_median_with_ties_and_nan(dtype):
    a = tied((5, 6), dtype, seed=5)
    x = tritensor.tensor(a, dtype=TT_DTYPES[dtype], device=DEVICE)
    for dim in (0, 1):
        for keepdim in (False, True):
            for k in (1, 3, a.shape[dim]):
                check(lambda lib, x: lib.kthvalue(x, k, dim, keepdim).values, Arg(a, dtype))
                _assert_picks(tritensor.kthvalue(x, k, dim, keepdim), x, dim, keepdim)
            for name in ("median", "nanmedian"):
                if name == "nanmedian" and dtype not in FLOAT_DTYPES:
                    continue
                check(lambda lib, x: getattr(lib, name)(x, dim, keepdim).values, Arg(a, dtype))
                _assert_picks(getattr(tritensor, name)(x, dim, keepdim), x, dim, keepdim)
    check(lambda lib, x: lib.median(x), Arg(a, dtype))
    if dtype in FLOAT_DTYPES:
        check(lambda lib, x: lib.nanmedian(x), Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_kthvalue_of_long_rows_is_the_stable_orders_element(dtype):
    """Long rows with ties, NaN and both zeros, contiguous and strided: the values are
    torch's, and the index is the one the stable ascending order puts at position k (the
    CPU selects without sorting; other devices sort)."""
    generator = np.random.default_rng(8)
    for n in (1, 2, 33, 300):
        a = generator.integers(-4, 5, (3, n)).astype(np.float64)
        if dtype != "int64":
            a[generator.random(a.shape) < 0.1] = np.nan
            a[generator.random(a.shape) < 0.1] = -0.0
        stable = np.argsort(np.where(a == 0, 0.0, a), axis=1, kind="stable")
        for layout in (Arg(a, dtype), Arg(a, dtype, transpose=True)):
            for k in sorted({1, (n + 1) // 2, n}):
                check(lambda lib, x: lib.kthvalue(x, k, 1).values, layout)
                _, ours = make_pair(layout)
                np.testing.assert_array_equal(tritensor.kthvalue(ours, k, 1).indices.cpu().numpy(),
                                              stable[:, k - 1])
            check(lambda lib, x: (lib.median(x, 1).values, lib.median(x)), layout)


def test_median_nan_rows():
    """A row with NaN: median is NaN at the row's first NaN; nanmedian skips NaN."""
    a = np.array([[1.0, np.nan, 3, np.nan], [np.nan, np.nan, 2, 1], [4, 3, 2, 1], [4, 3, 2, np.nan]])
    check(lambda lib, x: lib.median(x, 1), Arg(a, "float32"))
    check(lambda lib, x: lib.nanmedian(x, 1), Arg(a[[0, 2, 3]], "float32"))
    check(lambda lib, x: lib.nanmedian(x), Arg(a, "float32"))
    x = tritensor.tensor(a, device=DEVICE)
    assert tritensor.nanmedian(x, 1).values.isnan().tolist() == [False, False, False, False]
    all_nan = tritensor.nanmedian(tritensor.full((2, 3), float("nan"), device=DEVICE), 1)
    assert all_nan.values.isnan().all().item() and all_nan.indices.tolist() == [0, 0]


def test_order_statistics_gradients():
    a = distinct((4, 5))
    for fn in (lambda lib, x: lib.kthvalue(x, 2, 1),
               lambda lib, x: lib.kthvalue(x, 4, 0, True),
               lambda lib, x: lib.median(x, 1),
               lambda lib, x: lib.median(x, 0, True),
               lambda lib, x: lib.nanmedian(x, 1),
               lambda lib, x: lib.median(x),
               lambda lib, x: lib.nanmedian(x)):
        check(fn, Arg(a, "float32", requires_grad=True))
    check(lambda lib, x: lib.median(x, 0), Arg(np.array(3.0), "float32", requires_grad=True))
    check(lambda lib, x: lib.kthvalue(x, 1), Arg(np.array(3.0), "float32", requires_grad=True))
    # one backward formula serves them all: finite differences for a picked dim and a full median
    gradcheck(lambda lib, x: lib.median(x, 1, True).values, a[:3, :3])
    gradcheck(lambda lib, x: lib.median(x), a[:3, :3])


def test_full_median_gradient_is_shared_by_ties():
    """median()/nanmedian() share the gradient evenly among the elements equal to the result
    (the NaNs, for a NaN median), unlike the indexed median(dim)."""
    for a in (np.array([1.0, 2, 2, 2, 3]), np.array([[1.0, 2], [2, 5]]), np.array([1.0, np.nan, 2, np.nan])):
        check(lambda lib, x: lib.median(x), Arg(a, "float32", requires_grad=True))
        check(lambda lib, x: lib.nanmedian(x), Arg(a, "float64", requires_grad=True))


def test_out_dtypes_must_match():
    a = distinct((2, 3))
    wrong = (("float64", "int64"), ("float32", "int32"))
    for values, indices in wrong:
        for fn in (lambda lib, x: lib.sort(x, 1, out=_outs(lib, x, values, indices)),
                   lambda lib, x: lib.topk(x, 2, out=_outs(lib, x, values, indices)),
                   lambda lib, x: lib.kthvalue(x, 2, out=_outs(lib, x, values, indices)),
                   lambda lib, x: lib.median(x, 1, out=_outs(lib, x, values, indices)),
                   lambda lib, x: lib.nanmedian(x, 1, out=_outs(lib, x, values, indices))):
            check(fn, Arg(a, "float32"))
    check(lambda lib, x: lib.msort(x, out=lib.empty(0, dtype=lib.float64)), Arg(a, "float32"))


def _outs(lib, x, values, indices):
    return (lib.empty(0, dtype=getattr(lib, values), device=x.device),
            lib.empty(0, dtype=getattr(lib, indices), device=x.device))


def test_order_statistics_errors_and_empty():
    a = distinct((3, 4))
    for fn in (lambda lib, x: lib.kthvalue(x, 0), lambda lib, x: lib.kthvalue(x, 5),
               lambda lib, x: lib.kthvalue(x, 1, 2), lambda lib, x: lib.median(x, 3),
               lambda lib, x: lib.sort(x, 2), lambda lib, x: lib.argsort(x, -3)):
        check(fn, Arg(a, "float32"))
    for fn in (lambda lib, x: lib.median(x), lambda lib, x: lib.kthvalue(x, 1),
               lambda lib, x: lib.median(x, 0)):
        check(fn, Arg(a > 0, "bool"))
    empty = np.zeros((4, 0))
    for fn in (lambda lib, x: lib.median(x, 1), lambda lib, x: lib.kthvalue(x, 1, 1),
               lambda lib, x: lib.median(x, 0), lambda lib, x: lib.median(x), lambda lib, x: lib.sort(x, 1)):
        check(fn, Arg(empty, "float32"))
    check(lambda lib, x: lib.median(x), Arg(np.zeros(0, np.int64), "int64"))


@settings(max_examples=30)
@given(st.data())
def test_sort_hypothesis(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "int16", "bfloat16"]))
    descending = data.draw(st.booleans())
    a = tied(shape, dtype, seed=data.draw(st.integers(0, 2**16)))
    t, tt = make_pair(Arg(a, dtype))
    assert_same(stable_sort(dim, descending)(torch, t), tritensor.sort(tt, dim, descending))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (9,), (2, 3, 2)])
@pytest.mark.parametrize("inverse,counts", [(False, False), (True, True)])
def test_unique_and_unique_consecutive(dtype, shape, inverse, counts):
    """Values sorted (NaNs each distinct, -0.0 == 0.0 keeping the first), inverse in the
    input's shape, int64 counts."""
    a = tied(shape, dtype, seed=6)
    check(lambda lib, x: lib.unique(x, return_counts=counts), Arg(a, dtype))
    check(lambda lib, x: x.unique(sorted=True, return_counts=counts), Arg(a, dtype))
    check(lambda lib, x: lib.unique_consecutive(x, return_inverse=inverse, return_counts=counts),
          Arg(a, dtype))
    if inverse:
        _check_inverse(a, dtype)


def _check_inverse(a, dtype):
    """torch sorts unstably: which NaN comes first (and so the inverse of equal NaNs) is
    unspecified. Without NaN the inverse must be torch's; with NaN it must rebuild the input."""
    t, tt = make_pair(Arg(a, dtype))
    values, inverse = tritensor.unique(tt, return_inverse=True)
    assert_same(torch.unique(t, return_inverse=True)[0], values)
    if dtype in FLOAT_DTYPES and np.isnan(a).any():
        assert_same(t, values[inverse])
    else:
        assert_same(torch.unique(t, return_inverse=True)[1], inverse)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("inverse,counts", [(False, False), (True, True)])
def test_unique_along_a_dim(dtype, inverse, counts):
    """Slices compared lexicographically (no NaN: torch's order of NaN slices is its sort's)."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2, (5, 3, 2)).astype(np.float64)
    a[3] = a[1]
    a[:, 2] = a[:, 0]
    for dim in (0, 1, -1):
        check(lambda lib, x: lib.unique(x, dim=dim, return_inverse=inverse, return_counts=counts),
              Arg(a, dtype))
        check(lambda lib, x: lib.unique_consecutive(x, dim=dim, return_inverse=inverse, return_counts=counts),
              Arg(a, dtype))
    check(lambda lib, x: lib.unique(x, dim=0, return_inverse=inverse, return_counts=counts),
          Arg(a[:, 0], dtype, transpose=True))


def test_unique_edges_and_errors():
    empty = np.zeros((2, 0, 3))
    for fn in (lambda lib, x: lib.unique(x, dim=1, return_inverse=True, return_counts=True),
               lambda lib, x: lib.unique_consecutive(x, dim=1, return_counts=True),
               lambda lib, x: lib.unique(x, dim=0), lambda lib, x: lib.unique_consecutive(x, dim=0),
               lambda lib, x: lib.unique(x, dim=3)):
        check(fn, Arg(empty, "float32"))
    for fn in (lambda lib, x: lib.unique(x, dim=0), lambda lib, x: lib.unique_consecutive(x, dim=0)):
        check(fn, Arg(np.array(3.0), "float32"))
    x = tritensor.tensor([[1.0, 2.0], [1.0, 2.0]], device=DEVICE, requires_grad=True)
    for u, name in ((tritensor.unique(x), "Unique2Backward0"),
                    (tritensor.unique(x, dim=0), "UniqueDimBackward0"),
                    (tritensor.unique_consecutive(x), "UniqueConsecutiveBackward0")):
        assert type(u.grad_fn).__name__ == name
        with pytest.raises(NotImplementedError, match="derivative for"):
            u.sum().backward()


@pytest.mark.parametrize("dtype, low, high, size", [
    ("int64", 0, 1024, (64, 64)),                  # a short range: counted
    ("int64", -(2 ** 63), 2 ** 63 - 1, (5, 7)),    # the whole range: sorted
    ("int64", -5000, 5000, (40,)),                 # longer than twice the count, under 2^16: counted
    ("int64", -(2 ** 20), 2 ** 20, (40,)),         # longer than both: sorted
    ("int8", -128, 127, (300,)),                   # the full int8 range (x - lowest overflows int8)
    ("uint8", 200, 255, (3, 50)), ("int16", -300, -100, (90,)), ("int32", 7, 8, (10,))])
def test_unique_of_integers_by_counting_or_sorting(dtype, low, high, size):
    """Integers whose values span a short range are counted rather than sorted: the values,
    inverse and counts are torch's either way."""
    a = np.random.default_rng(3).integers(low, high, size, dtype=np.int64, endpoint=True).astype(dtype)
    a.flat[0], a.flat[-1] = low, high
    check(lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True), Arg(a, dtype))
    check(lambda lib, x: lib.unique(x[::2], return_inverse=True), Arg(a, dtype))


@settings(max_examples=20)
@given(st.data())
def test_unique_hypothesis(data):
    ndim = data.draw(st.integers(0, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "uint8", "bool"]))
    a = tied(shape, dtype, seed=data.draw(st.integers(0, 2**16)))
    t, tt = make_pair(Arg(a, dtype))
    assert_same(torch.unique(t, return_counts=True), tritensor.unique(tt, return_counts=True))
    _check_inverse(a, dtype)
    if ndim and dtype not in FLOAT_DTYPES:
        dim = data.draw(st.integers(-ndim, ndim - 1))
        assert_same(torch.unique(t, dim=dim, return_inverse=True, return_counts=True),
                    tritensor.unique(tt, dim=dim, return_inverse=True, return_counts=True))


def test_out_results_keep_their_return_type_name():
    x = tritensor.tensor([3.0, 1.0, 2.0], device=DEVICE)
    for name, call in (("sort", lambda out: tritensor.sort(x, out=out)),
                       ("topk", lambda out: tritensor.topk(x, 3, out=out)),
                       ("kthvalue", lambda out: tritensor.kthvalue(x, 1, out=out)),
                       ("median", lambda out: tritensor.median(x, 0, out=out))):
        out = (tritensor.empty(0, device=DEVICE), tritensor.empty(0, dtype=tritensor.int64, device=DEVICE))
        result = call(out)
        assert repr(result).startswith(f"torch.return_types.{name}(") and result.values is out[0]
