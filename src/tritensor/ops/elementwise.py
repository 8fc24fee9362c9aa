"""Elementwise ops: dtype rules, broadcasting, in-place variants and derivatives.

Each op is declared once, like a line of PyTorch's derivatives.yaml: its kernel name,
its dtype rule and its derivative written in differentiable tensor ops (so double
backward works). The derivative's parameter names say what backward needs, so only
those tensors are saved: ``grad`` (incoming gradient), ``self``/``other``/``third``
(inputs) and ``result`` (output).
"""
from __future__ import annotations

import inspect
import math

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import backend, broadcast_shapes, common_device, float_result
from ._registry import export, method
from .creation import new_empty


# ------------------------------------------------------------------ dtype rules
def same(*dtypes):
    return dtypes[0]


def promote(*operands):
    return dt.result_type(*operands)


class Rule:
    """How an op picks its compute dtype and result dtype from its operands."""

    #: promote all operands (torch.result_type), compute and return that dtype
    PROMOTE = "promote"
    #: like PROMOTE but integers become the default float dtype (div, exp, sin ...)
    FLOAT = "float"
    #: compute in the promoted dtype, return bool (comparisons, isnan ...)
    BOOL = "bool"
    #: compute in the promoted dtype, return bool, inputs read as truth values
    LOGICAL = "logical"


def _dtypes_for(rule, operands):
    common = dt.result_type(*operands)
    if rule == Rule.FLOAT:
        common = float_result(common)
        return common, common
    if rule in (Rule.BOOL, Rule.LOGICAL):
        return common, dt.bool
    return common, common


def _check_inplace_cast(result_dtype, self):
    if not dt.can_cast(result_dtype, self.dtype):
        raise RuntimeError(f"result type {_torch_name(result_dtype)} can't be cast to the desired output "
                           f"type {_torch_name(self.dtype)}")


_TORCH_NAMES = {dt.float32: "Float", dt.float64: "Double", dt.float16: "Half", dt.bfloat16: "BFloat16",
                dt.int64: "Long", dt.int32: "Int", dt.int16: "Short", dt.int8: "Char", dt.uint8: "Byte",
                dt.bool: "Bool"}


def _torch_name(d):
    return _TORCH_NAMES[d]


def check_inplace(self: Tensor):
    """Refuse an in-place write that autograd could not record (a leaf that requires grad)."""
    if not grad_mode.enabled:
        return
    if self._requires_grad and self.grad_fn is None:
        if self._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = self._base
    if base is not None and base._requires_grad:
        if base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise NotImplementedError(
            "tritensor does not yet record in-place operations on views of tensors that require "
            "grad; apply the operation out of place (e.g. torch.where or clone() first)")


def compute(kernel, operands, rule, out=None):
    """Run ``kernel`` over broadcast operands into a new tensor (or ``out``)."""
    compute_dtype, result_dtype = _dtypes_for(rule, operands)
    tensors = [x for x in operands if isinstance(x, Tensor)]
    device = common_device(*tensors)
    shape = tensors[0]._shape if len(tensors) == 1 else broadcast_shapes(*(t._shape for t in tensors))
    if out is None:
        out = new_empty(shape, result_dtype, device)
    else:
        if out._shape != shape:
            raise RuntimeError(f"output with shape {list(out._shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
        if out is not operands[0] or not isinstance(operands[0], Tensor):
            pass
        _check_inplace_cast(result_dtype, out)
    backend(out).elementwise(kernel, out, operands, compute_dtype.compute_np)
    return out


def compute_inplace(kernel, self, operands, rule):
    """In-place variant: the result (of ``operands``, the first being ``self``) lands in self."""
    check_inplace(self)
    compute(kernel, operands, rule, out=self)
    self._bump_version()
    return self


# ------------------------------------------------------------------ op declaration
_ARG_NAMES = ("self", "other", "third", "fourth")


class _ElementwiseFunction(Function):
    """Forward runs the kernel; backward applies the declared derivative per input."""

    kernel = None
    rule = Rule.PROMOTE
    derivatives = ()  # one callable (or None) per tensor input position
    saves = ()        # names of what the derivatives read: self/other/third/result
    params = ()       # names of extra scalar keyword parameters, passed to the kernel

    @classmethod
    def apply(cls, *operands, out=None, inplace=False, **params):
        if inplace:
            check_inplace(operands[0])
        return super().apply(*operands, out=out, inplace=inplace, **params)

    @classmethod
    def forward(cls, ctx, *operands, out=None, inplace=False, **params):
        kernel_operands = operands + tuple(params[p] for p in cls.params)
        if inplace:
            result = compute_inplace(cls.kernel, operands[0], kernel_operands, cls.rule)
            ctx.mark_dirty(result)
        else:
            result = compute(cls.kernel, kernel_operands, cls.rule, out=out)
        if cls.saves:
            ctx.params = params
            saved = [result if s == "result" else operands[_ARG_NAMES.index(s)] for s in cls.saves]
            ctx.save_for_backward(*[s if isinstance(s, Tensor) else None for s in saved])
            ctx.scalars = [s if not isinstance(s, Tensor) else None for s in saved]
        return result

    @classmethod
    def backward(cls, ctx, grad):
        env = {"grad": grad}
        if cls.saves:
            env.update(ctx.params)
            for name, tensor_value, scalar_value in zip(cls.saves, ctx.saved_tensors, ctx.scalars):
                env[name] = tensor_value if tensor_value is not None else scalar_value
        grads = []
        for i, derivative in enumerate(cls.derivatives):
            if derivative is None or not ctx.needs_input_grad[i]:
                grads.append(None)
            else:
                grads.append(derivative(**{k: env[k] for k in derivative._params}))
        return tuple(grads)


def _derivative(fn):
    if fn is None:
        return None
    fn._params = tuple(inspect.signature(fn).parameters)
    return fn


def declare(name, kernel=None, *, rule=Rule.PROMOTE, derivatives=(), node=None, params=()):
    """Create the Function class of an elementwise op from its declaration."""
    derivatives = tuple(_derivative(d) for d in derivatives)
    used = []
    for d in derivatives:
        for p in (d._params if d else ()):
            if p not in ("grad",) and p not in params and p not in used:
                used.append(p)
    cls = type(name.title().replace("_", "") + "Op", (_ElementwiseFunction,), {
        "kernel": kernel or name, "rule": rule, "derivatives": derivatives, "saves": tuple(used),
        "params": tuple(params), "node_name": node or f"{name.title().replace('_', '')}Backward0",
    })
    return cls


# ------------------------------------------------------------------ unary ops
def _unary(name, derivative=None, *, rule=Rule.PROMOTE, kernel=None, node=None, bool_error=None,
           inplace=True, int_identity=False):
    cls = declare(name, kernel, rule=rule, derivatives=(derivative,), node=node)

    def op(input, *, out=None):
        if bool_error and input.dtype is dt.bool:
            raise RuntimeError(bool_error)
        if int_identity and not input.dtype.is_floating_point:
            return input.clone() if out is None else out.copy_(input)
        return cls.apply(input, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (torch.{name})."
    export(op)

    if inplace:
        def op_(self):
            if bool_error and self.dtype is dt.bool:
                raise RuntimeError(bool_error)
            if int_identity and not self.dtype.is_floating_point:
                return self
            return cls.apply(self, inplace=True)
        op_.__name__ = op_.__qualname__ = name + "_"
        method(op_)
        export(op_, method=False)
    return op


def _const(x):
    return x


neg = _unary("neg", lambda grad: -grad, bool_error=(
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
    "mask, use the `~` or `logical_not()` operator instead."))
export(neg, name="negative")
abs = _unary("abs", lambda grad, self: grad * self.sgn(), bool_error="abs is not supported for bool")
export(abs, name="absolute")
sign = _unary("sign", lambda grad: grad * 0)
export(sign, name="sgn")
exp = _unary("exp", lambda grad, result: grad * result, rule=Rule.FLOAT)
exp2 = _unary("exp2", lambda grad, result: grad * result * math.log(2.0), rule=Rule.FLOAT)
log = _unary("log", lambda grad, self: grad / self, rule=Rule.FLOAT)
log2 = _unary("log2", lambda grad, self: grad / (self * math.log(2.0)), rule=Rule.FLOAT)
log10 = _unary("log10", lambda grad, self: grad / (self * math.log(10.0)), rule=Rule.FLOAT)
log1p = _unary("log1p", lambda grad, self: grad / (self + 1), rule=Rule.FLOAT)
expm1 = _unary("expm1", lambda grad, result: grad * (result + 1), rule=Rule.FLOAT)
sqrt = _unary("sqrt", lambda grad, result: grad / (2 * result), rule=Rule.FLOAT)
rsqrt = _unary("rsqrt", lambda grad, result: -0.5 * grad * result * result * result, rule=Rule.FLOAT)
reciprocal = _unary("reciprocal", lambda grad, result: -grad * result * result, rule=Rule.FLOAT)
square = _unary("square", lambda grad, self: 2 * grad * self, node="PowBackward0")
sin = _unary("sin", lambda grad, self: grad * self.cos(), rule=Rule.FLOAT)
cos = _unary("cos", lambda grad, self: -grad * self.sin(), rule=Rule.FLOAT)
tan = _unary("tan", lambda grad, result: grad * (1 + result * result), rule=Rule.FLOAT)
asin = _unary("asin", lambda grad, self: grad * (1 - self * self).rsqrt(), rule=Rule.FLOAT)
acos = _unary("acos", lambda grad, self: -grad * (1 - self * self).rsqrt(), rule=Rule.FLOAT)
atan = _unary("atan", lambda grad, self: grad / (1 + self * self), rule=Rule.FLOAT)
sinh = _unary("sinh", lambda grad, self: grad * self.cosh(), rule=Rule.FLOAT)
cosh = _unary("cosh", lambda grad, self: grad * self.sinh(), rule=Rule.FLOAT)
tanh = _unary("tanh", lambda grad, result: grad * (1 - result * result), rule=Rule.FLOAT)
sigmoid = _unary("sigmoid", lambda grad, result: grad * result * (1 - result), rule=Rule.FLOAT)
relu = _unary("relu", lambda grad, result: grad * (result > 0), bool_error=None)
silu = _unary("silu", lambda grad, self: grad * _silu_derivative(self), rule=Rule.FLOAT)
erf = _unary("erf", lambda grad, self: grad * (2 / math.sqrt(math.pi)) * (-(self * self)).exp(),
             rule=Rule.FLOAT)
floor = _unary("floor", lambda grad: grad * 0, int_identity=True)
ceil = _unary("ceil", lambda grad: grad * 0, int_identity=True)
trunc = _unary("trunc", lambda grad: grad * 0, int_identity=True)
export(trunc, name="fix")
frac = _unary("frac", lambda grad: grad)
logical_not = _unary("logical_not", rule=Rule.LOGICAL)
bitwise_not = _unary("bitwise_not", kernel="bitwise_not")
isnan = _unary("isnan", rule=Rule.BOOL, inplace=False)
isinf = _unary("isinf", rule=Rule.BOOL, inplace=False)
isfinite = _unary("isfinite", rule=Rule.BOOL, inplace=False)


def _silu_derivative(x):
    s = x.sigmoid()
    return s * (1 + x * (1 - s))


_round = declare("round", "round", derivatives=(lambda grad: grad * 0,))
_round_decimals = declare("round", "round_decimals", derivatives=(lambda grad: grad * 0,),
                          params=("scale",), node="RoundBackward1")


@export
def round(input, *, decimals=0, out=None):
    if not input.dtype.is_floating_point:
        return input.clone()
    if decimals:
        return _round_decimals.apply(input, out=out, scale=10.0 ** decimals)
    return _round.apply(input, out=out)


@method
def round_(self, *, decimals=0):
    if not self.dtype.is_floating_point:
        return self
    if decimals:
        return _round_decimals.apply(self, inplace=True, scale=10.0 ** decimals)
    return _round.apply(self, inplace=True)


@method
def bitwise_not_(self):
    return bitwise_not(self, out=self)


# ------------------------------------------------------------------ unary with parameters
_gelu = declare("gelu", rule=Rule.FLOAT, derivatives=(
    lambda grad, self: grad * _gelu_derivative(self),))
_gelu_tanh = declare("gelu", "gelu_tanh", rule=Rule.FLOAT, derivatives=(
    lambda grad, self: grad * _gelu_tanh_derivative(self),))


def _gelu_derivative(x):
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf())
    pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf


def _gelu_tanh_derivative(x):
    k = math.sqrt(2 / math.pi)
    t = (k * (x + 0.044715 * x * x * x)).tanh()
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


@export
def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate}")
    return (_gelu_tanh if approximate == "tanh" else _gelu).apply(input)


_softplus = declare("softplus", rule=Rule.FLOAT, params=("beta", "threshold"), derivatives=(
    lambda grad, self, beta, threshold: grad * ((self * beta).sigmoid() * ((self * beta) <= threshold)
                                                 + ((self * beta) > threshold)),))


@export(method=False)
def softplus(input, beta=1.0, threshold=20.0):
    return _softplus.apply(input, beta=beta, threshold=threshold)


_leaky_relu = declare("leaky_relu", params=("slope",), derivatives=(
    lambda grad, self, slope: grad * ((self > 0) + (self <= 0) * slope),))


@export(method=False)
def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _leaky_relu.apply(input, inplace=inplace, slope=negative_slope)


_elu = declare("elu", params=("alpha",), derivatives=(
    lambda grad, self, alpha: grad * ((self > 0) + (self <= 0) * alpha * self.exp()),))


@export(method=False)
def elu(input, alpha=1.0, inplace=False):
    return _elu.apply(input, inplace=inplace, alpha=alpha)


_nan_to_num = declare("nan_to_num", params=("nan", "posinf", "neginf"), derivatives=(
    lambda grad, self: grad * self.isfinite(),))


def _nan_to_num_params(dtype, nan, posinf, neginf):
    if dtype.is_floating_point:
        info = {dt.float16: 65504.0, dt.bfloat16: 3.3895313892515355e38,
                dt.float32: 3.4028234663852886e38, dt.float64: 1.7976931348623157e308}[dtype]
    else:
        info = 0
    return dict(nan=0.0 if nan is None else nan, posinf=info if posinf is None else posinf,
                neginf=-info if neginf is None else neginf)


@export
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input.dtype.is_floating_point:
        return input.clone()
    return _nan_to_num.apply(input, out=out, **_nan_to_num_params(input.dtype, nan, posinf, neginf))


@method
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    if not self.dtype.is_floating_point:
        return self
    return _nan_to_num.apply(self, inplace=True, **_nan_to_num_params(self.dtype, nan, posinf, neginf))


# ------------------------------------------------------------------ binary ops
def _binary(name, derivatives, *, rule=Rule.PROMOTE, kernel=None, node=None, params=()):
    return declare(name, kernel, rule=rule, derivatives=derivatives, node=node, params=params)


_Add = _binary("add", (lambda grad: grad, lambda grad: grad))
_AddScalar = _binary("add", (lambda grad: grad, None), node="AddBackward1")
_AddAlpha = _binary("add", (lambda grad: grad, lambda grad, alpha: grad * alpha), kernel="add_alpha",
                    params=("alpha",))
_Sub = _binary("sub", (lambda grad: grad, lambda grad: -grad))
_SubScalar = _binary("sub", (lambda grad: grad, None), node="SubBackward1")
_Mul = _binary("mul", (lambda grad, other: grad * other, lambda grad, self: grad * self))
_MulScalar = _binary("mul", (lambda grad, other: grad * other, None), node="MulBackward1")
_Div = _binary("div", (lambda grad, other: grad / other,
                       lambda grad, self, other: -grad * self / (other * other)), rule=Rule.FLOAT)
_DivScalar = _binary("div", (lambda grad, other: grad / other, None), rule=Rule.FLOAT,
                     node="DivBackward1")


def _pick(tensor_cls, scalar_cls, other):
    return tensor_cls if isinstance(other, Tensor) else scalar_cls


def _check_alpha(input, other, alpha):
    if isinstance(alpha, float) and not dt.result_type(input, other).is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) is False and dt.result_type(input, other) is dt.bool and alpha != 1:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _binary_entry(input, other, classes, out, inplace, **params):
    """Dispatch a binary op to its tensor-tensor or tensor-scalar Function."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(f"expected a Tensor argument, got {type(input).__name__} and "
                            f"{type(other).__name__}")
        return classes[0].apply(input, other, out=out, **params)
    cls = classes[0] if isinstance(other, Tensor) else classes[1]
    return cls.apply(input, other, out=out, inplace=inplace, **params)


@export
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other."""
    if alpha != 1:
        _check_alpha(input, other, alpha)
        return _AddAlpha.apply(input, other, out=out, alpha=alpha)
    return _binary_entry(input, other, (_Add, _AddScalar), out, False)


@method
def add_(self, other, *, alpha=1):
    if alpha != 1:
        _check_alpha(self, other, alpha)
        return _AddAlpha.apply(self, other, inplace=True, alpha=alpha)
    return _binary_entry(self, other, (_Add, _AddScalar), None, True)


def _check_sub_bool(input, other):
    if (isinstance(input, Tensor) and input.dtype is dt.bool) and \
            (not isinstance(other, Tensor) or other.dtype is dt.bool) or \
            (isinstance(other, Tensor) and other.dtype is dt.bool and isinstance(input, bool)):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")


@export
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _check_sub_bool(input, other)
    if alpha != 1:
        _check_alpha(input, other, alpha)
        return _AddAlpha.apply(input, other, out=out, alpha=-alpha)
    return _binary_entry(input, other, (_Sub, _SubScalar), out, False)


export(sub, name="subtract")


@method
def sub_(self, other, *, alpha=1):
    _check_sub_bool(self, other)
    if alpha != 1:
        _check_alpha(self, other, alpha)
        return _AddAlpha.apply(self, other, inplace=True, alpha=-alpha)
    return _binary_entry(self, other, (_Sub, _SubScalar), None, True)


@export
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    return add(-input if alpha == 1 else input * -alpha, other)


@export
def mul(input, other, *, out=None):
    return _binary_entry(input, other, (_Mul, _MulScalar), out, False)


export(mul, name="multiply")


@method
def mul_(self, other):
    return _binary_entry(self, other, (_Mul, _MulScalar), None, True)


_DIV_MODES = {None: ("div", "div"), "trunc": ("div_trunc", "int_div_trunc"),
              "floor": ("div_floor", "int_div_floor")}
_DivMode = {}


def _check_int_divisor(input, other):
    if isinstance(other, Tensor):
        if not other.dtype.is_floating_point and not dt.result_type(input, other).is_floating_point \
                and bool((other == 0).any()):
            raise RuntimeError("ZeroDivisionError")
    elif other == 0 and not dt.result_type(input, other).is_floating_point:
        raise RuntimeError("ZeroDivisionError")


def _rounding_div_class(mode, integral):
    key = (mode, integral)
    cls = _DivMode.get(key)
    if cls is None:
        kernel = _DIV_MODES[mode][1 if integral else 0]
        cls = _DivMode[key] = _binary("div", (lambda grad: grad * 0, lambda grad: grad * 0),
                                      kernel=kernel, node="DivBackward2" if mode == "floor" else
                                      "DivBackward3")
    return cls


@export
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode not in _DIV_MODES:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{rounding_mode}'")
    if rounding_mode is None:
        if not isinstance(input, Tensor):
            return _Div.apply(input, other, out=out)
        return _binary_entry(input, other, (_Div, _DivScalar), out, False)
    integral = not dt.result_type(input, other).is_floating_point
    if integral:
        _check_int_divisor(input, other)
    return _rounding_div_class(rounding_mode, integral).apply(input, other, out=out)


export(div, name="divide")
export(div, name="true_divide")


@method
def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _binary_entry(self, other, (_Div, _DivScalar), None, True)
    integral = not dt.result_type(self, other).is_floating_point
    if integral:
        _check_int_divisor(self, other)
    return _rounding_div_class(rounding_mode, integral).apply(self, other, inplace=True)


@export
def floor_divide(input, other, *, out=None):
    integral = not dt.result_type(input, other).is_floating_point
    if integral:
        _check_int_divisor(input, other)
        return _rounding_div_class("floor", True).apply(input, other, out=out)
    return _FloatFloorDivide.apply(input, other, out=out)


_FloatFloorDivide = _binary("floor_divide", (lambda grad: grad * 0, lambda grad: grad * 0),
                            kernel="float_floor_divide", node="FloorDivideBackward0")


@method
def floor_divide_(self, other):
    integral = not dt.result_type(self, other).is_floating_point
    if integral:
        _check_int_divisor(self, other)
        return _rounding_div_class("floor", True).apply(self, other, inplace=True)
    return _FloatFloorDivide.apply(self, other, inplace=True)


_Remainder = _binary("remainder", (lambda grad: grad, lambda grad, self, other: -grad * (self / other).floor()))
_IntRemainder = _binary("remainder", (None, None), kernel="int_remainder")
_Fmod = _binary("fmod", (lambda grad: grad, lambda grad, self, other: -grad * (self / other).trunc()))


@export
def remainder(input, other, *, out=None):
    if not dt.result_type(input, other).is_floating_point:
        _check_int_divisor(input, other)
        return _IntRemainder.apply(input, other, out=out)
    return _Remainder.apply(input, other, out=out)


@method
def remainder_(self, other):
    if not dt.result_type(self, other).is_floating_point:
        _check_int_divisor(self, other)
        return _IntRemainder.apply(self, other, inplace=True)
    return _Remainder.apply(self, other, inplace=True)


@export
def fmod(input, other, *, out=None):
    if not dt.result_type(input, other).is_floating_point:
        _check_int_divisor(input, other)
    return _Fmod.apply(input, other, out=out)


_Pow = _binary("pow", (lambda grad, self, other: grad * other * self.pow(other - 1) * ((other != 0) | (self != 0)),
                       lambda grad, self, other, result: grad * result * self.log().masked_fill((self == 0) & (other >= 0), 0)),
               node="PowBackward1")
_PowScalar = _binary("pow", (lambda grad, self, other: grad * other * self.pow(other - 1) if other != 0
                             else grad * 0, None), node="PowBackward0")
_ScalarPow = _binary("pow", (None, lambda grad, self, result: grad * result * math.log(self) if self > 0
                             else grad * result * float("nan") if self < 0 else grad * 0),
                     node="PowBackward2")
_IntPow = _binary("pow", (None, None), kernel="int_pow")


def _pow_class(input, exponent):
    result = dt.result_type(input, exponent)
    if not result.is_floating_point:
        negative = (exponent < 0) if not isinstance(exponent, Tensor) else bool((exponent < 0).any())
        if negative:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return _IntPow
    if not isinstance(input, Tensor):
        return _ScalarPow
    return _Pow if isinstance(exponent, Tensor) else _PowScalar


@export
def pow(input, exponent, *, out=None):
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) and isinstance(input, Tensor):
        if exponent == 2 and input.dtype.is_floating_point:
            return square(input)
    return _pow_class(input, exponent).apply(input, exponent, out=out)


@method
def pow_(self, exponent):
    return _pow_class(self, exponent).apply(self, exponent, inplace=True)


export(pow, name="float_power", method=False)

_Atan2 = _binary("atan2", (lambda grad, self, other: grad * other / (self * self + other * other),
                           lambda grad, self, other: -grad * self / (self * self + other * other)),
                 rule=Rule.FLOAT)
_Maximum = _binary("maximum", (lambda grad, self, other: grad * _select_mask(self, other, True),
                               lambda grad, self, other: grad * _select_mask(other, self, False)))
_Minimum = _binary("minimum", (lambda grad, self, other: grad * _select_mask(other, self, True),
                               lambda grad, self, other: grad * _select_mask(self, other, False)))


def _select_mask(winner, loser, first):
    # ties split the gradient evenly, like torch
    return (winner > loser) + (winner == loser) * 0.5


@export
def atan2(input, other, *, out=None):
    return _Atan2.apply(input, other, out=out)


export(atan2, name="arctan2")


@method
def atan2_(self, other):
    return _Atan2.apply(self, other, inplace=True)


def _require_tensor_other(name, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


@export
def maximum(input, other, *, out=None):
    _require_tensor_other("maximum", other)
    return _Maximum.apply(input, other, out=out)


@export
def minimum(input, other, *, out=None):
    _require_tensor_other("minimum", other)
    return _Minimum.apply(input, other, out=out)


_Fmax = _binary("fmax", (None, None))
_Fmin = _binary("fmin", (None, None))
export(lambda input, other, *, out=None: _Fmax.apply(input, other, out=out), name="fmax")
export(lambda input, other, *, out=None: _Fmin.apply(input, other, out=out), name="fmin")


# comparisons, logical and bitwise ops: no gradient
def _no_grad_binary(name, rule, *, kernel=None, aliases=(), check=None):
    cls = _binary(name, (None, None), rule=rule, kernel=kernel)

    def op(input, other, *, out=None):
        if check:
            check(input, other)
        return cls.apply(input, other, out=out)

    def op_(self, other):
        if check:
            check(self, other)
        return cls.apply(self, other, inplace=True)
    op.__name__ = name
    op_.__name__ = name + "_"
    export(op, aliases=aliases)
    method(op_, name=name + "_")
    return op


eq = _no_grad_binary("eq", Rule.BOOL)
ne = _no_grad_binary("ne", Rule.BOOL, aliases=("not_equal",))
lt = _no_grad_binary("lt", Rule.BOOL, aliases=("less",))
le = _no_grad_binary("le", Rule.BOOL, aliases=("less_equal",))
gt = _no_grad_binary("gt", Rule.BOOL, aliases=("greater",))
ge = _no_grad_binary("ge", Rule.BOOL, aliases=("greater_equal",))
logical_and = _no_grad_binary("logical_and", Rule.LOGICAL)
logical_or = _no_grad_binary("logical_or", Rule.LOGICAL)
logical_xor = _no_grad_binary("logical_xor", Rule.LOGICAL)


def _check_integral(*names):
    def check(input, other):
        for x in (input, other):
            d = x.dtype if isinstance(x, Tensor) else dt.scalar_dtype(x)
            if d.is_floating_point:
                raise RuntimeError(f"\"{names[0]}_cpu\" not implemented for '{_torch_name(d)}'")
    return check


bitwise_and = _no_grad_binary("bitwise_and", Rule.PROMOTE, check=_check_integral("bitwise_and"))
bitwise_or = _no_grad_binary("bitwise_or", Rule.PROMOTE, check=_check_integral("bitwise_or"))
bitwise_xor = _no_grad_binary("bitwise_xor", Rule.PROMOTE, check=_check_integral("bitwise_xor"))
bitwise_left_shift = _no_grad_binary("bitwise_left_shift", Rule.PROMOTE, kernel="left_shift",
                                     check=_check_integral("lshift"))
bitwise_right_shift = _no_grad_binary("bitwise_right_shift", Rule.PROMOTE, kernel="right_shift",
                                      check=_check_integral("rshift"))


@export
def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    if input.shape != other.shape:
        return False
    return bool(eq(input, other).all())


@export
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@export
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    close = (input - other).abs() <= atol + rtol * other.abs() if input.dtype.is_floating_point \
        else input == other
    close = close | (input == other)
    if equal_nan and input.dtype.is_floating_point:
        close = close | (input.isnan() & other.isnan())
    return close


# ------------------------------------------------------------------ ternary ops
_Clamp = declare("clamp", derivatives=(
    lambda grad, self, other, third: grad * ((self >= other) & (self <= third)), None, None))
_ClampScalar = declare("clamp", params=("lo", "hi"), derivatives=(
    lambda grad, self, lo, hi: grad * ((self >= lo) & (self <= hi)),))
_ClampMin = declare("clamp_min", params=("lo",), node="ClampMinBackward0",
                    derivatives=(lambda grad, self, lo: grad * (self >= lo),))
_ClampMax = declare("clamp_max", params=("hi",), node="ClampMaxBackward0",
                    derivatives=(lambda grad, self, hi: grad * (self <= hi),))
_ClampMinT = declare("clamp_min", kernel="clamp_min", node="ClampMinBackward1", derivatives=(
    lambda grad, self, other: grad * (self >= other), lambda grad, self, other: grad * (self < other)))
_ClampMaxT = declare("clamp_max", kernel="clamp_max", node="ClampMaxBackward1", derivatives=(
    lambda grad, self, other: grad * (self <= other), lambda grad, self, other: grad * (self > other)))


def _clamp_dispatch(input, min, max, out, inplace):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
    if not tensors:
        if max is None:
            return _ClampMin.apply(input, out=out, inplace=inplace, lo=min)
        if min is None:
            return _ClampMax.apply(input, out=out, inplace=inplace, hi=max)
        return _ClampScalar.apply(input, out=out, inplace=inplace, lo=min, hi=max)
    if max is None:
        return _ClampMinT.apply(input, min, out=out, inplace=inplace)
    if min is None:
        return _ClampMaxT.apply(input, max, out=out, inplace=inplace)
    return _Clamp.apply(input, min, max, out=out, inplace=inplace)


@export(aliases=("clip",))
def clamp(input, min=None, max=None, *, out=None):
    return _clamp_dispatch(input, min, max, out, False)


@method(aliases=("clip_",))
def clamp_(self, min=None, max=None):
    return _clamp_dispatch(self, min, max, None, True)


@export
def clamp_min(input, min):
    return _clamp_dispatch(input, min, None, None, False)


@export
def clamp_max(input, max):
    return _clamp_dispatch(input, None, max, None, False)


@method
def clamp_min_(self, min):
    return _clamp_dispatch(self, min, None, None, True)


@method
def clamp_max_(self, max):
    return _clamp_dispatch(self, None, max, None, True)


_Lerp = declare("lerp", derivatives=(lambda grad, third: grad * (1 - third),
                                     lambda grad, third: grad * third,
                                     lambda grad, self, other: grad * (other - self)))
_LerpScalar = declare("lerp", derivatives=(lambda grad, third: grad * (1 - third),
                                           lambda grad, third: grad * third, None),
                      node="LerpBackward0")


@export
def lerp(input, end, weight, *, out=None):
    cls = _Lerp if isinstance(weight, Tensor) else _LerpScalar
    return cls.apply(input, end, weight, out=out)


@method
def lerp_(self, end, weight):
    cls = _Lerp if isinstance(weight, Tensor) else _LerpScalar
    return cls.apply(self, end, weight, inplace=True)


_Where = declare("where", derivatives=(None, lambda grad, self: grad * self,
                                       lambda grad, self: grad * self.logical_not()),
                 node="WhereBackward0")


@export
def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` else ``other``; with one argument, ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if condition.dtype is not dt.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {_torch_name(condition.dtype)}")
    result_dtype = dt.result_type(input, other)
    return _WhereTyped.apply(condition, input, other, out=out, result=result_dtype)


class _WhereTyped(_Where):
    """where(cond, a, b): the dtype comes from a and b only, never from the condition."""

    node_name = "WhereBackward0"

    @classmethod
    def forward(cls, ctx, cond, a, b, out=None, result=None):
        tensors = [x for x in (cond, a, b) if isinstance(x, Tensor)]
        device = common_device(*tensors)
        shape = broadcast_shapes(*(t._shape for t in tensors))
        if out is None:
            out = new_empty(shape, result, device)
        backend(out).elementwise("where", out, (cond, _as_result(a, result), _as_result(b, result)),
                                 result.compute_np)
        ctx.save_for_backward(cond)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = grad * 0
        return (None,
                where(cond, grad, zero) if ctx.needs_input_grad[1] else None,
                where(cond, zero, grad) if ctx.needs_input_grad[2] else None)


def _as_result(x, dtype):
    if isinstance(x, Tensor) and x.dtype is not dtype:
        return x.to(dtype)
    return x


_Addcmul = declare("addcmul", params=("value",), derivatives=(
    lambda grad: grad, lambda grad, other, third, value: grad * third * value,
    lambda grad, self, other, value: grad * other * value))
_Addcdiv = declare("addcdiv", params=("value",), rule=Rule.PROMOTE, derivatives=(
    lambda grad: grad, lambda grad, third, value: grad * value / third,
    lambda grad, other, third, value: -grad * value * other / (third * third)))


@export
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    return _Addcmul.apply(input, tensor1, tensor2, out=out, value=value)


@method
def addcmul_(self, tensor1, tensor2, *, value=1):
    return _Addcmul.apply(self, tensor1, tensor2, inplace=True, value=value)


@export
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not dt.result_type(tensor1, tensor2).is_floating_point:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                           "addcdiv will perform a true division of tensor1 and tensor2.")
    return _Addcdiv.apply(input, tensor1, tensor2, out=out, value=value)


@method
def addcdiv_(self, tensor1, tensor2, *, value=1):
    return _Addcdiv.apply(self, tensor1, tensor2, inplace=True, value=value)
