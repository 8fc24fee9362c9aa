"""Graph nodes: the backward half of every differentiable op.

Each result of a recorded op points at its ``grad_fn`` node; each node points at the
nodes of its inputs through ``_edges``: one entry per forward argument, a pair of node
and output index, or ``None`` for an argument that needs no gradient. ``next_functions``
shows torch's view of the same edges (tensor arguments only). Leaves end in an
``AccumulateGrad`` node.
"""
from __future__ import annotations

from . import grad_mode

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    ``producer``/``output_nr`` name the node that made the tensor (for the error message
    when the tensor was modified in place before backward). An output of the saving node
    itself is kept as a plain alias of its storage (``as_output``), like torch's
    SavedVariable: holding the output, whose ``grad_fn`` is the node, would make a
    reference cycle, and its memory would wait for the garbage collector whenever a graph
    is dropped without a backward pass. Unpacking re-attaches it to the node.
    """

    __slots__ = ("tensor", "version", "producer", "output_nr", "is_output")

    def __init__(self, tensor):
        if (tensor._inference or tensor._base is not None and tensor._base._inference) and not grad_mode.inference:
            raise RuntimeError("Inference tensors cannot be saved for backward. To work around this, you can "
                               "make a clone to get a normal tensor and use it in autograd, or use "
                               "`torch.no_grad()` instead of `torch.inference_mode()`.")
        self.tensor = tensor
        self.version = tensor._storage.version
        self.producer = tensor._grad_fn
        self.output_nr = tensor._output_nr
        self.is_output = False

    def as_output(self, node):
        """Keep only the data of ``self.tensor``, an output of ``node`` (see the class doc)."""
        t = self.tensor
        self.tensor = type(t)._make(t._storage, t._shape, t._stride, t._offset, t.dtype)
        self.tensor._np, self.tensor._flat = t._np, t._flat  # same elements, same cached arrays
        self.producer = None
        self.output_nr = t._output_nr
        self.is_output = True

    def unpack(self, node):
        t = self.tensor
        if t._storage.version != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.type()} {list(t.shape)}]{self._describe(node)}, is at version "
                f"{t._storage.version}; expected version {self.version} instead. Hint: compute the "
                "tensor out of place (or clone() it) before modifying it in place.")
        return self._reattached(node) if self.is_output else t

    def _reattached(self, node):
        t = self.tensor
        out = type(t)._make(t._storage, t._shape, t._stride, t._offset, t.dtype)
        out._np, out._flat = t._np, t._flat  # the same elements: keep the alias's cached arrays
        out._requires_grad = True
        out._grad_fn = node
        out._output_nr = self.output_nr
        return out

    def _describe(self, node):
        producer = node if self.is_output else self.producer
        if producer is None:
            return ""
        name = producer.name()
        op = name[:name.find("Backward")] if "Backward" in name else name  # torch names the forward op
        return f", which is output {self.output_nr} of {op}"


class Node:
    """Base of all backward nodes; ``name()`` is the torch node name, e.g. AddBackward0."""

    _edges: tuple = ()
    _saved = None
    _freed = False
    #: set once any hook (node hook, tensor hook, retain_grad) is registered on this node
    _has_hooks = False
    #: the storage version a view's grad_fn was made at (None: not a view node)
    _view_version = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """torch's edges: one ``(node, output_nr)`` per tensor input, ``(None, 0)`` if it has none."""
        return tuple((None, 0) if e is None else e for e in self._edges)

    # -- saved tensors ------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._saved = tuple([None if t is None else SavedTensor(t) for t in tensors])

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
        """``fn(grad_inputs, grad_outputs)`` after the node ran (may not replace grads here)."""
        self._has_hooks = True
        return _add_hook(self.__dict__.setdefault("_post_hooks", []), fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before the node runs; may return replacement gradients."""
        self._has_hooks = True
        return _add_hook(self.__dict__.setdefault("_pre_hooks", []), fn)

    def apply(self, grads):
        raise NotImplementedError

    def __call__(self, *grads):
        return self.apply(list(grads))

    @property
    def metadata(self):
        return self.__dict__.setdefault("_metadata", {})


class AccumulateGrad(Node):
    """Sink for a leaf tensor: the engine adds the incoming gradient to ``leaf.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def apply(self, grads):
        return ()


class _RemovableHandle:
    """What register_hook returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, fn):
    hooks.append(fn)
    return _RemovableHandle(hooks, fn)


def tensor_hooks(node, output_nr):
    """The list of tensor hooks (``register_hook``) for output ``output_nr`` of ``node``."""
    node._has_hooks = True
    return node.__dict__.setdefault("_tensor_pre_hooks", {}).setdefault(output_nr, [])


def gradient_edge(tensor):
    """The (node, output index) a gradient for ``tensor`` flows into, or None."""
    if not tensor._requires_grad:
        return None
    fn = tensor._grad_fn
    if fn is not None:
        if fn._view_version is not None:  # a view's node may need regenerating (Tensor.grad_fn)
            fn = tensor.grad_fn
        return (fn, tensor._output_nr)
    acc = tensor._accumulator
    if acc is None:
        acc = tensor._accumulator = AccumulateGrad(tensor)
    return (acc, 0)
