"""The special functions and torch.special against torch: lgamma, digamma/polygamma, erfc, erfinv,
i0/i1, sinc, signbit, entr, xlog1py, heaviside, nextafter, gcd and lcm. Values and dtypes
(integers give the default float), the edges torch defines (poles, +-0, +-inf, nan, +-1 for
erfinv, large |x|), layouts, gradients and grad_fn names, finite differences, double backward,
in-place and ``out=`` forms, errors, and the aliases of torch.special."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tritensor
from harness import (FLOAT_DTYPES, INT_DTYPES, TOLERANCES, Arg, check, dev, gradcheck, to_numpy, torch_2_13,
                     uniform_data)

rng = np.random.default_rng(0)
nan, inf = np.nan, np.inf

UNARY = ["lgamma", "digamma", "erfc", "erfinv", "i0", "sinc"]
DTYPES = list(FLOAT_DTYPES) + ["int64", "int32", "uint8", "bool"]


def data(*args, **kwargs):
    return uniform_data(rng, *args, **kwargs)  # the rng of the moment: conftest.py reseeds it per test


def domain(name, shape, dtype="float64"):
    """Inputs inside an op's domain: (-1, 1) for erfinv, away from the poles for the gamma family."""
    if name == "erfinv":
        return data(shape, dtype, -1, 1) if dtype not in INT_DTYPES + ("bool",) else data(shape, dtype, 0, 0)
    if name in ("lgamma", "digamma", "gammaln", "psi"):
        return data(shape, dtype, 0, 6) + (0.25 if dtype not in INT_DTYPES + ("bool",) else 0)
    return data(shape, dtype)


def call(lib, name, *args, **kwargs):
    return getattr(lib, name)(*args, **kwargs)


def special(lib, name, *args, **kwargs):
    return getattr(lib.special, name)(*args, **kwargs)


# ------------------------------------------------------------------ values and dtypes
@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_values_and_dtypes(name, dtype):
    """Integer and bool inputs give the default float dtype; 16-bit floats are computed in fp32
    (the Triton kernels in fp64) and rounded once."""
    x = domain(name, (3, 5), dtype)
    alias = "gammaln" if name == "lgamma" else name
    check(lambda lib, t: (call(lib, name, t), getattr(t, name)(), special(lib, alias, t)), Arg(x, dtype))


@pytest.mark.parametrize("name", ["i1", "i0e", "i1e", "entr", "ndtr"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_special_only_values_and_dtypes(name, dtype):
    x = data((3, 5), dtype) if name != "entr" else data((3, 5), dtype, 0, 3)
    check(lambda lib, t: special(lib, name, t), Arg(x, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_polygamma_values(dtype):
    x = Arg(domain("digamma", (3, 4), dtype), dtype)
    check(lambda lib, t: (lib.polygamma(0, t), lib.polygamma(1, t), t.polygamma(1),
                          lib.special.polygamma(1, t), lib.polygamma(4, t)), x)


@pytest.mark.parametrize("dtype", list(FLOAT_DTYPES) + ["int64", "int8", "uint8", "bool"])
def test_signbit(dtype):
    x = np.array([1.0, -1.0, 0.0, -0.0, inf, -inf, nan, -nan, 2.5, -1e-30]) if dtype in FLOAT_DTYPES \
        else data((10,), dtype)
    if dtype == "bfloat16":  # torch's float64 -> bfloat16 makes every NaN positive; tritensor keeps the sign
        x[7] = nan
    check(lambda lib, t: (lib.signbit(t), t.signbit()), Arg(x, dtype))


# ------------------------------------------------------------------ the edges torch defines
EDGES = np.array([0.0, -0.0, 1.0, 2.0, -1.0, -2.0, -3.5, -0.5, 0.5, inf, -inf, nan, 1e-8, -1e-8, 1e-300,
                  1e8, 171.5, 200.0, -100.25, 10.0, 1.4616321449683622, 30.0, 700.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gamma_family_poles_and_infinities(dtype):
    """lgamma: inf at the poles (0, negative integers) and +-inf; digamma: -+inf at +-0, nan at
    negative integers and -inf; the reflection formulas below 0 (and 0.5 for polygamma). (Not
    polygamma at negative numbers below float64: torch's float32 sin(pi x) makes its value there
    as inaccurate as sinf's argument; tritensor computes it in float64.)"""
    positive = EDGES[(EDGES >= 0) | (EDGES != EDGES)]
    check(lambda lib, t, u: (lib.lgamma(t), lib.digamma(t), lib.polygamma(1, u), lib.polygamma(2, u),
                             lib.polygamma(3, u)),
          Arg(EDGES, dtype), Arg(EDGES if dtype == "float64" else positive, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_error_functions_edges(dtype):
    """erfinv: +-inf at +-1, nan beyond; erfc: 2 and 0 at -+inf, tails where 1 - erf(x) would lose
    every digit."""
    y = np.array([1.0, -1.0, 1.0 + 1e-6, -2.0, 0.0, -0.0, nan, 0.7, -0.7, 0.70001, 0.999999, -0.9999999999,
                  1e-10, 0.5])
    x = np.array([0.0, -0.0, 0.5, 1.0, -1.0, 3.0, 7.9, 8.0, 8.1, 15.0, 26.0, 27.5, -6.0, inf, -inf, nan,
                  0.999])
    check(lambda lib, t, u: (lib.erfinv(t), lib.erfc(u)), Arg(y, dtype), Arg(x, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_bessel_sinc_entr_edges(dtype):
    """i0/i1 over both approximations (the switch at |x| = 8 or 20) and past exp's range (inf,
    nan at +-inf as torch's exp(x) * ... / sqrt(x)); sinc(0) = 1; entr: 0 at 0, -inf below."""
    x = np.array([0.0, -0.0, 1e-20, 0.5, -0.5, 7.99, 8.0, 8.01, -12.0, 19.9, 20.0, 20.1, 35.0, -60.0, 85.0,
                  inf, -inf, nan, 3.0, -2.5])
    if dtype == "float64":
        x = np.concatenate([x, [500.0, -700.0, 709.0, 720.0]])
    check(lambda lib, t: (lib.i0(t), lib.special.i1(t), lib.special.i0e(t), lib.special.i1e(t), lib.sinc(t),
                          lib.special.entr(t)), Arg(x, dtype))


def test_large_and_tiny_arguments_in_float64():
    x = np.array([1e-300, 5e-324, 1e15, 1e200, 1e300, -1e15 + 0.5, 123456.789, -0.999999999, 2.0 ** 52 + 1])
    check(lambda lib, t: (lib.lgamma(t), lib.digamma(t), lib.polygamma(1, t), lib.sinc(t), lib.erfc(t)),
          Arg(x))


SETTINGS = settings(max_examples=30, deadline=None)


@SETTINGS
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=12),
       st.sampled_from(["float32", "float64"]))
def test_generated_values(values, dtype):
    x = Arg(np.array(values), dtype)
    check(lambda lib, t: (lib.lgamma(t), lib.digamma(t), lib.polygamma(1, t.abs()),
                          lib.polygamma(2, t.abs() + 1), lib.erfc(t), lib.i0(t), lib.special.i1(t),
                          lib.special.i0e(t * 20), lib.special.i1e(t * 20), lib.sinc(t),
                          lib.erfinv(t / 51)), x)


# ------------------------------------------------------------------ binary ops
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ("int64", "int32", "bool"))
def test_xlog1py_values(dtype):
    floating = dtype in FLOAT_DTYPES
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, nan, 0.0, -1.0, 3.0]) if floating else data((9,), dtype)
    y = np.array([nan, -1.0, -2.0, -1.0, 3.0, 1.0, inf, 0.5, -0.5]) if floating else data((9,), dtype, 0)
    check(lambda lib, a, b: (lib.special.xlog1py(a, b), lib.special.xlog1py(a, 2.5),
                             lib.special.xlog1py(3, b), lib.special.xlog1py(a, -1)),
          Arg(x, dtype), Arg(y, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ("int64", "int8", "uint8", "bool"))
def test_heaviside(dtype):
    x = np.array([nan, -0.0, 0.0, 1.0, -2.0, inf, -inf]) if dtype in FLOAT_DTYPES else data((7,), dtype)
    v = np.array([0.5, 2.0, -1.0, nan, 3.0, 0.0, 1.0]) if dtype in FLOAT_DTYPES else data((7,), dtype)
    check(lambda lib, a, b: (lib.heaviside(a, b), a.heaviside(b[:1]), a.clone().heaviside_(b)),
          Arg(x, dtype), Arg(v, dtype))


BITS = {"float64": "int64", "float32": "int32", "float16": "int16", "bfloat16": "int16"}


@torch_2_13
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nextafter(dtype):
    """One step of the bit pattern (compared bit for bit), from +-0 the smallest subnormal of the
    target's sign; float16/bfloat16 step in their own format."""
    a = np.array([0.0, -0.0, 0.0, 1.0, 1.0, -1.0, -1.0, inf, -inf, nan, 1.0, 2.0, 0.5, -0.25, 3.0])
    b = np.array([1.0, -1.0, -0.0, 2.0, 0.0, 0.0, -2.0, 0.0, 0.0, 1.0, nan, 2.0, 0.0, 1.0, inf])
    if dtype in ("float32", "float64"):  # subnormals and the largest finite value
        a = np.concatenate([a, [1e-310 if dtype == "float64" else 1e-40, -5e-324, 3.4e38]])
        b = np.concatenate([b, [0.0, 1.0, inf]])

    def fn(lib, x, y):
        bits = getattr(lib, BITS[dtype])
        outs = (lib.nextafter(x, y), x.nextafter(y), x.clone().nextafter_(y), lib.nextafter(y, x))
        return outs + tuple(o.view(bits) for o in outs) + (lib.signbit(lib.nextafter(x, y)),)
    check(fn, Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, x, y: lib.nextafter(x, y), Arg(a, dtype), Arg(b, "float64"))  # promotes
    check(lambda lib, x, y: (lib.nextafter(x[:, None], y[:3]), lib.nextafter(x, y, out=lib.empty_like(y))),
          Arg(a, dtype), Arg(b, dtype))
    check(lambda lib, x, y: lib.nextafter(x, y), Arg(a, dtype, requires_grad=True),
          Arg(b, dtype, requires_grad=True))  # grad, 0 where x == y; zeros for y


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_gcd_lcm(dtype):
    a = np.array([12, -18, 0, 7, 0, 1, 100, -64, 21, 13, 127])
    b = np.array([8, 12, 0, 0, -9, -5, 75, 48, -14, 13, 1])
    if dtype == "uint8":
        a, b = np.abs(a), np.abs(b)
    check(lambda lib, x, y: (lib.gcd(x, y), lib.lcm(x, y), x.gcd(y), x.lcm(y), x.clone().gcd_(y),
                             lib.lcm_(x.clone(), y), lib.gcd_(x.clone(), y), lib.gcd(x, y[3:4])),
          Arg(a, dtype), Arg(b, dtype))


def test_gcd_of_fibonacci_numbers_and_mixed_widths():
    """Consecutive Fibonacci numbers are Euclid's worst case (92 steps below 2**63)."""
    fib = [1, 1]
    while len(fib) < 92:
        fib.append(fib[-1] + fib[-2])
    a, b = np.array(fib[1:], np.int64), np.array(fib[:-1], np.int64)
    check(lambda lib, x, y: (lib.gcd(x, y), lib.gcd(y * 3, x * 3)), Arg(a), Arg(b))
    check(lambda lib, x, y: (lib.gcd(x, y), lib.lcm(x, y)), Arg(np.array([6, 10]), "int8"),
          Arg(np.array([4000, 15]), "int32"))


# ------------------------------------------------------------------ layouts and forms
@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 0, 3), (3, 5, 2)])
def test_shapes(shape):
    x, y = Arg(data(shape, "float32", 0.1, 0.9)), Arg(data(shape, "float32"))
    check(lambda lib, t, u: tuple(call(lib, n, t) for n in UNARY) + (
        lib.signbit(u), lib.special.i1(u), lib.special.entr(t), lib.special.xlog1py(t, u),
        lib.heaviside(t, u), lib.nextafter(t, u), lib.polygamma(1, t)), x, y)


def test_noncontiguous_and_broadcast():
    x, y = Arg(data((4, 6), "float32", 0.1, 0.9), transpose=True), Arg(data((6, 4), "float32"))
    check(lambda lib, t, u: tuple(call(lib, n, t[::2]) for n in UNARY) + (
        lib.special.xlog1py(t[:, ::2], u[1::2, 1:2]), lib.heaviside(t, u[:1]), lib.nextafter(t[1:], u[:1]),
        lib.special.i1(t.t()), lib.signbit(u.t())), x, y)
    i = Arg(data((5, 4), "int64", -30, 30), transpose=True)
    check(lambda lib, t: (lib.gcd(t, t[:1]), lib.lcm(t[::2], t[1::2])), i)


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       st.sampled_from(["float32", "float64", "int32"]), st.integers(0, 2**16))
def test_generated_broadcasts(shapes, dtype, seed):
    g = np.random.default_rng(seed)
    a = g.uniform(-4, 4, shapes.input_shapes[0])
    b = g.uniform(-0.9, 4, shapes.input_shapes[1])
    if dtype == "int32":
        check(lambda lib, x, y: (lib.gcd(x, y), lib.lcm(x, y), lib.special.xlog1py(x, y)),
              Arg((a * 10).astype("int32")), Arg((b * 10).astype("int32")))
    else:
        check(lambda lib, x, y: (lib.special.xlog1py(x, y), lib.heaviside(x, y), lib.nextafter(x, y)),
              Arg(a, dtype), Arg(b, dtype))


def test_methods_inplace_and_out():
    x = Arg(data((2, 3), "float32", 0.1, 0.9))
    check(lambda lib, t: (t.clone().lgamma_(), t.clone().digamma_(), t.clone().erfc_(), t.clone().erfinv_(),
                          t.clone().i0_(), t.clone().sinc_(), lib.erfc_(t.clone()), lib.i0_(t.clone()),
                          lib.sinc_(t.clone()), t.clone().polygamma_(1)), x)

    def into(lib, t):
        outs = [lib.empty(0, device=t.device) for _ in range(9)]
        outs.append(lib.empty(0, dtype=lib.bool, device=t.device))
        for name, o in zip(UNARY, outs):
            call(lib, name, t, out=o)
        lib.polygamma(1, t, out=outs[6])
        lib.special.i1(t, out=outs[7])
        lib.special.xlog1py(t, t, out=outs[8])
        lib.signbit(t, out=outs[9])
        return outs
    check(into, Arg(data((2, 3), "float64", 0.1, 0.9)))  # float64 results into float32, resized
    check(into, Arg(data((2, 3), "int32", 0, 3), "int32"))
    check(lambda lib, t: lib.lgamma(t, out=lib.empty(2, 3, dtype=lib.int64, device=t.device)), x)  # no cast


def test_inplace_names_follow_torch():
    """torch has lgamma_, digamma_, erfinv_, polygamma_ and heaviside_/nextafter_ as methods only,
    erfc_, i0_, sinc_, gcd_, lcm_ as functions too, and no signbit_."""
    names = ["lgamma", "digamma", "erfinv", "polygamma", "heaviside", "nextafter", "erfc", "i0", "sinc",
             "gcd", "lcm", "signbit"]
    for lib in (torch, tritensor):
        assert [hasattr(lib.Tensor, n + "_") for n in names] == [True] * 11 + [False]
        assert [hasattr(lib, n + "_") for n in names] == [False] * 6 + [True] * 5 + [False]


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_inplace_integer_self_cannot_hold_a_float(dtype):
    for fn in (lambda lib, t: t.lgamma_(), lambda lib, t: t.erfinv_(), lambda lib, t: t.sinc_(),
               lambda lib, t: t.polygamma_(1)):
        check(fn, Arg(data((3,), dtype), dtype))


# ------------------------------------------------------------------ gradients
GRAD_CASES = [
    lambda lib, t: lib.lgamma(t), lambda lib, t: lib.digamma(t), lambda lib, t: lib.polygamma(1, t),
    lambda lib, t: lib.polygamma(0, t), lambda lib, t: lib.erfc(t), lambda lib, t: lib.erfinv(t * 0.3),
    lambda lib, t: lib.i0(t), lambda lib, t: lib.special.i1(t), lambda lib, t: lib.sinc(t),
    lambda lib, t: lib.special.entr(t), lambda lib, t: lib.special.ndtr(t),
    lambda lib, t: lib.special.gammaln(t), lambda lib, t: lib.special.psi(t),
    lambda lib, t: lib.special.expit(t), lambda lib, t: lib.polygamma(3, t),
    lambda lib, t: lib.special.i0e(t), lambda lib, t: lib.special.i1e(t), lambda lib, t: lib.special.i1e(-t),
]


@pytest.mark.parametrize("fn", GRAD_CASES)
def test_unary_grads_and_names(fn):
    x = Arg(data((3, 4), "float64", 0.1, 2.5), requires_grad=True)
    check(fn, x)


@pytest.mark.parametrize("fn", GRAD_CASES)
def test_unary_gradcheck(fn):
    gradcheck(fn, data((5,), "float64", 0.15, 2.5))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_grads_in_lower_precisions(dtype):
    x = Arg(data((5,), dtype, 0.2, 0.9), dtype, requires_grad=True)
    fns = [lambda lib, t: lib.lgamma(t), lambda lib, t: lib.digamma(t), lambda lib, t: lib.erfc(t),
           lambda lib, t: lib.erfinv(t), lambda lib, t: lib.i0(t), lambda lib, t: lib.sinc(t),
           lambda lib, t: lib.polygamma(2, t + 1), lambda lib, t: lib.special.i0e(t)]
    if dtype == "float32":
        fns += [lambda lib, t: lib.special.i1(t), lambda lib, t: lib.special.i1e(t)]
    for fn in fns:  # one op each: a sum of 16-bit gradients would round once per term
        check(fn, x)
    for lib in (torch, tritensor) if dtype != "float32" else ():  # i1's backward: NotImplementedError below
        t = lib.tensor([0.5, 2.0], dtype=getattr(lib, dtype), device=dev(lib), requires_grad=True)
        with pytest.raises(NotImplementedError, match="i1_backward"):
            lib.special.i1(t).sum().backward()
        with pytest.raises(NotImplementedError, match="i1e_backward"):
            lib.special.i1e(t).sum().backward()


def test_grads_at_special_points():
    """sinc'(0) = 0 and i1'(0) = 0.5 (torch's where over the formula's 0 / 0); digamma' at its
    poles and the reflection region."""
    x = Arg(np.array([0.0, -0.0, 1e-20, 0.5, -1.5, -2.0, 3.0]), requires_grad=True)
    check(lambda lib, t: (lib.sinc(t), lib.special.i1(t), lib.i0(t), lib.digamma(t), lib.lgamma(t),
                          lib.special.i0e(t), lib.special.i1e(t)), x)


@torch_2_13
def test_binary_grads_and_names():
    x = Arg(data((3, 4), "float64", -2, 2), requires_grad=True)
    y = Arg(data((3, 4), "float64", -0.5, 2), requires_grad=True)
    check(lambda lib, a, b: (lib.special.xlog1py(a, b), lib.nextafter(a, b)), x, y)
    check(lambda lib, a: (lib.special.xlog1py(a, 2.0), lib.special.xlog1py(3, a),
                          lib.special.xlog1py(a, -1.0)), y)
    gradcheck(lambda lib, a, b: lib.special.xlog1py(a, b), data((4,), "float64", -2, 2),
              data((4,), "float64", 0, 2))


def test_xlog1py_grads_at_zeros():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, nan, 0.0])
    y = np.array([nan, -1.0, -2.0, -1.0, 3.0, 1.0, 0.5])
    check(lambda lib, a, b: lib.special.xlog1py(a, b), Arg(x, requires_grad=True), Arg(y, requires_grad=True))
    check(lambda lib, a: (lib.special.xlog1py(a, -1.0), lib.special.xlog1py(a, -3)),
          Arg(x, requires_grad=True))


def test_heaviside_has_no_derivative():
    """Recorded under torch's NotImplemented node; backward raises its RuntimeError."""
    for lib in (torch, tritensor):
        x = lib.tensor([1.0, -2.0, 0.0], device=dev(lib), requires_grad=True)
        y = lib.heaviside(x, x.detach())
        assert type(y.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            y.sum().backward()


@pytest.mark.parametrize("fn", [lambda lib, x: lib.lgamma(x), lambda lib, x: lib.erfc(x),
                                lambda lib, x: lib.erfinv(x * 0.5), lambda lib, x: lib.sinc(x),
                                lambda lib, x: lib.i0(x), lambda lib, x: lib.special.entr(x),
                                lambda lib, x: lib.digamma(x), lambda lib, x: lib.polygamma(2, x)])
def test_double_backward(fn):
    xs = np.array([0.2, 0.5, 0.9, 1.7, 1.2])
    results = {}
    for lib in (torch, tritensor):
        x = lib.tensor(xs, device=dev(lib), requires_grad=True)
        (gx,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
        results[lib.__name__] = (type(gx.grad_fn).__name__, to_numpy(gx), to_numpy(ggx))
    ours, theirs = results["tritensor"], results["torch"]
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, *TOLERANCES["float64"], equal_nan=True)


# ------------------------------------------------------------------ errors
def test_errors_like_torch():
    f, i = Arg(data((3,), "float32")), Arg(data((3,), "int64"))
    check(lambda lib, t: lib.polygamma(-1, t), f)  # RuntimeError: negative n
    check(lambda lib, t: lib.polygamma(1.5, t), f)  # TypeError
    check(lambda lib, t: lib.nextafter(t, t), i)  # NotImplementedError for integers
    check(lambda lib, t: lib.nextafter(t > 0, t > 0), i)
    check(lambda lib, t, u: lib.gcd(t, u), f, i)  # NotImplementedError for floats
    check(lambda lib, t: lib.lcm(t > 0, t > 0), i)  # ... and bools
    check(lambda lib, t, u: lib.heaviside(t, u), f, i)  # RuntimeError: different dtypes
    check(lambda lib, t: lib.heaviside(t, 1.0), f)  # TypeError: no number overloads
    check(lambda lib, t: lib.gcd(t, 2), i)
    check(lambda lib, t: t.gcd_(3), i)
    check(lambda lib, t: lib.special.xlog1py(2, 3), f)  # TypeError: one operand must be a tensor
    check(lambda lib, t, u: lib.special.xlog1py(t, u[:2]), f, f)  # RuntimeError: shapes
    check(lambda lib, t: t.lgamma_(), Arg(data((3,), "float32"), requires_grad=True))  # leaf in place


# ------------------------------------------------------------------ torch.special
ALIASES = {"gammaln": "lgamma", "psi": "digamma", "digamma": "digamma", "expit": "sigmoid", "erf": "erf",
           "erfc": "erfc", "erfinv": "erfinv", "exp2": "exp2", "expm1": "expm1", "log1p": "log1p", "i0": "i0",
           "sinc": "sinc", "round": "round", "logit": "logit"}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_special_aliases(name):
    x = Arg(domain(ALIASES[name], (3, 4), "float64") * (0.3 if name in ("erfinv", "logit") else 1) + (
        0.5 if name == "logit" else 0), requires_grad=True)
    check(lambda lib, t: (special(lib, name, t), call(lib, ALIASES[name], t)), x)


def test_special_reductions_and_binary():
    x = Arg(data((3, 4), "float64"), requires_grad=True)
    check(lambda lib, t: (lib.special.softmax(t, 1), lib.special.log_softmax(t, 0),
                          lib.special.logsumexp(t, 1), lib.special.logsumexp(t, (0, 1), keepdim=True),
                          lib.special.round(t, decimals=1),
                          lib.special.xlogy(t.abs(), t), lib.special.xlogy(2, t.abs()),
                          lib.special.logit(t.sigmoid(), eps=0.1)), x)
    # computed in float32, gradient included: float32's tolerance
    rtol, atol = TOLERANCES["float32"]
    check(lambda lib, t: lib.special.softmax(t, -1, dtype=lib.float32), x, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64"])
def test_ndtr(dtype):
    x = np.array([-40.0, -10.0, -3.0, -0.5, 0.0, 0.5, 3.0, 10.0, inf, -inf, nan]) if dtype != "int64" \
        else data((6,), dtype)
    check(lambda lib, t: (lib.special.ndtr(t), lib.special.ndtr(t, out=lib.empty(t.shape, device=t.device))),
          Arg(x, dtype))


# ------------------------------------------------------------------ mvlgamma
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64"])
def test_mvlgamma(dtype):
    """sum_j lgamma(x - j / 2) + p (p - 1) / 4 log(pi) over a new last dim; torch checks no domain."""
    x = Arg(data((3, 4), dtype, 2, 6), dtype)
    check(lambda lib, t: (lib.mvlgamma(t, 1), lib.mvlgamma(t, 3), t.mvlgamma(2),
                          lib.special.multigammaln(t, 4), lib.mvlgamma(t[0, 0], 2), lib.mvlgamma(t[:0], 2),
                          lib.mvlgamma(t.t(), 5)), x)
    if dtype in ("float32", "float64"):
        check(lambda lib, t: t.clone().mvlgamma_(3), x)
    # computed in the input's dtype, then written to the float64 out: the input dtype's tolerance
    rtol, atol = TOLERANCES["float32" if dtype == "int64" else dtype]
    check(lambda lib, t: lib.mvlgamma(t, 2, out=lib.empty(3, 4, dtype=lib.float64, device=t.device)), x,
          rtol=rtol, atol=atol)


def test_mvlgamma_grads_and_errors():
    x = Arg(data((3, 4), "float64", 2, 6), requires_grad=True)
    check(lambda lib, t: (lib.mvlgamma(t, 3), lib.special.multigammaln(t, 1)), x)
    gradcheck(lambda lib, t: lib.mvlgamma(t, 4), data((5,), "float64", 2, 6))
    f = Arg(data((3,), "float32", 2, 4))
    check(lambda lib, t: lib.mvlgamma(t > 3, 2), f)  # RuntimeError: bool
    check(lambda lib, t: lib.mvlgamma(t, 0), f)  # RuntimeError: p >= 1
    check(lambda lib, t: lib.mvlgamma(t, 1.5), f)  # TypeError
    check(lambda lib, t: lib.mvlgamma(t, -1, 1.0), f)  # TypeError: too many arguments


# ------------------------------------------------------------------ erfcx, log_ndtr
TAILS = np.array([-30.0, -27.0, -5.0, -1.5, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 7.9, 8.0, 30.0, 999.0, 1001.0,
                  1e10, inf, -inf, nan, -0.9, -1.1, 3.3, 12.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16", "bfloat16"])
def test_erfcx_and_log_ndtr(dtype):
    """exp(x^2) erfc(x) without its overflow (1 / (x sqrt(pi)) far right, inf far left) and log ndtr
    far into the left tail; float16/bfloat16 raise torch's NotImplementedError."""
    x = TAILS if dtype in FLOAT_DTYPES else data((7,), dtype)
    if dtype == "float64":
        x = np.concatenate([x, [1e300, -1e-300]])
    check(lambda lib, t: (lib.special.erfcx(t), lib.special.log_ndtr(t)), Arg(x, dtype))


def test_erfcx_and_log_ndtr_grads():
    x = Arg(data((3, 4), "float64", -4, 4), requires_grad=True)
    check(lambda lib, t: (lib.special.erfcx(t), lib.special.log_ndtr(t)), x)
    gradcheck(lambda lib, t: lib.special.erfcx(t), data((5,), "float64", -2, 3))
    gradcheck(lambda lib, t: lib.special.log_ndtr(t), data((5,), "float64", -6, 3))
    check(lambda lib, t: lib.special.log_ndtr(t.t()[::2]), Arg(data((4, 6), "float32", -8, 3)))


# ------------------------------------------------------------------ zeta
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_zeta(dtype):
    """The Hurwitz zeta function: inf at x = 1 and at non-positive integer q, nan below x = 1 and for
    a negative non-integer q with a non-integer x; negative q need 1 - q direct terms."""
    x = np.array([1.0, 0.5, 2.0, 3.5, 10.0, 2.0, 3.0, 2.0, 4.0, 2.5, nan, 2.0, inf, 60.0])
    q = np.array([1.0, 2.0, 1.0, 0.3, 2.0, -3.0, -2.5, -40.25, 0.0, -1.5, 1.0, nan, 2.0, 1.0])
    if dtype == "int64":
        x, q = data((6,), dtype, 1, 5), data((6,), dtype, 1, 5)
    check(lambda lib, a, b: (lib.special.zeta(a, b), lib.special.zeta(a, 2.0), lib.special.zeta(3, b),
                             lib.special.zeta(a[:, None], b[:3])), Arg(x, dtype), Arg(q, dtype))


def test_zeta_grads_and_errors():
    x = Arg(data((4,), "float64", 1.5, 4), requires_grad=True)
    q = Arg(data((4,), "float64", 0.5, 3), requires_grad=True)
    check(lambda lib, a, b: lib.special.zeta(a.detach(), b), x, q)
    check(lambda lib, b: (lib.special.zeta(2.5, b), lib.special.zeta(b + 1, 2.0).detach()), q)
    for lib in (torch, tritensor):  # d/dx: NotImplementedError in backward, as torch
        a = lib.tensor([2.0, 3.0], device=dev(lib), requires_grad=True)
        with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
            lib.special.zeta(a, 1.5).sum().backward()
    gradcheck(lambda lib, b: lib.special.zeta(3.0, b), data((4,), "float64", 0.5, 3))
    check(lambda lib, a: lib.special.zeta(2.0, 3.0), x)  # TypeError: one operand must be a tensor


# ------------------------------------------------------------------ ndtri
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16"])
def test_ndtri(dtype):
    """The normal quantile over its three rational approximations (the central range, the tails
    above and below exp(-32)), -inf/inf at 0/1, nan outside; 16-bit floats refused like torch."""
    y = np.array([0.0, 1.0, -0.1, 1.1, nan, 0.5, 1e-300, 1e-20, 0.1353, 0.1354, 0.8647, 0.8646, 1e-14,
                  1.3e-14, 0.3, 0.999, 0.02]) if dtype in FLOAT_DTYPES else data((4,), dtype, 0, 1)
    check(lambda lib, t: (lib.special.ndtri(t), lib.special.ndtri(t[::2])), Arg(y, dtype))


def test_ndtri_grads():
    y = Arg(data((5,), "float64", 0.01, 0.99), requires_grad=True)
    check(lambda lib, t: (lib.special.ndtri(t), lib.special.ndtr(lib.special.ndtri(t))), y)
    gradcheck(lambda lib, t: lib.special.ndtri(t), data((5,), "float64", 0.05, 0.95))


def test_out_of_another_shape_keeps_its_dtype():
    """An out= tensor that has to be resized keeps its dtype (it took the result's before)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's resize deprecation warning
        check(lambda lib, x: lib.mvlgamma(x, 1, out=lib.empty(0, dtype=lib.float64, device=x.device)),
              np.array([2.5, 3.0], np.float32))
