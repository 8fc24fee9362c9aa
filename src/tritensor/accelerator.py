"""``torch.accelerator``: the device-agnostic front of the GPU module.

PyTorch's examples now pick their device with ``torch.accelerator.is_available()`` and
``current_accelerator()`` instead of naming CUDA. tritensor's one accelerator is 'cuda' (a
GPU through the Triton backend, or the interpreter's emulated device), so each function here
is ``tritensor.cuda``'s, with torch's answers where there is none: ``current_accelerator()``
is None and ``device_count()`` 0; the rest raise torch's RuntimeError.
"""
from __future__ import annotations

import contextlib

from . import cuda
from .device import device as _device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "current_stream",
           "device_count", "device_index", "empty_cache", "is_available", "max_memory_allocated",
           "memory_allocated", "memory_reserved", "reset_peak_memory_stats", "set_device_idx",
           "set_device_index", "set_stream", "synchronize"]


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` where a GPU (or the emulated device) is usable, else None."""
    return _device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count() if cuda.is_available() else 0


def _require():
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def _index(device) -> int | None:
    if device is None or isinstance(device, int):
        return device
    return _device(device).index


def current_device_index() -> int:
    _require()
    return cuda.current_device()


def set_device_index(device) -> None:
    _require()
    index = _index(device)
    if index is not None and index >= 0:
        cuda.set_device(index)


@contextlib.contextmanager
def device_index(device):
    """Make ``device`` current inside the block (None: leave it)."""
    _require()
    previous = cuda.current_device()
    set_device_index(device)
    try:
        yield
    finally:
        cuda.set_device(previous)


def synchronize(device=None) -> None:
    _require()
    cuda.synchronize(_index(device))


def current_stream(device=None):
    _require()
    return cuda.current_stream(_index(device))


def set_stream(stream) -> None:
    """Make ``stream`` current for its device (``torch.accelerator.set_stream``)."""
    _require()
    cuda.set_stream(stream)


def empty_cache() -> None:
    _require()
    cuda.empty_cache()


def memory_allocated(device_index=None) -> int:
    _require()
    return cuda.memory_allocated(device_index)


def max_memory_allocated(device_index=None) -> int:
    _require()
    return cuda.max_memory_allocated(device_index)


def memory_reserved(device_index=None) -> int:
    _require()
    return cuda.memory_reserved(device_index)


def reset_peak_memory_stats(device_index=None) -> None:
    _require()
    cuda.reset_peak_memory_stats(device_index)


current_device_idx = current_device_index
set_device_idx = set_device_index
