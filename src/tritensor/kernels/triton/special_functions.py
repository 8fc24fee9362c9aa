"""Triton scalar functions of torch.special's incomplete gamma, Bessel, Airy and orthogonal
polynomial functions and of frexp: the algorithms of ``kernels/numba/special_functions.py`` (see
its notes), in float64 whatever the compute dtype, each branch a ``tl.where`` over the block and
each iteration a ``while`` loop that runs until the block's last active lane is done (lanes that
need no iterations never keep it going). ``elementwise.py`` imports them (last: this module reads
its helpers) into its table of scalar functions.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .. import cephes_tables as ct
from .elementwise import _atan_f64, _bessel_i64, _expm1, _lgamma64

# coefficient tables as constexpr tuples (a kernel compiled for a GPU may read no other globals)
J0_PP, J0_PQ, J0_QP, J0_QQ = (tl.constexpr(t) for t in (ct.J0_PP, ct.J0_PQ, ct.J0_QP, ct.J0_QQ))
J0_YP, J0_YQ, J0_RP, J0_RQ = (tl.constexpr(t) for t in (ct.J0_YP, ct.J0_YQ, ct.J0_RP, ct.J0_RQ))
J1_PP, J1_PQ, J1_QP, J1_QQ = (tl.constexpr(t) for t in (ct.J1_PP, ct.J1_PQ, ct.J1_QP, ct.J1_QQ))
J1_YP, J1_YQ, J1_RP, J1_RQ = (tl.constexpr(t) for t in (ct.J1_YP, ct.J1_YQ, ct.J1_RP, ct.J1_RQ))
K0_A, K0_B, K1_A, K1_B = (tl.constexpr(t) for t in (ct.K0_A, ct.K0_B, ct.K1_A, ct.K1_B))
AI_AN, AI_AD, AI_AFN, AI_AFD = (tl.constexpr(t) for t in (ct.AI_AN, ct.AI_AD, ct.AI_AFN, ct.AI_AFD))
AI_AGN, AI_AGD = tl.constexpr(ct.AI_AGN), tl.constexpr(ct.AI_AGD)
LGAMMA1P_TAYLOR = tl.constexpr(ct.LGAMMA1P_TAYLOR)
SPHERICAL_J0_TAYLOR = tl.constexpr((1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0,
                                    1.0 / 120.0, -1.0 / 6.0, 1.0))
INF = tl.constexpr(float("inf"))
MACHEP = tl.constexpr(1.11022302462515654042E-16)
# the series and fractions stop after 200000 terms (as kernels/numba), the polynomials after 2^24 steps
SQRT2OPI = tl.constexpr(0.79788456080286535588)
SQRT1OPI = tl.constexpr(0.56418958354775628695)
PIO4 = tl.constexpr(0.78539816339744830962)
THPIO4 = tl.constexpr(2.35619449019234492885)
TWO_OVER_PI = tl.constexpr(0.636619772367581343076)


@triton.jit
def _polevl(z, COEFFS: tl.constexpr, N: tl.constexpr):
    """The polynomial with the ``N`` ``COEFFS`` (highest power first) at z, by Horner's rule."""
    r = tl.zeros_like(z)
    for i in tl.static_range(N):
        r = r * z + COEFFS[i]
    return r


@triton.jit
def _chbevl(x, COEFFS: tl.constexpr, N: tl.constexpr):
    """Cephes' sum of Chebyshev polynomials T_i(x / 2), coefficients highest order first."""
    b0 = tl.zeros_like(x)
    b1 = tl.zeros_like(x)
    b2 = tl.zeros_like(x)
    for i in tl.static_range(N):
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + COEFFS[i]
    return 0.5 * (b0 - b2)


@triton.jit
def _any(active):
    """Whether any lane of the block is still ``active``."""
    return tl.max(active.to(tl.int32), axis=0) > 0


# ---------------------------------------------------------------- incomplete gamma
@triton.jit
def _igam_factor(a, x):
    return tl.exp(a * tl.log(x) - x - _lgamma64(a))


@triton.jit
def _igam_series(a, x, skip):
    # P(a, x) by its power series (DLMF 8.11.4); ``skip``: lanes that need no value
    factor = _igam_factor(a, x)
    done = skip | (factor == 0)
    r = a
    term = tl.full(a.shape, 1.0, tl.float64)
    total = term
    i = tl.zeros_like(a)  # a block, like the flags it is or-ed with
    while _any(~done):
        r = tl.where(done, r, r + 1.0)
        term = tl.where(done, term, term * x / r)
        total = tl.where(done, total, total + term)
        i += 1.0
        done = done | (term <= MACHEP * total) | (i >= 200000.0)
    return tl.where(factor == 0, 0.0, total * factor / a)


@triton.jit
def _igamc_fraction(a, x, skip):
    # Q(a, x) by its continued fraction (DLMF 8.9.2), the convergents rescaled before they overflow
    factor = _igam_factor(a, x)
    done = skip | (factor == 0)
    y = 1.0 - a
    z = x + y + 1.0
    c = tl.zeros_like(a)
    p2 = tl.full(a.shape, 1.0, tl.float64)
    q2 = x
    p1 = x + 1.0
    q1 = z * x
    result = p1 / q1
    i = tl.zeros_like(a)  # a block, like the flags it is or-ed with
    while _any(~done):
        c = c + 1.0
        y = y + 1.0
        z = z + 2.0
        yc = y * c
        p = p1 * z - p2 * yc
        q = q1 * z - q2 * yc
        r = p / tl.where(q != 0, q, 1.0)
        change = tl.where(q != 0, tl.abs((result - r) / r), 1.0)
        result = tl.where(done | (q == 0), result, r)
        scale = tl.where(tl.abs(p) > 4.503599627370496e15, 2.220446049250313e-16, 1.0)
        p2 = tl.where(done, p2, p1 * scale)
        p1 = tl.where(done, p1, p * scale)
        q2 = tl.where(done, q2, q1 * scale)
        q1 = tl.where(done, q1, q * scale)
        i += 1.0
        done = done | (change <= MACHEP) | (i >= 200000.0)
    return tl.where(factor == 0, 0.0, result * factor)


@triton.jit
def _lgamma1p(a):
    # lgamma(1 + a) without rounding 1 + a near a = 0 and 1
    near_one = tl.abs(a - 1.0) < 0.5
    t = tl.where(near_one, a - 1.0, a)
    taylor = _polevl(t, LGAMMA1P_TAYLOR, 49) + tl.where(near_one, tl.log(tl.where(near_one, a, 1.0)), 0.0)
    return tl.where((tl.abs(a) <= 0.5) | near_one, taylor, _lgamma64(a + 1.0))


@triton.jit
def _igamc_series(a, x, skip):
    # Q(a, x) for small x (DLMF 8.7.3), where 1 - P would cancel
    done = skip
    fac = tl.full(a.shape, 1.0, tl.float64)
    total = tl.zeros_like(a)
    n = tl.zeros_like(a)
    while _any(~done):
        n += 1.0
        fac = tl.where(done, fac, fac * -x / n)
        term = fac / (a + n)
        total = tl.where(done, total, total + term)
        done = done | (tl.abs(term) <= MACHEP * tl.abs(total)) | (n >= 200000.0)
    log_x = tl.log(x)
    return -_expm1(a * log_x - _lgamma1p(a)) - tl.exp(a * log_x - _lgamma64(a)) * total


@triton.jit
def _igamc64(a, x, skip):
    # Q(a, x) for 0 < a, x < inf: Cephes' choice of expansion (each one's lanes only)
    fraction = (x > 1.1) & (x >= a)
    through_p = ((x > 1.1) & (x < a)) | ((x <= 0.5) & (-0.4 / tl.log(x) < a)) \
        | ((x > 0.5) & (x <= 1.1) & (x * 1.1 < a))
    q = _igamc_fraction(a, x, skip | ~fraction)
    p = _igam_series(a, x, skip | fraction | ~through_p)
    s = _igamc_series(a, x, skip | fraction | through_p)
    return tl.where(fraction, q, tl.where(through_p, 1.0 - p, s))


@triton.jit
def _igamma_edges(a, x, r, P_ONE: tl.constexpr):
    # P (P_ONE 1) or Q (P_ONE 0) at the domain's edges, as kernels/numba's _igamma_edge
    r = tl.where(x == INF, P_ONE, r)
    r = tl.where(a == INF, tl.where(x == INF, INF - INF, 1.0 - P_ONE), r)
    r = tl.where(x == 0, 1.0 - P_ONE, r)
    r = tl.where(a == 0, tl.where(x == 0, INF - INF, P_ONE), r)
    return tl.where((a != a) | (x != x) | (a < 0) | (x < 0), INF - INF, r)


@triton.jit
def _igamma_skip(a, x):
    return (a != a) | (x != x) | (a <= 0) | (x <= 0) | (a == INF) | (x == INF)


@triton.jit
def igamma(a, x):
    a64 = a.to(tl.float64)
    x64 = x.to(tl.float64)
    skip = _igamma_skip(a64, x64)
    complement = (x64 > 1.0) & (x64 > a64)
    r = tl.where(complement, 1.0 - _igamc64(a64, x64, skip | ~complement),
                 _igam_series(a64, x64, skip | complement))
    return _igamma_edges(a64, x64, r, 1.0).to(a.dtype)


@triton.jit
def igammac(a, x):
    a64 = a.to(tl.float64)
    x64 = x.to(tl.float64)
    r = _igamc64(a64, x64, _igamma_skip(a64, x64))
    return _igamma_edges(a64, x64, r, 0.0).to(a.dtype)


# ---------------------------------------------------------------- Bessel functions
@triton.jit
def _bessel_far(x, PP: tl.constexpr, PQ: tl.constexpr, QP: tl.constexpr, QQ: tl.constexpr,
                PHASE: tl.constexpr, SECOND_KIND: tl.constexpr):
    # J or Y of order 0 or 1 for x > 5 (other lanes: any value), as kernels/numba's _bessel_far
    xs = tl.maximum(x, 5.0)
    w = 5.0 / xs
    z = w * w
    p = _polevl(z, PP, 7) / _polevl(z, PQ, 7)
    q = _polevl(z, QP, 8) / _polevl(z, QQ, 8)
    xn = xs - PHASE
    if SECOND_KIND:
        p = p * tl.sin(xn) + w * q * tl.cos(xn)
    else:
        p = p * tl.cos(xn) - w * q * tl.sin(xn)
    return p * SQRT2OPI / tl.sqrt(xs)


@triton.jit
def _j0(x):
    ax = tl.abs(x)
    z = x * x
    near = (z - 5.78318596294678452118) * (z - 30.4712623436620863991) * _polevl(z, J0_RP, 4) \
        / _polevl(z, J0_RQ, 9)
    near = tl.where(ax < 1e-5, 1.0 - z / 4.0, near)
    return tl.where(ax > 5.0, _bessel_far(ax, J0_PP, J0_PQ, J0_QP, J0_QQ, PIO4, False), near)


@triton.jit
def _j1(x):
    ax = tl.abs(x)
    z = x * x
    near = _polevl(z, J1_RP, 4) / _polevl(z, J1_RQ, 9) * ax * (z - 14.6819706421238932572) \
        * (z - 49.2184563216946036703)
    r = tl.where(ax > 5.0, _bessel_far(ax, J1_PP, J1_PQ, J1_QP, J1_QQ, THPIO4, False), near)
    return tl.where(x < 0, -r, r)


@triton.jit
def bessel_j0(x): return _j0(x.to(tl.float64)).to(x.dtype)
@triton.jit
def bessel_j1(x): return _j1(x.to(tl.float64)).to(x.dtype)


@triton.jit
def _second_kind_domain(x, r):
    # -inf at 0, nan below it (and at nan)
    return tl.where(x == 0, -INF, tl.where(x > 0, r, INF - INF))


@triton.jit
def bessel_y0(x):
    x64 = x.to(tl.float64)
    xs = tl.where(x64 > 0, x64, 1.0)
    z = xs * xs
    near = _polevl(z, J0_YP, 8) / _polevl(z, J0_YQ, 8) + TWO_OVER_PI * tl.log(xs) * _j0(xs)
    r = tl.where(x64 > 5.0, _bessel_far(x64, J0_PP, J0_PQ, J0_QP, J0_QQ, PIO4, True), near)
    return _second_kind_domain(x64, r).to(x.dtype)


@triton.jit
def bessel_y1(x):
    x64 = x.to(tl.float64)
    xs = tl.where(x64 > 0, x64, 1.0)
    z = xs * xs
    near = xs * _polevl(z, J1_YP, 6) / _polevl(z, J1_YQ, 9) + TWO_OVER_PI * (_j1(xs) * tl.log(xs) - 1.0 / xs)
    r = tl.where(x64 > 5.0, _bessel_far(x64, J1_PP, J1_PQ, J1_QP, J1_QQ, THPIO4, True), near)
    return _second_kind_domain(x64, r).to(x.dtype)


@triton.jit
def _bessel_k(x, ORDER: tl.constexpr, SCALED: tl.constexpr):
    # K0 or K1, times e^x if SCALED, as kernels/numba's _bessel_k
    xs = tl.where(x > 0, x, 1.0)
    near_x = tl.minimum(xs, 2.0)
    y = near_x * near_x - 2.0
    if ORDER == 0:
        near = _chbevl(y, K0_A, 10) - tl.log(0.5 * near_x) * _bessel_i64(near_x, 0, False)
        far = _chbevl(8.0 / tl.maximum(xs, 2.0) - 2.0, K0_B, 25) / tl.sqrt(tl.maximum(xs, 2.0))
    else:
        near = tl.log(0.5 * near_x) * _bessel_i64(near_x, 1, False) + _chbevl(y, K1_A, 11) / near_x
        far = _chbevl(8.0 / tl.maximum(xs, 2.0) - 2.0, K1_B, 25) / tl.sqrt(tl.maximum(xs, 2.0))
    if SCALED:
        near = near * tl.exp(near_x)
    else:
        far = far * tl.exp(-xs)
    r = tl.where(xs <= 2.0, near, far)
    return tl.where(x == 0, INF, tl.where(x > 0, r, INF - INF))


@triton.jit
def modified_bessel_k0(x): return _bessel_k(x.to(tl.float64), 0, False).to(x.dtype)
@triton.jit
def modified_bessel_k1(x): return _bessel_k(x.to(tl.float64), 1, False).to(x.dtype)
@triton.jit
def scaled_modified_bessel_k0(x): return _bessel_k(x.to(tl.float64), 0, True).to(x.dtype)
@triton.jit
def scaled_modified_bessel_k1(x): return _bessel_k(x.to(tl.float64), 1, True).to(x.dtype)


@triton.jit
def spherical_bessel_j0(x):
    x64 = x.to(tl.float64)
    r = tl.where(tl.abs(x64) < 0.5, _polevl(x64 * x64, SPHERICAL_J0_TAYLOR, 7), tl.sin(x64) / x64)
    return tl.where(tl.abs(x64) == INF, 0.0, r).to(x.dtype)


@triton.jit
def airy_ai(x):
    # Cephes' power series on [-2.09, 2.09] (12 terms reach float64's epsilon there), its asymptotic
    # rationals beyond; 0 past 103.892, nan at +-inf
    x64 = x.to(tl.float64)
    # x < -2.09: modulus and phase
    t = tl.sqrt(tl.maximum(-x64, 2.09))
    zeta = 2.0 * t * t * t / 3.0
    z = 1.0 / zeta
    zz = z * z
    uf = 1.0 + zz * _polevl(zz, AI_AFN, 9) / _polevl(zz, AI_AFD, 10)
    ug = z * _polevl(zz, AI_AGN, 11) / _polevl(zz, AI_AGD, 11)
    theta = zeta + PIO4
    left = SQRT1OPI / tl.sqrt(t) * (tl.sin(theta) * uf - tl.cos(theta) * ug)
    # x >= 2.09: the decaying exponential
    t = tl.sqrt(tl.minimum(tl.maximum(x64, 2.09), 103.892))
    zeta = 2.0 * t * t * t / 3.0
    z = 1.0 / zeta
    right = SQRT1OPI * _polevl(z, AI_AN, 8) / _polevl(z, AI_AD, 8) / (2.0 * tl.sqrt(t) * tl.exp(zeta))
    # the power series of the Airy equation's two solutions
    c = tl.minimum(tl.maximum(x64, -2.09), 2.09)
    f = tl.full(c.shape, 1.0, tl.float64)
    g = c
    uf = f
    ug = c
    cube = c * c * c
    k = 1.0
    for _ in tl.static_range(12):
        uf = uf * cube / ((k + 1.0) * (k + 2.0))
        ug = ug * cube / ((k + 2.0) * (k + 3.0))
        f += uf
        g += ug
        k += 3.0
    middle = 0.35502805388781723926 * f - 0.258819403792806798405 * g
    r = tl.where(x64 < -2.09, left, tl.where(x64 >= 2.09, right, middle))
    r = tl.where(x64 > 103.892, 0.0, r)
    return tl.where((x64 != x64) | (tl.abs(x64) == INF), INF - INF, r).to(x.dtype)


# ---------------------------------------------------------------- orthogonal polynomials
@triton.jit
def _degree(n):
    # torch's int64 degree of a floating n (truncated), as a float64; nan and huge values: -1
    n64 = n.to(tl.float64)
    return tl.where(tl.abs(n64) < 9.2e18, tl.where(n64 < 0, tl.ceil(n64), tl.floor(n64)), -1.0)


@triton.jit
def _odd(n):
    return (n - 2.0 * tl.floor(n * 0.5)) != 0


@triton.jit
def _three_term(x, n, q, FAMILY: tl.constexpr, skip):
    # P_n (n >= 2 where not skipped) of a FAMILY (as kernels/numba's _three_term) from P_0 = 1 and
    # P_1 = q, up to the block's largest degree (2^24 at most)
    p = tl.full(x.shape, 1.0, tl.float64)
    active = ~skip & (n >= 2.0)
    k = tl.full(x.shape, 1.0, tl.float64)
    active = active & (n < 16777216.0)  # 2^24 steps at most
    while _any(active & (k < n)):
        if FAMILY == 0:
            r = (x + x) * q - p
        elif FAMILY == 1:
            r = (4.0 * x - 2.0) * q - p
        elif FAMILY == 2:
            r = (x + x) * q - 2.0 * k * p
        elif FAMILY == 3:
            r = x * q - k * p
        elif FAMILY == 4:
            r = ((2.0 * k + 1.0 - x) * q - k * p) / (k + 1.0)
        else:
            r = ((2.0 * k + 1.0) * x * q - k * p) / (k + 1.0)
        go = active & (k < n)
        p = tl.where(go, q, p)
        q = tl.where(go, r, q)
        k += 1.0
    return tl.where(~skip & (n >= 16777216.0), INF - INF, q)  # past the cap: nan, not a wrong value


@triton.jit
def _chebyshev_trig(y, n, KIND: tl.constexpr):
    # the trigonometric forms in theta = acos(y) for |y| < 1, as kernels/numba's _chebyshev
    # (acos(y) = 2 atan(sqrt((1 - y) / (1 + y))), as elementwise's acos)
    theta = 2.0 * _atan_f64(tl.sqrt((1.0 - y) / (1.0 + y)))
    sign = tl.where(_odd(n), -1.0, 1.0)
    if KIND == 0:
        r = tl.cos(n * theta)
    elif KIND == 1:
        s = tl.sin(theta)
        r = tl.where(s != 0, tl.sin((n + 1.0) * theta) / s, (n + 1.0) * tl.cos((n + 1.0) * theta) / y)
    elif KIND == 2:
        r = tl.where(tl.sin(theta / 2) != 1, tl.cos((n + 0.5) * theta) / tl.cos(theta / 2),
                     sign * (2.0 * n + 1.0))
    else:
        r = tl.where(tl.cos(theta / 2) != 1, tl.sin((n + 0.5) * theta) / tl.sin(theta / 2),
                     tl.where(y > 0, 2.0 * n + 1.0, sign))
    return r


@triton.jit
def _chebyshev(x, n, KIND: tl.constexpr, TRIG_FROM: tl.constexpr):
    # Chebyshev T, U, V, W (KIND 0-3) of degree n at x, as kernels/numba's _chebyshev
    sign = tl.where(_odd(n), -1.0, 1.0)
    if KIND == 0:
        at_one = tl.where(x > 0, 1.0, sign)
        first = x
    elif KIND == 1:
        at_one = (n + 1.0) * tl.where(x > 0, 1.0, sign)
        first = x + x
    elif KIND == 2:
        at_one = tl.where(x > 0, 1.0, sign * (2.0 * n + 1.0))
        first = x + x - 1.0
    else:
        at_one = tl.where(x > 0, 2.0 * n + 1.0, sign)
        first = x + x + 1.0
    trig = (n > TRIG_FROM) & (tl.abs(x) < 1)
    edge = (n < 0) | (tl.abs(x) == 1) | trig | (n < 2)
    r = _three_term(x, n, first, 0, edge)
    r = tl.where(n == 1, first, tl.where(n == 0, 1.0, r))
    r = tl.where(trig, _chebyshev_trig(tl.where(trig, x, 0.0), n, KIND), r)
    r = tl.where(tl.abs(x) == 1, at_one, r)
    return tl.where(n < 0, 0.0, r)


@triton.jit
def _shifted_chebyshev(x, n, KIND: tl.constexpr, TRIG_FROM: tl.constexpr):
    # the shifted polynomials: KIND(2x - 1), the recurrence in x (kernels/numba's _shifted_chebyshev)
    y = x + x - 1.0
    if KIND == 0:
        first = y
    elif KIND == 1:
        first = y + y
    elif KIND == 2:
        first = y + y - 1.0
    else:
        first = y + y + 1.0
    special = (x == 1) | (x == 0) | ((n > TRIG_FROM) & (tl.abs(y) < 1))
    r = _three_term(x, n, first, 1, special | (n < 2))
    r = tl.where(n == 1, first, tl.where(n == 0, 1.0, r))
    r = tl.where(special, _chebyshev(y, n, KIND, TRIG_FROM), r)
    return tl.where(n < 0, 0.0, r)


@triton.jit
def chebyshev_polynomial_t(x, n): return _chebyshev(x.to(tl.float64), _degree(n), 0, 6).to(x.dtype)
@triton.jit
def chebyshev_polynomial_u(x, n): return _chebyshev(x.to(tl.float64), _degree(n), 1, 8).to(x.dtype)
@triton.jit
def chebyshev_polynomial_v(x, n): return _chebyshev(x.to(tl.float64), _degree(n), 2, 8).to(x.dtype)
@triton.jit
def chebyshev_polynomial_w(x, n): return _chebyshev(x.to(tl.float64), _degree(n), 3, 8).to(x.dtype)
@triton.jit
def shifted_chebyshev_polynomial_t(x, n):
    return _shifted_chebyshev(x.to(tl.float64), _degree(n), 0, 6).to(x.dtype)
@triton.jit
def shifted_chebyshev_polynomial_u(x, n):
    return _shifted_chebyshev(x.to(tl.float64), _degree(n), 1, 6).to(x.dtype)
@triton.jit
def shifted_chebyshev_polynomial_v(x, n):
    return _shifted_chebyshev(x.to(tl.float64), _degree(n), 2, 6).to(x.dtype)
@triton.jit
def shifted_chebyshev_polynomial_w(x, n):
    return _shifted_chebyshev(x.to(tl.float64), _degree(n), 3, 4).to(x.dtype)


@triton.jit
def _recurrence_family(x, n, first, FAMILY: tl.constexpr):
    # P_n from P_0 = 1, P_1 = first; 0 for negative n
    r = _three_term(x, n, first, FAMILY, n < 2)
    r = tl.where(n == 1, first, tl.where(n == 0, 1.0, r))
    return tl.where(n < 0, 0.0, r)


@triton.jit
def hermite_polynomial_h(x, n):
    x64 = x.to(tl.float64)
    return _recurrence_family(x64, _degree(n), x64 + x64, 2).to(x.dtype)


@triton.jit
def hermite_polynomial_he(x, n):
    x64 = x.to(tl.float64)
    return _recurrence_family(x64, _degree(n), x64, 3).to(x.dtype)


@triton.jit
def laguerre_polynomial_l(x, n):
    x64 = x.to(tl.float64)
    d = _degree(n)
    r = _recurrence_family(x64, tl.where(x64 == 0, tl.minimum(d, 0.0), d), 1.0 - x64, 4)
    return tl.where((x64 == 0) & (d >= 0), 1.0, r).to(x.dtype)


@triton.jit
def legendre_polynomial_p(x, n):
    x64 = x.to(tl.float64)
    d = _degree(n)
    one = tl.abs(x64) == 1
    r = _recurrence_family(x64, tl.where(one, tl.minimum(d, 0.0), d), x64, 5)
    r = tl.where(one & (d >= 0), tl.where((x64 > 0) | ~_odd(d), 1.0, -1.0), r)
    return r.to(x.dtype)


# ---------------------------------------------------------------- frexp
@triton.jit
def _frexp(x):
    # x = m 2^e, |m| in [0.5, 1), from the bits (subnormals scaled up first); x itself and 0 at 0,
    # +-inf and nan. 16-bit floats arrive as float32.
    if x.dtype == tl.float64:
        tiny = tl.abs(x) < 2.2250738585072014e-308
        bits = tl.where(tiny, x * 18014398509481984.0, x).to(tl.int64, bitcast=True)  # 2^54
        e = ((bits >> 52) & 0x7FF) - tl.where(tiny, 1076, 1022)
        m = ((bits & 0xFFFFFFFFFFFFF) | 0x3FE0000000000000).to(tl.float64, bitcast=True)
    else:
        tiny = tl.abs(x) < 1.1754943508222875e-38
        bits = tl.where(tiny, x * 16777216.0, x).to(tl.int32, bitcast=True)  # 2^24
        e = ((bits >> 23) & 0xFF) - tl.where(tiny, 150, 126)
        m = ((bits & 0x7FFFFF) | 0x3F000000).to(tl.float32, bitcast=True)
    special = (x == 0) | (x != x) | (tl.abs(x) == INF)
    m = tl.where(special, x, tl.where(x < 0, -m, m))
    return m, tl.where(special, 0, e).to(x.dtype)


@triton.jit
def frexp_mantissa(x):
    m, _ = _frexp(x)
    return m


@triton.jit
def frexp_exponent(x):
    _, e = _frexp(x)
    return e
