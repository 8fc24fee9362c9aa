"""Special functions (gamma family, error functions, Bessel I0/I1, sinc ...) and the integer and
bit-level binary ops that came with them: declarations of the elementwise family, one scalar
function per op in each backend's elementwise kernels (``kernels/numba/elementwise.py``,
``kernels/triton/elementwise.py``), with torch's dtype rules, grad_fn names and derivatives.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_info import finfo
from ._common import broadcast_shapes, float_result
from ._registry import export, method
from .creation import arange, resize_out, with_out, write_out, zeros_like
from .elementwise import (Rule, _binary, _floating, _kernel_for, _not_implemented, _renamed, _unary, _variant,
                          compute, declare, not_implemented_for, where)


def _integral(dtype):
    """Integer dtypes, bool excluded (elementwise's ``_integral`` admits bool for the bitwise ops)."""
    return not dtype.is_floating_point and dtype is not dt.bool


# ------------------------------------------------------------------ unary
def _sinc_derivative(grad, self):
    """torch's sinc_backward: (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 where pi x^2 is 0."""
    px = self * math.pi
    px2 = self * self * math.pi
    return where(px2 == 0, 0.0, grad * (px * px.cos() - px.sin()) / px2)


def _i1_derivative(grad, self, result):
    """torch's i1_backward: i0(x) - i1(x) / x, 0.5 where |x| <= eps (the formula's 0 / 0)."""
    safe, not_tiny = _safe_nonzero("i1_backward", self)
    return grad * where(not_tiny, safe.i0() - result / safe, 0.5)


def _i1e_derivative(grad, self, result):
    """torch's i1e_backward: i0e(x) - i1e(x) (sgn(x) + 1 / x), 0.5 where |x| <= eps."""
    safe, not_tiny = _safe_nonzero("i1e_backward", self)
    return grad * where(not_tiny, special_i0e(safe) - result * (safe.sgn() + safe.reciprocal()), 0.5)


def _safe_nonzero(kernel, x):
    """x with eps where |x| <= eps, and where it is not; float32/64 only, as torch's kernels."""
    if x.dtype in dt.NARROW_FLOATS:
        raise not_implemented_for(kernel, x.dtype)
    eps = finfo(x.dtype).eps
    not_tiny = x.abs() > eps
    return where(not_tiny, x, eps), not_tiny


lgamma = _unary("lgamma", lambda grad, self: grad * self.digamma(), rule=Rule.FLOAT, inplace="method")
digamma = _unary("digamma", lambda grad, self: grad * polygamma(1, self), rule=Rule.FLOAT, inplace="method")
erfc = _unary("erfc", lambda grad, self: grad * (-2 / math.sqrt(math.pi)) * (-(self * self)).exp(),
              rule=Rule.FLOAT)
erfinv = _unary("erfinv", lambda grad, result: grad * (math.sqrt(math.pi) / 2) * (result * result).exp(),
                rule=Rule.FLOAT, inplace="method")
i0 = _unary("i0", lambda grad, self: grad * special_i1(self), rule=Rule.FLOAT)
sinc = _unary("sinc", _sinc_derivative, rule=Rule.FLOAT)
_I1 = declare("i1", rule=Rule.FLOAT, derivatives=(_i1_derivative,), node="SpecialI1Backward0")
_I0e = declare("i0e", rule=Rule.FLOAT, node="SpecialI0EBackward0",
               derivatives=(lambda grad, self, result: grad * (special_i1e(self) - self.sgn() * result),))
_I1e = declare("i1e", rule=Rule.FLOAT, derivatives=(_i1e_derivative,), node="SpecialI1EBackward0")
_Erfcx = declare("erfcx", rule=Rule.FLOAT, node="SpecialErfcxBackward0", derivatives=(
    lambda grad, self, result: (2.0 * self * result - 2.0 / math.sqrt(math.pi)) * grad,))
_LogNdtr = declare("log_ndtr", rule=Rule.FLOAT, node="SpecialLogNdtrBackward0", derivatives=(
    lambda grad, self, result: grad / math.sqrt(2 * math.pi) * (result + self * self / 2).neg().exp(),))
_Ndtri = declare("ndtri", rule=Rule.FLOAT, node="SpecialNdtriBackward0", derivatives=(
    lambda grad, result: grad * math.sqrt(2 * math.pi) * (result * result / 2).exp(),))
_Entr = declare("entr", rule=Rule.FLOAT, derivatives=(lambda grad, self: grad * -(1 + self.log()),),
                node="SpecialEntrBackward0")
_Signbit = declare("signbit", rule=Rule.BOOL)


def special_i1(input, *, out=None):
    """The modified Bessel function of the first kind of order 1 (torch.special.i1)."""
    return _I1.apply(input, out=out)


def special_i0e(input, *, out=None):
    """exp(-|x|) i0(x), finite where i0 overflows (torch.special.i0e)."""
    return _I0e.apply(input, out=out)


def special_i1e(input, *, out=None):
    """exp(-|x|) i1(x) (torch.special.i1e)."""
    return _I1e.apply(input, out=out)


def _no_16_bit(kernel):
    return _kernel_for(kernel, lambda d: d not in dt.NARROW_FLOATS)


_check_erfcx, _check_log_ndtr, _check_ndtri = (_no_16_bit("erfcx_cpu"), _no_16_bit("log_ndtr_cpu"),
                                               _no_16_bit("ndtri_cpu"))


def special_ndtri(input, *, out=None):
    """The standard normal quantile, the inverse of ndtr (torch.special.ndtri)."""
    _check_ndtri(input.dtype)
    return _Ndtri.apply(input, out=out)


def special_erfcx(input, *, out=None):
    """The scaled complementary error function exp(x^2) erfc(x) (torch.special.erfcx)."""
    _check_erfcx(input.dtype)
    return _Erfcx.apply(input, out=out)


def special_log_ndtr(input, *, out=None):
    """log of the standard normal distribution function, accurate far into its left tail."""
    _check_log_ndtr(input.dtype)
    return _LogNdtr.apply(input, out=out)


def special_entr(input, *, out=None):
    """-x log(x): 0 at 0, -inf below it (torch.special.entr)."""
    return _Entr.apply(input, out=out)


@export
def signbit(input, *, out=None):
    """Whether the sign bit is set: True for -0.0 and negative NaNs too (no gradient)."""
    if input.dtype is dt.bool:  # never negative; the kernels read it as a small integer
        input = input.to(dt.uint8)
    return _Signbit.apply(input, out=out)


# ------------------------------------------------------------------ polygamma
_Polygamma = declare("polygamma", rule=Rule.FLOAT, params=("n",),
                     derivatives=(lambda grad, self, n: grad * polygamma(n + 1, self),))


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")


@export(method=False)
def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma; n = 0 is digamma itself, 1 trigamma."""
    _check_n(n)
    return _Polygamma.apply(input, out=out, n=n)


@method(name="polygamma")
def _polygamma_method(self, n):
    return polygamma(n, self)


@method
def polygamma_(self, n):
    _check_n(n)
    return _Polygamma.apply(self, inplace=True, n=n)


# ------------------------------------------------------------------ binary
def _xlog1py_self_grad(grad, self, other):
    """torch's ``xlog1py(grad, other)``, zero where self == 0 and other <= -1."""
    g = special_xlog1py(grad, other)
    if isinstance(other, Tensor):
        return g.masked_fill((self == 0) & (other <= -1), 0.0)
    return g if other > -1 else g.masked_fill(self == 0, 0.0)


# torch's three overloads: Tensor (SpecialXlog1PyBackward0), Scalar self (1), Scalar other (2)
_Xlog1py = _binary("xlog1py", (_xlog1py_self_grad, lambda grad, self, other: grad * self / (other + 1)),
                   rule=Rule.FLOAT, node="SpecialXlog1PyBackward0", scalar_node="SpecialXlog1PyBackward2")
_Xlog1pyScalarSelf = _renamed(_Xlog1py, "SpecialXlog1PyBackward1")


def _three_overloads(name, tensor_op, scalar_self_op, doc):
    """torch's (Tensor, Tensor | Scalar) and (Scalar, Tensor) overloads of a binary special op,
    each recorded under its own grad_fn name."""
    def op(input, other, *, out=None):
        if isinstance(input, Tensor):
            return _variant(tensor_op, other).apply(input, other, out=out)
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}), but expected a Tensor for "
                            f"input or other")
        return scalar_self_op.apply(input, other, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


special_xlog1py = _three_overloads("special_xlog1py", _Xlog1py, _Xlog1pyScalarSelf,
                                   "input * log1p(other), 0 where input is 0 (unless other is nan).")


def _zeta_not_differentiable(grad):
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


# d/dq zeta(x, q) = -x zeta(x + 1, q); torch's three overloads as xlogy's
_Zeta = _binary("zeta", (_zeta_not_differentiable,
                        lambda grad, self, other: grad * -self * special_zeta(self + 1, other)),
                rule=Rule.FLOAT, node="SpecialZetaBackward0", scalar_node="SpecialZetaBackward2")
_ZetaScalarSelf = _renamed(_Zeta, "SpecialZetaBackward1")


special_zeta = _three_overloads("special_zeta", _Zeta, _ZetaScalarSelf,
                                "The Hurwitz zeta function sum_k (k + other)^-input (torch.special.zeta).")


_Heaviside = _binary("heaviside", (_not_implemented("heaviside"), _not_implemented("heaviside")),
                     node="NotImplemented")


def _nextafter_self_grad(grad, self, other):
    """torch's: grad, but 0 where self == other (the result is other there)."""
    return where(self == other, 0.0, grad)


_Nextafter = _binary("nextafter", (_nextafter_self_grad, lambda grad, other: zeros_like(other)))
_Gcd = _binary("gcd", (None, None))
_Lcm = _binary("lcm", (None, None))


def _check_heaviside(input, values):
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")


def _check_nextafter(input, other):
    _kernel_for("nextafter_cpu", _floating)(dt.result_type(input, other))


class _NextafterNarrow(Function):
    """nextafter of float16/bfloat16, whose kernels would step in float32: one step of the 16-bit
    pattern (up in magnitude away from zero; from +-0 the smallest subnormal of other's sign),
    composed of integer ops on the bits."""

    node_name = "NextafterBackward0"

    @staticmethod
    def forward(ctx, input, other, dtype):
        shape = broadcast_shapes(input._shape, other._shape)
        a = input.to(dtype).expand(shape).contiguous()
        b = other.to(dtype).expand(shape)
        bits = a.view(dt.int16)
        step = where((b > a) == (a > 0), bits + 1, bits - 1)
        tiny = where(b.signbit(), -32767, 1).to(dt.int16)  # 0x8001 or 0x0001
        r = where(a == 0, tiny, step)
        r = where(a == b, b.contiguous().view(dt.int16), r)  # picked as bits: no float conversion
        ctx.save_for_backward(input, other)
        return where(a.isnan() | b.isnan(), (a + b).view(dt.int16), r).view(dtype)

    @staticmethod
    def backward(ctx, grad):
        input, other = ctx.saved_tensors
        return _nextafter_self_grad(grad, input, other), zeros_like(other), None


def _nextafter_narrow(input, other, out=None, inplace=False):
    dtype = dt.result_type(input, other)
    result = _NextafterNarrow.apply(input, other, dtype)
    if inplace:
        if result.requires_grad:
            return input.copy_(result)
        input.view(dt.int16).copy_(result.view(dt.int16))  # as bits: a copy may flush subnormals
        return input
    return result if out is None else write_out(out, result, "nextafter", "castable")


def _checked_binary(name, cls, check, *, inplace_function=False, narrow=None):
    """A binary op of two tensors (torch has no Scalar overloads) and its in-place method (and
    ``torch.name_`` where torch has one); ``check(input, other)`` refuses dtypes like torch;
    ``narrow(input, other, out, inplace)`` replaces the kernel for a float16/bfloat16 result."""
    def op(input, other, *, out=None):
        _check_tensors(name, input, other)
        check(input, other)
        if narrow is not None and dt.result_type(input, other) in dt.NARROW_FLOATS:
            return narrow(input, other, out)
        return cls.apply(input, other, out=out)

    def op_(self, other):
        _check_tensors(name + "_", self, other)
        check(self, other)
        if narrow is not None and dt.result_type(self, other) in dt.NARROW_FLOATS:
            return narrow(self, other, inplace=True)
        return cls.apply(self, other, inplace=True)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of two tensors (torch.{name})."
    op_.__name__ = op_.__qualname__ = name + "_"
    export(op_, function=inplace_function)
    return export(op)


def _check_tensors(name, input, other):
    for position, (arg, x) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                            f"{type(x).__name__}")


def _integer_kernel(kernel):
    check = _kernel_for(kernel, _integral)
    return lambda input, other: check(dt.result_type(input, other))


heaviside = _checked_binary("heaviside", _Heaviside, _check_heaviside)
nextafter = _checked_binary("nextafter", _Nextafter, _check_nextafter, narrow=_nextafter_narrow)
gcd = _checked_binary("gcd", _Gcd, _integer_kernel("gcd_cpu"), inplace_function=True)
lcm = _checked_binary("lcm", _Lcm, _integer_kernel("lcm_cpu"), inplace_function=True)


# ------------------------------------------------------------------ mvlgamma
def _mvlgamma_args(x, p):
    """x - j / 2 for j = p - 1 ... 0, along a new last dim (torch's arange(-p/2 + 1/2, 1/2, 1/2) + x)."""
    return x.unsqueeze(-1) + arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=x.dtype, device=x.device)


class _Mvlgamma(Function):
    """The multivariate log-gamma, torch's composite sum_j lgamma(x - j / 2) + p (p - 1) / 4 log(pi),
    recorded as one node (MvlgammaBackward0) whose gradient is sum_j digamma(x - j / 2)."""

    node_name = "MvlgammaBackward0"

    @staticmethod
    def forward(ctx, input, p):
        ctx.save_for_backward(input)
        ctx.p = p
        return _mvlgamma_args(input, p).lgamma().sum(-1) + p * (p - 1) * 0.25 * math.log(math.pi)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        return grad * _mvlgamma_args(input, ctx.p).digamma().sum(-1), None


def _check_mvlgamma(input, p):
    if isinstance(p, bool) or not isinstance(p, int):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if input.dtype is dt.bool:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")


@export
@with_out(castable=True)
def mvlgamma(input, p):
    """log of the multivariate gamma function of dimension p (torch.special.multigammaln)."""
    _check_mvlgamma(input, p)
    if not input.dtype.is_floating_point:  # integers give the default float
        input = input.to(float_result(input.dtype))
    return _Mvlgamma.apply(input, p)


@method
def mvlgamma_(self, p):
    _check_mvlgamma(self, p)
    return self.copy_(mvlgamma(self, p))


# ------------------------------------------------------------------ incomplete gamma
def _not_differentiable_in(name, argument):
    """torch's error for a derivative it does not define (raised by backward)."""
    def derivative(grad):
        raise NotImplementedError(f"the derivative for '{name}: {argument}' is not implemented.")
    return derivative


def _igamma_density(grad, self, other):
    """d/dx P(a, x): the Gamma(a) density x^(a - 1) e^-x / Gamma(a) (Q's is its negative)."""
    return grad * ((self - 1) * other.log() - other - self.lgamma()).exp()


_Igamma = declare("igamma", rule=Rule.FLOAT, derivatives=(_not_differentiable_in("igamma", "input"),
                                                           _igamma_density))
_Igammac = declare("igammac", rule=Rule.FLOAT, derivatives=(
    _not_differentiable_in("igammac", "input"),
    lambda grad, self, other: -_igamma_density(grad, self, other)))


def _floating_kernel(kernel):
    """torch's check of a binary op with floating kernels only (igamma's: no integer promotion)."""
    check = _kernel_for(kernel, _floating)
    return lambda input, other: check(dt.result_type(input, other))


igamma = _checked_binary("igamma", _Igamma, _floating_kernel("igamma_cpu"))
igammac = _checked_binary("igammac", _Igammac, _floating_kernel("igammac_cpu"))


# ------------------------------------------------------------------ Bessel functions, polynomials
# torch computes these without autograd (their results never require grad) and has no float16 or
# bfloat16 CPU kernels; integers and bools give the default float
def _without_autograd(name, kernel, arity):
    """torch.special.``name`` of ``arity`` (1: x, 2: x and a degree n, either a number) operands,
    computed by ``kernel`` outside autograd."""
    check = _no_16_bit(name + "_cpu")

    def op(*operands, out=None):
        if len(operands) != arity or not any(isinstance(x, Tensor) for x in operands):
            raise TypeError(f"special_{name}() expected {arity} argument(s), one of them a Tensor, got "
                            f"({', '.join(type(x).__name__ for x in operands)})")
        check(float_result(dt.result_type(*operands)))
        return compute(kernel, operands, Rule.FLOAT, out=out, resize=True)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.special.{name} (no autograd, as torch)."
    return op


BESSEL = ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
          "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
          "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai")
POLYNOMIALS = tuple(f"{s}chebyshev_polynomial_{kind}" for s in ("", "shifted_") for kind in "tuvw") + (
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")
_KERNELS = {"modified_bessel_i0": "i0", "modified_bessel_i1": "i1"}  # torch.i0's and special.i1's values
SPECIAL_WITHOUT_AUTOGRAD = {name: _without_autograd(name, _KERNELS.get(name, name), 1) for name in BESSEL}
SPECIAL_WITHOUT_AUTOGRAD.update({name: _without_autograd(name, name, 2) for name in POLYNOMIALS})


# ------------------------------------------------------------------ frexp
_FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


class _Frexp(Function):
    """x = mantissa 2^exponent, |mantissa| in [0.5, 1) (x itself, exponent 0, at 0, inf and nan);
    two kernels over x, the exponent an int32 (no gradient), the mantissa's gradient
    grad / 2^exponent."""

    node_name = "FrexpBackward0"

    @staticmethod
    def forward(ctx, input):
        exponent = compute("frexp_exponent", (input,), Rule.PROMOTE).to(dt.int32)
        ctx.save_for_backward(exponent)
        return compute("frexp_mantissa", (input,), Rule.PROMOTE), exponent

    @staticmethod
    def backward(ctx, grad, _):
        (exponent,) = ctx.saved_tensors
        return grad / exponent.exp2()


def _check_frexp_out(out, input):
    mantissa, exponent = out
    if mantissa.dtype is not input.dtype:
        raise RuntimeError(f"torch.frexp() expects mantissa to have dtype {input.dtype} but got "
                           f"{mantissa.dtype}")
    if exponent.dtype is not dt.int32:
        raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got {exponent.dtype}")


@export
def frexp(input, *, out=None):
    """Decompose into mantissa and exponent (torch.return_types.frexp), floats only."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, not {input.dtype}")
    if out is not None:
        _check_frexp_out(out, input)
    result = _Frexp.apply(input)
    if out is None:
        return _FrexpResult(*result)
    for o, r in zip(out, result):
        resize_out(o, r.shape)
        write_out(o, r, "frexp")
    return _FrexpResult(*out)
