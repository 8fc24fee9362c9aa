"""Recording kernel specialisations for an ahead-of-time GPU compile (``TRITENSOR_RECORD_LAUNCHES``).

Triton's interpreter accepts code that a real GPU compile rejects, so the emulated device's
tests alone do not prove that a kernel compiles. ``launch`` calls ``record`` for every launch
when the variable names a file; each specialisation not seen before in this process (the key
of the GPU path, ``launch._prepare``) becomes one JSON line, in the terms of ``triton.compile``:

- ``kernel``: ``"module:qualname"`` of the ``@triton.jit`` function;
- ``signature``: per parameter name, triton's type as ``JITFunction`` would specialise it
  (``"*fp32"`` for a pointer, ``"i32"``/``"i64"``/``"u64"`` by an int's value range, ``"fp32"``
  for a float, ``"u1"`` for a bool, ``"constexpr"``; a list for a tuple argument);
- ``constexprs``: ``[path, value]`` pairs (constexpr parameters, and ints equal to 1, which
  triton turns into constexprs); ``tl.dtype``s as ``{"dtype": "bf16"}``, jit functions as
  ``{"jit": "module:qualname"}``;
- ``divisible``: paths of the ints divisible by 16 and the 16-byte aligned pointers (triton's
  ``tt.divisibility`` attribute);
- ``options``: the compile options (``num_warps``...).

``bench/compile_check.py`` compiles the lines for sm_90. Lines are appended with one
``write`` each, so several test processes can share a file.
"""
from __future__ import annotations

import json
import os

from triton._utils import type_canonicalisation_dict

from ...backends.cuda_memory import KernelPointer
from .launch import _prepare, constexpr_flags, spec

_seen = set()


def record(path, kernel, args, options):
    key = _prepare(kernel, args, options)[0]
    if key in _seen:
        return
    _seen.add(key)
    line = json.dumps(specialization(kernel, args, options)) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def specialization(kernel, args, options):
    """The JSON-able description of one launch's specialisation (see the module doc)."""
    signature, constexprs, divisible = {}, [], []
    for i, (name, arg, const) in enumerate(zip(kernel.arg_names, args, constexpr_flags(kernel))):
        if const:
            signature[name] = "constexpr"
            constexprs.append([[i], encode(arg)])
        else:
            signature[name] = _leaf(arg, spec(arg), [i], constexprs, divisible)
    return {"kernel": qualified_name(kernel), "signature": signature, "constexprs": constexprs,
            "divisible": divisible, "options": options}


def _leaf(arg, spec, path, constexprs, divisible):
    """triton's type of a non-constexpr argument from its ``spec``; ints equal to 1 and
    None become constexprs, ``divisible`` collects the 16-divisible paths."""
    t = type(arg)
    if t is tuple:
        return [_leaf(a, s, path + [j], constexprs, divisible) for j, (a, s) in enumerate(zip(arg, spec))]
    if t is int:
        one, div16, i32, u64 = spec
        if one:
            constexprs.append([path, 1])
            return "constexpr"
        if div16:
            divisible.append(path)
        return "i32" if i32 else "u64" if u64 else "i64"
    if t is KernelPointer:
        dtype, aligned = spec
        if aligned:
            divisible.append(path)
        return "*" + type_canonicalisation_dict[dtype]
    if arg is None:
        constexprs.append([path, None])
        return "constexpr"
    if t is bool:
        return "u1"
    if t is float:
        return "fp32"
    raise TypeError(f"cannot record a kernel argument of type {t.__name__}: {arg!r}")


def encode(value):
    """A constexpr value as JSON (see the module doc); ``bench/compile_check.decode`` inverts it."""
    import triton.language as tl
    if isinstance(value, tl.constexpr):
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tl.dtype):
        return {"dtype": value.name}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if hasattr(value, "fn"):  # a JITFunction, or an InterpretedFunction under the interpreter
        return {"jit": qualified_name(value)}
    raise TypeError(f"cannot record constexpr value {value!r}")


def qualified_name(kernel):
    return f"{kernel.fn.__module__}:{kernel.fn.__qualname__}"

