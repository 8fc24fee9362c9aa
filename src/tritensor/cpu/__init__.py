"""``tritensor.cpu``: torch.cpu's device-module functions for the host (one device, whose
kernels finish before they return) and the deprecated ``torch.cpu.amp`` spellings."""
from __future__ import annotations

from . import amp  # noqa: F401

__all__ = ["amp", "current_device", "device_count", "is_available", "set_device", "synchronize"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Does nothing, as torch's: there is one CPU device."""


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU kernels have finished when their op returns."""
