"""The ``*_copy`` variants of the view ops (``torch.permute_copy``, ``split_copy`` ...) and the
``unsafe_`` splits.

A ``*_copy`` op returns the view's values in new contiguous memory. Its gradient is the
view's, so the copy takes over the view's backward node, renamed as torch names it
(``PermuteBackward0_copy``); the unsafe splits are the plain splits under torch's
``UnsafeSplitBackward0`` names. One mechanism serves every op: run the view, then
re-badge its node.
"""
from __future__ import annotations

from ..autograd import grad_mode
from . import views
from ..tensor import Tensor
from ._registry import export
from .conversion import CONTIGUOUS_FORMAT
from .creation import write_out

_RENAMED = {}


def _renamed(node, name):
    """``node`` with ``name()`` returning ``name``: its class swapped for a cached subclass
    of that name (the node's data and backward stay as they are)."""
    cls = type(node)
    key = (cls, name)
    if key not in _RENAMED:
        _RENAMED[key] = type(name, (cls,), {"__slots__": ()})
    node.__class__ = _RENAMED[key]
    return node


def _copy_of(view):
    """A contiguous copy of ``view`` with the view's backward node, renamed ``<name>_copy``."""
    with grad_mode.no_grad():
        copy = view.clone(memory_format=CONTIGUOUS_FORMAT)
    node = view._grad_fn
    if node is not None:
        if not type(node).__name__.endswith("_copy"):  # one node shared by several outputs
            _renamed(node, type(node).__name__ + "_copy")
        copy._requires_grad = True
        copy._grad_fn = node
        copy._output_nr = view._output_nr
    return copy


def _copy_variant(view_fn, name):
    """``torch.<name>``: ``view_fn``'s result (a tensor or a tuple of them) copied, with ``out=``
    (written without a gradient, also from an input that requires grad)."""
    def variant(input, *args, out=None, **kwargs):
        result = view_fn(input, *args, **kwargs)
        if isinstance(result, (tuple, list)):
            copies = [_copy_of(r) for r in result]
            if out is None:
                return copies
            if not isinstance(out, (tuple, list)) or len(out) != len(copies):
                raise RuntimeError(f"{name}(): expected out= to be a list of {len(copies)} tensors")
            for o, c in zip(out, copies):
                write_out(o, c.detach(), name)
            return None
        copy = _copy_of(result)
        return copy if out is None else write_out(out, copy.detach(), name)  # torch: a NotImplemented node
    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = f"``torch.{name}``: ``{view_fn.__name__}``'s result in new contiguous memory."
    return export(variant, method=False)


def _untracked_alias(view, node_name):
    """``view``'s memory as a tensor without a base, with the view's backward node renamed."""
    alias = Tensor._make(view._storage, view._shape, view._stride, view._offset, view.dtype)
    node = view._grad_fn
    if node is not None:
        if type(node).__name__ != node_name:
            _renamed(node, node_name)
        alias._requires_grad, alias._grad_fn, alias._output_nr = True, node, view._output_nr
    return alias


def _slice(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` along ``dim`` (torch.ops.aten.slice)."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    dim = dim + input.dim() if dim < 0 else dim
    if not 0 <= dim < input.dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, "
                         f"{input.dim() - 1}], but got {dim})")
    return input[(slice(None),) * dim + (slice(start, end, step),)]


for _view, _name in [(views.as_strided, "as_strided_copy"), (views.diagonal, "diagonal_copy"),
                     (views.expand, "expand_copy"), (views.permute, "permute_copy"),
                     (views.select, "select_copy"), (_slice, "slice_copy"), (views.split, "split_copy"),
                     (views.split_with_sizes, "split_with_sizes_copy"), (views.squeeze, "squeeze_copy"),
                     (views.t, "t_copy"), (views.transpose, "transpose_copy"), (views.unbind, "unbind_copy"),
                     (views.unfold, "unfold_copy"), (views.unsqueeze, "unsqueeze_copy"),
                     (views.view, "view_copy")]:
    globals()[_name] = _copy_variant(_view, _name)


def _unsafe(split_fn, node_name, name):
    """``torch.<name>``: ``split_fn``'s parts as untracked aliases of ``input`` (the same memory,
    but not views to autograd: in-place changes are not checked), under torch's ``node_name``."""
    def unsafe(input, *args, **kwargs):
        return tuple(_untracked_alias(p, node_name) for p in split_fn(input, *args, **kwargs))
    unsafe.__name__ = unsafe.__qualname__ = name
    unsafe.__doc__ = f"``torch.{name}``: ``{split_fn.__name__}``, without torch's view tracking checks."
    return export(unsafe)


unsafe_split = _unsafe(views.split, "UnsafeSplitBackward0", "unsafe_split")
unsafe_chunk = _unsafe(views.chunk, "UnsafeSplitBackward0", "unsafe_chunk")
unsafe_split_with_sizes = _unsafe(views.split_with_sizes, "UnsafeSplitWithSizesBackward0",
                                  "unsafe_split_with_sizes")
