"""Vectorisable float32 sin, cos, tan, atan and atan2 for the CPU kernels (float64 keeps
libm's).

A loop calling libm's ``sin`` makes one scalar call per element (~3 ns here, against a
memory floor of ~0.1 ns for a float32 op; see vmath's docstring). These use multiplies,
adds, ``floor``, integer ops and one table lookup per element, with no branch, so the loop
compiles to vector code; the three table reads are gathers, about half of the time.

**Argument reduction, exact for every float32.** A float32 is x = M 2^(e - 150) with an
integer M (24 bits, signed) and e its biased exponent. Then x 2/pi = M T_e with
T_e = 2^(e - 150) 2/pi, and since M is an integer, only T_e mod 4 matters for the quadrant
and the fraction: R_e = T_e mod 4 is tabulated per exponent (``_REDUCTION``, 256 rows) as
three float64 pieces from 352 bits of 2/pi: two of 28 bits, so that M R_e,1 and M R_e,2 are
exact in float64 (24 + 28 bits), and the rest rounded to 53 bits. The first product is
reduced mod 4 exactly (to [-2, 2], so a tiny one stays as it is), the nearest integer k of
the sum is the quadrant, and the fraction f = ((M R_1 mod 4 - k) + M R_2) + M R_3 keeps ~53
significant bits even where x lies close to a multiple of pi/2 (the cancelling terms are
exact; M R_3 is below 2^-30 and its rounding below 2^-83). r = f pi/2, |r| <= pi/4, and
Taylor polynomials of degree 11 (sin) and 12 (cos) in float64 leave < 1e-11 relative
error before the one rounding to float32: the results are within about half an ulp of the
exact values, for arguments up to float32's largest (tests/test_vmath.py checks against
long double, also next to multiples of pi/2).

**atan and atan2** work in float64 and round once: the ratio t = min(|y|, |x|) / max(...)
in [0, 1] (exact cases first: 0/0 -> 0, inf/inf and equal magnitudes -> 1), Cephes'
double-precision atan on it (Moshier's rational form on [0, 0.66], atan(t) = pi/4 +
atan((t - 1) / (t + 1)) above), then the octant put back by selects: pi/2 - a where
|y| > |x|, pi - a where x is negative (its sign bit, so atan2(0, -0.0) is pi), y's sign.
"""
from __future__ import annotations

import math

import numpy as np

from numba.extending import overload

from .vmath import _float32_bits, _is_float32, by_width, inline, polevl, select

#: floor(2/pi 2^352): 2/pi's leading 352 bits (the bit of weight 2^j is bit j + 352)
_TWO_OVER_PI_BITS = int("a2f9836e4e441529fc2757d1f534ddc0db6295993c439041"
                        "fe5163abdebbc561b7246e3a424dd2e006492eea", 16)
_PIECE_BITS, _EXACT_PIECES, _PIECES = 28, 2, 3


def _reduction_table():
    """Row e: T_e mod 4 (T_e = 2^(e - 150) 2/pi) as three float64 pieces, largest first: two
    integers of at most 28 bits times a power of 2 (an integer mantissa of 24 bits times one
    is exact), then the remaining bits rounded."""
    table = np.zeros((256, _PIECES))
    for e in range(256):
        shift = max(e, 1) - 150 - 352  # T_e = _TWO_OVER_PI_BITS * 2^shift (denormals share e = 1)
        value = _TWO_OVER_PI_BITS
        if 2 - shift < value.bit_length():  # T_e >= 4: keep the bits below 2^2 (mod 4)
            value &= (1 << (2 - shift)) - 1
        top = value.bit_length()
        for i in range(_EXACT_PIECES):
            low = top - _PIECE_BITS * (i + 1)
            piece = value >> low
            value -= piece << low
            table[e, i] = math.ldexp(piece, shift + low)
        table[e, _EXACT_PIECES] = math.ldexp(value, shift)  # < 2^low: float() rounds it once
    return table


_REDUCTION = _reduction_table().reshape(-1)  # row e at [4 e, 4 e + 4)
_PIO2 = math.pi / 2
_SIN = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(1, 6))   # r^3 ... r^11
_COS = tuple((-1) ** k / math.factorial(2 * k) for k in range(1, 7))       # r^2 ... r^12


@inline
def _reduce(x):
    """(r, q): x = (4 j + q + r / (pi/2)) pi/2 for some integer j, |r| <= pi/4, q in 0..3."""
    bits = _float32_bits(x)
    e = (bits >> 23) & 0xFF
    mantissa = np.int64(bits & 0x7FFFFF) + (np.int64(0x800000) if e > 0 else np.int64(0))
    m = np.float64(-mantissa if bits < 0 else mantissa)
    at = e * _PIECES
    p1 = m * _REDUCTION[at]
    p1 = p1 - 4.0 * np.floor(p1 * 0.25 + 0.5)  # to [-2, 2]: a tiny p1 stays as it is
    p2 = m * _REDUCTION[at + 1]
    k = np.floor(p1 + p2 + 0.5)
    f = ((p1 - k) + p2) + m * _REDUCTION[at + 2]
    return f * _PIO2, np.int64(k) & 3


@inline
def _sin_cos_poly(r):
    z = r * r
    s = r + r * z * (_SIN[0] + z * (_SIN[1] + z * (_SIN[2] + z * (_SIN[3] + z * _SIN[4]))))
    c = 1.0 + z * (_COS[0] + z * (_COS[1] + z * (_COS[2] + z * (_COS[3] + z * (_COS[4] + z * _COS[5])))))
    return s, c


@inline
def _sin32(x):
    r, q = _reduce(x)
    s, c = _sin_cos_poly(r)
    v = s if (q & 1) == 0 else c  # quadrants 0..3: s, c, -s, -c (selects, not a branch chain)
    v = v if (q & 2) == 0 else -v
    v = v if x != 0.0 else np.float64(x)  # keeps -0.0
    return np.float32(v if abs(x) < np.inf else np.nan)


@inline
def _cos32(x):
    r, q = _reduce(x)
    s, c = _sin_cos_poly(r)
    v = c if (q & 1) == 0 else s  # quadrants 0..3: c, -s, -c, s
    v = v if ((q + 1) & 2) == 0 else -v
    return np.float32(v if abs(x) < np.inf else np.nan)


@inline
def _tan32(x):
    r, q = _reduce(x)
    s, c = _sin_cos_poly(r)
    v = s / c if (q & 1) == 0 else -c / s
    v = v if x != 0.0 else np.float64(x)
    return np.float32(v if abs(x) < np.inf else np.nan)


@by_width(lambda x: _sin32(x), lambda x: np.sin(x))
def sin(x):
    """sin(x): float32 vectorised (see the module docstring), float64 libm's."""
    return math.sin(x)


@by_width(lambda x: _cos32(x), lambda x: np.cos(x))
def cos(x):
    """cos(x): float32 vectorised, float64 libm's."""
    return math.cos(x)


@by_width(lambda x: _tan32(x), lambda x: np.tan(x))
def tan(x):
    """tan(x): float32 vectorised, float64 libm's."""
    return math.tan(x)


#: Cephes' atan (Moshier): atan(u) = u + u z P(z) / Q(z), z = u^2, for |u| <= 0.66; Q monic
_ATAN_P = (-8.750608600031904122785E-1, -1.615753718733365076637E1, -7.500855792314704667340E1,
           -1.228866684490136173410E2, -6.485021904942025371773E1)
_ATAN_Q = (1.0, 2.485846490142306297962E1, 1.650270098316988542046E2, 4.328810604912902668951E2,
           4.853903996359136964868E2, 1.945506571482613964425E2)
#: pi/4 = _PI_4 + _PI_4_LO (the part of pi/4 a float64 cannot hold)
_PI_4, _PI_4_LO = 0.78539816339744830962, 0.5 * 6.123233995736765886130E-17


@inline
def _atan_unit(t):
    """atan(t) for float64 t in [0, 1] (NaN stays NaN), without a branch."""
    above = t > 0.66
    u = select(above, (t - 1.0) / (t + 1.0), t)
    z = u * u
    a = u + u * (z * polevl(z, _ATAN_P) / polevl(z, _ATAN_Q))
    return select(above, _PI_4 + (_PI_4_LO + a), a)


@inline
def _atan32(x):
    magnitude = abs(np.float64(x))
    inverted = magnitude > 1.0
    a = _atan_unit(select(inverted, 1.0 / magnitude, magnitude))
    return np.float32(math.copysign(select(inverted, 2.0 * _PI_4 - a, a), np.float64(x)))


@by_width(lambda x: _atan32(x), lambda x: np.arctan(x))
def atan(x):
    """atan(x): float32 vectorised (through float64), float64 libm's."""
    return math.atan(x)


@inline
def _atan2_32(y, x):
    y64, x64 = np.float64(y), np.float64(x)
    ay, ax = abs(y64), abs(x64)
    steep = ay > ax
    near, far = select(steep, ax, ay), select(steep, ay, ax)
    t = select(far == 0.0, 0.0, select(near == far, 1.0, near / far))  # 0/0 and inf/inf exactly
    a = _atan_unit(t)
    a = select(steep, 2.0 * _PI_4 - a, a)
    a = select(math.copysign(1.0, x64) < 0.0, 4.0 * _PI_4 - a, a)
    return np.float32(select((y != y) | (x != x), y64 + x64, math.copysign(a, y64)))


def atan2(y, x):
    """atan2(y, x): float32 vectorised (through float64), float64 libm's."""
    return math.atan2(y, x)


@overload(atan2, inline="always")
def _atan2_by_width(y, x):
    if _is_float32(y) and _is_float32(x):
        return lambda y, x: _atan2_32(y, x)
    return lambda y, x: np.arctan2(y, x)
