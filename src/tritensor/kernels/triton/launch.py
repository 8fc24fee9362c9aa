"""Launching Triton kernels: the interpreter path and the cached direct-launch path.

``launch(kernel, grid, *args)`` takes every kernel argument positionally (constexprs
included, in the kernel's parameter order); pointer arguments are ``KernelPointer``s.

- Under ``TRITON_INTERPRET=1`` it calls ``kernel[grid](*args)``: the interpreter runs the
  kernel's Python body on host memory.
- On a GPU, ``kernel[grid](...)`` costs 14-22 us of Python per call (argument binding,
  specialisation, cache lookup). Instead each specialisation (pointer dtypes and 16-byte
  alignment, integer widths and divisibility, constexpr values) is compiled once with
  ``kernel.warmup`` and the compiled kernel is launched directly with integer pointers on
  the current stream. The compiled kernels stay referenced by ``_compiled``. (This path
needs a GPU and has not run yet: no GPU was available while it was written.)
"""
from __future__ import annotations

import numpy as np

from ...backends.cuda_memory import KernelPointer, interpreting

_compiled = {}
_constexpr_positions = {}


def launch(kernel, grid, *args):
    if interpreting():
        with np.errstate(all="ignore"):  # masked-off lanes may divide by zero, as on a GPU
            kernel[grid](*args)
        return
    _launch_compiled(kernel, grid, args)


# ------------------------------------------------------------------ real GPU only
def _spec(a):
    """The part of an argument that selects a compiled specialisation."""
    if isinstance(a, KernelPointer):
        return a.dtype, a.data_ptr() % 16 == 0
    if isinstance(a, bool):
        return "b", a
    if isinstance(a, int):
        return "i", a == 1, a % 16 == 0, -2**31 <= a < 2**31
    if isinstance(a, float):
        return "f"
    if isinstance(a, tuple):
        return tuple(_spec(x) for x in a)
    return type(a).__name__


def _raw(a):
    if isinstance(a, KernelPointer):
        return a.data_ptr()
    if isinstance(a, tuple):
        return tuple(_raw(x) for x in a)
    return a


def _launch_compiled(kernel, grid, args):
    from ...cuda import current_stream
    const = _constexpr_positions.get(kernel)
    if const is None:
        const = _constexpr_positions[kernel] = frozenset(
            i for i, p in enumerate(kernel.params) if p.is_constexpr)
    key = (kernel, tuple(a if i in const else _spec(a) for i, a in enumerate(args)))
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = kernel.warmup(*args, grid=grid)
    compiled[grid](*[_raw(a) for a in args], stream=current_stream().handle)


def cdiv(a, b):
    return -(-a // b)

