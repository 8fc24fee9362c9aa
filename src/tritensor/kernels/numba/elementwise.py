"""Elementwise CPU kernels: one scalar function per op, compiled two ways.

- ``flat_kernel(name, arity)``: a loop over contiguous 1-D operands (scalars broadcast),
  specialised from one template per arity. This is the fast path: every operand is
  contiguous with the output's shape, so the loop is unit-stride and vectorises.
- ``ufunc(name)``: the scalar function vectorised into a Numba ufunc. Numpy's ufunc
  machinery then walks any strides and broadcasts (stride 0) without copying inputs.

Both are compiled lazily per input types and cached on disk, and both release the GIL,
so the backend can split large outputs across threads. Inputs arrive already cast to the op's
compute dtype, so ``a + b`` of two float32 arrays runs in float32; integer arithmetic wraps
on store like torch's.
Scalar functions receive scalars; extra ufunc arguments (``alpha``, ``beta`` ...) are
broadcast scalars.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

from . import vmath as vm, vtrig as vt
from ._specialize import specialize

inline = numba.njit(inline="always", cache=True)


# ---------------------------------------------------------------- helpers
_sigmoid = vm.sigmoid  # vectorisable, in the argument's width


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
def exp(x): return vm.exp(x)
def exp2(x): return np.exp2(x)
def log(x): return vm.log(x)
def log2(x): return vm.log2(x)
def log10(x): return vm.log10(x)
def log1p(x): return vm.log1p(x)
def expm1(x): return vm.expm1(x)
def sqrt(x): return np.sqrt(x)
def rsqrt(x): return 1.0 / np.sqrt(x)
def reciprocal(x): return 1.0 / x
def square(x): return x * x
def sin(x): return vt.sin(x)
def cos(x): return vt.cos(x)
def tan(x): return vt.tan(x)
def asin(x): return np.arcsin(x)
def acos(x): return np.arccos(x)
def atan(x): return vt.atan(x)
def asinh(x): return np.arcsinh(x)
def acosh(x): return np.arccosh(x)
def atanh(x): return np.arctanh(x)
def angle(x): return np.pi if x < 0 else x * 0 if x != x else 0.0  # of a real number: 0, pi or nan
def sinh(x): return np.sinh(x)
def cosh(x): return np.cosh(x)
def tanh(x): return vm.tanh(x)
def sigmoid(x): return _sigmoid(x)
def relu(x): return 0 if x < 0 else x  # keeps NaN; relu(-inf) == 0
def silu(x): return x * _sigmoid(x)
def gelu(x): return vm.gelu(x)
def gelu_tanh(x):  # the inner polynomial in x's width, so float32 takes vmath's vectorised tanh
    inner = vm.like(0.7978845608028654, x) * (x + vm.like(0.044715, x) * x * x * x)
    return 0.5 * x * (1.0 + vm.tanh(inner))
def erf(x): return vm.erf(x)
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


# ---------------------------------------------------------------- special functions
# torch's algorithms (ATen/native/Math.h, derived from the Cephes Math Library: see the note there
# on its 3-Clause BSD License), evaluated in float64 whatever the compute dtype: a float32 result
# is then rounded once, within torch's float32 arithmetic's error
def lgamma(x): return math.lgamma(x)
def erfc(x): return math.erfc(x)


# Cephes' erfc = exp(-x^2) P(x) / Q(x) on [1, 8) and R(x) / S(x) on [8, inf) (vmath's ERFC_*):
# the ratios are erfcx there
@inline
def _erfcx(x):
    """exp(x^2) erfc(x): Cephes' rationals from 1 on, 1 / (x sqrt(pi)) (1 - 1 / 2x^2 + 3 / 4x^4)
    past 1000, exp(x^2) erfc(x) below 1 and 2 exp(x^2) - erfcx(-x) below 0."""
    x = float(x)
    ax = abs(x)
    if ax < 1.0:
        r = math.exp(ax * ax) * math.erfc(ax)
    elif ax < 8.0:
        r = vm.polevl(ax, vm.ERFC_P) / vm.polevl(ax, vm.ERFC_Q)
    elif ax < 1000.0:
        r = vm.polevl(ax, vm.ERFC_R) / vm.polevl(ax, vm.ERFC_S)
    else:
        z = 1.0 / (ax * ax)
        r = 0.5641895835477563 / ax * (1.0 - 0.5 * z + 0.75 * z * z)
    return r if x >= 0 or x != x else 2.0 * math.exp(x * x) - r


def erfcx(x): return _erfcx(x)


def log_ndtr(x):
    # torch's: log(erfcx(-t) / 2) - t^2 below -1 (t = x / sqrt 2), else log1p(-erfc(t) / 2)
    t = float(x) * 0.7071067811865476
    if x < -1.0:
        return math.log(_erfcx(-t) / 2) - t * t
    return math.log1p(-math.erfc(t) / 2)


# Cephes' ndtri: rationals in y - 0.5 for |y - 0.5| <= 3/8, else in 1 / sqrt(-2 log y) (two ranges)
_NDTRI_P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0)
_NDTRI_P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
             4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
             1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4)
_NDTRI_P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
             1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
             2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9)


def ndtri(y0):
    """The standard normal quantile, torch's (Cephes') ndtri."""
    y = float(y0)
    if y == 0:
        return -math.inf
    if y == 1:
        return math.inf
    if not 0 < y < 1:
        return math.nan
    negate = True
    if y > 1.0 - 0.13533528323661269189:  # exp(-2)
        y = 1.0 - y
        negate = False
    if y > 0.13533528323661269189:
        y = y - 0.5
        y2 = y * y
        return (y + y * (y2 * vm.polevl(y2, _NDTRI_P0) / vm.polevl(y2, _NDTRI_Q0))) * 2.50662827463100050242
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * vm.polevl(z, _NDTRI_P1) / vm.polevl(z, _NDTRI_Q1)
    else:
        x1 = z * vm.polevl(z, _NDTRI_P2) / vm.polevl(z, _NDTRI_Q2)
    return -(x0 - x1) if negate else x0 - x1


def sinc(x):
    if x == 0:
        return 1.0
    px = math.pi * x  # inf and nan stay: sin(inf) / inf is nan, as in torch
    return math.sin(px) / px


def signbit(x): return math.copysign(1.0, x) < 0  # -0.0 and a negative nan count as negative


def entr(x):
    if x != x or x == 0:
        return x * 1.0  # nan stays; 0 log 0 is 0
    return -x * math.log(x) if x > 0 else -math.inf


# Cephes' digamma asymptotic series in 1 / x^2 (highest power first)
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)


@inline
def _digamma_positive(x):
    result = 0.0
    while x < 10:  # recurrence psi(x) = psi(x + 1) - 1 / x up to x >= 10
        result -= 1 / x
        x += 1
    if x == 10:
        return result + 2.25175258906672110764
    y = 0.0
    if x < 1.0e17:
        z = 1.0 / (x * x)
        p = 0.0
        for a in _PSI_A:
            p = p * z + a
        y = z * p
    return result + math.log(x) - 0.5 / x - y


@inline
def _digamma(x):
    x = float(x)
    if x == 0:
        return math.copysign(math.inf, -x)  # +-0 -> -+inf, as torch (and C's tgamma poles)
    if x < 0:
        if x == np.trunc(x):  # np's: math.trunc makes an int64, which overflows past 2^63
            return math.nan  # the poles at negative integers
        # reflection, with tan of the fractional part (pi * x loses digits when |x| > 1)
        return _digamma_positive(1 - x) - math.pi / math.tan(math.pi * (x - np.trunc(x)))
    return _digamma_positive(x)


def digamma(x): return _digamma(x)


@inline
def _trigamma(x):  # polygamma(1, x): torch's reflection, six recurrence steps, asymptotic series
    x = float(x)
    sign = 1.0
    result = 0.0
    if x < 0.5:
        sign = -1.0
        s = math.sin(math.pi * x)
        result -= math.pi * math.pi / (s * s)
        x = 1 - x
    for _ in range(6):
        result += 1 / (x * x)
        x += 1
    ixx = 1 / (x * x)
    result += (1 + 1 / (2 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / x
    return sign * result


# the Euler-Maclaurin coefficients of Cephes' zeta: (2k)! / B_2k
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042E-16


@inline
def _zeta(x, q):
    """The Hurwitz zeta function sum_k (k + q)^-x, torch's (Cephes'): direct terms until q + k > 9
    (and 9 of them), then the Euler-Maclaurin tail."""
    if x == 1:
        return math.inf
    if x < 1:
        return math.nan
    if q <= 0:
        if q == np.floor(q):  # a float floor: an int64 one overflows (and -1e30 + 1 never ends the loop)
            return math.inf
        if x != np.floor(x):
            return math.nan
    s = q ** -x
    a = q
    i = 0
    b = 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -x
        s += b
        if -_MACHEP * s < b < _MACHEP * s:
            return s
    w = a
    s += b * w / (x - 1.0)
    s -= 0.5 * b
    a = 1.0
    k = 0.0
    for c in _ZETA_A:
        a *= x + k
        b /= w
        t = a * b / c
        s = s + t
        if abs(t / s) < _MACHEP:
            return s
        k += 1.0
        a *= x + k
        b /= w
        k += 1.0
    return s


def zeta(x, q): return _zeta(float(x), float(q))


def polygamma(x, n):
    # (-1)^(n+1) n! zeta(n + 1, x) beyond trigamma, as torch
    if n == 0:
        return _digamma(x)
    if n == 1:
        return _trigamma(x)
    sign = 1.0 if n % 2 else -1.0
    return sign * math.exp(math.lgamma(n + 1.0)) * _zeta(n + 1.0, float(x))


def erfinv(y):
    # a rational first guess (central range |y| <= 0.7, else in sqrt(-log((1 - |y|) / 2))), then
    # two Newton steps on erf(x) = y
    y = float(y)
    ay = abs(y)
    if ay > 1:
        return math.nan
    if ay == 1:
        return math.copysign(math.inf, y)
    if ay <= 0.7:
        z = y * y
        num = ((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899
        dem = (((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0
        x = y * num / dem
    else:
        z = math.sqrt(-math.log((1.0 - ay) / 2.0))
        num = ((1.641345311 * z + 3.429567803) * z - 1.624906493) * z - 1.970840454
        dem = (1.637067800 * z + 3.543889200) * z + 1.0
        x = math.copysign(num, y) / dem
    x = x - (math.erf(x) - y) / (1.1283791670955126 * math.exp(-x * x))
    return x - (math.erf(x) - y) / (1.1283791670955126 * math.exp(-x * x))


# Chebyshev coefficients of exp(-x) I0(x) on [0, 8] and of exp(-x) sqrt(x) I0(x) on [8, inf)
_I0_A = (-4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
         1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
         -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
         9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
         -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
         1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
         -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
         1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
         -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
         1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1)
_I0_B = (-7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
         3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
         1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
         -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
         7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
         -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10,
         3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
         2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
         8.04490411014108831608E-1)
# ... of exp(-x) I1(x) / x on [0, 8] and of exp(-x) sqrt(x) I1(x) on [8, inf)
_I1_A = (2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
         -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
         3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
         -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9,
         9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
         -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
         4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
         -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
         2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
         -1.76416518357834055153E-1, 2.52587186443633654823E-1)
_I1_B = (7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
         -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
         -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
         4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
         -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
         3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10,
         -3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
         -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
         7.78576235018280120474E-1)


@inline
def _chbevl(x, coeffs):
    """Cephes' sum of Chebyshev polynomials T_i(x / 2), coefficients highest order first."""
    b0, b1, b2 = 0.0, 0.0, 0.0
    for c in coeffs:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


@inline
def _i0e(x):  # exp(-|x|) I0(x)
    x = abs(float(x))
    if x <= 8.0:
        return _chbevl(x / 2.0 - 2.0, _I0_A)
    return _chbevl(32.0 / x - 2.0, _I0_B) / math.sqrt(x)


@inline
def _i1e(x):  # exp(-|x|) I1(x)
    ax = abs(float(x))
    if ax <= 8.0:
        out = _chbevl(ax / 2.0 - 2.0, _I1_A) * ax
    else:
        out = _chbevl(32.0 / ax - 2.0, _I1_B) / math.sqrt(ax)
    return -out if x < 0 else out


def i0(x): return math.exp(abs(float(x))) * _i0e(x)
def i0e(x): return _i0e(x)
def i1(x): return math.exp(abs(float(x))) * _i1e(x)
def i1e(x): return _i1e(x)


# ---------------------------------------------------------------- unary with scalar parameters
def softplus(x, beta, threshold):
    beta = vm.like(beta, x)  # float32 lanes for float32 x (a Python float would widen them)
    bx = x * beta
    return x if bx > threshold else vm.log1p(vm.exp(bx)) / beta


def leaky_relu(x, slope): return x if x > 0 else x * slope
def elu(x, alpha): return x if x > 0 else alpha * vm.expm1(x)
# torch's elu(x, alpha, scale, input_scale): selu and celu are its instances
def elu_scaled(x, alpha, scale, input_scale):
    return scale * x if x > 0 else scale * alpha * vm.expm1(x * input_scale)


def threshold(x, threshold, value): return x if x > threshold else value
def mish(x): return vm.mish(x)
def deg2rad(x): return x * 0.017453292519943295
def rad2deg(x): return x * 57.29577951308232


def logit(x, lo, hi):
    # torch's kernel: lo = eps and hi = 1 - eps in x's dtype; a negative (or NaN, or no) eps
    # leaves x unclamped, and lo > hi clamps to lo first
    if lo >= 0:
        x = lo if x < lo else (hi if x > hi else x)
    return vm.log(x / (1 - x))
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
def int_div_trunc(a, b):
    # floor quotient, moved toward zero when inexact with unlike signs (abs() of the type's
    # minimum overflows: int8's -128 // 3 must be -42)
    q = a // b
    return q + 1 if a % b != 0 and (a < 0) != (b < 0) else q


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


def pow_scalar(a, b):
    # torch's pow with a number exponent takes sqrt / rsqrt for +-0.5: sqrt(-0.) is -0.,
    # sqrt(-inf) nan, where C's pow gives 0. and inf
    if b == 0.5:
        return np.sqrt(a)
    if b == -0.5:
        return 1.0 / np.sqrt(a)
    return a ** b
def atan2(a, b): return vt.atan2(a, b)
def hypot(a, b): return np.hypot(a, b)
def ldexp(a, b): return a * np.exp2(b)
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
    return 0.0 if x == 0 else x * vm.log(y)


def xlog1py(x, y):
    if y != y:
        return y
    return 0.0 if x == 0 else x * vm.log1p(y)


def heaviside(x, values): return values if x == 0 else (1 if x > 0 else 0)  # a nan x: 0, as torch
def nextafter(a, b): return np.nextafter(a, b)


@inline
def _gcd(a, b):
    a, b = abs(np.int64(a)), abs(np.int64(b))  # |int8 -128| is 128, as C++'s promotion gives torch
    while a != 0:  # Euclid's algorithm
        a, b = b % a, a
    return b


def gcd(a, b): return _gcd(a, b)


def lcm(a, b):
    g = _gcd(a, b)
    return a * 0 if g == 0 else abs(a // g * b)


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
    one = vm.like(1.0, x)  # an int 1 would widen float32 lanes to float64
    return g * s * (one + x * (one - s))


def gelu_backward(g, x):
    return g * (vm.normal_cdf(x) + x * vm.normal_pdf(x))


def gelu_tanh_backward(g, x):
    k = 0.7978845608028654
    inner = vm.like(k, x) * (x + vm.like(0.044715, x) * x * x * x)
    t = vm.tanh(inner)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))


def softplus_backward(g, x, beta, threshold):
    bx = x * vm.like(beta, x)
    return g if bx > threshold else g * _sigmoid(bx)


def logaddexp_backward(g, a, b): return g / (1 + np.exp(b - a))  # d/da logaddexp(a, b)
def logaddexp2_backward(g, a, b): return g / (1 + np.exp2(b - a))


def logit_backward(g, x, lo, hi):
    # torch's logit_backward (its CUDA kernel and CPU scalar loop): without eps nan outside
    # [0, 1]; with eps zero outside [lo, hi], NaN at a NaN x (torch's vectorised CPU loop gives 0
    # there); at x = -0.0 g / -0.0, as its CUDA kernel and vectorised loop (the scalar loop: g * inf)
    if not lo >= 0:
        return np.nan if x < 0 or x > 1 else g / (x * (1 - x))
    return 0.0 if x < lo or x > hi else g / (x * (1 - x))


def threshold_backward(g, x, threshold): return 0.0 if x <= threshold else g  # NaN x: g, as torch


# ---------------------------------------------------------------- losses of input - target
# torch's kernels (aten/native/cpu/PointwiseOpsKernel.cpp, BinaryOpsKernel.cpp): the pointwise
# loss, and its gradient times ``g`` (the loss's gradient, already divided by n for a mean)
def squared_error(a, b):
    d = a - b
    return d * d


def squared_error_backward(a, b, g): return vm.like(2.0, g) * (a - b) * g


def huber(a, b, delta):
    z = abs(a - b)
    half = vm.like(0.5, z)
    return half * z * z if z < delta else delta * (z - half * delta)


def huber_backward(a, b, g, delta):
    x = a - b
    return -g * delta if x <= -delta else (g * delta if x >= delta else x * g)


def smooth_l1(a, b, beta):
    z = abs(a - b)
    half = vm.like(0.5, z)
    return half * z * z / beta if z < beta else z - half * beta


def smooth_l1_backward(a, b, g, beta):
    x = a - b
    return -g if x < -beta else (g if x > beta else x * g / beta)


def bce_with_logits(x, y, pos_weight):
    # (1 - y) x + (1 + (pw - 1) y) softplus(-x), softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)):
    # torch's log(exp(-m) + exp(-x - m)) + m with m = max(-x, 0), one exp fewer
    one = vm.like(1.0, x)
    softplus_neg = (-x if x < 0 else x * 0) + vm.log(one + vm.exp(-abs(x)))
    return (one - y) * x + ((pos_weight - one) * y + one) * softplus_neg


def bce_with_logits_backward(x, y, pos_weight, g):
    one = vm.like(1.0, x)
    return g * (((pos_weight - one) * y + one) * _sigmoid(x) - pos_weight * y)


# torch.special's incomplete gamma, Bessel, Airy and polynomial functions and frexp, in a module of
# their own (it reads _i0e, _i1e and _chbevl above)
from .special_functions import (  # noqa: E402, F401 (the table: scalar_function reads globals)
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t, chebyshev_polynomial_u,
    chebyshev_polynomial_v, chebyshev_polynomial_w, frexp_exponent, frexp_mantissa, hermite_polynomial_h,
    hermite_polynomial_he, igamma, igammac, laguerre_polynomial_l, legendre_polynomial_p, modified_bessel_k0,
    modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w,
    spherical_bessel_j0)

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
_KERNELS = {}


def _op_kernel(template, name):
    """``template`` with op ``name``'s scalar function as its ``scalar_op``, compiled once."""
    k = _KERNELS.get((template, name))
    if k is None:
        k = _KERNELS[template, name] = specialize(template, name, {"error_model": "numpy"},
                                                  scalar_op=inline(scalar_function(name)))
    return k


def flat_kernel(name, arity):
    """The contiguous-loop kernel of op ``name`` taking ``arity`` operands."""
    return _op_kernel(_FLAT_TEMPLATES[arity], name)


# ---------------------------------------------------------------- row kernels
# A large strided op (a bias broadcast over channels, a transposed operand ...): rows
# ``lo:hi`` of a C-contiguous (rows, cols) ``out``. An operand is a (base, offsets) pair (row
# r is base[offsets[r]:][:cols]), a (base, offsets, 0) triple (row r is the one value
# base[offsets[r]]), a (base, offsets, stride, 0) quadruple (row r every stride-th element
# from base[offsets[r]]), or a scalar, told apart at compile time: inner loops over
# contiguous rows and scalars vectorise, strided ones at least run compiled and threaded.
def _row(x, r, n):
    """Row ``r`` (``n`` long) of a row operand, or its one value, or the scalar itself."""


@overload(_row, inline="always")
def _row_overload(x, r, n):
    if isinstance(x, types.BaseTuple) and len(x) == 2:
        return lambda x, r, n: x[0][x[1][r]:x[1][r] + n]
    if isinstance(x, types.BaseTuple) and len(x) == 3:
        return lambda x, r, n: x[0][x[1][r]]
    if isinstance(x, types.BaseTuple):
        return lambda x, r, n: x[0][x[1][r]:x[1][r] + (n - 1) * x[2] + 1:x[2]]
    return lambda x, r, n: x


def _rows1(out, lo, hi, a):
    n = out.shape[1]
    for r in range(lo, hi):
        o, av = out[r], _row(a, r, n)
        for i in range(n):
            o[i] = scalar_op(_at(av, i))


def _rows2(out, lo, hi, a, b):
    n = out.shape[1]
    for r in range(lo, hi):
        o, av, bv = out[r], _row(a, r, n), _row(b, r, n)
        for i in range(n):
            o[i] = scalar_op(_at(av, i), _at(bv, i))


def _rows3(out, lo, hi, a, b, c):
    n = out.shape[1]
    for r in range(lo, hi):
        o, av, bv, cv = out[r], _row(a, r, n), _row(b, r, n), _row(c, r, n)
        for i in range(n):
            o[i] = scalar_op(_at(av, i), _at(bv, i), _at(cv, i))


_ROWS_TEMPLATES = {1: _rows1, 2: _rows2, 3: _rows3}


def rows_kernel(name, arity):
    """The row kernel of op ``name`` taking ``arity`` (1-3) operands."""
    return _op_kernel(_ROWS_TEMPLATES[arity], name)


# ---------------------------------------------------------------- tiled kernels
# A broadcast over leading dims (``x + bias``, ``x * scale`` with the operand's shape the
# output's trailing dims), every array C-contiguous: rows ``lo:hi`` of ``out`` viewed as
# (rows, cols); an operand is a (rows, cols) array, a (cols,) row repeated for every row, or a
# scalar, told apart at compile time. No offsets to build, so small ops take it too.
def _tile(x, r):
    """Row ``r`` of a (rows, cols) operand, the one row of a (cols,) operand, or the scalar."""


@overload(_tile, inline="always")
def _tile_overload(x, r):
    if isinstance(x, types.Array) and x.ndim == 2:
        return lambda x, r: x[r]
    return lambda x, r: x


def _tiled2(out, lo, hi, a, b):
    for r in range(lo, hi):
        o, av, bv = out[r], _tile(a, r), _tile(b, r)
        for i in range(o.shape[0]):
            o[i] = scalar_op(_at(av, i), _at(bv, i))


def _tiled3(out, lo, hi, a, b, c):
    for r in range(lo, hi):
        o, av, bv, cv = out[r], _tile(a, r), _tile(b, r), _tile(c, r)
        for i in range(o.shape[0]):
            o[i] = scalar_op(_at(av, i), _at(bv, i), _at(cv, i))


_TILED_TEMPLATES = {2: _tiled2, 3: _tiled3}


def tiled_kernel(name, arity):
    """The tiled kernel of op ``name`` taking ``arity`` (2 or 3) operands."""
    return _op_kernel(_TILED_TEMPLATES[arity], name)


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

