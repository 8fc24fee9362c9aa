"""``Function``: a differentiable op as a forward/backward pair.

Every built-in op is a ``Function`` subclass too, so the public ``autograd.Function``
and the library's own ops share one recording path. ``apply`` runs ``forward`` and, when
grad mode is on and an input requires grad, links the outputs to a backward node (an
instance of a per-Function ``Node`` subclass named like torch's, e.g. ``MulBackward0``)
whose ``backward`` receives the node as ``ctx``.
"""
from __future__ import annotations

from . import grad_mode
from .graph import Node, gradient_edge


class _NullContext:
    """Stands in for ``ctx`` when nothing is recorded: saving is a no-op."""

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

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    def apply(self, grads):
        if self._materialize:
            grads = _materialize(grads, self._output_meta)
        result = self._forward_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(self.next_functions)
        if len(result) != n_inputs:
            if len(result) > n_inputs and all(r is None for r in result[n_inputs:]):
                result = result[:n_inputs]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {n_inputs}, got {len(result)})")
        return tuple(_fit_gradient(self, i, g) for i, g in enumerate(result))


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
    if grad is None or node.next_functions[index] is None:
        return None
    shape, dtype = node._input_meta[index]
    if grad.shape != shape:
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
        cls._backward_cls = type(node_name, (BackwardNode,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class for differentiable operations (``torch.autograd.Function``).

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``;
    callers use ``apply``. ``node_name`` sets the grad_fn name (default ``<Name>Backward``).
    """

    node_name = None

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
        from ..tensor import Tensor
        if not grad_mode.enabled or not any(
                isinstance(a, Tensor) and a._requires_grad for a in args):
            return cls.forward(NULL_CTX, *args, **kwargs)
        node = cls._backward_cls()
        node.next_functions = tuple(gradient_edge(a) if isinstance(a, Tensor) else None for a in args)
        node.needs_input_grad = tuple(e is not None for e in node.next_functions)
        node._input_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
        grad_mode.enabled = False
        try:
            output = cls.forward(node, *args, **kwargs)
        finally:
            grad_mode.enabled = True
        _link_outputs(node, output, args)
        return output


def _link_outputs(node, output, args):
    from ..tensor import Tensor
    outputs = output if isinstance(output, tuple) else (output,)
    dirty = getattr(node, "_dirty", ())
    meta = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            meta.append(None)
            continue
        meta.append((out.shape, out.dtype, out.device))
        if id(out) in node._non_differentiable or not out.dtype.is_floating_point:
            continue
        if any(out is a for a in args) and not any(out is d for d in dirty):
            raise RuntimeError(f"{node.name()}: forward returned an input unchanged; return a view "
                               "(e.g. input.view_as(input)) or mark it dirty")
        if any(out is d for d in dirty) and out.grad_fn is None and out._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        out._requires_grad = True
        out.grad_fn = node
        out._output_nr = i
    node._output_meta = meta


class once_differentiable:  # noqa: N801 - torch's spelling
    """Decorator kept for API compatibility: tritensor backward rules run as written."""

    def __new__(cls, fn):
        return fn
