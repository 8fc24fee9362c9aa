"""A driverless GPU: the real-GPU host path of the 'cuda' backend without a GPU.

``driverless_gpu(monkeypatch)`` makes tritensor believe a GPU is present: ``cuda-bindings``
is replaced by ``FakeDriver`` (device memory is host memory, so uploads and downloads copy
real bytes; every driver call is logged) and Triton's compilation by ``FakeCompiled``, whose
launcher records its arguments instead of running a kernel. What runs is tritensor's own
code for a GPU: allocation and its cache, streams, the launch path with its specialisation
keys and the fast lanes. Kernel results are not computed; tests check what was asked of the
driver and the launcher. ``bench/host_overhead.py`` times the same path.
"""
from __future__ import annotations

import ctypes
import itertools
from types import SimpleNamespace

import numpy as np

#: the launcher calls of the current driverless session:
#: (kernel name, grid, stream, the compiled kernel's CUfunction, args)
launches = []


class _Result:
    CUDA_SUCCESS = 0
    CUDA_ERROR_OUT_OF_MEMORY = 2


class FakeDriver:
    """The part of ``cuda.bindings.driver`` tritensor calls, on host memory."""

    CUresult = _Result
    CUmemPool_attribute = SimpleNamespace(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD=1)
    CUstream_flags = SimpleNamespace(CU_STREAM_NON_BLOCKING=SimpleNamespace(value=1))
    CUevent_flags = SimpleNamespace(CU_EVENT_DISABLE_TIMING=SimpleNamespace(value=2))
    CUdevice_attribute = SimpleNamespace(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT=16)

    def __init__(self, capacity=1 << 30):
        self.capacity = capacity
        self.blocks = {}  # device pointer -> host buffer standing in for device memory
        self.calls = []   # (driver function, first argument) in order
        self._handles = itertools.count(101)

    @property
    def used(self):
        return sum(b.size for b in self.blocks.values())

    def _log(self, name, arg=None):
        self.calls.append((name, arg))

    def count(self, name):
        return sum(1 for c in self.calls if c[0] == name)

    @staticmethod
    def cuuint64_t(v):
        return v

    # context and device
    def cuInit(self, flags):
        return (0,)

    def cuDeviceGetCount(self):
        return 0, 1

    def cuDeviceGet(self, index):
        return 0, index

    def cuDevicePrimaryCtxRetain(self, dev):
        return 0, f"ctx{dev}"

    def cuDeviceGetDefaultMemPool(self, dev):
        return 0, f"pool{dev}"

    def cuMemPoolSetAttribute(self, pool, attr, value):
        return (0,)

    def cuCtxSetCurrent(self, ctx):
        self._log("cuCtxSetCurrent", ctx)
        return (0,)

    def cuCtxSynchronize(self):
        self._log("cuCtxSynchronize")
        return (0,)

    def cuDeviceGetAttribute(self, attribute, dev):
        return 0, 132  # an H100's SMs

    def cuDeviceTotalMem(self, dev):
        return 0, self.capacity

    def cuMemGetInfo(self):
        return 0, self.capacity - self.used, self.capacity

    def cuMemPoolTrimTo(self, pool, keep):
        self._log("cuMemPoolTrimTo", keep)
        return (0,)

    # memory
    def cuMemAllocAsync(self, nbytes, stream):
        self._log("cuMemAllocAsync", nbytes)
        if self.used + nbytes > self.capacity:
            return _Result.CUDA_ERROR_OUT_OF_MEMORY, None
        buf = np.zeros(nbytes, np.uint8)
        self.blocks[buf.ctypes.data] = buf
        return 0, buf.ctypes.data

    def cuMemFreeAsync(self, ptr, stream):
        self._log("cuMemFreeAsync", ptr)
        del self.blocks[ptr]
        return (0,)

    def cuMemHostAlloc(self, nbytes, flags):
        self._log("cuMemHostAlloc", nbytes)
        buf = np.zeros(nbytes, np.uint8)
        self.blocks[buf.ctypes.data] = buf
        return 0, buf.ctypes.data

    def cuMemHostGetDevicePointer(self, ptr, flags):
        return 0, ptr  # unified addressing: the device sees mapped host memory at its host address

    def cuMemFreeHost(self, ptr):
        self._log("cuMemFreeHost", ptr)
        self.blocks.pop(ptr, None)
        return (0,)

    def cuMemcpyHtoDAsync(self, dst, src, nbytes, stream):
        self._log("cuMemcpyHtoDAsync", nbytes)
        ctypes.memmove(dst, src, nbytes)
        return (0,)

    def cuMemcpyDtoHAsync(self, dst, src, nbytes, stream):
        self._log("cuMemcpyDtoHAsync", nbytes)
        ctypes.memmove(dst, src, nbytes)
        return (0,)

    # streams and events
    def cuStreamCreate(self, flags):
        return 0, next(self._handles)

    def cuStreamSynchronize(self, stream):
        self._log("cuStreamSynchronize", stream)
        return (0,)

    def cuEventCreate(self, flags):
        return 0, next(self._handles)

    def cuEventRecord(self, event, stream):
        self._log("cuEventRecord", event)
        return (0,)

    def cuEventQuery(self, event):
        return (0,)  # the stand-in device has always finished

    def cuEventDestroy(self, event):
        self._log("cuEventDestroy", event)
        return (0,)

    def cuEventSynchronize(self, event):
        return (0,)

    def cuStreamWaitEvent(self, stream, event, flags):
        return (0,)


class FakeCompiled:
    """What ``kernel.warmup`` returns on a GPU: a launcher (``run``) and its handles."""

    packed_metadata = (4, 1, 0)
    _serial = itertools.count()

    def __init__(self, kernel):
        self.name = getattr(kernel, "__name__", None) or kernel.fn.__name__
        self.function = f"CUfunction<{self.name}#{next(self._serial)}>"  # one per compilation

    def run(self, gx, gy, gz, stream, function, packed, meta, enter, leave, *args):
        launches.append((self.name, (gx, gy, gz), stream, function, args))

    def launch_metadata(self, grid, stream, *args):
        return None


def _warmup(kernel, *args, grid, **options):
    return FakeCompiled(kernel)


def driverless_gpu(monkeypatch, capacity=1 << 30) -> FakeDriver:
    """Switch tritensor's 'cuda' device to the real-GPU path on a ``FakeDriver`` (undone by
    ``monkeypatch``; call ``launch.forget_compiled()`` after it, the kernel caches then hold
    stand-ins): no interpreter, one device of ``capacity`` bytes, an empty allocator cache and
    kernel caches, launches recorded in ``launches``."""
    import triton
    from triton.runtime.interpreter import InterpretedFunction

    from tritensor import backends
    from tritensor.backends import cuda as cuda_backend
    from tritensor.backends import cuda_errors, cuda_memory
    from tritensor.kernels.triton import launch
    from tritensor.kernels.triton import optim as optim_kernels

    driver = FakeDriver(capacity)
    # the 'cuda' backend registers itself on first use: forget that afterwards (without a GPU,
    # 'cuda' must stay unavailable for the other tests)
    monkeypatch.setattr(backends, "_BACKENDS", {k: v for k, v in backends._BACKENDS.items() if k != "cuda"})
    monkeypatch.setattr(cuda_backend, "_sms", None)  # probed from the stand-in: 132, an H100's
    monkeypatch.setattr(cuda_memory, "_INTERPRET", False)
    monkeypatch.setattr(cuda_memory, "_driver", driver)
    monkeypatch.setattr(cuda_memory, "_gpu_count", 1)
    monkeypatch.setattr(cuda_memory, "_pools", {})
    monkeypatch.setattr(cuda_memory, "_contexts", {})
    monkeypatch.setattr(cuda_memory, "_in_flight", type(cuda_memory._in_flight)())
    monkeypatch.setattr(cuda_memory.PINNED, "free", {})
    monkeypatch.setattr(cuda_memory.PINNED, "held", 0)
    monkeypatch.setattr(cuda_memory, "raise_device_errors", None)
    monkeypatch.setattr(cuda_errors, "_words", {})
    monkeypatch.setattr(cuda_errors, "_views", [])
    monkeypatch.setattr(optim_kernels, "_TABLES", {})
    launch.forget_compiled()
    monkeypatch.setattr(launch, "_RECORD", None)
    for cls in (triton.runtime.JITFunction, InterpretedFunction):
        monkeypatch.setattr(cls, "warmup", _warmup, raising=False)
    launches.clear()
    return driver
