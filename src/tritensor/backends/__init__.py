"""Backends by device type. Each backend module offers the same small set of functions
(memory: empty/wrap_array/ndarray/read/write/copy_/fill_; compute: elementwise,
reductions, matmul, indexing, joining). ``backend_for`` picks one for a device."""
from __future__ import annotations

from . import cpu

_BACKENDS = {"cpu": cpu}


def backend_for(device):
    try:
        return _BACKENDS[device.type]
    except KeyError:
        if device.type == "cuda":
            raise RuntimeError(
                f"device '{device}' is not available: tritensor's GPU (Triton) backend is not built "
                "into this version yet; use device='cpu'") from None
        raise RuntimeError(f"tritensor has no backend for device '{device}'") from None


def register_backend(device_type: str, module) -> None:
    _BACKENDS[device_type] = module
