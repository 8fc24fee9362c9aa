"""Pooling over the window views of ``_conv.py``, one mechanism for any number of spatial dims:
2-D and 3-D pools are it, 1-D pools are the 2-D ones over an inserted height of 1 (as torch
builds them, hence their ``SqueezeBackward1``).

* max: the windows of the input padded with the dtype's lowest value, copied as
  (N, C, *out, prod(kernel)), one ``max`` over the last dim; the flat ``d * H * W + h * W + w``
  index of each pick comes from an index map per geometry (cached), so ``return_indices`` costs
  one gather and the backward is one ``scatter_add`` of the gradient to those positions (only
  the chosen max gets gradient). As torch, a window's last NaN is its pick.
* average: a sum over the kernel dims of the zero-padded windows (no copy) divided by each
  window's divisor (count_include_pad, ceil_mode's clipped windows); backward is col2im.
* adaptive max: the same picks by one ``index_select`` of an index map of the variable-size
  windows, each padded to the longest by repeating one of its own elements.
* adaptive average: window i covers [floor(i * S / o), ceil((i + 1) * S / o)) of a dim of size
  S; the sums go one dim at a time (a reshape when the windows lie side by side, else a gather
  of each window's members), the backward gathers per input the windows it lies in.
* max unpool: a scatter of the values to their indices in a zero tensor; backward a gather.
* LP pool: ``avg_pool(x ** p) * prod(kernel)``, to the power 1 / p, as torch composes it.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from .. import dtypes as _dt, ops
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops._indexing_common import _check_bounds
from ..ops.elementwise import _torch_name, not_implemented_for
from . import _fused
from ._conv import Geometry, _Col2Im, _padded, ntuple, windows

_LOW_PRECISION = (_dt.float16, _dt.bfloat16)


def _work_dtype(dtype):
    """The dtype a pool accumulates in: float32 for the 16-bit floats."""
    return _dt.float32 if dtype in _LOW_PRECISION else dtype


def _per_rank(base, node_name):
    """Subclasses of ``base`` for 2 and 3 spatial dims, named after torch's backward nodes."""
    return {n: type(f"{base.__name__}{n}d", (base,), {"node_name": node_name.format(n)}) for n in (2, 3)}


def _no_stride(stride):
    return stride is None or (isinstance(stride, (tuple, list)) and not stride)


def _pool_size(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape: floor or ceil, and the last window must start inside."""
    n = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = n // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_spatial_input(name, n, input):
    """A pool's input is (N, C, *spatial) or (C, *spatial), any dim but N non-empty."""
    if input.dim() not in (n + 1, n + 2) or 0 in input.shape[-(n + 1):]:
        raise RuntimeError(f"{name}: expected a {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim "
                           f"batch size and no other empty dim for input, but got: {list(input.shape)}")


def _pool_geometry(name, n, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checks of torch's pool2d/pool3d_shape_check; the Geometry, whose high pads cover
    ceil_mode's last windows."""
    _check_spatial_input(name, n, input)
    k = ntuple(kernel_size, n, "kernel_size")
    s = k if _no_stride(stride) else ntuple(stride, n, "stride")
    p, d = ntuple(padding, n, "padding"), ntuple(dilation, n, "dilation")
    if min(k) <= 0:
        raise RuntimeError(f"{name}: kernel size should be greater than zero, but got kernel_size={k}")
    if min(s) <= 0:
        raise RuntimeError(f"{name}: stride should not be zero, but got stride={s}")
    if min(d) <= 0:
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got dilation={d}")
    if min(p) < 0:
        raise RuntimeError(f"{name}: pad must be non-negative, but got padding={p}")
    if any(q > kk // 2 for q, kk in zip(p, k)):  # torch halves the kernel without its dilation here
        raise RuntimeError(f"{name}: pad should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    size = tuple(input.shape[-n:])
    out = tuple(_pool_size(*a, ceil_mode) for a in zip(size, k, s, p, d))
    if min(out) < 1:
        given, calculated = ("x".join(map(str, (input.shape[-n - 1],) + v)) for v in (size, out))
        raise RuntimeError(f"{name}: given input size: ({given}). Calculated output size: ({calculated}). "
                           "Output size is too small")
    pads = tuple((q, max(0, (o - 1) * ss + dd * (kk - 1) + 1 - m - q))
                 for m, kk, ss, q, dd, o in zip(size, k, s, p, d, out))
    return Geometry(size, k, d, s, pads, out)


def _planes(shape, n):
    """(number of planes, elements per plane) of a (N, C, *spatial) or (C, *spatial) shape: the
    pools' autograd nodes take either (torch's record no unsqueeze for an unbatched input)."""
    return math.prod(shape[:-n]), math.prod(shape[-n:])


def _one_d(name, input, kernel_size, stride, padding, dilation=1):
    """A 1-D pool's input with a height of 1 inserted, and its arguments as 2-D ones."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{name}() Expected 2D or 3D input tensor, but got {list(input.shape)}")

    def first(v):
        return v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v
    return (input.unsqueeze(-2), (1, first(kernel_size)), None if _no_stride(stride) else (1, first(stride)),
            (0, first(padding)), (1, first(dilation)))


def _squeezed(out, dim):
    """A pool's (values, indices) without the unit dim a lower-rank pool inserted."""
    return tuple(o.squeeze(dim) for o in out)


def _grids(positions):
    """Per-dim (out_d, kernel_d) positions reshaped to broadcast together as (*out, *kernel)."""
    n, grids = len(positions), []
    for i, pos in enumerate(positions):
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = pos.shape
        grids.append(pos.reshape(shape))
    return grids


def _flat_index(grids, sizes):
    """The row-major flat index over the spatial dims of per-dim position grids."""
    flat = 0
    for grid, size in zip(grids, sizes):
        flat = flat * size + grid
    return flat


# ---------------------------------------------------------------------------- max
@functools.lru_cache(maxsize=64)
def _index_map_host(geo):
    """(*out, prod(kernel)) flat input index of each window element. A padding element takes the
    index torch's search starts from: per dim, the window's first position not below 0. That is
    its first valid element (never preferred to it: max picks the first of equals), or, for a
    window all padding along some dim (dilation can skip the input), an index past the plane."""
    positions = [np.arange(o)[:, None] * s - lo + np.arange(k)[None, :] * d
                 for k, d, s, (lo, _), o in zip(geo.kernel, geo.dilation, geo.stride, geo.pads, geo.out)]
    grids = _grids(positions)
    valid = functools.reduce(np.logical_and, [(g >= 0) & (g < size) for g, size in zip(grids, geo.size)])
    starts = [np.where(pos >= 0, pos, np.iinfo(np.int64).max).min(1, keepdims=True) for pos in positions]
    window = geo.out + (math.prod(geo.kernel),)
    flat = np.broadcast_to(_flat_index(grids, geo.size), valid.shape).reshape(window)
    first = np.broadcast_to(_flat_index(_grids(starts), geo.size), valid.shape).reshape(window)
    return np.where(valid.reshape(window), flat, first).astype(np.int64)


@functools.lru_cache(maxsize=64)
def _leaves_the_plane(geo):
    """Whether some index of ``geo``'s map lies past the input plane (see _index_map_host)."""
    return bool((_index_map_host(geo) >= math.prod(geo.size)).any())


_device_maps: dict = {}


def _on_device(host_map, args, device):
    """``host_map(*args)`` as a tensor on ``device``, kept for the next call (at most 64)."""
    key = (host_map, args, str(device))
    t = _device_maps.get(key)
    if t is None:
        if len(_device_maps) >= 64:
            _device_maps.pop(next(iter(_device_maps)))
        t = _device_maps[key] = ops.tensor(host_map(*args), device=device)
    return t


def _lowest(dtype):
    return float("-inf") if dtype.is_floating_point else int(np.iinfo(dtype.storage_np).min)


def _last_nan(candidates, values, pick):
    """torch's pools let each NaN replace the running max, so a window with NaN picks its last one
    (``max`` picks the first): the largest 1-based position of a NaN. On the CPU only when some
    window has one (a free host check there; a GPU would stall for it, so there it always runs)."""
    has_nan = values.isnan()
    if values.device.type == "cpu" and not has_nan.any().item():
        return pick
    positions = ops.arange(1, candidates.shape[-1] + 1, dtype=_dt.int32, device=candidates.device)
    last = (candidates.isnan() * positions).amax(-1).to(_dt.int64) - 1
    return ops.where(has_nan, last, pick)


class _PickedMax(Function):
    """A max pool: the max over the last dim of each window's candidates, torch's flat input
    index of each pick (through ``index_map``), and a backward that scatters to those indices."""

    @staticmethod
    def pick(ctx, candidates, index_map, x, spill=False):
        """``spill``: some index may lie past the plane (a window of padding only)."""
        values, pick = candidates.max(-1)
        if candidates.dtype.is_floating_point:
            pick = _last_nan(candidates, values, pick)
        indices = index_map.expand(candidates.shape).gather(-1, pick.unsqueeze(-1)).squeeze(-1)
        ctx.mark_non_differentiable(indices)
        ctx.indices, ctx.shape, ctx.spatial, ctx.spill = indices, tuple(x.shape), index_map.dim() - 1, spill
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        """Each output's gradient added at the input it picked (a pick past the plane, where
        torch's CPU kernel would write out of bounds, gets a spare column that is dropped)."""
        planes, size = _planes(ctx.shape, ctx.spatial)
        length = _planes(tuple(ctx.indices.shape), ctx.spatial)[1]
        indices = ctx.indices.reshape(planes, length)
        if ctx.spill:
            indices = indices.clamp(max=size)
        zeros = ops.zeros((planes, size + ctx.spill), dtype=grad.dtype, device=grad.device)
        flat = zeros.scatter_add(1, indices, grad.reshape(planes, length))
        return (flat[:, :size] if ctx.spill else flat).reshape(ctx.shape), None


class _MaxPool(_PickedMax):
    @staticmethod
    def forward(ctx, x, geo):
        n, lead = len(geo.kernel), x.dim() - len(geo.kernel)
        to_last = tuple(range(lead)) + tuple(range(lead + n, lead + 2 * n)) + tuple(range(lead, lead + n))
        win = windows(_padded(x, geo, _lowest(x.dtype)), geo).permute(to_last)  # kernel dims last
        index_map = _on_device(_index_map_host, (geo,), x.device)
        candidates = win.reshape(tuple(x.shape[:lead]) + geo.out + (math.prod(geo.kernel),))
        return _PickedMax.pick(ctx, candidates, index_map, x, _leaves_the_plane(geo))


_MAX_POOL = _per_rank(_MaxPool, "MaxPool{}DWithIndicesBackward0")


class _FusedMaxPool(_PickedMax):
    """The same pool by the device's fused kernel (``_fused.MAX_POOL``): values and picks in
    one pass, the backward one more; a backward that records a graph (double backward) takes
    the composed scatter_add, which the saved picks serve as well."""

    @staticmethod
    def forward(ctx, x, geo, kernel):
        values, indices = kernel.forward(x, geo)
        ctx.mark_non_differentiable(indices)
        ctx.indices, ctx.shape, ctx.spatial = indices, tuple(x.shape), len(geo.kernel)
        ctx.spill, ctx.kernel, ctx.geo = _leaves_the_plane(geo), kernel, geo
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        if grad_mode.is_grad_enabled():
            return (*_PickedMax.backward(ctx, grad, _grad_indices), None)
        return ctx.kernel.backward(grad, ctx.indices, ctx.shape, ctx.geo), None, None


_FUSED_MAX_POOL = _per_rank(_FusedMaxPool, "MaxPool{}DWithIndicesBackward0")


def _max_pool(n, input, kernel_size, stride, padding, dilation, ceil_mode):
    """(values, indices) of an n-d max pool; indices are flat over the spatial dims, as torch."""
    name = f"max_pool{n}d"
    if input.dtype is _dt.bool:
        raise not_implemented_for(name, input.dtype)
    geo = _pool_geometry(name, n, input, kernel_size, stride, padding, dilation, ceil_mode)
    kernel = _fused.MAX_POOL.get(input.device.type)
    if kernel is not None and input.dtype in kernel.dtypes:
        return _FUSED_MAX_POOL[n].apply(input, geo, kernel)
    return _MAX_POOL[n].apply(input, geo)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """Max over each window of (N, C, D, H, W) or (C, D, H, W) and its flat ``d * H * W + h * W + w``
    position (both, whatever ``return_indices``, as torch's)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """Max over each window of (N, C, H, W) or (C, H, W) and its flat ``h * W + w`` position."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """Max over each window of (N, C, L) or (C, L) and its position: the 2-D pool over height 1."""
    args = _one_d("max_pool1d", input, kernel_size, stride, padding, dilation)
    return _squeezed(max_pool2d_with_indices(*args, ceil_mode), -2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    out = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    out = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if not return_indices and not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{input.type()}'")
    out = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


# ---------------------------------------------------------------------------- adaptive windows
def _adaptive_bounds(size, out):
    """[lo, hi) of torch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    lo = np.arange(out) * size // out
    hi = -(-(np.arange(1, out + 1) * size) // out)
    return lo, hi


def _adaptive_output(name, n, input, output_size):
    """The output size of an n-d adaptive pool: ``None`` entries take the input's size (an input
    of at most as many dims as given sizes is a ValueError, as torch's functional), then ATen's
    checks of the count and sign."""
    if not isinstance(output_size, (tuple, list)):
        return (int(output_size),) * n
    if input.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    sizes = input.shape[-len(output_size):]
    out = tuple(s if o is None else int(o) for o, s in zip(output_size, sizes))
    if len(out) != n:
        raise RuntimeError(f"{name}: output_size must be {n} sizes, but got {list(out)}")
    return out


def _check_adaptive(name, n, input, out):
    """torch's checks of an adaptive pool's input (rank, empty dims, dtype) and output size."""
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                               f"but input has sizes {list(input.shape)} with dimension {d} being empty")
    if not input.dtype.is_floating_point:
        raise not_implemented_for(name, input.dtype)
    if min(out) < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(out)}")


# ---------------------------------------------------------------------------- adaptive max
@functools.lru_cache(maxsize=64)
def _adaptive_map_host(size, out):
    """(*out, prod(kernel)) flat indices of adaptive windows padded to the longest kernel by
    repeating a window's last element along each dim, which changes neither its max nor the
    input index of its first max or last NaN."""
    positions = []
    for m, o in zip(size, out):
        lo, hi = _adaptive_bounds(m, o)
        k = int((hi - lo).max(initial=1))
        positions.append(lo[:, None] + np.minimum(np.arange(k)[None, :], (hi - lo)[:, None] - 1))
    flat = _flat_index(_grids(positions), size)
    window = math.prod(pos.shape[1] for pos in positions)
    return np.ascontiguousarray(flat.reshape(out + (window,))).astype(np.int64)


class _AdaptiveMaxPool(_PickedMax):
    @staticmethod
    def forward(ctx, x, out):
        size = tuple(x.shape[-len(out):])
        index_map = _on_device(_adaptive_map_host, (size, out), x.device)
        picked = x.reshape(_planes(x.shape, len(out))).index_select(1, index_map.reshape(-1))
        candidates = picked.view(tuple(x.shape[:-len(out)]) + tuple(index_map.shape))
        return _PickedMax.pick(ctx, candidates, index_map, x)


_ADAPTIVE_MAX_POOL = _per_rank(_AdaptiveMaxPool, "AdaptiveMaxPool{}DBackward0")


def _adaptive_max_pool(n, input, output_size):
    name = f"adaptive_max_pool{n}d"
    out = _adaptive_output(name, n, input, output_size)
    _check_adaptive(name, n, input, out)
    return _ADAPTIVE_MAX_POOL[n].apply(input, out)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Max over torch's adaptive windows and its flat ``d * H * W + h * W + w`` position."""
    return _adaptive_max_pool(3, input, output_size)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Max over torch's adaptive windows and its flat ``h * W + w`` position."""
    return _adaptive_max_pool(2, input, output_size)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """The 2-D adaptive max pool over an inserted height of 1."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
                           "argument #1 'self' (while checking arguments for adaptive_max_pool1d)")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return _squeezed(adaptive_max_pool2d_with_indices(input.unsqueeze(-2), (1, size)), -2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    out = adaptive_max_pool3d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


# ---------------------------------------------------------------------------- average
@functools.lru_cache(maxsize=64)
def _divisors_host(geo, count_include_pad):
    """(*out) element count of each window, as torch's avg_pool counts it."""
    total = np.ones((), np.int64)
    for n, k, s, (lo, _), o in zip(geo.size, geo.kernel, geo.stride, geo.pads, geo.out):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, n + lo)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        total = np.multiply.outer(total, count)
    return total.astype(np.float64)


def _avg_divisor(input, geo, count_include_pad, divisor_override):
    """What each window's sum is divided by: a number when all windows share it, else a tensor
    (in the dtype the sums are in: int64 ones for integer sums, which divide truncating)."""
    if divisor_override is not None:
        return int(divisor_override) if not input.dtype.is_floating_point else float(divisor_override)
    counts = _divisors_host(geo, bool(count_include_pad))
    if (counts == counts.flat[0]).all():
        return int(counts.flat[0]) if not input.dtype.is_floating_point else float(counts.flat[0])
    divisor = _on_device(_divisors_host, (geo, bool(count_include_pad)), input.device)
    return divisor.to(_work_dtype(input.dtype))


#: kernels of at most this many offsets sum their offsets' strided slices; larger ones reduce
#: the window view over its kernel dims
_SLICED_SUM_MAX = 16


def _window_sums(x, geo):
    """The sum of each window of zero-padded ``x`` in its work dtype. Small kernels add one
    strided (N, C, *out) slice per kernel offset, in the windows' row-major order as torch's
    kernels add: elementwise passes over the output, where the reduction over the view's
    middle kernel dims copied it first ((32, 16, 64, 64) by 2 x 2: 9.8 -> ~1.5 ms)."""
    n, lead = len(geo.kernel), x.dim() - len(geo.kernel)
    view = windows(_padded(x, geo), geo)
    work = _work_dtype(x.dtype)
    if math.prod(geo.kernel) > _SLICED_SUM_MAX:
        return view.sum(tuple(range(lead, lead + n)), dtype=work)
    sums = None
    for offset in itertools.product(*(range(k) for k in geo.kernel)):
        piece = view[(slice(None),) * lead + offset]
        sums = piece.to(work, copy=True) if sums is None else sums.add_(piece)
    return sums


class _AvgPool(Function):
    @staticmethod
    def forward(ctx, x, geo, divisor):
        sums = _window_sums(x, geo)
        ctx.geo, ctx.divisor = geo, divisor
        if not x.dtype.is_floating_point:  # torch's integer average truncates
            return ops.div(sums, divisor, rounding_mode="trunc")
        return (sums / divisor).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        """Each window's gradient spread over its elements: col2im of the expanded columns."""
        geo, n = ctx.geo, len(ctx.geo.kernel)
        batched = grad if grad.dim() == n + 2 else grad.unsqueeze(0)  # col2im takes (N, C, *kernel, *out)
        lead = tuple(batched.shape[:2])
        g = (batched / ctx.divisor).to(grad.dtype).view(lead + (1,) * n + geo.out)
        gx = _Col2Im.apply(g.expand(lead + geo.kernel + geo.out), geo)
        return (gx if grad.dim() == n + 2 else gx.squeeze(0)), None, None


_AVG_POOL = _per_rank(_AvgPool, "AvgPool{}DBackward0")

#: the dtypes torch's CPU avg_pool kernels take, per number of spatial dims
_AVG_POOL_DTYPES = {2: (_dt.float32, _dt.float64, _dt.float16, _dt.bfloat16, _dt.int64),
                    3: (_dt.float32, _dt.float64, _dt.int64)}


def _avg_pool(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    name = f"avg_pool{n}d"
    geo = _pool_geometry(name, n, input, kernel_size, stride, padding, 1, ceil_mode)
    if n == 3 and any(size < k for size, k in zip(geo.size, geo.kernel)):  # torch's 3-D check, padding aside
        raise RuntimeError(f"{name}: input image {geo.size} smaller than kernel size {geo.kernel}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{name}: divisor must be not zero")
    if input.dtype not in _AVG_POOL_DTYPES[n]:
        raise not_implemented_for(name, input.dtype)
    divisor = _avg_divisor(input, geo, count_include_pad, divisor_override)
    return _AVG_POOL[n].apply(input, geo, divisor)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of (N, C, D, H, W) or (C, D, H, W) (``divisor_override`` replaces the
    element count); float32/float64 and int64 (truncating), as torch's CPU build."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of (N, C, H, W) or (C, H, W) (``divisor_override`` replaces the element
    count); floating dtypes and int64 (truncating), as torch's CPU build."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    x, k, st, pad, _ = _one_d("avg_pool1d", input, kernel_size, stride, padding)
    return avg_pool2d(x, k, st, pad, ceil_mode, count_include_pad).squeeze(-2)


# ---------------------------------------------------------------------------- adaptive average
@functools.lru_cache(maxsize=64)
def _window_table_host(size, out):
    """(out, k) input positions of each adaptive window along a dim, padded with ``size`` (the
    zero that ``_adaptive_sums`` appends to the dim)."""
    lo, hi = _adaptive_bounds(size, out)
    positions = lo[:, None] + np.arange(int((hi - lo).max(initial=1)))[None, :]
    return np.where(positions < hi[:, None], positions, size).astype(np.int64)


@functools.lru_cache(maxsize=64)
def _member_table_host(size, out):
    """(size, k) the adaptive windows each input position of a dim lies in, padded with ``out``:
    the rows the backward gathers each input's gradient from."""
    lo, hi = _adaptive_bounds(size, out)
    position = np.arange(size)[:, None]
    inside = (lo[None, :] <= position) & (position < hi[None, :])    # (size, out)
    k = int(inside.sum(1).max(initial=1))
    order = np.argsort(~inside, axis=1, kind="stable")[:, :k]       # its windows first, in order
    return np.where(np.take_along_axis(inside, order, 1), order, out).astype(np.int64)


@functools.lru_cache(maxsize=64)
def _window_counts_host(size, out):
    """(*out) element count of each adaptive window."""
    counts = np.ones(())
    for m, o in zip(size, out):
        lo, hi = _adaptive_bounds(m, o)
        counts = np.multiply.outer(counts, hi - lo)
    return counts


def _adaptive_sums(x, size, out, adjoint=False):
    """Along each of the last ``len(out)`` dims of ``x``, the sum of each adaptive window (or,
    ``adjoint``, from out back to size: per input, the sum over the windows it lies in). Windows
    side by side (the size a multiple of out) are a reshaped view; others gather their members
    from the dim with a zero appended, which the tables' padding points to. Adds only what a
    window holds, so an inf or NaN stays in its windows."""
    for d, m, o in zip(range(x.dim() - len(out), x.dim()), size, out):
        lead, tail = tuple(x.shape[:d]), tuple(x.shape[d + 1:])
        if o and m % o == 0:
            k = m // o
            if adjoint:
                x = x.unsqueeze(d + 1).expand(lead + (o, k) + tail).reshape(lead + (m,) + tail)
            else:
                x = x.reshape(lead + (o, k) + tail).sum(d + 1)
            continue
        table = _on_device(_member_table_host if adjoint else _window_table_host, (m, o), x.device)
        zero = ops.zeros(lead + (1,) + tail, dtype=x.dtype, device=x.device)
        picked = ops.cat([x, zero], d).index_select(d, table.reshape(-1))
        x = picked.view(lead + tuple(table.shape) + tail).sum(d + 1)
    return x


class _AdaptiveAvgPool(Function):
    """Each window's sum (one dim at a time) over its element count; the backward hands each
    input the gradients of the windows it lies in, over their counts."""

    @staticmethod
    def forward(ctx, x, out):
        size, work = tuple(x.shape[-len(out):]), _work_dtype(x.dtype)
        counts = _on_device(_window_counts_host, (size, out), x.device).to(work)
        ctx.size, ctx.out, ctx.counts, ctx.dtype = size, out, counts, x.dtype
        return (_adaptive_sums(x.to(work), size, out) / counts).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        g = grad.to(ctx.counts.dtype) / ctx.counts
        return _adaptive_sums(g, ctx.size, ctx.out, adjoint=True).to(ctx.dtype), None


_ADAPTIVE_AVG_POOL = _per_rank(_AdaptiveAvgPool, "AdaptiveAvgPool{}DBackward0")


def _adaptive_avg_pool(n, input, output_size):
    name = f"adaptive_avg_pool{n}d"
    out = _adaptive_output(name, n, input, output_size)
    if min(out) < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(out)}")
    if all(o == 1 for o in out):  # torch takes the mean here (MeanBackward1), before checking the input
        return input.mean(tuple(range(-n, 0)), keepdim=True)
    _check_adaptive(name, n, input, out)
    return _ADAPTIVE_AVG_POOL[n].apply(input, out)


def adaptive_avg_pool3d(input, output_size):
    """Mean over torch's adaptive windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_avg_pool(3, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive windows of (N, C, H, W) or (C, H, W)."""
    return _adaptive_avg_pool(2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d() argument 'input' should be 2D or 3D, but got "
                           f"{list(input.shape)}")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


# ---------------------------------------------------------------------------- max unpool
def _unpool_output_size(input, kernel, stride, padding, output_size):
    """torch's default unpool size, (in - 1) * stride + kernel - 2 * padding per dim, or the given
    ``output_size`` (spatial sizes, or with N and C first) if within a stride of it."""
    n = len(kernel)
    default = tuple((size - 1) * s + k - 2 * p
                    for size, k, s, p in zip(input.shape[-n:], kernel, stride, padding))
    if output_size is None:
        out = default
    else:
        out = output_size[2:] if len(output_size) == n + 2 else output_size  # named as given in errors
        if len(out) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it "
                             f"has a length of '{len(out)}'")
        for d, (o, want, s) in enumerate(zip(out, default, stride)):
            if not want - s < o < want + s:
                raise ValueError(f"invalid output_size \"{out}\" (dim {d} must be between {want - s} "
                                 f"and {want + s})")
    for d, o in enumerate(out):
        if o < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial dimensions, but "
                             f"got output_size[{d}]={o}")
    return tuple(int(o) for o in out)


class _MaxUnpool(Function):
    """``x``'s values written at their flat spatial ``indices`` of zero (N, C, *size) planes."""

    @staticmethod
    def forward(ctx, x, indices, size):
        planes, length = _planes(x.shape, len(size))
        flat_indices = indices.reshape(planes, length)
        ctx.indices, ctx.shape = flat_indices, tuple(x.shape)
        out = ops.zeros((planes, math.prod(size)), dtype=x.dtype, device=x.device)
        if out.numel():
            out = out.scatter(1, flat_indices, x.reshape(planes, length))
        return out.view(tuple(x.shape[:-len(size)]) + size)

    @staticmethod
    def backward(ctx, grad):
        """Each value's gradient is the output's at its index."""
        if grad.numel() == 0:
            return ops.zeros(ctx.shape, dtype=grad.dtype, device=grad.device), None, None
        planes = ctx.indices.shape[0]
        return grad.reshape(planes, grad.numel() // planes).gather(1, ctx.indices).view(ctx.shape), None, None


_MAX_UNPOOL = _per_rank(_MaxUnpool, "MaxUnpool{}DBackward0")


def _max_unpool(n, input, indices, size):
    """torch's checks of an n-d unpool (indices int64 and of the input's shape, the rank, the
    dtype, every index within the output planes), then the scatter."""
    name = f"max_unpool{n}d"
    if indices.dtype is not _dt.int64:
        raise RuntimeError(f"{name}: elements in indices should be type int64 but got: "
                           f"{_torch_name(indices.dtype)}")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, but got a "
                           f"tensor with {input.dim()} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    for d in range(1, input.dim()):  # as torch: an unbatched input may have no channels
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}: Expected input to have non-zero size for non-batch dimensions, but "
                               f"got {list(input.shape)} with dimension {d} being empty.")
    if not input.dtype.is_floating_point:
        raise not_implemented_for(name, input.dtype)
    if math.prod(size):
        volume = "x".join(map(str, size))
        _check_bounds(indices, math.prod(size), 2, RuntimeError,
                      message=f"Found an invalid max index: {{bad}} (output volumes are of size {volume})")
    return _MAX_UNPOOL[n].apply(input, indices, size)


def _unpool_args(n, input, kernel_size, stride, padding, output_size):
    kernel = ntuple(kernel_size, n, "kernel_size")
    stride = kernel if _no_stride(stride) else ntuple(stride, n, "stride")
    return _unpool_output_size(input, kernel, stride, ntuple(padding, n, "padding"), output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: values at their indices, zeros elsewhere."""
    return _max_unpool(3, input, indices, _unpool_args(3, input, kernel_size, stride, padding, output_size))


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: values at their indices, zeros elsewhere."""
    return _max_unpool(2, input, indices, _unpool_args(2, input, kernel_size, stride, padding, output_size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The 2-D unpool over an appended width of 1, as torch (flat indices are the same)."""
    size = _unpool_args(1, input, kernel_size, stride, padding, output_size)
    return _max_unpool(2, input.unsqueeze(-1), indices.unsqueeze(-1), size + (1,)).squeeze(-1)


# ---------------------------------------------------------------------------- LP pool
_MAX_POOLS = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}
_AVG_POOLS = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}


def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    """torch's power-average: ``(sum over the window of x ** p) ** (1 / p)`` as an average times
    the window size; a negative sum (odd p) gives NaN, an infinite p a max pool of |x|."""
    if norm_type == float("inf"):
        return _MAX_POOLS[n](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == float("-inf"):
        return -_MAX_POOLS[n](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = _AVG_POOLS[n](input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    window = math.prod(ntuple(kernel_size, n, "kernel_size"))
    return (out.sign() * ops.relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)
