"""Specialise a kernel template by binding its free functions, keeping Numba's disk cache.

Numba caches a jitted function by its qualified name and source file, but it cannot cache
closures or functions that take other jitted functions as arguments (and calling through a
function argument costs microseconds). A template is therefore written once as a plain
module-level function whose helpers (``combine``, ``scalar_op`` ...) are globals; each
specialisation is a copy of that function with those globals rebound and a unique
qualified name, so every op gets its own cached, fully inlined machine code.
"""
from __future__ import annotations

import hashlib
import types

import numba

_CACHE = {}


def _fingerprint(bindings) -> str:
    """Hash the bound functions' bytecode so an edited helper never hits a stale cache."""
    h = hashlib.sha1()
    for key in sorted(bindings):
        value = bindings[key]
        fn = getattr(value, "py_func", value)
        code = getattr(fn, "__code__", None)
        h.update(key.encode())
        h.update(getattr(fn, "__qualname__", "").encode())  # a specialisation's names its own bindings
        h.update(code.co_code if code is not None else repr(value).encode())
        if code is not None:
            h.update(repr(code.co_consts).encode())
            h.update(repr(code.co_names).encode())
    return h.hexdigest()[:10]


def specialize(template, name: str, jit_options=None, **bindings):
    """Return ``numba.njit(cache=True)`` of ``template`` with ``bindings`` as its globals."""
    key = (template, name)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    fn_globals = dict(template.__globals__)
    fn_globals.update(bindings)
    suffix = f"{name}_{_fingerprint(bindings)}"
    clone = types.FunctionType(template.__code__, fn_globals, f"{template.__name__}__{suffix}",
                               template.__defaults__, template.__closure__)
    clone.__qualname__ = f"{template.__qualname__}__{suffix}"
    clone.__module__ = template.__module__
    options = {"cache": True, "nogil": True}
    options.update(jit_options or {})
    jitted = numba.njit(**options)(clone)
    _CACHE[key] = jitted
    return jitted
