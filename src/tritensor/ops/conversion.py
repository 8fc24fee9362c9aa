"""Copies, casts and device moves: clone, contiguous, copy_, fill_, to, float() ..."""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..device import as_device, device as device_type
from ..tensor import Tensor, _contiguous_strides
from ._common import backend
from ._overlap import check_inplace_overlap
from ._registry import export, method
from .creation import check_fill_value, empty_preserving, from_host_array, new_empty
from .elementwise import check_inplace


class _Clone(Function):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, contiguous=False):
        out = new_empty(x._shape, x.dtype, x.device) if contiguous else empty_preserving(x)
        backend(out).copy_(out, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, None


#: ``tritensor.contiguous_format`` (memory formats are torch's names, as strings)
CONTIGUOUS_FORMAT = "torch.contiguous_format"


@export
def clone(input, *, memory_format=None):
    """A copy with the same strides when ``input`` is dense (torch's preserve_format)."""
    return _Clone.apply(input, memory_format == CONTIGUOUS_FORMAT)


@method
def contiguous(self, memory_format=None):
    return self if self.is_contiguous() else _Clone.apply(self, True)


class _ToCopy(Function):
    """dtype and/or device change; backward converts the gradient back."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype, device, non_blocking=False):
        ctx.src = (x.dtype, x.device)
        if device == x.device:
            out = empty_preserving(x, dtype)
            backend(out).copy_(out, x)
            return out
        if x.device.type == "cpu":  # an upload: the device backend copies (and casts) host tensors
            out = new_empty(x._shape, dtype, device)
            if out.numel():
                backend(out).copy_(out, x, non_blocking=non_blocking)
            return out
        host = backend(x).to_host(x.contiguous() if device.type == "cpu" else x)
        return from_host_array(host, dtype, device)

    @staticmethod
    def backward(ctx, grad):
        dtype, device = ctx.src
        return grad.to(dtype=dtype, device=device), None, None, None


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, device_type, int)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    return dtype, device


@method
def to(self, *args, non_blocking=False, copy=False, memory_format=None, **kwargs):
    dtype, device = _parse_to(args, kwargs)
    dtype = dtype or self.dtype
    device = as_device(device) if device is not None else self.device
    if dtype is self.dtype and device == self.device and not copy:
        return self
    if dtype is self.dtype and device == self.device:
        return clone(self)
    return _ToCopy.apply(self, dtype, device, bool(non_blocking))


def _cast_method(name, target):
    def cast(self, memory_format=None):
        return to(self, target)
    cast.__name__ = name
    method(cast)


for _name, _target in (("float", dt.float32), ("double", dt.float64), ("half", dt.float16),
                       ("bfloat16", dt.bfloat16), ("long", dt.int64), ("int", dt.int32),
                       ("short", dt.int16), ("char", dt.int8), ("byte", dt.uint8), ("bool", dt.bool)):
    _cast_method(_name, _target)


@method
def type_as(self, other):
    return to(self, other.dtype)


class _Copy(Function):
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, self, src, non_blocking=False):
        ctx.src_meta = (src.dtype, src.device, src._shape)
        self._check_writable()
        if src.device != self.device:
            src = src.to(self.device, non_blocking=non_blocking)
        backend(self).copy_(self, src)
        self._bump_version()
        ctx.mark_dirty(self)
        return self

    @staticmethod
    def backward(ctx, grad):
        dtype, device, shape = ctx.src_meta
        return grad * 0, grad.to(dtype=dtype, device=device).sum_to_size(shape), None


@method
def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast to self's shape, cast to self's dtype) into self."""
    from ._common import broadcast_shapes
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
    if broadcast_shapes(self._shape, src._shape) != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_shapes(self._shape, src._shape))}")
    check_inplace(self)
    check_inplace_overlap(self, (src,))
    return _Copy.apply(self, src, bool(non_blocking))


class _Fill(Function):
    """self[...] = value; a 0-d tensor ``value`` receives the sum of the gradient."""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, self, value):
        backend(self).fill_(self, value.item() if isinstance(value, Tensor) else value)
        self._bump_version()
        ctx.mark_dirty(self)
        return self

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, grad.sum() if ctx.needs_input_grad[1] else None


class _FillTensor(_Fill):
    node_name = "FillBackward3"


class _Zero(_Fill):
    node_name = "ZeroBackward0"


@method
def fill_(self, value):
    check_inplace(self)
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        return _FillTensor.apply(self, value)
    check_fill_value(value, self.dtype)
    return _Fill.apply(self, value)


@method
def zero_(self):
    check_inplace(self)
    return _Zero.apply(self, 0)


def as_ndarray(t):
    """The numpy view of a CPU tensor (shares memory)."""
    return backend(t).ndarray(t)


def to_host_array(t):
    """The values of any tensor as a host numpy array (bfloat16 widened to float32)."""
    return backend(t).to_host(t)


# ------------------------------------------------------------------ pinned memory
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


class _PinMemory(Function):
    """A copy into page-locked host memory; the gradient passes through unchanged."""

    node_name = "PinMemoryBackward0"

    @staticmethod
    def forward(ctx, x):
        from ..backends import cpu, cuda_memory
        storage = cuda_memory.pinned_storage(x.numel() * x.dtype.itemsize, x.dtype.storage_np, x.device)
        out = Tensor._make(storage, x._shape, _contiguous_strides(x._shape), 0, x.dtype)
        cpu.copy_(out, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad


def _check_pinnable(t, what):
    from ..backends import cuda_memory
    if not cuda_memory.usable():
        raise RuntimeError(_NO_ACCELERATOR)
    if t.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{t.type()}' only dense CPU tensors can be pinned ({what})")


@method
def pin_memory(self, device=None):
    """A copy in page-locked host memory (``self`` if already pinned), so host->GPU copies
    of it need no staging; needs an accelerator, like torch."""
    _check_pinnable(self, "pin_memory")
    return self if is_pinned(self) else _PinMemory.apply(self)


@method
def is_pinned(self, device=None):
    from ..backends.cuda_memory import PinnedStorage
    return isinstance(self._storage, PinnedStorage)


def pinned(t):
    """``t`` moved to pinned memory for a factory's ``pin_memory=True`` (torch's errors)."""
    from ..backends import cuda_memory
    if not cuda_memory.usable():
        raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no pinned memory "
                           "allocator is available on this system.")
    _check_pinnable(t, "pin_memory=True")
    return _PinMemory.apply(t)


@export
def positive(input):
    """``+input``: the input itself (refused for bool, as torch)."""
    if input.dtype is dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@export(method=False)
def is_complex(input):
    return input.is_complex()


# Every dtype here is real: conjugation is the identity and no tensor carries a lazy
# conjugate or negative bit, so these return the input itself, as torch does for real tensors.
@export(aliases=("conj_physical", "resolve_conj", "resolve_neg"))
def conj(input):
    return input


@export
def conj_physical_(self):
    return self


@export
def is_conj(input):
    return False


@export
def is_neg(input):
    return False


@export
def isreal(input):
    """True everywhere: no dtype here has an imaginary part."""
    from .creation import ones_like
    return ones_like(input, dtype=dt.bool)


@export
def is_nonzero(input):
    """bool(input) of a one-element tensor (RuntimeError for none or several, as torch)."""
    return bool(input)


@export
def is_same_size(input, other):
    return input.shape == other.shape


def _host_elementwise(name, self, fn, *others):
    """``apply_``/``map_``: a Python callable per element, on the host (CPU tensors only)."""
    import numpy as np
    if self.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() "
                           "instead.")
    for other in others:
        if other.dtype is not self.dtype:
            raise TypeError(f"{name}: expected {self.type()} for 'other' (got {other.type()})")
    arrays = [np.broadcast_to(o.numpy(), tuple(self.shape)) for o in others]
    values = self.numpy()
    result = np.array([fn(*(a.item() for a in items)) for items in zip(values.reshape(-1),
                                                                          *(a.reshape(-1) for a in arrays))])
    values[...] = result.reshape(values.shape) if result.size else values
    self._bump_version()
    return self


@method
def apply_(self, callable):
    return _host_elementwise("apply_", self, callable)


@method
def map_(self, tensor, callable):
    return _host_elementwise("map_", self, callable, tensor)
