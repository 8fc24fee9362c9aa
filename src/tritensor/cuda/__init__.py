"""``tritensor.cuda``: device queries, memory statistics, streams and events.

A CUDA device exists when tritensor's Triton backend can run: on a real GPU (through
cuda-bindings) or, with ``TRITON_INTERPRET=1``, as one emulated device whose memory is
host memory and whose kernels run in Triton's interpreter. Without either, every query
that needs a device raises a RuntimeError saying so.
"""
from __future__ import annotations

import threading
import time

from ..backends import cuda_memory as _mem


class OutOfMemoryError(RuntimeError):
    """Raised when a device allocation fails; the allocator stays usable afterwards."""


def is_available() -> bool:
    return _mem.usable()


def device_count() -> int:
    return _mem.device_count() if _mem.usable() else 0


def is_initialized() -> bool:
    return _mem.usable()


def _require():
    if not _mem.usable():
        raise RuntimeError("Found no CUDA device: tritensor's GPU (Triton) backend needs an NVIDIA GPU with "
                           "cuda-bindings and triton, or TRITON_INTERPRET=1 for the emulated device; "
                           "use device='cpu'")


class _ThreadState(threading.local):
    """Per thread, as in torch: the current device and each device's current stream. Both
    exist from a thread's first use (a missing thread-local attribute costs an exception
    per lookup, and the launch path asks for the stream every time)."""

    def __init__(self):
        self.device = 0
        self.streams = {}  # device index -> Stream made current on this thread


_local = _ThreadState()


def current_device() -> int:
    _require()
    return _local.device


def _index(device) -> int:
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    from ..device import device as _device
    d = _device(device)
    return d.index if d.index is not None else current_device()


def set_device(device) -> None:
    _require()
    index = _index(device)
    if not 0 <= index < device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index}")
    _local.device = index


def get_device_name(device=None) -> str:
    _require()
    index = _index(device)
    if _mem.interpreting():
        return "Triton interpreter (emulated CUDA device)"
    drv = _mem._cu()
    name = _mem._check(drv.cuDeviceGetName(256, _mem._check(drv.cuDeviceGet(index))))
    return name.split(b"\0", 1)[0].decode()


def synchronize(device=None) -> None:
    """Wait for all work on the device (the emulated device runs synchronously)."""
    _require()
    if not _mem.interpreting():
        _mem.context(_index(device))
        _mem._check(_mem._cu().cuCtxSynchronize())
    _raise_device_errors()


def _raise_device_errors():
    """Raise what kernels found wrong with their input since the last wait (``cuda_errors``)."""
    if _mem.raise_device_errors is not None:
        _mem.raise_device_errors()


def empty_cache() -> None:
    """Return the blocks cached for reuse to the driver, and the driver's pool to the device;
    cached pinned host memory is unpinned too (nothing to do on the emulated device, whose
    storages are host arrays)."""
    if _mem.usable() and not _mem.interpreting():
        _mem.release_pinned_cache()
        drv = _mem._cu()
        for index in range(device_count()):
            _mem.context(index)
            _mem.pool(index).release_cached()
            pool = _mem._check(drv.cuDeviceGetDefaultMemPool(_mem._check(drv.cuDeviceGet(index))))
            _mem._check(drv.cuCtxSynchronize())  # the frees above are stream-ordered
            _mem._check(drv.cuMemPoolTrimTo(pool, 0))


def _pool(device):
    return _mem.pool(_index(device)) if _mem.usable() else None


def memory_allocated(device=None) -> int:
    """Bytes held by live tensors' storages (in 512-byte blocks, as torch counts)."""
    p = _pool(device)
    return p.allocated if p is not None else 0


def max_memory_allocated(device=None) -> int:
    p = _pool(device)
    return p.peak if p is not None else 0


def memory_reserved(device=None) -> int:
    """Bytes held by live storages plus the freed blocks kept for reuse (the driver's pool
    may hold more; it is not counted)."""
    p = _pool(device)
    return p.allocated + p.cached if p is not None else 0


def is_bf16_supported(including_emulation=True) -> bool:
    return is_available()


def reset_peak_memory_stats(device=None) -> None:
    p = _pool(device)
    if p is not None:
        p.peak = p.allocated


def set_per_process_memory_fraction(fraction, device=None) -> None:
    """Cap this process's allocations at ``fraction`` of the device's memory."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    _mem.pool(_index(device)).set_fraction(float(fraction))


# ------------------------------------------------------------------ random number generators
# Each device's default generator is a (seed, offset) Philox stream (see tritensor/random.py).
# Without a device, seeding does nothing (torch defers it until CUDA initialises).
def _generator(device=None):
    from ..random import cuda_default_generator
    return cuda_default_generator(_index(device))


def manual_seed(seed) -> None:
    if is_available():
        _generator().manual_seed(seed)


def manual_seed_all(seed) -> None:
    from ..random import _cuda_seed_all
    _cuda_seed_all(seed)


def seed() -> None:
    if is_available():
        _generator().seed()


def seed_all() -> None:
    if is_available():
        manual_seed_all(_generator().seed())


def initial_seed() -> int:
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """The generator's state as a CPU uint8 tensor (seed then offset, 8 bytes each, like torch)."""
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    _generator(device).set_state(new_state)


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def __getattr__(name):
    if name == "default_generators":  # built on use: creating a generator needs the device
        return tuple(_generator(i) for i in range(device_count()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ streams and events
class Stream:
    """A CUDA stream (``handle`` is the CUstream; 0 is the default stream)."""

    def __init__(self, device=None, priority=0, *, _handle=None):
        _require()
        self.device_index = _index(device)
        if _handle is not None or _mem.interpreting():
            self.handle = _handle or 0
        else:
            _mem.context(self.device_index)
            drv = _mem._cu()
            self.handle = _mem._check(drv.cuStreamCreate(drv.CUstream_flags.CU_STREAM_NON_BLOCKING.value))

    @property
    def cuda_stream(self) -> int:
        return int(self.handle)

    def synchronize(self) -> None:
        if not _mem.interpreting():
            _mem._check(_mem._cu().cuStreamSynchronize(self.handle))
        _raise_device_errors()

    def wait_stream(self, other) -> None:
        if not _mem.interpreting() and other.handle != self.handle:
            event = Event()
            event.record(other)
            self.wait_event(event)

    def wait_event(self, event) -> None:
        if not _mem.interpreting():
            _mem._check(_mem._cu().cuStreamWaitEvent(self.handle, event.handle, 0))

    def query(self) -> bool:
        if _mem.interpreting():
            return True
        drv = _mem._cu()
        return drv.cuStreamQuery(self.handle)[0] == drv.CUresult.CUDA_SUCCESS

    def __enter__(self):
        self._prev = current_stream(self.device_index)
        _local.streams[self.device_index] = self
        return self

    def __exit__(self, *exc):
        _local.streams[self.device_index] = self._prev

    def __eq__(self, other):
        return isinstance(other, Stream) and other.handle == self.handle

    def __hash__(self):
        return hash(int(self.handle))

    def __repr__(self):
        return f"<tritensor.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None) -> Stream:
    index = _index(device)
    s = _local.streams.get(index)
    if s is None:
        s = _local.streams[index] = Stream(index, _handle=0)
    return s


def set_stream(stream: Stream) -> None:
    """Make ``stream`` the current stream of its device (``torch.cuda.set_stream``)."""
    _local.streams[stream.device_index] = stream


def _current_stream_handle() -> int:
    """The current device's current stream as an int: the kernel launch path's query,
    without ``current_stream``'s device checks (a launch already has a usable device)."""
    local = _local
    s = local.streams.get(local.device)
    return 0 if s is None else s.cuda_stream


def _stream_handle(index: int) -> int:
    """Device ``index``'s current stream as an int: the allocator's query."""
    s = _local.streams.get(index)
    return 0 if s is None else s.cuda_stream


def default_stream(device=None) -> Stream:
    return Stream(_index(device), _handle=0)


def stream(s):
    """Context manager making ``s`` the current stream."""
    return s if s is not None else _NullContext()


class _NullContext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class Event:
    """A CUDA event; ``elapsed_time`` is in milliseconds, like torch."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        _require()
        self.enable_timing = enable_timing
        self._time = None
        self.handle = None
        if not _mem.interpreting():
            _mem.context(current_device())
            drv = _mem._cu()
            flags = 0 if enable_timing else drv.CUevent_flags.CU_EVENT_DISABLE_TIMING.value
            self.handle = _mem._check(drv.cuEventCreate(flags))

    def record(self, stream=None) -> None:
        stream = stream or current_stream()
        if self.handle is None:
            self._time = time.perf_counter()
        else:
            _mem._check(_mem._cu().cuEventRecord(self.handle, stream.handle))

    def synchronize(self) -> None:
        if self.handle is not None:
            _mem._check(_mem._cu().cuEventSynchronize(self.handle))
        _raise_device_errors()

    def query(self) -> bool:
        if self.handle is None:
            return True
        drv = _mem._cu()
        return drv.cuEventQuery(self.handle)[0] == drv.CUresult.CUDA_SUCCESS

    def wait(self, stream=None) -> None:
        (stream or current_stream()).wait_event(self)

    def elapsed_time(self, end_event) -> float:
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self.handle is None:
            if self._time is None or end_event._time is None:
                raise RuntimeError("Both events must be recorded before calculating elapsed time.")
            return (end_event._time - self._time) * 1000.0
        return _mem._check(_mem._cu().cuEventElapsedTime(self.handle, end_event.handle))


# ------------------------------------------------------------------ warm-up
def warmup(dtypes=None) -> None:
    """Compile and load the kernels of common ops before the first real call.

    Triton compiles a kernel for each specialisation it meets (dtypes, 16-byte alignment,
    sizes divisible by 16, constexprs); the first call of an op otherwise pays that (up to a
    second per kernel, less from triton's disk cache). This runs elementwise ops, reductions,
    softmax, cat and matmul once per dtype (default: float32, float16, bfloat16) on aligned
    tensors of a few thousand elements, so later calls of the same kinds launch the cached
    kernels directly. Kernels for other shapes' specialisations still compile on first use.
    """
    _require()
    from .. import float16, float32, bfloat16, ones, cat, softmax
    for dtype in dtypes or (float32, float16, bfloat16):
        x = ones(64, 64, dtype=dtype, device="cuda")
        y = x * 2 + x
        y.sum(), y.sum(0), y.sum(1), softmax(y, 1), cat([x, y]), y.relu(), y.t() + x
        x @ y, x.t() @ y
    synchronize()
