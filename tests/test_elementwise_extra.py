"""logaddexp, logaddexp2, xlogy, copysign, deg2rad, rad2deg and logit against torch: values and
dtypes (integer inputs give floats), Python-number and 0-d operands, layouts, the edges torch
defines (infinities, zeros, NaN, signed zeros, logit outside [0, 1]), gradients and their grad_fn
names, double backward, in-place and ``out=`` forms, errors, and autocast (on no list)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tritensor
from harness import FLOAT_DTYPES, INT_DTYPES, TOLERANCES, Arg, check, dev, gradcheck, to_numpy, uniform_data

rng = np.random.default_rng(0)
nan, inf = np.nan, np.inf

BINARY = ["logaddexp", "logaddexp2", "xlogy", "copysign"]
UNARY = ["deg2rad", "rad2deg", "logit"]
DTYPES = list(FLOAT_DTYPES) + ["int64", "int32", "uint8", "bool"]


def data(*args, **kwargs):
    return uniform_data(rng, *args, **kwargs)  # the rng of the moment: conftest.py reseeds it per test


def unit(shape, dtype="float64"):
    """Inputs of logit: mostly inside (0, 1), where it is finite."""
    return data(shape, dtype, -0.2, 1.2) if dtype not in INT_DTYPES + ("bool",) else data(shape, dtype, 0, 1)


def call(lib, name, *args, **kwargs):
    return getattr(lib, name)(*args, **kwargs)


def signbit(lib, t):
    """The sign bits (of zeros and NaNs too), read through an integer view."""
    bits = {"float32": lib.int32, "float64": lib.int64, "float16": lib.int16, "bfloat16": lib.int16}
    return t.view(bits[str(t.dtype).replace("torch.", "")]) < 0


# ------------------------------------------------------------------ values and dtypes
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_values_and_dtypes(name, dtype):
    """Integer and bool inputs give the default float dtype (logaddexp refuses them, like torch's
    NotImplementedError); 16-bit floats are computed in fp32 and rounded once."""
    a, b = data((3, 4), dtype), data((3, 4), dtype, 0 if name == "xlogy" else -3)
    check(lambda lib, x, y: call(lib, name, x, y), Arg(a, dtype), Arg(b, dtype))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_values_and_dtypes(name, dtype):
    x = unit((3, 4), dtype) if name == "logit" else data((3, 4), dtype)
    check(lambda lib, t: call(lib, name, t), Arg(x, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_eps_values(dtype):
    x = Arg(unit((3, 4), dtype), dtype)
    for eps in (0.0, 1e-6, 0.2, 0.5, 0.7, 2, -0.1):  # eps > 0.5 clamps to eps first; < 0 is no eps
        check(lambda lib, t: (lib.logit(t, eps), t.logit(eps=eps)), x)


def test_methods_and_out():
    x, y = Arg(data((2, 3), "float32", 0.1, 2)), Arg(data((2, 3), "float32"))
    check(lambda lib, t, u: (t.logaddexp(u), t.logaddexp2(u), t.xlogy(u.abs()), t.copysign(u), t.deg2rad(),
                             t.rad2deg(), t.logit(), t.xlogy(2.5), t.copysign(-0.0)), x, y)

    def into(lib, t, u):
        outs = [lib.empty(0, device=t.device) for _ in range(9)]
        lib.logaddexp(t, u, out=outs[0])
        lib.logaddexp2(t, u, out=outs[1])
        lib.xlogy(t, u, out=outs[2])
        lib.xlogy(t, 2, out=outs[3])
        lib.xlogy(2, u, out=outs[4])
        lib.copysign(t, u, out=outs[5])
        lib.deg2rad(t, out=outs[6])
        lib.logit(t, 0.1, out=outs[7])
        lib.rad2deg(t, out=outs[8])
        return outs
    check(into, Arg(data((2, 3), "float64", 0.1, 2)), Arg(data((2, 3))))  # float64 results into float32
    check(into, Arg(data((2, 3), "int32", 0, 3), "int32"), y)  # outputs resized from empty
    check(lambda lib, t, u: lib.logaddexp(t, u, out=lib.empty(2, 3, dtype=lib.int64, device=t.device)), x, y)
    check(lambda lib, t: lib.logit(t, out=lib.empty(2, 3, dtype=lib.int32, device=t.device)), x)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_inplace_variants(dtype):
    x, y = Arg(data((3, 4), dtype, 0.05, 0.95), dtype), Arg(data((3, 4), dtype), dtype)
    check(lambda lib, t, u: (t.clone().xlogy_(u.abs()), t.clone().xlogy_(3), t.clone().copysign_(u),
                             t.clone().copysign_(-1), t.clone().deg2rad_(), t.clone().rad2deg_(),
                             t.clone().logit_(), t.clone().logit_(0.25), lib.xlogy_(t.clone(), u),
                             lib.logit_(t.clone(), eps=0.3), lib.deg2rad_(t.clone()),
                             lib.rad2deg_(t.clone())), x, y)


def test_inplace_names_follow_torch():
    """torch has copysign_ as a method only, no logaddexp_ at all."""
    for lib in (torch, tritensor):
        assert [hasattr(lib.Tensor, n + "_") for n in BINARY + UNARY] == \
            [False, False, True, True, True, True, True]
        assert [hasattr(lib, n + "_") for n in BINARY + UNARY] == \
            [False, False, True, False, True, True, True]


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_inplace_integer_self_cannot_hold_a_float(dtype):
    for fn in (lambda lib, t: t.xlogy_(t), lambda lib, t: t.copysign_(-1), lambda lib, t: t.deg2rad_(),
               lambda lib, t: t.rad2deg_(), lambda lib, t: t.logit_(), lambda lib, t: t.logit_(0.1)):
        check(fn, Arg(data((3,), dtype), dtype))  # RuntimeError: result type Float can't be cast


# ------------------------------------------------------------------ operands: numbers, 0-d, layouts
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64", "int8", "bool"])
def test_python_number_operands(dtype):
    x = Arg(data((5,), dtype, 0, 3), dtype)
    for number in (2, 2.5, -0.0, -3, True, 0):
        check(lambda lib, t: (lib.xlogy(t, number), lib.xlogy(number, t), t.xlogy(number),
                              lib.copysign(t, number), t.copysign(number)), x)


@pytest.mark.parametrize("zero_dim", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "int32"])
def test_zero_dim_operands_do_not_outrank(zero_dim, dtype):
    x, z = Arg(data((4,), dtype, 0, 3), dtype), Arg(np.asarray(data((), zero_dim, 1, 3)), zero_dim)
    check(lambda lib, t, s: tuple(call(lib, n, t, s) for n in BINARY)
          + tuple(call(lib, n, s, t) for n in BINARY), x, z)


@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (2, 0, 3), (3, 5, 2)])
def test_shapes(shape):
    x, y = Arg(data(shape, "float32", 0.1, 0.9)), Arg(data(shape, "float32"))
    check(lambda lib, t, u: tuple(call(lib, n, t, u) for n in BINARY) + tuple(call(lib, n, t) for n in UNARY)
          + (lib.logit(t, 0.2),), x, y)


def test_noncontiguous_and_broadcast():
    x, y = Arg(data((4, 6), "float32", 0.1, 0.9), transpose=True), Arg(data((6, 4), "float32"))
    check(lambda lib, t, u: tuple(call(lib, n, t, u) for n in BINARY) + tuple(call(lib, n, t) for n in UNARY)
          + tuple(call(lib, n, t[:, ::2], u[1::2, 1:2]) for n in BINARY) + (lib.logit(t[::2], 0.3),), x, y)
    for sa, sb in (((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 1, 3), (4, 1))):
        a = Arg(data(sa, "float64"), requires_grad=True)
        b = Arg(data(sb, "float64", 0.1, 3), requires_grad=True)
        check(lambda lib, t, u: tuple(call(lib, n, t, u) for n in BINARY), a, b)


SETTINGS = settings(max_examples=30, deadline=None)


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4), st.sampled_from(BINARY),
       st.sampled_from(["float32", "float64", "float16", "int32"]),
       st.sampled_from(["float32", "float64", "int64"]), st.integers(0, 2**16))
def test_generated_shapes_and_dtypes(shapes, name, da, db, seed):
    g = np.random.default_rng(seed)
    a = g.uniform(-4, 4, shapes.input_shapes[0]).astype(da if da != "float16" else "float64")
    b = g.uniform(0.01, 4, shapes.input_shapes[1]).astype(db if db != "float16" else "float64")
    a = a.astype(da) if da in INT_DTYPES else a
    b = b.astype(db) if db in INT_DTYPES else b
    check(lambda lib, x, y: call(lib, name, x, y), Arg(a, da), Arg(b, db))


# ------------------------------------------------------------------ the edges torch defines
EDGE_A = np.array([inf, -inf, inf, -inf, nan, 1.0, 0.0, -0.0, 1e30, -1e30, 88.0, -700.0, 3.0])
EDGE_B = np.array([inf, -inf, -inf, 2.0, 1.0, nan, -0.0, 0.0, 1e30, 1e30, -88.0, -700.0, 3.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_logaddexp_infinities_and_nan(dtype):
    """Equal infinities give themselves (not inf - inf = nan); one -inf gives the other operand."""
    check(lambda lib, x, y: (lib.logaddexp(x, y), lib.logaddexp2(x, y), lib.logaddexp(y, x),
                             lib.logaddexp2(y, x)), Arg(EDGE_A, dtype), Arg(EDGE_B, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_xlogy_zeros_and_nan(dtype):
    """0 where x is 0 (log 0 = -inf and log of negatives are ignored), nan where y is nan, even
    for x = 0 (torch's xlogy(0, nan) is nan); x * log(0) = -inf otherwise."""
    x = np.array([0.0, 0.0, 0.0, 0.0, -0.0, 1.0, nan, 2.0, 0.0, -1.0, inf])
    y = np.array([nan, 0.0, -1.0, inf, 0.0, 0.0, 1.0, 3.0, -inf, 0.5, 0.0])
    check(lambda lib, a, b: (lib.xlogy(a, b), lib.xlogy(0, b), lib.xlogy(a, 0.0), lib.xlogy(a, nan),
                             lib.xlogy(0.0, b), lib.xlogy(a, -1)), Arg(x, dtype), Arg(y, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_copysign_signed_zeros_and_nan(dtype):
    """The sign bit decides: -0.0 and a negative NaN are negative; a NaN magnitude keeps its NaN."""
    a = np.array([1.0, 1.0, 0.0, -0.0, nan, nan, -2.0, -2.0, inf, 3.0, 0.0])
    b = np.array([-0.0, 0.0, -1.0, 1.0, -1.0, 1.0, nan, -nan, -1.0, -inf, -0.0])
    if dtype == "bfloat16":  # torch's float64 -> bfloat16 makes every NaN positive; tritensor keeps the sign
        b[7] = nan

    def fn(lib, x, y):
        outs = (lib.copysign(x, y), lib.copysign(y, x), lib.copysign(x, -0.0), lib.copysign(x, 0.0),
                lib.copysign(x, -1), x.clone().copysign_(y))
        return outs + tuple(signbit(lib, r) for r in outs)
    check(fn, Arg(a, dtype), Arg(b, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_logit_outside_the_unit_interval(dtype):
    """Without eps: -inf at 0, inf at 1, nan outside [0, 1]; eps clamps first (NaN stays)."""
    x = np.array([0.0, -0.0, 1.0, -0.5, 1.5, nan, inf, -inf, 0.25, 1e-8, 1 - 1e-7])
    check(lambda lib, t: (lib.logit(t), lib.logit(t, 0.0), lib.logit(t, 1e-3), lib.logit(t, 0.6),
                          lib.logit(t, -1.0), lib.logit(t, eps=None)), Arg(x, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_half_precision_computes_in_float32(dtype):
    """Computed in fp32 and rounded once (torch's opmath): large operands whose difference the
    16-bit type cannot hold as a sum, degrees beyond 16-bit products' precision."""
    a = np.array([10.0, 60.0, -60.0, 0.125, 1000.0, 0.01])
    b = np.array([-5.0, 59.0, -61.0, 8.0, 999.0, 0.99])
    check(lambda lib, x, y: (lib.logaddexp(x, y), lib.logaddexp2(x, y), lib.xlogy(x, y), x.deg2rad(),
                             x.rad2deg(), lib.logit(y, 0.02)), Arg(a, dtype), Arg(b, dtype))


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("name", BINARY)
def test_binary_grads_and_names(name):
    a = Arg(data((3, 4), "float64", -2, 2), requires_grad=True)
    b = Arg(data((3, 4), "float64", 0.1, 2), requires_grad=True)
    check(lambda lib, x, y: call(lib, name, x, y), a, b)


@pytest.mark.parametrize("name", UNARY)
def test_unary_grads_and_names(name):
    x = Arg(data((3, 4), "float64", 0.05, 0.95), requires_grad=True)
    check(lambda lib, t: (call(lib, name, t), getattr(t, name)()), x)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_grads_in_lower_precisions(dtype):
    a = Arg(data((5,), dtype, 0.05, 0.95), dtype, requires_grad=True)
    b = Arg(data((5,), dtype, 0.1, 2), dtype, requires_grad=True)
    for fn in (lambda lib, x, y: lib.logaddexp(x, y), lambda lib, x, y: lib.logaddexp2(y, x),
               lambda lib, x, y: lib.xlogy(x, y), lambda lib, x, y: lib.copysign(x, y - 1),
               lambda lib, x, y: (lib.logit(x), x.deg2rad(), y.rad2deg()),
               lambda lib, x, y: lib.logit(x, 0.2)):
        check(fn, a, b)


def test_number_and_mixed_dtype_grads():
    """xlogy's three overloads record XlogyBackward0/1/2, copysign's two CopysignBackward0/1; a
    float32 operand of a float64 result gets a float32 gradient."""
    x = Arg(data((4,), "float64", 0.1, 2), requires_grad=True)
    check(lambda lib, t: (lib.xlogy(t, 2.0), lib.xlogy(3, t), lib.xlogy(t, 0), lib.xlogy(0, t),
                          lib.xlogy(t, -1.0), lib.copysign(t, -1), lib.copysign(t, 0.0), t.copysign(-0.0)), x)
    y = Arg(data((4,), "float32", 0.1, 2), "float32", requires_grad=True)
    check(lambda lib, t, u: tuple(call(lib, n, t, u) for n in BINARY), x, y)


def test_inplace_grads():
    x = Arg(data((4,), "float64", 0.1, 0.9), requires_grad=True)
    y = Arg(data((4,), "float64", -2, 2), requires_grad=True)
    check(lambda lib, t, u: (t * 1).xlogy_(u.abs()) + (t * 1).copysign_(u) + (t * 1).logit_()
          + (t * 1).logit_(0.3) + (t * 1).deg2rad_() + (t * 1).rad2deg_() + (t * 1).xlogy_(2)
          + (u * 1).copysign_(-1.0), x, y)
    check(lambda lib, t: (t * 1).copysign_(t), x)  # the operand aliasing the written self


def test_logaddexp_grads_at_infinities():
    """torch's grad / (1 + exp(other - self)): 1 and 0 for (inf, -inf), nan for equal infinities."""
    check(lambda lib, x, y: (lib.logaddexp(x, y), lib.logaddexp2(x, y)), Arg(EDGE_A, requires_grad=True),
          Arg(EDGE_B, requires_grad=True))


def test_xlogy_grads_at_zeros():
    """d/dx = xlogy(grad, y), 0 where x == 0 and y <= 0; d/dy = grad * x / y (nan at 0 / 0)."""
    x = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, nan, 0.0, 0.0])
    y = np.array([nan, 0.0, -1.0, inf, 0.0, 3.0, 1.0, 2.0, -0.0])
    check(lambda lib, a, b: lib.xlogy(a, b), Arg(x, requires_grad=True), Arg(y, requires_grad=True))
    check(lambda lib, a: (lib.xlogy(a, 0.0), lib.xlogy(a, -2), lib.xlogy(a, nan)), Arg(x, requires_grad=True))
    check(lambda lib, b: (lib.xlogy(0, b), lib.xlogy(0.0, b), lib.xlogy(-2, b)), Arg(y, requires_grad=True))


def test_xlogy_self_grad_is_zero_for_a_zero_incoming_grad():
    """xlogy(grad, y) is 0 where grad is 0, where grad * log(y) would be nan (y < 0)."""
    for lib in (torch, tritensor):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, device=dev(lib), requires_grad=True)
        y = lib.tensor([-1.0, 0.0], dtype=lib.float64, device=dev(lib))
        lib.xlogy(x, y).backward(lib.zeros(2, dtype=lib.float64, device=dev(lib)))
        assert to_numpy(x.grad).tolist() == [0.0, 0.0]


def test_copysign_grads_at_zeros_nan_and_infinities():
    """result / self, 0 where self is ±0, nan for a nan or infinite self; the sign operand's
    gradient is zeros (even for a nan incoming gradient), not None."""
    a = np.array([1.0, 0.0, -0.0, nan, inf, -2.0, 3.0, -inf])
    b = np.array([-1.0, -1.0, 1.0, -1.0, -1.0, nan, -0.0, 2.0])
    check(lambda lib, x, y: lib.copysign(x, y), Arg(a, requires_grad=True), Arg(b, requires_grad=True))
    check(lambda lib, x: (lib.copysign(x, -1.0), x.copysign(0.0), x.copysign(-0.0)),
          Arg(a, requires_grad=True))
    for lib in (torch, tritensor):
        x = lib.tensor(a, device=dev(lib), requires_grad=True)
        y = lib.tensor(b, device=dev(lib), requires_grad=True)
        lib.copysign(x, y).backward(lib.full((8,), nan, device=dev(lib), dtype=lib.float64))
        assert to_numpy(y.grad).tolist() == [0.0] * 8


def test_logit_grads_with_and_without_eps():
    """Without eps: nan outside [0, 1], ±inf at its ends; with eps: zero where the forward clamped;
    a negative eps is no eps. A NaN input has a NaN gradient, as torch's CUDA kernel and CPU
    scalar loop give (its vectorised CPU loop gives 0 with eps, so which one a NaN meets depends
    on the tensor's length and the CPU: it is checked alone, where torch takes the scalar loop).
    (Not at -0.0: torch's vectorised loop gives grad / -0.0 there, its scalar loop grad * inf.)"""
    x = np.array([0.0, 0.5, 1.0, -0.5, 1.5, 0.25, 0.3, 0.7, 0.2, 0.8, 1e-300])
    for eps in (None, 0.0, 0.2, 0.3, 0.6, -0.2):
        check(lambda lib, t: lib.logit(t, eps), Arg(x, requires_grad=True))
        check(lambda lib, t: lib.logit(t, eps), Arg(np.array([nan]), requires_grad=True))


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "xlogy", "copysign"])
def test_binary_gradcheck(name):
    gradcheck(lambda lib, x, y: call(lib, name, x, y), data((4,), "float64", -2, 2) + 0.05,
              data((4,), "float64", 0.2, 2))


@pytest.mark.parametrize("fn", [lambda lib, t: t.deg2rad(), lambda lib, t: t.rad2deg(),
                                lambda lib, t: lib.logit(t), lambda lib, t: lib.logit(t, 0.1),
                                lambda lib, t: lib.xlogy(t, 3.0),
                                lambda lib, t: lib.xlogy(2.0, t), lambda lib, t: lib.copysign(t, -1)])
def test_unary_gradcheck(fn):
    gradcheck(fn, data((5,), "float64", 0.15, 0.85))


@pytest.mark.parametrize("fn", [lambda lib, x, y: lib.logit(x), lambda lib, x, y: lib.logit(x, 0.3),
                                lambda lib, x, y: lib.logit(x, -0.5), lambda lib, x, y: lib.logaddexp(x, y),
                                lambda lib, x, y: lib.logaddexp2(x, y), lambda lib, x, y: lib.xlogy(x, y),
                                lambda lib, x, y: lib.copysign(x, y)])
def test_double_backward(fn):
    """With create_graph, torch's composite gradients (logit's infinitely differentiable form, a
    where over [eps, 1 - eps]) record a graph: first and second derivatives and grad_fn names."""
    xs = np.array([0.2, 0.5, 0.9, -0.5, 1.2])
    ys = np.array([0.3, -1.0, 2.0, 0.7, 1.5])
    results = {}
    for lib in (torch, tritensor):
        x = lib.tensor(xs, device=dev(lib), requires_grad=True)
        y = lib.tensor(ys, device=dev(lib), requires_grad=True)
        gx, gy = lib.autograd.grad(fn(lib, x, y).sum(), (x, y), create_graph=True, allow_unused=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x, allow_unused=True)
        results[lib.__name__] = (type(gx.grad_fn).__name__, to_numpy(gx),
                                 None if gy is None else to_numpy(gy), None if ggx is None else to_numpy(ggx))
    ours, theirs = results["tritensor"], results["torch"]
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, *TOLERANCES["float64"], equal_nan=True)


# ------------------------------------------------------------------ errors
def test_errors_like_torch():
    f, i = Arg(data((3,), "float32")), Arg(data((3,), "int64"))
    for name in ("logaddexp", "logaddexp2"):
        check(lambda lib, t: call(lib, name, t, t), i)  # NotImplementedError for integers
        check(lambda lib, t: call(lib, name, t > 0, t > 0), i)  # ... and bools
        check(lambda lib, t, u: call(lib, name, t, u), f, i)  # a float result is fine
        check(lambda lib, t: call(lib, name, t, 2.0), f)  # TypeError: no number overloads
        check(lambda lib, t: call(lib, name, 2, t), f)
        check(lambda lib, t: getattr(t, name)(1), f)
    check(lambda lib, t: lib.copysign(2, t), f)  # TypeError: no number self
    check(lambda lib, t: lib.xlogy(2, 3), f)  # TypeError: one operand must be a tensor
    check(lambda lib, t: lib.maximum(2.0, t), f)  # TypeError, like logaddexp's
    check(lambda lib, t: lib.logit(t, "0.1"), f)  # TypeError
    check(lambda lib, t, u: lib.xlogy(t, u[:2]), f, f)  # RuntimeError: shapes
    check(lambda lib, t: t.logaddexp(t), Arg(data((3,), "float32"), requires_grad=True))
    check(lambda lib, t: t.copysign_(-1), Arg(data((3,), "float32"), requires_grad=True))  # leaf in place


def test_not_on_autocast_lists():
    """torch lists none of these ops for autocast: they keep their inputs' dtypes inside a region
    (fp32 stays fp32, a bf16 and an fp32 tensor promote to fp32), as outside."""
    a, b = Arg(data((3,), "float32", 0.1, 0.9)), Arg(data((3,), "bfloat16", 0.1, 0.9), "bfloat16")

    def run(lib, x, y):
        with lib.autocast(dev(lib).split(":")[0], dtype=lib.bfloat16):
            return tuple(call(lib, n, x, y) for n in BINARY) + tuple(call(lib, n, x) for n in UNARY) \
                + tuple(call(lib, n, y) for n in UNARY)
    outs = check(run, a, b)
    assert [str(o.dtype) for o in outs] == ["torch.float32"] * 7 + ["torch.bfloat16"] * 3


# Strided ops of at least cpu.ROWS_MIN_ELEMENTS (2^15) elements whose operands are contiguous or
# one value along the innermost dim run as rows in a Numba kernel on the CPU: each layout here
# against torch, over dtypes and arities (on 'cuda' the same calls check the Triton path).
ROW_LAYOUTS = [
    ((64, 32, 26, 26), (1, 32, 1, 1), False),  # a conv bias over channels
    ((64, 32, 26, 26), (1, 32, 1, 1), True),   # ... added to the transposed product
    ((300, 128), (300, 1), False),              # one value per row
    ((8, 5, 40, 33), (5, 1, 33), False),        # rows repeated across a middle dim
    ((40, 1, 1, 900), (40, 1, 1, 1), False),    # size-1 dims between
    ((4, 3, 64, 64), (64,), False),             # a row vector
    ((64, 600), (64, 600), True),               # a transposed operand: strided rows
    ((1024, 64), (64,), "every other column"),  # a column slice: strided rows
]


@pytest.mark.parametrize("shape,other,transpose", ROW_LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16", "bfloat16"])
def test_large_strided_ops_by_rows(shape, other, transpose, dtype):
    rng = np.random.default_rng(0)
    # shape is the operands' logical shape; transposed, x's first two dims are swapped in
    # memory (and the result takes that layout too)
    a = rng.uniform(-4, 4, (shape[1], shape[0]) + shape[2:] if transpose is True else shape)
    if transpose == "every other column":
        a = rng.uniform(-4, 4, (shape[0], 2 * shape[1]))
    b = rng.uniform(-4, 4, other)

    def ops(lib, x, y):
        x = x.transpose(0, 1) if transpose is True else x[:, ::2] if transpose else x
        return (x + y, x * y, lib.maximum(x, y), lib.where(x > 0, x, y), x.clone().sub_(y), -x,
                lib.clamp(x, y, 3))
    check(ops, Arg(a, dtype), Arg(b, dtype), check_stride=True)


@pytest.mark.cpu_only
def test_row_kernels_take_the_eligible_layouts(monkeypatch):
    """The layouts above do reach the row kernels, or the tiled ones for a trailing-dims
    broadcast (a fallback would hide a broken eligibility test)."""
    from tritensor.backends import cpu
    taken = []
    run_rows, run_tiled = cpu._run_rows, cpu._run_tiled
    monkeypatch.setattr(cpu, "_run_rows",
                        lambda *a: taken.append("rows" if run_rows(*a) else None) or taken[-1])
    monkeypatch.setattr(cpu, "_run_tiled", lambda *a: taken.append("tiled") or run_tiled(*a))
    for shape, other, transpose in ROW_LAYOUTS:
        taken.clear()
        x = (tritensor.ones(shape[1], shape[0], *shape[2:]).transpose(0, 1) if transpose is True
             else tritensor.ones(shape[0], 2 * shape[1])[:, ::2] if transpose else tritensor.ones(shape))
        # out= takes the general path (a contiguous x + a row would take the fast lane)
        assert tritensor.add(x, tritensor.ones(other), out=tritensor.empty(shape)).shape == shape
        assert taken == ["tiled" if other == (64,) and not transpose else "rows"], (shape, taken)


#: (shape, other): contiguous operands where one is the other's trailing dims (a bias, a
#: scale), the tiled kernels' layouts; small and threaded sizes, a broadcast first operand
TILED_LAYOUTS = [((97, 51), (51,)), ((8, 9, 5), (9, 5)), ((1, 51), (7, 51)), ((300, 3), (3,)),
                 ((2, 3, 4), (1, 1, 4)), ((1200, 512), (512,))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64"])
@pytest.mark.parametrize("shape,other", TILED_LAYOUTS)
def test_trailing_dims_broadcasts(shape, other, dtype):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-4, 4, shape), rng.uniform(-4, 4, other)

    def ops(lib, x, y):
        return (x + y, y * x, lib.maximum(x, y), lib.where(x > 0, x, y), x > y, x.clone().sub_(y)
                if x.shape == lib.broadcast_shapes(x.shape, y.shape) else y - x, lib.clamp(x, y, 3))
    check(ops, Arg(a, dtype), Arg(b, dtype))


@pytest.mark.cpu_only
def test_trailing_dims_broadcasts_take_the_tiled_kernels(monkeypatch):
    from tritensor.backends import cpu
    taken = []
    run_tiled = cpu._run_tiled
    monkeypatch.setattr(cpu, "_run_tiled", lambda *a: taken.append(a[0]) or run_tiled(*a))
    for shape, other in TILED_LAYOUTS:
        taken.clear()
        out = tritensor.empty(tritensor.broadcast_shapes(shape, other))  # out=: the general path
        tritensor.mul(tritensor.ones(shape), tritensor.ones(other), out=out)
        assert taken == ["mul"], (shape, other)
