"""Elementwise CPU kernels: one scalar function per op, compiled two ways.

- ``flat_kernel(name, arity)``: a loop over contiguous 1-D operands (scalars broadcast),
  specialised from one template per arity. This is the fast path: every operand is
  contiguous with the output's shape, so the loop is unit-stride and vectorises.
- ``ufunc(name)``: the scalar function vectorised into a Numba ufunc. Numpy's ufunc
  machinery then walks any strides and broadcasts (stride 0) without copying inputs.

Both are compiled lazily per input types and cached on disk, and both release the GIL,
so the backend can split large outputs across threads. Inputs arrive already cast to the op's compute dtype, so ``a + b`` of two
float32 arrays runs in float32; integer arithmetic wraps on store like torch's.
Scalar functions receive scalars; extra ufunc arguments (``alpha``, ``beta`` ...) are
broadcast scalars.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ._specialize import specialize

inline = numba.njit(inline="always", cache=True)


# ---------------------------------------------------------------- helpers
@inline
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@inline
def _softplus(x):
    return x if x > 20.0 else np.log1p(np.exp(x))


@inline
def _is_nan(x):
    return x != x


@inline
def _fmod_floor(a, b):
    # Python/torch remainder: the result takes the sign of the divisor.
    r = np.fmod(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return r


# ---------------------------------------------------------------- unary
def neg(x): return -x
def abs_(x): return abs(x)
def sign(x): return (x > 0) - (x < 0)  # torch: sign(nan) == 0
def exp(x): return np.exp(x)
def exp2(x): return np.exp2(x)
def log(x): return np.log(x)
def log2(x): return np.log2(x)
def log10(x): return np.log10(x)
def log1p(x): return np.log1p(x)
def expm1(x): return np.expm1(x)
def sqrt(x): return np.sqrt(x)
def rsqrt(x): return 1.0 / np.sqrt(x)
def reciprocal(x): return 1.0 / x
def square(x): return x * x
def sin(x): return np.sin(x)
def cos(x): return np.cos(x)
def tan(x): return np.tan(x)
def asin(x): return np.arcsin(x)
def acos(x): return np.arccos(x)
def atan(x): return np.arctan(x)
def sinh(x): return np.sinh(x)
def cosh(x): return np.cosh(x)
def tanh(x): return np.tanh(x)
def sigmoid(x): return _sigmoid(x)
def relu(x): return 0 if x < 0 else x  # keeps NaN; relu(-inf) == 0
def silu(x): return x * _sigmoid(x)
def gelu(x): return 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476))
def gelu_tanh(x): return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
def erf(x): return math.erf(x)
def floor(x): return np.floor(x)
def ceil(x): return np.ceil(x)
def round_(x): return np.rint(x)
def trunc(x): return np.trunc(x)
def frac(x): return x - np.trunc(x)
def logical_not(x): return not x
def bitwise_not(x): return ~x
def isnan(x): return x != x
def isinf(x): return x == np.inf or x == -np.inf
def isfinite(x): return x == x and x != np.inf and x != -np.inf
def identity(x): return x


# ---------------------------------------------------------------- unary with scalar parameters
def softplus(x, beta, threshold):
    bx = x * beta
    return x if bx > threshold else np.log1p(np.exp(bx)) / beta


def leaky_relu(x, slope): return x if x > 0 else x * slope
def elu(x, alpha): return x if x > 0 else alpha * np.expm1(x)
# torch's elu(x, alpha, scale, input_scale): selu and celu are its instances
def elu_scaled(x, alpha, scale, input_scale):
    return scale * x if x > 0 else scale * alpha * np.expm1(x * input_scale)


def threshold(x, threshold, value): return x if x > threshold else value
def mish(x): return x * np.tanh(_softplus(x))
def deg2rad(x): return x * 0.017453292519943295
def rad2deg(x): return x * 57.29577951308232


def logit(x, lo, hi):
    # torch's kernel: lo = eps and hi = 1 - eps in x's dtype; a negative (or NaN, or no) eps
    # leaves x unclamped, and lo > hi clamps to lo first
    if lo >= 0:
        x = lo if x < lo else (hi if x > hi else x)
    return np.log(x / (1 - x))
def hardswish(x): return x * min(max(x + 3.0, 0.0), 6.0) / 6.0
def hardsigmoid(x): return min(max(x + 3.0, 0.0), 6.0) / 6.0
def round_decimals(x, scale): return np.rint(x * scale) / scale


def nan_to_num(x, nan, posinf, neginf):
    if x != x:
        return nan
    if x == np.inf:
        return posinf
    if x == -np.inf:
        return neginf
    return x


def clamp(x, lo, hi):
    if x != x:
        return x
    if lo != lo:
        return lo
    if hi != hi:
        return hi
    return min(max(x, lo), hi)


def clamp_min(x, lo):
    if x != x or lo != lo:
        return x + lo
    return max(x, lo)


def clamp_max(x, hi):
    if x != x or hi != hi:
        return x + hi
    return min(x, hi)


# ---------------------------------------------------------------- binary
def add(a, b): return a + b
def add_alpha(a, b, alpha): return a + alpha * b
def sub(a, b): return a - b
def mul(a, b): return a * b
def div(a, b): return a / b
def div_trunc(a, b): return np.trunc(a / b)
def div_floor(a, b): return np.floor(a / b)
def int_div_trunc(a, b): return abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
def int_div_floor(a, b): return a // b
def remainder(a, b): return _fmod_floor(a, b)
def int_remainder(a, b): return a % b
def fmod(a, b): return np.fmod(a, b)


def int_fmod(a, b):
    # C's fmod on integers, the sign of the dividend (Numba's np.fmod on integers is not:
    # fmod(5, -3) gives 5): Python's modulo, which takes the divisor's sign, corrected.
    r = a % b
    if r != 0 and (r < 0) != (a < 0):
        r -= b
    return r


def pow_(a, b): return a ** b
def atan2(a, b): return np.arctan2(a, b)
def hypot(a, b): return np.hypot(a, b)
def copysign(a, b): return np.copysign(a, b)  # the sign bit: -0.0 and -nan count as negative


def logaddexp(a, b):
    if a == b and (a == np.inf or a == -np.inf):  # inf - inf would make nan
        return a
    return max(a, b) + np.log1p(np.exp(-abs(a - b)))


def logaddexp2(a, b):
    if a == b and (a == np.inf or a == -np.inf):
        return a
    return max(a, b) + np.log1p(np.exp2(-abs(a - b))) * 1.4426950408889634


def xlogy(x, y):
    # torch: nan where y is nan, else 0 where x is 0 (even where log(y) is -inf or nan)
    if y != y:
        return y
    return 0.0 if x == 0 else x * np.log(y)


def float_floor_divide(a, b):
    # torch.floor_divide on floats: floor of the true quotient, computed like Python's //.
    if b == 0:
        return a / b
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if mod != 0 and (b < 0) != (mod < 0):
        div -= 1.0
    if div != 0:
        fl = np.floor(div)
        if div - fl > 0.5:
            fl += 1.0
        return fl
    return div * 0.0 if (a / b) >= 0 else -0.0


def int_pow(a, b):
    if b < 0:  # torch: 1 ** -n == 1, (-1) ** -n == +-1, anything else truncates to 0
        return 1 if a == 1 else (0 if a != -1 else (-1 if b & 1 else 1))
    result = 1
    base = a
    e = b
    while e > 0:
        if e & 1:
            result *= base
        base *= base
        e >>= 1
    return result


def maximum(a, b):
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


def minimum(a, b):
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


def fmax(a, b):
    return b if a != a or b > a else a


def fmin(a, b):
    return b if a != a or b < a else a


def eq(a, b): return a == b
def ne(a, b): return a != b
def lt(a, b): return a < b
def le(a, b): return a <= b
def gt(a, b): return a > b
def ge(a, b): return a >= b
def logical_and(a, b): return bool(a) and bool(b)
def logical_or(a, b): return bool(a) or bool(b)
def logical_xor(a, b): return bool(a) != bool(b)
def bitwise_and(a, b): return a & b
def bitwise_or(a, b): return a | b
def bitwise_xor(a, b): return a ^ b
def left_shift(a, b): return a << b if 0 <= b < 64 else a * 0
def right_shift(a, b): return a >> b if 0 <= b < 64 else (a >> 63 if a < 0 else a * 0)


# ---------------------------------------------------------------- ternary
def lerp(a, b, w):
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


def where(cond, a, b): return a if cond else b
def addcmul(a, b, c, value): return a + value * b * c
def addcdiv(a, b, c, value): return a + value * b / c


# ---------------------------------------------------------------- backward helpers
def sigmoid_backward(g, y): return g * y * (1 - y)
def tanh_backward(g, y): return g * (1 - y * y)
def relu_backward(g, y): return g if y > 0 else g * 0


def silu_backward(g, x):
    s = _sigmoid(x)
    return g * s * (1 + x * (1 - s))


def gelu_backward(g, x):
    cdf = 0.5 * (1.0 + math.erf(x * 0.7071067811865476))
    pdf = np.exp(-0.5 * x * x) * 0.3989422804014327
    return g * (cdf + x * pdf)


def gelu_tanh_backward(g, x):
    k = 0.7978845608028654
    inner = k * (x + 0.044715 * x * x * x)
    t = np.tanh(inner)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))


def softplus_backward(g, x, beta, threshold):
    bx = x * beta
    return g if bx > threshold else g * _sigmoid(bx)


def logaddexp_backward(g, a, b): return g / (1 + np.exp(b - a))  # d/da logaddexp(a, b)
def logaddexp2_backward(g, a, b): return g / (1 + np.exp2(b - a))


def logit_backward(g, x, lo, hi):
    # torch's logit_backward: without eps nan outside [0, 1]; with eps zero outside [lo, hi],
    # NaN x included (at x = -0.0 as its vectorised loop: g / -0.0; its scalar tail says g * inf)
    if not lo >= 0:
        return np.nan if x < 0 or x > 1 else g / (x * (1 - x))
    return g / (x * (1 - x)) if x >= lo and x <= hi else 0.0


def threshold_backward(g, x, threshold): return 0.0 if x <= threshold else g  # NaN x: g, as torch


_NAMES = {"abs": abs_, "round": round_, "pow": pow_}


def scalar_function(name):
    """The plain-Python scalar function implementing ``name``."""
    fn = _NAMES.get(name) or globals().get(name)
    if fn is None or not callable(fn) or name.startswith("_"):
        raise KeyError(f"no elementwise CPU kernel named {name!r}")
    return fn


_UFUNCS = {}


def ufunc(name):
    """The Numba ufunc of the scalar function ``name`` (built once, cached on disk)."""
    u = _UFUNCS.get(name)
    if u is None:
        u = _UFUNCS[name] = numba.vectorize(cache=True, nopython=True)(scalar_function(name))
    return u


def compile_loop(u, dtypes):
    """Compile ``u``'s loop for exactly these input dtypes.

    Calling the ufunc would not do it when numpy can cast to an existing loop (int8 inputs
    reuse an int64 loop), and the backend passes an exact signature.
    """
    u._compile_for_argtys(tuple(numba.from_dtype(d) for d in dtypes))


# ---------------------------------------------------------------- flat (contiguous) kernels
def _at(x, i):
    """``x[i]`` for an array operand, ``x`` for a scalar operand (resolved at compile time)."""


@overload(_at, inline="always")
def _at_overload(x, i):
    if isinstance(x, types.Array):
        return lambda x, i: x[i]
    return lambda x, i: x


def scalar_op(*args):  # bound to the op's scalar function by ``specialize``
    raise NotImplementedError


def _flat1(out, a):
    for i in range(out.size):
        out[i] = scalar_op(_at(a, i))


def _flat2(out, a, b):
    for i in range(out.size):
        out[i] = scalar_op(_at(a, i), _at(b, i))


def _flat3(out, a, b, c):
    for i in range(out.size):
        out[i] = scalar_op(_at(a, i), _at(b, i), _at(c, i))


def _flat4(out, a, b, c, d):
    for i in range(out.size):
        out[i] = scalar_op(_at(a, i), _at(b, i), _at(c, i), _at(d, i))


_FLAT_TEMPLATES = {1: _flat1, 2: _flat2, 3: _flat3, 4: _flat4}
_FLAT = {}


def flat_kernel(name, arity):
    """The contiguous-loop kernel of op ``name`` taking ``arity`` operands."""
    k = _FLAT.get((name, arity))
    if k is None:
        scalar = inline(scalar_function(name))
        k = _FLAT[name, arity] = specialize(_FLAT_TEMPLATES[arity], name, {"error_model": "numpy"},
                                            scalar_op=scalar)
    return k


_ENTRIES = {}


def flat_entry(name, samples):
    """The machine-code entry of ``flat_kernel(name, len(samples) - 1)`` for arguments typed
    like ``samples`` (output array first): calling it skips the dispatcher's per-call type
    resolution, ~0.2 us of a 1-element op. Only for callers whose arguments always have
    exactly these types (1-D contiguous aligned arrays of these dtypes, these scalar types).
    """
    types_ = tuple(numba.typeof(x) for x in samples)
    entry = _ENTRIES.get((name, types_))
    if entry is None:
        entry = _ENTRIES[name, types_] = flat_kernel(name, len(samples) - 1).compile(types_)
    return entry

