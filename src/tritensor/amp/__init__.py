"""tritensor.amp: mixed precision: ``autocast`` (op casting, per device type) and ``GradScaler``."""
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available  # noqa: F401
from .grad_scaler import GradScaler, OptState  # noqa: F401
from ..cuda import amp as _cuda_amp  # noqa: F401,E402  (registers tritensor.cuda.amp)

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
