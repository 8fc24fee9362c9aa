"""cummax, cummin, logcumsumexp and aminmax against torch: every dtype torch accepts, 0-d,
empty, non-contiguous, any dim, NaN/inf/ties (cummax's index: the last of equal values, the
last NaN), gradients vs torch and finite differences, out=, errors.

Shapes stay small: on the emulated 'cuda' device every launch runs in Triton's interpreter.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (ALL_DTYPES, ALONG_DIM_CASES, DEVICE, FLOAT_DTYPES, Arg, assert_same, check, gradcheck,
                     distinct, make_pair, tied, torch_2_13)

SHAPES = ALONG_DIM_CASES



def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2


def cum_extremes(dim):
    return lambda lib, x: (lib.cummax(x, dim), x.cummin(dim))


# ------------------------------------------------------------------ cummax / cummin
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_cummax_cummin_every_dtype(dtype):
    check(cum_extremes(1), Arg(tied((3, 8), dtype), dtype))
    check(cum_extremes(0), Arg(tied((5, 2), dtype, seed=1), dtype))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("shape,dim", SHAPES)
def test_cummax_cummin_shapes(dtype, shape, dim):
    check(cum_extremes(dim), Arg(tied(shape, dtype), dtype))


def test_cummax_ties_take_the_last_index():
    """torch's cummax/cummin keep the index of the last equal value, -0.0 and 0.0 included,
    and after a NaN the index of the last NaN."""
    a = np.array([[1, 3, 3, 1, 3, 0, 3], [0, -0.0, 0, -0.0, 5, 5, 4], [2, np.nan, 9, np.nan, -1, np.nan, 1]])
    check(cum_extremes(1), Arg(a))
    check(cum_extremes(1), Arg(a, "float16"))
    infs = np.array([[-np.inf, np.inf], [-np.inf, np.inf], [np.nan, -np.inf]])
    check(cum_extremes(0), Arg(infs, "float32"))
    check(cum_extremes(0), Arg(np.array([2, 2, 7, 7, -9, -9]), "int8"))
    check(cum_extremes(0), Arg(np.array([0, 255, 255, 0]), "uint8"))


@pytest.mark.parametrize("dtype", ["float32", "int16", "bfloat16"])
def test_cummax_cummin_non_contiguous(dtype):
    a = tied((6, 5), dtype, seed=3)
    for dim in (0, 1):
        check(cum_extremes(dim), Arg(a, dtype, transpose=True))
        check(lambda lib, x: lib.cummin(x[::2, 1:], dim), Arg(a, dtype))
    check(lambda lib, x: x.expand(3, 4, 5).cummax(1), Arg(tied((4, 1), dtype), dtype))


def test_cummax_long_rows_join_tiles():
    """Rows longer than one tile: the running (value, index) crosses tile boundaries."""
    a = tied((2, 1500), "float32", seed=4)
    a[0, 700:] = np.nan_to_num(a[0, 700:], nan=1.0)
    check(cum_extremes(1), Arg(a, "float32"))
    check(cum_extremes(0), Arg(np.ascontiguousarray(tied((2, 1500), "int32", seed=5).T), "int32"))


def test_cummax_cummin_gradients():
    check(cum_extremes(1), Arg(tied((3, 7), "float64", seed=6), requires_grad=True))
    check(cum_extremes(0), Arg(distinct((4, 3)), "float32", requires_grad=True, transpose=True))
    check(lambda lib, x: (x.cummax(0), x.cummin(-1)), Arg(np.array(2.5), requires_grad=True))
    check(lambda lib, x: x.cummax(1), Arg(np.zeros((2, 0)), requires_grad=True))
    gradcheck(lambda lib, x: lib.cummax(x, 1).values, distinct((3, 5)))
    gradcheck(lambda lib, x: x.cummin(0)[0], distinct((4, 3), seed=1))


def test_cummax_double_backward():
    def fn(lib, x):
        y = x.cummax(1).values * x
        (g,) = lib.autograd.grad(y, x, lib.ones_like(y) * 0.7, create_graph=True)
        return (g * g).sum()
    check(fn, Arg(distinct((3, 4)), requires_grad=True))


def test_cummax_out_and_return_type():
    x = tritensor.tensor(tied((3, 4), "float32"), device=DEVICE)
    result = tritensor.cummax(x, 1)
    assert type(result).__name__ == "_ValuesIndices" and repr(result).startswith("torch.return_types.cummax(")
    assert result.values is result[0] and result.indices is result[1]
    check(lambda lib, x, v, i: lib.cummin(x, 0, out=(v, i)) + (v, i),
          Arg(tied((3, 4), "float32")), Arg(np.zeros((3, 4)), "float32"), Arg(np.zeros(2, np.int64)))
    for v_dtype, i_dtype in (("float64", "int64"), ("float32", "int32")):
        check(lambda lib, x, v, i: lib.cummax(x, 0, out=(v, i)),
              Arg(tied((3, 4), "float32")), Arg(np.zeros((3, 4)), v_dtype), Arg(np.zeros((3, 4)), i_dtype))
    check(lambda lib, x, v, i: lib.cummax(x, 0, out=(v, i)),
          Arg(tied((3, 4), "float64"), requires_grad=True), Arg(np.zeros((3, 4))),
          Arg(np.zeros((3, 4), np.int64)))


@torch_2_13
@pytest.mark.parametrize("name", ["cummax", "cummin", "logcumsumexp"])
def test_scan_bad_dims(name):
    for shape, dim in (((2, 3), 2), ((2, 3), -3), ((), 1), ((4,), None), ((4,), 1.0), ((4,), (0,))):
        check(lambda lib, x: getattr(lib, name)(x, dim), Arg(np.ones(shape)))
    check(lambda lib, x: getattr(x, name)(dim=-1), Arg(np.ones(3)))


# ------------------------------------------------------------------ logcumsumexp
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_logcumsumexp_every_dtype(dtype):
    """Floats only: torch has no integer or bool kernel (NotImplementedError)."""
    data = normal((3, 6)) if dtype in FLOAT_DTYPES else tied((3, 6), dtype)
    check(lambda lib, x: (lib.logcumsumexp(x, 1), x.logcumsumexp(0)), Arg(data, dtype))


@pytest.mark.parametrize("shape,dim", SHAPES)
def test_logcumsumexp_shapes(shape, dim):
    check(lambda lib, x: lib.logcumsumexp(x, dim), Arg(normal(shape), "float32"))


def test_logcumsumexp_special_values():
    """-inf adds nothing (an all -inf prefix stays -inf), +inf wins, NaN propagates; no
    overflow for large values, and 16-bit inputs accumulate in float32."""
    a = np.array([[-np.inf, -np.inf, 0, -np.inf, np.inf, 1, np.nan, 2],
                  [1e4, 1e4, -1e4, 3e4, -np.inf, 0, 0, 0],
                  [-np.inf] * 8, [-1e-9, -20, -40, 0, -1e30, 1e-7, 3, 3]])
    for dtype in ("float64", "float32"):
        check(lambda lib, x: lib.logcumsumexp(x, 1), Arg(a, dtype))
    check(lambda lib, x: lib.logcumsumexp(x, 0), Arg(np.ascontiguousarray(a.T), "float64"))
    for dtype in ("float16", "bfloat16"):
        half = np.array([[60000, 60000, 1, -60000, 2, 2, 2, 2], [-np.inf, 0.5, 0.25, -np.inf, 7, 7, 7, 7]])
        check(lambda lib, x: lib.logcumsumexp(x, 1), Arg(half if dtype == "float16" else half * 1e30, dtype))


def test_logcumsumexp_non_contiguous_and_long_rows():
    a = normal((6, 5), seed=2)
    check(lambda lib, x: (x.logcumsumexp(0), x.logcumsumexp(1)), Arg(a, "float32", transpose=True))
    check(lambda lib, x: x[::2, 1:].logcumsumexp(0), Arg(a, "float64"))
    check(lambda lib, x: x.logcumsumexp(1), Arg(normal((2, 1300), seed=3) * 10, "float32"))


def test_logcumsumexp_gradients():
    check(lambda lib, x: lib.logcumsumexp(x, 1), Arg(normal((3, 5)), requires_grad=True))
    check(lambda lib, x: x.logcumsumexp(0),
          Arg(normal((4, 3)), "float32", requires_grad=True, transpose=True))
    check(lambda lib, x: x.logcumsumexp(0), Arg(np.array(1.5), requires_grad=True))
    check(lambda lib, x: x.logcumsumexp(0), Arg(np.zeros((0, 3)), requires_grad=True))
    # -inf and +inf inputs: torch's backward makes NaN there, and so does ours
    check(lambda lib, x: x.logcumsumexp(1),
          Arg(np.array([[-np.inf, -np.inf, 1, 2], [1, np.inf, 3, 0]]), requires_grad=True))
    gradcheck(lambda lib, x: lib.logcumsumexp(x, 1), normal((3, 4)))
    gradcheck(lambda lib, x: x.logcumsumexp(0), normal((4, 2), seed=1) * 5)


def test_logcumsumexp_double_backward():
    def fn(lib, x):
        (g,) = lib.autograd.grad(x.logcumsumexp(1), x, lib.ones_like(x) * 0.7, create_graph=True)
        return (g * g).sum()
    check(fn, Arg(normal((3, 4)), requires_grad=True))


def test_logcumsumexp_out():
    check(lambda lib, x, o: (lib.logcumsumexp(x, 1, out=o), o), Arg(normal((2, 3))), Arg(np.zeros(0)))
    check(lambda lib, x, o: lib.logcumsumexp(x, 1, out=o), Arg(normal((2, 3)), "float32"),
          Arg(np.zeros((2, 3))))
    check(lambda lib, x, o: lib.logcumsumexp(x, 1, out=o), Arg(normal((2, 3)), requires_grad=True),
          Arg(np.zeros((2, 3))))
    check(lambda lib, x: lib.logcumsumexp(x[:-1], 0, out=x[1:]), Arg(normal(6)))


# ------------------------------------------------------------------ aminmax
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_aminmax_every_dtype(dtype):
    a = tied((3, 5), dtype, seed=7)
    check(lambda lib, x: (lib.aminmax(x), x.aminmax(dim=1), lib.aminmax(x, dim=0, keepdim=True),
                          x.aminmax(keepdim=True)), Arg(a, dtype))


@pytest.mark.parametrize("shape", [(), (1,), (4,), (3, 0), (0, 4), (2, 3, 4)])
def test_aminmax_shapes_and_dims(shape):
    a = Arg(tied(shape, "float32", seed=8), "float32")
    for dim in [None] + list(range(-len(shape), max(len(shape), 1))):
        for keepdim in (False, True):
            check(lambda lib, x: lib.aminmax(x, dim=dim, keepdim=keepdim), a)


def test_aminmax_non_contiguous():
    a = tied((6, 5), "int32", seed=9)
    check(lambda lib, x: (x.aminmax(), x.aminmax(dim=0), x.aminmax(dim=1)), Arg(a, "int32", transpose=True))
    check(lambda lib, x: x[::2, 1:].aminmax(dim=1), Arg(tied((6, 5), "float64", seed=10)))


@torch_2_13
def test_aminmax_gradients():
    """Each gradient is split evenly among the elements equal to its result; a NaN result
    makes every gradient of its slice NaN (torch's scale_grad_by_count)."""
    ties = np.array([[1, 3, 3, 1], [2, 2, 2, 2], [0, np.nan, 5, 1]])
    check(lambda lib, x: lib.aminmax(x, dim=1), Arg(ties, requires_grad=True))
    check(lambda lib, x: lib.aminmax(x), Arg(ties[:2], requires_grad=True))
    check(lambda lib, x: lib.aminmax(x).max, Arg(ties, "float32", requires_grad=True))
    check(lambda lib, x: lib.aminmax(x, dim=0, keepdim=True).min, Arg(distinct((3, 4)), requires_grad=True))
    check(lambda lib, x: x.aminmax(), Arg(np.array(2.0), requires_grad=True))
    check(lambda lib, x: x.aminmax(dim=1), Arg(np.zeros((0, 3)), requires_grad=True))
    gradcheck(lambda lib, x: lib.aminmax(x, dim=1).min * 2 + lib.aminmax(x, dim=1).max, distinct((3, 4)))


def test_aminmax_errors_and_out():
    for fn in (lambda lib, x: lib.aminmax(x), lambda lib, x: x.aminmax(keepdim=True),
               lambda lib, x: x.aminmax(dim=0), lambda lib, x: x.aminmax(dim=2),
               lambda lib, x: x.aminmax(dim=(1,)), lambda lib, x: x.aminmax(dim=1.0)):
        check(fn, Arg(np.zeros((0, 3))))
    check(lambda lib, x: lib.aminmax(x, dim=1), Arg(np.zeros((2, 0))))
    check(lambda lib, x: lib.aminmax(x, dim=1), Arg(np.zeros(())))
    check(lambda lib, x, lo, hi: lib.aminmax(x, dim=1, out=(lo, hi)) + (lo, hi),
          Arg(tied((3, 4), "int16"), "int16"), Arg(np.zeros(0, np.int16)), Arg(np.zeros(3, np.int16)))
    check(lambda lib, x, lo, hi: lib.aminmax(x, out=(lo, hi)),
          Arg(tied((3, 4), "float32")), Arg(np.zeros(())), Arg(np.zeros((), np.float32)))
    result = tritensor.aminmax(tritensor.tensor([1.0, 4.0], device=DEVICE))
    assert repr(result).startswith("torch.return_types.aminmax(") and result.min is result[0]
    assert result.max.item() == 4.0


# ------------------------------------------------------------------ hypothesis
@settings(max_examples=25)
@given(st.data())
def test_scans_hypothesis(data):
    ndim = data.draw(st.integers(0, 3))
    shape = tuple(data.draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "uint8", "float16"]))
    a = tied(shape, dtype, seed=data.draw(st.integers(0, 2**16)))
    t, tt = make_pair(Arg(a, dtype))
    def ops(lib, x):  # aminmax over all elements has no identity: only non-empty inputs
        return (lib.cummax(x, dim), lib.cummin(x, dim)) + ((lib.aminmax(x),) if x.numel() else ())
    assert_same(ops(torch, t), ops(tritensor, tt))
    if dtype in FLOAT_DTYPES:
        assert_same(torch.logcumsumexp(t, dim), tritensor.logcumsumexp(tt, dim))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_value_scans_by_rows_and_along_a_middle_dim(dtype):
    """cumsum/cumprod/logcumsumexp along the last dim (rows, threaded when large) and along a
    middle dim of a contiguous tensor (the CPU runs the inner runs, vectorised), with a
    result dtype; float rows accumulate in float64 and round once; a sum starting at -0.0
    gives 0.0 as torch's (a product keeps -0.0)."""
    a = normal((3, 4, 20)) if dtype in FLOAT_DTYPES else np.random.default_rng(1).integers(0, 3, (3, 4, 20))
    if dtype in FLOAT_DTYPES:
        a[:, 0] = -0.0
        a[1, 2, 3] = np.nan
    floating = dtype in FLOAT_DTYPES
    check(lambda lib, t: (t.cumsum(1), t.cumsum(0), t.cumsum(-1), t.cumprod(1), t.cumprod(0),
                          t.cumsum(1, dtype=lib.float64),
                          t.cumsum(0, dtype=lib.int64) if not floating else t[0])
          + ((t.logcumsumexp(1), t.logcumsumexp(0), t.logcumsumexp(-1)) if floating else ()),
          Arg(a.astype(np.float32) if dtype == "bfloat16" else a.astype(dtype), dtype))
    if dtype == "float32":
        check(lambda lib, t: (t.cumsum(0), t.cumsum(1)), Arg(normal((700, 800))))
