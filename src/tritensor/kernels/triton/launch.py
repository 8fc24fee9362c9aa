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
from triton import knobs

from ...backends.cuda_memory import KernelPointer, interpreting

_compiled = {}
_constexpr_positions = {}
_RECORD = os.environ.get("TRITENSOR_RECORD_LAUNCHES")


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
def _spec(a):
    """The part of an argument that selects a compiled specialisation (type checks by
    identity: this runs for every argument of every launch)."""
    t = type(a)
    if t is int:
        return a == 1, a % 16 == 0, -2**31 <= a < 2**31, a >= 2**63
    if t is KernelPointer:
        return a.dtype, (a.storage.ptr + a.offset) % 16 == 0
    if t is tuple:
        return tuple(map(_spec, a))
    return t  # bool, float, constexpr-like objects: triton does not specialise their values


def _raw(a):
    t = type(a)
    if t is KernelPointer:
        return a.storage.ptr + a.offset
    if t is tuple:
        return tuple(map(_raw, a))
    return a


def _layout(kernel):
    """(getter of the constexpr arguments, positions of the others), once per kernel."""
    layout = _constexpr_positions.get(kernel)
    if layout is None:
        flags = constexpr_flags(kernel)
        const = [i for i, c in enumerate(flags) if c]
        getter = operator.itemgetter(*const) if const else (lambda args: ())
        layout = _constexpr_positions[kernel] = (getter, [i for i in range(len(flags)) if i not in const])
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
    pointers turned into ints on the way (``_spec`` inlined for pointers and ints)."""
    getter, positions = _layout(kernel)
    raw = list(args)
    spec = []
    for i in positions:
        a = args[i]
        t = type(a)
        if t is KernelPointer:
            ptr = raw[i] = a.storage.ptr + a.offset
            spec.append((a.dtype, ptr % 16 == 0))
        elif t is int:
            spec.append((a == 1, a % 16 == 0, -2**31 <= a < 2**31, a >= 2**63))
        elif t is tuple:
            raw[i] = _raw(a)
            spec.append(_spec(a))
        else:
            spec.append(t)
    key = (kernel, getter(args), tuple(spec))
    return (key + tuple(sorted(options.items())) if options else key), raw


def compile_kernel(kernel, grid, args, options=None, key=None):
    """The compiled kernel for this specialisation, compiling it on first use (the warm-up):
    (CompiledKernel, its launcher, its CUfunction, its packed metadata)."""
    options = options or {}
    if key is None:
        key = _prepare(kernel, args, options)[0]
    entry = _compiled.get(key)
    if entry is None:
        compiled = kernel.warmup(*args, grid=grid, **options)
        run = compiled.run  # loads the module: sets compiled.function
        entry = _compiled[key] = (compiled, run, compiled.function, compiled.packed_metadata)
    return entry


def _active(hook) -> bool:
    return hook is not None and getattr(hook, "calls", True) != []  # an empty HookChain (3.6-3.9) is off


def _hooks():
    """triton's launch hooks if a profiler registered any, else None (the fast path)."""
    enter, leave = knobs.runtime.launch_enter_hook, knobs.runtime.launch_exit_hook
    return (enter, leave) if _active(enter) or _active(leave) else None


def _launch_compiled(kernel, grid, args, options=None):
    from ...cuda import _current_stream_handle
    key, raw = _prepare(kernel, args, options)
    entry = _compiled.get(key)
    compiled, run, function, packed = entry if entry is not None else compile_kernel(kernel, grid, args, options,
                                                                                     key)
    gx = grid[0]
    gy = grid[1] if len(grid) > 1 else 1
    gz = grid[2] if len(grid) > 2 else 1
    stream = _current_stream_handle()
    hooks = _hooks()
    if hooks is None:
        run(gx, gy, gz, stream, function, packed, None, None, None, *raw)
    else:
        meta = compiled.launch_metadata((gx, gy, gz), stream, *raw)
        run(gx, gy, gz, stream, function, packed, meta, *hooks, *raw)


def cdiv(a, b):
    return -(-a // b)
