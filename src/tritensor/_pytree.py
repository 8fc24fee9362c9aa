"""Nested Python containers of tensors (tuples, lists, dicts) as flat lists of leaves: what
the function transforms (``func``, ``vmap``) map over."""
from __future__ import annotations


def flatten(tree):
    """Leaves of ``tree`` and a function rebuilding the same structure from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [flatten(x) for x in tree]
        leaves = [leaf for p in parts for leaf in p[0]]

        def unflatten(values, kind=type(tree)):
            out, i = [], 0
            for p in parts:
                out.append(p[1](values[i:i + len(p[0])]))
                i += len(p[0])
            return kind(out)
        return leaves, unflatten
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, unflatten_values = flatten([tree[k] for k in keys])
        return leaves, lambda values: dict(zip(keys, unflatten_values(values)))
    return [tree], lambda values: values[0]


def structure(tree) -> str:
    """A short description of a nested structure, for error messages: ``(*, [*, *])``."""
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(structure(x) for x in tree)
        return f"({inner})" if isinstance(tree, tuple) else f"[{inner}]"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {structure(v)}" for k, v in tree.items()) + "}"
    return "*"
