"""The backward engine: one topological walk over the graph.

Gradients flowing into the same node output are summed in a buffer; a node runs once
every node that feeds it has run (dependency counting). With ``inputs`` only the nodes
that lead to them run, and the gradients arriving at them are captured: returned
(``autograd.grad``) or accumulated into their ``.grad`` (``backward(inputs=...)``).
"""
from __future__ import annotations

import sys

from . import anomaly_mode, grad_mode
from .graph import AccumulateGrad, gradient_edge


#: set by the profiler while it records (profiler/_recorder.py): runs one node's work as a
#: profiled event, ``observe(name, work)``; None (the normal case) costs one test per node
observe = None


def _children(node):
    return [e[0] for e in node._edges if e is not None]


def _collect_dependencies(roots):
    """Count, for every node reachable from ``roots``, how many edges point at it."""
    deps = {}
    stack = list(dict.fromkeys(roots))  # two outputs of one node (aminmax, var_mean) are one root
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child in _children(node):
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps, seen


def _nodes_to_run(targets, reachable, deps, roots):
    """The nodes that must run to get gradients to ``targets``: those with a child that
    is a target or leads to one (processed in reverse topological order)."""
    remaining = dict(deps)
    order = []
    ready = [n for n in dict.fromkeys(roots) if remaining.get(n, 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for child in _children(node):
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    leads = {}
    for node in reversed(order):
        leads[node] = node in targets or any(leads.get(c, False) for c in _children(node))
    return {n for n in order if any(leads.get(c, False) for c in _children(n))}


def _any_gradient(grads):
    for g in grads:
        if g is not None:
            return True
    return False


def _accumulate(buffer, node, index, grad):
    slots = buffer.get(node)
    if slots is None:
        slots = buffer[node] = [None] * max(_n_outputs(node), index + 1)
    prev = slots[index]
    slots[index] = grad if prev is None else prev + grad


def _n_outputs(node):
    meta = getattr(node, "_output_meta", None)
    return len(meta) if meta else 1


def run_backward(tensors, grad_tensors, *, retain_graph=False, create_graph=False,
                 inputs=None, allow_unused=False, accumulate_into_grad=True):
    """Backpropagate ``grad_tensors`` from ``tensors``.

    Without ``inputs`` every leaf's ``.grad`` receives its gradient. With ``inputs``,
    only those tensors' gradients are computed; they are returned, and also accumulated
    into their ``.grad`` when ``accumulate_into_grad`` (``backward(inputs=...)``).
    """
    buffer = {}
    roots = []
    for t, g in zip(tensors, grad_tensors):
        node, nr = gradient_edge(t)
        roots.append(node)
        _accumulate(buffer, node, nr, g)

    deps, reachable = _collect_dependencies(roots)
    capture = None
    to_run = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            edge = gradient_edge(t)
            if edge is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(edge[0], []).append((i, edge[1], t))
        to_run = _nodes_to_run(set(capture), reachable, deps, roots)
    results = [None] * (len(inputs) if inputs is not None else 0)

    ready = [n for n in dict.fromkeys(roots) if deps.get(n, 0) == 0]
    prev_mode = grad_mode.enabled
    grad_mode.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffer.pop(node, None)
            outputs = ()
            if grads is not None and _any_gradient(grads):
                if node._has_hooks:
                    grads = _run_pre_hooks(node, grads)
                if capture is not None and node in capture:
                    _capture(capture[node], grads, results, accumulate_into_grad, create_graph)
                if type(node) is AccumulateGrad:
                    if capture is None:
                        if observe is None:
                            _accumulate_leaf(node.variable, grads[0], create_graph)
                        else:
                            observe("torch::autograd::AccumulateGrad",
                                    lambda: _accumulate_leaf(node.variable, grads[0], create_graph))
                elif to_run is None or node in to_run:
                    outputs = node.apply(grads) if observe is None else observe(node.name(), lambda: node.apply(grads))
                    if anomaly_mode.enabled and anomaly_mode.check_nan:
                        anomaly_mode.check_outputs(node, outputs)
                    if not retain_graph:
                        node.release()
                    if node._has_hooks:
                        _run_post_hooks(node, outputs, grads)
            for edge, g in zip(node._edges, outputs):
                if edge is not None and g is not None:
                    _accumulate(buffer, edge[0], edge[1], g)
            for edge in node._edges:
                if edge is not None:
                    child = edge[0]
                    left = deps[child] - 1
                    deps[child] = left
                    if left == 0:
                        ready.append(child)
    finally:
        grad_mode.enabled = prev_mode

    if inputs is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
            if r is not None and not create_graph:
                results[i] = r.detach()
    return results


def _capture(entries, grads, results, accumulate, create_graph):
    for i, nr, tensor in entries:
        g = grads[nr] if nr < len(grads) else None
        results[i] = g
        if accumulate and g is not None:
            _accumulate_leaf(tensor, g, create_graph)


def _run_pre_hooks(node, grads):
    """Tensor hooks (may replace a gradient), then retain_grad, then node pre-hooks."""
    d = node.__dict__
    hooks = d.get("_tensor_pre_hooks")
    if hooks:
        grads = list(grads)
        for nr, fns in hooks.items():
            if nr < len(grads) and grads[nr] is not None:
                for fn in list(fns):
                    grads[nr] = _call_tensor_hook(fn, grads[nr])
    retained = d.get("_retained")
    if retained:
        for nr, tensor in retained.items():
            if tensor._grad_fn is node and nr < len(grads) and grads[nr] is not None:
                g = grads[nr]
                tensor._grad = g.detach().clone() if tensor._grad is None else tensor._grad + g.detach()
    pre = d.get("_pre_hooks")
    if pre:
        for fn in list(pre):
            new = fn(tuple(grads))
            if new is not None:
                grads = list(new)
    return grads


def _call_tensor_hook(fn, grad):
    """``fn(grad)``; a returned tensor replaces the gradient and must keep its size."""
    new = fn(grad)
    if new is None:
        return grad
    if new.shape != grad.shape:
        raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has changed the size of value")
    return new


def _run_post_hooks(node, outputs, grads):
    post = node.__dict__.get("_post_hooks")
    if post:
        for fn in list(post):
            fn(tuple(outputs), tuple(grads))


def _references_seen_by_callee(x):
    return sys.getrefcount(x)


#: what ``sys.getrefcount`` reports inside ``_accumulate_leaf`` for a gradient only the
#: engine holds (in its grads list, passed as an argument): 3 on CPython 3.11/3.12,
#: measured once so the rule stays right wherever the interpreter counts differently
_PROBE = [object()]  # like the engine's grads list
_ENGINE_REFS = _references_seen_by_callee(_PROBE[0])
del _PROBE


def _accumulate_leaf(leaf, grad, create_graph):
    """leaf.grad += grad: the first gradient is never aliased, later ones are added in
    place, or out of place when the graph of the gradient is being recorded.

    Like torch's AccumulateGrad, a first gradient nothing else references (no other
    tensor, hook or result holds it or its storage) and laid out like the leaf becomes
    ``.grad`` without a copy; any other first gradient is copied into the leaf's layout
    (torch's gradient layout contract: a weight's ``.grad`` has the weight's strides, which
    fused optimizer steps rely on, even when it arrives as the transpose of a product).
    """
    if grad is None:
        return
    unshared = sys.getrefcount(grad) <= _ENGINE_REFS
    if grad._shape != leaf._shape:
        grad, unshared = grad.sum_to_size(leaf._shape), True
    if grad.dtype is not leaf.dtype:
        grad, unshared = grad.to(leaf.dtype), True
    old = leaf._grad
    if old is None:
        if create_graph:
            leaf._grad = _copy_like(grad, leaf)
        elif unshared and _owns_its_storage(grad) and grad._stride == leaf._stride:
            leaf._grad = grad.detach()
        else:
            leaf._grad = _copy_like(grad.detach(), leaf)
    elif create_graph or old.requires_grad:
        leaf._grad = old + grad
    else:
        old.add_(grad)  # grad mode is off here (create_graph=False): nothing is recorded
    for hook in leaf._leaf_hooks or ():
        hook(leaf)


def _copy_like(grad, leaf):
    """A copy of ``grad`` with ``leaf``'s strides when the leaf is dense, else contiguous
    (torch's ``clone_obey_contract``); differentiable, for ``create_graph``."""
    from ..ops._overlap import is_non_overlapping_and_dense
    from ..ops.conversion import CONTIGUOUS_FORMAT
    from ..ops.creation import empty_strided
    if is_non_overlapping_and_dense(leaf):
        return empty_strided(leaf._shape, leaf._stride, dtype=grad.dtype, device=grad.device).copy_(grad)
    return grad.clone(memory_format=CONTIGUOUS_FORMAT)


def _owns_its_storage(t) -> bool:
    """No other tensor can see ``t``'s memory, and no recorded graph produced it.

    Counted references: the storage is held by ``t`` (and by its base, for a view) plus
    getrefcount's argument; a base by ``t._base``, the local name and the argument. A view
    of an otherwise dead base qualifies: the transpose that turns a matmul result into a
    weight's gradient.
    """
    if t._grad_fn is not None:
        return False
    base = t._base
    if base is None:
        return sys.getrefcount(t._storage) == 2
    return base._base is None and sys.getrefcount(base) == 3 and sys.getrefcount(t._storage) == 3
