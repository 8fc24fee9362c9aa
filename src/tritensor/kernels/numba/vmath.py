"""Vectorisable exp, log and the functions built on them, and a row max, for the CPU kernels.

LLVM vectorises a loop only when every call in it has a vector form. llvmlite ships no
vector math library, so a loop calling ``np.exp`` or ``np.tanh`` makes one scalar libm call
per element: about 1 ns for exp and 7 ns for tanh on the project's machine, where a float32
op's memory floor is ~0.1 ns per element (torch's SLEEF kernels come close to it). The
functions here use multiplies, adds, fused multiply-adds, compares and exponent-bit
arithmetic only, with no branches, so loops over them compile to AVX2 / AVX-512 code.
(Compiled with error_model 'numpy': Python's ZeroDivisionError check in a division would be
a branch.)

``exp`` works in its argument's width. The argument is reduced as ``x = n ln2 + r``
(|r| <= ln2 / 2; ln2 in two parts, so ``n ln2`` is exact), ``exp(r)`` is its Taylor
polynomial (degree 13 in float64, truncation error < 5e-18; degree 7 in float32, < 6e-9),
and ``2^n`` is applied as two halves built from their exponent bits, so results below the
normal range round once into denormals and results past the largest value become inf.
Arguments whose exp rounds to 0 (a -inf mask, a saturated sigmoid) get 0 by a select while
their lane computes exp(0): underflowing there would run in x86's microcode, ~9x slower.
Measured against long-double references (tests/test_vmath.py): exp within 1.2 ulp in either
width, the float32 functions through float64 (below) within half an ulp or so, float64 log,
log1p, expm1 within 2-3.

``log`` reduces x to m 2^e with m in [sqrt(1/2), sqrt(2)) by exponent-bit arithmetic and
sums atanh's series; float64 ``log1p`` and ``expm1`` undo the rounding of 1 + x (Goldberg's
and Kahan's rearrangements). float32 ``log``, ``log1p`` and ``expm1`` go through float64,
where their cancellations have bits to spare, and are rounded once; ``tanh`` is Cephes' in
either width (a polynomial or rational form near 0, exp beyond, where nothing cancels: float32
stays in float32, within 1.5 ulp); float64 ``erf`` (so ``normal_cdf`` and ``gelu``)
keeps libm's. float32 results take log's series to s^11
instead of s^21 (``_log_for_float32``); float32 ``log2``/``log10`` are that log times a
constant, rounded once; ``mish`` is x n / (n + 2) with n = e^x (e^x + 2)
(one exp; float32 through float64; float64 within ~4.5 ulp where torch's composition has ~2).

float32 ``erf``, ``normal_cdf``, ``gelu`` and ``normal_pdf`` stay in float32 (twice float64's
lanes), in fused multiply-adds (``_fma``, llvm.fma). erf(a) = a + a R(a^2) below 1 and
normal_cdf(x) = 1/2 + x Q(x^2) below 1/2; beyond, erfc(u) = t exp(-u^2 + K + P(t)) with
t = C / (C + u) (one division; its rounding is measured exactly and corrected) and u^2 split
so that the exponent is exact, then reduced as in ``exp``. No 1 + erf cancels, so normal_cdf
keeps its relative accuracy far into the negative tail (gelu(-6) = -6 * 9.87e-10), and gelu
forms x normal_cdf(x) before the last power of 2, rounding once into denormals. Checked
exhaustively on [1e-4, 16] against float64: erf within 0.97 ulp, normal_pdf 1.3,
normal_cdf 1.76, gelu 1.81.

Numba's disk cache checks only a kernel's own source file: kernels specialised through
``_specialize`` fingerprint this module's source; the plain ``@njit(cache=True)`` kernels that
call it (softmax, cross entropy) need their ``__pycache__`` cleared after an edit here.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
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


# Below the range (a -inf attention mask, a saturated sigmoid) the result is 0. It is
# selected, and the lane computes exp(0) meanwhile: evaluated at the bound, the last scaling
# would underflow through denormals, which x86 handles in microcode (~9x slower a vector).
# Arguments whose exp is itself denormal, (-104, -87.3] in float32, still take that path.

@inline
def _exp64(x):
    lo, hi = _EXP_RANGE_64
    c = x if x > lo else 0.0  # NaN compares false: computed at 0, restored below
    c = c if c < hi else hi
    e = _exp64_clamped(c)
    e = e if x > lo else 0.0
    return e if x == x else x


@inline
def _exp32(x):
    lo, hi = _EXP_RANGE_32
    c = x if x > lo else _F32(0.0)
    c = c if c < hi else hi
    e = _exp32_clamped(c)
    e = e if x > lo else _F32(0.0)
    return e if x == x else x


@inline
def _exp64_nonpositive(x):
    lo = _EXP_RANGE_64[0]
    e = _exp64_clamped(x if x > lo else 0.0)
    return e if x > lo else 0.0


@inline
def _exp32_nonpositive(x):
    lo = _EXP_RANGE_32[0]
    e = _exp32_clamped(x if x > lo else _F32(0.0))
    return e if x > lo else _F32(0.0)


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


@intrinsic
def select(typingctx, condition, a, b):
    """``a if condition else b`` as one LLVM select: no branch, so no phi node in Numba's IR
    (a kernel inlining several copies of a ternary-built body can trip Numba's SSA check, a
    NumbaIRAssumptionWarning), and a vector blend once vectorised."""
    if not (isinstance(condition, types.Boolean) and a == b):
        return None

    def codegen(context, builder, signature, args):
        return builder.select(*args)
    return a(condition, a, b), codegen


#: Cephes' tanh (Moshier): tanh(a) = a + a^3 P(a^2) / Q(a^2) for a < 0.625, Q monic
_TANH_P = (-9.64399179425052238628E-1, -9.92877231001918586564E1, -1.61468768441708447952E3)
_TANH_Q = (1.12811678491632931402E2, 2.23548839060100448583E3, 4.84406305325125486048E3)


#: Above this 2|x|, 2 / (e^2|x| + 1) is below half an ulp of 1: tanh rounds to +-1
_TANH_ONE_64 = 40.0


@inline
def _tanh64(x):
    """float64 tanh as Cephes computes it, both branches evaluated and one selected (so loops
    vectorise): the rational form below 0.625, 1 - 2 / (e^2a + 1) above, where it is at least
    0.55 and nothing cancels; the sign put back by copysign (keeps -0.0 under ``nsz``), NaN
    kept by the rational form. Within 1.4 ulp (tests/test_vmath.py); ~1 ns an element,
    libm's scalar call ~7. Branch-free and loop-free (Horner written out, ``select``), so a
    kernel may inline several copies."""
    a = abs(x)
    s = a * a
    p = (_TANH_P[0] * s + _TANH_P[1]) * s + _TANH_P[2]
    q = ((s + _TANH_Q[0]) * s + _TANH_Q[1]) * s + _TANH_Q[2]
    small = a + a * s * (p / q)
    twice = 2.0 * a
    large = 1.0 - 2.0 / (_exp64_clamped(select(twice < _TANH_ONE_64, twice, _TANH_ONE_64)) + 1.0)
    return np.copysign(select(a >= 0.625, large, small), x)


#: Cephes' tanhf (Moshier): tanh(a) = a + a^3 P(a^2) for a < 0.625 in float32
_TANH_P32 = tuple(_F32(c) for c in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                    1.33314422036e-1, -3.33332819422e-1))
#: Above this 2|x|, 2 / (e^2|x| + 1) is below half an ulp of 1 in float32: tanh rounds to +-1
_TANH_ONE_32 = _F32(20.0)


@inline
def _tanh32(x):
    """float32 tanh in float32 (twice float64's lanes): ``_tanh64``'s two branches with
    Cephes' float32 polynomial below 0.625 and ``1 - 2 / (e^2a + 1)`` above (at least 0.55
    there: nothing cancels). Within 1.5 ulp (tests/test_vmath.py), 2.3x the speed of the
    float64 route (docs/performance.md, session 19)."""
    a = abs(x)
    s = a * a
    p = (((_TANH_P32[0] * s + _TANH_P32[1]) * s + _TANH_P32[2]) * s + _TANH_P32[3]) * s + _TANH_P32[4]
    small = a + a * s * p
    twice = a + a
    large = _F32(1.0) - _F32(2.0) / (_exp32_clamped(select(twice < _TANH_ONE_32, twice, _TANH_ONE_32))
                                     + _F32(1.0))
    return np.copysign(select(a >= _F32(0.625), large, small), x)


@by_width(lambda x: _tanh32(x),
          lambda x: _tanh64(x))
def tanh(x):
    """tanh(x), vectorisable in both widths (see the module docstring)."""
    return math.tanh(x)


_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # the bits of sqrt(1/2), where the mantissa range starts
_TINY64 = 2.2250738585072014e-308


@inline
def _log_reduced64(x):
    """(e, s) for log x = e ln 2 + 2 atanh(s): x = m 2^e with m in [sqrt(1/2), sqrt(2)) by
    exponent-bit arithmetic (denormals scaled by 2^54 first), s = (m - 1) / (m + 1), |s| < 0.172."""
    sub = x < _TINY64
    y = x * 18014398509481984.0 if sub else x
    bits = _float64_bits(y) - _SQRT_HALF_BITS  # the exponent of y / sqrt(1/2), rounded down
    e = (bits >> 52) - (54 if sub else 0)
    m = _bits_to_float64((bits & 0x000FFFFFFFFFFFFF) + _SQRT_HALF_BITS)
    return np.float64(e), (m - 1.0) / (m + 1.0)


@inline
def _log_assembled64(x, f, s, p):
    """e ln 2 + 2 (s + s p), with p = s^2 / 3 + s^4 / 5 + ..., and log's special values."""
    r = f * _LN2_HI + (2.0 * s + (2.0 * s * p + f * _LN2_LO))
    r = r if x < np.inf else x       # +inf
    r = r if x > 0.0 else -np.inf    # 0 and -0
    return r if x >= 0.0 else np.nan  # negative, NaN


@inline
def _log64(x):
    """log of a float64, vectorisable, within about 1 ulp: atanh's series to s^21 (truncation
    < 1e-18)."""
    f, s = _log_reduced64(x)
    z = s * s
    p = z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9 + z * (1 / 11 + z * (1 / 13 + z * (
        1 / 15 + z * (1 / 17 + z * (1 / 19 + z * (1 / 21))))))))))
    return _log_assembled64(x, f, s, p)


@inline
def _log_for_float32(x):
    """log of a float64 whose result will be rounded to float32: the series to s^11
    (truncation < 2e-9 relative), half of ``_log64``'s terms."""
    f, s = _log_reduced64(x)
    z = s * s
    p = z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9 + z * (1 / 11)))))
    return _log_assembled64(x, f, s, p)


@by_width(through_float64(_log_for_float32),
          lambda x: _log64(x))
def log(x):
    """log(x): float32 through float64 (rounded once), float64 within about 1 ulp."""
    return math.log(x)


_INV_LN2, _INV_LN10 = 1.0 / math.log(2.0), 1.0 / math.log(10.0)


@inline
def _log2_for_float32(x):
    return _log_for_float32(x) * _INV_LN2


@inline
def _log10_for_float32(x):
    return _log_for_float32(x) * _INV_LN10


@by_width(through_float64(_log2_for_float32),
          lambda x: np.log2(x))
def log2(x):
    """log2(x): float32 as float64 log times 1/ln 2, rounded once (exact powers of 2 stay
    exact); float64 libm's, whose powers of 2 are exact too."""
    return math.log2(x)


@by_width(through_float64(_log10_for_float32),
          lambda x: np.log10(x))
def log10(x):
    """log10(x): float32 as float64 log times 1/ln 10, rounded once; float64 libm's."""
    return math.log10(x)


@inline
def _mish64(x):
    """x tanh(softplus(x)) = x n / (n + 2) with n = e^x (e^x + 2): one exp and a division,
    nothing cancels (for x << 0 the quotient is ~e^x); above 20 tanh(softplus(x)) rounds to 1
    in float64 (and e^2x would overflow further on)."""
    e = _exp64(x if x < 20.0 else 20.0)
    n = e * (e + 2.0)
    r = x * (n / (n + 2.0))
    return x if x > 20.0 else r


@by_width(through_float64(_mish64),
          lambda x: _mish64(x))
def mish(x):
    """mish(x) = x tanh(softplus(x)), vectorisable (float32 through float64)."""
    return x * math.tanh(math.log1p(math.exp(x))) if x <= 20.0 else x


@inline
def _log1p_series(x):
    """log(1 + x) below 2^-16: the series to x^4 / 4."""
    return x * (1.0 - x * (1 / 2 - x * (1 / 3 - x * (1 / 4))))


@inline
def _log1p64(x):
    """log(1 + x) with 1 + x's rounding undone (Goldberg): log(u) x / (u - 1), u = 1 + x;
    below 2^-16 the series."""
    u = 1.0 + x
    r = _log64(u) * (x / (u - 1.0))
    r = _log1p_series(x) if abs(x) < 1.52587890625e-05 else r
    return r if x < np.inf else x


@inline
def _log1p_for_float32(x):
    """``_log1p64`` with the shorter log, for a float32 result."""
    u = 1.0 + x
    r = _log_for_float32(u) * (x / (u - 1.0))
    r = _log1p_series(x) if abs(x) < 1.52587890625e-05 else r
    return r if x < np.inf else x


@by_width(through_float64(_log1p_for_float32),
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


# Cephes' erfc = exp(-x^2) P(x) / Q(x) on [1, 8) and exp(-x^2) R(x) / S(x) beyond (elementwise's erfcx)
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


@inline
def polevl(x, coeffs):
    """The polynomial with ``coeffs`` (highest power first) at x, by Horner's rule."""
    r = 0.0
    for c in coeffs:
        r = r * x + c
    return r


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma: one vector instruction on x86-64 CPUs with FMA, since
    2013, and on ARM64; a correct but slow libm call elsewhere)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty, ty, ty]))
        return builder.call(fn, args)
    return a(a, b, c), codegen


@inline
def _poly2(v, v2, coeffs):
    """``_poly`` with the terms paired (c_2k + c_2k+1 v, then Horner in v^2): half the
    dependent steps, for the long polynomials on the critical path."""
    n = len(coeffs) // 2
    r = _fma(v, coeffs[2 * n - 1], coeffs[2 * n - 2])
    if len(coeffs) % 2:
        r = _fma(v2, coeffs[2 * n], r)
    for k in range(n - 2, -1, -1):
        r = _fma(v2, r, _fma(v, coeffs[2 * k + 1], coeffs[2 * k]))
    return r


@inline
def _poly(v, coeffs):
    """sum coeffs[k] v^k (lowest power first) by Horner's rule in fused multiply-adds."""
    r = coeffs[-1]
    for k in range(len(coeffs) - 2, -1, -1):
        r = _fma(v, r, coeffs[k])
    return r


# float32 erf, normal_cdf, gelu and normal_pdf (see the module docstring). Coefficients: least
# squares fits at Chebyshev nodes to mpmath values, reweighted towards minimax, rounded to
# float32 one at a time (lowest power first, refitting the rest); errors are the fits'.
def _f32s(values):
    return tuple(_F32(v) for v in values)


#: erf(a) = a + a R(a^2) for a < 1, R's relative error 2^-29
_ERF_SMALL = _f32s((0.12837917, -0.37612626, 0.11283579, -0.026853347, 0.005187162, -0.0007997853,
                    7.806903e-05))
#: normal_cdf(x) = 1/2 + x Q(x^2) for |x| < 1/2 (where |x Q| < 0.62 cdf), Q's error 2^-32
_CDF_SMALL = _f32s((0.3989423, -0.066490375, 0.00997338, -0.00118557, 0.000108548295))
#: e^r - 1 = r + r^2 E(r) for |r| <= ln2 / 2, within 2^-28 of e^r
_EXPM1_32 = _f32s((0.49999994, 0.1666651, 0.041668292, 0.008369985, 0.0013821527))
#: The tails, for ``_gauss_tail32``: (C, t0, K, G, P) with erfc(u) (resp. erfc(u / sqrt 2) / 2)
#: = t exp(-u^2 (resp. -u^2 / 2) + K + P(t - t0)), t = C / (C + u); P to 2^-26 (erf's: its error
#: counts ~0.2 times in erf = 1 - erfc) for u in [1, 4], to 2^-28 for u in [0.5, 14.5]. G(t):
#: the change of the exponent per unit of C - t (C + u), to 1%.
_ERFC_TAIL = (_F32(2), _F32(0.5), _F32(-0.671875), _f32s((0.4605291, 0.7495244)),
              _f32s((8.091595e-05, 1.3452858, 0.18937322, -0.37497103, -0.15794872, 0.26833063,
                     0.11098134)))
_CDF_TAIL = (_F32(2.828125), _F32(0.5), _F32(-1.365234375), _f32s((0.33958614, 0.49736488)),
             _f32s((0.0003824474, 1.3451897, 0.18919982, -0.37521112, -0.15784001, 0.2819065,
                    0.11346385, -0.2887638, -0.05215223, 0.24313268)))
_CDF_SMALL_END, _CDF_END = _F32(0.5), _F32(14.5)  # gelu(-14.5) rounds to -0.0
#: what lanes from _CDF_END on (and NaN) compute, their result being selected away: the bound
#: itself would underflow through denormals, slow in x86's microcode (see ``_exp32``)
_TAIL_STAND_IN = _F32(1)
_TWO_M64 = _F32(2.0 ** -64)


@inline
def _split32(u):
    """u = uh + ul, uh its 11 high bits: for the tails' u (|u| in [1/2, 16)) and K, -uh^2
    (or -uh^2 / 2) + K is exact, and so is its reduction by n ln2_hi (17 bits)."""
    uh = _bits_to_float32(_float32_bits(u) & np.int32(-8192))
    return uh, u - uh


@inline
def _exp_split32(high, low):
    """(r, e, n) with exp(high + low) = (1 + r + e) 2^n, |r| <= ln2 / 2: the reduction
    high - n ln2_hi is exact, so only ``low`` (|low| < 1) and r's sums round."""
    n = np.floor(_fma(high + low, _LOG2E_32, _F32(0.5)))
    r = _fma(n, -_LN2_HI_32, high) + _fma(n, -_LN2_LO_32, low)
    r2 = r * r
    return r, r2 * _poly2(r, r2, _EXPM1_32), n


@inline
def _gauss_tail32(u, table, scale):
    """(t, r, e, n) with t (1 + r + e) 2^n = erfc(u) (``scale`` 1) or erfc(u / sqrt 2) / 2
    (``scale`` 1/2), for u in ``table``'s range, to a relative 1.5 ulp or so. The exponent's
    -scale u^2 is exact (``_split32``). t = C / (C + u) rounds twice; C has few bits, so the
    residual C - t (C + u) is exact in fused multiply-adds, and G(t) times it corrects the
    exponent."""
    c, t0, khi, g, p = table
    s = c + u
    t = c / s
    residual = _fma(-t, u - (s - c), _fma(-t, s, c))
    uh, ul = _split32(u)
    v = t - t0
    low = _fma(residual, _fma(t, g[1], g[0]), _fma(-ul, _fma(ul, scale, (scale + scale) * uh), p[0]))
    v2 = v * v
    low = _fma(v, p[1], _fma(v2, _poly2(v, v2, p[2:]), low))
    r, e, n = _exp_split32(uh * uh * -scale + khi, low)
    return t, r, e, n


@inline
def _erf32(x):
    """|x| < 1: x + x R(x^2), with x^2's rounding error put back to first order; beyond,
    1 - erfc (erfc(4) already rounds it to 1)."""
    a = abs(x)
    w = a * a
    c = _ERF_SMALL
    rw = _fma(w, c[1], _fma(w * w, _poly(w, c[2:]), c[0]))
    small = _fma(a, _fma(_fma(a, a, -w), c[1], rw), a)
    t, r, e, n = _gauss_tail32(a if a < _F32(4) else _F32(4), _ERFC_TAIL, _F32(1))
    y = small if a < _F32(1) else _F32(1) - (t + _fma(t, r, t * e)) * _pow2_32(np.int32(n))
    return np.copysign(y, x) if x == x else x


@inline
def _normal_cdf32_parts(x):
    """(q, t, r, e, scale): normal_cdf(x) = 1/2 + x q for |x| < 1/2; below -1/2 it is
    t (1 + r + e) scale 2^-64 (scale = 2^(n + 64), so that every factor is normal), above 1/2
    one minus that."""
    w = x * x
    q = _poly(w, _CDF_SMALL)
    a = abs(x)
    t, r, e, n = _gauss_tail32(a if a < _CDF_END else _TAIL_STAND_IN, _CDF_TAIL, _F32(0.5))
    return q, t, r, e, _pow2_32(np.int32(n) + np.int32(64))


@inline
def _normal_cdf32(x):
    q, t, r, e, scale = _normal_cdf32_parts(x)
    a = abs(x)
    tail = (t + _fma(t, r, t * e)) * scale * _TWO_M64 if a < _CDF_END else _F32(0)
    y = tail if x < _F32(0) else _F32(1) - tail
    y = _fma(x, q, _F32(0.5)) if a < _CDF_SMALL_END else y
    return y if x == x else x


@inline
def _gelu32(x):
    """x normal_cdf(x): below -1/2, x t (1 + r + e) 2^(n + 64) is formed in full before the
    last scaling, which rounds once where the result is below float32's normal range."""
    q, t, r, e, scale = _normal_cdf32_parts(x)
    a = abs(x)
    xt = x * t
    y = (xt + _fma(xt, r, _fma(xt, e, _fma(x, t, -xt)))) * scale
    big = y * _TWO_M64 if x < _F32(0) else _fma(y, -_TWO_M64, x)
    big = big if a < _CDF_END else (x if x > _F32(0) else x * _F32(0))  # gelu(-inf) is nan, as before
    small = np.copysign(_fma(x, x * q, _F32(0.5) * x), x)  # gelu(-2^-149) is -0.0
    return small if a < _CDF_SMALL_END else big


#: log(1 / sqrt(2 pi)) in two parts
_PDF_LOG = (_F32(-0.9189453125), _F32(6.7792953e-06))


@inline
def _normal_pdf32(x):
    """exp(-x^2 / 2) / sqrt(2 pi), the exponent split as in the tails (exactly from |x| = 1/2
    on; 0 from 14.5 on)."""
    a = abs(x)
    uh, ul = _split32(a if a < _CDF_END else _TAIL_STAND_IN)
    low = _fma(-ul, _fma(ul, _F32(0.5), uh), _PDF_LOG[1])
    r, e, n = _exp_split32(uh * uh * _F32(-0.5) + _PDF_LOG[0], low)
    y = (_F32(1) + (r + e)) * _pow2_32(np.int32(n) + np.int32(64)) * _TWO_M64
    y = y if a < _CDF_END else _F32(0)
    return y if x == x else x


@by_width(lambda x: _erf32(x),
          lambda x: math.erf(x))
def erf(x):
    """erf(x): vectorised for float32 (see the module docstring), libm's for float64."""
    return math.erf(x)


@by_width(lambda x: _normal_cdf32(x),
          lambda x: 0.5 * (1.0 + math.erf(x * 0.7071067811865476)))
def normal_cdf(x):
    """P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2 (gelu's factor): vectorised for float32, with
    its relative accuracy for negative x; libm's erf for float64."""
    return 0.5 * math.erfc(-x * 0.7071067811865476)


@by_width(lambda x: _gelu32(x),
          lambda x: x * (0.5 * (1.0 + math.erf(x * 0.7071067811865476))))
def gelu(x):
    """x normal_cdf(x); for float32 within 2 ulp, also where normal_cdf(x) is below float32's
    normal range (x < -13) but the product is not."""
    return x * 0.5 * math.erfc(-x * 0.7071067811865476)


@by_width(lambda x: _normal_pdf32(x),
          lambda x: _exp64(-0.5 * x * x) * 0.3989422804014327)
def normal_pdf(x):
    """exp(-x^2 / 2) / sqrt(2 pi), in the argument's width (gelu's derivative)."""
    return math.exp(-0.5 * x * x) * 0.3989422804014327


def _propagating_extreme(llvm_name):
    """An intrinsic for ``llvm.maximum`` / ``llvm.minimum`` of two floats of one type: NaN if
    either is NaN, as torch's max and min. LLVM vectorises a reduction over them (the
    compare-and-select form vectorises only under no-NaN fast-math, which Numba cannot put on
    a select); ``reassoc`` lets it keep several vector accumulators, ``nsz`` lets the two
    zeros tie (so max(-0.0, 0.0) is either, as in torch's vector kernels): a float32 max over
    2^24 elements 19 -> 3.1 ms here (numpy 2.5)."""
    @intrinsic
    def extreme(typingctx, a, b):
        if not (isinstance(a, types.Float) and a == b):
            return None

        def codegen(context, builder, signature, args):
            ty = args[0].type
            fn = builder.module.declare_intrinsic(llvm_name, [ty], ir.FunctionType(ty, [ty, ty]))
            return builder.call(fn, args, fastmath=("reassoc", "nsz"))
        return a(a, b), codegen
    return extreme


_float_maximum = _propagating_extreme("llvm.maximum")
_float_minimum = _propagating_extreme("llvm.minimum")


def maximum(a, b):
    """The larger of two scalars, NaN if either is NaN (torch's max); vectorises in a loop."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


def minimum(a, b):
    """The smaller of two scalars, NaN if either is NaN (torch's min); vectorises in a loop."""
    if a != a or b != b:
        return a + b
    return a if a <= b else b


@overload(maximum, inline="always")
def _maximum_impl(a, b):
    if isinstance(a, types.Float) and a == b:
        return lambda a, b: _float_maximum(a, b)
    return lambda a, b: a if a >= b else b  # integers and bools: no NaN, and LLVM's smax/umax


@overload(minimum, inline="always")
def _minimum_impl(a, b):
    if isinstance(a, types.Float) and a == b:
        return lambda a, b: _float_minimum(a, b)
    return lambda a, b: a if a <= b else b


@numba.njit(cache=True, nogil=True)
def row_max(row):
    """The largest value of a non-empty 1-D float array, NaN if it holds one: the shift of a
    softmax row (one vectorised ``maximum`` sweep)."""
    top = row[0]
    for c in range(row.shape[0]):
        top = maximum(top, row[c])
    return top


def like(value, sample):
    """``value`` in ``sample``'s float type, so a float32 row's arithmetic stays in float32
    lanes (twice as many per vector as float64)."""
    return float(value)


@overload(like, inline="always")
def _like_impl(value, sample):
    if isinstance(sample, types.Float) and sample.bitwidth == 32:
        return lambda value, sample: np.float32(value)
    return lambda value, sample: np.float64(value)
