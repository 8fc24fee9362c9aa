"""Replaying a backend function's launches: the GPU's fast path for repeated op calls.

An eager training loop calls the same ops on the same shapes, strides and dtypes every step;
only the memory changes. For a backend function that writes into tensors it is given, and
otherwise only allocates temporaries and launches kernels (``reduce``, ``_matmul``, ``cat``
...), the Python that turns layouts into tiles, grids, collapsed strides, constexprs and
specialisation keys gives the same answer every time. ``replayable(fn)`` therefore runs ``fn``
in full once per layout key, capturing what it launches and allocates, and later calls
replay the capture: allocate the same temporaries, put each pointer back (the new tensor's
address plus the recorded offset from it), pick the compiled kernel by the pointers' 16-byte
alignment (Triton's specialisation) and launch.

A capture is not kept when the function moves bytes between host and device (its result
could depend on them), hands a kernel memory that is neither an argument's nor a temporary's,
or returns a value: such a call runs in full every time. Arguments that share a storage (an
in-place op, ``x @ x``) add the sharing to the key, so a replay sees the same aliasing.
Functions whose launches depend on global state name it (``state=``) so it joins the key. The
emulated device never replays: its launches go through Triton's interpreter.
``TRITENSOR_REPLAY=0`` turns replays off (every call runs in full), to tell whether a wrong
result on a GPU comes from them; ``bench/gpu_check.py`` reruns a failing test file that way.
"""
from __future__ import annotations

import functools
import math
import os

from ..tensor import Tensor
from . import cuda_memory as _mem
from .cuda_memory import KernelPointer, allocate
from .cuda_memory import captures as _captures
from ..kernels.triton import launch as _launch

#: layout keys kept per function before its cache starts afresh
MAX_PLANS = 1024
#: TRITENSOR_REPLAY=0: never replay (read once)
ENABLED = os.environ.get("TRITENSOR_REPLAY", "1") != "0"
_NOT_REPLAYABLE = object()


class Capture:
    """What one call launched (kernel, grid, args, options) and allocated, in order."""

    __slots__ = ("launches", "temps", "valid")

    def __init__(self):
        self.launches = []
        self.temps = []
        self.valid = True


class _Step:
    """One captured launch: its arguments with the pointers left as slots."""

    __slots__ = ("kernel", "grid", "options", "args", "raw", "slots", "pointer_tuples", "compiled")

    def __init__(self, kernel, grid, args, options, raw, slots, pointer_tuples):
        self.kernel, self.grid, self.options, self.args = kernel, grid, options, args
        self.raw = raw        # launcher arguments as captured (pointers as ints)
        #: (argument position, index in it if the argument is a tuple else -1, source index,
        #: byte offset from the source's data)
        self.slots = slots
        self.pointer_tuples = pointer_tuples  # positions of tuple arguments holding pointers
        self.compiled = {}    # pointer alignment bits -> compile_kernel entry


class _Plan:
    __slots__ = ("steps", "temp_sizes", "device")

    def __init__(self, steps, temp_sizes, device):
        self.steps, self.temp_sizes, self.device = steps, temp_sizes, device


def replayable(fn=None, *, state=None):
    """Decorate an out-style backend function (it returns None) to replay its launches on a
    GPU; ``state()`` (optional) is global state its launches depend on."""
    if fn is None:
        return functools.partial(replayable, state=state)
    plans = _launch.kernel_cache({})  # layout key -> _Plan (which holds compiled kernels)

    @functools.wraps(fn)
    def call(*args):
        if _mem._INTERPRET or _captures.current is not None or not ENABLED:
            return fn(*args)  # emulated device, or inside another function's capture
        tensors = []
        key = _key(args, tensors)
        if key is None:
            return fn(*args)
        if len({id(t._storage) for t in tensors}) < len(tensors):
            key = (key, _aliasing(tensors))  # in-place ops, x @ x: the same sharing replays the same way
        if state is not None:
            key = (key, state())
        try:
            plan = plans.get(key)
        except TypeError:  # an unhashable argument: nothing to key a plan by
            return fn(*args)
        if plan is None:
            if len(plans) >= MAX_PLANS:
                plans.clear()
            plan = plans[key] = _capture(fn, args, tensors)
            return None
        if plan is _NOT_REPLAYABLE:
            return fn(*args)
        _replay(plan, tensors)
        return None

    call.plans = plans
    return call


def _key(args, tensors):
    """The layouts and values a call's launches are derived from; tensors are appended to
    ``tensors`` in order. None when the call cannot be replayed (a host tensor among them)."""
    key = []
    for a in args:
        if isinstance(a, Tensor):
            device = a._storage.device
            if device.type != "cuda":
                return None
            tensors.append(a)
            key.append((a._shape, a._stride, a.dtype, device.index))
        elif type(a) is float:
            key.append(repr(a) if a == 0.0 or math.isnan(a) else a)  # -0.0, nan: keys by their text
        elif type(a) in (tuple, list):
            inner = _key(a, tensors)
            if inner is None:
                return None
            key.append((type(a), inner))
        else:
            key.append((type(a), a))
    return tuple(key)


def _capture(fn, args, tensors):
    """Run ``fn`` capturing its launches; the plan to replay them, or _NOT_REPLAYABLE."""
    capture = _captures.current = Capture()
    try:
        result = fn(*args)
    finally:
        _captures.current = None
    if result is not None or not capture.valid or not tensors:
        return _NOT_REPLAYABLE
    sources = {}  # id(storage) -> (index of the first argument on it, its data address)
    for i, t in enumerate(tensors):
        sources.setdefault(id(t._storage), (i, t.data_ptr()))
    n = len(tensors)
    sources.update({id(s): (n + j, s.ptr) for j, s in enumerate(capture.temps)})
    steps = []
    for kernel, grid, launch_args, options in capture.launches:
        slots, raw, pointer_tuples = [], list(launch_args), []
        for pos, a in enumerate(launch_args):
            members = [(-1, a)] if type(a) is KernelPointer else \
                list(enumerate(a)) if type(a) is tuple and any(type(x) is KernelPointer for x in a) else ()
            for member, x in members:
                if type(x) is not KernelPointer:
                    continue
                source = sources.get(id(x.storage))
                if source is None:
                    return _NOT_REPLAYABLE
                ptr = x.storage.ptr + x.offset
                slots.append((pos, member, source[0], ptr - source[1]))
            if members and members[0][0] >= 0:
                pointer_tuples.append(pos)
                raw[pos] = _launch._raw(a)
            elif members:
                raw[pos] = a.storage.ptr + a.offset
        grid = tuple(grid) + (1,) * (3 - len(grid))
        steps.append(_Step(kernel, grid, _unbound(launch_args), options, raw, slots, pointer_tuples))
    return _Plan(steps, [s.nbytes_ for s in capture.temps], tensors[0]._storage.device)


def _unbound(launch_args):
    """The arguments with each pointer's storage dropped (its dtype kept for ``_compile``): a
    plan outlives the call it was captured from and must not keep that call's tensors alive."""
    def unbind(a):
        return KernelPointer(None, 0, a.dtype) if type(a) is KernelPointer else a
    return [tuple(unbind(x) for x in a) if type(a) is tuple else unbind(a) for a in launch_args]


def _aliasing(tensors):
    """Per tensor: the first tensor on the same storage and the byte distance between their
    data, which a replay needs to be the same as in the capture."""
    first = {}
    pattern = []
    for i, t in enumerate(tensors):
        j, base = first.setdefault(id(t._storage), (i, t.data_ptr()))
        pattern.append((j, t.data_ptr() - base))
    return tuple(pattern)


def _replay(plan, tensors):
    temps = [allocate(n, plan.device) for n in plan.temp_sizes]
    bases = [t._storage.ptr + t._offset * t.dtype.itemsize for t in tensors]
    bases += [s.ptr for s in temps]
    for step in plan.steps:
        raw = step.raw[:]
        for pos in step.pointer_tuples:
            raw[pos] = list(raw[pos])
        aligned = 0
        for pos, member, source, offset in step.slots:
            ptr = bases[source] + offset
            if member < 0:
                raw[pos] = ptr
            else:
                raw[pos][member] = ptr
            aligned = aligned << 1 | (ptr & 15 == 0)
        for pos in step.pointer_tuples:
            raw[pos] = tuple(raw[pos])
        entry = step.compiled.get(aligned)
        if entry is None:
            entry = step.compiled[aligned] = _compile(step, tensors, temps, raw)
        gx, gy, gz = step.grid
        _launch.run_compiled(entry, gx, gy, gz, raw)


def _compile(step, tensors, temps, raw):
    """The compiled kernel for this replay's pointers (another alignment than captured)."""
    storages = [t._storage for t in tensors] + temps
    args = [list(a) if pos in step.pointer_tuples else a for pos, a in enumerate(step.args)]
    for pos, member, source, _ in step.slots:
        storage = storages[source]
        if member < 0:
            args[pos] = KernelPointer(storage, raw[pos] - storage.ptr, step.args[pos].dtype)
        else:
            args[pos][member] = KernelPointer(storage, raw[pos][member] - storage.ptr,
                                              step.args[pos][member].dtype)
    args = [tuple(a) if pos in step.pointer_tuples else a for pos, a in enumerate(args)]
    return _launch.compile_kernel(step.kernel, step.grid, args, step.options)
