"""DLPack exchange for CPU tensors, zero-copy both ways (numpy, torch, any producer).

Export goes through numpy's ``ndarray.__dlpack__`` on the tensor's storage view; numpy
has no bfloat16, so a bfloat16 tensor is exported as its uint16 bits and the dtype code
in the capsule is then set to kDLBfloat. Import reads the producer's legacy ``dltensor``
capsule with ctypes and wraps its memory in a numpy array whose base keeps the capsule
alive; the capsule's destructor releases the producer's memory once nothing uses it.
"""
from __future__ import annotations

import ctypes

import numpy as np

from . import dtypes as dt

KDL_CPU = 1
_KDL_INT, _KDL_UINT, _KDL_FLOAT, _KDL_BFLOAT, _KDL_BOOL = 0, 1, 2, 4, 6

#: (type code, bits) -> dtype
_FROM_DL = {(_KDL_INT, 8): dt.int8, (_KDL_INT, 16): dt.int16, (_KDL_INT, 32): dt.int32,
            (_KDL_INT, 64): dt.int64, (_KDL_UINT, 8): dt.uint8, (_KDL_FLOAT, 16): dt.float16,
            (_KDL_FLOAT, 32): dt.float32, (_KDL_FLOAT, 64): dt.float64, (_KDL_BFLOAT, 16): dt.bfloat16,
            (_KDL_BOOL, 8): dt.bool}


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


_api = ctypes.pythonapi
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_GetName.restype = ctypes.c_char_p
_api.PyCapsule_GetName.argtypes = [ctypes.py_object]


def _dl_tensor(capsule) -> _DLTensor:
    """The DLTensor inside a ``dltensor`` or ``dltensor_versioned`` capsule."""
    name = _api.PyCapsule_GetName(capsule)
    ptr = _api.PyCapsule_GetPointer(capsule, name)
    if name == b"dltensor_versioned":
        return _DLManagedTensorVersioned.from_address(ptr).dl_tensor
    if name == b"dltensor":
        return _DLTensor.from_address(ptr)  # DLManagedTensor starts with its DLTensor
    raise BufferError(f"not a DLPack capsule: {name!r}")


# ------------------------------------------------------------------ export
def to_dlpack(t, **kwargs):
    """A DLPack capsule aliasing ``t``'s memory (``Tensor.__dlpack__``)."""
    if t.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if t.device.type != "cpu":
        raise BufferError(f"DLPack export of {t.device.type} tensors is not supported yet")
    from .backends.cpu import ndarray
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    kwargs.pop("stream", None)  # CPU memory has no stream to synchronise with
    capsule = ndarray(t).__dlpack__(**kwargs)
    if t.dtype is dt.bfloat16:
        _dl_tensor(capsule).dtype.code = _KDL_BFLOAT
    return capsule


# ------------------------------------------------------------------ import
class _CapsuleArray:
    """Presents a capsule's tensor through ``__array_interface__``; numpy keeps it as base."""

    def __init__(self, capsule, tensor: _DLTensor, dtype):
        self._capsule = capsule  # alive as long as any array built on it
        shape = tuple(tensor.shape[i] for i in range(tensor.ndim))
        itemsize = dtype.itemsize
        strides = None if not tensor.strides else tuple(tensor.strides[i] * itemsize
                                                          for i in range(tensor.ndim))
        data = (tensor.data or 0) + tensor.byte_offset
        self.__array_interface__ = {"shape": shape, "typestr": dtype.storage_np.str, "version": 3,
                                    "data": (data, False), "strides": strides}


def from_dlpack(obj):
    """``(numpy array sharing obj's memory, dtype)`` for a CPU DLPack producer or capsule."""
    if hasattr(obj, "__dlpack_device__"):
        device_type, _ = obj.__dlpack_device__()
        if int(device_type) != KDL_CPU:
            raise BufferError("tritensor.from_dlpack: only CPU tensors can be imported so far")
        capsule = obj.__dlpack__()
    elif hasattr(obj, "__dlpack__"):
        capsule = obj.__dlpack__()
    else:
        capsule = obj  # a capsule from a legacy ``to_dlpack``
    tensor = _dl_tensor(capsule)
    if tensor.device.device_type != KDL_CPU:
        raise BufferError("tritensor.from_dlpack: only CPU tensors can be imported so far")
    key = (tensor.dtype.code, tensor.dtype.bits)
    if key not in _FROM_DL or tensor.dtype.lanes != 1:
        raise BufferError(f"tritensor.from_dlpack: unsupported DLPack dtype (code={key[0]}, "
                          f"bits={key[1]}, lanes={tensor.dtype.lanes})")
    dtype = _FROM_DL[key]
    return np.asarray(_CapsuleArray(capsule, tensor, dtype)), dtype
