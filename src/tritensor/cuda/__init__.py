"""``tritensor.cuda``: device queries. Without the GPU backend, no CUDA device exists."""
from __future__ import annotations


class OutOfMemoryError(RuntimeError):
    """Raised when a device allocation fails."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def _no_device():
    raise RuntimeError("Found no CUDA device: tritensor's GPU (Triton) backend is not built into this "
                       "version yet; use device='cpu'")


def current_device() -> int:
    _no_device()


def set_device(device) -> None:
    _no_device()


def get_device_name(device=None) -> str:
    _no_device()


def synchronize(device=None) -> None:
    _no_device()


def empty_cache() -> None:
    """Nothing is cached without a GPU backend."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    pass


def manual_seed(seed) -> None:
    pass


def manual_seed_all(seed) -> None:
    pass


def is_initialized() -> bool:
    return False
