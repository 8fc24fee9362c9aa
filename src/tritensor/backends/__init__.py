"""Backends by device type. Each backend module offers the same small set of functions
(memory: empty/wrap_array/ndarray/read/write/copy_/fill_; compute: elementwise,
reductions, matmul, indexing, joining). ``backend_for`` picks one for a device."""
from __future__ import annotations

from . import cpu, cudnn, mps  # noqa: F401  (torch.backends.cudnn's flags; mps: never available)

_BACKENDS = {"cpu": cpu}


def __getattr__(name):
    """``tritensor.backends.cuda``: the Triton backend module, whose ``matmul`` holds torch's
    ``backends.cuda.matmul`` flags; without triton, just those flags."""
    if name == "cuda":
        import importlib
        import importlib.util
        if importlib.util.find_spec("triton") is not None:  # an ImportError in the backend is a bug: raise it
            return importlib.import_module(__name__ + ".cuda")
        import types
        from . import precision
        return types.SimpleNamespace(matmul=precision.matmul)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def backend_for(device):
    try:
        return _BACKENDS[device.type]
    except KeyError:
        if device.type == "cuda":
            from . import cuda_memory
            if cuda_memory.usable():  # a GPU, or TRITON_INTERPRET=1 (the emulated device)
                from . import cuda
                register_backend("cuda", cuda)
                return cuda
            raise RuntimeError(
                f"device '{device}' is not available: tritensor's GPU (Triton) backend needs an NVIDIA GPU "
                "(with triton and cuda-bindings) or TRITON_INTERPRET=1 for the emulated device; "
                "use device='cpu'") from None
        raise RuntimeError(f"tritensor has no backend for device '{device}'") from None


def register_backend(device_type: str, module) -> None:
    _BACKENDS[device_type] = module
