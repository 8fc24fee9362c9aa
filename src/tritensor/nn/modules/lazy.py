"""Lazy modules: layers whose input size (``in_features`` / ``in_channels`` /
``num_features``) is read from the first input (``torch.nn.modules.lazy``).

A lazy module holds ``UninitializedParameter`` / ``UninitializedBuffer`` placeholders (they
print as ``<UninitializedParameter>``, refuse their shape and computation, and follow
``.to()`` / ``.double()`` so the dtype and device are kept for later). A forward pre-hook calls
``initialize_parameters(input)`` on the first call: it sizes the placeholders
(``materialize`` turns each into a plain Parameter / Tensor in place, so optimizers and
references keep working), runs the layer's own ``reset_parameters``, and the module becomes
its non-lazy class (``cls_to_become``, e.g. LazyLinear -> Linear). ``load_state_dict`` into a
lazy module sizes the placeholders from the loaded tensors.
"""
from __future__ import annotations

from ... import autograd, dtypes as _dt, ops
from ...tensor import Tensor
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d,
                            InstanceNorm3d)

#: what an uninitialised tensor may still do: read its dtype and device, convert them (the
#: result is again uninitialised), take part in hashing and identity
_ALLOWED = {"to", "cuda", "cpu", "double", "float", "half", "bfloat16", "type", "is_floating_point",
            "is_complex", "get_device", "requires_grad_", "materialize", "__hash__", "__repr__",
            "__deepcopy__", "__reduce_ex__", "__init__", "__new__", "__getattribute__", "__setattr__",
            "__delattr__", "__getattr__", "__class__", "__init_subclass__", "__subclasshook__", "__dir__",
            "__sizeof__", "__format__", "__reduce__", "__str__", "__bool__", "__eq__", "__ne__",
            "_make", "_from", "data", "dtype", "device", "is_cuda", "is_leaf", "grad", "requires_grad",
            "shape", "size", "dim", "ndim", "numel"}
_CONVERSIONS = ("to", "cuda", "cpu", "double", "float", "half", "bfloat16", "type")


def _refuse(name):
    def method(self, *args, **kwargs):
        raise ValueError(f"Attempted to use an uninitialized parameter in {name}. This error happens when "
                         "you are using a `LazyModule` or explicitly manipulating "
                         "`torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
                         "`forward` with a dummy batch to initialize the parameters before calling torch "
                         "functions")
    method.__name__ = name
    return method


def _converting(name):
    """A dtype / device conversion of the (empty) placeholder, again a placeholder."""
    def method(self, *args, **kwargs):
        converted = getattr(Tensor, name)(Tensor.detach(self), *args, **kwargs)
        return type(self)._from(converted, self.requires_grad)
    method.__name__ = name
    return method


def _shapeless(self, *args):
    raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                       "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                       "initialized one. Call `forward` to initialize the parameters before accessing their "
                       "attributes.")


class UninitializedTensorMixin:
    """A placeholder of a dtype and device but no shape yet; ``materialize(shape)`` gives it
    one (uninitialised values) and turns it into ``cls_to_become`` in place."""

    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        data = ops.empty(shape, device=device or self.device, dtype=dtype or self.dtype)
        with autograd.no_grad():
            self.data = data
        self.__class__ = self.cls_to_become

    shape = property(_shapeless)
    size = dim = numel = _shapeless
    ndim = property(_shapeless)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __hash__(self):
        return id(self)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)._from(Tensor.clone(Tensor.detach(self)), self.requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized, (type(self), self.requires_grad, str(self.device), str(self.dtype)))


def _install_guards(cls):
    """Every other Tensor method of ``cls`` raises torch's ValueError; conversions keep it lazy.
    Run on the first placeholder made: the Tensor methods are attached after this module loads."""
    if cls.__dict__.get("_guarded"):
        return
    cls._guarded = True
    for name in dir(Tensor):
        if name in _ALLOWED or name in cls.__dict__:
            continue
        attr = getattr(Tensor, name, None)
        if callable(attr) and not isinstance(attr, type):
            setattr(cls, name, _refuse(name))
    for name in _CONVERSIONS:
        setattr(cls, name, _converting(name))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape a lazy module infers on its first forward."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return cls._from(ops.empty(0, device=device, dtype=dtype), requires_grad)

    @classmethod
    def _from(cls, data, requires_grad):
        _install_guards(cls)
        return Parameter.__new__(cls, data, requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape a lazy module infers on its first forward."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        return cls._from(ops.empty(0, device=device, dtype=dtype), requires_grad, persistent)

    @classmethod
    def _from(cls, data, requires_grad, persistent=True):
        _install_guards(cls)
        b = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype)
        b.requires_grad_(requires_grad)
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def _rebuild_uninitialized(cls, requires_grad, device, dtype):
    return cls(requires_grad, device, _dt.BY_NAME[dtype.replace("torch.", "")])


def is_lazy(t):
    return isinstance(t, UninitializedTensorMixin)


# ---------------------------------------------------------------------------- the mixin
class LazyModuleMixin:
    """Infers the placeholders' shapes from the first input, then becomes ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        """Whether some parameter or buffer of this module (not its children) is a placeholder."""
        return any(is_lazy(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Placeholders are saved as they are (torch's state_dict holds them too)."""
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            if t is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else t.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        """Placeholders take the shapes of the tensors loaded into them first."""
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            value = state_dict.get(prefix + name)
            if is_lazy(t) and isinstance(value, Tensor) and not is_lazy(value):
                t.materialize(tuple(value._shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs, assign)


def _infer_parameters(module, args, kwargs):
    """The forward pre-hook: size the placeholders from this call's input, then become the
    non-lazy class and drop the hook."""
    module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


def _materialize_all(module, shapes):
    """Size the named placeholders of ``module`` (name -> shape) that are still lazy."""
    with autograd.no_grad():
        for name, shape in shapes.items():
            t = getattr(module, name)
            if is_lazy(t):
                t.materialize(shape)


def _placeholders(module, parameters=(), buffers=(), device=None, dtype=None):
    """Replace the named parameters / buffers (those not None) by placeholders."""
    for name in parameters:
        if getattr(module, name) is not None:
            setattr(module, name, UninitializedParameter(device=device, dtype=dtype))
    for name in buffers:
        module.register_buffer(name, UninitializedBuffer(device=device, dtype=dtype))


def _lazy_class(mixin, base, init, inferred):
    """``Lazy<base>``: ``base`` with ``mixin`` and the constructor ``init``; it becomes ``base``."""
    name = "Lazy" + base.__name__
    doc = f"``{base.__name__}`` whose ``{inferred}`` comes from the first input."
    return type(name, (mixin, base), {"__init__": init, "cls_to_become": base, "__module__": __name__,
                                      "__qualname__": name, "__doc__": doc})


# ---------------------------------------------------------------------------- Linear
class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the first input's last dim."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, bias)
        self.out_features = out_features
        _placeholders(self, ("weight", "bias"), device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        self.in_features = input.shape[-1]  # also after a load_state_dict sized the weights, as torch
        if self.has_uninitialized_params():
            _materialize_all(self, {"weight": (self.out_features, self.in_features),
                                    "bias": (self.out_features,)})
            self.reset_parameters()


# ---------------------------------------------------------------------------- convolutions
class _LazyConvMixin(LazyModuleMixin):
    """A convolution whose ``in_channels`` is the first input's channel dim."""

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _in_channels(self, input):
        n = self._n
        if input.dim() not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {list(input.shape)}")
        return input.shape[1] if input.dim() == n + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._in_channels(input)
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        channels = (self.in_channels, self.out_channels // self.groups) if self._transposed else \
            (self.out_channels, self.in_channels // self.groups)
        _materialize_all(self, {"weight": channels + tuple(self.kernel_size), "bias": (self.out_channels,)})
        self.reset_parameters()


def _lazy_conv(base):
    """The lazy form of convolution class ``base``: its arguments without ``in_channels``."""
    def __init__(self, out_channels, kernel_size, *args, device=None, dtype=None, **kwargs):
        LazyModuleMixin.__init__(self, 0, 0, kernel_size, *args, **kwargs)
        self.out_channels = out_channels
        _placeholders(self, ("weight", "bias"), device=device, dtype=dtype)
    return _lazy_class(_LazyConvMixin, base, __init__, "in_channels")


LazyConv1d, LazyConv2d, LazyConv3d = map(_lazy_conv, (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = map(
    _lazy_conv, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


# ---------------------------------------------------------------------------- norms
class _LazyNormMixin(LazyModuleMixin):
    """A batch / instance norm whose ``num_features`` is the first input's dim 1."""

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            size = (self.num_features,)
            _materialize_all(self, {name: size for name in ("weight", "bias", "running_mean", "running_var")
                                    if getattr(self, name) is not None})
            self.reset_parameters()


def _lazy_norm(base):
    """The lazy form of norm class ``base`` (torch's defaults: affine and running statistics on,
    for the instance norms too)."""
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 *, bias=True):
        LazyModuleMixin.__init__(self, 0, eps, momentum, False, False, bias=bias)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            _placeholders(self, buffers=("running_mean", "running_var"), device=device, dtype=dtype)
            self.num_batches_tracked = ops.tensor(0, dtype=_dt.int64, device=device)
    return _lazy_class(_LazyNormMixin, base, __init__, "num_features")


LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = map(_lazy_norm, (BatchNorm1d, BatchNorm2d, BatchNorm3d))
LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d = map(
    _lazy_norm, (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d))
