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

    def __enter__(self):
        """``with device('cuda'):`` makes it the default device of factory functions in the block."""
        _previous_defaults.append(_default)
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_previous_defaults.pop())


CPU = device("cpu")

#: where factory functions (zeros, tensor, randn ...) put tensors when given no device;
#: None means the CPU (``set_default_device``)
_default = None
_previous_defaults = []


def set_default_device(device):
    global _default
    _default = None if device is None else as_device(device)


def get_default_device():
    return _default or CPU


def as_device(value) -> device:
    """Normalise a device argument; a bare 'cuda' means the current CUDA device and no device
    the default one (the CPU unless ``set_default_device`` says otherwise)."""
    if value is None:
        return _default or CPU
    if isinstance(value, device):
        dev = value
    else:
        dev = device(value)
    if dev.type == "cuda" and dev.index is None:
        from . import cuda
        dev = device("cuda", cuda.current_device())
    return dev
