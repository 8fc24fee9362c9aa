"""``RemovableHandle``: returned by every ``register_*_hook``; ``remove()`` unregisters it."""
from __future__ import annotations

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Handle to a hook stored under a unique id in one or more dicts."""

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = next(_ids)
        self._dicts = [hooks_dict] + ([extra_dict] if extra_dict is not None else [])

    def remove(self):
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
