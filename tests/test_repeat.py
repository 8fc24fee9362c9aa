"""repeat, tile and repeat_interleave against torch: values, dtypes, shapes, gradients, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from harness import ALL_DTYPES, Arg, check, dev, gradcheck

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("float16", "bfloat16"):
        return rng.standard_normal(shape)
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_repeat_values_over_dtypes(dtype):
    x = Arg(data(2, 3, dtype=dtype), dtype)
    check(lambda lib, t: (t.repeat(2, 1), t.repeat(3, 1, 2), lib.tile(t, (2,)), t.tile(2, 1, 1),
                          lib.repeat_interleave(t, 2), t.repeat_interleave(3, dim=1)), x)


@pytest.mark.parametrize("shape,repeats", [
    ((), ()), ((), (2, 3)), ((0,), (3,)), ((2, 0), (2, 2)), ((3,), (0,)), ((2, 3), (1, 1)),
    ((1, 4), (5, 1)), ((2, 1, 3), (1, 4, 1, 2))])
def test_repeat_shapes_and_gradients(shape, repeats):
    """0-d, empty, zero repeats, repeats of 1, and more repeats than dims (leading dims
    added); the gradient sums every copy (RepeatBackward0)."""
    check(lambda lib, t: t.repeat(*repeats), Arg(data(*shape, dtype="float64"), requires_grad=True))
    check(lambda lib, t: t.repeat(repeats), Arg(data(*shape, dtype="float64"), requires_grad=True))


def test_repeat_non_contiguous_and_expanded_inputs():
    check(lambda lib, t: t.repeat(2, 2), Arg(data(4, 3), transpose=True, requires_grad=True))
    check(lambda lib, t: t[::2, 1:].repeat(1, 3, 2), Arg(data(5, 4), requires_grad=True))
    check(lambda lib, t: t.expand(3, 2).repeat(2, 1), Arg(data(1, 2), requires_grad=True))


@given(shape=st.lists(st.integers(0, 3), max_size=3), extra=st.lists(st.integers(0, 3), max_size=2),
       data_=st.data())
def test_repeat_and_tile_hypothesis(shape, extra, data_):
    repeats = tuple(extra) + tuple(data_.draw(st.integers(0, 3)) for _ in shape)
    dims = tuple(data_.draw(st.lists(st.integers(0, 3), max_size=len(shape) + 1)))
    x = Arg(data(*shape, dtype="float64"), requires_grad=True)
    check(lambda lib, t: (t.repeat(*repeats), lib.tile(t, dims)), x)


def test_repeat_gradcheck():
    gradcheck(lambda lib, t: t.repeat(2, 1, 3) * t.repeat(2, 1, 3), data(2, 3, dtype="float64"))
    gradcheck(lambda lib, t: lib.tile(t, (2, 2)).sin(), data(3, dtype="float64"))


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("repeats", [0, 1, 3])
def test_repeat_interleave_by_an_int(dim, repeats):
    x = Arg(data(2, 3, dtype="float64"), requires_grad=True)
    check(lambda lib, t: lib.repeat_interleave(t, repeats, dim), x)
    xt = Arg(data(4, 2), transpose=True, requires_grad=True)
    check(lambda lib, t: t.repeat_interleave(repeats, dim), xt)


def test_repeat_interleave_by_counts():
    """A tensor of counts (one per slice, or one for all) is an index_select; a counts tensor
    alone gives that index."""
    x = Arg(data(3, 2, dtype="float64"), requires_grad=True)
    check(lambda lib, t: lib.repeat_interleave(t, lib.tensor([2, 0, 1], device=t.device), dim=0), x)
    check(lambda lib, t: lib.repeat_interleave(t, lib.tensor([3], device=t.device), dim=1), x)
    check(lambda lib, t: lib.repeat_interleave(t, lib.tensor(2, device=t.device)), x)
    check(lambda lib, t: t.repeat_interleave(lib.tensor([1, 2, 0], device=t.device), dim=0, output_size=3), x)
    check(lambda lib: lib.repeat_interleave(lib.tensor([1, 2, 0, 3], device=dev(lib))))
    check(lambda lib: lib.repeat_interleave(lib.tensor(5.0, device=dev(lib)), 3))
    check(lambda lib: lib.repeat_interleave(lib.tensor([], dtype=lib.int64, device=dev(lib))))


def test_repeat_interleave_gradcheck():
    gradcheck(lambda lib, t: lib.repeat_interleave(t, 2, dim=1) ** 2, data(2, 3, dtype="float64"))
    gradcheck(lambda lib, t: lib.repeat_interleave(t, lib.tensor([1, 3], device=t.device), dim=0) ** 2,
              data(2, 3, dtype="float64"))


@pytest.mark.parametrize("call", [
    lambda lib, t: t.repeat(2),                                   # fewer repeats than dims
    lambda lib, t: t.repeat(-1, 2),                               # negative
    lambda lib, t: t.repeat(2, 3.0),                              # not an int
    lambda lib, t: lib.tile(t, (-1,)),
    lambda lib, t: lib.repeat_interleave(t, -1),
    lambda lib, t: lib.repeat_interleave(t, 2, dim=2),            # dim out of range
    lambda lib, t: lib.repeat_interleave(t, lib.tensor([1, 2, 3]), dim=0),   # one count per slice
    lambda lib, t: lib.repeat_interleave(t, lib.tensor([[1, 2]]), dim=0),    # counts not 1-D
    lambda lib, t: lib.repeat_interleave(t, lib.tensor([1, -2]), dim=0),     # negative count
    lambda lib, t: lib.repeat_interleave(t, lib.tensor([1.0, 2.0]), dim=0),  # float counts
    lambda lib, t: lib.repeat_interleave(t, lib.tensor([1, 2]), dim=0, output_size=4),
])
def test_repeat_errors_like_torch(call):
    check(call, Arg(data(2, 3)))
