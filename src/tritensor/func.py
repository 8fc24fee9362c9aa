"""``torch.func``-style function transforms on tritensor's autograd engine.

``grad(f)(*args)`` differentiates ``f`` by running it on copies of the chosen
arguments that require grad, then calling ``autograd.grad``. Results come back cut
from that inner graph, but stay connected to any outer graph (tensors that already
required grad, or an enclosing ``grad``), so transforms nest: ``grad(grad(f))`` is the
second derivative. Differentiated arguments may be tensors or tuples/lists/dicts of them.
"""
from __future__ import annotations

from . import autograd
from ._functional_call import functional_call, stack_module_state
from ._pytree import flatten as _flatten
from ._pytree import structure as _structure
from ._vmap import vmap
from .autograd import grad_mode
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state"]


# ------------------------------------------------------------------ levels
class _Level:
    """One transform invocation: its input copies, and how to release its results."""

    def __init__(self):
        self.record = grad_mode.is_grad_enabled()

    def track(self, x):
        """A copy of ``x`` to differentiate with respect to (a new graph input)."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x._requires_grad:
            return x.view_as(x)          # still connected to the outer graph
        return x.detach().requires_grad_(True)

    def release(self, x):
        """``x`` with this level's graph cut off: detached unless an outer graph reaches it."""
        if isinstance(x, Tensor):
            return x if x._requires_grad and self._reaches_outer(x) else x.detach()
        if isinstance(x, (tuple, list)):
            return type(x)(self.release(v) for v in x)
        if isinstance(x, dict):
            return {k: self.release(v) for k, v in x.items()}
        return x

    def _reaches_outer(self, t):
        """Whether the graph of ``t`` reaches a leaf that this level did not create."""
        from .autograd.graph import AccumulateGrad
        stack, seen = [t.grad_fn], set()
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            if isinstance(node, AccumulateGrad):
                if id(node.variable) not in self.own:
                    return True
                continue
            stack.extend(e[0] for e in node._edges if e is not None)
        return False


def _argnums_tuple(argnums, n_args):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
    wrapped = tuple(a % n_args for a in nums)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return wrapped


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}(f)(*args): output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return output


def _grad_and_value(func, argnums, has_aux, args, kwargs):
    """(gradients, value, aux) of ``func`` at ``args`` with respect to ``args[argnums]``."""
    nums = _argnums_tuple(argnums, len(args))
    level = _Level()
    args = list(args)
    trees = {}
    with grad_mode.enable_grad():
        for a in nums:
            leaves, unflatten = _flatten(args[a])
            tracked = [level.track(x) for x in leaves]
            trees[a] = (tracked, unflatten)
            args[a] = unflatten(tracked)
        level.own = {id(t) for tracked, _ in trees.values() for t in tracked if t.grad_fn is None}
        output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                               f"{type(output)}")
        if output.dim() != 0:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                               f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                               "APIs instead?")
        inputs = [t for a in nums for t in trees[a][0]]
        if output._requires_grad:
            grads = autograd.grad(output, inputs, create_graph=level.record, allow_unused=True,
                                  materialize_grads=True)
        else:
            from .ops.creation import zeros_like
            grads = [zeros_like(t) for t in inputs]
    grads = level.release(list(grads))
    per_arg, i = [], 0
    for a in nums:
        tracked, unflatten = trees[a]
        per_arg.append(unflatten(grads[i:i + len(tracked)]))
        i += len(tracked)
    result = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
    return result, level.release(output), level.release(aux)


def grad_and_value(func, argnums=0, has_aux=False):
    """``f -> (grad of f, f)`` (torch.func.grad_and_value); with has_aux: ``(grad, (value, aux))``."""
    def wrapper(*args, **kwargs):
        g, value, aux = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (g, (value, aux)) if has_aux else (g, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``f -> gradient of f`` w.r.t. ``args[argnums]`` (torch.func.grad); f returns a scalar."""
    def wrapper(*args, **kwargs):
        g, _, aux = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (g, aux) if has_aux else g
    return wrapper


def value_and_grad(func, argnums=0, has_aux=False):
    """``f -> (f, gradient of f)`` (JAX's order); with has_aux: ``((value, aux), grad)``."""
    def wrapper(*args, **kwargs):
        g, value, aux = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return ((value, aux), g) if has_aux else (value, g)
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` gives one gradient per primal and
    may be called many times (torch.func.vjp)."""
    level = _Level()
    with grad_mode.enable_grad():
        flat = [_flatten(p) for p in primals]
        tracked = [[level.track(x) for x in leaves] for leaves, _ in flat]
        level.own = {id(t) for ts in tracked for t in ts if t.grad_fn is None}
        output, aux = _split_aux(func(*(unflatten(ts) for (_, unflatten), ts in zip(flat, tracked))),
                                 has_aux, "vjp")
    out_leaves, _ = _flatten(output)
    inputs = [t for ts in tracked for t in ts]

    def vjp_fn(cotangents):
        cot_leaves, _ = _flatten(cotangents)
        if len(cot_leaves) != len(out_leaves):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure "
                               "of outputs to the function")
        pairs = [(o, c) for o, c in zip(out_leaves, cot_leaves) if o._requires_grad]
        with grad_mode.enable_grad():
            if pairs:
                grads = autograd.grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                                      retain_graph=True, create_graph=level.record, allow_unused=True,
                                      materialize_grads=True)
            else:
                from .ops.creation import zeros_like
                grads = [zeros_like(t) for t in inputs]
        grads = level.release(list(grads))
        out, i = [], 0
        for (_, unflatten), ts in zip(flat, tracked):
            out.append(unflatten(grads[i:i + len(ts)]))
            i += len(ts)
        return tuple(out)

    released = level.release(output)
    return (released, vjp_fn, level.release(aux)) if has_aux else (released, vjp_fn)


# ------------------------------------------------------------------ jacobians and jvp
def _chosen(func, args, nums):
    """``func`` as a function of ``args[nums]`` only, the other arguments fixed."""
    def of_chosen(*chosen):
        full = list(args)
        for a, value in zip(nums, chosen):
            full[a] = value
        return func(*full)
    return of_chosen


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``f -> its Jacobian`` w.r.t. ``args[argnums]`` by reverse mode (torch.func.jacrev): one
    vector-Jacobian product per output element. Each output leaf gets ``out.shape + in.shape``
    per input leaf, nested as the outputs, then as the chosen arguments (a tuple of them when
    ``argnums`` is a tuple)."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args):
        from .ops.creation import zeros_like
        from .ops.joining import stack
        nums = _argnums_tuple(argnums, len(args))
        out, vjp_fn, *aux = vjp(_chosen(func, args, nums), *[args[a] for a in nums], has_aux=has_aux)
        out_leaves, rebuild_out = _flatten(out)
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"vjp(f, *primals): expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
        zeros = [zeros_like(o) for o in out_leaves]
        per_output = []
        for j, o in enumerate(out_leaves):
            rows = []
            for e in range(o.numel()):
                seed = zeros_like(o).reshape(-1)
                seed[e] = 1
                cotangents = rebuild_out(zeros[:j] + [seed.reshape(o.shape)] + zeros[j + 1:])
                rows.append(_flatten(list(vjp_fn(cotangents)))[0])
            in_leaves, rebuild_in = _flatten([args[a] for a in nums])
            jac = [(stack([r[k] for r in rows]) if rows else x.new_zeros((0,) + tuple(x.shape)))
                   .reshape(tuple(o.shape) + tuple(x.shape)) for k, x in enumerate(in_leaves)]
            per_arg = rebuild_in(jac)
            per_output.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        result = rebuild_out(per_output)
        return (result, aux[0]) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``f -> its Jacobian`` (torch.func.jacfwd). tritensor has no forward-mode AD: the same
    Jacobian comes from reverse mode (``jacrev``), one backward pass per output element."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """``f -> its second derivatives`` w.r.t. ``args[argnums]`` (torch.func.hessian): the
    Jacobian of the Jacobian."""
    return jacfwd(jacrev(func, argnums), argnums)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)`` (torch.func.jvp), by differentiating a vector-Jacobian
    product with respect to its cotangent (tritensor has no forward-mode AD)."""
    from .autograd import functional
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
                           "valid to call f(*primals).")
    p_leaves, rebuild_primals = _flatten(primals)
    t_leaves, _ = _flatten(tangents)
    if not isinstance(tangents, tuple) or _structure(primals) != _structure(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents also must "
                           f"be. Got primals with structure {_structure(primals)} and tangents with "
                           f"structure {_structure(tangents)}")
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise RuntimeError(f"jvp(f, primals, tangents): expected primals and tangents to be tensors, got "
                               f"{type(p)} and {type(t)}")
        if p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the "
                               f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                               f"while the given forward gradient is of size {list(t.shape)}.")
    seen = {}

    def flat_func(*leaves):
        output, aux = _split_aux(func(*rebuild_primals(list(leaves))), has_aux, "jvp")
        out_leaves, seen["rebuild"] = _flatten(output)
        seen["aux"] = aux
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"jvp(f, primals, tangents): expected f(*primals) to return only tensors, "
                                   f"got unsupported type {type(o)}")
        return tuple(out_leaves)

    level = _Level()
    with grad_mode.enable_grad():
        tracked = [level.track(p) for p in p_leaves]
        level.own = {id(t) for t in tracked if t.grad_fn is None}
        out, jv = functional.jvp(flat_func, tuple(tracked), tuple(t_leaves), create_graph=True)
    rebuild = seen["rebuild"]
    result = (rebuild(level.release(list(out))), rebuild(level.release(list(jv))))
    return result + (level.release(seen["aux"]),) if has_aux else result
