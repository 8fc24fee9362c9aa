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
import sys
import types

import numba

_CACHE = {}
_SOURCES = {}  # path -> bytes of the kernel modules read for fingerprints


def _module_source(module) -> bytes:
    """The source file of a helper module the bound functions reach through a global name
    (``vm.exp``): Numba's cache checks only the specialised function's own file."""
    path = getattr(module, "__file__", None)
    if path not in _SOURCES:
        with open(path, "rb") as f:
            _SOURCES[path] = f.read()
    return _SOURCES[path]


def _kernel_module(ref):
    """The kernel module ``ref`` is (or defines ``ref``), if it is one of this package's."""
    if not isinstance(ref, types.ModuleType):
        ref = sys.modules.get(getattr(ref, "__module__", None) or "")
    return ref if ref is not None and ref.__name__.startswith(__package__) else None


def _fingerprint(bindings) -> str:
    """Hash the bound functions' bytecode, and the source of the kernel modules they call
    into, so an edited helper never hits a stale cache."""
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
            for name in code.co_names:
                module = _kernel_module(fn.__globals__.get(name))
                if module is not None:
                    h.update(_module_source(module))
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
