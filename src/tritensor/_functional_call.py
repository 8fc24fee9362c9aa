"""``functional_call`` and ``stack_module_state`` (torch.func): a module called with
parameters and buffers it does not own, the way ensembles and meta-learning use modules.

The given tensors are swapped into the modules' ``_parameters`` / ``_buffers`` entries for
the call and the originals put back afterwards, even when the call raises; nothing is
copied, so gradients flow to the given tensors.
"""
from __future__ import annotations


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors in
    ``parameter_and_buffer_dicts`` (one dict or a tuple of dicts, keyed by dotted names).

    ``tie_weights``: a name tied to another in ``module`` (the same tensor) takes the other's
    value when only one is given. ``strict``: every parameter and buffer must be given, and
    nothing else."""
    values = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        values = _with_tied(module, values)
    if strict:
        _check_strict(module, values)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    restores = []
    try:
        for name, value in values.items():
            restores.append(_swap(module, name, value))
        return module(*args, **(kwargs or {}))
    finally:
        for restore in reversed(restores):
            restore()


def stack_module_state(models):
    """(params, buffers): each name's tensors of ``models`` stacked along a new dim 0, for
    ``vmap(functional_call)`` over an ensemble. Stacked parameters are new leaves that require
    grad when the originals do."""
    from .ops.joining import stack
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(name, tensors):
        grads = {t.requires_grad for t in tensors}
        if len(grads) != 1:
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = stack([t.detach() for t in tensors])
        return result.requires_grad_() if grads == {True} else result

    params = {name: stacked(name, [dict(m.named_parameters())[name] for m in models])
              for name, _ in models[0].named_parameters()}
    buffers = {name: stacked(name, [dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers


def _merged(dicts):
    """One dict from a dict or a tuple/list of them; a key given twice is ambiguous."""
    if isinstance(dicts, dict):
        return dict(dicts)
    merged, repeated = {}, set()
    for d in dicts:
        repeated |= merged.keys() & d.keys()
        merged.update(d)
    if repeated:
        raise ValueError(f"{sorted(repeated)} appeared in multiple dictionaries; behavior of functional call "
                         "is ambiguous")
    return merged


def _with_tied(module, values):
    """``values`` plus, for each name tied to a given one, the same tensor."""
    names_of = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(id(t), []).append(name)
    out = dict(values)
    for names in names_of.values():
        given = [n for n in names if n in values]
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which are tied. "
                             "Consider using tie_weights=False")
        if given and len(names) > 1:
            out.update({n: values[given[0]] for n in names})
    return out


def _check_strict(module, values):
    expected = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
               [n for n, _ in module.named_buffers(remove_duplicate=False)]
    unexpected = [k for k in values if k not in expected]
    missing = [k for k in expected if k not in values]
    if unexpected or missing:
        lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
        if unexpected:
            lines.append("\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
        if missing:
            lines.append("\tMissing key(s): " + ", ".join(repr(k) for k in missing) + ".")
        raise RuntimeError("\n".join(lines))


def _swap(module, name, value):
    """Put ``value`` where ``name`` lives (a parameter, a buffer or a plain attribute of the
    submodule ``name`` points into); a function that puts back what was there."""
    owner = module
    path, _, attr = name.rpartition(".")
    for part in path.split(".") if path else ():
        child = owner._modules.get(part) if hasattr(owner, "_modules") else None
        if child is None:
            raise AttributeError(f"{type(owner).__name__} has no attribute `{part}`")
        owner = child
    for store in (owner._parameters, owner._buffers):
        if attr in store:
            old = store[attr]
            store[attr] = value
            return lambda: store.__setitem__(attr, old)
    missing = object()
    old = owner.__dict__.get(attr, missing)
    owner.__dict__[attr] = value

    def restore():
        if old is missing:
            del owner.__dict__[attr]
        else:
            owner.__dict__[attr] = old
    return restore
