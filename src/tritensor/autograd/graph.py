"""Graph nodes: the backward half of every differentiable op.

Each result of a recorded op points at its ``grad_fn`` node; each node points at the
nodes of its inputs through ``next_functions`` (pairs of node and output index, or
``None`` for inputs that need no gradient). Leaves end in an ``AccumulateGrad`` node.
"""
from __future__ import annotations

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved."""

    __slots__ = ("tensor", "version", "is_output")

    def __init__(self, tensor, is_output=False):
        self.tensor = tensor
        self.version = tensor._storage.version
        self.is_output = is_output

    def unpack(self, node):
        t = self.tensor
        if t._storage.version != self.version:
            kind = "output" if self.is_output else "input"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.type()} {list(t.shape)}], which is {kind} 0 of "
                f"{node.name()}, is at version {t._storage.version}; expected version "
                f"{self.version} instead. Hint: the backtrace further above can point at the "
                "operation that failed to compute its gradient.")
        return t


class Node:
    """Base of all backward nodes; ``name()`` is the torch node name, e.g. AddBackward0."""

    next_functions: tuple = ()
    _saved = None
    _freed = False

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    # -- saved tensors ------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._saved = tuple(None if t is None else SavedTensor(t, t.grad_fn is self)
                            for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._saved is None:
            return ()
        return tuple(None if s is None else s.unpack(self) for s in self._saved)

    def release(self):
        """Free saved tensors after a backward pass without retain_graph."""
        if self._saved is not None:
            self._saved = None
            self._freed = True

    # -- hooks --------------------------------------------------------------
    def register_hook(self, fn):
        hooks = self.__dict__.setdefault("_post_hooks", [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def register_prehook(self, fn):
        hooks = self.__dict__.setdefault("_pre_hooks", [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def apply(self, grads):
        raise NotImplementedError

    @property
    def metadata(self):
        return self.__dict__.setdefault("_metadata", {})


class AccumulateGrad(Node):
    """Sink for a leaf tensor: adds the incoming gradient to ``leaf.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def apply(self, grads):  # the engine handles accumulation (it knows create_graph)
        return ()


class _RemovableHandle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def gradient_edge(tensor):
    """The (node, output index) a gradient for ``tensor`` flows into, or None."""
    if not tensor._requires_grad:
        return None
    fn = tensor.grad_fn
    if fn is not None:
        return (fn, tensor._output_nr)
    acc = tensor._accumulator
    if acc is None:
        acc = tensor._accumulator = AccumulateGrad(tensor)
    return (acc, 0)
