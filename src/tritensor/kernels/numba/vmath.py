"""Vectorisable exp, log and the functions built on them, and a row max, for the CPU kernels.

LLVM vectorises a loop only when every call in it has a vector form. llvmlite ships no
vector math library, so a loop calling ``np.exp`` or ``np.tanh`` makes one scalar libm call
per element: about 1 ns for exp and 7 ns for tanh on the project's machine, where a float32
op's memory floor is ~0.1 ns per element (torch's SLEEF kernels come close to it). The
functions here use multiplies, adds, compares and exponent-bit arithmetic only, with no
branches, so loops over them compile to AVX2 / AVX-512 code. (Compiled with error_model
'numpy': Python's ZeroDivisionError check in a division would be a branch.)

``exp`` works in its argument's width. The argument is reduced as ``x = n ln2 + r``
(|r| <= ln2 / 2; ln2 in two parts, so ``n ln2`` is exact), ``exp(r)`` is its Taylor
polynomial (degree 13 in float64, truncation error < 5e-18; degree 7 in float32, < 6e-9),
and ``2^n`` is applied as two halves built from their exponent bits, so results below the
normal range round once into denormals and results past the largest value become inf.
Measured against long-double references (tests/test_vmath.py): exp within 1.2 ulp in either
width, the float32 functions within half an ulp or so, float64 log, log1p, expm1 within 2-3.

``log`` reduces x to m 2^e with m in [sqrt(1/2), sqrt(2)) by exponent-bit arithmetic and
sums atanh's series; float64 ``log1p`` and ``expm1`` undo the rounding of 1 + x (Goldberg's
and Kahan's rearrangements). float32 ``tanh``, ``log``, ``log1p``, ``expm1`` and ``erf`` go
through float64, where their cancellations have bits to spare, and are rounded once;
float64 ``tanh`` and ``erf`` keep libm's.

Numba's disk cache checks only a kernel's own source file: kernels specialised through
``_specialize`` fingerprint this module's source; the plain ``@njit(cache=True)`` kernels that
call it (softmax, cross entropy) need their ``__pycache__`` cleared after an edit here.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

inline = numba.njit(cache=True, nogil=True, inline="always")


def _bitcast(source, target):
    """An intrinsic reinterpreting a ``source`` scalar's bits as a ``target`` (an LLVM
    bitcast, which vectorises like any integer op)."""
    @intrinsic
    def reinterpret(typingctx, value):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))
        return target(source), codegen
    return reinterpret


_bits_to_float32 = _bitcast(types.int32, types.float32)
_bits_to_float64 = _bitcast(types.int64, types.float64)
_float32_bits = _bitcast(types.float32, types.int32)
_float64_bits = _bitcast(types.float64, types.int64)


def _is_float32(t) -> bool:
    t = getattr(t, "dtype", t)  # an array's element type
    return isinstance(t, types.Float) and t.bitwidth == 32


def by_width(float32, float64, inline="always"):
    """Make the decorated plain-Python function (the fallback outside Numba, and the name
    kernels call) dispatch by its argument's width inside Numba: ``float32(x)`` for float32
    (or a float32 array), ``float64(x)`` otherwise; both take one argument named ``x``.
    ``inline='always'`` inlines the chosen body into the caller's Numba IR, so the loop
    vectoriser sees it whatever its size."""
    def register(function):
        overload(function, inline=inline)(lambda x: float32 if _is_float32(x) else float64)
        return function
    return register


def through_float64(function):
    """The float32 form of a float64 ``function``: widened, computed and rounded once (for
    the functions whose cancellations need float64's spare bits)."""
    return lambda x: _F32(function(np.float64(x)))


#: ln2 in two parts (fdlibm's split): n * _LN2_HI is exact for |n| < 2^20
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.44269504088896338700
_F32 = np.float32
#: the float32 split: 0.693359375 has 9 significant bits, so n * _LN2_HI_32 is exact
_LN2_HI_32, _LN2_LO_32, _LOG2E_32 = _F32(0.693359375), _F32(-2.12194440e-4), _F32(_LOG2E)
_C32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(8))
#: just outside the arguments where exp overflows to inf or rounds to 0: clamping there
#: keeps n and its exponent arithmetic in range (NaN is put back at the end)
_EXP_RANGE_64 = (-746.0, 710.0)
_EXP_RANGE_32 = (_F32(-104.0), _F32(89.0))


@inline
def _pow2_64(n):
    """2.0 ** n for an int64 n in [-1022, 1023], from its exponent bits."""
    return _bits_to_float64((n + 1023) << 52)


@inline
def _pow2_32(n):
    """2.0 ** n as a float32, for an int32 n in [-126, 127]."""
    return _bits_to_float32((n + np.int32(127)) << np.int32(23))


@inline
def _exp64_clamped(c):
    """exp(c) for c in [-746, 710]."""
    n = np.floor(c * _LOG2E + 0.5)
    r = (c - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600 + r * (1 / 6227020800)))))))))))))
    k = np.int64(n)
    half = k >> 1  # 2^n as 2^half * 2^(n - half): both factors are normal for every n here
    return p * _pow2_64(half) * _pow2_64(k - half)


@inline
def _exp32_clamped(c):
    """exp(c) for c in [-104, 89]."""
    n = np.floor(c * _LOG2E_32 + _F32(0.5))
    r = (c - n * _LN2_HI_32) - n * _LN2_LO_32
    p = _C32[0] + r * (_C32[1] + r * (_C32[2] + r * (_C32[3] + r * (_C32[4] + r * (
        _C32[5] + r * (_C32[6] + r * _C32[7]))))))
    k = np.int32(n)
    half = k >> np.int32(1)
    return p * _pow2_32(half) * _pow2_32(k - half)


@inline
def _exp64(x):
    lo, hi = _EXP_RANGE_64
    c = x if x > lo else lo  # NaN compares false: clamped here, restored below
    c = c if c < hi else hi
    return _exp64_clamped(c) if x == x else x


@inline
def _exp32(x):
    lo, hi = _EXP_RANGE_32
    c = x if x > lo else lo
    c = c if c < hi else hi
    return _exp32_clamped(c) if x == x else x


@inline
def _exp64_nonpositive(x):
    lo = _EXP_RANGE_64[0]
    return _exp64_clamped(x if x > lo else lo)


@inline
def _exp32_nonpositive(x):
    lo = _EXP_RANGE_32[0]
    return _exp32_clamped(x if x > lo else lo)


@by_width(lambda x: _exp32(x),
          lambda x: _exp64(x))
def exp(x):
    """exp(x) in the argument's width, vectorisable (see the module docstring)."""
    return math.exp(x)


@by_width(lambda x: _exp32_nonpositive(x),  # not IR-inlined: in softmax's loops that trips a Numba
          lambda x: _exp64_nonpositive(x), inline='never')  # SSA check; LLVM inlines it anyway
def exp_nonpositive(x):
    """``exp`` for arguments known to be <= 0 or -inf, never NaN (logits minus their row's
    max): no overflow or NaN to handle, a few instructions less per element."""
    return math.exp(x)


@by_width(lambda x: _F32(1.0) / (_F32(1.0) + _exp32(-x)),
          lambda x: 1.0 / (1.0 + _exp64(-x)))
def sigmoid(x):
    """1 / (1 + exp(-x)) in the argument's width: nothing cancels, so the error is exp's
    plus two roundings."""
    return 1.0 / (1.0 + math.exp(-x))


@inline
def _tanh_for_float32(x):
    """tanh of a float64 that will be rounded to float32. (1 - e) / (1 + e), e = exp(-2|x|),
    loses log2(1 / |x|) bits near 0; below 2^-12 it is x (1 - x^2 / 3), which keeps -0.0."""
    e = _exp64(-2.0 * abs(x))
    t = (1.0 - e) / (1.0 + e)
    t = t if x > 0.0 else -t
    return x * (1.0 - x * x * (1 / 3)) if abs(x) < 0.000244140625 else t


@by_width(through_float64(_tanh_for_float32),
          lambda x: np.tanh(x))
def tanh(x):
    """tanh(x): vectorised for float32, libm's for float64 (see the module docstring)."""
    return math.tanh(x)


_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # the bits of sqrt(1/2), where the mantissa range starts
_TINY64 = 2.2250738585072014e-308


@inline
def _log64(x):
    """log of a float64, vectorisable, within about 1 ulp: x = m 2^e with m in [sqrt(1/2),
    sqrt(2)), log m = 2 atanh(s) = 2 (s + s^3 / 3 + ...), s = (m - 1) / (m + 1), |s| < 0.172
    (ten terms: truncation < 1e-18); denormals are scaled by 2^54 first."""
    sub = x < _TINY64
    y = x * 18014398509481984.0 if sub else x
    bits = _float64_bits(y) - _SQRT_HALF_BITS  # the exponent of y / sqrt(1/2), rounded down
    e = (bits >> 52) - (54 if sub else 0)
    m = _bits_to_float64((bits & 0x000FFFFFFFFFFFFF) + _SQRT_HALF_BITS)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    p = z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9 + z * (1 / 11 + z * (1 / 13 + z * (
        1 / 15 + z * (1 / 17 + z * (1 / 19 + z * (1 / 21))))))))))
    f = np.float64(e)
    r = f * _LN2_HI + (2.0 * s + (2.0 * s * p + f * _LN2_LO))
    r = r if x < np.inf else x       # +inf
    r = r if x > 0.0 else -np.inf    # 0 and -0
    return r if x >= 0.0 else np.nan  # negative, NaN


@by_width(through_float64(_log64),
          lambda x: _log64(x))
def log(x):
    """log(x): float32 through float64 (rounded once), float64 within about 1 ulp."""
    return math.log(x)


@inline
def _log1p64(x):
    """log(1 + x) with 1 + x's rounding undone (Goldberg): log(u) x / (u - 1), u = 1 + x;
    below 2^-16 the series to x^4 / 4."""
    u = 1.0 + x
    r = _log64(u) * (x / (u - 1.0))
    r = x * (1.0 - x * (1 / 2 - x * (1 / 3 - x * (1 / 4)))) if abs(x) < 1.52587890625e-05 else r
    return r if x < np.inf else x


@by_width(through_float64(_log1p64),
          lambda x: _log1p64(x))
def log1p(x):
    """log(1 + x), vectorisable in either width (float32 through float64)."""
    return math.log1p(x)


@inline
def _expm164(x):
    """exp(x) - 1 (Kahan): (u - 1) x / log(u), u = exp(x), which cancels the rounding of u."""
    u = _exp64(x)
    d = u - 1.0
    r = d * (x / _log64(u)) if d != 0.0 else x
    r = r if d != -1.0 else -1.0
    return r if u < np.inf else u


@inline
def _expm1_for_float32(x):
    """exp(x) - 1 of a float64 for a float32 result: the subtraction loses log2(1 / |x|)
    bits of 53, harmless above 2^-10; below, the series to x^4 / 24."""
    series = x * (1.0 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24))))
    return series if abs(x) < 0.0009765625 else _exp64(x) - 1.0


@by_width(through_float64(_expm1_for_float32),
          lambda x: _expm164(x))
def expm1(x):
    """exp(x) - 1, vectorisable in either width."""
    return math.expm1(x)


# Cephes' erfc = exp(-x^2) P(x) / Q(x) on [1, 8) and exp(-x^2) R(x) / S(x) beyond
ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
          4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
          9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
          9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
          1.65666309194161350182E3, 5.57535340817727675546E2)
ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
          6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
          1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
#: erf's Taylor series 2 / sqrt(pi) sum (-1)^k x^(2k+1) / (k! (2k+1)) below 1: 15 terms
_ERF_SERIES = tuple((-1) ** k * 2 / math.sqrt(math.pi) / (math.factorial(k) * (2 * k + 1)) for k in range(15))


@inline
def polevl(x, coeffs):
    """The polynomial with ``coeffs`` (highest power first) at x, by Horner's rule."""
    r = 0.0
    for c in coeffs:
        r = r * x + c
    return r


@inline
def _erf_erfc_for_float32(z):
    """(erf(z), erfc(z)) of a float64 for float32 results, each to a relative ~1e-10 with
    nothing lost to cancellation (erfc(-z) = 1 + erf(z) is gelu's). |z| < 1: erf's Taylor
    series; beyond, Cephes' erfc rationals times exp(-z^2) (0 past 27)."""
    a = abs(z)
    series = a * polevl(a * a, _ERF_SERIES[::-1])
    near = a < 8.0  # one division: the rational's numerator and denominator are picked first
    tail = _exp64(-a * a) * ((polevl(a, ERFC_P) if near else polevl(a, ERFC_R)) /
                             (polevl(a, ERFC_Q) if near else polevl(a, ERFC_S)))
    tail = tail if a < 27.0 else 0.0  # exp(-a^2) is 0 there, and R(inf) / S(inf) NaN
    erf_a = series if a < 1.0 else 1.0 - tail
    erfc_a = 1.0 - series if a < 1.0 else tail
    erfc = erfc_a if z >= 0.0 else 2.0 - erfc_a
    return (np.copysign(erf_a, z), erfc) if z == z else (z, z)


@by_width(lambda x: _F32(_erf_erfc_for_float32(np.float64(x))[0]),
          lambda x: math.erf(x))
def erf(x):
    """erf(x): vectorised for float32 (through float64), libm's for float64."""
    return math.erf(x)


@by_width(lambda x: 0.5 * _erf_erfc_for_float32(-np.float64(x) * 0.7071067811865476)[1],
          lambda x: 0.5 * (1.0 + math.erf(x * 0.7071067811865476)))
def normal_cdf(x):
    """P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2 (gelu's factor), in float64: vectorised for a
    float32 x (no cancellation for negative x), libm's erf for a float64 x."""
    return 0.5 * math.erfc(-x * 0.7071067811865476)


@inline
def _ordered32(bits):
    """Sign-magnitude float bits <-> integers in the floats' order (the map is its own inverse)."""
    return bits ^ ((bits >> np.int32(31)) & np.int32(0x7FFFFFFF))


@inline
def _ordered64(bits):
    return bits ^ ((bits >> 63) & 0x7FFFFFFFFFFFFFFF)


@inline
def _row_max32(row):
    top = _ordered32(_float32_bits(row[0]))
    nans = 0
    for c in range(row.shape[0]):
        v = row[c]
        key = _ordered32(_float32_bits(v))
        top = key if key > top else top
        nans += v != v
    return _bits_to_float32(_ordered32(top)) if nans == 0 else _F32(np.nan)


@inline
def _row_max64(row):
    top = _ordered64(_float64_bits(row[0]))
    nans = 0
    for c in range(row.shape[0]):
        v = row[c]
        key = _ordered64(_float64_bits(v))
        top = key if key > top else top
        nans += v != v
    return _bits_to_float64(_ordered64(top)) if nans == 0 else np.nan


@by_width(lambda x: _row_max32(x),
          lambda x: _row_max64(x), inline='never')
def row_max(row):
    """The largest value of a non-empty 1-D float array, NaN if it holds one: the shift of a
    softmax row. LLVM vectorises a float max reduction only under no-NaN fast-math, so the
    values are compared as integers in the floats' order (an integer max vectorises), with
    the NaNs counted alongside; -0.0 ranks below 0.0. ~7x the scalar loop here."""
    return max(row)


def like(value, sample):
    """``value`` in ``sample``'s float type, so a float32 row's arithmetic stays in float32
    lanes (twice as many per vector as float64)."""
    return float(value)


@overload(like, inline="always")
def _like_impl(value, sample):
    if isinstance(sample, types.Float) and sample.bitwidth == 32:
        return lambda value, sample: np.float32(value)
    return lambda value, sample: np.float64(value)
