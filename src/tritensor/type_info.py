"""``finfo`` and ``iinfo``: the numeric limits of tritensor's dtypes, as torch reports them.

float16/32/64 and the integer types take their limits from numpy; bfloat16 (which numpy
lacks) has float32's exponent range with 8 significand bits, so its limits are computed
from that layout.
"""
from __future__ import annotations

import builtins

import numpy as np

from . import dtypes as dt


def _limits_repr(name, fields, values, dtype_name):
    """torch's text: each limit with 6 significant digits (``%g``), then the dtype's name."""
    parts = ", ".join(f"{field}={value:g}" for field, value in zip(fields, values))
    return f"{name}({parts}, dtype={dtype_name})"


class finfo:
    """Limits of a floating dtype (the default dtype when none is given)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type=None):
        d = dt.get_default_dtype() if type is None else type
        if not isinstance(d, dt.dtype) or not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. "
                            "Use torch.iinfo to handle 'torch.finfo'")
        if d is dt.bfloat16:
            # 8 significand bits over float32's exponent range
            eps, largest, normal, digits = 2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127, 2.0 ** -126, 2
        else:
            info = np.finfo(d.storage_np)
            eps, largest, normal, digits = (builtins.float(info.eps), builtins.float(info.max),
                                            builtins.float(info.smallest_normal), info.precision)
        self.bits = d.itemsize * 8
        self.eps, self.max, self.min = eps, largest, -largest
        self.tiny = self.smallest_normal = normal
        self.resolution = 10.0 ** -digits
        self.dtype = d.name

    def __repr__(self):
        values = (self.resolution, self.min, self.max, self.eps, self.smallest_normal, self.tiny)
        fields = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")
        return _limits_repr("finfo", fields, values, self.dtype)

    def __eq__(self, other):
        return type(other) is finfo and other.dtype == self.dtype

    __hash__ = None  # torch's finfo is unhashable too


class iinfo:
    """Limits of an integer dtype."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type):
        if not isinstance(type, dt.dtype) or type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. "
                            "Use torch.finfo to handle 'torch.iinfo'")
        if type is dt.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        info = np.iinfo(type.storage_np)
        self.bits = type.itemsize * 8
        self.max, self.min = builtins.int(info.max), builtins.int(info.min)
        self.dtype = type.name

    def __repr__(self):
        return _limits_repr("iinfo", ("min", "max"), (self.min, self.max), self.dtype)

    def __eq__(self, other):
        return type(other) is iinfo and other.dtype == self.dtype

    __hash__ = None
