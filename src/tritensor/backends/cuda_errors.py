"""Bad input found by a kernel, raised at the next call that waits for the device.

A kernel cannot raise, and checking its input on the host first (is every class index in
range?) needs the values on the host: a device-to-host copy and a wait for the stream on
every call, which would stall the host once per loss in a training loop. So a kernel that
validates its input computes around what is bad (reading and writing nothing out of bounds;
the fused loss makes the affected rows nan) and records what it found in its device's
*error word*: two int64
(error code, offending value) in page-locked host memory mapped into the device's address
space. ``raise_pending`` turns a recorded error into the exception the CPU raises at once,
and clears it; it runs in every call that waits for the device (a read to the host such as
``item()``, ``cpu()`` or printing, and the ``synchronize`` methods). That is when CUDA reports
a device-side assert too, but here the device stays usable afterwards.

Under the emulated device the word is ordinary host memory that the interpreter writes.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from ..tensor import Tensor
from . import cuda_memory as _mem

_MESSAGES = {}  # error code -> (exception type, message with ``{}`` for the offending value)
_CODES = {}     # the reverse
#: codes kept at most (messages name sizes and dims, so a program could make new ones forever)
MAX_CODES = 4096


def code_for(exc: type, message: str):
    """The error code (>= 1) a kernel stores in word[0] to have ``exc(message.format(value))``
    raised, ``value`` being what it stores in word[1]; None once MAX_CODES are taken (the
    caller then checks on the host)."""
    code = _CODES.get((exc, message))
    if code is None and len(_MESSAGES) < MAX_CODES:
        code = _CODES[(exc, message)] = len(_MESSAGES) + 1
        _MESSAGES[code] = (exc, message)
    return code


TARGET_OUT_OF_BOUNDS = code_for(IndexError, "Target {} is out of bounds.")

_CU_MEMHOSTALLOC_PORTABLE, _CU_MEMHOSTALLOC_DEVICEMAP = 1, 2

_words = {}   # device index -> the word as a tritensor int64 tensor of 2 elements on that device
_views = []   # the words' host views (numpy int64[2]), read by raise_pending
_keep = []    # their host allocations


def word(device) -> Tensor:
    """Device ``device``'s error word, a (2,) int64 tensor for kernels to write into."""
    index = device.index or 0
    t = _words.get(index)
    if t is None:
        pool = _mem.pool(index)
        if _mem.interpreting():
            host = np.zeros(16, np.uint8)
            ptr = host.ctypes.data
            data = host
        else:
            allocation = _mem.HostAllocation(16, _CU_MEMHOSTALLOC_PORTABLE | _CU_MEMHOSTALLOC_DEVICEMAP)
            host = allocation.array
            host[:] = 0
            ptr = int(_mem._check(_mem._cu().cuMemHostGetDevicePointer(allocation.ptr, 0)))
            data = None
            _keep.append(allocation)
        # not counted in memory_allocated (rounded 0) and never returned to the pool (no home)
        storage = _mem.CudaStorage(data, device, ptr, 16, pool, 0, None)
        t = _words[index] = Tensor._make(storage, (2,), (1,), 0, dt.int64)
        _views.append(host.view(np.int64))
        _mem.raise_device_errors = raise_pending
    return t


def raise_pending() -> None:
    """Raise (and clear) the first error a kernel recorded on any device since the last call."""
    for view in _views:
        if view[0]:
            code, value = int(view[0]), int(view[1])
            view[:] = 0
            exc, text = _MESSAGES[code]
            raise exc(text.format(value) + " (found by a kernel on device 'cuda' and reported at the next "
                      "call that waited for the device, as CUDA reports device-side asserts)")
