"""Which op functions are exported as ``tritensor.<name>`` and as ``Tensor.<name>``.

An op module marks its public functions with ``@export`` (a ``tritensor.<name>`` function
that is also a ``Tensor`` method taking the tensor as ``self``), ``@export(method=False)``
(function only) or ``@method`` (method only). ``tritensor.ops`` attaches the methods once
at import, so adding an op never touches ``tensor.py``.
"""
from __future__ import annotations

FUNCTIONS: dict = {}
METHODS: dict = {}


def export(fn=None, *, name=None, method=True, function=True, aliases=()):
    def register(f):
        for n in (name or f.__name__,) + tuple(aliases):
            if function:
                FUNCTIONS[n] = f
            if method:
                METHODS[n] = f
        return f
    return register(fn) if fn is not None else register


def method(fn=None, *, name=None, aliases=()):
    return export(fn, name=name, function=False, aliases=aliases)


def attach_methods(cls):
    for n, f in METHODS.items():
        if n not in cls.__dict__:
            setattr(cls, n, f)
