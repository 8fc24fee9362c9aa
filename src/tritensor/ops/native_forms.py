"""ATen's ``torch.native_*`` and other low-level functional forms (``torch.convolution``,
``torch.constant_pad_nd``, ``torch.embedding_bag``'s 4-tuple ...): thin adapters over the
nn.functional ops, so each computation and its backward stays in one place. The extra
outputs (the statistics a norm saves, embedding_bag's bookkeeping) are computed outside the
graph, as torch returns them without a gradient."""
from __future__ import annotations

from contextlib import nullcontext as _nullcontext

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.grad_mode import no_grad
from ._registry import export, method
from .creation import empty, empty_strided, zeros
from .elementwise import _torch_name


def _functional():
    """nn.functional, imported on first use: the nn package loads after the ops."""
    from ..nn import functional
    return functional


def _mean_and_rstd(x, dims, eps, keepdim, differentiable=False):
    """Biased mean and 1 / sqrt(var + eps) over ``dims``, computed in float32 for 16-bit inputs
    and returned in the input's dtype (torch's saved statistics); outside the graph unless
    ``differentiable`` (native_group_norm's, which torch returns requiring grad)."""
    with no_grad() if not differentiable else _nullcontext():
        work = x.float() if x.dtype in (dt.float16, dt.bfloat16) else x
        mean = work.mean(dims, keepdim=True)
        var = ((work - mean) ** 2).mean(dims, keepdim=keepdim)
        if not keepdim:
            mean = mean.squeeze(dims)
        return mean.to(x.dtype), (var + eps).rsqrt().to(x.dtype)


@export(method=False)
def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(out, mean, rstd); the statistics keep the normalised dims as size 1."""
    out = _functional().layer_norm(input, list(normalized_shape), weight, bias, eps)
    dims = tuple(range(input.dim() - len(normalized_shape), input.dim()))
    mean, rstd = _mean_and_rstd(input, dims, eps, keepdim=True)
    return out, mean, rstd


@export(method=False)
def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(out, save_mean, save_invstd): the batch statistics per channel in training, empty
    tensors in evaluation (torch's CPU kernel). Updates the running stats like batch_norm."""
    dims = tuple(d for d in range(input.dim()) if d != 1)
    if training:
        mean, invstd = _mean_and_rstd(input, dims, eps, keepdim=False)
    out = _functional().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        mean = empty(0, dtype=input.dtype, device=input.device)
        invstd = empty(0, dtype=input.dtype, device=input.device)
    return out, mean, invstd


@export(method=False)
def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(out, mean, rstd) with the statistics of shape (N, group)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"Expected input to have N * C * HxW = {N} * {C} * {HxW} = {N * C * HxW} "
                           f"elements, but got input of size {list(input.shape)}")
    out = _functional().group_norm(input, group, weight, bias, eps)
    mean, rstd = _mean_and_rstd(input.reshape(N, group, -1), (2,), eps, keepdim=False, differentiable=True)
    return out, mean, rstd


@export(method=False)
def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """torch only has this norm for sparse tensors (its strided form raises)."""
    raise NotImplementedError("Could not run 'aten::native_norm' with arguments from the 'CPU' backend: "
                              "torch.native_norm is implemented for sparse tensors only; use "
                              "torch.linalg.vector_norm for strided tensors")


@export(method=False)
def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm over every dim but ``dim`` (kept as size 1), weight_norm's helper;
    ``dim=-1`` is the norm of the whole tensor."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.dim() if v.dim() else 0
    others = [d for d in range(v.dim()) if d != dim]
    moved = v.transpose(0, dim).contiguous().view(v.shape[dim], -1) if dim else v.contiguous().view(
        v.shape[0], -1)
    shape = [1] * v.dim()
    shape[dim] = v.shape[dim]
    return moved.norm(pow, dim=1).view(shape) if others else v.abs()


@export(method=False)
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """ATen's one convolution entry: dispatches on the weight's rank and ``transposed``."""
    F = _functional()
    n = weight.dim() - 2
    if n not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a 3-D, 4-D or 5-D weight, got {weight.dim()}-D weight of "
                           f"size {list(weight.shape)}")
    if transposed:
        conv = getattr(F, f"conv_transpose{n}d")
        return conv(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)


@export(method=False)
def constant_pad_nd(input, pad, value=0):
    return _functional().pad(input, list(pad), "constant", value)


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def _bag_of_each_index(indices, offsets, include_last_offset):
    """The bag number of every index (``offset2bag``; past the last bag: ``bags``) and the
    number of bags."""
    from .creation import arange
    if indices.dim() == 2:
        bags, length = indices.shape
        return arange(bags, device=indices.device).view(bags, 1).expand(bags, length).reshape(-1), bags
    bags = offsets.shape[0] - (1 if include_last_offset else 0)
    positions = arange(indices.shape[0], device=indices.device)
    from .searching import searchsorted
    return (searchsorted(offsets[:bags + 1].contiguous(), positions, right=True) - 1).clamp(min=0), bags


@export(method=False)
def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """ATen's (output, offset2bag, bag_size, max_indices): mode 0/1/2 is sum/mean/max.
    offset2bag is empty for sum (as torch's CPU kernel); max_indices holds each bag's argmax
    row per column for max, the bag sizes for mean, zeros for sum."""
    if mode not in _BAG_MODES:
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    if offsets is None:
        raise TypeError("embedding_bag(): argument 'offsets' (position 3) must be Tensor, not NoneType")
    padding = None if padding_idx is None or padding_idx == -1 else padding_idx
    output = _functional().embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq,
                                         _BAG_MODES[mode], sparse, per_sample_weights, include_last_offset,
                                         padding)
    with no_grad():
        return (output,) + _bag_bookkeeping(weight, indices, offsets, mode, include_last_offset, padding,
                                            output)


def _bag_bookkeeping(weight, indices, offsets, mode, include_last_offset, padding, output):
    device = indices.device
    bag, bags = _bag_of_each_index(indices, offsets, include_last_offset)
    counted = bag < bags
    if padding is not None:
        counted = counted & (indices.reshape(-1) != padding)
    bag_size = zeros(bags, dtype=dt.int64, device=device).index_add(0, bag[counted], counted[counted].long())
    no_bags = zeros(bags, dtype=dt.int64, device=device)
    if mode == 0:  # torch's fast (non-float64, unpadded) sum kernel leaves offset2bag empty
        fast_path = weight.dtype is not dt.float64 and padding is None
        return (empty(0, dtype=dt.int64, device=device) if fast_path else bag), no_bags, no_bags.clone()
    if mode == 1:
        return bag, bag_size, bag_size.clone()
    flat = indices.reshape(-1)[counted]
    rows = weight[flat]
    hits = rows == output[bag[counted]]
    candidates = flat.view(-1, 1).expand(rows.shape).where(hits, flat.new_full((), 2 ** 62))
    max_indices = zeros((bags, weight.shape[1]), dtype=dt.int64, device=device).fill_(2 ** 62).scatter_reduce(
        0, bag[counted].view(-1, 1).expand(rows.shape), candidates, "amin")
    max_indices = max_indices.masked_fill(max_indices == 2 ** 62, -1 if weight.device.type == "cuda" else 0)
    return bag, bag_size, max_indices


@export(method=False)
def binomial(count, prob, generator=None):
    """One Binomial(count, prob) draw per element (no gradient, like torch)."""
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_torch_name(count.dtype)}")
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {_torch_name(prob.dtype)} but expected {_torch_name(count.dtype)}")
    from ..distributions._sampling import sample_binomial
    with no_grad():
        shape = _broadcast(count, prob)
        return sample_binomial(count.broadcast_to(shape), prob.broadcast_to(shape), generator).to(count.dtype)


def _broadcast(a, b):
    from ._common import broadcast_shapes
    return broadcast_shapes(tuple(a.shape), tuple(b.shape))


@export(method=False)
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """Uninitialised, laid out in memory in ``physical_layout`` order (outermost first)."""
    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"got size {list(size)} and physical_layout {list(order)}")
    stride, step = [0] * len(size), 1
    for d in reversed(order):
        stride[d] = step
        step *= max(size[d], 1)
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad)


@export
def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's (n, ndim) indices cut or padded with ``fill_value`` to exactly ``size`` rows."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = input.nonzero()
    if found.shape[0] >= size:
        return found[:size].clone()
    pad = found.new_full((size - found.shape[0], found.shape[1]), fill_value)
    from .joining import cat
    return cat([found, pad])


@method
def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                      pin_memory=False):
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


@export
def as_strided_(input, size, stride, storage_offset=None):
    """Re-point ``input`` itself at another geometry of its storage (torch's in-place view)."""
    if input.requires_grad and grad_mode.enabled:
        raise NotImplementedError("as_strided_: re-pointing a tensor that requires grad is not supported "
                                  "(its recorded history reads the old geometry); use as_strided")
    view = input.as_strided(size, stride, storage_offset)
    input._shape, input._stride, input._offset = view._shape, view._stride, view._offset
    input._np = input._flat = None
    return input


@export
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into its ``as_strided(size, stride, offset)`` view
    (taken on the copy's own contiguous layout); differentiable in both."""
    size, stride = tuple(size), tuple(stride)
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(size)}")
    out = input.contiguous().clone()
    offset = 0 if storage_offset is None else storage_offset
    out.as_strided(size, stride, offset).copy_(src)
    return out


@export
def adjoint(input):
    """The conjugate transpose of the last two dims (the transpose, for real tensors)."""
    if input.dim() < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. "
                           f"Got {input.dim()}-D tensor.")
    return input.transpose(-2, -1)


@export(method=False)
def slice_inverse(input, src, dim=0, start=None, end=None, step=1):
    """The inverse of ``input = src[start:end:step]`` along ``dim``: a view with ``src``'s geometry
    on ``input``'s storage (what functionalization uses to re-create a base)."""
    return input.as_strided(tuple(src.shape), src.stride(), src.storage_offset())
