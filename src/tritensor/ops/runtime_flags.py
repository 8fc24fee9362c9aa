"""torch's process-wide switches that tritensor accepts for compatibility: the ones with a real
counterpart here (anomaly mode, the default dtype/device) are wired to it; the others
(denormal flushing, inter-op threads, warn-always) keep their value so getters answer like
torch but change no computation."""
from __future__ import annotations

import warnings

from .. import dtypes as dt
from ..autograd import anomaly_mode
from ._registry import export

_state = {"flush_denormal": False, "interop_threads": 2, "warn_always": False}


@export(method=False)
def set_flush_denormal(mode):
    """Recorded only (kernels keep denormals); returns True like torch on an SSE3 CPU."""
    _state["flush_denormal"] = bool(mode)
    return True


@export(method=False)
def get_num_interop_threads():
    return _state["interop_threads"]


@export(method=False)
def set_num_interop_threads(num):
    """Recorded only: tritensor runs no inter-op thread pool."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop_threads"] = num


@export(method=False)
def set_warn_always(b):
    _state["warn_always"] = bool(b)


@export(method=False)
def is_warn_always_enabled():
    return _state["warn_always"]


@export(method=False)
def is_anomaly_enabled():
    return anomaly_mode.enabled


@export(method=False)
def set_anomaly_enabled(enabled, check_nan=True):
    anomaly_mode.set_detect_anomaly(enabled, check_nan)


@export(method=False)
def is_anomaly_check_nan_enabled():
    """torch's flag as set (True by default, even while anomaly mode is off)."""
    return anomaly_mode.check_nan


_LEGACY_DTYPES = {"FloatTensor": dt.float32, "DoubleTensor": dt.float64, "HalfTensor": dt.float16,
                  "BFloat16Tensor": dt.bfloat16}


@export(method=False)
def set_default_tensor_type(t):
    """Deprecated in torch: sets the default dtype (and the device, for ``torch.cuda.*`` types)."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    if isinstance(t, str):
        short = t.rsplit(".", 1)[-1]
        dtype, device = _LEGACY_DTYPES.get(short), "cuda" if t.startswith("torch.cuda.") else "cpu"
    else:
        dtype, device = getattr(t, "_legacy_dtype", None), getattr(t, "_legacy_device", "cpu")
    if dtype is None or not dtype.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {t}")
    from ..device import set_default_device
    dt.set_default_dtype(dtype)
    set_default_device("cuda" if device == "cuda" else None)
