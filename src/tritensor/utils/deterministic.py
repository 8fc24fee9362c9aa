"""Deterministic-algorithms mode (``torch.use_deterministic_algorithms`` and friends).

tritensor's CPU kernels are deterministic. On 'cuda', float scatter/index additions combine
repeated indices with atomic adds, whose order (and so rounding) varies from run to run:
in this mode they raise torch's RuntimeError (or warn, with ``warn_only``), where torch has
deterministic kernels for some of them. ``empty``-style factories fill their memory with NaN
(or the dtype's largest integer) in this mode, as torch does, while
``fill_uninitialized_memory`` is true.
"""
from __future__ import annotations

import warnings

#: whether uninitialised tensors from ``empty``/``empty_like``/``empty_strided`` are filled
#: (NaN, the largest integer, True) while deterministic algorithms are on
fill_uninitialized_memory = True

_mode = {"enabled": False, "warn_only": False}
_DEBUG_NAMES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Turn deterministic-algorithms mode on or off; ``warn_only`` warns instead of raising."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _mode["enabled"], _mode["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _mode["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _mode["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0 / 'default': off; 1 / 'warn': on, warning; 2 / 'error': on, raising."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_NAMES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = _DEBUG_NAMES[debug_mode]
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    return 0 if not _mode["enabled"] else 1 if _mode["warn_only"] else 2


def alert_not_deterministic(caller: str) -> None:
    """Raise (or warn) that ``caller`` has no deterministic implementation, if the mode is on."""
    if not _mode["enabled"]:
        return
    if _mode["warn_only"]:
        warnings.warn(f"{caller} does not have a deterministic implementation, but you set "
                      "'torch.use_deterministic_algorithms(True, warn_only=True)'. You can file an issue at "
                      "https://github.com/pytorch/pytorch/issues to help us prioritize adding deterministic "
                      "support for this operation.", UserWarning, stacklevel=3)
        return
    raise RuntimeError(f"{caller} does not have a deterministic implementation, but you set "
                       "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for "
                       "this operation, or you can use the 'warn_only=True' option, if that's acceptable for "
                       "your application.")


def filling_uninitialized() -> bool:
    """Whether ``empty``-style factories fill their memory now."""
    return _mode["enabled"] and fill_uninitialized_memory
