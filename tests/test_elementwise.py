"""Elementwise ops against torch: values, dtypes, broadcasting, strides, gradients, errors."""
import numpy as np
import pytest
import torch
from hypothesis import example, given, settings, strategies as st

import tritensor
from harness import (ALL_DTYPES, INT_DTYPES, ORACLE_DEVICE, Arg, check,
                     cpu_oracle_only, dev, gradcheck)

rng = np.random.default_rng(0)


def data(shape, dtype="float32", low=-3, high=3):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in INT_DTYPES:
        lo = 0 if dtype == "uint8" else low
        return rng.integers(lo, high + 1, shape).astype(dtype)
    return rng.uniform(low, high, shape).astype(np.float64 if dtype in ("bfloat16", "float16") else dtype)


UNARY_FLOAT = ["exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal",
               "sin", "cos", "tan", "tanh", "sigmoid", "atan", "sinh", "cosh", "erf", "asin", "acos",
               "asinh", "acosh", "atanh", "angle"]
UNARY_SAME = ["neg", "abs", "sign", "square", "relu", "floor", "ceil", "round", "trunc", "frac"]
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "log1p", "reciprocal"}
UNIT = {"asin", "acos", "atanh"}


def _unary_input(name, shape, dtype):
    if name in POSITIVE:
        return data(shape, dtype, 0.1, 3) if dtype not in INT_DTYPES else data(shape, dtype, 1, 5)
    if name == "acosh":
        return data(shape, dtype, 1.05, 4) if dtype not in INT_DTYPES else data(shape, dtype, 1, 5)
    if name in UNIT:
        return data(shape, dtype, -0.9, 0.9) if dtype not in INT_DTYPES else data(shape, dtype, 0, 0)
    return data(shape, dtype)


@pytest.mark.parametrize("name", UNARY_FLOAT + UNARY_SAME)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8"])
def test_unary_values(name, dtype):
    check(lambda lib, x: getattr(lib, name)(x), Arg(_unary_input(name, (3, 4), dtype), dtype))


@pytest.mark.parametrize("name", UNARY_FLOAT + UNARY_SAME)
def test_unary_grad_and_method(name):
    x = Arg(_unary_input(name, (5,), "float64"), requires_grad=True)
    check(lambda lib, t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sin", "log", "sqrt", "abs", "relu", "asinh",
                                  "acosh", "atanh"])
def test_unary_gradcheck(name):
    gradcheck(lambda lib, t: getattr(lib, name)(t), _unary_input(name, (4,), "float64") + 0.05)


@pytest.mark.parametrize("name", ["exp", "neg", "relu", "sigmoid", "tanh", "floor", "sqrt", "abs"])
def test_unary_inplace(name):
    x = _unary_input(name, (3, 3), "float32")
    check(lambda lib, t: getattr(t.clone(), name + "_")(), Arg(x))


@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (2, 0, 3), (3, 5, 2)])
def test_unary_shapes(shape):
    check(lambda lib, x: x.exp(), Arg(data(shape)))


def test_unary_noncontiguous():
    check(lambda lib, x: x.sigmoid(), Arg(data((4, 6)), transpose=True))
    check(lambda lib, x: x[:, ::2].exp(), Arg(data((4, 6))))


def test_unary_errors():
    check(lambda lib, x: -x, Arg(data((3,), "bool")))
    check(lambda lib, x: x.exp_(), Arg(data((3,), "int64")))


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "atan2", "pow", "remainder", "fmod"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "int16", "uint8", "bfloat16"])
def test_binary_values(name, dtype):
    a = data((4, 5), dtype, 1, 4)
    b = data((4, 5), dtype, 1, 4)
    if ORACLE_DEVICE != "cpu" and dtype in INT_DTYPES and (b == 0).any():
        b[b == 0] = 1  # integer division by zero raises on torch's CPU build only
    if name == "atan2" and dtype in INT_DTYPES:
        pass
    check(lambda lib, x, y: getattr(lib, name)(x, y), Arg(a, dtype), Arg(b, dtype))


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "float64"])
def test_rounding_ops_with_negative_operands(dtype):
    """fmod takes the dividend's sign, remainder the divisor's, trunc/floor division round
    toward zero/down: every sign combination, with tensor, scalar and 0-d divisors."""
    a = np.array([-7, -6, -1, 0, 1, 5, 7, -8, 8], dtype)
    b = np.array([2, -3, 3, -2, -1, -3, -2, 3, 3], dtype)
    def ops(lib, x, y):
        return (lib.fmod(x, y), lib.remainder(x, y), lib.div(x, y, rounding_mode="trunc"),
                lib.div(x, y, rounding_mode="floor"), lib.floor_divide(x, y))
    check(ops, Arg(a, dtype), Arg(b, dtype))
    for divisor in (3, -3):
        check(lambda lib, x: ops(lib, x, divisor) + ops(lib, x, lib.tensor(divisor, device=x.device)),
              Arg(a, dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_operands_are_cast_to_a_narrow_common_dtype(dtype):
    """With a float16/bfloat16 result, torch casts the operands to it before computing: a
    number, a 0-d float32 tensor or int32 values (65505 and beyond are inf in float16) meet
    the tensor's values rounded, whatever precision the kernel computes in; except that its
    CPU mul and div read a number (or 0-d tensor) operand unrounded."""
    x = Arg(np.array([0.1, 0.3, 1 / 3, 1.764, -2.5, 1000]), dtype)
    for other in (0.1, 1 / 3, 0.3, 70000, -3):
        check(lambda lib, t: (t == other, t != other, t >= other, t < other, t - other, t + other, t * other,
                              t / other, other * t, lib.remainder(t, other), t.pow(other / 1e5),
                              lib.maximum(t, lib.tensor(other, device=t.device)),
                              t.clone().add_(other), t.clone().mul_(other), t.clone().div_(other)), x)
    check(lambda lib, t, u: (t + u, t * u), x, Arg(np.array([1, 65505, 70000, -3, 300000, 7]), "int32"))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_0d_operand_is_cast_to_a_narrow_common_dtype(dtype):
    """A 0-d float32 tensor with a float16/bfloat16 one: rounded to it, as torch does (unrounded
    by mul and div). The cast runs on the device."""
    x = Arg(np.array([0.1, 0.3, 1 / 3, 1.764, -2.5, 1000]), dtype)
    check(lambda lib, t, u: (t == u, t - u, u + t, t * u, t / u), x, Arg(np.array(0.1), "float32"))


@pytest.mark.parametrize("name", BINARY)
def test_binary_grad(name):
    a = Arg(data((3, 4), "float64", 0.5, 2), requires_grad=True)
    b = Arg(data((3, 4), "float64", 0.5, 2), requires_grad=True)
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "atan2", "maximum"])
def test_binary_gradcheck(name):
    gradcheck(lambda lib, x, y: getattr(lib, name)(x, y), data((3,), "float64", 0.5, 2),
              data((3,), "float64", 0.5, 2))


@pytest.mark.parametrize("sa,sb", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1)),
                                   ((0, 3), (1, 3))])
def test_binary_broadcast_with_grad(sa, sb):
    a = Arg(data(sa, "float64"), requires_grad=True)
    b = Arg(data(sb, "float64"), requires_grad=True)
    check(lambda lib, x, y: x * y + x, a, b)


@pytest.mark.parametrize("da", ALL_DTYPES)
@pytest.mark.parametrize("db", ALL_DTYPES)
def test_promotion_add_mul(da, db):
    check(lambda lib, x, y: x * y + x, Arg(data((2, 3), da), da), Arg(data((2, 3), db), db))


@pytest.mark.parametrize("scalar", [2, 2.5, True, -3])
@pytest.mark.parametrize("dtype", ["int64", "int8", "uint8", "float16", "float32", "bool"])
def test_python_scalars(scalar, dtype):
    check(lambda lib, x: (x + scalar, x * scalar, scalar * x, x - scalar if dtype != "bool" else x,
                          x / scalar, x == scalar), Arg(data((3,), dtype), dtype))


@pytest.mark.parametrize("zero_dim", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dtype", ["float16", "int8", "int32", "float32"])
def test_zero_dim_promotion(zero_dim, dtype):
    check(lambda lib, x, s: x + s, Arg(data((3,), dtype), dtype), Arg(np.asarray(data((), zero_dim)), zero_dim))


def test_reflected_and_augmented_operators():
    check(lambda lib, x: (2 - x, 2 / x, 2 ** x, 7 // x, 7 % x), Arg(data((4,), "float32", 1, 3)))
    check(lambda lib, x, y: (x @ y, y.t() @ x.t()), Arg(data((2, 3))), Arg(data((3, 2))))

    def aug(lib, x, y):
        x = x.clone()
        x += y
        x *= 2
        x -= 1
        x /= 3
        return x
    check(aug, Arg(data((3,))), Arg(data((3,))))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int8"])
def test_div_rounding(mode, dtype):
    a, b = data((6,), dtype, -7, 7), data((6,), dtype, 1, 3) * np.array([1, -1, 1, -1, 1, -1]).astype(dtype if dtype != "int8" else "int8")
    check(lambda lib, x, y: (lib.div(x, y, rounding_mode=mode), lib.floor_divide(x, y), x % y),
          Arg(a, dtype), Arg(b, dtype))


@cpu_oracle_only
def test_integer_division_by_zero():
    check(lambda lib, x, y: lib.div(x, y, rounding_mode="floor"), Arg(np.array([1, 2])), Arg(np.array([1, 0])))
    check(lambda lib, x: x % 0, Arg(np.array([1, 2])))


def test_comparisons_and_logic():
    a, b = Arg(data((3, 4), "float32")), Arg(data((3, 4), "float32"))
    check(lambda lib, x, y: (x < y, x <= y, x > y, x >= y, x == y, x != y, lib.logical_and(x > 0, y > 0),
                             lib.logical_or(x, y), lib.logical_xor(x > 0, y), lib.logical_not(x)), a, b)


@pytest.mark.parametrize("dtype", ["int64", "int16", "uint8", "bool"])
def test_bitwise(dtype):
    a, b = Arg(data((5,), dtype, 0, 9), dtype), Arg(data((5,), dtype, 0, 9), dtype)
    check(lambda lib, x, y: (x & y, x | y, x ^ y, ~x), a, b)
    check(lambda lib, x: x & 1.5, Arg(data((3,), "float32")))


def test_nan_and_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5], np.float32)
    check(lambda lib, t: (t.isnan(), t.isinf(), t.isfinite(), lib.nan_to_num(t), t.sign(), t.relu(),
                          t.round(), t.floor()), Arg(x))
    pairs = (lambda lib, t, u: (lib.maximum(t, u), lib.minimum(t, u), lib.fmax(t, u), lib.fmin(t, u),
                                t.clamp(-1, 1), lib.where(t > u, t, u)))
    check(pairs, Arg(x), Arg(x[::-1].copy()))


def test_activations():
    x = Arg(data((4, 5), "float64"), requires_grad=True)
    check(lambda lib, t: (lib.nn.functional.gelu(t), lib.nn.functional.gelu(t, approximate="tanh"),
                          lib.nn.functional.silu(t), lib.nn.functional.softplus(t, beta=2.0, threshold=3.0),
                          lib.nn.functional.leaky_relu(t, 0.2), lib.nn.functional.elu(t)), x)
    gradcheck(lambda lib, t: lib.nn.functional.softplus(t, beta=2.0, threshold=3.0) + lib.nn.functional.gelu(t),
              data((5,), "float64"))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_clamp(dtype):
    x = Arg(data((4, 5), dtype), dtype)
    check(lambda lib, t: (t.clamp(-1, 2), t.clamp(min=0), t.clamp(max=1), lib.clip(t, -2, 0)), x)
    check(lambda lib, t, lo: t.clamp(lo, lo + 2), x, Arg(data((5,), dtype), dtype))
    check(lambda lib, t: t.clamp(), x)


@pytest.mark.parametrize("bounds", [(-1000, 1000), (None, 1000), (-129, None), (-100, 100), (-1000.0, 1000.0),
                                    (-1, None), (0, 2 ** 63)])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_clamp_number_bounds_must_fit_an_integer_result(bounds, dtype):
    """torch converts number bounds to an integer result's dtype: beyond its range is an error
    (a negative wraps into an unsigned type); float bounds make the result float."""
    lo, hi = bounds
    def calls(lib, t):
        if lo is not None and hi is not None:
            return t.clamp(lo, hi), t.clone().clamp_(lo, hi)
        if hi is None:
            return t.clamp(min=lo), lib.clamp_min(t, lo)
        return t.clamp(max=hi), lib.clamp_max(t, hi)
    check(calls, Arg(np.array([1, 5, 100]), dtype))


def test_python_number_conversions_of_many_elements_are_value_errors():
    for lib in (torch, tritensor):
        t = lib.tensor([1.0, 2.0], device=dev(lib))
        for convert in (int, float, complex):
            with pytest.raises(ValueError, match="only one element tensors"):
                convert(t)
        with pytest.raises(RuntimeError):
            t.item()


def test_clamp_grad():
    check(lambda lib, t: t.clamp(-1, 1), Arg(data((6,), "float64"), requires_grad=True))
    check(lambda lib, t, lo: t.clamp(min=lo), Arg(data((6,), "float64"), requires_grad=True),
          Arg(data((6,), "float64"), requires_grad=True))


def test_where_lerp_addcmul():
    c = Arg(data((3, 4), "bool"))
    a = Arg(data((3, 4), "float64"), requires_grad=True)
    b = Arg(data((1, 4), "float64"), requires_grad=True)
    check(lambda lib, cc, x, y: lib.where(cc, x, y), c, a, b)
    check(lambda lib, x, y: lib.lerp(x, y, 0.3), a, b)
    check(lambda lib, x, y, w: lib.lerp(x, y, w), a, b, Arg(data((3, 4), "float64", 0, 1), requires_grad=True))
    check(lambda lib, x, y: lib.addcmul(x, y, y, value=0.5), a, b)
    check(lambda lib, x, y: lib.addcdiv(x, y, y + 5, value=0.5), a, b)
    check(lambda lib, cc: lib.where(cc, 1.0, 0), c)
    n = Arg(data((3, 4), "int64"))  # an integer addcmul truncates value (no float result); bool has none
    for value in (1.7, -1.7, 2, 0.5):
        check(lambda lib, x: (lib.addcmul(x, x, x, value=value), x.clone().addcmul_(x, x, value=value)), n)
    check(lambda lib, cc: lib.addcmul(cc, cc, cc, value=0.5), c)


def test_inplace_on_leaf_requiring_grad_is_an_error():
    check(lambda lib, x: x.add_(1), Arg(data((3,), "float32"), requires_grad=True))


def test_inplace_lossy_cast_is_an_error():
    check(lambda lib, x: x.add_(1.5), Arg(data((3,), "int64")))
    check(lambda lib, x, y: x.mul_(y), Arg(data((3,), "int32")), Arg(data((3,), "float32")))
    check(lambda lib, x, y: x.add_(y), Arg(data((3,), "float32")), Arg(data((3,), "float64")))


def test_alpha():
    check(lambda lib, x, y: (lib.add(x, y, alpha=2), lib.sub(x, y, alpha=0.5)),
          Arg(data((3,), "float64"), requires_grad=True), Arg(data((3,), "float64"), requires_grad=True))
    check(lambda lib, x, y: lib.add(x, y, alpha=0.5), Arg(data((3,), "int64")), Arg(data((3,), "int64")))


def test_scalar_operand_grad_fn_names():
    x = Arg(data((3,), "float64", 0.5, 2), requires_grad=True)
    check(lambda lib, t: (t + 1, t - 1, t * 2, t / 2, 1 - t, t ** 2, t ** 3, t ** 0.5, 2 ** t, t % 2,
                          lib.fmod(t, 2), lib.rsub(t, 3, alpha=2), lib.sub(t, 1, alpha=2), t.pow(0)), x)
    check(lambda lib, t, u: (lib.rsub(t, u), lib.rsub(t, u, alpha=0.5), t % u, lib.fmod(t, u), t ** u,
                          lib.div(t, u, rounding_mode="trunc"), lib.div(t, 2, rounding_mode="floor")),
          x, Arg(data((3,), "float64", 0.5, 2), requires_grad=True))


def test_floor_divide_has_no_derivative():
    x = Arg(data((3,), "float64", 1, 3), requires_grad=True)
    check(lambda lib, t: (t // 2, type((t // 2).grad_fn).__name__), x, grad=False)
    check(lambda lib, t: (t // 2).sum().backward(), x)  # RuntimeError in both


@pytest.mark.parametrize("name", ["fmax", "fmin", "maximum", "minimum"])
def test_extrema_grads_with_ties_and_nan(name):
    a = np.array([1.0, 2.0, np.nan, 3.0, 0.5])
    b = np.array([1.0, 3.0, 1.0, np.nan, 0.25])
    check(lambda lib, x, y: getattr(lib, name)(x, y), Arg(a, requires_grad=True), Arg(b, requires_grad=True))
    check(lambda lib, x: getattr(lib, name)(x, 1.0), Arg(a))  # TypeError: other must be a tensor


def test_clamp_variants_and_grads():
    x = data((6,), "float64")
    lo, hi = data((6,), "float64", -2, 0), data((6,), "float64", 0, 2)
    args = (Arg(x, requires_grad=True), Arg(lo, requires_grad=True), Arg(hi, requires_grad=True))
    check(lambda lib, t, a, b: lib.clamp(t, a, b), *args)
    check(lambda lib, t, a, b: (t.clamp(min=a), t.clamp(max=b), lib.clamp_min(t, a), lib.clamp_max(t, b)), *args)
    check(lambda lib, t, a, b: lib.clamp(t, b, a), *args)  # min > max: the result is max
    check(lambda lib, t: (t.clamp(min=0), t.clamp(max=0.5), lib.clamp_min(t, -1), t.clamp_max(1),
                          lib.clip(t, -1, 1)), Arg(x, requires_grad=True))
    check(lambda lib, t, a: t.clamp(min=a, max=1.0), Arg(x), Arg(lo))  # TypeError: mixed bounds
    check(lambda lib, t: t.clamp(min=0.5), Arg(data((4,), "int64")))  # promotes to float
    check(lambda lib, t: t.clone().clamp_(min=0.5), Arg(data((4,), "int64")))  # can't cast in place


def test_pow_edge_grads():
    base = np.array([0.0, 0.0, 2.0, 1.5])
    exponent = np.array([0.0, 2.0, 0.0, -1.0])
    check(lambda lib, b, e: b ** e, Arg(base, requires_grad=True), Arg(exponent, requires_grad=True))
    check(lambda lib, e: (0 ** e, 2.5 ** e), Arg(exponent, requires_grad=True))
    check(lambda lib, b: (b ** 0, b ** 1, lib.pow(b, 2)), Arg(base, requires_grad=True))
    check(lambda lib, x: (lib.float_power(x, 2), lib.float_power(x, x), lib.float_power(2, x)),
          Arg(data((3,), "float32", 0.5, 2)))
    check(lambda lib, x: x ** -1, Arg(np.array([1, 2])))  # integers to negative powers: error
    ints = np.array([2, -2, 1, -1, 0, 3])
    check(lambda lib, x, e: (x ** e, lib.pow(x, e.abs()), 2 ** e.abs()), Arg(ints), Arg(np.array([-1, -3, -2, -3, -1, 2])))
    check(lambda lib, x, y: lib.hypot(x, y), Arg(data((4,), "float64"), requires_grad=True),
          Arg(data((4,), "float64"), requires_grad=True))
    check(lambda lib, x: lib.hypot(x, x), Arg(ints))


def test_integer_wraparound_with_python_scalars():
    x = Arg(np.array([0, 1, 200, 255], np.uint8))
    check(lambda lib, t: (t + (-3), t - 300, t * -1, t + 256, -1 + t), x)
    check(lambda lib, t: (t + 200, t * 100), Arg(np.array([-100, 5, 127], np.int8)))


def test_zero_dim_operands():
    x = Arg(data((2, 3), "float64"), requires_grad=True)
    s = Arg(np.asarray(1.5), requires_grad=True)
    check(lambda lib, t, z: (t * z, z - t, lib.maximum(t, z), lib.where(t > 0, t, z), lib.atan2(t, z)),
          x, s)
    check(lambda lib, z: (z + 1, z * z, z.exp(), lib.where(z > 0, z, 0.0)), s)
    check(lambda lib, t, z: (t + z, t * z, t / z, t == z), Arg(data((5,), "int8"), "int8"),
          Arg(np.asarray(3), "int64"))


def test_where_scalars_and_dtypes():
    c = Arg(data((3, 4), "bool"))
    check(lambda lib, cc: (lib.where(cc, 1.0, 0), lib.where(cc, 2, 3), lib.where(cc, True, False)), c)
    check(lambda lib, cc, x: (lib.where(cc, x, 2.5), lib.where(cc, 0, x), lib.where(cc, x, x.double())),
          c, Arg(data((3, 4), "int32"), "int32"))
    check(lambda lib, cc, x: lib.where(cc, x, 0.0), c, Arg(data((1, 4), "float64"), requires_grad=True))
    check(lambda lib, cc, x: lib.where(cc.int(), x, x), c, Arg(data((3, 4))))  # non-bool condition


def test_reflected_shifts_and_atan2_gradient_at_the_origin():
    check(lambda lib, t: (2 << t, 64 >> t, 1 << t[0]), Arg(np.array([1, 2, 3]), "int64"))
    zero_pairs = (np.array([0.0, 0.0, 1.0, -2.0]), np.array([0.0, -0.0, 0.0, 3.0]))
    check(lambda lib, y, x: lib.atan2(y, x), Arg(zero_pairs[0], requires_grad=True),
          Arg(zero_pairs[1], requires_grad=True))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
def test_shifts_by_the_width_or_more(dtype):
    """torch: 0 for left shifts and non-negative right shifts, -1 for negative right shifts."""
    x = Arg(np.array([-5, 5, 0, 1, -128 if dtype != "uint8" else 200]).astype(dtype), dtype)
    amounts = Arg(np.array([7, 8, 9, 40, 63]).astype(dtype if dtype != "int8" else "int8"), dtype)
    check(lambda lib, t: (t >> 9, t << 9, t >> 40, t << 40, t >> 63), x)
    check(lambda lib, t, s: (t >> s, t << s), x, amounts)


def test_bitwise_dtypes_and_errors():
    x = Arg(data((5,), "int32", 0, 9), "int32")
    check(lambda lib, t: (t & 6, t | True, t ^ -1, t << 2, t >> 1, lib.bitwise_left_shift(t, t), ~t), x)
    check(lambda lib, t: (t & True, t | False, ~t), Arg(data((5,), "bool")))
    for fn in (lambda lib, t: t << 1, lambda lib, t: t >> True, lambda lib, t: lib.bitwise_not(t.float()),
               lambda lib, t: t & 1.5):
        check(fn, Arg(data((3,), "bool")))  # NotImplementedError like torch


@pytest.mark.parametrize("fn", [
    lambda lib, t: t.abs(), lambda lib, t: t.floor(), lambda lib, t: t.ceil(), lambda lib, t: t.round(),
    lambda lib, t: t.trunc(), lambda lib, t: t.frac(), lambda lib, t: t.relu(), lambda lib, t: t ** t,
    lambda lib, t: t // t, lambda lib, t: t % t, lambda lib, t: lib.fmod(t, t), lambda lib, t: lib.hypot(t, t),
    lambda lib, t: lib.div(t, t, rounding_mode="trunc"), lambda lib, t: t.square(), lambda lib, t: t ** 2,
    lambda lib, t: t.clamp(0, 1), lambda lib, t: t.sign(), lambda lib, t: lib.sigmoid(t)])
@cpu_oracle_only  # torch's CUDA build has abs, floor ... for bool
def test_bool_inputs(fn):
    check(fn, Arg(np.array([True, False, True])))


def test_not_implemented_dtypes():
    check(lambda lib, t: t.frac(), Arg(data((3,), "int64")))
    check(lambda lib, t: lib.lerp(t, t, 0.5), Arg(data((3,), "int64")))
    check(lambda lib, t: lib.lerp(t, t.double(), 0.5), Arg(data((3,), "float32")))


def test_special_values_of_unary_kernels():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.0, -2.0])
    check(lambda lib, t: (t.sign(), t.relu(), t.abs(), t.sgn(), lib.sigmoid(t), t.tanh(), t.floor(), t.frac()),
          Arg(x))


def test_relu_gradient_is_threshold_backward_like_torch():
    """One fused kernel for relu's gradient: zero where x <= 0, passed through at NaN, and
    differentiable again (ThresholdBackwardBackward0)."""
    x_np = np.array([-1.0, 0.0, 2.0, np.nan])
    check(lambda lib, x: x.relu(), Arg(x_np, requires_grad=True))
    results = {}
    for lib in (torch, tritensor):
        x = lib.tensor(x_np, device=dev(lib), requires_grad=True)
        g = lib.tensor([1.0, 2.0, 3.0, 4.0], device=dev(lib), requires_grad=True)
        (gx,) = lib.autograd.grad(x.relu(), x, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum(), g)
        results[lib.__name__] = (type(gx.grad_fn).__name__, gx.detach().cpu().numpy(), gg.cpu().numpy())
    assert results["tritensor"][0] == results["torch"][0] == "ThresholdBackwardBackward0"
    for a, b in zip(results["tritensor"][1:], results["torch"][1:]):
        np.testing.assert_array_equal(a, b)


LANE_SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 1, 5)]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool", "float16"])
@pytest.mark.parametrize("shape", LANE_SHAPES)
def test_operator_fast_lane_matches_torch(op, dtype, shape):
    """The operators' fast lane (same dtype and shape, nothing recorded) against torch,
    with tensor and Python-scalar right operands, in place of the general path."""
    import operator
    f = getattr(operator, op)
    a, b = data(shape, dtype), data(shape, dtype, 1, 3)
    check(lambda lib, x, y: f(x, y), Arg(a, dtype), Arg(b, dtype))
    for scalar in (2, 2.5, 300, -3):
        check(lambda lib, x: (f(x, scalar), f(scalar, x) if op in ("add", "mul") else None), Arg(a, dtype))


@pytest.mark.parametrize("op", ["add", "mul"])
def test_operator_fast_lane_declines_what_it_cannot_run(op):
    """Non-contiguous, broadcast, mixed-dtype, recording and many-element (threaded) calls
    take the general path or the lane's threaded branch, with torch's results."""
    import operator
    f = getattr(operator, op)
    x = data((4, 6))
    check(lambda lib, t: f(t, t.t().t()), Arg(x))
    check(lambda lib, t: f(t, t.t().contiguous().t()), Arg(x))  # transposed, not contiguous
    check(lambda lib, t: f(t, t[:, 1:2]), Arg(x))                 # broadcast
    check(lambda lib, t: f(t, t.double()), Arg(x))                # promotion
    check(lambda lib, t: f(t, t), Arg(x, requires_grad=True))     # recorded
    check(lambda lib, t: f(t[::2], t[1::2]), Arg(x))              # strided views of one storage
    big = data((1 << 19) + 3)
    check(lambda lib, t: f(t, t), Arg(big))


def test_fast_lane_follows_in_place_view_changes():
    """A tensor's cached flat array is dropped when an in-place view op changes its layout."""
    x = data((3, 4))
    check(lambda lib, t: (lambda c: (c + c, c.t_(), c + c.contiguous())[::2])(t.clone()), Arg(x))
    # ``.data =`` re-points the tensor: its cached arrays go with the old layout
    check(lambda lib, t: (lambda c: (c * 2, setattr(c, "data", t.t() * 3), c * 2)[::2])(t.clone()), Arg(x))


def test_common_calls_take_the_fast_lane(monkeypatch):
    """Same-dtype, same-shape operators (or a second operand broadcast as one row along the
    first's leading dims: a bias), ops called by name, recorded ops and ops with scalar
    parameters run through the fast lane, never the general ``compute`` path (its cost is
    what the lane exists to avoid); anything else still reaches ``compute``."""
    from harness import DEVICE
    from tritensor.ops import elementwise as ew
    a = tritensor.ones(3, 4, device=DEVICE)
    b = tritensor.ones(3, 4, device=DEVICE)
    w = tritensor.ones(3, 4, device=DEVICE, requires_grad=True)
    calls = []
    general = ew.compute
    monkeypatch.setattr(ew, "compute", lambda *args, **kw: calls.append(args[0]) or general(*args, **kw))
    a + b, a * 2.5, a - 1, a / b, 3 * a, tritensor.add(a, b), a.relu(), a.exp(), w.sigmoid()
    tritensor.nn.functional.leaky_relu(a, 0.2)
    a + b[0], a - b[:1], a * b[0, :1], a < b[0]
    assert calls == []
    b[0] + a  # a broadcast first operand: the general path
    a + b[:, :1]  # a column: the general path
    a.double() + b  # promotion: the general path
    assert len(calls) == 3


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool"])
@pytest.mark.parametrize("shape,other", [((4, 5), (5,)), ((2, 3, 4), (1, 3, 4)), ((3, 4), (1,)), ((3, 4), ()),
                                         ((0, 4), (4,)), ((3, 0), (1,)), ((600, 512), (1, 512))])
def test_row_broadcasts_of_the_fast_lane(shape, other, dtype):
    """A second operand broadcast as one row along the first's leading dims (a bias; one
    value; a 0-d tensor), empty results, and sizes split across threads, as torch computes."""
    def ops(lib, x, y):
        return x + y, x * y, x - y if dtype != "bool" else x ^ y, x > y, lib.maximum(x, y)
    check(ops, Arg(data(shape, dtype)), Arg(data(other, dtype)), check_stride=True)


def test_row_broadcasts_beside_expanded_values():
    """An expanded value (a full reduction's gradient) times a row, and a row beside a
    contiguous tensor expanded from one element: the lane declines what it cannot size."""
    def ops(lib, x, y):
        full = x.amax().expand(x.shape)
        return full * y, y * full, full * y[:1], x * x[:1, :1].expand(1, 5), x + y.amax().expand(5)
    check(ops, Arg(data((3, 5))), Arg(data((5,))))


@pytest.mark.parametrize("op,dtype", [(op, dtype) for op in ("add", "sub", "mul", "truediv")
                                      for dtype in ("float32", "float64", "int64", "bool")
                                      if (op, dtype) != ("sub", "bool")])  # torch refuses - on bools
def test_lane_takes_an_operand_expanded_from_one_value(op, dtype, monkeypatch):
    """One value expanded to the shape (all strides 0: the gradient of a full reduction)
    stands for a scalar in the lanes, on either side and in place, with torch's values;
    on CPU no such call reaches the general path. Empty and all-expanded calls still run."""
    import operator
    from harness import DEVICE
    from tritensor.ops import elementwise as ew
    f, f_ = getattr(operator, op), getattr(operator, "i" + op)
    integer_quotient = op == "truediv" and dtype in ("int64", "bool")  # a float result: no lane
    one = data((), dtype, 1, 3)
    calls = []
    general = ew.compute
    monkeypatch.setattr(ew, "compute", lambda *args, **kw: calls.append(args[0]) or general(*args, **kw))
    for shape in ((3, 4), (2, (1 << 18) + 5)):  # a small call, and one the lane splits over threads
        x = data(shape, dtype)
        check(lambda lib, t, s: (f(t, s.expand(shape)), f(s.expand(shape), t),
                                 f(s[None].expand(shape[1]), t[0])), Arg(x, dtype), Arg(one, dtype))
        if not integer_quotient:  # an integer tensor cannot hold the quotient in place
            check(lambda lib, t, s: f_(t.clone(), s.expand(shape)), Arg(x, dtype), Arg(one, dtype))
    if DEVICE == "cpu" and not integer_quotient:
        assert calls == []
    x = data((3, 4), dtype)
    assert check(lambda lib, t, s: (f(s.expand(3, 4), s.expand(3, 4)), f(t[:0], s.expand(0, 4))),
                 Arg(x, dtype), Arg(one, dtype)) is not None


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_operands_expanded_over_leading_dims(dtype):
    """An operand expanded over leading dims (a bias or mask expanded to the batch) is read as
    its contiguous block; torch's values for each layout: a (4, 5) block, a (5,) one under two
    broadcast dims, a 4-D expansion, a transposed block (the general path), in place."""
    def ops(lib, t, s, c):
        big = s.expand(3, 4, 5)
        return (t * big, big * t, lib.maximum(t, s[:1].expand(3, 4, 5)), t * s.expand(2, 3, 4, 5),
                lib.maximum(t, s.t().contiguous().t().expand(3, 4, 5)), lib.where(c.expand(3, 4, 5), t, big),
                lib.where(c.expand(3, 4, 5), big, t[0]), t.clone().mul_(big))
    check(ops, Arg(data((3, 4, 5), dtype), dtype), Arg(data((4, 5), dtype), dtype),
          Arg(np.triu(np.ones((4, 5), bool), 1)))
    check(lambda lib, t, s: t * s.t().expand(3, 4, 5), Arg(data((3, 4, 5), dtype), dtype),
          Arg(data((5, 4), dtype), dtype))


def test_gradients_of_full_reductions_accumulate_like_torch():
    """``x.sum()``'s gradient is one value expanded: it accumulates into ``.grad`` (first a
    copy, then in place) and meets the other operand of a product on either side."""
    for shape in ((3, 4), (600, 500)):  # the second one's lanes split the work over threads
        check(lambda lib, a, b: [((a * b).sum() + (b / a).sum() + a.mean()).backward() for _ in range(3)] and
              (a.grad, b.grad), Arg(data(shape, "float64"), requires_grad=True),
              Arg(data(shape, "float64"), requires_grad=True), grad=False)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_out_of_a_wider_dtype_gets_the_rounded_result(dtype):
    """out= wider than the result dtype: torch computes in float32, rounds to the (16-bit)
    result dtype, then widens into out; so does tritensor."""
    a = np.linspace(-2, 2, 37)

    def into(lib, x, wide):
        out = lib.empty(0, dtype=getattr(lib, wide), device=x.device)
        return (lib.exp(x, out=out), lib.mul(x, 3.3, out=out.clone()),
                lib.add(x, x, alpha=0.7, out=out.clone()), lib.sigmoid(x, out=out.clone()))
    for wide in ("float32", "float64"):
        # compared exactly: the roundings must be the same ones
        check(lambda lib, x: into(lib, x, wide), Arg(a, dtype), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "uint8", "bool"])
@pytest.mark.parametrize("batch, rows, cols", [(1, 300, 257), (3, 17, 70), (2, 1, 5), (1, 65, 64)])
def test_operands_contiguous_along_different_axes(dtype, batch, rows, cols):
    """Tensors contiguous along different axes (the tiled kernel on 'cuda'): a transposed
    operand of arity 1 to 4, a transposing and a casting copy, a transposed output, scalars
    and an operand broadcast along one axis among them, over sizes that leave partial tiles.
    Integer values keep every result exact in every dtype."""
    x, y = (data((batch, rows, cols), "int64", 0, 4).astype(np.float64 if dtype == "bfloat16" else dtype)
            for _ in range(2))
    y_t = np.ascontiguousarray(y.swapaxes(1, 2))  # passed as y_t.transpose(1, 2): y, column-major

    def flip(t):
        return t.transpose(1, 2)

    check(lambda lib, a, b: (a + flip(b), flip(b) - a if dtype != "bool" else flip(b) | a), Arg(x, dtype),
          Arg(y_t, dtype))
    check(lambda lib, a, b: (lib.where(a > 1, flip(b), 3), lib.clamp(flip(b), a, a + 2) if dtype != "bool"
                             else None), Arg(x, dtype), Arg(y_t, dtype))
    if dtype not in ("bool", "uint8"):
        check(lambda lib, a, b, c: lib.addcmul(a, flip(b), c[:, :, :1], value=2), Arg(x, dtype),
              Arg(y_t, dtype), Arg(x, dtype))
    check(lambda lib, b: (flip(b).contiguous(), flip(b).to(lib.float64).contiguous(),
                          lib.empty(batch, rows, cols, dtype=lib.float32, device=dev(lib)).copy_(flip(b))),
          Arg(y_t, dtype))
    check(lambda lib, a, b: flip(b).mul_(a) if dtype != "bool" else flip(b).logical_or_(a),
          Arg(x, dtype), Arg(y_t, dtype))


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), draws=st.data())
@example(shape=(2, 2), draws=None)  # found by a fuzz: a transposed out and a broadcast row
def test_out_in_any_layout_with_broadcast_operands(shape, draws):
    """``out=`` tensors in any dim order (maybe with a step) and an operand broadcast in any
    dims: every element lands where torch puts it. (Numba 0.68's ufunc loops misplace values for some
    such outs, so the CPU backend hands them a row-major view or a staged copy.)"""
    ndim = len(shape)
    if draws is None:  # the example: out = (2, 2).t(), b = a row
        perm, step, ones = (1, 0), 1, [True, False]
    else:
        perm = tuple(draws.draw(st.permutations(range(ndim))))
        step = draws.draw(st.sampled_from([1, 2]))
        ones = draws.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    a, b = data(shape), data(tuple(1 if o else n for o, n in zip(ones, shape)))
    stored = tuple(shape[p] for p in perm)
    inverse = tuple(perm.index(i) for i in range(ndim))

    def run(lib, x, y):
        out = lib.zeros(stored[:-1] + (stored[-1] * step,), device=dev(lib))[..., ::step].permute(*inverse)
        lib.add(x, y, out=out)
        ternary = lib.zeros(stored, device=dev(lib)).permute(*inverse)
        lib.where(y > 0, x, y + 1, out=ternary)
        return out, ternary
    check(run, Arg(a), Arg(b))
