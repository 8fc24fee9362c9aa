"""``torch.nn.attention``: choosing the kernels of ``scaled_dot_product_attention``.

tritensor has one implementation (the math one, composed from matmul and softmax), so every
backend that torch's CPU build can run (``MATH`` and ``FLASH_ATTENTION``, which torch has on
CPU) maps to it. Inside ``sdpa_kernel`` with only backends torch's CPU build cannot run
(``EFFICIENT_ATTENTION``, ``CUDNN_ATTENTION``, ``OVERRIDEABLE``, or none),
``nn.functional.scaled_dot_product_attention`` (and ``MultiheadAttention`` with
``need_weights=False``, which torch routes through it) raises the RuntimeError torch raises.
"""
from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


#: the backends torch's CPU build runs; all of them are tritensor's math implementation here
_RUNNABLE = frozenset({SDPBackend.MATH, SDPBackend.FLASH_ATTENTION})
_ALL = frozenset(b for b in SDPBackend if b is not SDPBackend.ERROR)
_enabled = set(_ALL)


def enabled_backends() -> frozenset:
    """The backends the current ``sdpa_kernel`` context allows (all outside any)."""
    return frozenset(_enabled)


def _apply(backends) -> None:
    """Sets the enabled backends; SDPA (nn/_attention.py) refuses to run when none can."""
    from .. import _attention
    _enabled.clear()
    _enabled.update(backends)
    _attention.enabled_backends = None if _enabled & _RUNNABLE else [b.name for b in _enabled]


def _as_backend_list(backends):
    if isinstance(backends, SDPBackend):
        return [backends]
    if isinstance(backends, (list, tuple)) and all(isinstance(b, SDPBackend) for b in backends):
        return list(backends)
    raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
                         f"got {type(backends).__name__}")


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Allows only ``backends`` inside the block (restored after, also on error). ``set_priority``
    orders the backends in torch; with one implementation the order changes nothing."""
    chosen = [b for b in _as_backend_list(backends) if b is not SDPBackend.ERROR]
    previous = set(_enabled)
    _apply(chosen)
    try:
        yield {}
    finally:
        _apply(previous)
