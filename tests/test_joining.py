"""stack / cat and friends against torch: every dim, promotion, errors, gradients."""
import numpy as np
import pytest

from harness import ALL_DTYPES, Arg, check, gradcheck

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("uint8", "int8", "int16", "int32", "int64"):
        return rng.integers(0, 9, shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float64 if dtype in ("float16", "bfloat16") else dtype)


def A(*shape, dtype="float32", grad=False, transpose=False):
    """An input of ``shape``; ``transpose``: a non-contiguous (transposed) view."""
    return Arg(data(*shape, dtype=dtype), dtype, requires_grad=grad, transpose=transpose)


@pytest.mark.parametrize("dim", [-4, -3, -2, -1, 0, 1, 2, 3, 4])
def test_stack_every_dim(dim):
    check(lambda lib, a, b, c: (lib.stack([a, b, c], dim), lib.stack((a, b), dim=dim)),
          A(2, 3, 4), A(2, 3, 4), A(2, 3, 4))


@pytest.mark.parametrize("dim", [-4, -3, -2, -1, 0, 1, 2, 3])
def test_cat_every_dim(dim):
    check(lambda lib, a, b: (lib.cat([a, b], dim), lib.concat((a, a), dim=dim), lib.concatenate([b, a], dim)),
          A(2, 3, 4), A(2, 3, 4))


def test_seed_examples():
    # the tutorial's stack(dim=-1) and cat of two 2x3 tensors at each dim
    x = Arg(np.array([[1, 2, 3], [4, 5, 6]]))
    y = Arg(np.array([[7, 8, 9], [10, 11, 12]]))
    for dim in (0, 1, 2, -1, -3):
        check(lambda lib, a, b: lib.stack((a, b), dim=dim), x, y)
    for dim in (0, 1, -1, -2, 2):
        check(lambda lib, a, b: lib.cat((a, b), dim=dim), x, y)
    check(lambda lib, a, b: lib.stack((a, b[:, :2])), x, y)  # RuntimeError
    check(lambda lib, a, b: lib.stack((a, b), dim=3), x, y)  # IndexError


def test_cat_sizes_along_dim():
    check(lambda lib, a, b, c: (lib.cat([a, b, c]), lib.cat([a, b])), A(2, 3), A(4, 3), A(1, 3))
    check(lambda lib, a, b: lib.cat([a, b], 1), A(3, 2), A(3, 5))
    check(lambda lib, a, b: lib.cat([a, b], 0), A(3, 2), A(3, 5))  # RuntimeError
    check(lambda lib, a, b: lib.cat([a, b], 0), A(3, 2), A(3, 2, 1))  # RuntimeError
    check(lambda lib, a: lib.cat([a, a], 0), A())  # zero-dim RuntimeError
    check(lambda lib, a: lib.cat([a], 0), A(2, 3))
    check(lambda lib, a: lib.stack([a]), A(2, 3))
    check(lambda lib: lib.cat([]))
    check(lambda lib: lib.stack([]))
    check(lambda lib, a: lib.cat(a), A(2, 3))  # TypeError: a tensor is not a list


def test_cat_empty_tensors():
    check(lambda lib, a, b: (lib.cat([a, b]), lib.cat([b, a]), lib.cat([a, b], 1)), A(0, 3), A(2, 3))
    check(lambda lib, a, b: lib.cat([a, b], 1), A(0), A(2, 3))  # legacy 1-D empty is skipped
    check(lambda lib, a, b: lib.cat([a, b]), A(0), A(0))
    check(lambda lib, a: lib.stack([a, a], 1), A(0, 3))


@pytest.mark.parametrize("da", ALL_DTYPES)
@pytest.mark.parametrize("db", ["bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32",
                                "float64"])
def test_cat_stack_promotion(da, db):
    check(lambda lib, a, b: (lib.cat([a, b]), lib.stack([a, b], 1)), A(2, 3, dtype=da), A(2, 3, dtype=db))


def test_cat_zero_dim_promotion_is_by_dtype_only():
    check(lambda lib, a, b: lib.cat([a, b]), A(3, dtype="int64"), A(3, dtype="float16"))
    check(lambda lib, a, b: lib.cat([a, b]), A(3, dtype="int8"), A(3, dtype="uint8"))


def test_noncontiguous_inputs():
    check(lambda lib, a, b: (lib.cat([a, b], 0), lib.cat([a, b], 1), lib.stack([a, b], 2), lib.stack([a, b])),
          A(3, 4, transpose=True), A(3, 4))
    check(lambda lib, a: lib.cat([a[:, ::2], a[:, 1::2]], 0), A(3, 6))
    check(lambda lib, a: lib.cat([a.expand(3, 4), a.expand(2, 4)]), A(1, 4))


def test_large_cat():
    check(lambda lib, a, b: (lib.cat([a, b], 1), lib.stack([a, b], 1)), A(300, 257), A(300, 257))
    check(lambda lib, a, b: lib.cat([a, b], 0), A(40, 3, 70, dtype="bfloat16"), A(40, 3, 70, dtype="float32"))


def test_joins_past_the_threading_threshold():
    """Outputs of 2^19 elements or more copy input by input (threaded runs along dim 0, blocks
    along others, a transposed input read in place) rather than in one numpy call."""
    check(lambda lib, a, b: (lib.cat([a, b], 0), lib.cat([a, b], 1), lib.stack([a, b]), lib.stack([a, b], 2)),
          A(600, 512), A(600, 512, transpose=True))
    check(lambda lib, a, b: lib.cat([a, b], 1), A(600, 512, dtype="int64"), A(600, 512, dtype="int32"))


def test_stack_of_many_tensors():
    """A batch's collate: many small tensors (or 0-d ones) stacked, of mixed dtypes too."""
    rows = [A(5) for _ in range(40)]
    check(lambda lib, *t: (lib.stack(t), lib.stack(t, 1)), *rows)
    scalars = [A(dtype="int64") for _ in range(30)] + [A(dtype="float32")]
    check(lambda lib, *t: lib.stack(t), *scalars)


def test_stack_family():
    v, w = A(3), A(3)
    m, n = A(2, 3), A(2, 3)
    s = A()
    for args in ((v, w), (m, n), (s, s)):
        check(lambda lib, a, b: (lib.hstack([a, b]), lib.vstack([a, b]), lib.row_stack((a, b)),
                                 lib.dstack([a, b]), lib.column_stack([a, b])), *args)
    check(lambda lib, a, b: (lib.hstack([a, b]), lib.vstack([a, b]), lib.dstack([a, b])), A(2, 3, 4),
          A(2, 3, 4))
    check(lambda lib, a, b: lib.column_stack([a, b]), A(2), A(2, 3))
    check(lambda lib, a, b: lib.column_stack([a, b]), A(2, dtype="int64"), A(2, 3))
    check(lambda lib, a, b: lib.vstack([a, b]), A(3), A(4))  # RuntimeError
    check(lambda lib, a, b: lib.hstack([a, b]), A(2, 3), A(3, 3))  # RuntimeError


def test_gradients():
    f64 = dict(dtype="float64", grad=True)
    check(lambda lib, a, b: (lib.cat([a, b], 1), lib.stack([a, b], -1)), A(2, 3, **f64), A(2, 3, **f64))
    check(lambda lib, a, b: lib.cat([a, b, a]), A(2, 3, **f64), A(1, 3, dtype="float64"))
    check(lambda lib, a, b: lib.cat([a, b]), A(2, 3, **f64), A(1, 3, dtype="float32"))  # promoted grad
    check(lambda lib, a, b: (lib.hstack([a, b]), lib.vstack([a, b]), lib.dstack([a, b]),
                             lib.column_stack([a, b])), A(3, **f64), A(3, **f64))
    check(lambda lib, a, b: lib.cat([a, b]), A(0, **f64), A(3, **f64))
    gradcheck(lambda lib, a, b: lib.stack([a * b, a.sin(), b], 1), data(3, 2, dtype="float64"),
              data(3, 2, dtype="float64"))
    gradcheck(lambda lib, a, b: lib.cat([a, b, a], -1), data(2, 2, dtype="float64"),
              data(2, 3, dtype="float64"))


def test_out_argument():
    def f(lib, a, b):
        o = lib.empty(4, 3, device=a.device)
        r = lib.cat([a, b], out=o)
        s = lib.empty(0, device=a.device)
        lib.stack([a, b], 1, out=s)
        return o, r is o, s
    check(f, A(2, 3), A(2, 3))
    check(lambda lib, a: lib.cat([a, a], out=lib.empty(4, 3, dtype=lib.int64, device=a.device)), A(2, 3))
    check(lambda lib, a: lib.cat([a, a], out=lib.empty(4, 3, dtype=lib.float64, device=a.device)),
          A(2, 3, dtype="int64"))

    def stacks(lib, a):
        return tuple(op([a, a], out=lib.empty(0, device=a.device))
                     for op in (lib.hstack, lib.vstack, lib.dstack, lib.column_stack))
    check(stacks, A(2, 3))
