"""Padding modules (ZeroPad2d, ConstantPad1d, ReflectionPad2d, CircularPad3d ...) over ``F.pad``."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class _PadNd(Module):
    """Pads the last ``_dims`` dims in ``F.pad``'s ``_mode``; an int pads every side by it."""

    _dims = None
    _mode = None

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * (2 * self._dims) if isinstance(padding, int) else tuple(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _family(base, prefix, **attributes):
    """The 1d/2d/3d classes of one padding kind."""
    return tuple(type(f"{prefix}{n}d", (base,), {"_dims": n, "__module__": __name__, **attributes})
                 for n in (1, 2, 3))


ConstantPad1d, ConstantPad2d, ConstantPad3d = _family(_ConstantPadNd, "ConstantPad")
ZeroPad1d, ZeroPad2d, ZeroPad3d = _family(_ZeroPadNd, "ZeroPad")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _family(_PadNd, "ReflectionPad", _mode="reflect")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _family(_PadNd, "ReplicationPad", _mode="replicate")
CircularPad1d, CircularPad2d, CircularPad3d = _family(_PadNd, "CircularPad", _mode="circular")
