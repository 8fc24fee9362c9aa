"""In-place ops on views (torch's CopySlices).

A view shares its base's storage, so an in-place op on the view changes the base too.
When that op is recorded, the base's history is rewritten: its ``grad_fn`` becomes a
``CopySlices`` node that routes the slice of the incoming gradient through the op's
own node and passes the rest through unchanged; the view's ``grad_fn`` becomes an
``AsStridedBackward0`` of the base. Other views of the same base notice the storage
version moved on and regenerate their ``grad_fn`` the same way when next used.

A view is recreated from any tensor shaped like its base by its geometry: relative to
a copy of that tensor laid out in memory like the base, it has the view's sizes,
strides and (relative) storage offset.
"""
from __future__ import annotations

from .function import Function
from .graph import Node, gradient_edge


class _Geometry:
    """How ``view`` sits in ``base``; ``take(x)`` makes the same view of a base-shaped ``x``."""

    __slots__ = ("base_shape", "perm", "inverse", "shape", "stride", "offset")

    def __init__(self, view, base):
        self.base_shape = base._shape
        self.perm = _layout_perm(base)
        self.inverse = None if self.perm is None else tuple(sorted(range(len(self.perm)),
                                                                    key=self.perm.__getitem__))
        self.shape, self.stride = view._shape, view._stride
        self.offset = view._offset - base._offset

    def in_base_layout(self, x):
        """A fresh copy of ``x`` in the base's memory layout (same logical shape), whatever
        ``x``'s own layout (a plain clone would keep it)."""
        from ..ops.conversion import CONTIGUOUS_FORMAT
        if self.perm is None:
            return x.clone(memory_format=CONTIGUOUS_FORMAT)
        return x.permute(self.perm).clone(memory_format=CONTIGUOUS_FORMAT).permute(self.inverse)

    def take(self, x):
        """The view of ``x`` (laid out like the base, or copied so first)."""
        from ..ops.views import as_strided
        dense = x if self.perm is None else x.permute(self.perm)
        dense = dense.contiguous()
        return as_strided(dense, self.shape, self.stride, dense._offset + self.offset)

    def zeros(self, dtype, device):
        from ..ops.creation import zeros
        if self.perm is None:
            return zeros(self.base_shape, dtype=dtype, device=device)
        permuted = tuple(self.base_shape[d] for d in self.perm)
        return zeros(permuted, dtype=dtype, device=device).permute(self.inverse)


def _layout_perm(base):
    """The dim order that makes ``base`` contiguous (None if it already is)."""
    if base.is_contiguous():
        return None
    perm = tuple(sorted(range(base.dim()), key=lambda d: (-base._stride[d], -base._shape[d])))
    if not base.permute(perm).is_contiguous():
        raise NotImplementedError("in-place operation on a view of a tensor whose memory layout has gaps "
                                  "is not supported; clone() the base first")
    return perm


class _ScatterToBase(Function):
    """The gradient of a view, placed into zeros shaped like its base."""

    node_name = "AsStridedScatterBackward0"

    @staticmethod
    def forward(ctx, grad, geometry):
        ctx.geometry = geometry
        out = geometry.zeros(grad.dtype, grad.device)
        geometry.take(out).copy_(grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return ctx.geometry.take(grad), None


class AsStridedBackward0(Node):
    """grad_fn of a view regenerated from its base after an in-place op."""

    def __init__(self, base_edge, geometry, view):
        self._edges = (base_edge,)
        self._geometry = geometry
        self._output_meta = [(view.shape, view.dtype, view.device)]
        self._view_version = view._storage.version

    def apply(self, grads):
        return (_ScatterToBase.apply(grads[0], self._geometry),)


class CopySlices(Node):
    """grad_fn of a base after an in-place op ``fn`` on one of its views."""

    def __init__(self, base_edge, fn, geometry, base):
        self._edges = (base_edge,) + fn._edges[1:]
        self._fn = fn
        self._geometry = geometry
        self._output_meta = [(base.shape, base.dtype, base.device)]

    @property
    def next_functions(self):
        base_edge = self._edges[0]
        return ((None, 0) if base_edge is None else base_edge,) + self._fn.next_functions[1:]

    def apply(self, grads):
        geometry = self._geometry
        result = geometry.in_base_layout(grads[0])
        grad_slice = geometry.take(result)
        res = self._fn.apply([grad_slice.clone()])
        if res[0] is None:
            grad_slice.zero_()
        else:
            grad_slice.copy_(res[0])
        return (result,) + tuple(res[1:])

    def release(self):
        self._fn.release()

    @property
    def _freed(self):
        return self._fn._freed


def rebase_view(view, fn):
    """``fn`` (a recorded in-place op) just modified ``view``: rewrite its base's history."""
    base = view._base
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    geometry = _Geometry(view, base)
    copy = CopySlices(gradient_edge(base), fn, geometry, base)
    base.grad_fn = copy
    base._requires_grad = True
    base._output_nr = 0
    if base._retains_grad:
        base._retains_grad = False
        base.retain_grad()
    view.grad_fn = AsStridedBackward0((copy, 0), geometry, view)
    view._output_nr = 0


def regenerate_view_grad_fn(view):
    """The base of ``view`` changed in place since ``view``'s grad_fn was made: remake it."""
    edge = gradient_edge(view._base)
    if edge is None:
        return view._grad_fn
    node = AsStridedBackward0(edge, _Geometry(view, view._base), view)
    view.grad_fn = node
    view._output_nr = 0
    return node


def check_view_inplace(view, base):
    """Refuse, like torch, in-place ops on views whose history cannot be rewritten."""
    if base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if not view._requires_grad:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
            "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
            "code by moving both the view and the inplace either both inside the no_grad block (if you "
            "don't want the inplace to be tracked) or both outside (if you want the inplace to be "
            "tracked).")
    fn = view._grad_fn
    if fn is not None and fn._view_version is not None and len(getattr(fn, "_output_meta", ())) > 1:
        raise RuntimeError(
            f"Output {view._output_nr} of {fn.name()} is a view and is being modified inplace. This view is "
            "the output of a function that returns multiple views. Such functions do not allow the output "
            "views to be modified inplace. You should replace the inplace operation by an out-of-place one.")
