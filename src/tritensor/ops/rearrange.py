"""Reordering, repeating and triangular ops: flip, fliplr, flipud, roll, repeat, tile,
repeat_interleave, diag, diag_embed, tril, triu."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor, _contiguous_strides
from . import views
from ._common import backend, wrap_dim, wrap_dims
from ._indexing_common import _Mutating, _clone, _flat_view, _run
from ._registry import export, method
from .conversion import to_host_array
from .creation import new_empty, tensor, with_out, zeros
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
    dims = wrap_dims(tuple(dims), input.dim())  # a 0-d tensor's dims 0 and -1 are one: a repeat is refused
    return _Flip.apply(input, dims if input.dim() else ())


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
    # an empty tensor rolls to itself before torch looks at the dims: any dims do
    dims = tuple(wrap_dim(d, input.dim()) for d in dims) if input.numel() else (0,) * len(dims)
    return _Roll.apply(input, shifts, dims)


# ------------------------------------------------------------------ repeat / tile / repeat_interleave
def _int_sizes(name, arg, sizes):
    """``sizes`` as given to repeat/tile (ints, or one sequence of ints) for their argument
    ``arg``; floats and a call without any are refused like torch's argument parser."""
    if not sizes:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    out = []
    for i, s in enumerate(sizes):
        try:
            out.append(operator.index(s))
        except TypeError:
            raise TypeError(f"{name}(): argument '{arg}' must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {i}") from None
    return tuple(out)


class _Repeat(Function):
    """Dim i of x (shape padded with leading 1s) repeated r_i times: x seen as (1, s_0, 1, s_1,
    ...) is expanded to (r_0, s_0, r_1, s_1, ...) and copied once; backward sums the copies."""

    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, repeats):
        padded = (1,) * (len(repeats) - x.dim()) + x._shape
        spread = tuple(n for pair in zip(repeats, padded) for n in pair)
        ctx.meta = (x._shape, spread)
        unit = tuple(n for s in padded for n in (1, s))
        return x.reshape(unit).expand(spread).contiguous().view(tuple(r * s for r, s in zip(repeats, padded)))

    @staticmethod
    def backward(ctx, grad):
        shape, spread = ctx.meta
        copies = tuple(range(0, len(spread), 2))
        return grad.reshape(spread).sum(copies).reshape(shape), None


@method
def repeat(self, *sizes):
    repeats = _int_sizes("repeat", "repeats", sizes)
    if len(repeats) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    _check_repeats(repeats, (1,) * (len(repeats) - self.dim()) + self._shape)
    return _Repeat.apply(self, repeats)


def _check_repeats(repeats, padded):
    if any(r < 0 for r in repeats):
        shape = [r * s for r, s in zip(repeats, padded)]
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(n for n in shape if n < 0)}: {shape}")


@export(method=False)
def tile(input, dims):
    """``repeat`` with ``dims`` padded with leading 1s to the input's number of dims."""
    repeats = _int_sizes("tile", "dims", (dims,) if isinstance(dims, int) else (tuple(dims),))
    return repeat(input, (1,) * (input.dim() - len(repeats)) + repeats)


@method(name="tile")
def _tile_method(self, *dims):
    return tile(self, _int_sizes("tile", "dims", dims))


@export
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated in place: an int repeats them all alike
    (an expand and one copy); a tensor of counts, one per slice, becomes an index_select,
    whose counts are read on the host (a device sync on 'cuda', as in torch).
    ``repeat_interleave(counts)`` is the index that select uses."""
    if repeats is None:
        return _slot_index(input, None, output_size, input.device)
    if dim is None:
        input, dim = input.reshape(-1), 0
    elif input.dim() == 0:
        input = input.reshape(1)
    dim = wrap_dim(dim, input.dim())
    if isinstance(repeats, Tensor):
        from .gather_scatter import index_select
        return index_select(input, dim, _slot_index(repeats, input._shape[dim], output_size, input.device))
    repeats = operator.index(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = input._shape
    _check_output_size(output_size, shape[dim] * repeats)
    spread = shape[:dim + 1] + (repeats,) + shape[dim + 1:]
    return input.unsqueeze(dim + 1).expand(spread).contiguous().view(
        shape[:dim] + (shape[dim] * repeats,) + shape[dim + 1:])


def _slot_index(repeats, n, output_size, device):
    """int64 indices 0..n-1, index i ``repeats[i]`` times (a one-element ``repeats`` serves
    every i; ``n`` None: one index per count)."""
    if repeats.dim() > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.dtype.is_floating_point or repeats.dtype is dt.bool:
        raise NotImplementedError(f"repeat_interleave: repeats must be an integer tensor, got "
                                  f"{repeats.dtype}")
    counts = to_host_array(repeats).reshape(-1).astype(np.int64)
    if n is None:
        n = counts.size
    elif counts.size == 1:
        counts = np.repeat(counts, n)
    if counts.size != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.size} and input.size(dim) = {n}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    _check_output_size(output_size, int(counts.sum()))
    return tensor(np.repeat(np.arange(n, dtype=np.int64), counts), device=device)


def _check_output_size(output_size, size):
    if output_size is not None and output_size != size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size}, but the repeats make {size}")


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


@export
def diagflat(input, offset=0):
    """The flattened input on diagonal ``offset`` of a square matrix."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


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


@export
def rot90(input, k=1, dims=(0, 1)):
    """torch.rot90: rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first
    dim towards the second): a flip and a transpose."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = wrap_dim(dims[0], input.dim()), wrap_dim(dims[1], input.dim())
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = "
                           f"{dims[1]}")
    k %= 4
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, d0).transpose(d0, d1)
    return input.clone()
