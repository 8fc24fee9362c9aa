"""Elementwise ops: dtype rules, broadcasting, in-place variants and derivatives.

Each op is declared once, like a line of PyTorch's derivatives.yaml: its kernel name,
its dtype rule and its derivative written in differentiable tensor ops (so double
backward works). The derivative's parameter names say what backward needs, so only
those tensors are saved: ``grad`` (incoming gradient), ``self``/``other``/``third``
(inputs) and ``result`` (output).
"""
from __future__ import annotations

import builtins
import inspect
import math
import warnings

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import NULL_CTX, Function
from ..tensor import Tensor
from . import _autocast
from ._autocast import autocast_call, state as _amp
from ._common import backend, broadcast_shapes, common_device, float_result
from ._layout import elementwise_strides
from ._overlap import check_inplace_overlap
from ._registry import export, method
from ..type_info import finfo
from .creation import check_fill_value, new_empty, ones_like, resize_out, zeros_like


# ------------------------------------------------------------------ dtype rules
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
    """Refuse an in-place write that autograd could not record (a leaf that requires grad), or
    one to an inference tensor outside inference_mode."""
    self._check_writable()
    if not grad_mode.enabled:
        return
    if self._requires_grad and self.grad_fn is None:
        if self._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = self._base
    if base is not None and base._requires_grad:
        # recorded in-place ops on views rewrite the base's history (autograd/copy_slices.py)
        from ..autograd.copy_slices import check_view_inplace
        check_view_inplace(self, base)


def _new_output(shape, dtype, device, operands):
    """A new result laid out as torch lays out an elementwise op's (``ops/_layout.py``)."""
    out = new_empty(shape, dtype, device)
    strides = elementwise_strides(shape, operands)
    return out if strides is None else Tensor._make(out._storage, shape, strides, 0, dtype)


def compute(kernel, operands, rule, out=None, resize=False):
    """Run ``kernel`` over broadcast operands into a new tensor (or ``out``, which takes the
    broadcast shape when ``resize``: torch's ``out=``; an in-place op's self cannot)."""
    compute_dtype, result_dtype = _dtypes_for(rule, operands)
    tensors = [x for x in operands if isinstance(x, Tensor)]
    if tensors:
        shape = tensors[0]._shape
        for t in tensors:
            if t._shape != shape:
                shape = broadcast_shapes(*(t._shape for t in tensors))
                break
    else:
        raise TypeError(f"{kernel}: expected at least one Tensor argument, got "
                        f"{', '.join(type(x).__name__ for x in operands)}")
    if out is None:
        out = _new_output(shape, result_dtype, common_device(*tensors), operands)
    else:
        if out._shape != shape:
            if not resize:
                raise RuntimeError(f"output with shape {list(out._shape)} doesn't match the broadcast shape "
                                   f"{list(shape)}")
            resize_out(out, shape)
        _check_inplace_cast(result_dtype, out)
        check_inplace_overlap(out, operands)
        if out.dtype is not result_dtype:
            # torch computes in the result dtype and casts into out: int8 100 + 100 wraps to -56
            # before an int32 out sees it, a 16-bit result is rounded before widening
            return out.copy_(compute(kernel, operands, rule))
    backend(out).elementwise(kernel, out, operands, compute_dtype.compute_np)
    return out


def compute_inplace(kernel, self, operands, rule):
    """In-place variant: the result (of ``operands``, the first being ``self``) lands in self."""
    check_inplace(self)
    compute(kernel, operands, rule, out=self)
    self._bump_version()
    return self


# ------------------------------------------------------------------ fast lane
def _fast_result_dtype(rule, dtype):
    if rule == Rule.PROMOTE:
        return dtype
    if rule == Rule.FLOAT:
        return dtype if dtype.is_floating_point else None
    return dt.bool


_FAST_RESULT = {(rule, d): _fast_result_dtype(rule, d)
                for rule in (Rule.PROMOTE, Rule.FLOAT, Rule.BOOL, Rule.LOGICAL) for d in dt.ALL_DTYPES}


def _scalar_keeps_dtype(x, dtype) -> bool:
    """A Python scalar operand that leaves the tensor's dtype unchanged under promotion."""
    kind = type(x)
    if kind is float:
        return dtype in dt.FLOATING_DTYPES
    if kind is int:
        return dtype is not dt.bool and dt.INT_ARGUMENT_MIN <= x < dt.INT_ARGUMENT_END
    return False


def _fast_lane(cls, operands):
    """Skip the general machinery for the commonest eager call (see the backends'
    ``elementwise_lane``): tensors of one dtype and shape (or Python scalars that keep that
    dtype), nothing to record."""
    first = operands[0]
    if type(first) is not Tensor:
        return None
    dtype, shape = first.dtype, first._shape
    recording = grad_mode.enabled
    if recording and first._requires_grad:
        return None
    for x in operands[1:]:
        if type(x) is Tensor:
            if x.dtype is not dtype or (recording and x._requires_grad):
                return None
            if x._shape != shape and not (len(operands) == 2 and _repeats_along_rows(x._shape, shape)):
                return None
        elif not _scalar_keeps_dtype(x, dtype):
            return None
    if dtype in _NARROW_FLOATS and _number_operand(cls, operands):
        return None
    lane = _lane(cls, first, len(operands))
    return lane(*operands) if lane is not None else None


def _repeats_along_rows(small, shape) -> bool:
    """Whether a second operand of shape ``small`` broadcasts to ``shape`` (the result's) as
    one row repeated: its dims after leading 1s are ``shape``'s trailing ones (a bias)."""
    if len(small) > len(shape):
        return False
    lead = 0
    while lead < len(small) and small[lead] == 1:
        lead += 1
    return small[lead:] == shape[len(shape) - len(small) + lead:]


def _number_operand(cls, operands):
    """Whether a Python number is among the op's operands (not its trailing parameters): for
    float16/bfloat16 the general path rounds it first (``_narrowed``)."""
    return any(type(x) is not Tensor for x in operands[1:len(operands) - len(cls.params)])


def _lane(cls, first, arity):
    """``cls``'s fast lane for ``arity`` operands like ``first`` (same device type and dtype),
    made by the backend once; None where the backend has none."""
    key = (first._storage.device.type, first.dtype, arity)
    lane = cls._lanes.get(key, _UNKNOWN)
    if lane is _UNKNOWN:
        make = getattr(backend(first), "elementwise_lane", None)
        result_dtype = _FAST_RESULT[cls.rule, first.dtype]
        lane = None
        if make is not None and result_dtype is not None:
            lane = make(cls.kernel, arity, first.dtype, result_dtype)
        cls._lanes[key] = lane
    return lane


def _inplace_lane(cls, operands):
    """``self.op_(...)`` in one step, the in-place twin of ``_fast_lane`` (grad accumulation,
    ``x.mul_(0.9)``): tensor operands of self's dtype and shape, a result of self's dtype,
    nothing to record, and no operand sharing self's memory unless it is self (the overlap
    rules then hold trivially). The backend's lane declines (False) a self it cannot write
    in one flat pass. Returns self, or None for the general path."""
    self = operands[0]
    if type(self) is not Tensor:
        return None
    self._check_writable()
    dtype = self.dtype
    if _FAST_RESULT[cls.rule, dtype] is not dtype:
        return None
    recording = grad_mode.enabled
    if recording and (self._requires_grad or self._base is not None and self._base._requires_grad):
        return None
    shape, storage = self._shape, self._storage
    for x in operands[1:]:
        if type(x) is Tensor:
            if (x.dtype is not dtype or x._shape != shape or x._storage is storage and x is not self
                    or recording and x._requires_grad):
                return None
        elif not _scalar_keeps_dtype(x, dtype):
            return None
    if dtype in _NARROW_FLOATS and _number_operand(cls, operands):
        return None
    key = (storage.device.type, dtype, len(operands), "inplace")
    lane = cls._lanes.get(key, _UNKNOWN)
    if lane is _UNKNOWN:
        make = getattr(backend(self), "elementwise_inplace_lane", None)
        lane = cls._lanes[key] = make(cls.kernel, len(operands), dtype) if make is not None else None
    if lane is None or not lane(operands):
        return None
    self._bump_version()
    return self


_UNKNOWN = object()
_BOOL = dt.bool


def _operator(cls, general, *, bool_lane=True):
    """A binary Tensor operator (``__add__`` ...): the fast lane inline, else ``general``.

    ``x + y`` is the most frequent call in eager code, so the lane's checks are written out
    here rather than reached through ``general`` -> ``apply`` -> ``_fast_lane``; lanes are
    looked up by device type, then dtype. ``bool_lane=False`` sends bool tensors to
    ``general`` (torch refuses ``-`` on them there).
    """
    by_device = {}

    def lane_for(self):
        lanes = by_device.setdefault(self._storage.device.type, {})
        dtype = self.dtype
        lanes[dtype] = _lane(cls, self, 2) if bool_lane or dtype is not _BOOL else None
        return lanes[dtype]

    def operator(self, other):
        dtype = self.dtype
        if type(other) is Tensor:
            if (other.dtype is not dtype or other._shape != self._shape
                    or grad_mode.enabled and (self._requires_grad or other._requires_grad)):
                return general(self, other)
        elif not _scalar_keeps_dtype(other, dtype) or grad_mode.enabled and self._requires_grad:
            return general(self, other)
        elif dtype in _NARROW_FLOATS and not cls.scalar_as_given:
            other = dt.round_scalar(other, dtype)
        lanes = by_device.get(self._storage.device.type)
        lane = lanes.get(dtype, _UNKNOWN) if lanes is not None else _UNKNOWN
        if lane is _UNKNOWN:
            lane = lane_for(self)
        if lane is not None:
            out = lane(self, other)
            if out is not None:
                return out
        return general(self, other)
    operator.__name__ = operator.__qualname__ = f"__{general.__name__}__"
    return operator


# ------------------------------------------------------------------ op declaration
_ARG_NAMES = ("self", "other", "third", "fourth")


class _ElementwiseFunction(Function):
    """Forward runs the kernel; backward applies the declared derivative per input."""

    kernel = None
    rule = Rule.PROMOTE
    derivatives = ()  # one callable (or None) per tensor input position
    saves = ()        # names of what the derivatives read: self/other/third/result
    _save_positions = ()  # where each saved value comes from: operand position, or -1 for the result
    params = ()       # names of extra scalar keyword parameters, passed to the kernel
    #: a number operand of a float16/bfloat16 op is used unrounded (``_narrowed``): torch's CPU
    #: mul and div kernels read it so (``original_scalar_value``), the others cast it first
    scalar_as_given = False

    @classmethod
    def apply(cls, *operands, out=None, inplace=False, **params):
        if out is None:  # the lanes: in place into operands[0], or a new output
            lane_operands = operands + tuple(params[p] for p in cls.params) if params else operands
            result = _inplace_lane(cls, lane_operands) if inplace else _fast_lane(cls, lane_operands)
            if result is not None:
                return result
        if inplace:
            check_inplace(operands[0])
        return super().apply(*operands, out=out, inplace=inplace, **params)

    @classmethod
    def forward(cls, ctx, *operands, out=None, inplace=False, **params):
        kernel_operands = operands + tuple(params[p] for p in cls.params) if params else operands
        # a recorded call runs here with grad mode off, so the fast lane can take it too (an
        # unrecorded one already tried it in ``apply``); the lane takes operands of one dtype
        # and no number beside a 16-bit tensor, so only the general path needs ``_narrowed``
        result = None
        target = operands[0]  # an in-place op's destination, whatever _narrowed reads it as
        if not inplace and out is None and ctx is not NULL_CTX:
            result = _fast_lane(cls, kernel_operands)
        if result is None:
            operands = _narrowed(operands, cls.scalar_as_given)
            kernel_operands = operands + tuple(params[p] for p in cls.params) if params else operands
        if inplace:
            # save only what the needed derivatives read; ``self`` as it was before the write
            needed = _needed_saves(cls, ctx) if cls.saves and ctx.needs_input_grad else ()
            if "self" in needed:
                with grad_mode.enable_grad():  # torch's original_self, differentiable for double backward
                    operands = (operands[0].clone(),) + operands[1:]
            version = target._version
            result = compute_inplace(cls.kernel, target, kernel_operands, cls.rule)
            ctx.mark_dirty(result)
        elif result is None:
            result = compute(cls.kernel, kernel_operands, cls.rule, out=out, resize=True)
        if params:
            ctx.params = params
        if cls.saves:
            saved = [result if i < 0 else operands[i] for i in cls._save_positions]
            if inplace:
                saved = [v if name in needed else None for name, v in zip(cls.saves, saved)]
            tensors, scalars = [], None
            for i, s in enumerate(saved):
                if isinstance(s, Tensor):
                    tensors.append(s)
                else:  # a Python scalar operand (x * 2): kept apart, rarely there
                    tensors.append(None)
                    scalars = scalars or [None] * len(saved)
                    scalars[i] = s
            ctx.save_for_backward(*tensors)
            ctx.scalars = scalars
            if inplace and needed:
                _saved_before_write(ctx, cls.saves, result, version)
        return result

    @classmethod
    def backward(cls, ctx, grad):
        env = {"grad": grad}
        if cls.params:
            env.update(ctx.params)
        if cls.saves:
            scalars = ctx.scalars or (None,) * len(cls.saves)
            for name, tensor_value, scalar_value in zip(cls.saves, ctx.saved_tensors, scalars):
                env[name] = tensor_value if tensor_value is not None else scalar_value
        grads = []
        for i, derivative in enumerate(cls.derivatives):
            if derivative is None or not ctx.needs_input_grad[i]:
                grads.append(None)
            else:
                grads.append(derivative(**{k: env[k] for k in derivative._params}))
        return tuple(grads)


def _narrowed(operands, scalar_as_given=False):
    """``operands`` as torch casts them when their common dtype is float16/bfloat16: numbers
    rounded to it, tensors of other dtypes converted (recorded). The kernels of those dtypes
    compute in float32, so without this ``x_half == 0.1`` compared with float32's 0.1.
    ``scalar_as_given``: a number or 0-d tensor *divisor/multiplier* (the second operand) stays as
    it is (torch's mul and div kernels); a 0-d first operand is still cast."""
    if len(operands) < 2:  # one operand is its own common dtype
        return operands
    for x in operands:
        if type(x) is Tensor and x.dtype in _NARROW_FLOATS:
            break
    else:
        return operands
    common = dt.result_type(*operands)
    if common not in _NARROW_FLOATS:
        return operands
    narrowed = []
    for position, x in enumerate(operands):
        as_given = scalar_as_given and position == 1
        if type(x) is Tensor:
            if x.dtype is not common and not (as_given and not x._shape):
                x = x.to(common)
        elif type(x) in (int, float) and not as_given:
            x = dt.round_scalar(x, common)
        narrowed.append(x)
    return tuple(narrowed)


_NARROW_FLOATS = dt.NARROW_FLOATS


def _needed_saves(cls, ctx):
    """Names read by the derivatives of the inputs that need a gradient."""
    return {p for d, needs in zip(cls.derivatives, ctx.needs_input_grad) if d is not None and needs
            for p in d._params}


def _saved_before_write(ctx, names, result, version):
    """Inputs saved by an in-place op that alias its result were saved before the write
    (e.g. ``y.mul_(y)``): backward must then fail like torch, not use the new values."""
    for name, s in zip(names, ctx._saved):
        if name != "result" and s is not None and s.tensor._storage is result._storage:
            s.version = version


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
        "kernel": kernel or name, "rule": rule, "derivatives": derivatives, "saves": tuple(used), "_lanes": {},
        "params": tuple(params), "node_name": node or f"{name.title().replace('_', '')}Backward0",
        # where each saved value comes from: an operand's position, or -1 for the result
        "_save_positions": tuple(-1 if p == "result" else _ARG_NAMES.index(p) for p in used),
    })
    return cls


def _renamed(cls, node, kernel=None):
    """The same op recorded under another grad_fn name (and computed by ``kernel``, with a
    lane cache of its own, when given)."""
    attributes = {"node_name": node}
    if kernel is not None:
        attributes.update(kernel=kernel, _lanes={})
    return type(f"{cls.__name__}_{node}", (cls,), attributes)


# ------------------------------------------------------------------ unary ops
def _identity_into(input, out, message=lambda o, i: f"Found dtype {o} but expected {i}"):
    """An op that is the identity for input's dtype (floor of integers): a copy, or input written
    into ``out``, which must have input's dtype (else torch's ``message(out's, input's)``)."""
    if out is None:
        return input.clone()
    if out.dtype is not input.dtype:
        raise RuntimeError(message(_torch_name(out.dtype), _torch_name(input.dtype)))
    resize_out(out, input._shape)
    return out.copy_(input)


#: torch builds these as dtype-preserving unary ops: an out= of another dtype raises (before the
#: dtype's kernel is looked up), where the float-promoting ones (exp, sqrt) cast into out
_SAME_DTYPE_OUT = frozenset({"abs", "neg", "sign", "floor", "ceil", "trunc", "frac", "bitwise_not"})


def _check_same_dtype_out(input, out):
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_torch_name(out.dtype)} but expected {_torch_name(input.dtype)}")


def _unary(name, derivative=None, *, rule=Rule.PROMOTE, kernel=None, node=None, check=None,
           inplace=True, int_identity=False):
    """Declare a unary op and export it (and ``name_``: ``inplace="method"`` where torch has no
    ``torch.name_``); ``check(dtype)`` rejects dtypes."""
    cls = declare(name, kernel, rule=rule, derivatives=(derivative,), node=node)
    autocast = name in _autocast.ELEMENTWISE  # exp, log ...: fp32 under CUDA autocast

    def op(input, *, out=None):
        if autocast and _amp.on:
            return autocast_call(name, op, input, out=out)
        if name in _SAME_DTYPE_OUT:
            _check_same_dtype_out(input, out)
        if check:
            check(input.dtype)
        if int_identity and not input.dtype.is_floating_point:
            return _identity_into(input, out)
        return cls.apply(input, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (torch.{name})."
    export(op)

    if inplace:
        def op_(self):
            if check:
                check(self.dtype)
            if int_identity and not self.dtype.is_floating_point:
                return self
            return cls.apply(self, inplace=True)
        op_.__name__ = op_.__qualname__ = name + "_"
        method(op_)
        if inplace != "method":
            export(op_, method=False)
    return op


def _reject_bool(message):
    def check(dtype):
        if dtype is dt.bool:
            raise RuntimeError(message)
    return check


def not_implemented_for(kernel, dtype):
    """torch's dispatch error for a dtype an op has no kernel for."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_torch_name(dtype)}'")


def _kernel_for(kernel, accepts):
    def check(dtype):
        if not accepts(dtype):
            raise not_implemented_for(kernel, dtype)
    return check


def _integral(dtype):
    return not dtype.is_floating_point


def _not_bool(dtype):
    return dtype is not dt.bool


_floating = dt.dtype.is_floating_point.fget


neg = _unary("neg", lambda grad: -grad, check=_reject_bool(
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
    "mask, use the `~` or `logical_not()` operator instead."))
export(neg, name="negative")
abs = _unary("abs", lambda grad, self: grad * self.sgn(), check=_kernel_for("abs_cpu", lambda d: d is not dt.bool))
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
# square of a bool is pow(x, 2): int64, which square_ cannot write into a bool tensor
_square = _unary("square", lambda grad, self: 2 * grad * self, node="PowBackward0",
                 check=_reject_bool("result type Long can't be cast to the desired output type Bool"))
sin = _unary("sin", lambda grad, self: grad * self.cos(), rule=Rule.FLOAT)
cos = _unary("cos", lambda grad, self: -grad * self.sin(), rule=Rule.FLOAT)
tan = _unary("tan", lambda grad, result: grad * (1 + result * result), rule=Rule.FLOAT)
asin = _unary("asin", lambda grad, self: grad * (1 - self * self).rsqrt(), rule=Rule.FLOAT)
acos = _unary("acos", lambda grad, self: -grad * (1 - self * self).rsqrt(), rule=Rule.FLOAT)
atan = _unary("atan", lambda grad, self: grad / (1 + self * self), rule=Rule.FLOAT)
sinh = _unary("sinh", lambda grad, self: grad * self.cosh(), rule=Rule.FLOAT)
cosh = _unary("cosh", lambda grad, self: grad * self.sinh(), rule=Rule.FLOAT)
asinh = _unary("asinh", lambda grad, self: grad * (self * self + 1).rsqrt(), rule=Rule.FLOAT)
acosh = _unary("acosh", lambda grad, self: grad * (self * self - 1).rsqrt(), rule=Rule.FLOAT)
atanh = _unary("atanh", lambda grad, self: grad / (1 - self * self), rule=Rule.FLOAT)
tanh = _unary("tanh", lambda grad, result: grad * (1 - result * result), rule=Rule.FLOAT)
sigmoid = _unary("sigmoid", lambda grad, result: grad * result * (1 - result), rule=Rule.FLOAT)
# relu's gradient in one kernel pass, as torch's threshold_backward: grad where x > threshold,
# else 0 (a NaN x passes grad through); differentiable again in grad for double backward
_threshold_backward = declare("threshold_backward", params=("threshold",), node="ThresholdBackwardBackward0",
                              derivatives=(lambda grad, other, threshold: _threshold_backward.apply(
                                  grad, other, threshold=threshold), None))
relu = _unary("relu", lambda grad, result: _threshold_backward.apply(grad, result, threshold=0.0),
              check=_reject_bool("Boolean inputs not supported for relu"))
silu = _unary("silu", lambda grad, self: _silu_grad(grad, self), rule=Rule.FLOAT,
              check=_kernel_for("silu_cpu", _floating))
erf = _unary("erf", lambda grad, self: grad * (2 / math.sqrt(math.pi)) * (-(self * self)).exp(),
             rule=Rule.FLOAT)
floor = _unary("floor", lambda grad: grad * 0, int_identity=True, check=_kernel_for("floor_vml_cpu", _not_bool))
ceil = _unary("ceil", lambda grad: grad * 0, int_identity=True, check=_kernel_for("ceil_vml_cpu", _not_bool))
trunc = _unary("trunc", lambda grad: grad * 0, int_identity=True, check=_kernel_for("trunc_vml_cpu", _not_bool))
export(trunc, name="fix")
frac = _unary("frac", lambda grad: grad, check=_kernel_for("frac_cpu", dt.dtype.is_floating_point.fget))
logical_not = _unary("logical_not", rule=Rule.LOGICAL)
bitwise_not = _unary("bitwise_not", check=_kernel_for("bitwise_not_cpu", _integral))
deg2rad = _unary("deg2rad", lambda grad: grad * (math.pi / 180), rule=Rule.FLOAT)
rad2deg = _unary("rad2deg", lambda grad: grad * (180 / math.pi), rule=Rule.FLOAT)
isnan = _unary("isnan", rule=Rule.BOOL, inplace=False)
isinf = _unary("isinf", rule=Rule.BOOL, inplace=False)
isfinite = _unary("isfinite", rule=Rule.BOOL, inplace=False)
angle = _unary("angle", lambda grad: grad * 0, rule=Rule.FLOAT, inplace=False)  # of a real: 0, pi or nan


def _signed_infinity_test(name, infinity):
    """isposinf / isneginf: ``input == infinity`` (all False for integers), into a bool out only."""
    def op(input, *, out=None):
        if out is not None and out.dtype is not dt.bool:
            raise RuntimeError(f"{name} does not support non-boolean outputs.")
        return eq(input, infinity, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Where ``input`` is {infinity} (torch.{name})."
    return export(op)


isposinf = _signed_infinity_test("isposinf", math.inf)
isneginf = _signed_infinity_test("isneginf", -math.inf)


@export
def square(input, *, out=None):
    """input * input; a bool input squares to int64, as torch's pow(input, 2)."""
    if input.dtype is dt.bool:
        return pow(input, 2, out=out)
    return _square(input, out=out)


def _one_pass(kernel, composite, params=()):
    """An activation's input gradient: ``kernel``'s single pass over (grad, x) when backward
    records no graph (the usual backward), else ``composite(grad, x, ...)``, tensor ops that
    are differentiable again (create_graph)."""
    cls = declare(kernel, params=params)

    def gradient(grad, x, **values):
        if grad_mode.enabled:
            return composite(grad, x, **values)
        return cls.apply(grad, x, **values)
    return gradient


def _silu_derivative(x):
    s = x.sigmoid()
    return s * (1 + x * (1 - s))


_silu_grad = _one_pass("silu_backward", lambda grad, x: grad * _silu_derivative(x))


_round = declare("round", "round", derivatives=(lambda grad: grad * 0,))
_round_decimals = declare("round", "round_decimals", derivatives=(lambda grad: grad * 0,),
                          params=("scale",), node="RoundBackward1")


_check_round = _kernel_for("round_vml_cpu", _not_bool)


def _check_round_int_decimals(dtype, decimals):
    """Integers round to themselves, but torch has no integer kernel for round(decimals=)."""
    if decimals and not dtype.is_floating_point:
        raise not_implemented_for("round_cpu", dtype)


@export
def round(input, *, decimals=0, out=None):
    _check_same_dtype_out(input, out)
    _check_round(input.dtype)
    _check_round_int_decimals(input.dtype, decimals)
    if not input.dtype.is_floating_point:
        return _identity_into(input, out)
    if decimals:
        return _round_decimals.apply(input, out=out, scale=10.0 ** decimals)
    return _round.apply(input, out=out)


@method
def round_(self, *, decimals=0):
    _check_round(self.dtype)
    _check_round_int_decimals(self.dtype, decimals)
    if not self.dtype.is_floating_point:
        return self
    if decimals:
        return _round_decimals.apply(self, inplace=True, scale=10.0 ** decimals)
    return _round.apply(self, inplace=True)


# ------------------------------------------------------------------ unary with parameters
# torch's activation kernels exist for floating dtypes only: F.gelu(an int tensor) raises
_check_gelu = _kernel_for("GeluKernelImpl", _floating)
_check_softplus = _kernel_for("softplus_cpu", _floating)
_check_leaky_relu = _kernel_for("leaky_relu_cpu", _floating)
_check_elu = _kernel_for("elu_cpu", _floating)

_gelu = declare("gelu", rule=Rule.FLOAT, derivatives=(lambda grad, self: _gelu_grad(grad, self),))
_gelu_tanh = declare("gelu", "gelu_tanh", rule=Rule.FLOAT, derivatives=(
    lambda grad, self: _gelu_tanh_grad(grad, self),))


def _gelu_derivative(x):
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf())
    pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf


def _gelu_tanh_derivative(x):
    k = math.sqrt(2 / math.pi)
    t = (k * (x + 0.044715 * x * x * x)).tanh()
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


_gelu_grad = _one_pass("gelu_backward", lambda grad, x: grad * _gelu_derivative(x))
_gelu_tanh_grad = _one_pass("gelu_tanh_backward", lambda grad, x: grad * _gelu_tanh_derivative(x))


@export
def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate}")
    _check_gelu(input.dtype)
    return (_gelu_tanh if approximate == "tanh" else _gelu).apply(input)


_softplus_grad = _one_pass("softplus_backward", lambda grad, x, beta, threshold: where(
    x * beta > threshold, grad, grad * (x * beta).sigmoid()), params=("beta", "threshold"))
_softplus = declare("softplus", rule=Rule.FLOAT, params=("beta", "threshold"), derivatives=(
    lambda grad, self, beta, threshold: _softplus_grad(grad, self, beta=beta, threshold=threshold),))


@export(method=False)
def softplus(input, beta=1.0, threshold=20.0):
    if _amp.on:
        return autocast_call("softplus", softplus, input, beta, threshold)
    _check_softplus(input.dtype)
    return _softplus.apply(input, beta=beta, threshold=threshold)


_leaky_relu = declare("leaky_relu", params=("slope",), derivatives=(
    lambda grad, self, slope: where(self > 0, grad, grad * slope),))
_leaky_relu_ = _renamed(_leaky_relu, "LeakyReluBackward1")


@export(method=False)
def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_leaky_relu(input.dtype)
    return (_leaky_relu_ if inplace else _leaky_relu).apply(input, inplace=inplace, slope=negative_slope)


_elu = declare("elu", params=("alpha",), derivatives=(
    lambda grad, self, alpha: where(self > 0, grad, grad * alpha * self.exp()),))


_elu_ = _renamed(_elu, "EluBackward1")  # torch records its in-place forms under another name


@export(method=False)
def elu(input, alpha=1.0, inplace=False):
    _check_elu(input.dtype)
    return (_elu_ if inplace else _elu).apply(input, inplace=inplace, alpha=alpha)


def _elu_scaled_derivative(grad, self, alpha, scale, input_scale):
    return where(self > 0, grad * scale, grad * (scale * alpha * input_scale) * (self * input_scale).exp())


# torch's elu(x, alpha, scale, input_scale), recorded under the name of the op called
_selu = declare("elu_scaled", rule=Rule.FLOAT, params=("alpha", "scale", "input_scale"), node="EluBackward0",
                derivatives=(_elu_scaled_derivative,))
_celu = _renamed(_selu, "CeluBackward0")
_selu_, _celu_ = _renamed(_selu, "EluBackward1"), _renamed(_selu, "CeluBackward1")
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@export(method=False)
def selu(input, inplace=False):
    _check_elu(input.dtype)
    return (_selu_ if inplace else _selu).apply(input, inplace=inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                                                input_scale=1.0)


@export(method=False)
def celu(input, alpha=1.0, inplace=False):
    _check_elu(input.dtype)
    return (_celu_ if inplace else _celu).apply(input, inplace=inplace, alpha=alpha, scale=1.0,
                                                input_scale=1.0 / alpha)


_threshold = declare("threshold", params=("threshold", "value"), derivatives=(
    lambda grad, self, threshold: where(self > threshold, grad, 0.0),))
_threshold_ = _renamed(_threshold, "ThresholdBackward1")


@export(method=False)
def threshold(input, threshold, value, inplace=False):
    if input.dtype is dt.bool:
        raise not_implemented_for("threshold_cpu", input.dtype)
    if not input.dtype.is_floating_point:  # torch reads both numbers in the input's integer type
        from .creation import check_fill_value
        for number in (threshold, value):
            check_fill_value(number, input.dtype)
        threshold, value = int(threshold), int(value)
    return (_threshold_ if inplace else _threshold).apply(input, inplace=inplace, threshold=threshold,
                                                          value=value)


def _mish_derivative(grad, self):
    t = softplus(self).tanh()
    return grad * (t + self * self.sigmoid() * (1 - t * t))


_mish = declare("mish", rule=Rule.FLOAT, derivatives=(_mish_derivative,))
_hardswish = declare("hardswish", rule=Rule.FLOAT, derivatives=(  # torch's: 0 at -3, 1 at 3
    lambda grad, self: grad * where(self <= -3, 0.0, where(self < 3, self / 3 + 0.5, 1.0)),))
_hardsigmoid = declare("hardsigmoid", rule=Rule.FLOAT, derivatives=(
    lambda grad, self: grad * (((self > -3) & (self < 3)) / 6),))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` (nn.functional only, like torch)."""
    _kernel_for("mish_cpu", _floating)(input.dtype)
    return _mish.apply(input, inplace=inplace)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6`` (nn.functional only, like torch)."""
    _kernel_for("hardswish_cpu", _floating)(input.dtype)
    return _hardswish.apply(input, inplace=inplace)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6`` (nn.functional only, like torch)."""
    _kernel_for("hardsigmoid_cpu", _floating)(input.dtype)
    return _hardsigmoid.apply(input, inplace=inplace)


_nan_to_num = declare("nan_to_num", params=("nan", "posinf", "neginf"), derivatives=(
    lambda grad, self: grad * self.isfinite(),))


def _nan_to_num_params(dtype, nan, posinf, neginf):
    info = finfo(dtype).max if dtype.is_floating_point else 0
    return dict(nan=0.0 if nan is None else nan, posinf=info if posinf is None else posinf,
                neginf=-info if neginf is None else neginf)


@export
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input.dtype.is_floating_point:
        return _identity_into(input, out, lambda o, i: f"nan_to_num: dtype of out: {o} should be same as "
                                                       f"input: {i}")
    return _nan_to_num.apply(input, out=out, **_nan_to_num_params(input.dtype, nan, posinf, neginf))


@method
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    if not self.dtype.is_floating_point:
        return self
    return _nan_to_num.apply(self, inplace=True, **_nan_to_num_params(self.dtype, nan, posinf, neginf))


# logit's gradient in one kernel pass, as torch's logit_backward (no graph: it runs only when
# backward records none); with create_graph torch's infinitely differentiable composite instead
_LogitGrad = declare("logit_backward", params=("lo", "hi"))


def _logit_derivative(grad, self, lo, hi):
    if grad_mode.enabled:
        return where((self >= 0) & (self <= 1), grad / (self * (1 - self)), math.nan)
    return _LogitGrad.apply(grad, self, lo=lo, hi=hi)


def _logit_eps_derivative(grad, self, lo, hi):
    if grad_mode.enabled:  # zero where the forward clamped; a negative eps clamps nothing
        return where((self >= lo) & (self <= hi), grad / (self * (1 - self)), 0.0)
    return _LogitGrad.apply(grad, self, lo=lo, hi=hi)


# the kernels read a negative lo as no eps (torch's kernels do too); two classes because the
# recorded gradient tells eps=None from a negative eps
_Logit = declare("logit", rule=Rule.FLOAT, params=("lo", "hi"), derivatives=(_logit_derivative,))
_LogitEps = declare("logit", rule=Rule.FLOAT, params=("lo", "hi"), derivatives=(_logit_eps_derivative,))


def _logit_apply(input, eps, **kwargs):
    if eps is None:
        return _Logit.apply(input, lo=-1.0, hi=2.0, **kwargs)
    if isinstance(eps, (bool, str)) or not isinstance(eps, (int, float, Tensor)):
        raise TypeError(f"logit(): argument 'eps' must be float, not {type(eps).__name__}")
    # torch's lo = eps and hi = 1 - eps, each rounded to the op's dtype: bfloat16's eps=1e-3
    # gives hi = 1, so 1 maps to inf there
    dtype = float_result(input.dtype)
    lo = _rounded(builtins.float(eps), dtype)
    return _LogitEps.apply(input, lo=lo, hi=_rounded(1 - lo, dtype), **kwargs)


def _rounded(value, dtype):
    if dtype in _NARROW_FLOATS:
        return dt.round_scalar(value, dtype)
    return builtins.float(dt.float32.compute_np.type(value)) if dtype is dt.float32 else value


@export
def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), p = input clamped to [eps, 1 - eps] when eps is given."""
    return _logit_apply(input, eps, out=out)


@export  # torch.logit_ and Tensor.logit_
def logit_(self, eps=None):
    return _logit_apply(self, eps, inplace=True)


# ------------------------------------------------------------------ binary ops
def _binary(name, derivatives, *, rule=Rule.PROMOTE, kernel=None, node=None, scalar_node=None,
            scalar_kernel=None, params=()):
    """Declare a binary op. ``scalar_node`` is its grad_fn name when ``other`` is a Python
    scalar, for ops where torch records a different overload (RemainderBackward0 vs 1);
    ``scalar_kernel`` computes that overload where torch's kernel differs (pow's sqrt)."""
    cls = declare(name, kernel, rule=rule, derivatives=derivatives, node=node, params=params)
    cls.wraps_scalars = scalar_node is None  # one (Tensor) overload in torch: a scalar is an input too
    cls.with_scalar = _renamed(cls, scalar_node, scalar_kernel) if scalar_node else cls
    return cls


def _variant(cls, other):
    return cls if isinstance(other, Tensor) else cls.with_scalar


def _not_implemented(name):
    """A derivative torch does not define: backward raises, like torch's NotImplemented node."""
    def derivative(grad):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return derivative


_Add = _binary("add", (lambda grad: grad, lambda grad: grad))
_AddAlpha = _binary("add", (lambda grad: grad, lambda grad, alpha: grad * alpha), kernel="add_alpha",
                    params=("alpha",))
_SubAlpha = _renamed(_AddAlpha, "SubBackward0")  # self - alpha * other == self + (-alpha) * other
_Sub = _binary("sub", (lambda grad: grad, lambda grad: -grad))
# rsub(input, other) == other + (-alpha) * input: add_alpha with the operands swapped
_Rsub = _renamed(_AddAlpha, "RsubBackward0")
_Rsub.with_scalar = _renamed(_AddAlpha, "RsubBackward1")
_Rsub.with_scalar.wraps_scalars = False
_Mul = _binary("mul", (lambda grad, other: grad * other, lambda grad, self: grad * self))
_Div = _binary("div", (lambda grad, other: grad / other,
                       lambda grad, self, other: -grad * self / (other * other)), rule=Rule.FLOAT)
_Mul.scalar_as_given = _Div.scalar_as_given = True


def _checked_alpha(input, other, alpha):
    """alpha as torch reads it for the result's dtype (a bool for a bool result), after torch's
    checks of its type."""
    result = dt.result_type(input, other)
    if isinstance(alpha, float) and not result.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and result is not dt.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    return builtins.bool(alpha) if result is dt.bool else alpha


def _scales(alpha):
    """Whether ``alpha`` takes the alpha kernel (and torch's checks): anything but the number 1
    (True equals 1, but torch checks a bool alpha's type)."""
    return alpha != 1 or alpha is True


def _require_a_tensor(input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"expected a Tensor argument, got {type(input).__name__} and {type(other).__name__}")


@export
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other."""
    if _scales(alpha):
        alpha = _checked_alpha(input, other, alpha)
        return _AddAlpha.apply(input, other, out=out, alpha=alpha)
    return _Add.apply(input, other, out=out)


@method
def add_(self, other, *, alpha=1):
    if _scales(alpha):
        alpha = _checked_alpha(self, other, alpha)
        return _AddAlpha.apply(self, other, inplace=True, alpha=alpha)
    return _Add.apply(self, other, inplace=True)


def _is_bool(x):
    return x.dtype is dt.bool if isinstance(x, Tensor) else isinstance(x, bool)


def _check_sub_bool(input, other):
    """torch refuses ``-`` on bools (Python bools count as bool tensors)."""
    a, b = _is_bool(input), _is_bool(other)
    if a and b:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if a or b:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")


@export
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _check_sub_bool(input, other)
    if _scales(alpha):
        alpha = _checked_alpha(input, other, alpha)
        return _SubAlpha.apply(input, other, out=out, alpha=-alpha)
    return _Sub.apply(input, other, out=out)


export(sub, name="subtract")


@method
def sub_(self, other, *, alpha=1):
    _check_sub_bool(self, other)
    if _scales(alpha):
        alpha = _checked_alpha(self, other, alpha)
        return _SubAlpha.apply(self, other, inplace=True, alpha=-alpha)
    return _Sub.apply(self, other, inplace=True)


@export
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    _check_sub_bool(input, other)
    alpha = _checked_alpha(input, other, alpha)
    return _variant(_Rsub, other).apply(other, input, alpha=-alpha)


@export
def mul(input, other, *, out=None):
    return _Mul.apply(input, other, out=out)


# the arithmetic operators of Tensor reach the fast lane directly (see ``_operator``)
Tensor.__add__ = Tensor.__radd__ = _operator(_Add, add)
Tensor.__sub__ = _operator(_Sub, sub, bool_lane=False)
Tensor.__mul__ = Tensor.__rmul__ = _operator(_Mul, mul)


export(mul, name="multiply")


@method
def mul_(self, other):
    return _Mul.apply(self, other, inplace=True)


#: floats round down as floor_divide does (torch's div_floor_floating: from fmod, not floor(a / b),
#: so 1 / 0.1 floors to 9 as the exact quotient does)
_DIV_KERNELS = {"trunc": ("div_trunc", "int_div_trunc"), "floor": ("float_floor_divide", "int_div_floor")}
#: rounding division: zero gradient (torch's DivBackward2), or none for integers
_RoundingDiv = {(mode, integral): _binary("div", (None, None) if integral else
                                          (lambda grad: grad * 0, lambda grad: grad * 0),
                                          kernel=kernels[integral], node="DivBackward2")
                for mode, kernels in _DIV_KERNELS.items() for integral in (False, True)}
for _cls in _RoundingDiv.values():
    _cls.scalar_as_given = True  # a number divisor of a 16-bit tensor is not rounded first, as torch


def _check_int_divisor(input, other):
    if any(isinstance(t, Tensor) and t.numel() == 0 for t in (input, other)):
        return  # torch's check runs per output element: an empty result divides nothing
    if isinstance(other, Tensor):
        if not other.dtype.is_floating_point and not dt.result_type(input, other).is_floating_point \
                and bool((other == 0).any()):
            raise RuntimeError("ZeroDivisionError")
    else:
        result = dt.result_type(input, other)
        # a number divisor is first converted to the integer dtype: 256 wraps to 0 in int8
        if not result.is_floating_point and other % (1 << 8 * result.itemsize) == 0:
            raise RuntimeError("ZeroDivisionError")


def _is_integral_division(kernel, input, other):
    """Whether a rounding division runs on integers (then a zero divisor is an error, like
    torch); bools have no such kernel."""
    result = dt.result_type(input, other)
    if result is dt.bool:
        raise not_implemented_for(kernel, result)
    if result.is_floating_point:
        return False
    _check_int_divisor(input, other)
    return True


def _rounding_div_class(mode, input, other):
    if mode not in _DIV_KERNELS:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{mode}'")
    return _RoundingDiv[mode, _is_integral_division(f"div_{mode}_cpu", input, other)]


@export
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        _require_a_tensor(input, other)
        return _Div.apply(input, other, out=out)
    return _rounding_div_class(rounding_mode, input, other).apply(input, other, out=out)


export(div, name="divide")
export(div, name="true_divide")
Tensor.__truediv__ = _operator(_Div, div)


@method
def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _Div.apply(self, other, inplace=True)
    return _rounding_div_class(rounding_mode, self, other).apply(self, other, inplace=True)


_FloorDivide = _binary("floor_divide", (_not_implemented("floor_divide"), _not_implemented("floor_divide")),
                       kernel="float_floor_divide", node="NotImplemented")
_FloorDivide.scalar_as_given = True  # torch's div_floor kernel: a 16-bit tensor's scalar divisor unrounded


def _floor_divide_class(input, other):
    if _is_integral_division("div_floor_cpu", input, other):
        return _RoundingDiv["floor", True]
    return _FloorDivide


@export
def floor_divide(input, other, *, out=None):
    return _floor_divide_class(input, other).apply(input, other, out=out)


@method
def floor_divide_(self, other):
    return _floor_divide_class(self, other).apply(self, other, inplace=True)


_Remainder = _binary("remainder", (lambda grad: grad, lambda grad, self, other:
                                   -grad * self.div(other, rounding_mode="floor")),
                     node="RemainderBackward1", scalar_node="RemainderBackward0")
_Fmod = _binary("fmod", (lambda grad: grad, lambda grad, self, other: -grad * self.div(other, rounding_mode="trunc")),
                node="FmodBackward1", scalar_node="FmodBackward0")
_IntRemainder = _binary("remainder", (None, None), kernel="int_remainder")
_IntFmod = _binary("fmod", (None, None), kernel="int_fmod")


def _remainder_class(input, other):
    if _is_integral_division("remainder_cpu", input, other):
        return _IntRemainder
    return _variant(_Remainder, other)


@export
def remainder(input, other, *, out=None):
    return _remainder_class(input, other).apply(input, other, out=out)


@method
def remainder_(self, other):
    return _remainder_class(self, other).apply(self, other, inplace=True)


def _fmod_class(input, other):
    if _is_integral_division("fmod_cpu", input, other):
        return _IntFmod
    return _variant(_Fmod, other)


@export
def fmod(input, other, *, out=None):
    return _fmod_class(input, other).apply(input, other, out=out)


@method
def fmod_(self, other):
    return _fmod_class(self, other).apply(self, other, inplace=True)


def _pow_self_grad(grad, self, other):
    # torch: zero where the exponent is 0 (even at self == 0, where the formula gives nan)
    if isinstance(other, Tensor):
        return where(other == 0, 0.0, grad * other * self.pow(other - 1))
    return grad * 0 if other == 0 else grad * other * self.pow(other - 1)


def _log_scalar(x):
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _pow_exponent_grad(grad, self, other, result):
    # torch: zero where the base is 0 and the exponent non-negative (0 * log 0)
    if isinstance(self, Tensor):
        return grad * where((self == 0) & (other >= 0), 0.0, result * self.log())
    if self == 0:
        return grad * where(other >= 0, 0.0, result * -math.inf)
    return grad * (result * _log_scalar(self))


# a number exponent of +-0.5 is torch's sqrt / rsqrt: the scalar overload has a kernel of its own
_Pow = _binary("pow", (_pow_self_grad, _pow_exponent_grad), node="PowBackward1", scalar_node="PowBackward0",
               scalar_kernel="pow_scalar")
_ScalarPow = _renamed(_Pow, "PowBackward2")
#: torch's float16 CPU kernel has no sqrt shortcut: pow(-0., 0.5) is 0., pow(-inf, 0.5) inf (C's pow)
_HalfPowNumber = _renamed(_Pow, "PowBackward0", "pow")
_IntPow = _binary("pow", (None, None), kernel="int_pow")


def _pow_class(input, exponent):
    result = dt.result_type(input, exponent)
    if result is dt.bool:
        raise not_implemented_for("pow", result)
    if not result.is_floating_point:
        # a negative Python exponent is an error; negative tensor exponents give 0, 1 or -1
        if not isinstance(exponent, Tensor):
            if exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            check_fill_value(exponent, result)  # the exponent is converted to the base's dtype
        return _IntPow
    if not isinstance(input, Tensor):
        return _ScalarPow
    if input.dtype is dt.float16 and not isinstance(exponent, Tensor):
        return _HalfPowNumber
    return _variant(_Pow, exponent)


def _bool_power(base, exponent):
    """A bool tensor to a Python bool power stays bool: x ** True is x, x ** False all True."""
    return isinstance(base, Tensor) and base.dtype is dt.bool and isinstance(exponent, bool)


@export
def pow(input, exponent, *, out=None):
    if _amp.on:
        return autocast_call("pow", pow, input, exponent, out=out)
    if _bool_power(input, exponent):
        result = input.clone() if exponent else ones_like(input)
        return result if out is None else out.copy_(result)
    if out is None and exponent.__class__ in (int, float) and exponent == 2 and \
            isinstance(input, Tensor) and input.dtype.is_floating_point:
        return square(input)
    return _pow_class(input, exponent).apply(input, exponent, out=out)


@method
def pow_(self, exponent):
    if _bool_power(self, exponent):
        return self if exponent else self.fill_(True)
    return _pow_class(self, exponent).apply(self, exponent, inplace=True)


def _as_float64(x):
    return x.to(dt.float64) if isinstance(x, Tensor) else builtins.float(x)


@export
def float_power(input, exponent, *, out=None):
    """pow computed (and returned) in float64."""
    return pow(_as_float64(input), _as_float64(exponent), out=out)


@method
def float_power_(self, exponent):
    """In place on a float64 tensor only: the result's dtype is float64 whatever the base's."""
    if self.dtype is not dt.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_torch_name(self.dtype)} "
                           "but the operation's result requires dtype Double")
    return self.pow_(_as_float64(exponent))


_Hypot = _binary("hypot", (lambda grad, self, result: grad * self / result,
                           lambda grad, other, result: grad * other / result))


def _checked_binary(name, cls, check, doc, *, inplace_function=False):
    """Export ``name`` and the method ``name_`` (also ``torch.name_`` if ``inplace_function``):
    ``cls`` applied after ``check(input, other)`` refuses what torch refuses."""
    def op(input, other, *, out=None):
        check(input, other)
        return cls.apply(input, other, out=out)

    def op_(self, other):
        check(self, other)
        return cls.apply(self, other, inplace=True)
    op.__name__ = op.__qualname__ = name
    op_.__name__ = op_.__qualname__ = name + "_"
    op.__doc__ = doc
    export(op_, function=inplace_function)
    return export(op)


def _check_hypot(input, other):
    result = dt.result_type(input, other)
    if not result.is_floating_point:
        raise not_implemented_for("hypot_cpu", result)


hypot = _checked_binary("hypot", _Hypot, _check_hypot, "sqrt(input**2 + other**2), for floating tensors.")


# logaddexp's gradients, torch's grad / (1 + exp(other - self)) and its mirror image: one kernel
# pass each (torch runs three), the composite when backward records a graph (double backward)
_LogaddexpGrad = declare("logaddexp_backward")
_Logaddexp2Grad = declare("logaddexp2_backward")


def _logaddexp_derivative(grad, a, b):
    if grad_mode.enabled:
        return grad / (1 + (b - a).exp())
    return _LogaddexpGrad.apply(grad, a, b)


def _logaddexp2_derivative(grad, a, b):
    if grad_mode.enabled:
        return grad / (1 + (b - a).exp2())
    return _Logaddexp2Grad.apply(grad, a, b)


_Logaddexp = _binary("logaddexp", (lambda grad, self, other: _logaddexp_derivative(grad, self, other),
                                   lambda grad, self, other: _logaddexp_derivative(grad, other, self)),
                     rule=Rule.FLOAT)
_Logaddexp2 = _binary("logaddexp2", (lambda grad, self, other: _logaddexp2_derivative(grad, self, other),
                                     lambda grad, self, other: _logaddexp2_derivative(grad, other, self)),
                      rule=Rule.FLOAT)


# x 2^other: d/dx is ldexp(grad, other) itself, exact
_Ldexp = _binary("ldexp", (lambda grad, other: ldexp(grad, other),
                           lambda grad, result: grad * result * math.log(2.0)), rule=Rule.FLOAT)


def _check_ldexp(input, other):
    _require_tensors("ldexp", input, other)
    if other.dtype is dt.bool and input.is_floating_point():  # torch: only a float input meets the
        raise not_implemented_for("ldexp_cpu_exp", other.dtype)  # bool exponent's missing kernel


ldexp = _checked_binary("ldexp", _Ldexp, _check_ldexp,
                        "input * 2^other (an integral result is the default float dtype).",
                        inplace_function=True)


def _xlogy_self_grad(grad, self, other):
    """torch's ``xlogy(grad, other)``, zero where self == 0 and other <= 0 (its -inf and nan)."""
    g = xlogy(grad, other)
    if isinstance(other, Tensor):
        return g.masked_fill((self == 0) & (other <= 0), 0.0)
    return g if other > 0 else g.masked_fill(self == 0, 0.0)  # a number: a nan other counts as <= 0


# torch's three overloads: Tensor (XlogyBackward0), Scalar self (1), Scalar other (2)
_Xlogy = _binary("xlogy", (_xlogy_self_grad, lambda grad, self, other: grad * self / other), rule=Rule.FLOAT,
                 scalar_node="XlogyBackward2")
_XlogyScalarSelf = _renamed(_Xlogy, "XlogyBackward1")


def _xlogy_class(input, other):
    if isinstance(input, Tensor):
        return _variant(_Xlogy, other)
    if not isinstance(other, Tensor):
        raise TypeError(f"xlogy() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected a Tensor for "
                        f"input or other")
    return _XlogyScalarSelf


@export
def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0 (unless other is nan)."""
    return _xlogy_class(input, other).apply(input, other, out=out)


@export  # torch.xlogy_ and Tensor.xlogy_
def xlogy_(self, other):
    return _xlogy_class(self, other).apply(self, other, inplace=True)


def _copysign_self_grad(grad, self, result):
    """torch's: grad * result / self, 0 where self is 0 (nan where self is nan or infinite)."""
    return grad * where(self == 0, 0.0, result / self)


_Copysign = _binary("copysign", (_copysign_self_grad, lambda grad, other: zeros_like(other)), rule=Rule.FLOAT,
                    scalar_node="CopysignBackward1")


def _copysign_class(input, other):
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return _variant(_Copysign, other)


@export
def copysign(input, other, *, out=None):
    """input's magnitude with other's sign bit (-0.0 and a negative nan count as negative)."""
    return _copysign_class(input, other).apply(input, other, out=out)


@method
def copysign_(self, other):
    return _copysign_class(self, other).apply(self, other, inplace=True)


def _atan2_scale(self, other):
    """1 / (self^2 + other^2), 0 where both are 0 (torch's: atan2's gradient there is 0, not nan)."""
    r = (self * self + other * other).reciprocal()
    return where(r.isinf(), 0.0, r)


_Atan2 = _binary("atan2", (lambda grad, self, other: grad * other * _atan2_scale(self, other),
                           lambda grad, self, other: -grad * self * _atan2_scale(self, other)),
                 rule=Rule.FLOAT)


def _tie_split(grad, self, other, lose):
    """torch's maximum/minimum gradient: ties share it, the losing side gets zero."""
    return where(lose, 0.0, where(self == other, grad / 2, grad))


_Maximum = _binary("maximum", (lambda grad, self, other: _tie_split(grad, self, other, self < other),
                               lambda grad, self, other: _tie_split(grad, self, other, self > other)))
_Minimum = _binary("minimum", (lambda grad, self, other: _tie_split(grad, self, other, self > other),
                               lambda grad, self, other: _tie_split(grad, self, other, self < other)))
# fmax/fmin: the gradient follows the element that was picked (NaN loses)
_Fmax = _binary("fmax", (lambda grad, self, other: where((self >= other) | other.isnan(), grad, 0.0),
                         lambda grad, self, other: where((self >= other) | other.isnan(), 0.0, grad)))
_Fmin = _binary("fmin", (lambda grad, self, other: where((self <= other) | other.isnan(), grad, 0.0),
                         lambda grad, self, other: where((self <= other) | other.isnan(), 0.0, grad)))


@export
def atan2(input, other, *, out=None):
    if _amp.on:
        return autocast_call("atan2", atan2, input, other, out=out)
    _require_tensors("atan2", input, other)
    return _Atan2.apply(input, other, out=out)


export(atan2, name="arctan2")


@method
def atan2_(self, other):
    _require_tensors("atan2", self, other)
    return _Atan2.apply(self, other, inplace=True)


def _require_tensors(name, input, other):
    """torch's TypeError for a number given to an op with no Scalar overload."""
    for position, (arg, x) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                            f"{type(x).__name__}")


def _tensor_binary(name, cls, check=None):
    """A binary op of two tensors (torch has no Scalar overload); ``check(result_dtype)``
    rejects dtypes."""
    def op(input, other, *, out=None):
        _require_tensors(name, input, other)
        if check:
            check(dt.result_type(input, other))
        return cls.apply(input, other, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of two tensors (torch.{name})."
    return export(op)


maximum = _tensor_binary("maximum", _Maximum)
minimum = _tensor_binary("minimum", _Minimum)
fmax = _tensor_binary("fmax", _Fmax)
fmin = _tensor_binary("fmin", _Fmin)
logaddexp = _tensor_binary("logaddexp", _Logaddexp, _kernel_for("logaddexp_cpu", _floating))
logaddexp2 = _tensor_binary("logaddexp2", _Logaddexp2, _kernel_for("logaddexp2_cpu", _floating))


def _zero_grad(grad):
    return zeros_like(grad)


# comparisons, logical and bitwise ops: no gradient, except that a comparison written in place
# into a float tensor passes zeros back, as torch's (its out-of-place bool result needs none)
def _no_grad_binary(name, rule, *, kernel=None, aliases=(), check=None, comparison=False):
    cls = _binary(name, (_zero_grad, _zero_grad) if comparison else (None, None), rule=rule, kernel=kernel)

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


eq = _no_grad_binary("eq", Rule.BOOL, comparison=True)
ne = _no_grad_binary("ne", Rule.BOOL, aliases=("not_equal",), comparison=True)
lt = _no_grad_binary("lt", Rule.BOOL, aliases=("less",), comparison=True)
le = _no_grad_binary("le", Rule.BOOL, aliases=("less_equal",), comparison=True)
gt = _no_grad_binary("gt", Rule.BOOL, aliases=("greater",), comparison=True)
ge = _no_grad_binary("ge", Rule.BOOL, aliases=("greater_equal",), comparison=True)
logical_and = _no_grad_binary("logical_and", Rule.LOGICAL)
logical_or = _no_grad_binary("logical_or", Rule.LOGICAL)
logical_xor = _no_grad_binary("logical_xor", Rule.LOGICAL)


def _check_result(kernel, accepts=_integral):
    """Reject operands whose promoted dtype has no ``kernel`` (bitwise ops on floats)."""
    def check(input, other):
        d = dt.result_type(input, other)
        if not accepts(d):
            raise not_implemented_for(kernel, d)
    return check


def _shiftable(dtype):
    return dtype.category == dt._INT


bitwise_and = _no_grad_binary("bitwise_and", Rule.PROMOTE, check=_check_result("bitwise_and_cpu"))
bitwise_or = _no_grad_binary("bitwise_or", Rule.PROMOTE, check=_check_result("bitwise_or_cpu"))
bitwise_xor = _no_grad_binary("bitwise_xor", Rule.PROMOTE, check=_check_result("bitwise_xor_cpu"))
bitwise_left_shift = _no_grad_binary("bitwise_left_shift", Rule.PROMOTE, kernel="left_shift",
                                     check=_check_result("lshift_cpu", _shiftable))
bitwise_right_shift = _no_grad_binary("bitwise_right_shift", Rule.PROMOTE, kernel="right_shift",
                                      check=_check_result("rshift_cpu", _shiftable))


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
def _pass_where(mask, grad):
    return where(mask, grad, 0.0)


# clamp with tensor bounds (torch's ClampBackward0; clamp_min/clamp_max(Tensor): ...Backward1)
_ClampT = declare("clamp", node="ClampBackward0", derivatives=(
    lambda grad, self, other, third: _pass_where((self >= other) & (self <= third), grad),
    lambda grad, self, other, third: _pass_where((self < other) & (other < third), grad),
    lambda grad, self, other, third: _pass_where((self > third) | (third < other), grad)))
_ClampTLo = declare("clamp", kernel="clamp_min", node="ClampBackward0", derivatives=(
    lambda grad, self, other: _pass_where(self >= other, grad),
    lambda grad, self, other: _pass_where(self < other, grad)))
_ClampTHi = declare("clamp", kernel="clamp_max", node="ClampBackward0", derivatives=(
    lambda grad, self, other: _pass_where(self <= other, grad),
    lambda grad, self, other: _pass_where(self > other, grad)))
# clamp with Python-number bounds (ClampBackward1; clamp_min/clamp_max(Scalar): ...Backward0)
_ClampS = declare("clamp", params=("lo", "hi"), node="ClampBackward1", derivatives=(
    lambda grad, self, lo, hi: _pass_where((self >= lo) & (self <= hi), grad),))
_ClampSLo = declare("clamp", kernel="clamp_min", params=("lo",), node="ClampBackward1",
                    derivatives=(lambda grad, self, lo: _pass_where(self >= lo, grad),))
_ClampSHi = declare("clamp", kernel="clamp_max", params=("hi",), node="ClampBackward1",
                    derivatives=(lambda grad, self, hi: _pass_where(self <= hi, grad),))
# nn.functional.hardtanh: clamp to numbers whose gradient is zero at the bounds too
HARDTANH = declare("clamp", params=("lo", "hi"), node="HardtanhBackward0", derivatives=(
    lambda grad, self, lo, hi: _pass_where((self > lo) & (self < hi), grad),))
_CLAMP_MIN = {True: _renamed(_ClampTLo, "ClampMinBackward1"), False: _renamed(_ClampSLo, "ClampMinBackward0")}
_CLAMP_MAX = {True: _renamed(_ClampTHi, "ClampMaxBackward1"), False: _renamed(_ClampSHi, "ClampMaxBackward0")}


def _clamp_dispatch(input, min, max, out, inplace):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensor_min, tensor_max = isinstance(min, Tensor), isinstance(max, Tensor)
    if (tensor_min and max is not None and not tensor_max) or (tensor_max and min is not None and not tensor_min):
        raise TypeError("clamp(): min and max must both be tensors or both be numbers")
    if tensor_min or tensor_max:
        if max is None:
            return _ClampTLo.apply(input, min, out=out, inplace=inplace)
        if min is None:
            return _ClampTHi.apply(input, max, out=out, inplace=inplace)
        return _ClampT.apply(input, min, max, out=out, inplace=inplace)
    _check_scalar_bounds(input, min, max)
    if max is None:
        return _ClampSLo.apply(input, out=out, inplace=inplace, lo=min)
    if min is None:
        return _ClampSHi.apply(input, out=out, inplace=inplace, hi=max)
    return _ClampS.apply(input, out=out, inplace=inplace, lo=min, hi=max)


def _check_scalar_bounds(input, *bounds):
    """torch converts number bounds to an integer result's dtype, refusing what does not fit
    (``int8.clamp(-1000, 1000)``; negatives wrap into unsigned types, as in fill_)."""
    given = [b for b in bounds if b is not None]
    result = dt.result_type(input, *given)
    if not result.is_floating_point:
        for b in given:
            check_fill_value(b, result)


def _clamp_bound(table, input, bound, inplace):
    cls = table[isinstance(bound, Tensor)]
    if cls.params:
        _check_scalar_bounds(input, bound)
        return cls.apply(input, inplace=inplace, **{cls.params[0]: bound})
    return cls.apply(input, bound, inplace=inplace)


@export(aliases=("clip",))
def clamp(input, min=None, max=None, *, out=None):
    return _clamp_dispatch(input, min, max, out, False)


@method(aliases=("clip_",))
def clamp_(self, min=None, max=None):
    return _clamp_dispatch(self, min, max, None, True)


@export
def clamp_min(input, min):
    return _clamp_bound(_CLAMP_MIN, input, min, False)


@export
def clamp_max(input, max):
    return _clamp_bound(_CLAMP_MAX, input, max, False)


@method
def clamp_min_(self, min):
    return _clamp_bound(_CLAMP_MIN, self, min, True)


@method
def clamp_max_(self, max):
    return _clamp_bound(_CLAMP_MAX, self, max, True)


_Lerp = declare("lerp", node="LerpBackward1", derivatives=(
    lambda grad, third: grad * (1 - third), lambda grad, third: grad * third,
    lambda grad, self, other: grad * (other - self)))
_LerpScalar = declare("lerp", node="LerpBackward0", params=("weight",), derivatives=(
    lambda grad, weight: grad * (1 - weight), lambda grad, weight: grad * weight))


def _lerp(input, end, weight, out, inplace):
    tensor_weight = isinstance(weight, Tensor)
    if not input.dtype.is_floating_point:
        raise not_implemented_for("lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar", input.dtype)
    if tensor_weight and weight.dim() == 0 and weight.dtype.is_floating_point:
        weight = weight.to(input.dtype)  # torch reads a 0-d weight as a number of input's dtype
    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and other.dtype is not input.dtype:
            raise RuntimeError(f"expected dtype {_lower_name(input.dtype)} for `{name}` but got dtype "
                               f"{_lower_name(other.dtype)}")
    if tensor_weight:
        return _Lerp.apply(input, end, weight, out=out, inplace=inplace)
    return _LerpScalar.apply(input, end, out=out, inplace=inplace, weight=weight)


def _lower_name(d):
    return str(d).replace("torch.", "").replace("float32", "float").replace("float64", "double")


@export
def lerp(input, end, weight, *, out=None):
    return _lerp(input, end, weight, out, False)


@method
def lerp_(self, end, weight):
    return _lerp(self, end, weight, None, True)


class _Where(Function):
    """where(cond, a, b): the dtype comes from a and b only, never from the condition."""

    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b, result, out=None):
        tensors = [x for x in (cond, a, b) if isinstance(x, Tensor)]
        shape = broadcast_shapes(*(t._shape for t in tensors))
        if out is None:
            out = _new_output(shape, result, common_device(*tensors), (cond, a, b))
        else:
            resize_out(out, shape)
            check_inplace_overlap(out, tensors)
        backend(out).elementwise("where", out, (cond, _as_result(a, result), _as_result(b, result)),
                                 result.compute_np)
        ctx.save_for_backward(cond)
        return out

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        return (None, where(cond, grad, 0.0) if ctx.needs_input_grad[1] else None,
                where(cond, 0.0, grad) if ctx.needs_input_grad[2] else None, None)


@export(method=False)
def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` else ``other``; with one argument, ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if condition.dtype is dt.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be "
                      "removed in a future version of PyTorch. Use a boolean condition instead.",
                      stacklevel=2)
        condition = condition.to(dt.bool)
    elif condition.dtype is not dt.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {_torch_name(condition.dtype)}")
    result = dt.result_type(input, other)
    for value in (input, other):
        if not isinstance(value, Tensor):  # a number must fit the result (16-bit floats: float32)
            check_fill_value(value, dt.float32 if result in dt.NARROW_FLOATS else result)
    return _Where.apply(condition, input, other, result, out=out)


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
    if _amp.on:
        return autocast_call("addcmul", addcmul, input, tensor1, tensor2, value=value, out=out)
    value = _addcmul_value(input, tensor1, tensor2, value)
    return _Addcmul.apply(input, tensor1, tensor2, out=out, value=value)


@method
def addcmul_(self, tensor1, tensor2, *, value=1):
    value = _addcmul_value(self, tensor1, tensor2, value)
    return _Addcmul.apply(self, tensor1, tensor2, inplace=True, value=value)


def _addcmul_value(input, tensor1, tensor2, value):
    """torch converts ``value`` to the operands' dtype: truncated for integers (no float result)."""
    result = dt.result_type(input, tensor1, tensor2)
    if result is dt.bool:
        raise not_implemented_for(f"addcmul_{input.device.type}_out", result)
    return math.trunc(value) if isinstance(value, float) and not result.is_floating_point else value


@export
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if _amp.on:
        return autocast_call("addcdiv", addcdiv, input, tensor1, tensor2, value=value, out=out)
    _check_addcdiv(tensor1, tensor2)
    return _Addcdiv.apply(input, tensor1, tensor2, out=out, value=value)


def _check_addcdiv(tensor1, tensor2):
    if not dt.result_type(tensor1, tensor2).is_floating_point:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                           "addcdiv will perform a true division of tensor1 and tensor2.")


@method
def addcdiv_(self, tensor1, tensor2, *, value=1):
    _check_addcdiv(tensor1, tensor2)
    return _Addcdiv.apply(self, tensor1, tensor2, inplace=True, value=value)


@method(name="where")
def _where_method(self, condition, y):
    """``self.where(condition, y)`` is ``where(condition, self, y)``, as in torch."""
    return where(condition, self, y)
