"""Reverse-mode automatic differentiation (``torch.autograd``)."""
from __future__ import annotations

from . import grad_mode, graph  # noqa: F401  (torch.autograd.grad_mode / .graph)
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .engine import run_backward
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "once_differentiable", "Node", "gradcheck",
           "gradgradcheck", "GradcheckError", "functional", "detect_anomaly", "set_detect_anomaly",
           "Variable"]


def _as_tuple(x):
    if x is None:
        return None
    return (x,) if isinstance(x, _tensor_types()[0]) else tuple(x)


_bound = None


def _tensor_types():
    """(Tensor, ones_like), imported on first use: both modules import this package."""
    global _bound
    if _bound is None:
        from ..ops.creation import ones_like
        from ..tensor import Tensor
        _bound = (Tensor, ones_like)
    return _bound


def _check_outputs(outputs):
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def _default_grads(outputs, grad_outputs, create_graph):
    """The seed gradient of each output: given, or ones for a scalar output."""
    Tensor, ones_like = _tensor_types()
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_tensors/grad_outputs has {len(grad_outputs)} tensors but there are "
                           f"{len(outputs)} outputs")
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        elif g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                               f"output[{i}] has a shape of {out.shape}.")
        grads.append(g if create_graph else g.detach())
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf that requires grad
    (or only of ``inputs``, which may be non-leaves)."""
    outputs = _as_tuple(tensors)
    grads = _default_grads(outputs, _as_tuple(grad_tensors), create_graph)
    _check_outputs(outputs)
    inputs = _as_tuple(inputs)
    if inputs is not None and not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs, allow_unused=True, accumulate_into_grad=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) (weighted by ``grad_outputs``) without touching ``.grad``."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by tritensor")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _default_grads(outputs, _as_tuple(grad_outputs), create_graph)
    _check_outputs(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs_t, allow_unused=allow_unused, accumulate_into_grad=False)
    if materialize_grads:
        from ..ops.creation import zeros_like
        result = [zeros_like(i) if r is None else r for r, i in zip(result, inputs_t)]
    return tuple(result)


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - torch's legacy spelling
    """Legacy ``torch.autograd.Variable``: tensors and variables are one type now."""
    return data.requires_grad_(requires_grad) if requires_grad else data


from . import functional  # noqa: E402  (uses ``grad`` above)
from . import profiler  # noqa: E402,F401  (torch.autograd.profiler: the same recorder as tritensor.profiler)
