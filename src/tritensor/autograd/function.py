"""``Function``: a differentiable op as a forward/backward pair.

Every built-in op is a ``Function`` subclass too, so the public ``autograd.Function``
and the library's own ops share one recording path. ``apply`` runs ``forward`` and, when
grad mode is on and an input requires grad, links the outputs to a backward node (an
instance of a per-Function ``Node`` subclass named like torch's, e.g. ``MulBackward0``)
whose ``backward`` receives the node as ``ctx``.
"""
from __future__ import annotations

from .. import dtypes as _dt
from . import grad_mode
from .graph import Node, gradient_edge



class _NullContext:
    """Stands in for ``ctx`` of a built-in op when nothing is recorded: saving is a no-op."""

    __slots__ = ()
    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_dirty(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass

    def __setattr__(self, name, value):
        pass


NULL_CTX = _NullContext()


class BackwardNode(Node):
    """Node that calls its Function's ``backward`` with itself as ``ctx``."""

    _forward_cls = None
    _materialize = True
    _non_differentiable = ()
    _dirty = ()
    _input_meta = ()
    _output_meta = ()

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    @property
    def next_functions(self):
        if self._forward_cls.wraps_scalars:  # torch made a tensor of each Python scalar operand
            return tuple((None, 0) if e is None else e for e in self._edges)
        return tuple((None, 0) if e is None else e
                     for e, meta in zip(self._edges, self._input_meta) if meta is not None)

    def apply(self, grads):
        if self._materialize and _has_missing(grads, self._output_meta):
            grads = _materialize(grads, self._output_meta)
        result = self._forward_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        edges = self._edges
        n_inputs = len(edges)
        if len(result) != n_inputs:
            if len(result) > n_inputs and all(r is None for r in result[n_inputs:]):
                result = result[:n_inputs]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {n_inputs}, got {len(result)})")
        fitted = []
        for i, g in enumerate(result):
            if g is not None:
                meta = self._input_meta[i]
                # the common case inline: a gradient for a tensor input, already of its shape and dtype
                if meta is None or edges[i] is None or g._shape != meta[0] or g.dtype is not meta[1]:
                    g = _fit_gradient(self, i, g)
            fitted.append(g)
        return tuple(fitted)


class _UserBackwardNode(BackwardNode):
    """Node of a user-defined ``autograd.Function``; prints like torch's."""

    def __repr__(self):
        return f"<torch.autograd.function.{self.name()} object at {hex(id(self))}>"


def _has_missing(grads, meta):
    if len(grads) < len(meta):
        return True
    for g in grads:
        if g is None:
            return True
    return False


def _materialize(grads, meta):
    from .. import ops
    grads = list(grads) + [None] * (len(meta) - len(grads))
    for i, g in enumerate(grads):
        if g is None and meta[i] is not None:
            shape, dtype, device = meta[i]
            grads[i] = ops.zeros(shape, dtype=dtype, device=device)
    return grads


def _fit_gradient(node, index, grad):
    """Check a returned gradient against the input it is for; reduce broadcast dims."""
    if grad is None:
        return None
    meta = node._input_meta[index]
    if meta is None:
        raise RuntimeError(f"function {node.name()} returned a gradient different than None at position "
                           f"{index + 1}, but the corresponding forward input was not a Variable")
    if node._edges[index] is None:
        return None
    shape, dtype = meta
    if grad._shape != shape:
        try:
            grad = grad.sum_to_size(shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"{list(grad.shape)} but expected shape compatible with {list(shape)}") from None
    if grad.dtype is not dtype:
        grad = grad.to(dtype)
    return grad


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        node_name = namespace.get("node_name") or f"{name}Backward"
        builtin = cls.__module__.startswith("tritensor.")
        node_base = BackwardNode if builtin else _UserBackwardNode
        cls._backward_cls = type(node_name, (node_base,), {"_forward_cls": cls})
        cls._builtin = builtin
        cls._setup_style = hasattr(cls, "setup_context")


class Function(metaclass=_FunctionMeta):
    """Base class for differentiable operations (``torch.autograd.Function``).

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` (or
    ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``); callers use
    ``apply``. ``node_name`` sets the grad_fn name (default ``<Name>Backward``).
    """

    node_name = None
    #: Python-scalar arguments count as (constant) tensor inputs in ``next_functions``
    wraps_scalars = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensor_type or _bind_tensor_type()
        record = False
        if grad_mode.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    break
        if not record and cls._builtin:
            return cls.forward(NULL_CTX, *args, **kwargs)
        node = cls._backward_cls()
        edges, needs, meta = [], [], []  # one pass over the arguments: this runs for every recorded op
        for a in args:
            if isinstance(a, Tensor):
                edge = gradient_edge(a) if record else None
                meta.append((a._shape, a.dtype))
            else:
                edge = None
                meta.append(None)
            edges.append(edge)
            needs.append(edge is not None)
        node._edges = tuple(edges)
        node.needs_input_grad = tuple(needs)
        node._input_meta = tuple(meta)
        prev = grad_mode.enabled
        grad_mode.enabled = False
        try:
            if cls._setup_style:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, output)
            else:
                output = cls.forward(node, *args, **kwargs)
        finally:
            grad_mode.enabled = prev
        if not record:
            return output
        return _link_outputs(node, output, args)


#: ``tritensor.Tensor``, bound on first use (tensor.py imports this package, so a module-level
#: import would be circular; a function-level one costs ~1 us on every op)
_tensor_type = None


def _bind_tensor_type():
    global _tensor_type
    from ..tensor import Tensor
    _tensor_type = Tensor
    return Tensor


def _link_outputs(node, output, args):
    """Point the differentiable outputs at ``node``; returns ``output`` (inputs returned as
    they are become views of them, like torch)."""
    Tensor = _tensor_type
    dirty = node._dirty
    if (type(output) is Tensor and not dirty and output._base is None and output.dtype in _dt.FLOATING_DTYPES
            and not node._non_differentiable and not _is_one_of(output, args)):
        # the commonest case in short: one new floating-point tensor (the loop below does the same)
        node._output_meta = [(output._shape, output.dtype, output._storage.device)]
        output._requires_grad = True
        output._grad_fn = node
        if output._output_nr:
            output._output_nr = 0
        if node._saved:
            _mark_saved_outputs(node)
        return output
    is_tuple = isinstance(output, tuple)
    outputs = list(output) if is_tuple else [output]
    meta = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            meta.append(None)
            continue
        meta.append((out._shape, out.dtype, out._storage.device))
        if out.dtype not in _dt.FLOATING_DTYPES or (node._non_differentiable and
                                                id(out) in node._non_differentiable):
            continue
        is_dirty = bool(dirty) and any(out is d for d in dirty)
        if is_dirty:
            if out._grad_fn is None and out._requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                                   "operation.")
        elif _is_one_of(out, args):
            out = outputs[i] = _alias(out)
        out._requires_grad = True
        out._grad_fn = node
        if out._output_nr != i:  # a class default (0) until set: most outputs never write it
            out._output_nr = i
        if is_dirty:
            _after_inplace(out, node)
        elif out._base is not None:
            node._view_version = out._storage.version
    node._output_meta = meta
    if dirty:
        del node._dirty  # it holds the outputs, which point at the node: no cycle left behind
    if node._saved:
        _mark_saved_outputs(node)
    return tuple(outputs) if is_tuple else outputs[0]


def _is_one_of(t, args):
    for a in args:
        if a is t:
            return True
    return False


def _alias(t):
    from ..ops.views import make_view
    return make_view(t, t._shape, t._stride, t._offset)


def _after_inplace(out, node):
    """An in-place op re-pointed ``out`` at ``node``: keep retain_grad, rebase views."""
    if out._retains_grad:
        out._retains_grad = False
        out.retain_grad()
    if out._base is not None:
        from .copy_slices import rebase_view
        rebase_view(out, node)


def _mark_saved_outputs(node):
    """Saved outputs (saved after the op wrote them) keep only their data (SavedTensor.as_output)."""
    for s in node._saved:
        if s is not None and s.tensor._grad_fn is node and s.version == s.tensor._storage.version:
            s.as_output(node)


class once_differentiable:  # noqa: N801 - torch's spelling
    """Decorator kept for API compatibility: tritensor backward rules run as written."""

    def __new__(cls, fn):
        return fn
