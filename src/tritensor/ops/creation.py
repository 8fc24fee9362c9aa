"""Tensor creation: from data, filled, ranges, and ``*_like`` variants."""
from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..device import as_device
from ..size import Size
from ..tensor import Tensor, _contiguous_strides, _init_from, new_tensor
from ..type_info import finfo, iinfo
from ._autocast import run_excluded, state as _amp
from ._common import backend
from ._layout import dense_strides
from ._overlap import check_no_overlap, check_writable
from ._registry import export, method
from ..backends import backend_for


def _shape_arg(size, name="empty"):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)``; TypeError like torch."""
    if not size:
        raise TypeError(f"{name}() missing 1 required positional arguments: \"size\"")
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    if all(type(s) is int for s in size):  # plain ints (bool is not one): nothing to convert
        shape = tuple(size)
    else:
        shape = tuple(_dim_size(s, name) for s in size)
    if shape and min(shape) < 0:
        bad = next(s for s in shape if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(shape)}")
    return shape


def _dim_size(s, name):
    if isinstance(s, int) and not isinstance(s, bool):
        return s
    if hasattr(s, "__index__") and not isinstance(s, bool):
        return s.__index__()
    raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {type(s).__name__}")


def new_empty(shape, dtype, device):
    return backend_for(device).empty(shape, dtype) if device.type == "cpu" else \
        backend_for(device).empty(shape, dtype, device)


def empty_preserving(t, dtype=None, device=None):
    """An uninitialised tensor like ``t`` (torch's preserve_format): same strides when ``t``
    is dense, else packed in ``t``'s dim order (``ops/_layout.py``)."""
    out = new_empty(t._shape, dtype or t.dtype, device or t.device)
    strides = dense_strides(t)
    if strides is not None and strides != out._stride:
        out = Tensor._make(out._storage, t._shape, strides, 0, out.dtype)
    return out


@export(method=False)
def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False):
    shape, stride = tuple(size), tuple(stride)
    extent = 1 + sum((n - 1) * st for n, st in zip(shape, stride)) if all(shape) else 0
    base = new_empty((extent,), dtype or dt.get_default_dtype(), as_device(device))
    if pin_memory:  # the flat base is pinned; the strided view shares it
        base = _finish(base, False, pin_memory)
    return _finish(_uninitialized(Tensor._make(base._storage, shape, stride, 0, base.dtype)), requires_grad)


def with_out(fn=None, *, factory=False, castable=False, no_overlap=False):
    """Give ``fn`` torch's ``out=`` keyword: the result is written into ``out`` (rebound to the
    result's shape if it differs, as torch resizes it) and ``out`` is returned. ``out`` must
    have the result's dtype, or one it can be cast to (``castable``); a factory
    (``factory=True``) takes its dtype and device from ``out`` unless they are given.
    ``no_overlap``: ``out`` may share no memory with a tensor argument (or one in a list
    argument), as torch checks for cat, gather ... (ops/_overlap.py)."""
    def wrap(f):
        @functools.wraps(f)
        def call(*args, out=None, **kwargs):
            if out is None:
                return f(*args, **kwargs)
            if no_overlap and isinstance(out, Tensor):
                check_writable(out)
                check_no_overlap(out, _tensor_arguments(args))
            if factory:
                kwargs.setdefault("dtype", None)
                kwargs["dtype"] = kwargs["dtype"] or out.dtype
                kwargs["device"] = kwargs.get("device") or out.device
            result = run_excluded(f, *args, **kwargs) if _amp.on else f(*args, **kwargs)  # out=: no autocast
            return write_out(out, result, f.__name__, "any" if factory else
                             "castable" if castable else "same")
        return call
    return wrap(fn) if fn is not None else wrap


def _tensor_arguments(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def write_out(out, result, name, dtypes="same"):
    """Store ``result`` in ``out`` (see ``with_out``); ``dtypes``: "same", "castable" or "any"."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad and grad_mode.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out.dtype is not result.dtype:
        if dtypes == "same":
            raise RuntimeError(f"Expected out tensor to have dtype {result.dtype}, but got {out.dtype} "
                               "instead")
        if dtypes == "castable" and not dt.can_cast(result.dtype, out.dtype):
            raise TypeError(f"torch.{name}(): input types can't be cast to the desired output type "
                            f"{out.type().rsplit('.', 1)[-1].replace('Tensor', '')}")
    if out._shape == result._shape:
        with grad_mode.no_grad():
            out.copy_(result)
    else:
        if dtypes != "any":  # factories (arange ...) resize their out= silently in torch
            _warn_resized(out, result._shape)
        out.data = result if result.dtype is out.dtype else result.to(out.dtype)  # out keeps its dtype
    return out


def resize_out(out, shape):
    """torch's ``out=`` of another shape: it takes ``shape`` (with torch's deprecation warning
    when it had elements), contiguous from its offset in its own storage when that holds it
    (a view of a bigger tensor then writes into that tensor, as torch's resize_), else on new
    memory; the caller then writes the result into it."""
    if out._shape != shape:
        _warn_resized(out, shape)
        _resize(out, shape, keep=False)


def _resize(t, shape, keep):
    """Give ``t`` the contiguous ``shape`` from its offset in its own storage when that holds
    it, else new memory (with the storage's elements from the offset on when ``keep``)."""
    held = t._storage.nbytes() // t.dtype.itemsize - t._offset
    if math.prod(shape) <= held:
        _init_from(t, t._storage, shape, _contiguous_strides(shape), t._offset, t.dtype, keep_autograd=True)
        return
    grown = new_empty(shape, t.dtype, t.device)
    if keep and held > 0:
        old = new_tensor(t._storage, (held,), (1,), t._offset, t.dtype)
        new_tensor(grown._storage, (held,), (1,), 0, t.dtype).copy_(old)
    t.data = grown


@method
def resize_(self, *sizes, memory_format=None):
    """torch's resize_: the tensor takes ``sizes``, contiguous, keeping the elements its storage
    holds from its offset on (new ones uninitialised); not for tensors that require grad."""
    shape = _shape_arg(sizes, "resize_")
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if shape != self._shape:  # the same shape keeps its strides, as torch
        _resize(self, shape, keep=True)
        self._bump_version()
    return self


@method
def resize_as_(self, the_template, memory_format=None):
    return resize_(self, the_template.shape)


def _warn_resized(out, shape):
    if out.numel():
        warnings.warn(f"An output with one or more elements was resized since it had shape {list(out._shape)}, "
                      f"which does not match the required output shape {list(shape)}. This behavior is "
                      "deprecated, and in a future PyTorch release outputs will not be resized unless they "
                      "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, "
                      "to zero elements with t.resize_(0).", UserWarning, stacklevel=4)


def _finish(t, requires_grad, pin_memory=False):
    if pin_memory:
        from .conversion import pinned
        t = pinned(t)
    if requires_grad:
        t.requires_grad_(True)
    return t


@export(method=False)
@with_out(factory=True)
def empty(*size, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, memory_format=None):
    shape = _shape_arg(size, "empty")
    return _finish(_uninitialized(new_empty(shape, dtype or dt.get_default_dtype(), as_device(device))),
                   requires_grad, pin_memory)


def _uninitialized(t):
    """``t`` from a public ``empty`` factory: filled with NaN (the largest integer, True) while
    deterministic algorithms are on, as torch fills it (``utils/deterministic.py``)."""
    from ..utils import deterministic
    if deterministic.filling_uninitialized() and t.numel():
        value = math.nan if t.dtype.is_floating_point else True if t.dtype is dt.bool else \
            iinfo(t.dtype).max
        backend(t).fill_(t, value)
    return t


@export(method=False)
@with_out(factory=True)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None):
    """``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, default)."""
    if dtype is None:
        dtype = dt.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    value = _scalar_value(fill_value)
    check_fill_value(value, dtype)
    return _filled(_shape_arg((size,), "full"), value, dtype, device, requires_grad)


def _filled(shape, value, dtype, device, requires_grad):
    """A new tensor of ``shape`` holding ``value`` (already checked to fit ``dtype``)."""
    t = new_empty(shape, dtype, as_device(device))
    backend(t).fill_(t, value)
    return _finish(t, requires_grad)


def _scalar_value(v):
    return v.item() if isinstance(v, Tensor) else v


@export(method=False)
@with_out(factory=True)
def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None):
    return _filled(_shape_arg(size, "zeros"), 0, dtype or dt.get_default_dtype(), device, requires_grad)


@export(method=False)
@with_out(factory=True)
def ones(*size, dtype=None, device=None, requires_grad=False, layout=None):
    return _filled(_shape_arg(size, "ones"), 1, dtype or dt.get_default_dtype(), device, requires_grad)


@export(method=False)
def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    out = empty_preserving(input, dtype, as_device(device) if device is not None else None)
    return _finish(_uninitialized(out), requires_grad)


@export(method=False)
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    """Like ``input`` (shape, dtype, device, dense strides), filled with ``fill_value``."""
    out = empty_preserving(input, dtype, as_device(device) if device is not None else None)
    value = _scalar_value(fill_value)
    check_fill_value(value, out.dtype)
    backend(out).fill_(out, value)
    return _finish(out, requires_grad)


@export(method=False)
def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


@export(method=False)
def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def _new_factory(fn):
    def new(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad, **kwargs)
    return new


Tensor.new_empty = _new_factory(empty)
Tensor.new_zeros = _new_factory(zeros)
Tensor.new_ones = _new_factory(ones)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor


# ------------------------------------------------------------------ from data
def _to_numpy_data(data):
    """``data`` (nested sequences, numpy, tensors, scalars) as a host array and its natural dtype.

    The dtype follows torch's inference: Python floats take the default dtype, ints int64,
    bools bool, tensors and numpy values their own dtype, promoted over all elements.
    """
    if isinstance(data, Tensor):
        return _tensor_values(data), data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data), dt.from_numpy_dtype(data.dtype)
    if _is_sequence(data):
        shape = _nested_shape(data)
        dtype, has_tensors = _infer_sequence(data, shape, 0)
        if has_tensors:
            data = _tensors_to_scalars(data)
        try:
            arr = np.array(data, dtype=None if dtype is None or not dtype.is_floating_point else np.float64)
        except OverflowError:
            arr = None
        if arr is None or (dtype is dt.int64 and arr.dtype.kind != "i"):
            raise ValueError("Overflow when unpacking long long")
        return arr.reshape(shape), dtype or dt.get_default_dtype()
    return np.asarray(data), _scalar_dtype(data)


def _tensor_values(t):
    t = t.detach()
    return (t.float() if t.dtype is dt.bfloat16 else t).cpu().numpy()


def _is_sequence(x):
    """Whether torch reads ``x`` as a sequence of elements: lists, tuples, arrays of 1 or more
    dims, and any other object with a length and items (a deque, a range, ``array.array``);
    not strings, mappings, sets, generators or tensors (their own elements)."""
    if isinstance(x, (list, tuple)):
        return True
    if isinstance(x, np.ndarray):
        return x.ndim > 0
    kind = type(x)
    return (hasattr(kind, "__len__") and hasattr(kind, "__getitem__")
            and not isinstance(x, (str, bytes, dict, Tensor, np.generic)))


def _nested_shape(data):
    shape = []
    while _is_sequence(data):
        shape.append(len(data))
        if not len(data):
            break
        data = data[0]
    return tuple(shape)


def _scalar_dtype(x):
    """The dtype torch infers for one element; errors like torch for anything else."""
    if isinstance(x, (bool, np.bool_)):
        return dt.bool
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return x.dtype
    if isinstance(x, (np.generic, np.ndarray)):
        return dt.from_numpy_dtype(x.dtype)
    if isinstance(x, numbers.Integral):
        if not -2 ** 63 <= x < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        return dt.int64
    if isinstance(x, numbers.Real):
        return dt.get_default_dtype()
    if isinstance(x, numbers.Number):
        raise TypeError("tritensor does not support complex numbers")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _infer_sequence(seq, shape, dim):
    """(promoted dtype or None if empty, whether tensors occur) of a nested sequence.

    Checks the nesting is rectangular: ValueError for a wrong length, TypeError for a
    scalar where a sequence belongs (torch's errors).
    """
    inner = dim + 1 < len(shape)
    if not inner:
        fast = _python_scalars_dtype(seq)
        if fast is not None:
            return fast, False
    result, has_tensors = None, False
    for item in seq:
        if inner:
            if not _is_sequence(item):
                raise TypeError("not a sequence")
            if len(item) != shape[dim + 1]:
                raise ValueError(f"expected sequence of length {shape[dim + 1]} at dim {dim + 1} "
                                 f"(got {len(item)})")
            d, t = _infer_sequence(item, shape, dim + 1) if not isinstance(item, np.ndarray) else \
                (dt.from_numpy_dtype(item.dtype), False)
            has_tensors |= t
        else:
            if _is_sequence(item):
                raise TypeError(f"'{type(item).__name__}' object cannot be interpreted as a number")
            d = _scalar_dtype(item)
            has_tensors |= isinstance(item, Tensor)
        if d is not None:
            result = d if result is None else dt.promote_types(result, d)
    return result, has_tensors


def _python_scalars_dtype(seq):
    """The dtype of a flat list of plain Python numbers (the common case, done in bulk), else None."""
    types = set(map(type, seq))
    if not types or not types <= {float, int, bool}:
        return None
    return dt.get_default_dtype() if float in types else dt.int64 if int in types else dt.bool


def _tensors_to_scalars(data):
    if isinstance(data, Tensor):
        return data.item()
    if _is_sequence(data) and not isinstance(data, np.ndarray):
        return [_tensors_to_scalars(x) for x in data]
    return data


#: the C++ type torch's fill ops name when a value overflows the tensor's dtype
_CPP_NAMES = {dt.uint8: "uint8_t", dt.int8: "int8_t", dt.int16: "int16_t", dt.int32: "int",
              dt.int64: "int64_t", dt.float16: "c10::Half", dt.bfloat16: "c10::BFloat16", dt.float32: "float"}
_FLOAT_MAX = {d: finfo(d).max for d in (dt.float16, dt.bfloat16, dt.float32)}
#: each integer dtype's own range: a Python int inside it fits without numpy's check
_INT_RANGE = {d: (iinfo(d).min, iinfo(d).max) for d in (dt.uint8, dt.int8, dt.int16, dt.int32, dt.int64)}


def check_fill_value(value, dtype):
    """RuntimeError like torch's fill ops (full, fill_, masked_fill, index_fill, ``x[i] = v``)
    when the Python number ``value`` does not fit ``dtype``: outside an integer dtype's range
    (NaN and infinity included), or finite beyond a floating dtype's largest value (infinity
    itself fits). ``tensor()`` is laxer for floats (it rounds to inf), so it has ``check_fits``."""
    if type(value) is int:
        in_range = _INT_RANGE.get(dtype)
        if in_range is not None and in_range[0] <= value <= in_range[1]:
            return  # the common case, without numpy's check (~3.5 us)
        dt.check_int_argument(value)
    if dtype.category == dt._INT:
        try:
            check_fits(np.asarray(value), dtype)
        except RuntimeError:
            raise RuntimeError(_overflow_message(dtype)) from None
    elif dtype in _FLOAT_MAX and type(value) in (int, float) and math.isfinite(value) \
            and abs(value) > _FLOAT_MAX[dtype]:
        raise RuntimeError(_overflow_message(dtype))


def _overflow_message(dtype):
    return f"value cannot be converted to type {_CPP_NAMES[dtype]} without overflow"


def check_fits(values: np.ndarray, dtype):
    """RuntimeError like torch when Python numbers do not fit an integer ``dtype``.

    Floats must lie within the range; ints may also be negative down to -max for
    unsigned types (they wrap, as in C).
    """
    if dtype.category != dt._INT or values.size == 0:
        return
    info = np.iinfo(dtype.storage_np)
    lo = -int(info.max) if info.min == 0 and values.dtype.kind in "iub" else int(info.min)
    with np.errstate(invalid="ignore"):
        bad = values.dtype.kind == "f" and bool(np.isnan(values).any())
        if bad or values.min() < lo or values.max() > int(info.max):
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


@export(method=False)
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (nested sequences, numpy arrays, scalars, tensors) into a new tensor."""
    arr, natural = _to_numpy_data(data)
    if dtype is not None and not isinstance(data, (Tensor, np.ndarray)):
        check_fits(arr, dtype)
    t = from_host_array(arr, dtype or natural, as_device(device), keep_order=isinstance(data, np.ndarray))
    return _finish(t, requires_grad, pin_memory)


def from_host_array(arr, dtype, device, keep_order=False):
    """A new tensor on ``device`` holding a copy of host array ``arr`` cast to ``dtype``; with
    ``keep_order`` in the array's dim order, as ``torch.tensor`` copies a numpy array (an
    F-ordered one stays column-major; a strided one is packed in its order)."""
    t = new_empty(arr.shape, dtype, device)
    if keep_order and arr.ndim > 1 and not arr.flags.c_contiguous and arr.size:
        strides = tuple(s // arr.itemsize for s in np.empty_like(arr, order="K").strides)
        if strides != t._stride:
            t = Tensor._make(t._storage, t._shape, strides, 0, dtype)
    if t.numel():
        backend(t).write(t, arr)
    return t


@export(method=False)
def as_tensor(data, dtype=None, device=None):
    """Share memory with ``data`` when it already is a tensor/array of that dtype and device."""
    device = as_device(device) if device is not None else None
    if isinstance(data, Tensor):
        if (dtype is None or dtype is data.dtype) and (device is None or device == data.device):
            return data
        return data.to(dtype=dtype or data.dtype, device=device or data.device)
    if isinstance(data, np.ndarray) and (device is None or device.type == "cpu"):
        natural = dt.from_numpy_dtype(data.dtype)
        if dtype is None or dtype is natural:
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


@export(method=False)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``as_tensor`` (shares memory when it can), or a copy when ``copy=True``."""
    out = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype=dtype, device=device)
    return _finish(out, requires_grad)


@export(method=False)
def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray`` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return backend_for(as_device("cpu")).wrap_array(ndarray)


@export(method=False)
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D CPU tensor of ``dtype`` on the memory of a Python buffer (bytes, bytearray,
    memoryview, array.array ...): ``count`` elements (all, if negative) from byte ``offset``.
    Writes show through both ways; a read-only buffer warns, as torch, and is then shared."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    length, itemsize = view.nbytes, dtype.itemsize
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be "
                             f"a multiple of element size ({itemsize})")
        count = (length - offset) // itemsize
    elif offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset ({offset} bytes) "
                         f"must not be greater than actual buffer length ({length} bytes)")
    if view.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. "
                      "This means you can write to the underlying (supposedly non-writable) buffer using the "
                      "tensor. You may want to copy the buffer to protect its data or make it writable before "
                      "converting it to a tensor. This type of warning will be suppressed for the rest of this "
                      "program.", UserWarning, stacklevel=2)
    array = np.frombuffer(view.cast("B"), dtype=dtype.storage_np, count=count, offset=offset)
    if view.readonly:
        array = np.ndarray(array.shape, array.dtype, buffer=_writable_alias(array), offset=0)
    out = backend_for(as_device("cpu")).wrap_array(array, dtype)
    return _finish(out, requires_grad)


def _writable_alias(array):
    """A writable view of a read-only array's memory (torch shares read-only buffers too)."""
    import ctypes
    return (ctypes.c_char * array.nbytes).from_address(array.__array_interface__["data"][0])


@export(method=False)
def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack producer (numpy, torch ...) or capsule."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    from .._dlpack import from_dlpack as import_dlpack
    array, dtype = import_dlpack(ext_tensor)
    return backend_for(as_device("cpu")).wrap_array(array, dtype)


@export(method=False)
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return tensor(s, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def scalar_tensor_like(value, like):
    """A 0-d tensor holding a Python scalar, on ``like``'s device (for reflected operators)."""
    if isinstance(value, Tensor):
        return value
    return tensor(value, dtype=dt.result_type(value), device=like.device)


# ------------------------------------------------------------------ ranges
@export(method=False)
@with_out(factory=True)
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    for v in (start, end, step):
        if type(v) is int:
            dt.check_int_argument(v)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = dt.int64 if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                for v in (start, end, step)) else dt.get_default_dtype()
    if dtype.is_floating_point:  # the length as torch computes it, in double
        start, end, step = float(start), float(end), float(step)
    else:
        for v in (start, end, step):
            check_fill_value(v, dt.int64)
    n = max(0, math.ceil((end - start) / step))
    if n >= 1 << 63:
        raise RuntimeError(f"invalid size, possible overflow? arange({start}, {end}, {step}) would have "
                           f"{n} elements, more than int64 can count")
    if dtype.is_floating_point:
        values = np.arange(n, dtype=np.float64)
    else:  # torch: the length from the numbers given, the values from them truncated to integers
        start, step = math.trunc(start), math.trunc(step)
        if step == 0:
            raise ValueError("step must be nonzero")
        values = np.arange(n, dtype=np.int64)
    values *= step  # start + i * step, in place
    values += start
    device = as_device(device)
    if device.type == "cpu" and dtype.storage_np == dtype.compute_np:  # the fresh array is the storage
        return _finish(backend_for(device).adopt(values.astype(dtype.storage_np, copy=False), dtype),
                       requires_grad)
    return _finish(from_host_array(values, dtype, device), requires_grad)


@export(name="range", method=False)
@with_out(factory=True)
def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False, layout=None):
    """torch.range (deprecated): ``start`` to ``end`` inclusive, in the default dtype even for
    integers; an integer ``dtype`` truncates the bounds and step first, as torch does."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior "
                  "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
                  "values in [start, end).", UserWarning, stacklevel=3)
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        start, end, step = math.trunc(start), math.trunc(end), math.trunc(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(n, dtype=np.float64 if dtype.is_floating_point else np.int64) * step
    return _finish(from_host_array(values, dtype, as_device(device)), requires_grad)


@export(method=False)
@with_out(factory=True)
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    start, end = _scalar_value(start), _scalar_value(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dt.get_default_dtype()
    # torch fills the first half from start and the second half from end (symmetric error)
    if steps == 1:
        return _finish(full((1,), start, dtype=dtype, device=device), requires_grad)
    idx = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    values = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    if not dtype.is_floating_point:
        values = np.trunc(values)
    return _finish(from_host_array(values, dtype, as_device(device)), requires_grad)


@export(method=False)
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=dt.float64)
    values = np.power(base, lin.numpy())
    return _finish(from_host_array(values, dtype or dt.get_default_dtype(), as_device(device)),
                   requires_grad)


@export(method=False)
@with_out(factory=True)
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {min(n, m)}")
    t = zeros(n, m, dtype=dtype or dt.get_default_dtype(), device=device)
    k = min(n, m)
    if k:
        t.as_strided((k,), (m + 1,)).fill_(1)
    return _finish(t, requires_grad)


# ------------------------------------------------------------------ legacy Tensor.new / resize
@method
def new(self, *args, device=None):
    """The legacy ``Tensor.new``: a tensor of this one's dtype (on its device, or ``device``):
    uninitialized of the given sizes (ints or a Size), holding the given data (a list or
    tuple), the given tensor itself when it has this dtype, or empty with no argument."""
    device = self.device if device is None else device
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype is not self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, but got {args[0].dtype}")
        return args[0]
    if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
        return tensor(args[0], dtype=self.dtype, device=device)
    if len(args) == 1 and isinstance(args[0], float):
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
    return empty(*(args or (0,)), dtype=self.dtype, device=device)


def _resize_message(sizes, shape):
    def show(s):
        return "x".join(str(n) for n in s) or "[]"
    return (f"requested resize to {show(sizes)} ({math.prod(sizes)} elements in total), but the given tensor "
            f"has a size of {show(shape)} ({math.prod(shape)} elements). autograd's resize can only change "
            "the shape of a given tensor, while preserving the number of elements.")


class _Resize(Function):
    """The deprecated out-of-place resize: a reshape that keeps the element count (torch's
    ``ResizeBackward``)."""

    node_name = "ResizeBackward"

    @staticmethod
    def forward(ctx, x, sizes):
        ctx.original_shape = x._shape
        return x.reshape(sizes).clone()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.original_shape), None


def _resize_out_of_place(self, sizes, name):
    warnings.warn(f"non-inplace {name} is deprecated", UserWarning, stacklevel=3)
    sizes = tuple(sizes)
    if math.prod(sizes) != self.numel():
        raise RuntimeError(_resize_message(sizes, self._shape))
    return _Resize.apply(self, sizes)


@method
def resize(self, *sizes):
    """Deprecated: ``x.reshape(*sizes)`` (a copy), with torch's warning; like torch, a single
    list is not unpacked (it is refused as a size of the wrong element count)."""
    return _resize_out_of_place(self, sizes, "resize")


@method
def resize_as(self, other):
    return _resize_out_of_place(self, other._shape, "resize_as")
