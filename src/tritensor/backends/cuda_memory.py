"""Device memory for the 'cuda' backend: storages, allocation, host<->device copies.

Two kinds of device exist behind one interface:

- the *emulated* device (``TRITON_INTERPRET=1``, no GPU needed): a storage owns a host
  numpy byte buffer and Triton's interpreter runs the kernels on it. The interpreter
  moves kernel arguments with torch's storage protocol (``untyped_storage()``, ``cpu()``,
  ``copy_``, ``new_empty``/``set_``); ``KernelPointer`` and ``CudaStorage`` implement it,
  so no torch is involved.
- a real GPU through NVIDIA's ``cuda-bindings`` (imported only when no interpreter is
  requested): blocks from the device's stream-ordered pool (``cuMemAllocAsync``), kept for
  reuse by this module's caching allocator (``DevicePool``), and ``cuMemcpy`` for copies.
  Without a GPU this path runs on tests/fake_gpu.py's stand-in driver.

Both keep the statistics behind ``tritensor.cuda.memory_allocated`` and friends, and
raise ``tritensor.cuda.OutOfMemoryError`` naming the requested and free bytes.
"""
from __future__ import annotations

import collections
import os
import threading
import weakref

import numpy as np

from ..device import device as _device
from ..storage import Storage
from .host_pool import RecyclingPool

#: torch's caching allocator hands out 512-byte blocks; the statistics count the same way.
_BLOCK = 512


#: read once, as triton reads it when the kernels are defined
_INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"


class _Captures(threading.local):
    """This thread's ``cuda_replay.Capture`` in progress (``current``; allocations and
    transfers are noted in it), or None. Per thread: another thread's ops are not part of it."""

    current = None


captures = _Captures()


def interpreting() -> bool:
    """True when kernels run in Triton's interpreter (the emulated device)."""
    return _INTERPRET


_triton_ok = None
_gpu_count = None


def _triton_importable() -> bool:
    global _triton_ok
    if _triton_ok is None:
        try:
            import triton  # noqa: F401
            _triton_ok = True
        except ImportError:
            _triton_ok = False
    return _triton_ok


def usable() -> bool:
    """Whether device 'cuda' can run: the interpreter with triton, or a real GPU."""
    if interpreting():
        return _triton_importable()
    return gpu_count() > 0 and _triton_importable()


def gpu_count() -> int:
    """Number of real GPUs (0 without cuda-bindings or a driver); probed once."""
    global _gpu_count
    if _gpu_count is None:
        _gpu_count = _driver_device_count()
    return _gpu_count


def device_count() -> int:
    return 1 if interpreting() and _triton_importable() else gpu_count()


# ------------------------------------------------------------------ per-device pools
class DevicePool:
    """One device's memory bookkeeping: the bytes live storages hold (``memory_allocated``,
    its peak, the per-process limit) and, on a GPU, the freed blocks kept for reuse.

    Eager code drops and allocates the same sizes every step, so a dying storage puts its
    block on the free list of its (stream, size) and the next allocation of that size on that
    stream takes it back: no driver call and no finalizer on the hot path. Reuse on the stream
    the block was freed on needs no sync, since one stream runs its kernels in order (torch's
    caching allocator relies on the same rule). ``release_cached`` hands the blocks back to
    the driver (``empty_cache``, or before an allocation that found the device full).
    """

    __slots__ = ("index", "allocated", "peak", "cached", "capacity", "fraction", "limit", "free")

    def __init__(self, index, capacity):
        self.index = index
        self.allocated = 0
        self.peak = 0
        self.cached = 0       # bytes in free blocks waiting for reuse (GPU only)
        self.capacity = capacity
        self.fraction = 1.0
        self.limit = capacity  # bytes this process may hold (set_per_process_memory_fraction)
        self.free = {}         # (stream handle, rounded bytes) -> device pointers

    def set_fraction(self, fraction):
        self.fraction = fraction
        self.limit = int(self.capacity * fraction)

    def release_cached(self):
        """Free every cached block on the stream it was last used on."""
        if self.cached:
            drv = _cu()
            context(self.index)
            for (stream, _), ptrs in self.free.items():
                for ptr in ptrs:
                    _check(drv.cuMemFreeAsync(ptr, stream))
                ptrs.clear()
            self.cached = 0


_pools = {}


def pool(index: int) -> DevicePool:
    """Device ``index``'s pool; the first call checks the ordinal and probes the capacity."""
    p = _pools.get(index)
    if p is None:
        if not 0 <= index < device_count():
            raise RuntimeError(f"CUDA error: invalid device ordinal (device cuda:{index} requested, "
                               f"{device_count()} available)")
        capacity = _host_memory() if interpreting() else _gpu_total_memory(index)
        p = _pools[index] = DevicePool(index, capacity)
    return p


# ------------------------------------------------------------------ storage
class CudaStorage(Storage):
    """A device allocation shared by a tensor and its views.

    On the emulated device ``data`` is the backing host uint8 array and the interpreter
    protocol (``cpu``/``copy_``) is a no-op, as the bytes already live in host memory. On a
    GPU ``data`` is None and ``ptr`` a device pointer, whose block goes back to its free list
    (``home``) when the storage dies.
    """

    __slots__ = ("ptr", "nbytes_", "pool", "rounded", "home")

    def __init__(self, data, device, ptr, nbytes, pool, rounded, home):
        self.data = data  # Storage's fields, set here: one call less per allocation
        self.device = device
        self.version = 0
        self.ptr = ptr
        self.nbytes_ = nbytes
        self.pool = pool
        self.rounded = rounded
        self.home = home

    def __del__(self):
        pool = self.pool
        pool.allocated -= self.rounded
        home = self.home
        if home is not None:
            home.append(self.ptr)
            pool.cached += self.rounded

    def nbytes(self) -> int:
        return self.nbytes_

    def data_ptr(self) -> int:
        return self.ptr

    def size(self) -> int:
        return self.nbytes_

    # torch storage protocol used by triton's interpreter
    def cpu(self):
        return self

    def copy_(self, other):
        if other is not self:
            raise RuntimeError("tritensor: unexpected storage copy from Triton's interpreter")
        return self


def allocate(nbytes: int, device: _device) -> CudaStorage:
    """``nbytes`` of device memory for a new storage: a cached block of the same rounded
    size on the current stream when one is free (the common case in a training loop)."""
    index = device.index or 0
    p = _pools.get(index) or pool(index)
    rounded = -(-(nbytes or 1) // _BLOCK) * _BLOCK
    if p.allocated + rounded > p.limit:
        _out_of_memory(nbytes, p.limit - p.allocated, index)
    if _INTERPRET:
        buf = np.zeros(max(nbytes, 1), np.uint8)
        storage = CudaStorage(buf, device, buf.ctypes.data, nbytes, p, rounded, None)
    else:
        stream = (_cuda or _import_cuda())._stream_handle(index)
        home = p.free.get((stream, rounded))
        if home:
            ptr = home.pop()
            p.cached -= rounded
        else:
            if home is None:
                home = p.free[(stream, rounded)] = []
            ptr = _gpu_allocate(p, rounded, stream)
        storage = CudaStorage(None, device, ptr, nbytes, p, rounded, home)
        capture = captures.current
        if capture is not None:
            capture.temps.append(storage)
    p.allocated += rounded
    if p.allocated > p.peak:
        p.peak = p.allocated
    return storage


_cuda = None


def _import_cuda():
    """``tritensor.cuda`` (which keeps the current streams), imported on first use."""
    global _cuda
    from .. import cuda
    _cuda = cuda
    return cuda


def _host_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 34


def _out_of_memory(requested, free, index):
    from ..cuda import OutOfMemoryError
    raise OutOfMemoryError(
        f"CUDA out of memory. Tried to allocate {_fmt_bytes(requested)} ({requested} bytes) on device "
        f"{index}; {_fmt_bytes(max(free, 0))} ({max(free, 0)} bytes) free for this process "
        f"({_fmt_bytes(pool(index).allocated)} already allocated by tritensor).")


def _fmt_bytes(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.2f} {unit}" if unit != "bytes" else f"{n} bytes"
        n /= 1024


# ------------------------------------------------------------------ host <-> device
#: ``cuda_errors.raise_pending`` once a kernel has been given an error word (None before):
#: every call that waits for the device calls it
raise_device_errors = None


def download(storage: CudaStorage, byte_offset: int, nbytes: int) -> np.ndarray:
    """A fresh host copy of ``nbytes`` bytes of ``storage`` from ``byte_offset``."""
    if captures.current is not None:
        captures.current.valid = False
    if interpreting() or isinstance(storage.data, np.ndarray):
        out = storage.data[byte_offset:byte_offset + nbytes].copy()
    else:
        out = np.empty(nbytes, np.uint8)
        if nbytes:
            _gpu_copy_dtoh(out, storage.ptr + byte_offset, nbytes)
    if raise_device_errors is not None:  # the copy waited for the stream: report what kernels found
        raise_device_errors()
    return out


def upload(storage: CudaStorage, byte_offset: int, host: np.ndarray, non_blocking=False) -> None:
    """Copy the bytes of contiguous host array ``host`` into ``storage`` at ``byte_offset``
    (``non_blocking``: see ``_gpu_copy_htod``)."""
    if captures.current is not None:
        captures.current.valid = False
    src = np.ascontiguousarray(host).reshape(-1).view(np.uint8)
    if isinstance(storage.data, np.ndarray):
        storage.data[byte_offset:byte_offset + src.size] = src
    elif src.size:
        _gpu_copy_htod(storage.ptr + byte_offset, src, non_blocking)


class KernelPointer:
    """A pointer kernel argument: ``data_ptr()`` and ``dtype`` as Triton reads them.

    Under the interpreter it also answers the torch-tensor protocol that the interpreter
    uses to stage arguments (``untyped_storage``, ``storage_offset``, ``new_empty``,
    ``set_``); since the storage is host memory, staging is the identity.
    """

    __slots__ = ("storage", "offset", "dtype")

    def __init__(self, storage, offset, dtype):
        self.storage = storage
        self.offset = offset  # bytes
        self.dtype = dtype    # a name Triton understands: 'float32', 'bfloat16', 'int1' ...

    def data_ptr(self) -> int:
        return self.storage.ptr + self.offset

    def untyped_storage(self):
        return self.storage

    def storage_offset(self):
        return self.offset

    def size(self):
        return ()

    def stride(self):
        return ()

    def new_empty(self, *args, **kwargs):
        return KernelPointer(None, 0, self.dtype)

    def set_(self, storage, offset, size, stride):
        self.storage, self.offset = storage, offset
        return self


# ------------------------------------------------------------------ pinned host memory
class PinnedStorage(Storage):
    """A CPU storage in page-locked host memory (``Tensor.pin_memory``): the GPU's copy
    engine reads and writes it directly, without staging through a driver buffer.

    On a GPU the bytes are a ``HostAllocation``, which goes back to the pinned cache when the
    storage dies. The emulated device has no copy engine, so there the bytes are ordinary
    host memory and only the pinned flag (``is_pinned``) is kept.
    """

    __slots__ = ("allocation",)

    def __del__(self):
        if self.allocation is not None:
            try:
                PINNED.give(self.allocation, self.allocation.__array_interface__["shape"][0])
            except Exception:  # pragma: no cover - interpreter shutdown
                pass


def pinned_storage(nbytes: int, np_dtype: np.dtype, device) -> PinnedStorage:
    """``nbytes`` of page-locked host memory viewed as a flat ``np_dtype`` array."""
    if interpreting():
        allocation, raw = None, np.empty(nbytes, np.uint8)
    else:
        allocation = PINNED.take(nbytes)
        raw = allocation.array[:nbytes]
    storage = PinnedStorage(raw.view(np_dtype), device)
    storage.allocation = allocation
    return storage


# Pinning and unpinning memory are slow driver calls, and freeing page-locked memory waits for
# the device: a DataLoader with pin_memory=True would pay both for every batch. So, as torch's
# caching host allocator does, a dead pinned storage's allocation waits in this pool, by
# power-of-two size class, for the next pin of that class; a numpy view of the old tensor or an
# upload still in flight (``_in_flight``) keeps it referenced, so it is not handed out meanwhile.
PINNED = RecyclingPool(lambda nbytes: max(4096, 1 << (max(nbytes, 1) - 1).bit_length()),
                       lambda size: HostAllocation(size), 1 << 30)


def release_pinned_cache() -> None:
    """Let every cached pinned allocation go (each is unpinned when nothing holds it)."""
    PINNED.clear()


# ------------------------------------------------------------------ real GPU (cuda-bindings)
# Everything below runs only with a GPU; it is kept small and import-guarded.
_driver = None


def _cu():
    """``cuda.bindings.driver``, initialised; None when unavailable."""
    global _driver
    if _driver is None:
        try:
            from cuda.bindings import driver
        except ImportError:
            _driver = False
            return None
        err, = driver.cuInit(0)
        _driver = driver if err == driver.CUresult.CUDA_SUCCESS else False
    return _driver or None


def _check(result):
    err, *rest = result
    drv = _cu()
    if err != drv.CUresult.CUDA_SUCCESS:
        raise RuntimeError(f"CUDA driver error: {err}")
    return rest[0] if len(rest) == 1 else rest


def _driver_device_count() -> int:
    if interpreting():
        return 0
    drv = _cu()
    if drv is None:
        return 0
    err, n = drv.cuDeviceGetCount()
    return n if err == drv.CUresult.CUDA_SUCCESS else 0


_contexts = {}


def context(index: int):
    """Make the primary context of GPU ``index`` current (once per thread is enough)."""
    drv = _cu()
    ctx = _contexts.get(index)
    if ctx is None:
        dev = _check(drv.cuDeviceGet(index))
        ctx = _contexts[index] = _check(drv.cuDevicePrimaryCtxRetain(dev))
        pool = _check(drv.cuDeviceGetDefaultMemPool(dev))
        threshold = drv.cuuint64_t(2**64 - 1)  # keep freed blocks in the pool
        _check(drv.cuMemPoolSetAttribute(pool, drv.CUmemPool_attribute.CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                         threshold))
    _check(drv.cuCtxSetCurrent(ctx))
    return ctx


class HostAllocation:
    """Page-locked host memory from ``cuMemHostAlloc``. It exports itself to numpy
    (``__array_interface__``), so every array view of it keeps it alive, and it is freed
    with ``cuMemFreeHost`` only after the last one is gone."""

    __slots__ = ("ptr", "__array_interface__", "__weakref__")

    def __init__(self, nbytes, flags=0):
        drv = _cu()
        context(0)
        self.ptr = int(_check(drv.cuMemHostAlloc(nbytes, flags)))
        self.__array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (self.ptr, False),
                                    "version": 3}
        weakref.finalize(self, drv.cuMemFreeHost, self.ptr)

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self)


def _gpu_allocate(p: DevicePool, nbytes, stream) -> int:
    """A new block from the device's stream-ordered pool. When the device is full, the
    blocks cached for reuse go back to the driver first (a context sync makes their frees
    complete, whatever stream they were on) and the allocation is tried once more."""
    drv = _cu()
    context(p.index)
    err, ptr = drv.cuMemAllocAsync(nbytes, stream)
    if err == drv.CUresult.CUDA_ERROR_OUT_OF_MEMORY and p.cached:
        p.release_cached()
        _check(drv.cuCtxSynchronize())
        err, ptr = drv.cuMemAllocAsync(nbytes, stream)
    if err == drv.CUresult.CUDA_ERROR_OUT_OF_MEMORY:
        free, _ = _check(drv.cuMemGetInfo())
        _out_of_memory(nbytes, free, p.index)
    if err != drv.CUresult.CUDA_SUCCESS:
        raise RuntimeError(f"CUDA driver error: {err}")
    return int(ptr)


def _gpu_total_memory(index) -> int:
    drv = _cu()
    context(index)
    return _check(drv.cuDeviceTotalMem(_check(drv.cuDeviceGet(index))))


def _gpu_copy_dtoh(out, src_ptr, nbytes):
    from ..cuda import current_stream
    drv = _cu()
    stream = current_stream().handle
    _check(drv.cuMemcpyDtoHAsync(out.ctypes.data, src_ptr, nbytes, stream))
    _check(drv.cuStreamSynchronize(stream))


def _gpu_copy_htod(dst_ptr, src, non_blocking=False):
    """Queue a host-to-device copy on the current stream without waiting for the stream.

    From pageable memory (every caller's staging array) the driver copies the bytes into its
    own staging buffer before ``cuMemcpyHtoDAsync`` returns (CUDA's "API synchronization
    behavior"), so ``src`` may be freed or reused at once, and kernels queued before the copy
    keep running. An optimizer step or GradScaler check uploads its small tables this way
    every step: a stream sync there would stall the host until the whole backward pass had run.
    Page-locked memory (a view of a ``HostAllocation``) is read by DMA later: the copy waits
    for the stream, unless ``non_blocking`` (torch's ``pin_memory()`` + ``to(...,
    non_blocking=True)``), where an event keeps the memory alive until the copy has run."""
    drv = _cu()
    stream = (_cuda or _import_cuda())._current_stream_handle()
    _check(drv.cuMemcpyHtoDAsync(dst_ptr, src.ctypes.data, src.size, stream))
    if _in_page_locked_memory(src):
        if non_blocking:
            _keep_until_copied(src, stream)
        else:
            _check(drv.cuStreamSynchronize(stream))


#: (event, host array) of asynchronous uploads from page-locked memory not yet seen finished
_in_flight = collections.deque()


def _keep_until_copied(array, stream):
    """Hold ``array`` (and so its page-locked allocation) until the copy just queued on
    ``stream`` has run; finished ones are let go on the way."""
    drv = _cu()
    while _in_flight and drv.cuEventQuery(_in_flight[0][0])[0] == drv.CUresult.CUDA_SUCCESS:
        drv.cuEventDestroy(_in_flight.popleft()[0])
    event = _check(drv.cuEventCreate(drv.CUevent_flags.CU_EVENT_DISABLE_TIMING.value))
    _check(drv.cuEventRecord(event, stream))
    _in_flight.append((event, array))


def _in_page_locked_memory(array) -> bool:
    base = array
    while base is not None:
        if isinstance(base, HostAllocation):
            return True
        base = getattr(base, "base", None)
    return False
