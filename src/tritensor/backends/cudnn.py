"""``torch.backends.cudnn`` as an importable module (``import torch.backends.cudnn as
cudnn``): its flags (``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``) read and
write ``precision.cudnn``, which checks them like torch; tritensor has no cuDNN."""
from __future__ import annotations

import sys
import types

from .precision import cudnn as _flags


def is_available() -> bool:
    return False


def version():
    """cuDNN's version: None, as torch's without cuDNN."""
    return None


class _FlagsModule(types.ModuleType):
    """This module, with the flag names routed to the checked flags object."""

    def __getattr__(self, name):
        return getattr(_flags, name)

    def __setattr__(self, name, value):
        if name in type(_flags)._defaults:
            setattr(_flags, name, value)
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _FlagsModule
