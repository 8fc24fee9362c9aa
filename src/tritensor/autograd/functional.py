"""``torch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp.

Each runs ``func`` on copies of the inputs that require grad (views of them when
``create_graph`` keeps the result differentiable w.r.t. the originals) and takes
reverse-mode gradients; ``jvp``/``hvp`` use the double-backward trick.
"""
from __future__ import annotations

from . import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, name, fn_name):
    from ..tensor import Tensor
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                            f"but the value at index {i} has type {type(t)}.")
    return is_tuple, items


def _prepare(inputs, create_graph):
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                 for x in inputs)


def _finish(tensors, create_graph):
    return tuple(t if create_graph else t.detach() for t in tensors)


def _untuple(is_tuple, items):
    return items if is_tuple else items[0]


def _gradients(outputs, inputs, grad_outputs, create_graph, strict, retain_graph=None):
    from ..ops.creation import zeros_like
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        grads = [None] * len(inputs)
    else:
        grads = _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                      create_graph=create_graph, retain_graph=True if retain_graph is None else retain_graph)
    if strict and any(g is None for g in grads):
        i = next(i for i, g in enumerate(grads) if g is None)
        raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                           "not allowed in strict mode.")
    return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, inputs))


def _default_v(outputs, v, fn_name):
    from ..ops.creation import ones_like
    if v is not None:
        return _as_tuple(v, "v", fn_name)[1]
    if len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                           "Tensor with a single element.")
    return (ones_like(outputs[0]),)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J) (torch.autograd.functional.vjp)."""
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        grads = _gradients(outputs, xs, _default_v(outputs, v, "vjp"), create_graph, strict)
    return (_untuple(out_tuple, _finish(outputs, create_graph)),
            _untuple(is_tuple, _finish(grads, create_graph)))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v) by differentiating the vjp with respect to its cotangent."""
    from ..ops.creation import zeros_like
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        if v is None:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                                   "is a single Tensor with a single element.")
            v = (inputs[0].new_ones(inputs[0].shape),)
        else:
            v = _as_tuple(v, "v", "jvp")[1]
        xs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        cotangents = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        vjps = _gradients(outputs, xs, cotangents, True, strict)
        result = _gradients(vjps, cotangents, v, create_graph, strict)
    return (_untuple(out_tuple, _finish(outputs, create_graph)),
            _untuple(out_tuple, _finish(result, create_graph)))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs: for each output and input, a tensor of shape out.shape + in.shape."""
    from ..ops.creation import zeros_like
    from ..ops.joining import stack
    if strategy != "reverse-mode":
        raise NotImplementedError("tritensor's jacobian supports strategy='reverse-mode' only")
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        per_output = []
        for out in outputs:
            flat = out.reshape(-1)
            rows = [[] for _ in xs]
            for j in range(flat.numel()):
                seed = zeros_like(flat)
                seed[j] = 1
                for i, g in enumerate(_gradients([flat], xs, [seed], create_graph, strict)):
                    rows[i].append(g)
            per_input = []
            for x, r in zip(xs, rows):
                jac = stack(r) if r else x.new_zeros((0,) + tuple(x.shape))
                per_input.append(jac.reshape(tuple(out.shape) + tuple(x.shape)))
            per_output.append(_untuple(is_tuple, _finish(per_input, create_graph)))
    return _untuple(out_tuple, tuple(per_output))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a scalar ``func``: the jacobian of its gradient."""
    is_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*xs):
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single "
                               "element")
        return outs[0].squeeze()

    def gradient(*xs):
        return jacobian(scalar, xs, create_graph=True, strict=strict)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return result if is_tuple else result[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar ``func``."""
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        xs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "vhp")
        if out_tuple or outputs[0].numel() != 1:
            raise RuntimeError("The function given in vhp should return a single Tensor with a single "
                               "element")
        first = _gradients(outputs, xs, _default_v(outputs, None, "vhp"), True, strict)
        vs = _as_tuple(v, "v", "vhp")[1] if v is not None else _default_v(first, None, "vhp")
        result = _gradients(first, xs, vs, create_graph, strict)
    return _finish(outputs, create_graph)[0], _untuple(is_tuple, _finish(result, create_graph))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar ``func`` (H is symmetric, so this equals vhp)."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
