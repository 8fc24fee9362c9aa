"""Storage: the memory a tensor and all of its views share.

A CPU storage wraps a one-dimensional numpy array (its ``data``); a device backend may
keep anything else there (a device pointer with its allocation). The version counter
lives here because torch shares it between a tensor, its views and its detached aliases:
an in-place write through any of them invalidates tensors saved for backward.
"""
from __future__ import annotations


class Storage:
    __slots__ = ("data", "device", "version", "__weakref__")

    def __init__(self, data, device):
        self.data = data
        self.device = device
        self.version = 0

    def nbytes(self) -> int:
        return self.data.nbytes

    def data_ptr(self) -> int:
        return self.data.__array_interface__["data"][0]

    def size(self) -> int:
        return self.data.size
