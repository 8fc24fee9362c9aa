"""Advanced indexing: ``t[idx]``, ``t[idx] = v``, index_put(_), masked_select/masked_scatter.

Integer/bool tensor indices become a *plan* (which dims are indexed, by which broadcast
int64 tensors, and where their shape lands in the result) that the backend walks once.
``t[idx] = v``, ``index_put_`` and IndexBackward0's backward share one write Function.
Importing this module also registers the rest of the indexing family (gather_scatter,
masking, rearrange).
"""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from . import views
from ._autocast import autocast_call, state as _amp
from ._common import backend, broadcast_shapes, common_device
from ._overlap import check_inplace_overlap, check_no_overlap
from ._indexing_common import (_Mutating, _cast, _check_bounds, _check_mask, _clone, _columns, _expand_raw,
                               _run, _vec)
from ._registry import export, method
from .creation import check_fill_value, full, new_empty, with_out, zeros
from .elementwise import _torch_name
from .indexing import _basic, _expand_ellipsis
from .joining import cat


# ------------------------------------------------------------------ advanced indexing
_MASKS = (dt.bool, dt.uint8)
_INDEX_DTYPES = (dt.int64, dt.int32)


class _Plan:
    """Where advanced indices pick in a tensor ``x`` (after its basic indexing).

    ``dims``: the indexed dims of x, ``indices``: an index tensor per dim (masks become one
    per mask dim, through nonzero), broadcast to ``bshape``; the result has x's other dims
    with ``bshape`` inserted at ``b_start`` (where the indexed dims were if they were
    adjacent, else in front), as torch and numpy do.
    """

    __slots__ = ("dims", "indices", "bshape", "b_start", "shape")

    def __init__(self, x: Tensor, advanced):
        dims, indices, integer = [], [], []
        for dim, idx in advanced:
            if idx.dtype in _MASKS:
                _check_mask_shape(x, dim, idx)
                for k, column in enumerate(_columns(backend(idx).nonzero(idx))):
                    dims.append(dim + k)
                    indices.append(column)
            elif idx.dtype in _INDEX_DTYPES:
                integer.append((dim, idx))
                dims.append(dim)
                indices.append(idx)
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        try:
            self.bshape = broadcast_shapes(*(i._shape for i in indices))
        except RuntimeError:
            shapes = ", ".join(str(list(i._shape)) for i in indices)
            raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                             f"{shapes}") from None
        if all(self.bshape):  # an empty broadcast reads no index, so torch checks none
            for dim, idx in integer:
                # deferrable: the backends read a bad index without touching memory outside x
                _check_bounds(idx, x._shape[dim], dim, IndexError, negative=True)
        self.dims, self.indices = dims, indices
        adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
        self.b_start = dims[0] if adjacent else 0
        rest = [x._shape[d] for d in range(x.dim()) if d not in dims]
        self.shape = tuple(rest[:self.b_start]) + self.bshape + tuple(rest[self.b_start:])

    def take(self, out, x):
        backend(x).index(out, x, self.dims, self.indices, self.b_start)

    def put(self, x, values, accumulate):
        backend(x).index_put(x, self.dims, self.indices, self.b_start, _expand_raw(values, self.shape),
                             accumulate)


def _check_mask_shape(x, dim, mask):
    for k, n in enumerate(mask._shape):
        if dim + k >= x.dim() or x._shape[dim + k] != n:
            raise IndexError(f"The shape of the mask {list(mask._shape)} at index {k} does not match the "
                             f"shape of the indexed tensor {list(x._shape)} at index {dim + k}")


class _Index(Function):
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, plan):
        out = new_empty(plan.shape, x.dtype, x.device)
        plan.take(out, x)
        ctx.plan, ctx.shape = plan, x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        base = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        return _Write.apply(base, grad, _Spec((), ctx.plan, True), inplace=False), None


def advanced_getitem(x, advanced):
    """``x[...]`` for the advanced part of an index; ``x`` already has the basic part applied."""
    return _Index.apply(x, _Plan(x, advanced))


class _Spec:
    """What a write targets: basic ``items`` (ints, slices, None), then an advanced ``plan`` or
    one bool ``mask`` = (dim, tensor) written like masked_fill (no nonzero pass)."""

    __slots__ = ("items", "plan", "accumulate", "mask")

    def __init__(self, items, plan, accumulate=False, mask=None):
        self.items, self.plan, self.accumulate, self.mask = items, plan, accumulate, mask

    def region(self, t):
        return _basic(t, self.items)[0] if self.items else t


class _Write(_Mutating):
    """``self[spec] = value`` (or ``+=`` when accumulating): setitem, index_put(_)."""

    node_name = "IndexPutBackward0"
    refuses_expanded = False  # torch writes into an expanded self (deprecated, with a warning)

    @staticmethod
    def write(ctx, out, value, spec):
        region = spec.region(out.detach())
        ctx.value_shape = value._shape if isinstance(value, Tensor) else None
        if isinstance(value, Tensor) and value._shape and value._shape[0] == 1:
            value = _strip_view(value)
        if spec.mask is not None:
            dim, mask = spec.mask
            backend(out).masked_fill(region, _mask_view(mask, dim, region._shape),
                                     value.item() if isinstance(value, Tensor) else value)
        elif spec.plan is not None:
            v = full((), value, dtype=out.dtype, device=out.device) if not isinstance(value, Tensor) else \
                _cast(value, out.dtype)
            spec.plan.put(region, v, spec.accumulate)
        elif isinstance(value, Tensor):
            backend(out).copy_(region, _expand_raw(value, region._shape))
        else:
            backend(out).fill_(region, value)
        ctx.spec = spec

    @staticmethod
    def backward(ctx, grad):
        spec = ctx.spec
        grad_self = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_self = grad if spec.accumulate else \
                _Write.apply(grad, 0, _Spec(spec.items, spec.plan, mask=spec.mask), inplace=False)
        if ctx.value_shape is not None and ctx.needs_input_grad[1]:
            g = spec.region(grad)
            plan = spec.plan if spec.mask is None else _Plan(g, [spec.mask])
            if plan is not None:
                g = _Index.apply(g, plan)
            grad_value = _sum_to(g, ctx.value_shape)
        return grad_self, grad_value, None


def _mask_view(mask, dim, shape):
    """``mask`` (covering dims dim, dim+1, ... of ``shape``) broadcast to ``shape``."""
    after = len(shape) - dim - mask.dim()
    return views.make_view(mask, shape, (0,) * dim + mask._stride + (0,) * after, mask._offset)


def _sum_to(g, shape):
    """Reduce a gradient to ``shape``, which may have extra leading 1s (torch strips them on write)."""
    stripped = _strip_ones(shape)
    if g._shape != stripped:
        g = g.sum_to_size(stripped) if stripped else g.sum()
    return g.reshape(shape)


def _strip_view(t):
    """``t`` without its leading size-1 dims (an unrecorded view)."""
    k = len(t._shape) - len(_strip_ones(t._shape))
    return views.make_view(t, t._shape[k:], t._stride[k:], t._offset)


def _strip_ones(shape):
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


class _CopySlices(_Write):
    node_name = "CopySlices"


class _FillWhole(_Write):
    node_name = "FillBackward3"


class _CopyWhole(_Write):
    node_name = "CopyBackwards"


def _index_put_dtype_check(self, value):
    if value.dtype is not self.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_torch_name(self.dtype)} for the destination and {_torch_name(value.dtype)} "
                           "for the source.")


def advanced_setitem(self, items, value):
    """``self[items] = value`` for normalised ``items`` (basic and advanced)."""
    region, advanced = _basic(self.detach(), items)
    mask = advanced[0] if _masked_fill_path(region, advanced, value) else None
    plan = _Plan(region, advanced) if advanced and mask is None else None
    target_shape = plan.shape if plan else region._shape
    if isinstance(value, Tensor):
        if value.device != self.device:
            value = value.to(self.device)
        if plan is not None:
            _index_put_dtype_check(self, value)
        if mask is None:
            _check_assignable(value._shape, target_shape)
        else:  # torch's masked_fill_ converts value.item() with its overflow check (uint8 <- -2.)
            check_fill_value(value.item(), self.dtype)
    elif isinstance(value, (list, tuple)) or _is_numpy_array(value):
        kind = "list" if isinstance(value, list) else f"{type(value).__module__}.{type(value).__name__}"
        raise TypeError(f"can't assign a {kind} to a {self.type()}")
    elif type(value) is int and not -(1 << 63) <= value < 1 << 63:
        raise ValueError("Overflow when unpacking long long")  # torch's argument parsing
    elif self.dtype is not dt.float16 and self.dtype is not dt.bfloat16:  # torch rounds these to inf
        check_fill_value(value, self.dtype)
    if isinstance(value, Tensor) and mask is None:  # torch's copy_ / index_put_ checks (ops/_overlap.py)
        if plan is None:
            check_inplace_overlap(region, (value,))
        else:
            check_no_overlap(self, (value, *(t for _, t in advanced)))
    whole = region._shape == self._shape and region._offset == self._offset and region._stride == self._stride
    if not whole:
        cls = _CopySlices
    elif advanced:
        cls = _Write
    else:
        cls = _CopyWhole if isinstance(value, Tensor) else _FillWhole
    spec = _Spec(() if whole else tuple(items), plan, mask=mask)
    cls.apply(self, value, spec, inplace=True)


def _is_numpy_array(value):
    return type(value).__module__ == "numpy" and getattr(value, "ndim", 0) > 0


def _masked_fill_path(region, advanced, value) -> bool:
    """torch writes ``x[mask] = v`` (one mask, one value) as masked_fill_: v is cast, byte masks refused."""
    if len(advanced) != 1 or advanced[0][1].dtype not in _MASKS:
        return False
    if isinstance(value, Tensor) and value.numel() != 1:
        return False
    _check_mask_shape(region, *advanced[0])  # torch's IndexError for the shape comes first
    _check_mask(advanced[0][1], "masked_fill_ only supports boolean masks, but got mask with dtype {c}")
    return True


def _check_assignable(value_shape, target_shape):
    stripped = _strip_ones(value_shape)
    try:
        ok = len(stripped) <= len(target_shape) and \
            broadcast_shapes(stripped, target_shape) == tuple(target_shape)
    except RuntimeError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast "
                           f"to indexing result of shape {list(target_shape)}")


def _index_put_entry(self, indices, values, accumulate, inplace):
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put_(): argument 'indices' must be tuple of Tensors")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    # a 0-d mask picks the whole tensor or nothing (as a Python bool does); a 0-d integer index
    # writes what its 1-element version does (the values broadcast the same way)
    items = [(bool(t.item()) if t.dtype in _MASKS else t.reshape(1)) if t.dim() == 0 else t for t in indices]
    items = _expand_ellipsis(tuple(items), self.dim())
    region, advanced = _basic(self.detach(), items)
    if not advanced:
        raise RuntimeError("index_put_(): expected at least one index tensor")
    _index_put_dtype_check(self, values)
    if common_device(self, values) != values.device:  # a 0-d CPU value joins a 'cuda' write, as in torch
        values = values.to(self.device)
    plan = _Plan(region, advanced)
    _check_assignable(values._shape, plan.shape)
    spec = _Spec(tuple(items), plan, accumulate)
    return _run(_Write, self, values, spec, inplace=inplace)


@export
def index_put(input, indices, values, accumulate=False):
    if _amp.on:
        return autocast_call("index_put", index_put, input, indices, values, accumulate)
    return _index_put_entry(input, indices, values, accumulate, False)


@method
def index_put_(self, indices, values, accumulate=False):
    return _index_put_entry(self, indices, values, accumulate, True)


# ------------------------------------------------------------------ masked_select / masked_scatter
def _broadcast_pair(x, mask):
    shape = broadcast_shapes(x._shape, mask._shape)
    return _expand_raw(x, shape), _expand_raw(mask, shape)


class _MaskedSelect(Function):
    node_name = "MaskedSelectBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        xb, mb = _broadcast_pair(x, mask)
        xb, mb = _vec(xb), _vec(mb)
        plan = _Plan(xb, [(0, mb)])
        out = new_empty(plan.shape, x.dtype, x.device)
        plan.take(out, xb)
        ctx.shape = xb._shape
        ctx.save_for_backward(mb)
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return zeros(ctx.shape, dtype=grad.dtype, device=grad.device).masked_scatter(mask, grad), None


@export
@with_out
def masked_select(input, mask):
    _check_mask(mask, "masked_select: expected BoolTensor for mask")
    return _MaskedSelect.apply(input, mask)


class _MaskedScatter(_Mutating):
    node_name = "MaskedScatterBackward0"
    refuses_shared_arguments = False  # torch lets the mask or source share self's memory

    @staticmethod
    def write(ctx, out, mask, source):
        out = _vec(out)
        plan = _Plan(out, [(0, _vec(_expand_raw(mask, out._shape)))])
        n = plan.shape[0]
        if n > source.numel():
            raise RuntimeError("Number of elements of source < number of ones in mask")
        flat = source.reshape(-1) if source.is_contiguous() else _clone(source).reshape(-1)
        plan.put(out, views.make_view(flat, (n,), (flat._stride[0],), flat._offset), False)
        ctx.source_shape = source._shape
        ctx.save_for_backward(mask)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        picked = grad.masked_select(mask)
        numel = 1
        for s in ctx.source_shape:
            numel *= s
        pad = zeros(numel - picked.numel(), dtype=grad.dtype, device=grad.device)
        return grad.masked_fill(mask, 0), None, cat([picked, pad]).reshape(ctx.source_shape)


def _masked_scatter_entry(self, mask, source, inplace):
    name = "masked_scatter_" if inplace else "masked_scatter"
    _check_mask(mask, "masked_scatter_ only supports boolean masks, but got mask with dtype {name}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"{name}: expected self and source to have same dtypes but got"
                           f"{_torch_name(self.dtype)} and {_torch_name(source.dtype)}")
    shape = broadcast_shapes(self._shape, mask._shape)
    if shape != self._shape:
        if inplace:
            raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
        self = self.expand(shape)
    return _run(_MaskedScatter, self, mask, source, inplace=inplace)


@export
def masked_scatter(input, mask, source):
    return _masked_scatter_entry(input, mask, source, False)


@method
def masked_scatter_(self, mask, source):
    return _masked_scatter_entry(self, mask, source, True)


from . import gather_scatter, masking, rearrange  # noqa: E402,F401 - register the rest of the family
