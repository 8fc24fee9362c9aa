"""``torch.utils.dlpack``: exchange CPU tensors with other libraries through DLPack capsules,
sharing memory (see ``tritensor._dlpack``). 'cuda' tensors cannot be exported yet (BufferError)."""
from __future__ import annotations

import enum

from ..ops.creation import from_dlpack  # noqa: F401

__all__ = ["to_dlpack", "from_dlpack", "DLDeviceType"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (the first value of ``Tensor.__dlpack_device__()``)."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def to_dlpack(tensor):
    """A legacy ``dltensor`` capsule aliasing ``tensor``'s memory (consume it once, with any
    library's ``from_dlpack``)."""
    from .._dlpack import to_dlpack as export_capsule
    from ..tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError("to_dlpack(): argument 'data' (position 1) must be Tensor, "
                        f"not {type(tensor).__name__}")
    return export_capsule(tensor)
