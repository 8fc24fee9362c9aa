"""The backward engine: one topological walk over the graph, like micrograd's.

Gradients flowing into the same node output are summed in a buffer; a node runs once
every node that feeds it has run (dependency counting). ``autograd.grad`` uses the same
walk but captures gradients at the requested inputs instead of accumulating into leaves.
"""
from __future__ import annotations

from . import grad_mode
from .graph import AccumulateGrad, gradient_edge


def _collect_dependencies(roots):
    """Count, for every node reachable from ``roots``, how many edges point at it."""
    deps = {}
    stack = [node for node in roots]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next_functions:
            if edge is None:
                continue
            child = edge[0]
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps, seen


def _nodes_leading_to(targets, all_nodes):
    """The subset of ``all_nodes`` from which some node of ``targets`` is reachable."""
    needed = {}

    def visit(root):
        # iterative post-order DFS
        stack = [(root, iter(root.next_functions))]
        on_path = {root}
        while stack:
            node, children = stack[-1]
            advanced = False
            for edge in children:
                if edge is None:
                    continue
                child = edge[0]
                if child in needed or child in on_path:
                    continue
                on_path.add(child)
                stack.append((child, iter(child.next_functions)))
                advanced = True
                break
            if advanced:
                continue
            stack.pop()
            needed[node] = node in targets or any(
                e is not None and needed.get(e[0], False) for e in node.next_functions)
    for n in all_nodes:
        if n not in needed:
            visit(n)
    return {n for n, ok in needed.items() if ok}


def _accumulate(buffer, node, index, grad, n_outputs):
    slots = buffer.get(node)
    if slots is None:
        slots = buffer[node] = [None] * max(n_outputs, index + 1)
    elif len(slots) <= index:
        slots.extend([None] * (index + 1 - len(slots)))
    prev = slots[index]
    slots[index] = grad if prev is None else prev + grad


def run_backward(tensors, grad_tensors, *, retain_graph=False, create_graph=False,
                 inputs=None, allow_unused=False, accumulate_into_leaves=True):
    """Backpropagate ``grad_tensors`` from ``tensors``.

    With ``inputs`` and ``accumulate_into_leaves=False`` (autograd.grad), returns the
    gradients of ``inputs`` instead of writing ``.grad``.
    """
    buffer = {}
    roots = []
    for t, g in zip(tensors, grad_tensors):
        edge = gradient_edge(t)
        if edge is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append(edge[0])
        _accumulate(buffer, edge[0], edge[1], g, _n_outputs(edge[0]))

    deps, reachable = _collect_dependencies(roots)
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            edge = gradient_edge(t)
            if edge is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(edge[0], []).append((i, edge[1]))
        needed = _nodes_leading_to(set(capture), reachable)
    else:
        needed = None
    results = [None] * (len(inputs) if inputs is not None else 0)

    ready = [n for n in dict.fromkeys(roots) if deps.get(n, 0) == 0]
    prev_mode = grad_mode.enabled
    grad_mode.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffer.pop(node, None) or [None]
            grads = _run_pre_hooks(node, grads)
            if capture is not None and node in capture:
                for i, nr in capture[node]:
                    results[i] = grads[nr] if nr < len(grads) else None
            if isinstance(node, AccumulateGrad):
                if capture is None or (accumulate_into_leaves and node in capture):
                    _accumulate_leaf(node.variable, grads[0], create_graph)
                outputs = ()
            elif needed is not None and node not in needed:
                outputs = ()
            else:
                outputs = node.apply(grads)
                if not retain_graph:
                    node.release()
                _run_post_hooks(node, outputs, grads)
            for edge, g in zip(node.next_functions, outputs):
                if edge is None or g is None:
                    continue
                child, nr = edge
                _accumulate(buffer, child, nr, g, _n_outputs(child))
            for edge in node.next_functions:
                if edge is None:
                    continue
                child = edge[0]
                deps[child] -= 1
                if deps[child] == 0:
                    ready.append(child)
    finally:
        grad_mode.enabled = prev_mode

    if inputs is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
            if r is not None and not create_graph:
                results[i] = r.detach()
    return results


def _n_outputs(node):
    meta = getattr(node, "_output_meta", None)
    return len(meta) if meta else 1


def _run_pre_hooks(node, grads):
    hooks = node.__dict__.get("_tensor_pre_hooks")
    if hooks:
        grads = list(grads)
        for nr, fns in hooks.items():
            if nr < len(grads) and grads[nr] is not None:
                for fn in fns:
                    new = fn(grads[nr])
                    if new is not None:
                        grads[nr] = new
    pre = node.__dict__.get("_pre_hooks")
    if pre:
        for fn in pre:
            new = fn(tuple(grads))
            if new is not None:
                grads = list(new)
    return grads


def _run_post_hooks(node, outputs, grads):
    post = node.__dict__.get("_post_hooks")
    if post:
        for fn in post:
            fn(tuple(outputs), tuple(grads))


def _accumulate_leaf(leaf, grad, create_graph):
    if grad is None:
        return
    for fn in leaf._leaf_hooks or ():
        new = fn(grad)
        if new is not None:
            grad = new
    if grad.shape != leaf.shape:
        grad = grad.sum_to_size(leaf.shape)
    if leaf.grad is None:
        leaf.grad = grad if create_graph else grad.detach().clone()
    elif create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + grad
    else:
        leaf.grad.add_(grad.detach())
