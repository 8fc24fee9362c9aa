"""Reverse-mode automatic differentiation (``torch.autograd``)."""
from __future__ import annotations

from . import grad_mode
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "once_differentiable", "Node"]


def _as_tuple(x):
    if x is None:
        return None
    from ..tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _default_grads(outputs, grad_outputs, create_graph):
    from ..ops.creation import ones_like
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            g = ones_like(out)
        elif not isinstance(g, type(out)) and not hasattr(g, "_storage"):
            from ..ops.creation import full_like
            g = full_like(out, g)
        elif g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                               f"has a shape of {out.shape}.")
        grads.append(g if create_graph else g.detach())
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
    from .engine import run_backward
    outputs = _as_tuple(tensors)
    grads = _default_grads(outputs, _as_tuple(grad_tensors), create_graph)
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=_as_tuple(inputs), accumulate_into_leaves=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``."""
    from .engine import run_backward
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _default_grads(outputs, _as_tuple(grad_outputs), create_graph)
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs_t, allow_unused=allow_unused, accumulate_into_leaves=False)
    if materialize_grads:
        from ..ops.creation import zeros_like
        result = [zeros_like(i) if r is None else r for r, i in zip(result, inputs_t)]
    return tuple(result)
