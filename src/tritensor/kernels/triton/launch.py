"""Launching Triton kernels: the interpreter path and the cached direct-launch path.

``launch(kernel, grid, *args, **options)`` takes every kernel argument positionally
(constexprs included, in the kernel's parameter order); pointer arguments are
``KernelPointer``s. ``options`` are Triton compile options (``num_warps``, ``num_stages``,
``enable_fp_fusion``...), which the interpreter ignores.

- Under ``TRITON_INTERPRET=1`` it calls ``kernel[grid](*args)``: the interpreter runs the
  kernel's Python body on host memory.
- On a GPU, ``kernel[grid](...)`` costs 14-22 us of Python per call (argument binding,
  specialisation, cache lookup, launch metadata). Instead each specialisation is compiled
  once with ``kernel.warmup(*args, grid=grid, **options)`` (which returns the
  ``CompiledKernel`` in triton 3.6 and 3.9) and later calls go straight to its launcher,
  ``compiled.run(gx, gy, gz, stream, function, packed_metadata, launch_metadata,
  enter_hook, exit_hook, *args)``, with integer pointers and the current stream: the same
  call ``JITFunction.run`` makes, minus its bookkeeping. That launcher takes every argument
  (it skips the constexpr ones itself) and an int as a pointer without probing it.

  The specialisation key mirrors triton's: pointer dtype and 16-byte alignment; for ints,
  value 1, divisibility by 16 and i32/i64/u64 range; constexpr values; the options. The
  compiled kernels stay referenced by ``_compiled``. Launch hooks (a profiler's
  ``knobs.runtime.launch_enter_hook``) are honoured when any are registered.

With ``TRITENSOR_RECORD_LAUNCHES=<path>`` set, every new specialisation (the same key) is
appended to <path> as a JSON line (``record.py``), for ``bench/compile_check.py`` to compile
for a real GPU; unset, it costs one flag test per launch.
"""
from __future__ import annotations

import operator
import os

import numpy as np
import triton.language as tl
from triton import knobs
from triton.runtime.interpreter import InterpretedFunction
from triton.runtime.jit import JITFunction

from ...backends import cuda_memory as _mem
from ...backends.cuda_memory import KernelPointer, interpreting

_compiled = {}
_caches = []      # other caches of compiled kernels (fast paths'), emptied with _compiled
_layouts = {}     # id(kernel) -> _layout's answer
_keep_alive = []  # the objects whose ids are in keys
_BY_IDENTITY = {JITFunction, InterpretedFunction, tl.dtype}
_runtime = knobs.runtime
_RECORD = os.environ.get("TRITENSOR_RECORD_LAUNCHES")
#: compile options of every kernel: no multiply-add contraction, so a GPU rounds each operation
#: as the interpreter and the CPU kernels do. A fused optimizer step then equals its per-op
#: reference bit for bit on every device; with contraction, ``a + alpha * b`` became one FMA in
#: the per-op kernel but not in the fused one (1 ulp apart on an H200). torch's CUDA build
#: contracts; results stay within its tolerances.
COMPILE_OPTIONS = {"enable_fp_fusion": False}


def launch(kernel, grid, *args, **options):
    if interpreting():
        _check_python_scalars(kernel, args)
        if _RECORD:
            _record(kernel, args, options)
        with np.errstate(all="ignore"):  # masked-off lanes may divide by zero, as on a GPU
            kernel[grid](*args, **options)
        return
    if _RECORD:
        _record(kernel, args, options)
    capture = _mem.captures.current
    if capture is not None:  # cuda_replay is capturing this op's launches
        capture.launches.append((kernel, grid, args, options))
    _launch_compiled(kernel, grid, args, options)


def _record(kernel, args, options):
    from .record import record
    record(_RECORD, kernel, args, options)


def _check_python_scalars(kernel, args):
    """The interpreter takes numpy scalars, a GPU launch does not ("failed to specialize
    argument of type: int64"): refuse them here so the emulated device's tests catch it."""
    for a in args:
        if isinstance(a, np.generic) or isinstance(a, tuple) and any(isinstance(x, np.generic) for x in a):
            raise TypeError(f"{kernel.__name__}: numpy scalar argument {a!r}; pass Python numbers "
                            "(a GPU launch cannot specialise numpy scalars)")


# ------------------------------------------------------------------ real GPU only
def spec(a):
    """The part of an argument that selects a compiled specialisation (type checks by
    identity: this runs for every argument of every launch)."""
    t = type(a)
    if t is int:
        return a == 1, a % 16 == 0, -2**31 <= a < 2**31, a >= 2**63
    if t is KernelPointer:
        return a.dtype, (a.storage.ptr + a.offset) % 16 == 0
    if t is tuple:
        return tuple(map(spec, a))
    return t  # bool, float, constexpr-like objects: triton does not specialise their values


def _raw(a):
    t = type(a)
    if t is KernelPointer:
        return a.storage.ptr + a.offset
    if t is tuple:
        return tuple(map(_raw, a))
    return a


def _layout(kernel):
    """(getter of the constexpr arguments as a tuple, positions of the others), once per kernel."""
    layout = _layouts.get(id(kernel))
    if layout is None:
        flags = constexpr_flags(kernel)
        const = [i for i, c in enumerate(flags) if c]
        getter = (operator.itemgetter(*const) if len(const) > 1 else
                  (lambda args: (args[const[0]],)) if const else (lambda args: ()))
        layout = _layouts[id(kernel)] = (getter, [i for i in range(len(flags)) if i not in const])
        _keep_alive.append(kernel)
    return layout


def constexpr_flags(kernel):
    """Per parameter, whether it is a ``tl.constexpr``: from a JITFunction's ``params``, or
    (an InterpretedFunction has none) from the annotations, as triton reads them."""
    params = getattr(kernel, "params", None)
    if params is not None:
        return [p.is_constexpr for p in params]
    import inspect
    return ["constexpr" in (a if isinstance(a, str) else getattr(a, "__name__", ""))
            for a in (p.annotation for p in inspect.signature(kernel.fn).parameters.values())]


def _prepare(kernel, args, options):
    """(specialisation key, launcher arguments): one pass over the non-constexpr arguments,
    pointers turned into ints on the way (``spec`` inlined for pointers and ints).

    The kernel, and constexpr values that are Triton functions or dtypes, enter the key by
    identity: their ``__hash__`` is Python code (a JITFunction's takes a lock), and a launch
    hashed several. They are module-level objects, kept alive here so an id is never reused."""
    getter, positions = _layouts.get(id(kernel)) or _layout(kernel)
    raw = list(args)
    specs = []
    for i in positions:
        a = args[i]
        t = type(a)
        if t is KernelPointer:
            ptr = raw[i] = a.storage.ptr + a.offset
            specs.append((a.dtype, ptr & 15 == 0))
        elif t is int:
            specs.append((a == 1, a & 15 == 0, -2**31 <= a < 2**31, a >= 2**63))
        elif t is tuple:
            raw[i] = _raw(a)
            specs.append(spec(a))
        else:
            specs.append(t)
    consts = [id(c) if type(c) in _BY_IDENTITY else c for c in getter(args)]
    key = (id(kernel), *consts, tuple(specs))
    return (key + tuple(options.items()) if options else key), raw


def kernel_cache(cache: dict) -> dict:
    """Register a fast path's own cache of compiled kernels, so ``forget_compiled`` empties it."""
    _caches.append(cache)
    return cache


def forget_compiled() -> None:
    """Drop every compiled kernel this process holds (tests that swap the compiler use it);
    the next launch of each specialisation compiles again (from triton's disk cache)."""
    _compiled.clear()
    for cache in _caches:
        cache.clear()


def compile_kernel(kernel, grid, args, options=None, key=None):
    """The compiled kernel for this specialisation, compiling it on first use (the warm-up):
    (CompiledKernel, its launcher, its CUfunction, its packed metadata)."""
    options = options or {}
    if key is None:
        key = _prepare(kernel, args, options)[0]
    entry = _compiled.get(key)
    if entry is None:
        _keep_alive.extend(c for c in _layout(kernel)[0](args) if type(c) in _BY_IDENTITY)
        compiled = kernel.warmup(*args, grid=grid, **{**COMPILE_OPTIONS, **options})
        run = compiled.run  # loads the module: sets compiled.function
        entry = _compiled[key] = (compiled, run, compiled.function, compiled.packed_metadata)
    return entry


def _launch_compiled(kernel, grid, args, options=None):
    key, raw = _prepare(kernel, args, options)
    entry = _compiled.get(key)
    if entry is None:
        entry = compile_kernel(kernel, grid, args, options, key)
    run_compiled(entry, grid[0], grid[1] if len(grid) > 1 else 1, grid[2] if len(grid) > 2 else 1, raw)


def run_compiled(entry, gx, gy, gz, raw):
    """Launch a ``compile_kernel`` entry on the current stream with launcher arguments ``raw``
    (every kernel argument, pointers as ints)."""
    compiled, run, function, packed = entry
    stream = (_cuda or _import_cuda())._current_stream_handle()
    enter, leave = _runtime.launch_enter_hook, _runtime.launch_exit_hook
    # a hook is active when set, unless it is one of triton's HookChains with nothing in it
    if getattr(enter, "calls", enter) or getattr(leave, "calls", leave):
        meta = compiled.launch_metadata((gx, gy, gz), stream, *raw)
        run(gx, gy, gz, stream, function, packed, meta, enter, leave, *raw)
    else:
        run(gx, gy, gz, stream, function, packed, None, None, None, *raw)


_cuda = None


def _import_cuda():
    """``tritensor.cuda``, imported on the first launch (it imports this module's users)."""
    global _cuda
    from ... import cuda
    _cuda = cuda
    return cuda


def cdiv(a, b):
    return -(-a // b)


_cuda_backend = None


def cuda_backend():
    """``backends.cuda``, bound on first use: it imports the kernel modules while it loads, so
    they cannot import it at their top."""
    global _cuda_backend
    if _cuda_backend is None:
        from ...backends import cuda
        _cuda_backend = cuda
    return _cuda_backend
