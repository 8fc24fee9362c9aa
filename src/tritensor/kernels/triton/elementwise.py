"""Elementwise Triton kernels: one generic kernel, specialised per op by a scalar function.

The op names are those of ``kernels/numba/elementwise.py``; each is a ``@triton.jit``
function of (blocks of) operands in the compute dtype. ``elementwise_kernel`` receives
the op as a constexpr, so Triton compiles one kernel per (op, arity, dtypes, layout):
a single template, no per-op kernel source.

Operands are pointers (read in place through per-operand strides: broadcast dims have
stride 0, transposed views their own strides) or scalars. The output and every pointer
operand share the (collapsed) output shape; ``CONTIG`` selects the fast path where all
are dense and offsets are the linear index. ``INT64`` widens index arithmetic when an
offset may pass 2**31. 16-bit floats arrive widened to fp32 (the compute dtype), and
float64 scalars travel as their int64 bits because Triton passes Python floats as fp32.

Only ``tl`` primitives are used, so every op also runs in Triton's interpreter (which
cannot call libdevice); log1p/expm1 use Goldberg's compensated forms, and the inverse
trigonometric functions Cephes' range reductions and approximations (single or double).
"""
from __future__ import annotations

import triton
import triton.language as tl

from .scalars import from_float64_bits

# ``tl.constexpr(...)`` instances: a kernel compiled for a GPU may read no other globals.
# Keep them right of tensor operands (in the interpreter ``constexpr * tensor`` stays a
# constexpr).
INF = tl.constexpr(float("inf"))
NAN = tl.constexpr(float("nan"))
PI = tl.constexpr(3.141592653589793)
PI_2 = tl.constexpr(1.5707963267948966)
PI_4 = tl.constexpr(0.7853981633974483)
INV_LN10 = tl.constexpr(0.4342944819032518)
INV_LN2 = tl.constexpr(1.4426950408889634)
LN2 = tl.constexpr(0.6931471805599453)
DEG_TO_RAD = tl.constexpr(0.017453292519943295)
RAD_TO_DEG = tl.constexpr(57.29577951308232)
SQRT1_2 = tl.constexpr(0.7071067811865476)
SQRT2_PI = tl.constexpr(0.7978845608028654)
INV_SQRT_2PI = tl.constexpr(0.3989422804014327)
LOG_SQRT_2PI = tl.constexpr(0.9189385332046728)
TWO_OVER_SQRT_PI = tl.constexpr(1.1283791670955126)
PSI_10 = tl.constexpr(2.25175258906672110764)  # digamma(10)
LOG_PI = tl.constexpr(1.1447298858494002)
PI_SQUARED = tl.constexpr(9.869604401089358)
TWO_PI = tl.constexpr(6.283185307179586)
MACHEP = tl.constexpr(1.11022302462515654042E-16)
SQRT_PI = tl.constexpr(1.7724538509055159)


# ---------------------------------------------------------------- helpers
@triton.jit
def _div(a, b):
    # IEEE division: Triton's fp32 ``/`` is approximate on GPUs (fp64 ``/`` is exact)
    if b.dtype == tl.float32:
        return tl.div_rn(a, b)
    else:
        return a / b


@triton.jit
def _sqrt(x):
    if x.dtype == tl.float32:
        return tl.sqrt_rn(x)
    else:
        return tl.sqrt(x)


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _fmod_floor(a, b):
    # Python/torch remainder: the result takes the sign of the divisor.
    r = a % b
    return tl.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)


@triton.jit
def _log1p(x):
    u = 1.0 + x
    res = tl.log(u) * (x / (u - 1.0))
    res = tl.where(u == INF, u, res)
    return tl.where(u == 1.0, x, res)


@triton.jit
def _expm1(x):
    u = tl.exp(x)
    res = (u - 1.0) * (x / tl.log(u))
    res = tl.where(u == INF, u, res)
    res = tl.where(u - 1.0 == -1.0, u - 1.0, res)
    return tl.where(u == 1.0, x, res)


@triton.jit
def _tanh(x):
    e = _expm1(-2.0 * tl.abs(x))
    t = -e / (e + 2.0)
    return copysign(t, x)  # -0.0 stays -0.0


@triton.jit
def _atan(x):
    if x.dtype == tl.float64:
        return _atan_f64(x)
    else:
        return _atan_f32(x)


@triton.jit
def _atan_f32(x):
    # Cephes atanf: reduce to |z| <= tan(pi/8), then an odd polynomial
    t = tl.abs(x)
    big = t > 2.414213562373095
    mid = t > 0.4142135623730950
    z = tl.where(big, -1.0 / t, tl.where(mid, (t - 1.0) / (t + 1.0), t))
    y0 = tl.where(big, PI_2, tl.where(mid, PI_4, 0.0))
    zz = z * z
    p = (((8.05374449538e-2 * zz - 1.38776856032e-1) * zz + 1.99777106478e-1) * zz
         - 3.33329491539e-1) * zz * z + z
    r = y0 + p
    return copysign(r, x)


@triton.jit
def _atan_f64(x):
    # Cephes atan (double): reduce to |z| <= 0.66, then a rational approximation
    t = tl.abs(x)
    big = t > 2.41421356237309504880
    mid = t > 0.66
    z = tl.where(big, -1.0 / t, tl.where(mid, (t - 1.0) / (t + 1.0), t))
    quarters = tl.where(big, 2.0, tl.where(mid, 1.0, 0.0)).to(tl.float64)  # y0 in units of pi/4
    zz = z * z
    p = (((-8.750608600031904122785e-1 * zz - 1.615753718733365076637e1) * zz
          - 7.500855792314704667340e1) * zz - 1.228866684490136173410e2) * zz - 6.485021904942025371773e1
    q = ((((zz + 2.485846490142306297962e1) * zz + 1.650270098316988542046e2) * zz
          + 4.328810604912902668951e2) * zz + 4.853903996359136964868e2) * zz + 1.945506571482613964425e2
    r = quarters * PI_4 + (z * (zz * p / q) + z + quarters * 3.061616997868382943065e-17)
    return copysign(r, x)


@triton.jit
def _trunc(x):
    return tl.where(x < 0, tl.ceil(x), tl.floor(x))


@triton.jit
def _rint(x):
    # round half to even; x - floor(x) is exact, so no overflow or double rounding
    f = tl.floor(x)
    d = x - f
    odd = (f - 2.0 * tl.floor(f * 0.5)) != 0
    return copysign(f + tl.where((d > 0.5) | ((d == 0.5) & odd), 1.0, 0.0), x)  # round(-0.4) is -0.0


# ---------------------------------------------------------------- unary
@triton.jit
def neg(x): return -x
@triton.jit
def abs_(x): return tl.abs(x)
@triton.jit
def exp(x): return tl.exp(x)
@triton.jit
def exp2(x): return tl.exp2(x)
@triton.jit
def log(x): return tl.log(x)
@triton.jit
def log2(x): return tl.log2(x)
@triton.jit
def log10(x): return tl.log(x) * INV_LN10
@triton.jit
def log1p(x): return _log1p(x)
@triton.jit
def expm1(x): return _expm1(x)
@triton.jit
def sqrt(x): return _sqrt(x)
@triton.jit
def rsqrt(x): return _div(1.0, _sqrt(x))
@triton.jit
def reciprocal(x): return _div(1.0, x)
@triton.jit
def square(x): return x * x
@triton.jit
def sin(x): return tl.sin(x)
@triton.jit
def cos(x): return tl.cos(x)
@triton.jit
def tan(x): return _div(tl.sin(x), tl.cos(x))
@triton.jit
def atan(x): return _atan(x)
@triton.jit
def asin(x): return _atan(_div(x, _sqrt((1.0 - x) * (1.0 + x))))
@triton.jit
def acos(x): return 2.0 * _atan(_sqrt(_div(1.0 - x, 1.0 + x)))
@triton.jit
def sinh(x): return 0.5 * (_expm1(x) - _expm1(-x))


# The inverse hyperbolic functions through log1p, so nothing cancels near their zero; past 2^28
# the squares would overflow float32 and acosh(x) = asinh(x) = log(2x) to working precision.
@triton.jit
def asinh(x):
    a = tl.abs(x)
    near = _log1p(a + _div(a * a, 1.0 + _sqrt(1.0 + a * a)))
    return copysign(tl.where(a > 268435456.0, tl.log(a) + LN2, near), x)


@triton.jit
def acosh(x):
    t = x - 1.0
    near = _log1p(t + _sqrt(t * (t + 2.0)))
    r = tl.where(x > 268435456.0, tl.log(x) + LN2, near)
    return tl.where(x < 1.0, INF - INF, r)


@triton.jit
def atanh(x):
    a = tl.abs(x)
    return copysign(0.5 * _log1p(_div(2.0 * a, 1.0 - a)), x)


@triton.jit
def cosh(x): return 0.5 * (tl.exp(x) + tl.exp(-x))
@triton.jit
def tanh(x): return _tanh(x)
@triton.jit
def sigmoid(x): return _sigmoid(x)
@triton.jit
def relu(x): return tl.where((x > 0) | (x != x), x, 0)
@triton.jit
def silu(x): return x * _sigmoid(x)
@triton.jit
def gelu(x): return 0.5 * x * (1.0 + tl.erf(x * SQRT1_2))
@triton.jit
def gelu_tanh(x): return 0.5 * x * (1.0 + _tanh((x + 0.044715 * x * x * x) * SQRT2_PI))
@triton.jit
def erf(x): return tl.erf(x)
@triton.jit
def floor(x): return tl.floor(x)
@triton.jit
def ceil(x): return tl.ceil(x)
@triton.jit
def round_(x): return _rint(x)
@triton.jit
def trunc(x): return _trunc(x)
@triton.jit
def frac(x): return x - _trunc(x)
@triton.jit
def logical_not(x): return x == 0
@triton.jit
def bitwise_not(x): return ~x
@triton.jit
def angle(x): return tl.where(x < 0, PI, tl.where(x != x, x, 0.0))  # of a real number: 0, pi or nan
@triton.jit
def isnan(x): return x != x
@triton.jit
def isinf(x): return (x == INF) | (x == -INF)
@triton.jit
def isfinite(x): return (x == x) & (x != INF) & (x != -INF)
@triton.jit
def identity(x): return x


@triton.jit
def sign(x):
    return (x > 0).to(x.dtype) - (x < 0).to(x.dtype)  # torch: sign(nan) is 0


# ---------------------------------------------------------------- special functions
# (nan as ``INF - INF``, not the global ``NAN``: a kernel may reach a global through two calls
# only if its values agree, and Triton's check fails for nan, which equals nothing)
# Computed in float64 whatever the compute dtype (like ``pow_``): a float32 result is rounded once,
# within torch's float32 arithmetic's error, and one double-accurate algorithm serves all dtypes.
@triton.jit
def _lgamma64(x):
    # Lanczos' approximation (g = 7, 9 terms) of lgamma(y + 1) for x >= 0.5 (y = x - 1); near 0
    # lgamma(x) = lgamma(1 + x) - log|x| (y = x); at -0.5 and below the reflection
    # lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x) (y = -x), sin of the fractional part (exact)
    small = tl.abs(x) < 0.5
    y = tl.where(small, x, tl.where(x < 0, -x, x - 1.0))
    a = (0.99999999999980993 + 676.5203681218851 / (y + 1.0) - 1259.1392167224028 / (y + 2.0)
         + 771.32342877765313 / (y + 3.0) - 176.61502916214059 / (y + 4.0) + 12.507343278686905 / (y + 5.0)
         - 0.13857109526572012 / (y + 6.0) + 9.9843695780195716e-6 / (y + 7.0)
         + 1.5056327351493116e-7 / (y + 8.0))
    t = y + 7.5
    lg = LOG_SQRT_2PI + (y + 0.5) * tl.log(t) - t + tl.log(a)
    reflected = LOG_PI - tl.log(tl.abs(tl.sin((x - tl.floor(x)) * PI))) - lg
    r = tl.where(small, lg - tl.log(tl.abs(x)), tl.where(x < 0, reflected, lg))
    return tl.where(((x <= 0) & (x == tl.floor(x))) | (tl.abs(x) == INF), INF, r)  # poles and +-inf


@triton.jit
def _digamma64(x):
    # torch's (Cephes): psi(x) = psi(1 - x) - pi / tan(pi x) below 0, the recurrence
    # psi(x) = psi(x + 1) - 1 / x up to x >= 10, then the asymptotic series in 1 / x^2
    y = tl.where(x < 0, 1.0 - x, x)
    r = tl.zeros_like(y)
    for _ in tl.static_range(10):
        small = y < 10.0
        r = tl.where(small, r - 1.0 / tl.where(small, y, 1.0), r)
        y = tl.where(small, y + 1.0, y)
    z = 1.0 / (y * y)
    p = (((8.33333333333333333333E-2 * z - 2.10927960927960927961E-2) * z + 7.57575757575757575758E-3) * z
         - 4.16666666666666666667E-3) * z + 3.96825396825396825397E-3
    p = (p * z - 8.33333333333333333333E-3) * z + 8.33333333333333333333E-2
    asymptotic = r + tl.log(y) - 0.5 / y - tl.where(y < 1.0e17, z * p, 0.0)
    r = tl.where(y == 10.0, r + PSI_10, asymptotic)
    frac = x - _trunc(x)
    r = tl.where(x < 0, r - tl.cos(frac * PI) * PI / tl.sin(frac * PI), r)
    r = tl.where((x < 0) & (frac == 0), INF - INF, r)  # the poles at negative integers (and -inf)
    return tl.where(x == 0, tl.where(1.0 / x < 0, INF, -INF), r)  # +-0 -> -+inf


@triton.jit
def _trigamma64(x):
    # torch's: the reflection below 0.5, six recurrence steps, then an asymptotic series
    neg = x < 0.5
    s = tl.sin(x * PI)
    r = tl.where(neg, -PI_SQUARED / (s * s), 0.0)
    y = tl.where(neg, 1.0 - x, x)
    for _ in tl.static_range(6):
        r += 1.0 / (y * y)
        y += 1.0
    ixx = 1.0 / (y * y)
    r += (1.0 + 1.0 / (2.0 * y) + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)))) / y
    return tl.where(neg, -r, r)


@triton.jit
def _zeta_tail(x, w, a, b, k, s, done, c):
    # one term of zeta's Euler-Maclaurin tail (lanes already converged keep s)
    a = a * (x + k)
    b = b / w
    t = a * b / c
    s = tl.where(done, s, s + t)
    done = done | (tl.abs(t / s) < MACHEP)
    return a * (x + k + 1.0), b / w, s, done


@triton.jit
def _zeta64(x, q, skip):
    # torch's (Cephes') Hurwitz zeta sum_k (k + q)^-x, its loops masked per element (``skip``: lanes
    # that need no value): direct terms until q + k > 9 (and 9 of them; a negative q needs 1 - q
    # more, up to a block's largest, capped at 2^16) or convergence, then 12 Euler-Maclaurin terms
    s = pow_(q, -x)
    a = q
    b = tl.zeros_like(q)
    done = skip | (x <= 1.0) | ((q <= 0) & (q == tl.floor(q))) | (s != s)
    steps = tl.minimum(tl.max(tl.where(done | (q > 0), 0.0, -q)), 65536.0).to(tl.int32) + 10
    for i in range(steps):
        go = ~done & ((i < 9) | (a <= 9.0))
        a = tl.where(go, a + 1.0, a)
        b = tl.where(go, pow_(a, -x), b)
        s = tl.where(go, s + b, s)
        done = done | (go & (tl.abs(b) < s * MACHEP))
    w = a
    s = tl.where(done, s, s + b * w / (x - 1.0) - 0.5 * b)
    a = tl.full(q.shape, 1.0, tl.float64)
    # the coefficients (2k)! / B_2k
    a, b, s, done = _zeta_tail(x, w, a, b, 0.0, s, done, 12.0)
    a, b, s, done = _zeta_tail(x, w, a, b, 2.0, s, done, -720.0)
    a, b, s, done = _zeta_tail(x, w, a, b, 4.0, s, done, 30240.0)
    a, b, s, done = _zeta_tail(x, w, a, b, 6.0, s, done, -1209600.0)
    a, b, s, done = _zeta_tail(x, w, a, b, 8.0, s, done, 47900160.0)
    a, b, s, done = _zeta_tail(x, w, a, b, 10.0, s, done, -1.8924375803183791606e9)
    a, b, s, done = _zeta_tail(x, w, a, b, 12.0, s, done, 7.47242496e10)
    a, b, s, done = _zeta_tail(x, w, a, b, 14.0, s, done, -2.950130727918164224e12)
    a, b, s, done = _zeta_tail(x, w, a, b, 16.0, s, done, 1.1646782814350067249e14)
    a, b, s, done = _zeta_tail(x, w, a, b, 18.0, s, done, -4.5979787224074726105e15)
    a, b, s, done = _zeta_tail(x, w, a, b, 20.0, s, done, 1.8152105401943546773e17)
    a, b, s, done = _zeta_tail(x, w, a, b, 22.0, s, done, -7.1661652561756670113e18)
    s = tl.where((q <= 0) & (q == tl.floor(q)), INF, s)
    s = tl.where((q <= 0) & (x != tl.floor(x)), INF - INF, s)
    s = tl.where(x < 1.0, INF - INF, s)
    return tl.where(x == 1.0, INF, s)


@triton.jit
def _erfinv64(y):
    # torch's: a rational first guess (|y| <= 0.7, else in sqrt(-log((1 - |y|) / 2))), then
    # two Newton steps on erf(x) = y
    ay = tl.abs(y)
    z = y * y
    central = y * ((((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899)
                   / ((((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0))
    w = tl.sqrt(-tl.log(tl.where(ay < 1.0, (1.0 - ay) / 2.0, 0.5)))
    tail = (((1.641345311 * w + 3.429567803) * w - 1.624906493) * w - 1.970840454) \
        / ((1.637067800 * w + 3.543889200) * w + 1.0)
    x = tl.where(ay <= 0.7, central, tl.where(y < 0, -tail, tail))
    x = x - (tl.erf(x) - y) / (tl.exp(-x * x) * TWO_OVER_SQRT_PI)
    x = x - (tl.erf(x) - y) / (tl.exp(-x * x) * TWO_OVER_SQRT_PI)
    x = tl.where(ay == 1.0, tl.where(y < 0, -INF, INF), x)
    return tl.where(ay > 1.0, INF - INF, x)


@triton.jit
def _poly8(z, c0, c1, c2, c3, c4, c5, c6, c7, c8):
    # c0 z^8 + c1 z^7 + ... + c8 (Horner)
    return (((((((c0 * z + c1) * z + c2) * z + c3) * z + c4) * z + c5) * z + c6) * z + c7) * z + c8


@triton.jit
def _ndtri64(y0):
    # Cephes' ndtri, as torch: rationals in y - 0.5 for |y - 0.5| <= 3/8 (above 1 - exp(-2) in 1 - y),
    # else in z = 1 / sqrt(-2 log y) on two ranges
    upper = y0 > 1.0 - 0.13533528323661269189
    y = tl.where(upper, 1.0 - y0, y0)
    c = y - 0.5
    c2 = c * c
    num = _poly8(c2, 0.0, 0.0, 0.0, 0.0, -5.99633501014107895267E1, 9.80010754185999661536E1,
                 -5.66762857469070293439E1, 1.39312609387279679503E1, -1.23916583867381258016E0)
    den = _poly8(c2, 1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
                 -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
                 1.59056225126211695515E1, -1.18331621121330003142E0)
    central = (c + c * (c2 * num / den)) * 2.50662827463100050242  # sqrt(2 pi)
    x = tl.sqrt(-2.0 * tl.log(tl.where(y > 0, y, 0.5)))
    z = 1.0 / x
    near = z * _poly8(z, 4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
                      4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
                      -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4) \
        / _poly8(z, 1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
                 1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
                 -3.80806407691578277194E-2, -9.33259480895457427372E-4)
    far = z * _poly8(z, 3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
                     1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
                     3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9) \
        / _poly8(z, 1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
                 2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
                 2.89247864745380683936E-6, 6.79019408009981274425E-9)
    tail = x - tl.log(x) / x - tl.where(x < 8.0, near, far)
    r = tl.where(y > 0.13533528323661269189, central, tl.where(upper, tail, -tail))
    r = tl.where((y0 < 0) | (y0 > 1) | (y0 != y0), INF - INF, r)
    return tl.where(y0 == 0, -INF, tl.where(y0 == 1, INF, r))


@triton.jit
def _erfc_ratio(ax):
    # Cephes' erfc(x) = exp(-x^2) P(x) / Q(x), rational approximations on [1, 8) and [8, inf):
    # the ratio is erfcx(x) there
    p8 = (((2.46196981473530512524E-10 * ax + 5.64189564831068821977E-1) * ax + 7.46321056442269912687E0) * ax
          + 4.86371970985681366614E1) * ax + 1.96520832956077098242E2
    p8 = (((p8 * ax + 5.26445194995477358631E2) * ax + 9.34528527171957607540E2) * ax
          + 1.02755188689515710272E3) * ax + 5.57535335369399327526E2
    q8 = ((ax + 1.32281951154744992508E1) * ax + 8.67072140885989742329E1) * ax + 3.54937778887819891062E2
    q8 = q8 * ax + 9.75708501743205489753E2
    q8 = (((q8 * ax + 1.82390916687909736289E3) * ax + 2.24633760818710981792E3) * ax
          + 1.65666309194161350182E3) * ax + 5.57535340817727675546E2
    p = ((((5.64189583547755073984E-1 * ax + 1.27536670759978104416E0) * ax + 5.01905042251180477414E0) * ax
          + 6.16021097993053585195E0) * ax + 7.40974269950448939160E0) * ax + 2.97886665372100240670E0
    q = (((((ax + 2.26052863220117276590E0) * ax + 9.39603524938001434673E0) * ax + 1.20489539808096656605E1)
          * ax + 1.70814450747565897222E1) * ax + 9.60896809063285878198E0) * ax + 3.36907645100081516050E0
    return tl.where(ax < 8.0, p8 / q8, p / q)


@triton.jit
def _erfc64(x):
    # Cephes' erfc: 1 - erf(x) for |x| < 1, else exp(-x^2) P(|x|) / Q(|x|); 2 - erfc(-x) below 0
    ax = tl.abs(x)
    z = tl.exp(-x * x)
    r = tl.where(z == 0, 0.0, z * _erfc_ratio(ax))  # 0 * (inf / inf) at +-inf
    r = tl.where(x < 0, 2.0 - r, r)
    return tl.where(ax < 1.0, 1.0 - tl.erf(x), r)


@triton.jit
def _erfcx64(x):
    # exp(x^2) erfc(x): Cephes' ratio from 1 on, 1 / (x sqrt(pi)) (1 - 1 / 2x^2 + 3 / 4x^4) past
    # 1000 (where the ratio's polynomials overflow), exp(x^2) erfc(x) below 1; 2 exp(x^2) - erfcx(-x)
    ax = tl.abs(x)
    z = 1.0 / (ax * ax)
    r = tl.where(ax < 1000.0, _erfc_ratio(ax), (1.0 - 0.5 * z + 0.75 * z * z) / (ax * SQRT_PI))
    r = tl.where(ax < 1.0, tl.exp(ax * ax) * (1.0 - tl.erf(ax)), r)
    return tl.where(x < 0, 2.0 * tl.exp(x * x) - r, r)


@triton.jit
def _bessel_i64(x, NU: tl.constexpr, SCALED: tl.constexpr):
    # I_nu(|x|) (times e^-|x| if SCALED) for nu = 0, 1: the power series
    # sum_k (x^2 / 4)^k / (k! (k + nu)!) (x / 2)^nu up to |x| = 20, then the asymptotic series
    # e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k
    ax = tl.abs(x)
    q = tl.minimum(ax, 20.0) * tl.minimum(ax, 20.0) * 0.25
    term = tl.full(ax.shape, 1.0, tl.float64)
    series = term
    for k in range(1, 48):
        term = term * q / (k * (k + NU))
        series += term
    if NU == 1:
        series = series * ax * 0.5
    mu = 4.0 * NU * NU
    big = tl.maximum(ax, 20.0)
    term = tl.full(ax.shape, 1.0, tl.float64)
    asymptotic = term
    for k in range(1, 24):
        odd = 2.0 * k - 1.0
        term = -term * (mu - odd * odd) / (8.0 * k * big)
        asymptotic += term
    asymptotic = asymptotic / tl.sqrt(big * TWO_PI)
    if SCALED:
        series = series * tl.exp(-tl.minimum(ax, 20.0))
    else:
        asymptotic = tl.exp(big) * asymptotic  # e^x as torch's: inf past its range, then nan at inf
    return tl.where(ax <= 20.0, series, tl.where(ax != ax, ax, asymptotic))


# ---------------------------------------------------------------- unary with scalar parameters
@triton.jit
def softplus(x, beta, threshold):
    bx = x * beta
    return tl.where(bx > threshold, x, _div(_log1p(tl.exp(bx)), beta))


@triton.jit
def leaky_relu(x, slope): return tl.where(x > 0, x, x * slope)
@triton.jit
def elu(x, alpha): return tl.where(x > 0, x, alpha * _expm1(x))
@triton.jit
def elu_scaled(x, alpha, scale, input_scale):
    return tl.where(x > 0, scale * x, scale * alpha * _expm1(x * input_scale))
@triton.jit
def threshold(x, threshold, value): return tl.where(x > threshold, x, value)
@triton.jit
def mish(x): return x * _tanh(tl.where(x > 20.0, x, _log1p(tl.exp(x))))
@triton.jit
def hardswish(x): return x * tl.minimum(tl.maximum(x + 3.0, 0.0), 6.0) / 6.0
@triton.jit
def hardsigmoid(x): return tl.minimum(tl.maximum(x + 3.0, 0.0), 6.0) / 6.0
@triton.jit
def deg2rad(x): return x * DEG_TO_RAD
@triton.jit
def rad2deg(x): return x * RAD_TO_DEG
@triton.jit
def lgamma(x): return _lgamma64(x.to(tl.float64)).to(x.dtype)
@triton.jit
def digamma(x): return _digamma64(x.to(tl.float64)).to(x.dtype)
@triton.jit
def polygamma(x, n):
    # (-1)^(n+1) n! zeta(n + 1, x) beyond trigamma, as torch
    x64 = x.to(tl.float64)
    n64 = n.to(tl.float64)
    sign = tl.where(n64 - 2.0 * tl.floor(n64 * 0.5) != 0, 1.0, -1.0)
    r = sign * tl.exp(_lgamma64(n64 + 1.0)) * _zeta64(n64 + 1.0, x64, n64 < 2)
    return tl.where(n64 == 0, _digamma64(x64), tl.where(n64 == 1, _trigamma64(x64), r)).to(x.dtype)
@triton.jit
def erfinv(x): return _erfinv64(x.to(tl.float64)).to(x.dtype)
@triton.jit
def erfc(x): return _erfc64(x.to(tl.float64)).to(x.dtype)
@triton.jit
def i0(x): return _bessel_i64(x.to(tl.float64), 0, False).to(x.dtype)
@triton.jit
def i0e(x): return _bessel_i64(x.to(tl.float64), 0, True).to(x.dtype)


@triton.jit
def i1(x):
    r = _bessel_i64(x.to(tl.float64), 1, False)
    return tl.where(x < 0, -r, r).to(x.dtype)


@triton.jit
def i1e(x):
    r = _bessel_i64(x.to(tl.float64), 1, True)
    return tl.where(x < 0, -r, r).to(x.dtype)


@triton.jit
def zeta(x, q): return _zeta64(x.to(tl.float64), q.to(tl.float64), x < 1.0).to(x.dtype)


@triton.jit
def ndtri(x): return _ndtri64(x.to(tl.float64)).to(x.dtype)
@triton.jit
def erfcx(x): return _erfcx64(x.to(tl.float64)).to(x.dtype)


@triton.jit
def log_ndtr(x):
    # torch's: log(erfcx(-t) / 2) - t^2 below -1 (t = x / sqrt 2), else log1p(-erfc(t) / 2)
    t = x.to(tl.float64) * SQRT1_2
    r = tl.where(x < -1.0, tl.log(_erfcx64(-t) * 0.5) - t * t, _log1p(-_erfc64(t) * 0.5))
    return r.to(x.dtype)


@triton.jit
def sinc(x):
    px = x * PI  # inf and nan stay: sin(inf) / inf is nan, as in torch
    return tl.where(x == 0, 1.0, _div(tl.sin(px), px))


@triton.jit
def entr(x):
    r = tl.where(x > 0, -x * tl.log(tl.where(x > 0, x, 1.0)), -INF)
    return tl.where((x != x) | (x == 0), x, r)  # nan stays; 0 log 0 is 0


@triton.jit
def signbit(x):
    # the sign bit: -0.0 and a negative nan count as negative
    if x.dtype == tl.float64:
        return x.to(tl.int64, bitcast=True) < 0
    elif x.dtype == tl.float32:
        return x.to(tl.int32, bitcast=True) < 0
    else:
        return x < 0


@triton.jit
def logit(x, lo, hi):
    # torch's kernel: lo = eps and hi = 1 - eps in x's dtype; a negative (or NaN, or no) eps
    # leaves x unclamped, and lo > hi clamps to lo first
    xc = tl.where(lo >= 0, tl.where(x < lo, lo, tl.where(x > hi, hi, x)), x)
    return tl.log(_div(xc, 1.0 - xc))


@triton.jit
def round_decimals(x, scale): return _div(_rint(x * scale), scale)


@triton.jit
def nan_to_num(x, nan, posinf, neginf):
    r = tl.where(x == INF, posinf, tl.where(x == -INF, neginf, x))
    return tl.where(x != x, nan, r)


@triton.jit
def clamp(x, lo, hi):
    r = tl.minimum(tl.maximum(x, lo), hi)
    r = tl.where(hi != hi, hi, r)
    r = tl.where(lo != lo, lo, r)
    return tl.where(x != x, x, r)


@triton.jit
def clamp_min(x, lo):
    return tl.where((x != x) | (lo != lo), x + lo, tl.maximum(x, lo))


@triton.jit
def clamp_max(x, hi):
    return tl.where((x != x) | (hi != hi), x + hi, tl.minimum(x, hi))


# ---------------------------------------------------------------- binary
@triton.jit
def add(a, b): return a + b
@triton.jit
def add_alpha(a, b, alpha): return a + alpha * b
@triton.jit
def sub(a, b): return a - b
@triton.jit
def mul(a, b): return a * b
@triton.jit
def div(a, b): return _div(a, b)
@triton.jit
def div_trunc(a, b): return _trunc(_div(a, b))
@triton.jit
def remainder(a, b): return _fmod_floor(a, b)
@triton.jit
def fmod(a, b): return a % b
@triton.jit
def int_fmod(a, b): return a % b  # Triton's integer remainder takes the dividend's sign, like C
@triton.jit
def ldexp(a, b): return a * tl.exp2(b)


@triton.jit
def hypot(a, b):
    # scaled by the larger magnitude, so 1e30 and 1e-30 neither overflow nor underflow when
    # squared; an infinity wins over NaN, as C's hypot
    big = tl.maximum(tl.abs(a), tl.abs(b))
    small = tl.minimum(tl.abs(a), tl.abs(b))
    q = _div(small, tl.where(big == 0, 1.0, big))
    r = big * _sqrt(1.0 + q * q)
    r = tl.where((a != a) | (b != b), a + b, r)
    return tl.where((tl.abs(a) == INF) | (tl.abs(b) == INF), INF, r)


@triton.jit
def copysign(a, b):
    # on the bits: arithmetic negation (0 - x on a GPU) would lose -0.0 and NaN signs
    if a.dtype == tl.float64:
        ua = a.to(tl.uint64, bitcast=True)
        ub = b.to(tl.uint64, bitcast=True)
        return (((ua << 1) >> 1) | ((ub >> 63) << 63)).to(tl.float64, bitcast=True)
    else:
        ua = a.to(tl.uint32, bitcast=True)
        ub = b.to(tl.uint32, bitcast=True)
        return (((ua << 1) >> 1) | ((ub >> 31) << 31)).to(tl.float32, bitcast=True)


@triton.jit
def _logaddexp_inf(a, b, r):
    # equal infinities: a itself (inf - inf would make nan)
    return tl.where((a == b) & (tl.abs(a) == INF), a, r)


@triton.jit
def logaddexp(a, b):
    return _logaddexp_inf(a, b, tl.maximum(a, b) + _log1p(tl.exp(-tl.abs(a - b))))


@triton.jit
def logaddexp2(a, b):
    return _logaddexp_inf(a, b, tl.maximum(a, b) + _log1p(tl.exp2(-tl.abs(a - b))) * INV_LN2)


@triton.jit
def xlogy(x, y):
    # torch: nan where y is nan, else 0 where x is 0 (even where log(y) is -inf or nan)
    r = tl.where(x == 0, 0.0, x * tl.log(y))
    return tl.where(y != y, y, r)


@triton.jit
def xlog1py(x, y):
    r = tl.where(x == 0, 0.0, x * _log1p(y))
    return tl.where(y != y, y, r)


@triton.jit
def heaviside(x, values): return tl.where(x == 0, values, (x > 0).to(values.dtype))  # a nan x: 0, as torch


@triton.jit
def nextafter(a, b):
    # one step of the bit pattern: up in magnitude when moving away from zero; from +-0 the
    # smallest subnormal of b's sign
    if a.dtype == tl.float64:
        ua = a.to(tl.uint64, bitcast=True)
        tiny = ((b.to(tl.uint64, bitcast=True) >> 63) << 63) | 1
    else:
        ua = a.to(tl.uint32, bitcast=True)
        tiny = ((b.to(tl.uint32, bitcast=True) >> 31) << 31) | 1
    step = tl.where((b > a) == (a > 0), ua + 1, ua - 1)
    r = tl.where(a == 0, tiny, step).to(a.dtype, bitcast=True)
    r = tl.where(a == b, b, r)
    return tl.where((a != a) | (b != b), a + b, r)


@triton.jit
def _gcd(a, b):
    # Euclid's algorithm, a fixed number of steps: consecutive Fibonacci numbers, its worst case,
    # need 92 for 64-bit integers
    a = tl.abs(a)
    b = tl.abs(b)
    for _ in range(93):
        nz = a != 0
        a, b = tl.where(nz, b % tl.where(nz, a, 1), 0), tl.where(nz, a, b)
    return b


@triton.jit
def gcd(a, b): return _gcd(a, b)


@triton.jit
def lcm(a, b):
    # 8- and 16-bit integers in 32 bits, as C++ promotes torch's products before abs (int8's
    # lcm(-64, 48) is -64); 32 and 64 bits wrap in their own width
    if a.dtype.primitive_bitwidth < 32:
        a = a.to(tl.int32)
        b = b.to(tl.int32)
    g = _gcd(a, b)
    return tl.where(g == 0, 0, tl.abs(a // tl.where(g == 0, 1, g) * b))


@triton.jit
def int_div_trunc(a, b):
    return a // b  # Triton's integer division truncates, like C


@triton.jit
def int_div_floor(a, b):
    q = a // b
    return tl.where(((a % b) != 0) & ((a < 0) != (b < 0)), q - 1, q)


@triton.jit
def int_remainder(a, b):
    return _fmod_floor(a, b)


@triton.jit
def pow_(a, b):
    # exp2(b * log2|a|) in float64 for accuracy, with the sign and special cases of C's pow
    a64 = a.to(tl.float64)
    b64 = b.to(tl.float64)
    r = tl.exp2(b64 * tl.log2(tl.abs(a64)))
    b_int = tl.floor(b64) == b64
    b_odd = b_int & (tl.abs(b64) < 9007199254740992.0) & ((b64 - 2.0 * tl.floor(b64 * 0.5)) != 0)
    a_neg = signbit(a64)  # -0.0 too: pow(-0., -1) is -inf
    r = tl.where(a_neg & b_odd, -r, r)
    non_int = (b64 == b64) & ~b_int & (tl.abs(b64) != INF)
    r = tl.where((a64 < 0) & (a64 != -INF) & non_int, INF - INF, r)  # nan: see _lgamma64
    r = tl.where((a64 == -INF) & (b64 < 0), tl.where(b_odd, -0.0, 0.0), r)
    r = tl.where((a64 == -1.0) & (tl.abs(b64) == INF), 1.0, r)
    r = tl.where(b64 == 0, 1.0, r)
    r = tl.where(a64 == 1.0, 1.0, r)
    return r.to(a.dtype)


@triton.jit
def pow_scalar(a, b):
    # torch's pow with a number exponent takes sqrt / rsqrt for +-0.5 (sqrt(-0.) is -0.)
    s = _sqrt(a)
    return tl.where(b == 0.5, s, tl.where(b == -0.5, _div(1.0, s), pow_(a, b)))


@triton.jit
def int_pow(a, b):
    result = a * 0 + 1
    base = a
    e = b
    for _ in range(64):
        result = tl.where((e & 1) != 0, result * base, result)
        base = base * base
        e = e >> 1
    # a negative exponent, as torch: 1 ** -n is 1, (-1) ** -n is +-1, anything else truncates to 0
    one = a * 0 + 1
    if a.dtype.is_int_unsigned():  # no -1 base (and comparing with -1 does not compile)
        negative = tl.where(a == 1, one, a * 0)
    else:
        negative = tl.where(a == 1, one, tl.where(a == -1, tl.where((b & 1) != 0, -one, one), a * 0))
    if b.dtype.is_int_unsigned():  # no negative exponents
        return result
    else:
        return tl.where(b < 0, negative, result)


@triton.jit
def atan2(a, b):
    r = _atan(_div(a, b))
    a_neg = signbit(a)  # atan2(-0., -1.) is -pi
    r = tl.where(b < 0, tl.where(a_neg, r - PI, r + PI), r)
    both_inf = (tl.abs(a) == INF) & (tl.abs(b) == INF)  # inf / inf is NaN: the quadrant's diagonal
    quarter = tl.full(r.shape, PI_4, r.dtype)  # (a bare float literal in tl.where is fp32)
    r = tl.where(both_inf, copysign(tl.where(b > 0, quarter, 3.0 * quarter), a), r)
    half_pi = tl.full(r.shape, PI_2, r.dtype)  # (a bare float literal in tl.where is fp32)
    r = tl.where((b == 0) & (a > 0), half_pi, tl.where((b == 0) & (a < 0), -half_pi, r))
    # at the origin the signs of the zeros decide (1 / -0.0 is -inf): +-pi left of it, +-0 right
    pi = tl.full(r.shape, PI, r.dtype)
    at_origin = tl.where(_div(1.0, b) < 0, tl.where(_div(1.0, a) < 0, -pi, pi), a)
    return tl.where((b == 0) & (a == 0), at_origin, r)


@triton.jit
def float_floor_divide(a, b):
    mod = a % b
    d = _div(a - mod, b)
    d = tl.where((mod != 0) & ((b < 0) != (mod < 0)), d - 1.0, d)
    fl = tl.floor(d)
    fl = tl.where(d - fl > 0.5, fl + 1.0, fl)
    q = _div(a, b)
    res = tl.where(d != 0, fl, tl.where(q >= 0, 0.0, -0.0))
    return tl.where(b == 0, q, res)


@triton.jit
def maximum(a, b):
    return tl.where(a != a, a, tl.where(b != b, b, tl.where(a > b, a, b)))


@triton.jit
def minimum(a, b):
    return tl.where(a != a, a, tl.where(b != b, b, tl.where(a < b, a, b)))


@triton.jit
def fmax(a, b): return tl.where((a != a) | (b > a), b, a)
@triton.jit
def fmin(a, b): return tl.where((a != a) | (b < a), b, a)
@triton.jit
def eq(a, b): return a == b
@triton.jit
def ne(a, b): return a != b
@triton.jit
def lt(a, b): return a < b
@triton.jit
def le(a, b): return a <= b
@triton.jit
def gt(a, b): return a > b
@triton.jit
def ge(a, b): return a >= b
@triton.jit
def logical_and(a, b): return (a != 0) & (b != 0)
@triton.jit
def logical_or(a, b): return (a != 0) | (b != 0)
@triton.jit
def logical_xor(a, b): return (a != 0) != (b != 0)
@triton.jit
def bitwise_and(a, b): return a & b
@triton.jit
def bitwise_or(a, b): return a | b
@triton.jit
def bitwise_xor(a, b): return a ^ b


@triton.jit
def left_shift(a, b):
    # a shift by the width or more is undefined in LLVM; torch gives 0
    ok = (b >= 0) & (b < a.dtype.primitive_bitwidth)
    return tl.where(ok, a << tl.where(ok, b, 0), a * 0)


@triton.jit
def right_shift(a, b):
    # ... and here the sign: -1 for negative a, else 0
    ok = (b >= 0) & (b < a.dtype.primitive_bitwidth)
    return tl.where(ok, a >> tl.where(ok, b, 0), tl.where(a < 0, a * 0 - 1, a * 0))


# ---------------------------------------------------------------- ternary
@triton.jit
def lerp(a, b, w):
    return tl.where(tl.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


@triton.jit
def where(cond, a, b): return tl.where(cond != 0, a, b)
@triton.jit
def addcmul(a, b, c, value): return a + value * b * c
@triton.jit
def addcdiv(a, b, c, value): return a + value * _div(b, c)


# ---------------------------------------------------------------- backward helpers
@triton.jit
def sigmoid_backward(g, y): return g * y * (1 - y)
@triton.jit
def tanh_backward(g, y): return g * (1 - y * y)
@triton.jit
def relu_backward(g, y): return tl.where(y > 0, g, 0)
@triton.jit
def threshold_backward(g, x, threshold): return tl.where(x <= threshold, 0, g)  # NaN x: g, as torch


@triton.jit
def logaddexp_backward(g, a, b): return _div(g, 1.0 + tl.exp(b - a))  # d/da logaddexp(a, b)
@triton.jit
def logaddexp2_backward(g, a, b): return _div(g, 1.0 + tl.exp2(b - a))


@triton.jit
def logit_backward(g, x, lo, hi):
    # as kernels/numba/elementwise.py's logit_backward
    d = _div(g, x * (1.0 - x))
    return tl.where(lo >= 0, tl.where((x < lo) | (x > hi), 0.0, d), tl.where((x < 0) | (x > 1), NAN, d))


@triton.jit
def silu_backward(g, x):
    s = _sigmoid(x)
    return g * s * (1 + x * (1 - s))


@triton.jit
def gelu_backward(g, x):
    cdf = 0.5 * (1.0 + tl.erf(x * SQRT1_2))
    pdf = tl.exp(-0.5 * x * x) * INV_SQRT_2PI
    return g * (cdf + x * pdf)


@triton.jit
def gelu_tanh_backward(g, x):
    inner = (x + 0.044715 * x * x * x) * SQRT2_PI
    t = _tanh(inner)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT2_PI * (1 + 3 * 0.044715 * x * x))


@triton.jit
def softplus_backward(g, x, beta, threshold):
    bx = x * beta
    return tl.where(bx > threshold, g, g * _sigmoid(bx))


# ---------------------------------------------------------------- losses of input - target
# as kernels/numba/elementwise.py's: the pointwise loss, and its gradient times ``g``
@triton.jit
def squared_error(a, b):
    d = a - b
    return d * d


@triton.jit
def squared_error_backward(a, b, g): return 2.0 * (a - b) * g


@triton.jit
def huber(a, b, delta):
    z = tl.abs(a - b)
    return tl.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


@triton.jit
def huber_backward(a, b, g, delta):
    x = a - b
    return tl.where(x <= -delta, -g * delta, tl.where(x >= delta, g * delta, x * g))


@triton.jit
def smooth_l1(a, b, beta):
    z = tl.abs(a - b)
    return tl.where(z < beta, _div(0.5 * z * z, beta), z - 0.5 * beta)


@triton.jit
def smooth_l1_backward(a, b, g, beta):
    x = a - b
    return tl.where(x < -beta, -g, tl.where(x > beta, g, _div(x * g, beta)))


@triton.jit
def bce_with_logits(x, y, pos_weight):
    softplus_neg = tl.maximum(-x, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(x)))  # as torch's (see the CPU's)
    return (1.0 - y) * x + ((pos_weight - 1.0) * y + 1.0) * softplus_neg


@triton.jit
def bce_with_logits_backward(x, y, pos_weight, g):
    return g * (((pos_weight - 1.0) * y + 1.0) * _sigmoid(x) - pos_weight * y)


# torch.special's incomplete gamma, Bessel, Airy and polynomial functions and frexp, in a module of
# their own (it reads _lgamma64, _bessel_i64, _expm1 and _atan_f64 above)
from .special_functions import (  # noqa: E402, F401 (the table: scalar_function reads globals)
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t, chebyshev_polynomial_u,
    chebyshev_polynomial_v, chebyshev_polynomial_w, frexp_exponent, frexp_mantissa, hermite_polynomial_h,
    hermite_polynomial_he, igamma, igammac, laguerre_polynomial_l, legendre_polynomial_p, modified_bessel_k0,
    modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w,
    spherical_bessel_j0)

_NAMES = {"abs": abs_, "round": round_, "pow": pow_}


def _jit_types():
    """What ``@triton.jit`` returns: a JITFunction, or an InterpretedFunction when
    TRITON_INTERPRET was set before triton was imported (that module exists only then)."""
    try:
        from triton.runtime.interpreter import InterpretedFunction
    except ImportError:  # pragma: no cover - triton without the interpreter
        return (triton.runtime.JITFunction,)
    return (triton.runtime.JITFunction, InterpretedFunction)


_JIT_TYPES = _jit_types()


def scalar_function(name):
    """The ``@triton.jit`` scalar function implementing op ``name``."""
    fn = _NAMES.get(name) or (globals().get(name) if not name.startswith("_") else None)
    if not isinstance(fn, _JIT_TYPES):
        raise NotImplementedError(f"elementwise op {name!r} has no Triton kernel in tritensor yet")
    return fn


# ---------------------------------------------------------------- the kernel
@triton.jit
def cast_to(v, DTYPE: tl.constexpr):
    """``v.to(DTYPE)``; 16-bit floats are reached through fp32, as torch converts (a direct
    fp64 -> fp16 conversion rounds once, torch's twice; the interpreter's direct int/fp64 ->
    bf16 cast reinterprets bits). Floats reach uint8
    through int64, as torch defines it on every device (-2.7 -> 254; a GPU's direct conversion
    saturates to 0). Other out-of-range conversions are undefined in C++ and torch's differ by
    device: a GPU saturates (as torch's CUDA kernels), the interpreter wraps (as its CPU ones)."""
    if DTYPE == tl.bfloat16 and v.dtype != tl.float32 or DTYPE == tl.float16 and v.dtype == tl.float64:
        return v.to(tl.float32).to(DTYPE)
    elif DTYPE == tl.uint8 and v.dtype.is_floating():
        return v.to(tl.int64).to(DTYPE)
    else:
        return v.to(DTYPE)


@triton.jit
def _offsets(idx, shape, strides, NDIM: tl.constexpr):
    """Element offsets of linear output indices ``idx`` in a view with ``strides``. The outermost
    index is what the inner dims leave, without a remainder (an integer division or remainder
    costs ~20 instructions on a GPU; only masked-off lanes pass the last index)."""
    off = idx * 0
    if NDIM > 0:
        rem = idx
        for d in tl.static_range(NDIM - 1, 0, -1):
            off += (rem % shape[d]) * strides[d]
            rem = rem // shape[d]
        off += rem * strides[0]
    return off


@triton.jit
def _scalar_operand(p, COMPUTE: tl.constexpr, F64_BITS: tl.constexpr, SHAPE: tl.constexpr):
    """A scalar operand splat to the block's ``SHAPE`` (float64 arrives as its int64 bits)."""
    if F64_BITS:
        v = from_float64_bits(p)
    else:
        v = tl.cast(p, COMPUTE)
    return tl.full(SHAPE, v, COMPUTE)


@triton.jit
def _operand(p, strides, idx, mask, shape, IS_PTR: tl.constexpr, COMPUTE: tl.constexpr,
             NDIM: tl.constexpr, CONTIG: tl.constexpr, F64_BITS: tl.constexpr, BLOCK: tl.constexpr):
    if IS_PTR:
        if CONTIG:
            v = tl.load(p + idx, mask=mask)
        else:
            v = tl.load(p + _offsets(idx, shape, strides, NDIM), mask=mask)
        return v.to(COMPUTE)
    else:
        return _scalar_operand(p, COMPUTE, F64_BITS, [BLOCK])


@triton.jit
def _apply(OP: tl.constexpr, ARITY: tl.constexpr, va, vb, vc, vd):
    """``OP`` of its ``ARITY`` first operands (the others are not loaded)."""
    if ARITY == 1:
        return OP(va)
    elif ARITY == 2:
        return OP(va, vb)
    elif ARITY == 3:
        return OP(va, vb, vc)
    else:
        return OP(va, vb, vc, vd)


@triton.jit
def elementwise_kernel(out, a, b, c, d, n, shape, so, sa, sb, sc, sd,
                       OP: tl.constexpr, ARITY: tl.constexpr, A_PTR: tl.constexpr, B_PTR: tl.constexpr,
                       C_PTR: tl.constexpr, D_PTR: tl.constexpr, COMPUTE: tl.constexpr,
                       F64_BITS: tl.constexpr, NDIM: tl.constexpr, CONTIG: tl.constexpr,
                       INT64: tl.constexpr, BLOCK: tl.constexpr):
    """One flat block of ``BLOCK`` output elements per program; each operand's offsets come from
    the linear index and its strides (``CONTIG``: the index itself, vectorised loads)."""
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    idx = pid * BLOCK + tl.arange(0, BLOCK)
    mask = idx < n
    va = _operand(a, sa, idx, mask, shape, A_PTR, COMPUTE, NDIM, CONTIG, F64_BITS, BLOCK)
    vb = _operand(b, sb, idx, mask, shape, B_PTR, COMPUTE, NDIM, CONTIG, F64_BITS, BLOCK) if ARITY > 1 else va
    vc = _operand(c, sc, idx, mask, shape, C_PTR, COMPUTE, NDIM, CONTIG, F64_BITS, BLOCK) if ARITY > 2 else va
    vd = _operand(d, sd, idx, mask, shape, D_PTR, COMPUTE, NDIM, CONTIG, F64_BITS, BLOCK) if ARITY > 3 else va
    r = _apply(OP, ARITY, va, vb, vc, vd)
    if CONTIG:
        dst = out + idx
    else:
        dst = out + _offsets(idx, shape, so, NDIM)
    tl.store(dst, cast_to(r, out.dtype.element_ty), mask=mask)


@triton.jit
def _tile_operand(p, strides, z, rows, cols, mask, IS_PTR: tl.constexpr, COMPUTE: tl.constexpr,
                  F64_BITS: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    if IS_PTR:
        v = tl.load(p + z * strides[0] + rows[:, None] * strides[1] + cols[None, :] * strides[2], mask=mask)
        return v.to(COMPUTE)
    else:
        return _scalar_operand(p, COMPUTE, F64_BITS, [BLOCK_R, BLOCK_C])


@triton.jit
def elementwise_tile_kernel(out, a, b, c, d, R, C, so, sa, sb, sc, sd,
                            OP: tl.constexpr, ARITY: tl.constexpr, A_PTR: tl.constexpr, B_PTR: tl.constexpr,
                            C_PTR: tl.constexpr, D_PTR: tl.constexpr, COMPUTE: tl.constexpr,
                            F64_BITS: tl.constexpr, INT64: tl.constexpr, BLOCK_R: tl.constexpr,
                            BLOCK_C: tl.constexpr):
    """The same op over (Z, R, C) views whose tensors are contiguous along different axes (a
    transposed operand, a transposing copy), where a flat index reads one of them strided.
    Each program owns a ``BLOCK_R x BLOCK_C`` tile of one matrix: every tensor's tile is loaded
    (or stored) along its own contiguous axis, and Triton moves values between the two register
    layouts through shared memory, so every access is coalesced (a stride equal to 1, which
    Triton specialises on, tells the compiler which axis that is). Grid: (row tiles, column
    tiles, Z)."""
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    z = tl.program_id(2)
    if INT64:
        rows = rows.to(tl.int64)
        cols = cols.to(tl.int64)
        z = z.to(tl.int64)
    mask = (rows[:, None] < R) & (cols[None, :] < C)
    va = _tile_operand(a, sa, z, rows, cols, mask, A_PTR, COMPUTE, F64_BITS, BLOCK_R, BLOCK_C)
    vb = (_tile_operand(b, sb, z, rows, cols, mask, B_PTR, COMPUTE, F64_BITS, BLOCK_R, BLOCK_C)
          if ARITY > 1 else va)
    vc = (_tile_operand(c, sc, z, rows, cols, mask, C_PTR, COMPUTE, F64_BITS, BLOCK_R, BLOCK_C)
          if ARITY > 2 else va)
    vd = (_tile_operand(d, sd, z, rows, cols, mask, D_PTR, COMPUTE, F64_BITS, BLOCK_R, BLOCK_C)
          if ARITY > 3 else va)
    r = _apply(OP, ARITY, va, vb, vc, vd)
    dst = out + z * so[0] + rows[:, None] * so[1] + cols[None, :] * so[2]
    tl.store(dst, cast_to(r, out.dtype.element_ty), mask=mask)
