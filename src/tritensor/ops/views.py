"""View ops: new shape/stride/offset over the same storage, no data movement.

Each view is a Function whose backward maps the gradient back to the input's shape:
the inverse view for reshapes and permutations, a sum for expand, and for views that
pick a subset (select, slice, diagonal, as_strided) a differentiable scatter into zeros.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..size import Size
from ..tensor import Tensor, _contiguous_strides
from ._common import wrap_dim, wrap_dims
from ._registry import export, method


def make_view(base: Tensor, shape, stride, offset) -> Tensor:
    """A tensor aliasing ``base``'s storage with the given geometry."""
    v = Tensor._make(base._storage, tuple(shape), tuple(stride), offset, base.dtype)
    v._base = base._base if base._base is not None else base
    return v


# ------------------------------------------------------------------ view / reshape
def _infer_shape(shape, numel):
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
    if numel == 0:
        return _contiguous_strides(new_shape)
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


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class _View(Function):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        stride = _view_strides(x._shape, x._stride, shape)
        if stride is None:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one "
                f"dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        ctx.input_shape = x._shape
        return make_view(x, shape, stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


@method
def view(self, *shape):
    from .. import dtypes as dt
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        return view_as_dtype(self, shape[0])
    return _View.apply(self, _infer_shape(_shape_args(shape), self.numel()))


def view_as_dtype(self, dtype):
    if dtype.itemsize != self.dtype.itemsize:
        raise RuntimeError("tritensor supports view(dtype) only between dtypes of the same size")
    return Tensor._make(self._storage, self._shape, self._stride, self._offset, dtype)


@method
def view_as(self, other):
    return view(self, other.shape)


@export
def reshape(input, *shape):
    shape = _infer_shape(_shape_args(shape), input.numel())
    if _view_strides(input._shape, input._stride, shape) is not None:
        return _View.apply(input, shape)
    return _View.apply(input.contiguous(), shape)


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
        return input.view(input._shape) if False else reshape(input, input._shape)
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
        return grad.permute(inverse), None


class _Transpose(_Permute):
    node_name = "TransposeBackward0"


class _T(_Permute):
    node_name = "TBackward0"


@export
def permute(input, *dims):
    dims = _shape_args(dims)
    if len(dims) != input.dim():
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.dim()} is not equal to len(dims) = {len(dims)}")
    return _Permute.apply(input, wrap_dims(dims, input.dim()))


def _swap(ndim, d0, d1):
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return tuple(dims)


@export(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    n = input.dim()
    return _Transpose.apply(input, _swap(n, wrap_dim(dim0, n), wrap_dim(dim1, n)))


@export
def t(input):
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return _T.apply(input, tuple(range(input.dim() - 1, -1, -1)))


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
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


@method
def transpose_(self, dim0, dim1):
    n = self.dim()
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    shape, stride = list(self._shape), list(self._stride)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    stride[d0], stride[d1] = stride[d1], stride[d0]
    self._shape, self._stride, self._np = tuple(shape), tuple(stride), None
    return self


@method
def t_(self):
    return transpose_(self, 0, 1) if self.dim() == 2 else self


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


class _Squeeze(_Reshape):
    node_name = "SqueezeBackward0"


class _SqueezeDim(_Reshape):
    node_name = "SqueezeBackward1"


class _SqueezeDims(_Reshape):
    node_name = "SqueezeBackward2"


@export
def unsqueeze(input, dim):
    n = input.dim() + 1
    d = wrap_dim(dim, n)
    shape = input._shape[:d] + (1,) + input._shape[d:]
    inner = input._stride[d] * input._shape[d] if d < input.dim() else 1
    stride = input._stride[:d] + (inner,) + input._stride[d:]
    return _Reshape.apply(input, shape, stride)


@export
def squeeze(input, dim=None):
    n = input.dim()
    if dim is None:
        keep = [i for i in range(n) if input._shape[i] != 1]
        cls = _Squeeze
    else:
        dims = wrap_dims(dim, n) if n else ()
        keep = [i for i in range(n) if not (i in dims and input._shape[i] == 1)]
        cls = _SqueezeDims if isinstance(dim, (tuple, list)) else _SqueezeDim
    return cls.apply(input, tuple(input._shape[i] for i in keep), tuple(input._stride[i] for i in keep))


@method
def unsqueeze_(self, dim):
    v = unsqueeze(self.detach(), dim)
    self._shape, self._stride, self._np = v._shape, v._stride, None
    return self


@method
def squeeze_(self, dim=None):
    v = squeeze(self.detach(), dim)
    self._shape, self._stride, self._np = v._shape, v._stride, None
    return self


class _Expand(Function):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._shape
        offset = len(shape) - x.dim()
        if offset < 0:
            raise RuntimeError(f"expand(torch.FloatTensor{{{list(x._shape)}}}, size=[{', '.join(map(str, shape))}]): "
                               "the number of sizes provided ({len(shape)}) must be greater or equal to the "
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
            if cur == s:
                new_shape.append(s)
                new_stride.append(x._stride[i - offset])
            elif cur == 1:
                new_shape.append(s)
                new_stride.append(0)
            else:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                                   f"at non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor "
                                   f"sizes: {list(x._shape)}")
        return make_view(x, new_shape, new_stride, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad.sum_to_size(ctx.input_shape), None


@method
def expand(self, *sizes):
    shape = _shape_args(sizes)
    if shape == self._shape:
        return _View.apply(self, shape)
    return _Expand.apply(self, shape)


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


# ------------------------------------------------------------------ sub-views
class _ViewScatter(Function):
    """zeros(shape) with ``view_fn(zeros)`` set to ``grad``: the backward of sub-views."""

    node_name = "ViewScatterBackward0"

    @staticmethod
    def forward(ctx, grad, shape, view_fn):
        from .creation import zeros
        ctx.view_fn = view_fn
        out = zeros(shape, dtype=grad.dtype, device=grad.device)
        view_fn(out).copy_(grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return ctx.view_fn(grad), None, None


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
_AsStrided = _named_subview("AsStridedBackward0")


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
    dim = wrap_dim(dim, input.dim())
    start = int(start)
    size = input._shape[dim]
    if start < 0:
        start += size
    if start < 0 or start + length > size or length < 0:
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


@export
def as_strided(input, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    offset = input._offset if storage_offset is None else storage_offset

    def view_fn(x):
        return make_view(x, size, stride, x._offset - input._offset + offset)
    return _AsStrided.apply(input, view_fn)


# ------------------------------------------------------------------ splitting
@export
def split(tensor, split_size_or_sections, dim=0):
    dim = wrap_dim(dim, tensor.dim())
    size = tensor._shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                               f"size at dimension {dim}), but got split_sizes={sections}")
    out, start = [], 0
    for n in sections:
        out.append(narrow(tensor, dim, start, n))
        start += n
    return tuple(out)


@export
def tensor_split(input, indices_or_sections, dim=0):
    dim = wrap_dim(dim, input.dim())
    size = input._shape[dim]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        base, extra = divmod(size, n)
        sizes = [base + 1] * extra + [base] * (n - extra)
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
        sizes = [max(0, b - a) for a, b in zip(bounds, bounds[1:])]
    out, start = [], 0
    for n in sizes:
        out.append(narrow(input, dim, start, n))
        start += n
    return tuple(out)


@export
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    dim = wrap_dim(dim, input.dim())
    size = input._shape[dim]
    step = -(-size // chunks) if size else 1
    return split(input, step, dim) if size else (narrow(input, dim, 0, 0),)


@export
def unbind(input, dim=0):
    dim = wrap_dim(dim, input.dim())
    return tuple(select(input, dim, i) for i in range(input._shape[dim]))


@method
def unfold(self, dimension, size, step):
    dim = wrap_dim(dimension, self.dim())
    n = (self._shape[dim] - size) // step + 1
    shape = self._shape[:dim] + (n,) + self._shape[dim + 1:] + (size,)
    stride = self._stride[:dim] + (self._stride[dim] * step,) + self._stride[dim + 1:] + (self._stride[dim],)
    return as_strided(self, shape, stride)
