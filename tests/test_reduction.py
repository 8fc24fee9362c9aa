"""Reductions, scans and softmax against torch: values, dtypes, dims, empty/0-d/strided inputs,
NaN, errors, gradients (vs torch and finite differences) and double backward."""

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, FLOAT_DTYPES, INT_DTYPES, Arg, assert_same, check, gradcheck, uniform_data

rng = np.random.default_rng(0)


def data(*args, **kwargs):
    return uniform_data(rng, *args, **kwargs)  # the rng of the moment: conftest.py reseeds it per test


# ops taking any set of dims: name -> fn(lib, x, dim, keepdim)
MULTI_DIM = {
    "sum": lambda lib, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda lib, x, d, k: x.mean(d, keepdim=k),
    "nansum": lambda lib, x, d, k: x.nansum(d, keepdim=k),
    "amax": lambda lib, x, d, k: x.amax(d, keepdim=k),
    "amin": lambda lib, x, d, k: lib.amin(x, d, k),
    "var": lambda lib, x, d, k: x.var(d, keepdim=k),
    "std": lambda lib, x, d, k: x.std(d, keepdim=k),
    "var_biased": lambda lib, x, d, k: x.var(d, unbiased=False, keepdim=k),
    "std_correction": lambda lib, x, d, k: lib.std(x, d, correction=0, keepdim=k),
    "logsumexp": lambda lib, x, d, k: x.logsumexp(d, keepdim=k),
    "norm": lambda lib, x, d, k: x.norm(dim=d, keepdim=k),
    "norm1": lambda lib, x, d, k: x.norm(1, d, k),
    "norm_inf": lambda lib, x, d, k: x.norm(float("inf"), d, k),
    "norm_ninf": lambda lib, x, d, k: x.norm(float("-inf"), d, k),
    "norm0": lambda lib, x, d, k: x.norm(0, d, k),
    "norm3": lambda lib, x, d, k: x.norm(3, d, k),
    "norm_frac": lambda lib, x, d, k: x.norm(0.5, d, k),
    "all": lambda lib, x, d, k: (x > 0).all(d, keepdim=k),
    "any": lambda lib, x, d, k: (x > 0).any(d, keepdim=k),
    "count_nonzero": lambda lib, x, d, k: lib.count_nonzero(x.round(), d),
}
# ops taking one dim
ONE_DIM = {
    "prod": lambda lib, x, d, k: x.prod(d, keepdim=k),
    "max": lambda lib, x, d, k: x.max(d, keepdim=k),
    "min": lambda lib, x, d, k: lib.min(x, d, k),
    "argmax": lambda lib, x, d, k: x.argmax(d, keepdim=k),
    "argmin": lambda lib, x, d, k: lib.argmin(x, d, k),
    "cumsum": lambda lib, x, d, k: x.cumsum(d),
    "cumprod": lambda lib, x, d, k: lib.cumprod(x, d),
    "softmax": lambda lib, x, d, k: x.softmax(d),
    "log_softmax": lambda lib, x, d, k: lib.log_softmax(x, d),
}
# full reductions (no dim argument)
FULL = {
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: lib.mean(x),
    "nansum": lambda lib, x: x.nansum(),
    "prod": lambda lib, x: x.prod(),
    "max": lambda lib, x: x.max(),
    "min": lambda lib, x: lib.min(x),
    "amax": lambda lib, x: x.amax(),
    "amin": lambda lib, x: x.amin(),
    "argmax": lambda lib, x: x.argmax(),
    "argmin": lambda lib, x: x.argmin(),
    "var": lambda lib, x: x.var(),
    "std": lambda lib, x: lib.std(x),
    "norm": lambda lib, x: x.norm(),
    "norm_fro": lambda lib, x: lib.norm(x, "fro"),
    "norm_inf": lambda lib, x: x.norm(float("inf")),
    "all": lambda lib, x: x.all(),
    "any": lambda lib, x: x.any(),
    "count_nonzero": lambda lib, x: x.count_nonzero(),
}
DIFFERENTIABLE_MULTI = [n for n in MULTI_DIM if n not in ("all", "any", "count_nonzero")]
DIFFERENTIABLE_ONE = [n for n in ONE_DIM if not n.startswith("arg")]
DIFFERENTIABLE_FULL = [n for n in FULL if n not in ("all", "any", "count_nonzero", "argmax", "argmin")]


# ------------------------------------------------------------------ values over dims
@pytest.mark.parametrize("name", MULTI_DIM)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, (0, 2), (2, -3), [1], (0, 1, 2), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_multi_dim(name, dim, keepdim):
    if name == "logsumexp" and dim == () and not keepdim:
        dim = (0, 1, 2)  # torch 2.13 fails on logsumexp(x, ()) ("output with shape [] doesn't match")
    check(lambda lib, x: MULTI_DIM[name](lib, x, dim, keepdim), Arg(data((3, 4, 5))))


@pytest.mark.parametrize("name", ONE_DIM)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_one_dim(name, dim, keepdim):
    check(lambda lib, x: ONE_DIM[name](lib, x, dim, keepdim), Arg(data((3, 4, 5), low=0.5, high=1.5)))


@pytest.mark.parametrize("name", FULL)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
def test_full(name, shape):
    check(lambda lib, x: FULL[name](lib, x), Arg(data(shape)))


def test_dim_none_and_keepdim():
    x = Arg(data((2, 3, 4)))
    check(lambda lib, t: (t.sum(None), t.sum(dim=None, keepdim=True), t.mean(None, True), t.amax(None, True),
                          t.var(None, keepdim=True), t.norm(dim=None, keepdim=True), t.argmax(None, True),
                          t.all(None), lib.count_nonzero(t, None)), x)


def test_large_and_long_rows():
    # parallel paths of the backend: many rows, and few rows longer than one chunk
    check(lambda lib, x: (x.sum(1), x.mean(0), x.amax(1), x.var(1), x.logsumexp(1), x.softmax(1)),
          Arg(data((70, 1100), "float32")))
    check(lambda lib, x: (x.sum(1), x.amax(1), x.norm(dim=1), x.sum()), Arg(data((2, 150_000), "float32")))


@pytest.mark.parametrize("row_length", [4096, 100_000])
def test_float32_softmax_of_long_rows_is_accurate(row_length):
    """The float32 row sums accumulate in float32 vector lanes (as torch's kernels do): the
    result stays within float32's tolerance of the float64 softmax; a running float32 sum
    over 100000 terms would not."""
    logits = (np.random.default_rng(row_length).standard_normal((3, row_length)) * 5).astype(np.float32)
    x = tritensor.tensor(logits, device=DEVICE)
    exact = torch.tensor(logits, dtype=torch.float64)
    assert_same(exact.softmax(1).float(), x.softmax(1))
    assert_same(exact.log_softmax(1).float(), x.log_softmax(1))


def test_extreme_gradients_with_nan():
    """amax/amin: a NaN result equals no element, so torch's gradient for that row is NaN;
    max()/min() give it to the NaN."""
    a = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0], [np.nan, np.nan, 0.0]])
    for fn in (lambda lib, x: x.amax(1), lambda lib, x: x.amin(0), lambda lib, x: x.amax(),
               lambda lib, x: x.max(), lambda lib, x: x.min(1).values):
        check(fn, Arg(a, "float32", requires_grad=True))


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("dtype", ("bool",) + INT_DTYPES)
def test_integer_dtypes(dtype):
    x = Arg(data((3, 4), dtype), dtype)
    check(lambda lib, t: (t.sum(), t.sum(1), t.prod(), t.prod(0), t.cumsum(1), t.cumprod(0), t.nansum(),
                          t.count_nonzero(0), t.all(), t.any(1)), x)
    check(lambda lib, t: (t.amax(1), t.amin(), t.max(), t.max(0), t.min(1, True)), x)
    check(lambda lib, t: t.argmax(1), x)  # bool: RuntimeError in both
    for op in ("mean", "var", "std", "norm", "softmax", "log_softmax"):
        check(lambda lib, t: getattr(t, op)(0), x)  # errors for integers
    check(lambda lib, t: (t.logsumexp(1), t.mean(dtype=lib.float64), t.sum(dtype=lib.float32),
                          t.softmax(0, dtype=lib.float64)), x)



@pytest.mark.skipif(DEVICE != "cpu", reason="torch's CUDA scans accumulate in float32 too")
def test_float32_scans_accumulate_in_float64_on_the_cpu():
    """torch's CPU cumsum/cumprod carry a double accumulator: over 7000 rows the float32 result
    is the float64 scan rounded once (a float32 running sum drifted by ~5e-4)."""
    a = np.random.default_rng(9).standard_normal((7000, 3)).astype(np.float32)
    exact = np.cumsum(a.astype(np.float64), 0)
    for lib in (torch, tritensor):
        for got in (lib.tensor(a).cumsum(0), lib.tensor(a.T.copy()).cumsum(1).t()):
            np.testing.assert_allclose(got.numpy(), exact, rtol=0, atol=2e-5)
    check(lambda lib, t: (t.cumsum(0), t.cumprod(0)), Arg(1 + a[:200] / 100))

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_dtypes(dtype):
    x = Arg(data((4, 6), dtype), dtype)
    check(lambda lib, t: (t.sum(), t.sum(0), t.mean(1), t.prod(1), t.amax(0), t.max(1), t.var(1), t.std(),
                          t.norm(), t.norm(1, 0), t.logsumexp(1), t.softmax(1), t.log_softmax(0), t.cumsum(1),
                          t.argmin(0), t.nansum(1)), x)


def test_dtype_argument():
    x = Arg(data((3, 4), "float32"))
    check(lambda lib, t: (t.sum(dtype=lib.float64), t.sum(1, dtype=lib.int32), t.mean(0, dtype=lib.float64),
                          t.prod(dtype=lib.float64), t.cumsum(0, dtype=lib.float64), t.nansum(dtype=lib.float64),
                          t.log_softmax(1, dtype=lib.float64), lib.norm(t, dtype=lib.float64)), x)
    check(lambda lib, t: t.mean(dtype=lib.int64), x)  # RuntimeError


def test_sixteen_bit_mean_does_not_overflow():
    x = np.full((4000,), 60000.0)
    check(lambda lib, t: (t.mean(), t.var(), (t / 100).norm(), t.std(0)), Arg(x, "float16"))


# ------------------------------------------------------------------ 0-d, empty, strided
def test_zero_dim():
    x = Arg(np.asarray(2.5))
    check(lambda lib, t: (t.sum(), t.sum(0), t.sum(-1, keepdim=True), t.mean(0), t.prod(0), t.amax(0),
                          t.max(0), t.min(-1), t.argmax(0), t.argmin(), t.cumsum(0), t.cumprod(-1),
                          t.softmax(0), t.log_softmax(-1), t.logsumexp(0), t.norm(dim=0), t.all(0),
                          t.count_nonzero(0), t.std(0, unbiased=False)), x)
    check(lambda lib, t: t.sum(1), x)  # IndexError
    check(lambda lib, t: t.max(), Arg(np.asarray(2.5), requires_grad=True))
    check(lambda lib, t: (t.max(0)[0], t.cumsum(0), t.softmax(0), t.prod(0), t.logsumexp(0)),
          Arg(np.asarray(-1.5), requires_grad=True))


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
def test_empty(shape):
    x = Arg(np.zeros(shape))
    check(lambda lib, t: (t.sum(), t.sum(0), t.sum(-1), t.prod(), t.prod(-1), t.mean(0), t.all(), t.any(-1),
                          t.count_nonzero(), t.cumsum(-1), t.cumprod(0), t.softmax(-1), t.logsumexp(-1),
                          t.norm(), t.norm(dim=-1), t.nansum()), x)
    check(lambda lib, t: t.mean(), x)
    for fn in (lambda lib, t: t.max(), lambda lib, t: t.amax(), lambda lib, t: t.argmax(),
               lambda lib, t: t.max(0), lambda lib, t: t.amin(-1), lambda lib, t: t.argmin(-1),
               lambda lib, t: t.max(-1), lambda lib, t: t.norm(float("inf"))):
        check(fn, x)  # errors where a dim of size 0 is reduced; empty results otherwise


@pytest.mark.filterwarnings("ignore:std\\(\\)|var\\(\\)")
def test_degrees_of_freedom():
    check(lambda lib, t: (t.var(), t.std(0), t.var(correction=2)), Arg(data((1, 3))))
    check(lambda lib, t: t.var(correction=3), Arg(data((3,))))


def test_noncontiguous():
    x = Arg(data((4, 6)), transpose=True)
    check(lambda lib, t: (t.sum(0), t.sum(1), t.mean(), t.amax(0), t.max(1), t.argmin(0), t.var(1), t.norm(dim=0),
                          t.logsumexp(0), t.softmax(0), t.log_softmax(1), t.cumsum(0), t.cumprod(1), t.prod(0),
                          t.all(1), t.count_nonzero(0)), x)
    y = Arg(data((3, 4, 5)))
    check(lambda lib, t: (t.permute(2, 0, 1).sum(1), t.permute(1, 2, 0).amax((0, 2)), t[:, ::2].mean(1),
                          t[::2, :, 1:4].var((0, 2)), t.transpose(0, 2).softmax(1), t[:, 1:].cumsum(2),
                          t.permute(2, 1, 0).max(1)), y)


# ------------------------------------------------------------------ NaN and infinities
def test_nan_propagation():
    x = data((3, 4))
    x[0, 1] = np.nan
    x[2, 3] = np.nan
    check(lambda lib, t: (t.sum(1), t.mean(0), t.prod(1), t.amax(1), t.amin(0), t.max(1), t.min(0), t.max(),
                          t.argmax(1), t.argmin(), t.var(1), t.logsumexp(1), t.softmax(1), t.cumsum(1),
                          t.norm(dim=1), t.norm(float("inf"), 1), t.nansum(1), t.nansum(), t.nanmean(0)),
          Arg(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_min_and_arg_with_nan_anywhere_in_vector_lanes(dtype):
    """The vectorised max/min sweeps (several accumulators of vector lanes) propagate a NaN
    from any position of rows of every length around the vector width and the arg search's
    block (64), full and per row or column, contiguous and strided; the arg reductions give
    the first NaN or the first of tied extremes, as torch."""
    generator = np.random.default_rng(11)
    for n in (1, 7, 8, 15, 16, 17, 31, 33, 64, 65, 130, 200):
        x = generator.standard_normal((6, n)).round(1)  # ties
        picks = generator.random(x.shape) < 0.04
        x[picks] = generator.choice([np.nan, np.inf, -np.inf], picks.sum())
        x[1, generator.integers(n)] = np.nan
        x[2, -1] = x[2, n // 2] = 9.0  # the maximum, twice, late in the row
        for layout in (Arg(x, dtype), Arg(x, dtype, transpose=True)):
            check(lambda lib, t: (t.max(), t.min(), t.amax(1), t.amin(1), t.amax(0), t.amin(0),
                                  t.norm(float("inf"), 1), t.max(1), t.min(0), t.argmax(0), t.argmin(1),
                                  t.argmax()), layout)


def test_infinities():
    x = np.array([[np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf], [np.inf, -np.inf, 0.0]])
    check(lambda lib, t: (t.sum(1), t.amax(1), t.logsumexp(1), t.softmax(1), t.log_softmax(1),
                          t.norm(dim=1), t.argmax(1)), Arg(x))


# ------------------------------------------------------------------ errors
def test_errors():
    x = Arg(data((3, 4)))
    fns = [lambda lib, t: t.sum(2), lambda lib, t: t.sum((0, 0)), lambda lib, t: t.amax(-3),
           lambda lib, t: t.prod((0, 1)), lambda lib, t: t.max((0, 1)), lambda lib, t: t.argmax((0, 1)),
           lambda lib, t: lib.logsumexp(t), lambda lib, t: t.cumsum(5), lambda lib, t: t.norm("nuc2")]
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 13):
        fns.append(lambda lib, t: t.softmax(None))  # TypeError from 2.13 (RuntimeError in 2.11)
    for fn in fns:
        check(fn, x)


def test_out_argument():
    check(lambda lib, t: (lib.sum(t, 0, out=lib.empty(4, dtype=lib.float64, device=t.device)),
                          lib.amax(t, 1, out=lib.empty(3, dtype=lib.float64, device=t.device))),
          Arg(data((3, 4))))
    check(lambda lib, t: lib.sum(t, 0, out=lib.empty(4, dtype=lib.float32, device=t.device)),
          Arg(data((3, 4))))


def test_return_types():
    import tritensor
    x = tritensor.tensor([[1.0, 5.0], [4.0, 2.0]], device=DEVICE)
    result = x.max(1)
    assert result.values.tolist() == [5.0, 4.0] and result.indices.tolist() == [1, 0]
    values, indices = x.min(0)
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("name", DIFFERENTIABLE_MULTI)
@pytest.mark.parametrize("dim", [1, (0, 2), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_multi_dim_grad(name, dim, keepdim):
    check(lambda lib, x: MULTI_DIM[name](lib, x, dim, keepdim), Arg(data((3, 4, 5)), requires_grad=True))


@pytest.mark.parametrize("name", DIFFERENTIABLE_ONE)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_one_dim_grad(name, dim, keepdim):
    def fn(lib, x):
        out = ONE_DIM[name](lib, x, dim, keepdim)
        return out[0] if name in ("max", "min") else out
    check(fn, Arg(data((3, 4, 5), low=0.5, high=1.5), requires_grad=True))


@pytest.mark.parametrize("name", DIFFERENTIABLE_FULL)
def test_full_grad(name):
    check(lambda lib, x: FULL[name](lib, x), Arg(data((3, 4)), requires_grad=True))


def test_grad_noncontiguous_input():
    check(lambda lib, x: (x.sum(0), x.amax(1), x.var(0), x.softmax(0), x.cumprod(0), x.norm(dim=1)),
          Arg(data((4, 5)), requires_grad=True, transpose=True))


@pytest.mark.parametrize("name", [n for n in DIFFERENTIABLE_MULTI if n not in ("norm0",)])
def test_multi_dim_gradcheck(name):
    gradcheck(lambda lib, x: MULTI_DIM[name](lib, x, (0, 2), False), data((2, 3, 2), low=0.5, high=2)
              * rng.choice([-1, 1], (2, 3, 2)))


@pytest.mark.parametrize("name", DIFFERENTIABLE_ONE)
@pytest.mark.parametrize("dim", [0, 1])
def test_one_dim_gradcheck(name, dim):
    def fn(lib, x):
        out = ONE_DIM[name](lib, x, dim, False)
        return out[0] if name in ("max", "min") else out
    gradcheck(fn, data((3, 4), low=0.5, high=2) * rng.choice([-1, 1], (3, 4)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward_of_every_gradient_layout(dtype, log):
    """Without create_graph the backward is one fused kernel a row: fed a transposed gradient,
    a stride-0 one (a sum's), a 0-d and an empty row set, along the last dim and another."""
    def fn(lib, x):
        f = (lambda t, d: t.log_softmax(d)) if log else (lambda t, d: t.softmax(d))
        return f(x, 1).t() * 1.5, f(x, 0).sum(0), f(x[1, 2], 0), f(x[:, :0], 1), f(x[:0], 0)
    check(fn, Arg(data((5, 7), dtype), requires_grad=True))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_along_a_middle_dim(dtype, log):
    """Along a dim that is not the last of a contiguous tensor (NCHW channels, dim 0) the CPU
    runs along the inner runs, vectorised, split across threads when large: values and
    gradients like torch, forward and backward."""
    def f(t, d):
        return t.log_softmax(d) if log else t.softmax(d)
    check(lambda lib, x: (f(x, 1), f(x, 0), f(x[0], 0), f(x, -2).sum(1)),
          Arg(data((3, 5, 40), dtype), requires_grad=True))
    if dtype == "float32":
        check(lambda lib, x: f(x, 0) * 2, Arg(data((600, 1000), dtype), requires_grad=True))


def test_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [5.0, -1.0, 4.0]])
    for fn in (lambda lib, t: t.max(), lambda lib, t: t.amax(1), lambda lib, t: t.amin(0), lambda lib, t: t.min(),
               lambda lib, t: t.max(1)[0], lambda lib, t: t.min(1, keepdim=True)[0],
               lambda lib, t: t.norm(float("inf"), 1), lambda lib, t: t.amax((0, 1))):
        check(fn, Arg(x, requires_grad=True))
    # central differences split a two-way tie evenly, as amax/max() do
    gradcheck(lambda lib, t: t.amax(1), x)
    gradcheck(lambda lib, t: t.max(), np.array([[1.0, 3.0], [3.0, 2.0]]))


def test_grad_with_zeros():
    x = np.array([[1.0, 0.0, 2.0, 3.0], [0.0, 0.0, 2.0, 1.0], [2.0, -1.0, 0.5, 4.0]])
    check(lambda lib, t: (t.prod(1), t.prod(0), t.cumprod(1), t.cumprod(0), t.norm(dim=1), t.norm(0.5, 1),
                          t.norm(3, 0), t.std(0)), Arg(x, requires_grad=True))
    check(lambda lib, t: t.prod(), Arg(x, requires_grad=True))
    check(lambda lib, t: t.prod(), Arg(x[:1], requires_grad=True))
    gradcheck(lambda lib, t: t.cumprod(1), x)
    gradcheck(lambda lib, t: t.prod(1), x)


def _double_backward(op):
    """Second derivatives: differentiate a function of the (graph-building) first gradient."""
    def fn(lib, x):
        (g,) = lib.autograd.grad(op(lib, x), x, lib.ones_like(op(lib, x)) * 0.7, create_graph=True)
        return (g * g).sum()
    return fn


@pytest.mark.parametrize("op", [
    lambda lib, x: (x * x).sum(), lambda lib, x: (x * x).sum(1), lambda lib, x: (x * x * x).mean(0),
    lambda lib, x: x.softmax(1) * x, lambda lib, x: x.log_softmax(0) * x, lambda lib, x: x.var(1),
    lambda lib, x: x.logsumexp(1), lambda lib, x: x.norm(dim=0), lambda lib, x: x.prod(1),
    lambda lib, x: x.cumsum(1) * x, lambda lib, x: x.amax(1) * x.sum(1)])
def test_double_backward(op):
    check(_double_backward(op), Arg(data((3, 4), low=0.5, high=2), requires_grad=True))


def test_double_backward_gradcheck():
    for op in (lambda lib, x: x.softmax(1), lambda lib, x: (x * x).mean(), lambda lib, x: (x * x).sum(0)):
        def first_grad(lib, x, op=op):
            x = x if x.requires_grad else x.detach().requires_grad_()  # finite-difference calls
            y = op(lib, x)
            weights = lib.arange(y.numel(), dtype=y.dtype, device=y.device).reshape(y.shape) * 0.1 + 0.3
            (g,) = lib.autograd.grad(y, x, weights, create_graph=True)
            return g
        gradcheck(first_grad, data((2, 3)))


def test_binary_max_min_and_moments():
    a, b = Arg(data((3, 4)), requires_grad=True), Arg(data((3, 4)), requires_grad=True)
    check(lambda lib, x, y: (x.max(y), lib.min(x, y)), a, b)
    check(lambda lib, x: (lib.var_mean(x, 1), lib.std_mean(x, (0, 1), correction=0), lib.var_mean(x, True),
                          x.nanmean(), x.nanmean(1, keepdim=True)), Arg(data((3, 4)), requires_grad=True))
    check(lambda lib, x: lib.std_mean(x, 0, keepdim=True)[1], Arg(data((3, 4)), requires_grad=True))
    check(lambda lib, x: lib.var_mean(x, -1, correction=2)[0], Arg(data((3, 4)), requires_grad=True))
    gradcheck(lambda lib, x: lib.std_mean(x, 1)[0] * lib.std_mean(x, 1)[1], data((2, 3)))
    check(lambda lib, x: lib.var_mean(x.half(), 1), Arg(data((3, 4))))


# ---------------------------------------------------------------------------- kept middle dims
MIDDLE_REDUCTIONS = [
    lambda x: x.sum((0, 2, 3)), lambda x: x.mean((0, 2)), lambda x: x.var((0, 2, 3)),
    lambda x: x.std((0, 3), keepdim=True), lambda x: x.amax((0, 2, 3)), lambda x: x.amin((0, 3)),
    lambda x: x.logsumexp((0, 2, 3)), lambda x: x.norm(3, (0, 2, 3)), lambda x: x.norm(float("inf"), (0, 3)),
    lambda x: (x > 0).any((0, 3)), lambda x: (x > -3).all((0, 2, 3)), lambda x: x.count_nonzero((0, 2, 3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", MIDDLE_REDUCTIONS)
def test_reductions_around_kept_middle_dims(fn, dtype):
    """Leading and trailing dims of a large contiguous input reduced around kept middle dims
    (a convolution's bias gradient, batch norm's statistics), which the CPU reduces in place
    without a transposing copy; a NaN and an inf stay in their channels."""
    x = rng.standard_normal((24, 6, 5, 300))
    x[3, 2, 1, 7], x[5, 4, 0, 0] = np.nan, np.inf
    check(lambda lib, t: fn(t), Arg(x, dtype))
    check(lambda lib, t: fn(t), Arg(np.abs(x[:, :, :, :200]), dtype, requires_grad=True))


# ---------------------------------------------------------------------------- reduced middle dims
AROUND_REDUCTIONS = [
    lambda x: x.sum(1), lambda x: x.mean((1, 2)), lambda x: x.var(1), lambda x: x.std((1, 2), keepdim=True),
    lambda x: x.amax(1), lambda x: x.amin((1, 2)), lambda x: x.prod(1), lambda x: x.logsumexp(1),
    lambda x: x.norm(3, (1, 2)), lambda x: x.norm(float("inf"), 1), lambda x: (x > 0).any(1),
    lambda x: (x > -3).all((1, 2)), lambda x: x.count_nonzero(1), lambda x: x.argmax(1),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", AROUND_REDUCTIONS)
def test_reductions_of_middle_dims_between_kept_ones(fn, dtype):
    """Middle dims of a large contiguous input reduced between kept leading and trailing ones
    (the heads of attention weights), which the CPU sweeps slice by slice without a
    transposing copy; a NaN and an inf stay in their columns."""
    x = rng.standard_normal((12, 8, 3, 1100)) * 0.9
    x[3, 2, 1, 7], x[5, 4, 0, 0] = np.nan, np.inf
    check(lambda lib, t: fn(t), Arg(x, dtype))
    check(lambda lib, t: fn(t), Arg(np.abs(x[:, :, :, :1000]) + 0.5, dtype, requires_grad=True))
    check(lambda lib, t: fn(t), Arg((x[:, :, :, :1000] * 2).astype(np.int64), "int64"))  # or torch's error
