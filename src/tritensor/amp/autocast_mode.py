"""``autocast``: torch's mixed-precision context manager / decorator, on 'cpu' and 'cuda'.

Entering sets this thread's per-device-type state (enabled, dtype, weight cache); the ops on
torch's autocast lists read it at their entry (``ops/_autocast.py`` holds the lists and the
cast). As in torch, ``autocast('cuda')`` without a CUDA device warns and does nothing, and
a dtype other than float16/bfloat16 on 'cpu' warns and disables the region.
"""
from __future__ import annotations

import functools
import warnings

from .. import dtypes as _dt
from ..ops._autocast import DEFAULT_DTYPES, state as _state

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype",
           "set_autocast_enabled", "set_autocast_dtype", "is_autocast_cache_enabled",
           "set_autocast_cache_enabled", "clear_autocast_cache"]


def is_autocast_available(device_type: str) -> bool:
    return device_type in DEFAULT_DTYPES


def _check_device_type(device_type):
    if device_type not in DEFAULT_DTYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return device_type


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` in this thread (no argument: 'cuda', like torch)."""
    return _state.enabled[_check_device_type(device_type)]


def get_autocast_dtype(device_type: str):
    return _state.dtype[_check_device_type(device_type)]


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    _state.enabled[_check_device_type(device_type)] = bool(enabled)
    _state.refresh()


def set_autocast_dtype(device_type: str, dtype) -> None:
    _state.dtype[_check_device_type(device_type)] = dtype


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _state.cache.clear()


# torch's deprecated per-device spellings
def is_autocast_cpu_enabled() -> bool:
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype():
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype():
    return get_autocast_dtype("cuda")


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` or ``@autocast(...)``."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _check_device_type(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            enabled = self._usable()
        self._enabled = bool(enabled)

    def _usable(self):
        """False (with torch's warning) where torch disables the region; raise where torch raises."""
        if self.device == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              stacklevel=3)
                return False
            if self.fast_dtype is _dt.bfloat16 and not cuda.is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. "
                                   "Please switch dtype to float16.")
            return True
        if self.fast_dtype not in (_dt.bfloat16, _dt.float16):
            name = self.device.upper()
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                          stacklevel=3)
            return False
        return True

    def __enter__(self):
        self._prev = (_state.enabled[self.device], _state.dtype[self.device], _state.cache_enabled)
        _state.enabled[self.device] = self._enabled
        _state.dtype[self.device] = self.fast_dtype
        _state.cache_enabled = self._cache_enabled
        _state.nesting += 1
        _state.refresh()
        return self

    def __exit__(self, *exc):
        _state.nesting -= 1
        if _state.nesting == 0:  # leaving the outermost region drops the cast weights
            _state.cache.clear()
        _state.enabled[self.device], _state.dtype[self.device], _state.cache_enabled = self._prev
        _state.refresh()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return wrapper


# ---------------------------------------------------------------- custom autograd functions
def _device_type_argument(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    return device_type


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate an ``autograd.Function``'s ``forward`` for autocast regions: it records the
    region's state on ``ctx`` for ``custom_bwd``; with ``cast_inputs``, inside an enabled
    region it casts the floating-point (not float64) tensors of ``device_type`` to that dtype
    and runs with autocast off. Outside a region it changes nothing."""
    _device_type_argument(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(ctx, *args, **kwargs):
        from ..ops._autocast import cast_floating
        ctx._dtype = get_autocast_dtype(device_type)
        enabled = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = enabled and cast_inputs is None
        if cast_inputs is None or not enabled:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *cast_floating(args, cast_inputs, device_type),
                       **dict(zip(kwargs, cast_floating(tuple(kwargs.values()), cast_inputs, device_type))))
    return forward


def custom_bwd(bwd=None, *, device_type):
    """Decorate the matching ``backward``: it runs under the autocast state its ``forward``
    ran under (``custom_fwd``), whatever the state where backward is called."""
    _device_type_argument(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx, *args, **kwargs):
        with autocast(device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(ctx, *args, **kwargs)
    return backward
