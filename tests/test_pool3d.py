"""3-D pools, the ``*_with_indices`` pools, max unpooling, LP pooling and BatchNorm3d against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (DEVICE, Arg, assert_same, check, compare_modules, distinct, gradcheck, module_pair, tied,
                     torch_2_13)

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


def same_error(fn):
    """``fn(lib)`` raises the same exception type and message in both libraries."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(type(expected.value)) as actual:
        fn(tritensor)
    assert str(actual.value) == str(expected.value)


# ---------------------------------------------------------------------------- max pool 3d
MAXPOOL3D = [  # kernel_size, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True),
    ((2, 3, 1), (1, 2, 1), (1, 1, 0), 1, False), (2, 3, 0, 1, True),
    ((3, 2, 2), 1, (1, 1, 0), (1, 2, 1), True), (2, (2, 1, 3), 1, 2, False),
]


@pytest.mark.parametrize("k, s, p, d, ceil", MAXPOOL3D)
def test_max_pool3d(k, s, p, d, ceil):
    x = Arg(distinct((2, 2, 5, 4, 6), seed=1), requires_grad=True)
    check(lambda lib, x: F(lib).max_pool3d(x, k, s, p, d, ceil, return_indices=True), x)
    check(lambda lib, x: F(lib).max_pool3d(x, k, s, p, d, ceil), x)
    check(lambda lib, x: F(lib).max_pool3d(x, k, s, p, d, ceil, return_indices=True),
          Arg(distinct((2, 5, 4, 6), seed=2), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16",
                                   "int8", "uint8"])
def test_max_pool3d_dtypes_ties_nan(dtype):
    """Ties pick the first max and a window with NaN its last NaN, as torch; indices compared too."""
    x = Arg(tied((2, 2, 4, 5, 4), dtype, seed=3), dtype)
    check(lambda lib, x: F(lib).max_pool3d(x, 2, 1, 1, return_indices=True), x)
    check(lambda lib, x: F(lib).max_pool3d(x, (3, 2, 2), 2, ceil_mode=True, return_indices=True), x)
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, (3, 2, 3), return_indices=True), x)


def test_max_pool2d_and_1d_nan_picks_the_last_nan():
    x = np.array([np.nan, 1.0, np.nan, 2.0, 5.0, np.nan, -np.inf, -np.inf, 3.0])
    check(lambda lib, x: F(lib).max_pool1d(x, 3, return_indices=True),
          Arg(x.reshape(1, 1, 9), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool2d(x, (1, 3), return_indices=True),
          Arg(x.reshape(1, 1, 1, 9), requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, (1, 2), return_indices=True),
          Arg(x.reshape(1, 1, 1, 9), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool3d(x, 2, return_indices=True),
          Arg(tied((1, 2, 4, 4, 4), "float64", seed=4), requires_grad=True))


def test_max_pool3d_noncontiguous_empty_inf():
    check(lambda lib, x: F(lib).max_pool3d(x.permute(3, 2, 1, 0), 2, 1, 1, return_indices=True),
          Arg(distinct((4, 3, 5, 2)), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool3d(x, 2, return_indices=True),
          Arg(randn(0, 2, 4, 4, 4), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool3d(x, 2, padding=1, return_indices=True),
          Arg(np.full((1, 1, 2, 2, 2), -np.inf), requires_grad=True))


def test_max_pool_window_of_padding_only():
    """Dilation can make a window skip the input along a dim: its value is -inf and its index
    torch's search start, past the plane (torch's backward then writes out of bounds; here that
    gradient is dropped)."""
    check(lambda lib, x: F(lib).max_pool2d(x, 2, (3, 1), (1, 0), (2, 1), return_indices=True),
          distinct((2, 1, 1, 2)))
    check(lambda lib, x: F(lib).max_pool3d(x, 2, (1, 3, 1), (0, 1, 0), (1, 2, 1), return_indices=True),
          distinct((1, 2, 2, 1, 3)))
    indices = torch.nn.functional.max_pool2d(torch.tensor(distinct((2, 1, 1, 2))), 2, (3, 1), (1, 0), (2, 1),
                                             return_indices=True)[1]
    assert bool((indices >= 2).all())  # past the (1, 2) plane
    x = tritensor.tensor(distinct((2, 1, 1, 2)), device=DEVICE, requires_grad=True)
    F(tritensor).max_pool2d(x, 2, (3, 1), (1, 0), (2, 1)).sum().backward()
    assert_same(torch.zeros(2, 1, 1, 2, dtype=torch.float64), x.grad)


def test_adaptive_pools_keep_inf_and_nan_in_their_windows():
    x = distinct((2, 2, 5, 6, 4), seed=15)
    x[0, 0, 0, 0, 0], x[0, 1, 4, 5, 3], x[1, 0, 2, 3, 1] = np.inf, -np.inf, np.nan
    for n in (1, 2, 3):
        part = x.reshape(x.shape[:2] + (-1,)) if n == 1 else x[..., 0] if n == 2 else x
        part = Arg(part, requires_grad=True)
        check(lambda lib, x: getattr(F(lib), f"adaptive_avg_pool{n}d")(x, 3), part)
        check(lambda lib, x: getattr(F(lib), f"adaptive_max_pool{n}d")(x, 3, True), part)


def test_max_pool3d_gradcheck():
    gradcheck(lambda lib, x: F(lib).max_pool3d(x, 2, 1, 1, ceil_mode=True), distinct((1, 1, 3, 3, 4), seed=5))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_pool_with_indices_functionals(n):
    """The ``*_with_indices`` functionals return (values, indices) whatever ``return_indices``."""
    x = Arg(distinct((2, 3) + (5,) * n, seed=n), requires_grad=True)
    check(lambda lib, x: getattr(F(lib), f"max_pool{n}d_with_indices")(x, 2, 1, 1, 1, True), x)
    check(lambda lib, x: getattr(F(lib), f"adaptive_max_pool{n}d_with_indices")(x, 3, False), x)


def test_top_level_aliases():
    x = Arg(distinct((2, 3, 4, 5, 6)), requires_grad=True)
    check(lambda lib, x: lib.max_pool3d(x, 2, 1, 1, 1, True), x)
    check(lambda lib, x: lib.max_pool1d_with_indices(x[0, 0], 3, 2, 1), x)
    check(lambda lib, x: lib.adaptive_max_pool1d(x[0, 0], 4), x)
    for name in ("max_pool3d", "max_pool1d_with_indices", "adaptive_max_pool1d"):
        assert hasattr(tritensor, name)


@pytest.mark.parametrize("n", [2, 3])
def test_unbatched_pools_record_no_squeeze(n):
    """torch's pool nodes take an unbatched input as it is: the grad_fn is the pool's."""
    x = Arg(distinct((3,) + (5,) * n, seed=14), requires_grad=True)
    check(lambda lib, x: getattr(F(lib), f"max_pool{n}d")(x, 2, 1, 1, return_indices=True), x)
    check(lambda lib, x: getattr(F(lib), f"avg_pool{n}d")(x, 3, 2, 1, True, False), x)
    check(lambda lib, x: getattr(F(lib), f"adaptive_max_pool{n}d")(x, 3, True), x)
    check(lambda lib, x: getattr(F(lib), f"adaptive_avg_pool{n}d")(x, 3), x)


@settings(max_examples=10, deadline=None)
@given(st.tuples(*[st.integers(2, 5)] * 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
       st.integers(1, 2), st.booleans(), st.booleans(), st.tuples(*[st.integers(1, 6)] * 3))
def test_pools3d_hypothesis(size, k, s, p, d, ceil, count_include_pad, adaptive_size):
    """Max, average and adaptive 3-D pools over random geometries (values without ties)."""
    x = Arg(distinct((1, 2) + size, seed=sum(size)), requires_grad=True)
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, adaptive_size, return_indices=True), x)
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, adaptive_size), x)
    if 2 * p > d * (k - 1) + 1 or d * (k - 1) + 1 > min(size) + 2 * p:
        return
    check(lambda lib, x: F(lib).max_pool3d(x, k, s, p, d, ceil, return_indices=True), x)
    if 2 * p <= k:
        check(lambda lib, x: F(lib).avg_pool3d(x, k, s, p, ceil, count_include_pad), x)


# ---------------------------------------------------------------------------- average pool 3d
AVGPOOL3D = [  # kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
    (3, 2, 1, True, True, None), (3, 2, 1, True, False, None),
    ((2, 3, 1), (1, 2, 1), (1, 1, 0), True, False, None),
    (2, 3, 1, True, True, None), (3, 2, 1, False, True, 5), ((1, 2, 3), 2, 0, True, True, 4),
]


@pytest.mark.parametrize("k, s, p, ceil, cip, div", AVGPOOL3D)
def test_avg_pool3d(k, s, p, ceil, cip, div):
    def run(lib, x):
        return F(lib).avg_pool3d(x, k, s, p, ceil, cip, div)
    check(run, Arg(randn(2, 2, 5, 4, 6), requires_grad=True))
    check(run, Arg(randn(2, 5, 4, 6), requires_grad=True))


@pytest.mark.parametrize("k, s, p, ceil, cip, div", AVGPOOL3D[2:7] + AVGPOOL3D[8:])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_avg_pool_int64_truncates(n, k, s, p, ceil, cip, div):
    """torch's CPU build averages int64 inputs with a truncating division (not the other integers)."""
    k, s, p = ([v[-1] if isinstance(v, tuple) else v for v in (k, s, p)] if n == 1 else
               [v[-2:] if isinstance(v, tuple) and n == 2 else v for v in (k, s, p)])
    x = Arg(rng.integers(-20, 20, (2, 2) + (5,) * n), "int64")
    if n == 1:
        check(lambda lib, x: F(lib).avg_pool1d(x, k, s, p, ceil, cip), x)
    else:
        check(lambda lib, x: getattr(F(lib), f"avg_pool{n}d")(x, k, s, p, ceil, cip, div), x)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int32", "uint8", "bool"])
def test_avg_pool3d_dtypes(dtype):
    """float32/float64 (and int64 above); torch's CPU build has no 16-bit avg_pool3d."""
    x = Arg(rng.integers(0, 5, (2, 2, 4, 5, 3)).astype(np.float64 if dtype != "bool" else bool), dtype)
    check(lambda lib, x: F(lib).avg_pool3d(x, 2, 1, 1, count_include_pad=False), x)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_avg_pool2d_16_bit_divisors(dtype):
    """Windows of different sizes (a divisor per window) in 16-bit, forward and backward."""
    check(lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, True, False),
          Arg(randn(2, 2, 6, 7), dtype, requires_grad=True))


def test_avg_pool3d_noncontiguous_empty_gradcheck():
    check(lambda lib, x: F(lib).avg_pool3d(x.permute(3, 2, 1, 0), 2, ceil_mode=True),
          Arg(randn(5, 4, 3, 2), requires_grad=True))
    check(lambda lib, x: F(lib).avg_pool3d(x, 2), Arg(randn(0, 2, 4, 4, 4), requires_grad=True))
    gradcheck(lambda lib, x: F(lib).avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
              randn(1, 1, 4, 3, 5))


# ---------------------------------------------------------------------------- adaptive 3d
ADAPTIVE3D = [1, 2, (2, 3, 4), (5, 4, 6), (2, None, 3), (None, None, 1), (7, 5, 9), (1, 1, 2), (0, 2, 2)]


def _empty_output(size):
    """torch's adaptive backward refuses an empty output (the forward is compared alone)."""
    return isinstance(size, tuple) and 0 in size


@pytest.mark.parametrize("size", ADAPTIVE3D)
def test_adaptive_max_pool3d(size):
    grad = not _empty_output(size)
    x = Arg(distinct((2, 2, 5, 4, 6), seed=6), requires_grad=True)
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, size, return_indices=True), x, grad=grad)
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, size), Arg(distinct((2, 5, 4, 6)), requires_grad=True),
          grad=grad)


@pytest.mark.parametrize("size", ADAPTIVE3D)
def test_adaptive_avg_pool3d(size):
    grad = not _empty_output(size)
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, size), Arg(randn(2, 2, 5, 4, 6), requires_grad=True),
          grad=grad)
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, size), Arg(randn(2, 5, 4, 6), requires_grad=True),
          grad=grad)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "uint8"])
def test_adaptive_pool3d_dtypes_noncontiguous_empty(dtype):
    x = rng.integers(-4, 5, (2, 2, 3, 5, 4)).astype(np.float64 if dtype != "uint8" else np.uint8)
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 3, 3)), Arg(x, dtype))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x.permute(3, 2, 1, 0), 2), Arg(x[0], dtype))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, 2), Arg(x[:0], dtype))
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x.permute(3, 2, 1, 0), 2)[0], Arg(x[0], dtype))
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, 3, 3), return_indices=True)[0], Arg(x[:0], dtype))


def test_adaptive_pool3d_gradcheck():
    gradcheck(lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 3, 2)), randn(1, 1, 3, 4, 5))
    gradcheck(lambda lib, x: F(lib).adaptive_avg_pool3d(x, (1, 2, 5)), randn(1, 1, 3, 4, 5))  # side by side
    gradcheck(lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, 3, 2)), distinct((1, 1, 3, 4, 5), seed=7))


def test_adaptive_avg_pool_of_one_is_a_mean_before_any_input_check():
    """torch's adaptive average of output 1 is ``mean`` over the last dims, whatever the rank."""
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, 1), Arg(randn(3, 4), requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, 1), Arg(randn(2, 2, 3, 4, 2, 2), requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, 1), Arg(randn(2, 0, 3, 4, 2), requires_grad=True))


# ---------------------------------------------------------------------------- errors
POOL3D_ERRORS = [
    (lambda lib, x: F(lib).max_pool3d(x, 2), (2, 4, 4)),                          # rank
    (lambda lib, x: F(lib).max_pool3d(x, 2), (1, 1, 2, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, 2), (2, 0, 4, 4, 4)),                    # empty channels
    (lambda lib, x: F(lib).max_pool3d(x, 2), (2, 1, 0, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, 3), (1, 1, 4, 2, 4)),                    # output too small
    (lambda lib, x: F(lib).max_pool3d(x, 2, padding=(0, 2, 0)), (1, 1, 8, 8, 8)),  # pad > kernel / 2
    (lambda lib, x: F(lib).max_pool3d(x, 2, stride=0), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, 2, dilation=0), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, 0), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, 2, padding=-1), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool3d(x, (2, 2)), (1, 1, 4, 4, 4)),                # kernel of 2 dims
    (lambda lib, x: F(lib).max_pool3d(x > 0, 2), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).max_pool2d(x, (2, 2, 2)), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).max_pool2d(x, 3, 1, 2, 2), (1, 1, 8, 8)),              # pad > kernel / 2, dilated
    (lambda lib, x: F(lib).max_pool1d(x, 3, 1, 2, 2), (1, 1, 8)),
    (lambda lib, x: F(lib).max_pool3d(x, 3, 1, (0, 2, 0), 2), (1, 1, 8, 8, 8)),
    (lambda lib, x: F(lib).avg_pool3d(x, 2), (2, 4, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x, 2), (2, 0, 4, 4, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x, 3), (1, 1, 4, 2, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x, 2, padding=2), (1, 1, 8, 8, 8)),
    (lambda lib, x: F(lib).avg_pool3d(x, 3, 1, 1), (1, 1, 2, 3, 3)),              # kernel > input (padded)
    (lambda lib, x: F(lib).avg_pool3d(x, 2, stride=0), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x, 2, divisor_override=0), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x, (2, 2)), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).avg_pool3d(x.half(), 2), (1, 1, 4, 4, 4)),
    (lambda lib, x: F(lib).avg_pool2d(x.int(), 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x, 2), (2, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x, 2), (2, 1, 0, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, -1, 2)), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, 2)), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x.long(), 2), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, None, 2)), (4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x, 2), (2, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x, 2), (2, 1, 0, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, -1, 2)), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 2)), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x.long(), 2), (1, 1, 3, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x.long(), 1), (1, 1, 3, 4, 4)),    # mean's error
    (lambda lib, x: F(lib).adaptive_avg_pool3d(x, 1), (3, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, (1, None)), (3, 4)),
]


@pytest.mark.parametrize("fn, shape", POOL3D_ERRORS)
def test_pool3d_errors(fn, shape):
    check(fn, randn(*shape))


# ---------------------------------------------------------------------------- max unpool
UNPOOL = [  # n, input spatial size, kernel_size, stride, padding, output_size
    (1, (8,), 2, None, 0, None), (1, (9,), 3, 2, 1, None), (1, (9,), 3, 2, 1, (10,)),
    (2, (4, 6), 2, None, 0, None), (2, (5, 7), 2, None, 0, (5, 7)), (2, (5, 7), 3, 2, 1, None),
    (2, (6, 5), (3, 2), (2, 1), (1, 0), (2, 3, 7, 5)), (2, (5, 5), 3, 1, 1, None),
    (3, (4, 4, 6), 2, None, 0, None), (3, (5, 4, 5), (3, 2, 3), (2, 2, 1), (1, 0, 1), (5, 4, 5)),
]


@pytest.mark.parametrize("n, size, k, s, p, out", UNPOOL)
def test_max_unpool(n, size, k, s, p, out):
    def run(lib, x):
        values, indices = getattr(F(lib), f"max_pool{n}d")(x, k, s, p, return_indices=True)
        return getattr(F(lib), f"max_unpool{n}d")(values, indices, k, s, p, out)
    check(run, Arg(distinct((2, 3) + size, seed=n), requires_grad=True))
    check(run, Arg(distinct((3,) + size, seed=n), requires_grad=True))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_values_as_leaves_gradcheck_and_empty_batch(n):
    size = (4, 3, 4)[-n:]
    x = distinct((1, 2) + size, seed=8)
    _, indices = getattr(torch.nn.functional, f"max_pool{n}d")(torch.tensor(x), 2, return_indices=True)
    indices = indices.numpy()
    values = randn(*indices.shape)
    check(lambda lib, v, i: getattr(F(lib), f"max_unpool{n}d")(v, i, 2, output_size=size),
          Arg(values, requires_grad=True), Arg(indices, "int64"))
    check(lambda lib, v, i: getattr(F(lib), f"max_unpool{n}d")(v, i, 2, output_size=size),
          Arg(values[:0], requires_grad=True), Arg(indices[:0], "int64"))
    check(lambda lib, v, i: getattr(F(lib), f"max_unpool{n}d")(v, i, 2, output_size=size),  # unbatched, C = 0
          Arg(values[0, :0], requires_grad=True), Arg(indices[0, :0], "int64"))
    check(lambda lib, v, i: getattr(F(lib), f"max_unpool{n}d")(v.transpose(0, 1).contiguous().transpose(0, 1),
                                                                 i, 2, output_size=size),
          Arg(values, requires_grad=True), Arg(indices, "int64"))
    i = tritensor.tensor(indices, device=DEVICE)
    gradcheck(lambda lib, v: getattr(F(lib), f"max_unpool{n}d")(v, i, 2, output_size=size), values)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "uint8", "bool"])
def test_max_unpool_dtypes(dtype):
    values = rng.integers(0, 2, (2, 2, 2, 3)).astype(bool if dtype == "bool" else np.float64)
    indices = np.tile(np.arange(6).reshape(2, 3) * 2, (2, 2, 1, 1))
    check(lambda lib, v, i: F(lib).max_unpool2d(v, i, 2), Arg(values, dtype), Arg(indices, "int64"))
    check(lambda lib, v, i: F(lib).max_unpool3d(v.unsqueeze(2), i.unsqueeze(2), (1, 2, 2)),
          Arg(values, dtype), Arg(indices, "int64"))


UNPOOL_ERRORS = [  # on the (2, 3, 2, 3) max_pool2d of a (2, 3, 4, 6) input
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, output_size=(6, 5)),              # outside a stride
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, output_size=(5,)),                # length
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, output_size=(1, 5, 5)),
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, output_size=[4, 9]),
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 3, stride=1, padding=3),              # negative size
    lambda lib, v, i: F(lib).max_unpool1d(v[0, 0], i[0, 0], 2, output_size=(9,)),
    lambda lib, v, i: F(lib).max_unpool3d(v, i, 2, output_size=(9, 4, 6)),
]


@pytest.mark.parametrize("call", UNPOOL_ERRORS)
def test_max_unpool_output_size_errors_are_torchs(call):
    """torch raises these in Python: same type (ValueError) and the same message."""
    v, i = torch.nn.functional.max_pool2d(torch.tensor(distinct((2, 3, 4, 6))), 2, return_indices=True)

    def run(lib):
        device = DEVICE if lib is tritensor else "cpu"
        return call(lib, *(lib.tensor(t.numpy(), device=device) for t in (v, i)))
    same_error(run)


@pytest.mark.parametrize("fn", [
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, output_size=5),                   # not a sequence
    lambda lib, v, i: F(lib).max_unpool2d(v, i + 100, 2),                            # index out of range
    lambda lib, v, i: F(lib).max_unpool2d(v, i - 100, 2),
    lambda lib, v, i: F(lib).max_unpool2d(v, i.int(), 2),                            # index dtype
    lambda lib, v, i: F(lib).max_unpool2d(v, i.float(), 2),
    lambda lib, v, i: F(lib).max_unpool2d(v, i[:, :, :1], 2),                        # shapes differ
    lambda lib, v, i: F(lib).max_unpool2d(v[0, 0], i[0, 0], 2),                      # rank
    lambda lib, v, i: F(lib).max_unpool1d(v, i, 2),
    lambda lib, v, i: F(lib).max_unpool3d(v[0], i[0], 2),
    lambda lib, v, i: F(lib).max_unpool2d(v[:, :0], i[:, :0], 2),                    # empty channels
    lambda lib, v, i: F(lib).max_unpool2d(v[:, :, :0], i[:, :, :0], 2),
    lambda lib, v, i: F(lib).max_unpool2d(v.long(), i, 2),                           # dtype
    lambda lib, v, i: F(lib).max_unpool3d(v.unsqueeze(2) > 0, i.unsqueeze(2), (1, 2, 2)),
    lambda lib, v, i: F(lib).max_unpool2d(v, i, 2, padding=1),                       # index beyond the planes
    lambda lib, v, i: F(lib).max_unpool2d(v[..., :1, :1], i[..., :1, :1] * 0, 2, padding=1),  # empty planes
])
def test_max_unpool_errors(fn):
    v, i = torch.nn.functional.max_pool2d(torch.tensor(distinct((2, 3, 4, 6))), 2, return_indices=True)
    check(fn, v.numpy(), Arg(i.numpy(), "int64"))


# ---------------------------------------------------------------------------- LP pool
LPPOOL = [  # norm_type, kernel_size, stride, ceil_mode
    (2, 2, None, False), (1, 3, 2, True), (3, 2, 1, False), (1.5, (2, 3, 2), (1, 2, 1), False),
    (float("inf"), 2, 1, True), (-float("inf"), 3, 2, False), (2.0, (3, 1, 2), 2, True),
]


@pytest.mark.parametrize("p, k, s, ceil", LPPOOL)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_lp_pool(n, p, k, s, ceil):
    """Negative averages of odd powers give NaN, as torch's composition; gradients compared too."""
    k, s = (v if not isinstance(v, tuple) else (v[-1] if n == 1 else v[-n:]) for v in (k, s))

    def run(lib, x):
        return getattr(F(lib), f"lp_pool{n}d")(x, p, k, s, ceil)
    check(run, Arg(distinct((2, 2) + (5, 4, 6)[-n:], seed=9), requires_grad=True))
    check(run, Arg(np.abs(distinct((2,) + (5, 4, 6)[-n:], seed=10)) + 0.5, requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64", "int32"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_lp_pool_dtypes(n, dtype):
    x = Arg(rng.integers(-3, 4, (2, 2) + (4,) * n).astype(np.float64), dtype)
    check(lambda lib, x: getattr(F(lib), f"lp_pool{n}d")(x, 2, 2), x)
    check(lambda lib, x: getattr(F(lib), f"lp_pool{n}d")(x, 2.0, 2, 1), x)


def test_lp_pool_gradcheck():
    x = np.abs(distinct((1, 1, 3, 4, 4), seed=11)) + 0.5
    gradcheck(lambda lib, x: F(lib).lp_pool3d(x, 3, 2, 1, ceil_mode=True), x)
    gradcheck(lambda lib, x: F(lib).lp_pool2d(x, 1.5, (2, 3)), x[0])


@pytest.mark.parametrize("fn, shape", [
    (lambda lib, x: F(lib).lp_pool3d(x, 2, 2), (2, 4, 4)),
    (lambda lib, x: F(lib).lp_pool1d(x, 2, 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).lp_pool2d(x, 2, 5), (1, 1, 4, 4)),
])
def test_lp_pool_errors(fn, shape):
    check(fn, randn(*shape))


# ---------------------------------------------------------------------------- BatchNorm3d
@pytest.mark.parametrize("kwargs", [{}, dict(momentum=None), dict(affine=False),
                                    dict(track_running_stats=False)])
def test_batch_norm3d(kwargs):
    ref, ours = module_pair("BatchNorm3d", 3, **kwargs)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for _ in range(2):
        compare_modules(ref, ours, randn(2, 3, 3, 2, 4))
    ref.eval(), ours.eval()
    compare_modules(ref, ours, randn(2, 3, 2, 2, 3))


def test_batch_norm3d_checks_the_rank():
    for shape in ((2, 3, 4, 4), (3, 4, 4, 4, 4, 4)):
        same_error(lambda lib: lib.nn.BatchNorm3d(3)(lib.zeros(shape)))


# ---------------------------------------------------------------------------- modules




@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("MaxPool3d", (3, 2, 1), dict(ceil_mode=True), (2, 2, 5, 4, 5)),
    ("MaxPool3d", (2,), dict(return_indices=True), (2, 4, 4, 5)),
    ("AvgPool3d", (3, 2, 1), dict(count_include_pad=False), (2, 2, 5, 4, 5)),
    ("AvgPool3d", (2,), dict(divisor_override=3), (2, 4, 4, 5)),
    ("AdaptiveMaxPool3d", ((2, None, 3), True), {}, (2, 2, 5, 4, 5)),
    ("AdaptiveAvgPool3d", ((2, 3, 1),), {}, (2, 2, 5, 4, 5)),
    ("LPPool1d", (2, 3), {}, (2, 3, 7)),
    ("LPPool2d", (1.5, (2, 3), 1, True), {}, (2, 3, 5, 5)),
    ("LPPool3d", (float("inf"), 2), {}, (2, 2, 4, 4, 4)),
])
def test_modules_forward_backward(name, args, kwargs, shape):
    x = np.abs(distinct(shape, seed=12)) + 0.5 if name.startswith("LP") else distinct(shape, seed=12)
    compare_modules(*module_pair(name, *args, **kwargs), x)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_modules(n):
    size = (4, 6, 4)[-n:]
    pool_ref, pool = module_pair(f"MaxPool{n}d", 2, return_indices=True)
    unpool_ref, unpool = module_pair(f"MaxUnpool{n}d", 2)
    x = distinct((2, 2) + size, seed=13)
    v_ref, i_ref = pool_ref(torch.tensor(x))
    v, i = pool(tritensor.tensor(x, device=DEVICE))
    assert_same(unpool_ref(v_ref, i_ref), unpool(v, i))
    assert_same(unpool_ref(v_ref, i_ref, output_size=(2, 2) + size), unpool(v, i, output_size=(2, 2) + size))


REPRS = [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((2, 3, 1), 1, (1, 0, 0), 2, True, True), {}),
    ("AvgPool3d", (2,), {}),
    ("AvgPool3d", ((2, 3, 1), 1, 1, True, False, 3), {}),
    ("AdaptiveMaxPool3d", (2,), {}),
    ("AdaptiveMaxPool3d", ((2, None, 3), True), {}),
    ("AdaptiveAvgPool3d", ((2, None, 1),), {}),
    ("AdaptiveAvgPool3d", (1,), {}),
    ("MaxUnpool1d", (2,), {}),
    ("MaxUnpool1d", ((2,), 3, 1), {}),
    ("MaxUnpool2d", (2,), {}),
    ("MaxUnpool2d", ((2, 3), 1, (1, 0)), {}),
    ("MaxUnpool3d", (2,), {}),
    ("MaxUnpool3d", (2,), dict(stride=[1, 2, 1], padding=1)),
    ("LPPool1d", (2, 3), {}),
    ("LPPool2d", (1.5, (2, 3), 1, True), {}),
    ("LPPool3d", (float("inf"), 2), {}),
    ("BatchNorm3d", (4,), {}),
    ("BatchNorm3d", (4,), dict(momentum=None, affine=False, track_running_stats=False)),
]


@torch_2_13
@pytest.mark.parametrize("name, args, kwargs", REPRS)
def test_module_repr(name, args, kwargs):
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
