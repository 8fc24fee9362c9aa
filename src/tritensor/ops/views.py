"""View ops: new shape/stride/offset over the same storage, no data movement.

Each view is a Function whose backward maps the gradient back to the input's shape:
the inverse view for reshapes and permutations, a sum for expand, and for views that
pick a subset (select, slice, diagonal, as_strided) a differentiable scatter into zeros.
"""
from __future__ import annotations

import math
import operator

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..size import Size
from ..tensor import Tensor, _contiguous_strides
from ._common import is_int, require_int, wrap_dim, wrap_dims
from ._registry import export, method


def make_view(base: Tensor, shape, stride, offset) -> Tensor:
    """A tensor aliasing ``base``'s storage with the given geometry."""
    v = Tensor._make(base._storage, tuple(shape), tuple(stride), offset, base.dtype)
    v._base = base._base if base._base is not None else base
    return v


# ------------------------------------------------------------------ view / reshape
def _infer_shape(shape, numel):
    """``shape`` with its one -1 (if any) inferred from ``numel``; torch's RuntimeErrors."""
    shape = tuple(shape)
    if -1 not in shape:  # the common cases first: no arithmetic beyond one product
        if math.prod(shape) == numel and min(shape, default=0) >= 0:
            return shape
    else:
        i = shape.index(-1)
        rest = shape[:i] + shape[i + 1:]
        known = math.prod(rest)
        if known and numel % known == 0 and min(rest, default=0) >= 0:
            return shape[:i] + (numel // known,) + shape[i + 1:]
    return _checked_shape(shape, numel)


def _checked_shape(shape, numel):
    """``_infer_shape`` for what its fast path refuses: the same answer, or torch's error."""
    shape = list(shape)
    infer = [i for i, s in enumerate(shape) if s == -1]
    if len(infer) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if infer:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[infer[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _view_strides(old_shape, old_stride, new_shape):
    """Strides that let ``new_shape`` view memory laid out as (old_shape, old_stride), or None.

    Walks both shapes in chunks of equal element count (like ATen's computeStride).
    """
    numel = 1
    for s in old_shape:
        numel *= s
    if not old_shape:
        return (1,) * len(new_shape)
    if numel == 0:
        return old_stride if tuple(old_shape) == tuple(new_shape) else _contiguous_strides(new_shape)
    if not new_shape:
        return ()
    new_stride = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_stride[-1] if old_stride else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_stride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_stride[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_stride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_stride)


def _shape_args(shape, name, arg):
    """Sizes given as ints or as one sequence, each an integer (``__index__``: an int tensor
    too, as torch) but not a bool; anything else is torch's TypeError, never truncated."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    try:
        sizes = tuple(map(operator.index, shape))
    except TypeError:
        sizes = None
    if sizes is None or bool in map(type, shape):
        pos, bad = next((i, s) for i, s in enumerate(shape) if not is_int(s))
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of ints, but found element "
                        f"of type {type(bad).__name__} at pos {pos}")
    return sizes


class _View(Function):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        dense = x.is_contiguous() and x.numel()  # an empty one keeps its strides for its own shape
        stride = _contiguous_strides(shape) if dense else _view_strides(x._shape, x._stride, shape)
        if stride is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        ctx.input_shape = x._shape
        return make_view(x, shape, stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


@method
def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        return view_as_dtype(self, shape[0])
    return _View.apply(self, _infer_shape(_shape_args(shape, "view", "size"), self.numel()))


def view_as_dtype(self, dtype):
    """The same bytes read as ``dtype``; a size change rescales the last dim (torch's rules)."""
    old, new = self.dtype.itemsize, dtype.itemsize
    if old == new:
        return Tensor._make(self._storage, self._shape, self._stride, self._offset, dtype)
    from .elementwise import _torch_name
    what = f"to view {_torch_name(self.dtype)} as {_torch_name(dtype)} (different element sizes)"
    if self.dim() == 0:
        raise RuntimeError(f"self.dim() cannot be 0 {what}")
    if self._stride[-1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {self._stride[-1]}")
    if new > old:
        ratio = new // old
        if self._shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, "
                               f"but got {self._shape[-1]}")
        if self._offset % ratio:
            raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got "
                               f"{self._offset}")
        if any(s % ratio for s in self._stride[:-1]):
            raise RuntimeError(f"self.stride(i) must be divisible by {ratio} for all i < -1 {what}")
        shape = self._shape[:-1] + (self._shape[-1] // ratio,)
        stride = tuple(s // ratio for s in self._stride[:-1]) + (1,)
        return Tensor._make(self._storage, shape, stride, self._offset // ratio, dtype)
    ratio = old // new
    shape = self._shape[:-1] + (self._shape[-1] * ratio,)
    stride = tuple(s * ratio for s in self._stride[:-1]) + (1,)
    return Tensor._make(self._storage, shape, stride, self._offset * ratio, dtype)


@method
def view_as(self, other):
    return view(self, other.shape)


class _ReshapeAlias(_View):
    node_name = "ReshapeAliasBackward0"


class _UnsafeView(Function):
    """view of a freshly computed tensor; the result is not marked as a view (ATen _unsafe_view)."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._shape
        strides = _view_strides(x._shape, x._stride, shape)
        if strides is None:  # a result laid out like a transposed operand: ATen raises, a copy works
            x = x.contiguous()
            strides = _view_strides(x._shape, x._stride, shape)
        return Tensor._make(x._storage, shape, strides, x._offset, x.dtype)

    backward = _View.backward


def unsafe_view(x, shape):
    """Reshape a temporary that nobody else sees (copied first when its strides do not allow
    the view)."""
    return _UnsafeView.apply(x, tuple(shape))


@export
def reshape(input, *shape):
    """A view when the strides allow it, else a contiguous copy (like torch)."""
    shape = _infer_shape(_shape_args(shape, "reshape", "shape"), input.numel())
    if _view_strides(input._shape, input._stride, shape) is None:
        return unsafe_view(input.contiguous(), shape)
    return (_View if input.is_contiguous() else _ReshapeAlias).apply(input, shape)


@method
def reshape_as(self, other):
    return reshape(self, other.shape)


@export
def flatten(input, start_dim=0, end_dim=-1):
    if input.dim() == 0:
        return reshape(input, (1,))
    start, end = wrap_dim(start_dim, input.dim()), wrap_dim(end_dim, input.dim())
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    n = 1
    for s in input._shape[start:end + 1]:
        n *= s
    return reshape(input, input._shape[:start] + (n,) + input._shape[end + 1:])


@export
def unflatten(input, dim, sizes):
    dim = wrap_dim(dim, input.dim())
    sizes = _infer_shape(tuple(sizes), input._shape[dim])
    return view(input, input._shape[:dim] + sizes + input._shape[dim + 1:])


@export
def ravel(input):
    return reshape(input.contiguous(), (-1,))


# ------------------------------------------------------------------ permutations
class _Permute(Function):
    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return make_view(x, [x._shape[d] for d in dims], [x._stride[d] for d in dims], x._offset)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        if not grad_mode.enabled:  # a plain backward: the permuted alias, no view node or bookkeeping
            return Tensor._make(grad._storage, tuple([grad._shape[d] for d in inverse]),
                                tuple([grad._stride[d] for d in inverse]), grad._offset, grad.dtype), None
        return grad.permute(inverse), None


class _Transpose(_Permute):
    node_name = "TransposeBackward0"


class _T(_Permute):
    node_name = "TBackward0"


@export
def permute(input, *dims):
    dims = _shape_args(dims, "permute", "dims")
    if len(dims) != input.dim():
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.dim()} is not equal to len(dims) = {len(dims)}")
    return _Permute.apply(input, wrap_dims(dims, input.dim()))


def _swap(ndim, d0, d1):
    dims = list(range(ndim))
    if dims:  # a 0-d tensor's dims 0 and -1 are itself, as in torch
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return tuple(dims)


@export(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    return _transpose(input, dim0, dim1, _Transpose)


def _transpose(input, dim0, dim1, node):
    n = input.dim()
    return node.apply(input, _swap(n, wrap_dim(dim0, n), wrap_dim(dim1, n)))


@export
def t(input):
    return _t(input, _T)


def _t(input, node):
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return node.apply(input, tuple(range(input.dim() - 1, -1, -1)))


@export(aliases=("moveaxis",))
def movedim(input, source, destination):
    n = input.dim()
    src = wrap_dims(source if isinstance(source, (tuple, list)) else (source,), n)
    dst = wrap_dims(destination if isinstance(destination, (tuple, list)) else (destination,), n)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) "
                           f"should contain the same number of dims as destination ({list(dst)} dims)")
    order = [None] * n
    for s, d in zip(src, dst):
        if n:  # a 0-d tensor: dims 0 / -1 move nothing
            order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


# in-place view ops: ``self`` takes the geometry (and the grad_fn) of the out-of-place view
def _become(self, view):
    """Turn ``self`` into ``view`` of its own storage, as torch's ``t_``/``squeeze_``... do."""
    self._shape, self._stride, self._offset, self._np = view._shape, view._stride, view._offset, None
    self._flat = None
    if view.grad_fn is not None:
        self.grad_fn, self._output_nr = view.grad_fn, view._output_nr
    return self


def _check_inplace_view(self):
    from .elementwise import check_inplace
    check_inplace(self)


class _TransposeInplace(_Permute):
    node_name = "TransposeBackward1"


class _TInplace(_Permute):
    node_name = "TBackward1"


@method
def transpose_(self, dim0, dim1):
    _check_inplace_view(self)
    return _become(self, _transpose(self, dim0, dim1, _TransposeInplace))


@method
def t_(self):
    _check_inplace_view(self)
    return _become(self, _t(self, _TInplace))


# ------------------------------------------------------------------ squeeze / unsqueeze / expand
class _Reshape(Function):
    """A view that only inserts or removes size-1 dims; backward reshapes back."""

    node_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx, x, shape, stride):
        ctx.input_shape = x._shape
        return make_view(x, shape, stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None, None


def _reshape_node(node_name):
    return type(node_name.replace("Backward", ""), (_Reshape,), {"node_name": node_name})


#: squeeze nodes for (all dims, one dim, a tuple of dims), out of place and in place.
_SQUEEZE = tuple(map(_reshape_node, ("SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2")))
_SQUEEZE_ = tuple(map(_reshape_node, ("SqueezeBackward3", "SqueezeBackward4", "SqueezeBackward5")))
_UNSQUEEZE_ = _reshape_node("UnsqueezeBackward1")


def squeeze_inplace_node(x, dim):
    """squeeze(x, dim) recorded as torch's in-place ``squeeze_`` on a temporary (matmul)."""
    return _squeeze(x, dim, _SQUEEZE_)


@export
def unsqueeze(input, dim):
    return _unsqueeze(input, dim, _Reshape)


def _unsqueeze(input, dim, node):
    d = wrap_dim(dim, input.dim() + 1)
    return node.apply(input, *unsqueezed_geometry(input, d))


def unsqueezed_geometry(x, d):
    """(shape, stride) of ``x`` with a size-1 dim inserted at ``d`` (torch's stride for it)."""
    inner = x._stride[d] * x._shape[d] if d < x.dim() else 1
    return x._shape[:d] + (1,) + x._shape[d:], x._stride[:d] + (inner,) + x._stride[d:]


def _squeeze(input, dim, nodes):
    n = input.dim()
    if dim is None:
        keep = [i for i in range(n) if input._shape[i] != 1]
        node = nodes[0]
    else:
        dims = wrap_dims(dim, n) if n else ()
        keep = [i for i in range(n) if not (i in dims and input._shape[i] == 1)]
        node = nodes[2] if isinstance(dim, (tuple, list)) else nodes[1]
    return node.apply(input, tuple(input._shape[i] for i in keep), tuple(input._stride[i] for i in keep))


@export
def squeeze(input, dim=None):
    return _squeeze(input, dim, _SQUEEZE)


@method
def unsqueeze_(self, dim):
    _check_inplace_view(self)
    return _become(self, _unsqueeze(self, dim, _UNSQUEEZE_))


@method
def squeeze_(self, dim=None):
    _check_inplace_view(self)
    return _become(self, _squeeze(self, dim, _SQUEEZE_))


class _Expand(Function):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._shape
        offset = len(shape) - x.dim()
        if offset < 0:
            from ..tensor import _LEGACY_NAMES
            raise RuntimeError(f"expand(torch.{_LEGACY_NAMES[x.dtype]}{{{list(x._shape)}}}, "
                               f"size={list(shape)}): "
                               f"the number of sizes provided ({len(shape)}) must be greater or equal to the "
                               f"number of dimensions in the tensor ({x.dim()})")
        new_shape, new_stride = [], []
        for i, s in enumerate(shape):
            if i < offset:
                if s < 0:
                    raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                       "non-existing dimension 0")
                new_shape.append(s)
                new_stride.append(0)
                continue
            cur = x._shape[i - offset]
            if s == -1:
                s = cur
            elif s < 0:
                raise RuntimeError(f"expand: invalid size {s} in target sizes {list(shape)}")
            if cur == s:
                new_shape.append(s)
                new_stride.append(x._stride[i - offset])
            elif cur == 1:
                new_shape.append(s)
                new_stride.append(0)
            else:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                                   f"size ({cur}) "
                                   f"at non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor "
                                   f"sizes: {list(x._shape)}")
        return make_view(x, new_shape, new_stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad.sum_to_size(ctx.input_shape), None


@method
def expand(self, *sizes):
    return _Expand.apply(self, _shape_args(sizes, "expand", "size"))


@method
def expand_as(self, other):
    return expand(self, other.shape)


@export
def broadcast_to(input, size):
    return expand(input, tuple(size))


@export(method=False)
def broadcast_tensors(*tensors):
    from ._common import broadcast_shapes
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


@export(name="broadcast_shapes", method=False)
def broadcast_shapes_(*shapes):
    """The shape that tensors of ``shapes`` broadcast to (an int n stands for (n,)), as a Size."""
    from ._common import broadcast_shapes
    return Size(broadcast_shapes(*((s,) if isinstance(s, int) else tuple(s) for s in shapes)))


# ------------------------------------------------------------------ sub-views
class _ViewScatter(Function):
    """zeros(shape) with ``view_fn(zeros)`` set to ``grad``: the backward of sub-views."""

    node_name = "ViewScatterBackward0"

    @staticmethod
    def forward(ctx, grad, shape, view_fn):
        from .creation import zeros
        ctx.view_fn = view_fn
        out = zeros(shape, dtype=grad.dtype, device=grad.device)
        _accumulate(view_fn(out), grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return ctx.view_fn(grad), None, None


def _overlaps(t):
    """Whether two elements of ``t`` may share memory (conservative: True if unsure)."""
    extent = 0
    dims = sorted(((st, sz) for sz, st in zip(t._shape, t._stride) if sz > 1))
    for stride, size in dims:
        if stride <= extent:
            return True
        extent += stride * (size - 1)
    return False


def _accumulate(region, grad):
    """region += grad, summing where the region's elements alias (unfold, as_strided).

    An aliasing region is split along the shortest dim whose slices are alias-free (the
    window dim of an unfold), else along its first dim, and each piece is added in turn.
    """
    if region.numel() == 0:
        return
    if not _overlaps(region):
        region.add_(grad)
        return
    free = [d for d in range(region.dim()) if not _overlaps(_select_raw(region, d, 0))]
    dim = min(free, key=lambda d: region._shape[d]) if free else 0
    for i in range(region._shape[dim]):
        _accumulate(_select_raw(region, dim, i), _select_raw(grad, dim, i))


def _subview_backward(ctx, grad):
    return _ViewScatter.apply(grad, ctx.input_shape, ctx.view_fn)


class _SubView(Function):
    """A view selecting part of the input; ``view_fn`` recreates it on any same-shape tensor."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, view_fn):
        ctx.input_shape = x._shape
        ctx.view_fn = view_fn
        return view_fn(x)

    @classmethod
    def backward(cls, ctx, grad):
        return _subview_backward(ctx, grad), None


def _named_subview(node_name):
    return type(node_name.replace("Backward0", ""), (_SubView,), {"node_name": node_name})


_Select = _named_subview("SelectBackward0")
_Slice = _named_subview("SliceBackward0")
_Diagonal = _named_subview("DiagonalBackward0")
_Unfold = _named_subview("UnfoldBackward0")


def _select_raw(x, dim, index):
    size = x._shape[dim]
    if index < -size or index >= size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    if index < 0:
        index += size
    return make_view(x, x._shape[:dim] + x._shape[dim + 1:], x._stride[:dim] + x._stride[dim + 1:],
                     x._offset + index * x._stride[dim])


@export
def select(input, dim, index):
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.dim())
    index = int(index)
    return _Select.apply(input, lambda x: _select_raw(x, dim, index))


def slice_raw(x, dim, start, stop, step):
    """View of ``x[..., start:stop:step, ...]`` along ``dim`` (Python slice semantics, step > 0)."""
    size = x._shape[dim]
    start, stop, step = slice(start, stop, step).indices(size)
    n = max(0, (stop - start + step - 1) // step)
    shape = x._shape[:dim] + (n,) + x._shape[dim + 1:]
    stride = x._stride[:dim] + (x._stride[dim] * step,) + x._stride[dim + 1:]
    return make_view(x, shape, stride, x._offset + (start * x._stride[dim] if n else 0))


def slice_dim(input, dim, start, stop, step=1):
    if step <= 0:
        raise ValueError("step must be greater than zero")
    return _Slice.apply(input, lambda x: slice_raw(x, dim, start, stop, step))


@export
def narrow(input, dim, start, length):
    _check_not_0d(input, "narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.dim())
    if isinstance(start, Tensor) and (start.dim() or start.dtype.is_floating_point or start.dtype is dt.bool):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    start = require_int("narrow", "start", 3, start)
    length = require_int("narrow", "length", 4, length)
    size = input._shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got "
                         f"{start})")
    if start < 0:
        start += size
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(input, dim, start, start + length)


def _diagonal_raw(x, offset, dim1, dim2):
    if offset >= 0:
        n = max(0, min(x._shape[dim1], x._shape[dim2] - offset))
        start = x._offset + offset * x._stride[dim2] if n else x._offset
    else:
        n = max(0, min(x._shape[dim1] + offset, x._shape[dim2]))
        start = x._offset - offset * x._stride[dim1] if n else x._offset
    keep = [d for d in range(x.dim()) if d not in (dim1, dim2)]
    shape = [x._shape[d] for d in keep] + [n]
    stride = [x._stride[d] for d in keep] + [x._stride[dim1] + x._stride[dim2]]
    return make_view(x, shape, stride, start)


@export
def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input.dim()
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _Diagonal.apply(input, lambda x: _diagonal_raw(x, offset, d1, d2))


def _check_in_storage(t, size, stride, offset):
    """torch's setStorage check: the view must lie inside ``t``'s storage (an empty one
    anywhere)."""
    itemsize = t.dtype.itemsize
    if all(size):
        needed = (offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1) * itemsize
        available = t._storage.nbytes()
        if needed > available:
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                               f"{offset}, and itemsize {itemsize} requiring a storage size of {needed} "
                               f"are out of bounds for storage of size {available}")


class _AsStrided(Function):
    """``as_strided``: its strides and offset address the input's storage, not its elements,
    so the gradient goes through storage positions (``_StorageScatter``)."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        ctx.geometries = (x._shape, x._stride, x._offset), (size, stride, offset)
        return make_view(x, size, stride, offset)

    @staticmethod
    def backward(ctx, grad):
        source, view = ctx.geometries
        return _StorageScatter.apply(grad, view, source), None, None, None


class _StorageScatter(Function):
    """Values of geometry ``scatter`` (shape, strides, offset) added at their positions of a
    zero buffer spanning both geometries, read back through geometry ``gather``: the gradient
    of a view whose strides address storage (torch's as_strided_backward). Positions outside
    ``gather``'s elements drop out; ``gather``'s aliasing elements each get the sum. Its own
    gradient is the same map with the geometries swapped."""

    node_name = "AsStridedScatterBackward0"

    @staticmethod
    def forward(ctx, values, scatter, gather):
        from .creation import zeros
        ctx.geometries = scatter, gather
        spans = [_storage_span(*g) for g in (scatter, gather)]
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        buffer = zeros(max(hi - lo, 0), dtype=values.dtype, device=values.device)
        _accumulate(make_view(buffer, scatter[0], scatter[1], scatter[2] - lo), values)
        return make_view(buffer, gather[0], gather[1], gather[2] - lo).contiguous()

    @staticmethod
    def backward(ctx, grad):
        scatter, gather = ctx.geometries
        return _StorageScatter.apply(grad, gather, scatter), None, None


def _storage_span(shape, stride, offset):
    """[first, last + 1) of the storage positions a geometry addresses (empty: (offset, offset))."""
    if 0 in shape:
        return offset, offset
    return offset, offset + sum((n - 1) * st for n, st in zip(shape, stride)) + 1


@export
def as_strided(input, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    offset = input._offset if storage_offset is None else storage_offset
    _check_in_storage(input, size, stride, offset)
    return _AsStrided.apply(input, size, stride, offset)


# ------------------------------------------------------------------ splitting
def _check_not_0d(input, message):
    if input.dim() == 0:
        raise RuntimeError(message)


@export
def split(tensor, split_size_or_sections, dim=0):
    _check_not_0d(tensor, "split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, tensor.dim())
    size = tensor._shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError("split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {size}")
        sections = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               "(input tensor's "
                               f"size at dimension {dim}), but got split_sizes={sections}")
    return _Pieces.split(tensor, dim, sections, "SplitBackward0" if isinstance(split_size_or_sections, int)
                         else "SplitWithSizesBackward0")


class _Pieces(Function):
    """Consecutive pieces of ``x`` along ``dim`` (``sizes``; unbind's size-1 pieces without the
    dim when ``drop_dim``), as views that are all outputs of one node: its backward assembles
    the input's gradient once (zeros for pieces without one), where a slice node per piece
    would scatter each gradient into an input-sized zero tensor, quadratic in the pieces (a
    recurrence's per-step slices). As torch's, the pieces may not be modified in place."""

    node_name = "SplitWithSizesBackward0"

    @staticmethod
    def split(x, dim, sizes, node_name, drop_dim=False):
        """``x``'s pieces, recorded under torch's ``node_name`` for the calling op."""
        return _PIECES[node_name].apply(x, dim, tuple(sizes), drop_dim) if sizes else ()

    @staticmethod
    def forward(ctx, x, dim, sizes, drop_dim):
        ctx.set_materialize_grads(False)
        ctx.meta = (x._shape, dim, sizes, drop_dim)
        if drop_dim:
            return tuple(_select_raw(x, dim, i) for i in range(len(sizes)))
        starts = [0]
        for n in sizes:
            starts.append(starts[-1] + n)
        return tuple(slice_raw(x, dim, a, a + n, 1) for a, n in zip(starts, sizes))

    @staticmethod
    def backward(ctx, *grads):
        from .creation import zeros
        from .joining import cat  # joining imports this module
        shape, dim, sizes, drop_dim = ctx.meta
        like = next(g for g in grads if g is not None)
        parts = [zeros(shape[:dim] + (n,) + shape[dim + 1:], dtype=like.dtype, device=like.device)
                 if g is None else g.unsqueeze(dim) if drop_dim else g for g, n in zip(grads, sizes)]
        return cat(parts, dim), None, None, None


_PIECES = {name: type(name.replace("Backward0", ""), (_Pieces,), {"node_name": name})
           for name in ("SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0")}


@export
def split_with_sizes(input, split_sizes, dim=0):
    """split by a list of sizes only (an int is torch's TypeError)."""
    if isinstance(split_sizes, int):
        raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, "
                        "not int")
    return split(input, list(split_sizes), dim)


@export
def narrow_copy(input, dim, start, length):
    return narrow(input, dim, start, length).clone()


def _sections_or_indices(value):
    """tensor_split's argument as an int (sections) or a list of split indices; a tensor
    must be a 0-d (sections) or 1-d int64 one, as torch requires."""
    if not isinstance(value, Tensor):
        return value
    if value.dim() > 1:
        raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                           f"one-dimensional tensor, but got a tensor with {value.dim()} dims")
    if value.dtype is not dt.int64:
        from .elementwise import _torch_name  # an error path: elementwise imports this module
        raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                           f"{_torch_name(value.dtype)}")
    return int(value.item()) if value.dim() == 0 else value.tolist()


@export
def tensor_split(input, indices_or_sections, dim=0):
    _check_not_0d(input, "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 "
                         "dims")
    dim = wrap_dim(dim, input.dim())
    size = input._shape[dim]
    indices_or_sections = _sections_or_indices(indices_or_sections)
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        base, extra = divmod(size, n)
        sizes = [base + 1] * extra + [base] * (n - extra)
        bounds = [sum(sizes[:i]) for i in range(n + 1)]
    else:  # split points index like Python slices: negative ones count from the end
        bounds = [0] + [min(max(i + size if i < 0 else i, 0), size) for i in map(int, indices_or_sections)]
        bounds.append(size)
    return tuple(slice_dim(input, dim, a, max(a, b)) for a, b in zip(bounds, bounds[1:]))


def _split_along(name, input, sections, dim, min_dims):
    """hsplit/vsplit/dsplit: ``tensor_split`` along ``dim``; an int must divide the dim evenly."""
    if input.dim() < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a "
                           f"tensor with {input.dim()} dimensions!")
    if isinstance(sections, int) and (sections == 0 or input._shape[dim] % sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                           f"dimension {input._shape[dim]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


@export
def hsplit(input, indices_or_sections):
    return _split_along("hsplit", input, indices_or_sections, 1 if input.dim() > 1 else 0, 1)


@export
def vsplit(input, indices_or_sections):
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


@export
def dsplit(input, indices_or_sections):
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


@export
def chunk(input, chunks, dim=0):
    _check_not_0d(input, "chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    dim = wrap_dim(dim, input.dim())
    size = input._shape[dim]
    return split(input, -(-size // chunks), dim) if size else split(input, [0] * chunks, dim)


@export
def unbind(input, dim=0):
    if input.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = wrap_dim(dim, input.dim())
    return _Pieces.split(input, dim, [1] * input._shape[dim], "UnbindBackward0", drop_dim=True)


@method
def unfold(self, dimension, size, step):
    """Sliding windows of ``size`` every ``step`` along ``dimension``, as a new last dim."""
    dim = wrap_dim(dimension, self.dim())
    length = self._shape[dim] if self.dim() else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if not self.dim():
        return _Unfold.apply(self, lambda x: make_view(x, (size,), (1,), x._offset))

    def view_fn(x):
        shape = x._shape[:dim] + ((length - size) // step + 1,) + x._shape[dim + 1:] + (size,)
        stride = x._stride[:dim] + (x._stride[dim] * step,) + x._stride[dim + 1:] + (x._stride[dim],)
        return make_view(x, shape, stride, x._offset)
    return _Unfold.apply(self, view_fn)
