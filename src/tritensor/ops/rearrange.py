"""Reordering and triangular ops: flip, fliplr, flipud, roll, diag, diag_embed, tril, triu."""
from __future__ import annotations

from ..autograd.function import Function
from ..tensor import Tensor, _contiguous_strides
from . import views
from ._common import backend, wrap_dim, wrap_dims
from ._indexing_common import _Mutating, _clone, _flat_view, _run
from ._registry import export, method
from .creation import new_empty, with_out, zeros
from .joining import cat


# ------------------------------------------------------------------ flip / roll
class _Flip(Function):
    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        out = new_empty(x._shape, x.dtype, x.device)
        backend(x).flip(out, x, dims)
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.dims), None


@export
def flip(input, *args, dims=None):
    dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else (args or dims)
    if isinstance(dims, int):
        dims = (dims,)
    return _Flip.apply(input, wrap_dims(tuple(dims), input.dim()) if input.dim() else ())


@export
def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@export
def flipud(input):
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _roll_dim(x, shift, dim):
    n = x._shape[dim]
    if n == 0:
        return x
    shift %= n
    if shift == 0:
        return x
    return cat([views.slice_raw(x, dim, n - shift, n, 1), views.slice_raw(x, dim, 0, n - shift, 1)], dim)


class _Roll(Function):
    node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            src = x if x.is_contiguous() else _clone(x)
            out = _roll_dim(_flat_view(src), shifts[0], 0)
        else:
            out = x
            for s, d in zip(shifts, dims):
                out = _roll_dim(out, s, d)
        if out._storage is x._storage:  # nothing moved: still a view of x
            out = _clone(out)
        return Tensor._make(out._storage, x._shape, _contiguous_strides(x._shape), out._offset, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.roll(tuple(-s for s in ctx.shifts), ctx.dims), None, None


@export
def roll(input, shifts, dims=None):
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (int(shifts),)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return _Roll.apply(input, shifts, None)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return _Roll.apply(input, shifts, tuple(wrap_dim(d, input.dim()) for d in dims))


# ------------------------------------------------------------------ diag / diag_embed / tril / triu
class _DiagEmbed(Function):
    node_name = "DiagEmbedBackward0"

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        n = (x._shape[-1] if x.dim() else 1) + abs(offset)
        rest = list(x._shape[:-1])
        shape = []
        for d in range(len(rest) + 2):
            shape.append(n if d in (dim1, dim2) else rest.pop(0))
        out = zeros(tuple(shape), dtype=x.dtype, device=x.device)
        diag = views._diagonal_raw(out, offset, dim1, dim2)
        if diag.numel():
            backend(out).copy_(diag, x)
        ctx.meta = (offset, dim1, dim2)
        return out

    @staticmethod
    def backward(ctx, grad):
        offset, dim1, dim2 = ctx.meta
        return grad.diagonal(offset, dim1, dim2), None, None, None


@export
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input.dim() + 1
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _DiagEmbed.apply(input, offset, d1, d2)


class _DiagCopy(Function):
    """torch.diag of a matrix: a copy of its diagonal."""

    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset):
        ctx.meta = (x._shape, offset)
        return _clone(views._diagonal_raw(x, offset, 0, 1))

    @staticmethod
    def backward(ctx, grad):
        shape, offset = ctx.meta
        return views._ViewScatter.apply(grad, shape, lambda t: views._diagonal_raw(t, offset, 0, 1)), None


@export
@with_out
def diag(input, diagonal=0):
    if input.dim() == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.dim() == 2:
        return _DiagCopy.apply(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


class _Tril(_Mutating):
    node_name = "TrilBackward0"
    refuses_expanded = False  # torch's tril_ writes into an expanded self
    upper = False

    @classmethod
    def forward(cls, ctx, self, diagonal, inplace=False):
        out = self if inplace else new_empty(self._shape, self.dtype, self.device)
        backend(out).tri(out, self, diagonal, cls.upper)  # reads self directly: no copy first
        ctx.diagonal = diagonal
        return cls.finish(ctx, self, out, inplace)

    @classmethod
    def backward(cls, ctx, grad):
        return (grad.triu(ctx.diagonal) if cls.upper else grad.tril(ctx.diagonal)), None


class _Triu(_Tril):
    node_name = "TriuBackward0"
    upper = True


def _tri_entry(cls, name, input, diagonal, inplace):
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return _run(cls, input, int(diagonal), inplace=inplace)


@export
@with_out
def tril(input, diagonal=0):
    return _tri_entry(_Tril, "tril", input, diagonal, False)


@export
@with_out
def triu(input, diagonal=0):
    return _tri_entry(_Triu, "triu", input, diagonal, False)


@method
def tril_(self, diagonal=0):
    return _tri_entry(_Tril, "tril", self, diagonal, True)


@method
def triu_(self, diagonal=0):
    return _tri_entry(_Triu, "triu", self, diagonal, True)
