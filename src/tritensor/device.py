"""The ``device`` type: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 1)``."""
from __future__ import annotations

_KNOWN_TYPES = ("cpu", "cuda")


class device:
    """Where a tensor's storage lives. Equal devices compare equal and hash alike."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and index is None:
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"type (string) must not include an index because index was passed "
                                 f"explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in _KNOWN_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        if type == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def as_device(value) -> device:
    """Normalise a device argument; a bare 'cuda' means the current CUDA device."""
    if value is None:
        return CPU
    if isinstance(value, device):
        dev = value
    else:
        dev = device(value)
    if dev.type == "cuda" and dev.index is None:
        from . import cuda
        dev = device("cuda", cuda.current_device())
    return dev
