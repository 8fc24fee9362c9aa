"""tritensor.cpu.amp: torch's deprecated ``torch.cpu.amp`` aliases for ``tritensor.amp``."""
from __future__ import annotations

import warnings

from .. import dtypes as _dt
from ..amp import autocast_mode as _autocast_mode
from ..amp import grad_scaler as _grad_scaler

__all__ = ["GradScaler", "autocast"]


class autocast(_autocast_mode.autocast):
    def __init__(self, enabled=True, dtype=_dt.bfloat16, cache_enabled=True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


GradScaler = _grad_scaler.deprecated_alias("cpu")
