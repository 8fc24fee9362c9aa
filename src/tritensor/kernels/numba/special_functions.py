"""CPU scalar functions of torch.special's incomplete gamma, Bessel, Airy and orthogonal polynomial
functions and of frexp, in float64 whatever the compute dtype (a float32 result is rounded once).
``elementwise.py`` imports them into its table of scalar functions.

The incomplete gamma functions follow Cephes' igam/igamc scheme (power series, continued
fraction, a cancellation-free series of Q for small x); where Cephes switches to Temme's
uniform asymptotic expansion (a > 20, x near a) the series and fraction run on (they converge
there in O(sqrt(a)) terms), and the prefactor x^a e^-x / Gamma(a) comes from logarithms, whose
rounding grows like a log(a) eps: ~1e-9 relative at a = 1e6. The Bessel and Airy functions are
Cephes' rational and Chebyshev approximations (tables in ``kernels/cephes_tables.py``), the
polynomials torch's three-term recurrences with its trigonometric forms for large n.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .. import cephes_tables as ct
from . import elementwise as _ew  # its i0e, i1e (it imports this module last)
from . import vmath as vm

# compiled once per signature and called (not inlined: the loops of igamma and the polynomials
# would be compiled again into every kernel and dtype that uses them)
helper = numba.njit(cache=True)

_MACHEP = 1.11022302462515654042E-16
_MAXITER = 200000  # the series' and fraction's terms, O(sqrt(a)) near x = a: a up to ~1e9
_SQRT2OPI = 0.79788456080286535588  # sqrt(2 / pi)
_PIO4 = 0.78539816339744830962
_THPIO4 = 2.35619449019234492885  # 3 pi / 4


# ---------------------------------------------------------------- incomplete gamma
@helper
def _igam_factor(a, x):
    """x^a e^-x / Gamma(a), through logarithms (0 once it underflows)."""
    return math.exp(a * math.log(x) - x - math.lgamma(a))


@helper
def _igam_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n)) (DLMF 8.11.4)."""
    factor = _igam_factor(a, x)
    if factor == 0.0:
        return 0.0
    r, term, total = a, 1.0, 1.0
    for _ in range(_MAXITER):
        r += 1.0
        term *= x / r
        total += term
        if term <= _MACHEP * total:
            break
    return total * factor / a


@helper
def _igamc_fraction(a, x):
    """Q(a, x) by its continued fraction (DLMF 8.9.2), the convergents' numerators and
    denominators rescaled before they overflow."""
    factor = _igam_factor(a, x)
    if factor == 0.0:
        return 0.0
    y = 1.0 - a
    z = x + y + 1.0
    c = 0.0
    p2, q2 = 1.0, x
    p1, q1 = x + 1.0, z * x
    result = p1 / q1
    for _ in range(_MAXITER):
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        p = p1 * z - p2 * yc
        q = q1 * z - q2 * yc
        change = 1.0
        if q != 0:
            r = p / q
            change = abs((result - r) / r)
            result = r
        p2, p1, q2, q1 = p1, p, q1, q
        if abs(p) > 4.503599627370496e15:  # 2^52: rescale by its inverse
            p2 *= 2.220446049250313e-16
            p1 *= 2.220446049250313e-16
            q2 *= 2.220446049250313e-16
            q1 *= 2.220446049250313e-16
        if change <= _MACHEP:
            break
    return result * factor


@helper
def _lgamma1p(a):
    """lgamma(1 + a), without rounding 1 + a near a = 0 and 1."""
    if abs(a) <= 0.5:
        return vm.polevl(a, ct.LGAMMA1P_TAYLOR)
    if abs(a - 1.0) < 0.5:
        return math.log(a) + vm.polevl(a - 1.0, ct.LGAMMA1P_TAYLOR)
    return math.lgamma(a + 1.0)


@helper
def _igamc_series(a, x):
    """Q(a, x) = 1 - x^a / Gamma(a + 1) + x^a / Gamma(a) sum_n (-x)^n / (n! (a + n)) (DLMF 8.7.3),
    for small x, where 1 - P would cancel."""
    fac, total = 1.0, 0.0
    for n in range(1, _MAXITER):
        fac *= -x / n
        term = fac / (a + n)
        total += term
        if abs(term) <= _MACHEP * abs(total):
            break
    log_x = math.log(x)
    return -math.expm1(a * log_x - _lgamma1p(a)) - math.exp(a * log_x - math.lgamma(a)) * total


@helper
def _igamma_edge(a, x, lower):
    """P (``lower``) or Q at the edges of the domain, else -1: nan for a nan, a negative argument
    or a = x = 0 and a = x = inf; the limits at a = 0, x = 0, a = inf and x = inf."""
    if a != a or x != x or a < 0 or x < 0:
        return math.nan
    p_one = 1.0 if lower else 0.0  # P or Q where P is 1
    if a == 0:
        return math.nan if x == 0 else p_one
    if x == 0:
        return 1.0 - p_one
    if a == math.inf:
        return math.nan if x == math.inf else 1.0 - p_one
    if x == math.inf:
        return p_one
    return -1.0


@helper
def _igamc(a, x):
    """Q(a, x) for 0 < a, x < inf: Cephes' choice of expansion."""
    if x > 1.1:
        return 1.0 - _igam_series(a, x) if x < a else _igamc_fraction(a, x)
    if (x <= 0.5 and -0.4 / math.log(x) < a) or (x > 0.5 and x * 1.1 < a):
        return 1.0 - _igam_series(a, x)
    return _igamc_series(a, x)


def igamma(a, x):
    a, x = np.float64(a), np.float64(x)
    edge = _igamma_edge(a, x, True)
    if edge != -1.0:
        return edge
    return 1.0 - _igamc(a, x) if x > 1.0 and x > a else _igam_series(a, x)


def igammac(a, x):
    a, x = np.float64(a), np.float64(x)
    edge = _igamma_edge(a, x, False)
    return edge if edge != -1.0 else _igamc(a, x)


# ---------------------------------------------------------------- Bessel functions
@helper
def _bessel_far(x, pp, pq, qp, qq, phase, second_kind):
    """J or Y (``second_kind``) of order 0 or 1 for x > 5: sqrt(2 / (pi x)) (P cos(xn) - w Q sin(xn))
    (Y: P sin(xn) + w Q cos(xn)), xn = x - phase, P and Q rationals in 25 / x^2."""
    w = 5.0 / x
    z = w * w
    p = vm.polevl(z, pp) / vm.polevl(z, pq)
    q = vm.polevl(z, qp) / vm.polevl(z, qq)
    xn = x - phase
    if second_kind:
        p = p * math.sin(xn) + w * q * math.cos(xn)
    else:
        p = p * math.cos(xn) - w * q * math.sin(xn)
    return p * _SQRT2OPI / math.sqrt(x)


@helper
def _j0(x):
    x = abs(x)
    if x > 5.0:
        return _bessel_far(x, ct.J0_PP, ct.J0_PQ, ct.J0_QP, ct.J0_QQ, _PIO4, False)
    if x < 1e-5:
        return 1.0 - x * x / 4.0
    z = x * x
    return (z - 5.78318596294678452118) * (z - 30.4712623436620863991) * vm.polevl(z, ct.J0_RP) \
        / vm.polevl(z, ct.J0_RQ)


@helper
def _j1(x):
    ax = abs(x)
    if ax > 5.0:
        r = _bessel_far(ax, ct.J1_PP, ct.J1_PQ, ct.J1_QP, ct.J1_QQ, _THPIO4, False)
    else:
        z = x * x
        r = vm.polevl(z, ct.J1_RP) / vm.polevl(z, ct.J1_RQ) * ax * (z - 14.6819706421238932572) \
            * (z - 49.2184563216946036703)
    return -r if x < 0 else r


def bessel_j0(x): return _j0(np.float64(x))
def bessel_j1(x): return _j1(np.float64(x))


def bessel_y0(x):
    x = np.float64(x)
    if x > 5.0:
        return _bessel_far(x, ct.J0_PP, ct.J0_PQ, ct.J0_QP, ct.J0_QQ, _PIO4, True)
    if x == 0:
        return -math.inf
    if not x > 0:
        return math.nan
    z = x * x
    return vm.polevl(z, ct.J0_YP) / vm.polevl(z, ct.J0_YQ) + 0.636619772367581343076 * math.log(x) * _j0(x)


def bessel_y1(x):
    x = np.float64(x)
    if x > 5.0:
        return _bessel_far(x, ct.J1_PP, ct.J1_PQ, ct.J1_QP, ct.J1_QQ, _THPIO4, True)
    if x == 0:
        return -math.inf
    if not x > 0:
        return math.nan
    z = x * x
    return x * vm.polevl(z, ct.J1_YP) / vm.polevl(z, ct.J1_YQ) \
        + 0.636619772367581343076 * (_j1(x) * math.log(x) - 1.0 / x)


@helper
def _bessel_k(x, order, scaled):
    """K0 or K1 (``order``), times e^x if ``scaled``: Chebyshev series of K + (-1)^order log(x / 2) I
    on (0, 2] and of e^x sqrt(x) K beyond; inf at 0, nan below, 0 at inf (unscaled; scaled too)."""
    if x == 0:
        return math.inf
    if not x >= 0:
        return math.nan
    if x <= 2.0:
        y = x * x - 2.0
        if order == 0:
            r = _ew._chbevl(y, ct.K0_A) - math.log(0.5 * x) * math.exp(x) * _ew._i0e(x)
        else:
            r = math.log(0.5 * x) * math.exp(x) * _ew._i1e(x) + _ew._chbevl(y, ct.K1_A) / x
        return r * math.exp(x) if scaled else r
    r = _ew._chbevl(8.0 / x - 2.0, ct.K0_B if order == 0 else ct.K1_B) / math.sqrt(x)
    return r if scaled else math.exp(-x) * r


def modified_bessel_k0(x): return _bessel_k(np.float64(x), 0, False)
def modified_bessel_k1(x): return _bessel_k(np.float64(x), 1, False)
def scaled_modified_bessel_k0(x): return _bessel_k(np.float64(x), 0, True)
def scaled_modified_bessel_k1(x): return _bessel_k(np.float64(x), 1, True)


def spherical_bessel_j0(x):
    """sin(x) / x: its Taylor polynomial (to x^12) below |x| = 1/2, 0 at +-inf."""
    x = np.float64(x)
    if x == math.inf or x == -math.inf:
        return 0.0
    if abs(x) < 0.5:
        z = x * x
        return vm.polevl(z, (1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0,
                             1.0 / 120.0, -1.0 / 6.0, 1.0))
    return math.sin(x) / x


def airy_ai(x):
    """Ai(x): Cephes' power series on [-2.09, 2.09], its asymptotic rationals beyond (in
    1 / zeta, zeta = 2/3 |x|^3/2); 0 past 103.892, nan at +-inf (torch's)."""
    x = np.float64(x)
    if x != x or x == math.inf or x == -math.inf:
        return math.nan
    if x > 103.892:
        return 0.0
    if x < -2.09:
        t = math.sqrt(-x)
        zeta = -2.0 * x * t / 3.0
        k = 0.56418958354775628695 / math.sqrt(t)  # sqrt(1 / pi) / |x|^1/4
        z = 1.0 / zeta
        zz = z * z
        uf = 1.0 + zz * vm.polevl(zz, ct.AI_AFN) / vm.polevl(zz, ct.AI_AFD)
        ug = z * vm.polevl(zz, ct.AI_AGN) / vm.polevl(zz, ct.AI_AGD)
        theta = zeta + _PIO4
        return k * (math.sin(theta) * uf - math.cos(theta) * ug)
    if x >= 2.09:
        t = math.sqrt(x)
        zeta = 2.0 * x * t / 3.0
        z = 1.0 / zeta
        return 0.56418958354775628695 * vm.polevl(z, ct.AI_AN) / vm.polevl(z, ct.AI_AD) \
            / (2.0 * math.sqrt(t) * math.exp(zeta))
    # Ai(x) = c1 f(x) - c2 g(x), f and g the power series of the Airy equation's two solutions
    f, g, uf, ug, k = 1.0, x, 1.0, x, 1.0
    z = x * x * x
    while True:
        uf *= z
        k += 1.0
        uf /= k
        ug *= z
        k += 1.0
        ug /= k
        uf /= k
        f += uf
        k += 1.0
        ug /= k
        g += ug
        if abs(uf / f) <= _MACHEP:
            break
    return 0.35502805388781723926 * f - 0.258819403792806798405 * g


# ---------------------------------------------------------------- orthogonal polynomials
@helper
def _degree(n):
    """torch's int64 degree of a floating n (truncated; nan and huge values read as negative)."""
    n = np.float64(n)
    return np.int64(n) if abs(n) < 9.2e18 else np.int64(-1)


@helper
def _three_term(x, n, q, family):
    """P_n (n >= 2) of a ``family`` (0-5, below) by its three-term recurrence from P_0 = 1 and
    P_1 = q."""
    p = 1.0
    for k in range(1, n):
        if family == 0:  # Chebyshev's: 2x P_k - P_k-1
            r = (x + x) * q - p
        elif family == 1:  # shifted Chebyshev's: 2 (2x - 1) P_k - P_k-1
            r = (4.0 * x - 2.0) * q - p
        elif family == 2:  # Hermite's (physicists'): 2x H_k - 2k H_k-1
            r = (x + x) * q - 2.0 * k * p
        elif family == 3:  # Hermite's (probabilists'): x He_k - k He_k-1
            r = x * q - k * p
        elif family == 4:  # Laguerre's: ((2k + 1 - x) L_k - k L_k-1) / (k + 1)
            r = ((2.0 * k + 1.0 - x) * q - k * p) / (k + 1.0)
        else:  # Legendre's: ((2k + 1) x P_k - k P_k-1) / (k + 1)
            r = ((2.0 * k + 1.0) * x * q - k * p) / (k + 1.0)
        p, q = q, r
    return q


@helper
def _chebyshev(x, n, kind, trig_from):
    """Chebyshev polynomials T, U, V, W (``kind`` 0-3) of degree n at x: torch's values at
    x = +-1, its trigonometric forms in theta = acos(x) for |x| < 1 past degree ``trig_from``,
    else the recurrence."""
    if n < 0:
        return 0.0
    sign = -1.0 if n % 2 else 1.0
    if abs(x) == 1:
        if kind == 0:
            return 1.0 if x > 0 else sign
        if kind == 1:
            return (n + 1.0) * (1.0 if x > 0 else sign)
        if kind == 2:
            return 1.0 if x > 0 else sign * (2.0 * n + 1.0)
        return 2.0 * n + 1.0 if x > 0 else sign
    if n > trig_from and abs(x) < 1:
        theta = math.acos(x)
        if kind == 0:
            return math.cos(n * theta)
        if kind == 1:
            s = math.sin(theta)
            return math.sin((n + 1) * theta) / s if s != 0 else (n + 1) * math.cos((n + 1) * theta) / x
        if kind == 2:
            if math.sin(theta / 2) != 1:
                return math.cos((n + 0.5) * theta) / math.cos(theta / 2)
            return sign * (2.0 * n + 1.0)
        if math.cos(theta / 2) != 1:
            return math.sin((n + 0.5) * theta) / math.sin(theta / 2)
        return 2.0 * n + 1.0 if x > 0 else sign
    if n == 0:
        return 1.0
    first = (x + x, x + x - 1.0, x + x + 1.0)[kind - 1] if kind else x
    return first if n == 1 else _three_term(x, n, first, 0)


def chebyshev_polynomial_t(x, n): return _chebyshev(np.float64(x), _degree(n), 0, 6)
def chebyshev_polynomial_u(x, n): return _chebyshev(np.float64(x), _degree(n), 1, 8)
def chebyshev_polynomial_v(x, n): return _chebyshev(np.float64(x), _degree(n), 2, 8)
def chebyshev_polynomial_w(x, n): return _chebyshev(np.float64(x), _degree(n), 3, 8)


@helper
def _shifted_chebyshev(x, n, kind, trig_from):
    """The shifted polynomials on [0, 1]: kind(2x - 1), with torch's values at x = 0 and 1 and its
    trigonometric forms past degree ``trig_from``."""
    if n < 0:
        return 0.0
    if x == 1 or x == 0:
        return _chebyshev(2.0 * x - 1.0, n, kind, trig_from)
    y = x + x - 1.0
    if n > trig_from and abs(y) < 1:
        return _chebyshev(y, n, kind, trig_from)
    if n == 0:
        return 1.0
    first = (y + y, y + y - 1.0, y + y + 1.0)[kind - 1] if kind else y
    return first if n == 1 else _three_term(x, n, first, 1)


def shifted_chebyshev_polynomial_t(x, n): return _shifted_chebyshev(np.float64(x), _degree(n), 0, 6)
def shifted_chebyshev_polynomial_u(x, n): return _shifted_chebyshev(np.float64(x), _degree(n), 1, 6)
def shifted_chebyshev_polynomial_v(x, n): return _shifted_chebyshev(np.float64(x), _degree(n), 2, 6)
def shifted_chebyshev_polynomial_w(x, n): return _shifted_chebyshev(np.float64(x), _degree(n), 3, 4)


def hermite_polynomial_h(x, n):
    x, n = np.float64(x), _degree(n)
    if n < 0:
        return 0.0
    return 1.0 if n == 0 else (x + x if n == 1 else _three_term(x, n, x + x, 2))


def hermite_polynomial_he(x, n):
    x, n = np.float64(x), _degree(n)
    if n < 0:
        return 0.0
    return 1.0 if n == 0 else (x if n == 1 else _three_term(x, n, x, 3))


def laguerre_polynomial_l(x, n):
    x, n = np.float64(x), _degree(n)
    if n < 0:
        return 0.0
    if n == 0 or x == 0:
        return 1.0
    return 1.0 - x if n == 1 else _three_term(x, n, 1.0 - x, 4)


def legendre_polynomial_p(x, n):
    x, n = np.float64(x), _degree(n)
    if n < 0:
        return 0.0
    if abs(x) == 1:
        return 1.0 if x > 0 or n % 2 == 0 else -1.0
    return 1.0 if n == 0 else (x if n == 1 else _three_term(x, n, x, 5))


# ---------------------------------------------------------------- frexp
def frexp_mantissa(x): return math.frexp(np.float64(x))[0]
def frexp_exponent(x): return float(math.frexp(np.float64(x))[1])
