"""``vmap`` (torch.func.vmap / torch.vmap) by running the function once per batch element.

torch batches a function by rewriting each op for a batched input; tritensor calls the
function on each slice along ``in_dims`` and stacks the results along ``out_dims``. The
values, shapes and gradients are the same (``stack`` is differentiable, so ``vmap(grad(f))``
gives per-sample gradients and a vmapped function can be differentiated); the cost is one
Python call of the function per element. What only the loop allows, torch refuses: inside
``vmap`` a slice is an ordinary tensor, so ``.item()`` and Python control flow on its values
work here where torch raises.

Random ops follow ``randomness``: 'error' raises torch's RuntimeError at the first draw,
'different' draws each element on its own (the loop's natural behaviour), 'same' replays the
default generators' state for every element so each sees the same numbers.
"""
from __future__ import annotations

import contextlib
import functools

from . import random as _random
from ._pytree import flatten as _flatten
from ._pytree import structure as _structure
from .tensor import Tensor

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over dimension ``in_dims`` of its inputs; results stacked along ``out_dims``.

    ``in_dims``/``out_dims``: an int, None (not mapped), or a tuple matching the arguments /
    outputs, nested like them (tuples, lists, dicts). Keyword arguments are not mapped.
    ``chunk_size`` is accepted for torch's API; the loop always maps one element at a time."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def mapped(*args, **kwargs):
        return _Mapped(func, in_dims, out_dims, randomness).call(args, kwargs)
    return mapped


class _Mapped:
    """One call of a vmapped function: the inputs' slicing, the loop, the outputs' stacking."""

    def __init__(self, func, in_dims, out_dims, randomness):
        self.func, self.in_dims, self.out_dims, self.randomness = func, in_dims, out_dims, randomness
        self.name = getattr(func, "__name__", repr(func))

    def call(self, args, kwargs):
        leaves, rebuild = _flatten(list(args))
        dims = self._leaf_in_dims(args, leaves)
        size = self._batch_size(leaves, dims)
        with self._random_mode() as before_each:
            if size == 0:  # nothing to map: one call on zeros of an element's shape gives the structure
                outputs = [self.func(*rebuild(_zero_elements(leaves, dims)), **kwargs)]
            else:
                outputs = []
                for b in range(size):
                    before_each()
                    sliced = [x.select(d, b) if d is not None else x for x, d in zip(leaves, dims)]
                    outputs.append(self.func(*rebuild(sliced), **kwargs))
        return self._stack(outputs, empty=size == 0)

    # ---------------------------------------------------------------- inputs
    def _where(self, what):
        return f"vmap({self.name}, {what}=" + f"{getattr(self, what)}, ...)(<inputs>)"

    def _leaf_in_dims(self, args, leaves):
        """One in_dim per input leaf: ``in_dims`` broadcast over the arguments' structure."""
        if not isinstance(self.in_dims, (int, tuple)):
            raise ValueError(f"{self._where('in_dims')}: expected `in_dims` to be int or a (potentially "
                             f"nested) tuple matching the structure of inputs, got: {type(self.in_dims)}.")
        if not args:
            raise ValueError(f"vmap({self.name})(<inputs>): got no inputs. Maybe you forgot to add inputs, "
                             "or you are trying to vmap over a function with no inputs. The latter is "
                             "unsupported.")
        try:
            dims = _broadcast_prefix(self.in_dims if isinstance(self.in_dims, tuple) else
                                     (self.in_dims,) * len(args), list(args))
        except _StructureMismatch:
            raise ValueError(f"{self._where('in_dims')}: in_dims is not compatible with the structure of "
                             f"`inputs`. in_dims has structure {_structure(self.in_dims)} but inputs has "
                             f"structure {_structure(args)}.") from None
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int) or isinstance(d, bool):
                raise ValueError(f"{self._where('in_dims')}: Got in_dim={d} for an input but in_dim must be "
                                 "either an integer dimension or None.")
            if not isinstance(x, Tensor):
                raise ValueError(f"{self._where('in_dims')}: Got in_dim={d} for an input but the input is of "
                                 f"type {type(x)}. We cannot vmap over non-Tensor arguments, please use None "
                                 "as the respective in_dim")
            if not -x.dim() <= d < x.dim():
                raise ValueError(f"{self._where('in_dims')}: Got in_dim={d} for some input, but that input "
                                 f"is a Tensor of dimensionality {x.dim()} so expected in_dim to satisfy "
                                 f"-{x.dim()} <= in_dim < {x.dim()}.")
        return [d % x.dim() if d is not None else None for x, d in zip(leaves, dims)]

    @staticmethod
    def _batch_size(leaves, dims):
        sizes = [x.shape[d] for x, d in zip(leaves, dims) if d is not None]
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, "
                             f"got sizes {sizes} for the mapped dimension")
        return sizes[0]

    @contextlib.contextmanager
    def _random_mode(self):
        """Yields what to run before each element: nothing, or (for 'same') the generators'
        state put back; for 'error', any draw raises."""
        generators = _default_generators()
        states = [g.get_state() for g in generators]

        def restore():
            if self.randomness == "same":
                for g, s in zip(generators, states):
                    g.set_state(s)
        guard = _random._draw_guard
        _random._draw_guard = _refuse_draw if self.randomness == "error" else None
        try:
            yield restore
        finally:
            _random._draw_guard = guard

    # ---------------------------------------------------------------- outputs
    def _stack(self, outputs, empty):
        from .ops.joining import stack
        leaves, rebuild = _flatten(outputs[0])
        per_element = [_flatten(o)[0] for o in outputs]
        out_dims = self.out_dims
        if isinstance(outputs[0], Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
            out_dims = out_dims[0]  # torch accepts a 1-tuple for a single tensor
        try:
            dims = _broadcast_prefix(out_dims, outputs[0])
        except _StructureMismatch:
            where = f"vmap({self.name}, ..., out_dims={self.out_dims})(<inputs>)"
            raise ValueError(f"{where}: out_dims is not compatible with the structure of `outputs`. out_dims "
                             f"has structure {_structure(self.out_dims)} but outputs has structure "
                             f"{_structure(outputs[0])}.") from None
        results = []
        for i, (leaf, d) in enumerate(zip(leaves, dims)):
            if not isinstance(leaf, Tensor):
                if d is None:
                    results.append(leaf)
                    continue
                raise ValueError(f"vmap({self.name}, ...): `{self.name}` must only return Tensors, got type "
                                 f"{type(leaf)}. Did you mean to set out_dims= to None for output?")
            column = [leaves_b[i] for leaves_b in per_element]
            if d is None:
                if any(c is not leaf and not _same_values(c, leaf) for c in column):
                    raise ValueError(f"vmap({self.name}, ...): `{self.name}` can not return a BatchedTensor "
                                     "when out_dim is None")
                results.append(leaf)
            elif empty:
                results.append(leaf.unsqueeze(d).narrow(d if d >= 0 else d + leaf.dim() + 1, 0, 0))
            else:
                results.append(stack(column, dim=d))
        return rebuild(results)


class _StructureMismatch(Exception):
    pass


def _broadcast_prefix(prefix, tree):
    """Leaves of ``prefix`` repeated over ``tree``'s leaves: a leaf of ``prefix`` (an int or None)
    covers the whole subtree at its place; tuples/lists/dicts must match ``tree``'s."""
    if prefix is None or isinstance(prefix, int) or not isinstance(prefix, (tuple, list, dict)):
        return [prefix] * len(_flatten(tree)[0])
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise _StructureMismatch
        return [d for k in tree for d in _broadcast_prefix(prefix[k], tree[k])]
    if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
        raise _StructureMismatch
    return [d for p, t in zip(prefix, tree) for d in _broadcast_prefix(p, t)]


def _zero_elements(leaves, dims):
    """Zeros shaped like one element of each mapped leaf (the leaf itself where unmapped)."""
    return [x if d is None else x.new_zeros(x.shape[:d] + x.shape[d + 1:]) for x, d in zip(leaves, dims)]


def _same_values(a, b):
    from .ops.elementwise import equal
    return a.shape == b.shape and equal(a, b)


def _default_generators():
    gens = [_random.default_generator]
    return gens + [g for _, g in sorted(_random._cuda_generators.items())]


def _refuse_draw():
    raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                       "'same' or 'different' randomness flags on vmap or perform the randomness operation "
                       "out of vmap")
