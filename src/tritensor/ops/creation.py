"""Tensor creation: from data, filled, ranges, and ``*_like`` variants."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import dtypes as dt
from ..device import as_device
from ..size import Size
from ..tensor import Tensor
from ._common import backend
from ._registry import export
from ..backends import backend_for


def _shape_arg(size):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    shape = tuple(int(s) if not isinstance(s, Tensor) else int(s.item()) for s in size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def new_empty(shape, dtype, device):
    return backend_for(device).empty(shape, dtype) if device.type == "cpu" else \
        backend_for(device).empty(shape, dtype, device)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


@export(method=False)
def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, memory_format=None):
    shape = _shape_arg(size)
    return _finish(new_empty(shape, dtype or dt.get_default_dtype(), as_device(device)), requires_grad)


@export(method=False)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if dtype is None:
        dtype = dt.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    t = new_empty(_shape_arg((size,)), dtype, as_device(device))
    backend(t).fill_(t, _scalar_value(fill_value))
    return _finish(t, requires_grad)


def _scalar_value(v):
    return v.item() if isinstance(v, Tensor) else v


@export(method=False)
def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return full(_shape_arg(size), 0, dtype=dtype or dt.get_default_dtype(), device=device,
                requires_grad=requires_grad)


@export(method=False)
def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return full(_shape_arg(size), 1, dtype=dtype or dt.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def _like(input, dtype, device):
    return input.shape, dtype or input.dtype, device if device is not None else input.device


@export(method=False)
def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return empty(shape, dtype=dtype, device=device, requires_grad=requires_grad)


@export(method=False)
def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return full(shape, 0, dtype=dtype, device=device, requires_grad=requires_grad)


@export(method=False)
def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return full(shape, 1, dtype=dtype, device=device, requires_grad=requires_grad)


@export(method=False)
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return full(shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


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
    """Convert nested Python data / numpy / tensors to a numpy array and its natural dtype."""
    if isinstance(data, Tensor):
        return data.detach().cpu().numpy(force=True) if data.dtype is not dt.bfloat16 else \
            data.detach().float().cpu().numpy(), data.dtype
    if isinstance(data, np.ndarray):
        return data, dt.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        arr = np.asarray(data)
        return arr, dt.from_numpy_dtype(arr.dtype)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, bool):
        return np.asarray(data), dt.bool
    if isinstance(data, numbers.Integral):
        return np.asarray(data, np.int64) if -2**63 <= data < 2**63 else _overflow(data), dt.int64
    if isinstance(data, numbers.Real):
        return np.asarray(data, np.float64), dt.get_default_dtype()
    if isinstance(data, numbers.Number):
        raise TypeError("tritensor does not support complex numbers")
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"expected a rectangular sequence of numbers: {e}") from None
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(_first_leaf(data)).__name__}")
    kind = arr.dtype.kind
    if kind == "b":
        return arr, dt.bool
    if kind in "iu":
        return arr, dt.int64 if arr.dtype.itemsize == 8 or kind == "i" else dt.from_numpy_dtype(arr.dtype)
    if kind == "f":
        # numpy widens Python floats to float64; torch uses the default dtype unless the
        # elements were already tensors/arrays of a float dtype.
        natural = _leaf_float_dtype(data)
        return arr, natural or dt.get_default_dtype()
    raise TypeError(f"Could not infer dtype of {arr.dtype}")


def _overflow(value):
    raise RuntimeError(f"Overflow when unpacking long: {value}")


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _leaf_float_dtype(data):
    leaf = _first_leaf(data)
    if isinstance(leaf, Tensor):
        return leaf.dtype if leaf.dtype.is_floating_point else None
    if isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind == "f":
        return dt.from_numpy_dtype(leaf.dtype)
    return None


@export(method=False)
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (nested sequences, numpy arrays, scalars, tensors) into a new tensor."""
    arr, natural = _to_numpy_data(data)
    dtype = dtype or natural
    t = from_host_array(np.asarray(arr), dtype, as_device(device))
    return _finish(t, requires_grad)


def from_host_array(arr, dtype, device):
    """A new tensor on ``device`` holding a copy of host array ``arr`` cast to ``dtype``."""
    t = new_empty(arr.shape, dtype, device)
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


asarray = export(lambda obj, *, dtype=None, device=None, copy=None, requires_grad=False:
                 _finish(as_tensor(obj, dtype=dtype, device=device) if not copy
                         else tensor(obj, dtype=dtype, device=device), requires_grad),
                 name="asarray", method=False)


@export(method=False)
def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray`` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return backend_for(as_device("cpu")).wrap_array(ndarray)


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
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    if end is None:
        start, end = 0, start
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = dt.int64 if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                for v in (start, end, step)) else dt.get_default_dtype()
    n = max(0, math.ceil((end - start) / step))
    values = start + np.arange(n, dtype=np.float64 if dtype.is_floating_point else np.int64) * step
    return _finish(from_host_array(values, dtype, as_device(device)), requires_grad)


@export(method=False)
def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    n = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(n, dtype=np.float64) * step
    return _finish(from_host_array(values, dtype or dt.get_default_dtype(), as_device(device)),
                   requires_grad)


@export(method=False)
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    start, end = _scalar_value(start), _scalar_value(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dt.get_default_dtype()
    # torch fills the first half from start and the second half from end (symmetric error)
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
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {min(n, m)}")
    t = zeros(n, m, dtype=dtype or dt.get_default_dtype(), device=device)
    k = min(n, m)
    if k:
        t.as_strided((k,), (m + 1,)).fill_(1)
    return _finish(t, requires_grad)
