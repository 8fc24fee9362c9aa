"""Public functions that pickle finds by name, as torch's do.

pickle stores a function as ``(f.__module__, f.__qualname__)`` and looks it up again. Many of
tritensor's functions are made by factories (one per op: ``exp_``, ``bitwise_and``, the
in-place and ``nn.functional`` variants), so that pair names a closure (``<locals>``) or a
module that does not hold them, and ``pickle.dumps(torch.relu)`` failed, and with it
``torch.save(model)`` of any module holding one (a TransformerEncoderLayer keeps
``F.relu`` as its activation), and spawned DataLoader workers given one as ``collate_fn``.
``name_public_functions`` points each such function at the first public namespace exporting
it, once, at import.
"""
from __future__ import annotations

import sys
import types


def _resolves(function) -> bool:
    """Whether pickle's lookup of ``function`` by module and qualified name finds it."""
    target = sys.modules.get(function.__module__)
    for part in function.__qualname__.split("."):
        target = getattr(target, part, None)
    return target is function


def name_public_functions(*namespaces: types.ModuleType) -> None:
    """Re-home every public plain function of ``namespaces`` (earlier ones first) that pickle
    could not find by its own names: its ``__module__`` and ``__qualname__`` become the
    namespace's and the exported name (its ``__name__``, what repr and tracebacks show, stays)."""
    for namespace in namespaces:
        for name, value in list(vars(namespace).items()):
            if not name.startswith("_") and type(value) is types.FunctionType and not _resolves(value):
                value.__module__, value.__qualname__ = namespace.__name__, name
