"""``autocast``: torch's context manager, for now only in its *disabled* forms.

Autocasting ops to fp16/bf16 is not implemented yet. Scripts written for a GPU still run:
as in torch, ``autocast('cuda')`` without an available CUDA device warns and does nothing,
and ``enabled=False`` is a no-op; entering an enabled autocast raises NotImplementedError.
"""
from __future__ import annotations

import functools
import warnings

from .. import dtypes as _dt

__all__ = ["autocast", "is_autocast_available"]


def is_autocast_available(device_type: str) -> bool:
    return False


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        default = _dt.float16 if device_type == "cuda" else _dt.bfloat16
        self.fast_dtype = dtype if dtype is not None else default
        self._enabled = enabled
        if device_type == "cuda" and enabled:
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling",
                              stacklevel=2)
                self._enabled = False

    def __enter__(self):
        if self._enabled:
            raise NotImplementedError(
                f"tritensor does not implement autocast (mixed-precision op casting) on '{self.device}' yet; "
                "run in float32 or pass enabled=False")
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper
