"""Storage: the memory a tensor and all of its views share.

A CPU storage wraps a one-dimensional numpy array (its ``data``); a device backend may
keep anything else there (a device pointer with its allocation). The version counter
lives here because torch shares it between a tensor, its views and its detached aliases:
an in-place write through any of them invalidates tensors saved for backward.
"""
from __future__ import annotations


class Storage:
    __slots__ = ("data", "device", "version", "_address", "__weakref__")

    def __init__(self, data, device):
        self.data = data
        self.device = device
        self.version = 0

    def nbytes(self) -> int:
        return self.data.nbytes

    def data_ptr(self) -> int:
        """The address of ``data``, read once (``data`` is never rebound): numpy builds a dict
        to tell it, ~1 us, and the fused optimizer step asks for every tensor's every step."""
        try:
            return self._address
        except AttributeError:
            self._address = self.data.__array_interface__["data"][0]
            return self._address

    def size(self) -> int:
        return self.data.size
