"""Pooling on the window views of ``_conv.py``: 2-D pools are the mechanism, 1-D pools are the
2-D ones over an inserted height of 1 (as torch builds them, hence their ``SqueezeBackward1``).

* max: the windows of the input padded with -inf, copied as (N, C, oh, ow, kh * kw), one
  ``max`` over the last dim; the flat ``h * W + w`` index of each pick comes from an index map
  per geometry (cached), so ``return_indices`` costs one gather and the backward is one
  ``scatter_add`` of the gradient to those positions (only the chosen max gets gradient).
* average: a sum over the kernel dims of the zero-padded windows (no copy) divided by each
  window's divisor (count_include_pad, ceil_mode's clipped windows); backward is col2im.
* adaptive max: the same picks by one ``index_select`` of an index map of the variable-size
  windows, each padded to the longest by repeating one of its own elements.
* adaptive average: window i covers [floor(i * H / oh), ceil((i + 1) * H / oh)), so the
  pool is ``P_h @ x @ P_w^T`` with averaging matrices, and its backward the transposes.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import dtypes as _dt, ops
from ..autograd.function import Function
from ._conv import Geometry, _Col2Im, _padded, ntuple, windows

_LOW_PRECISION = (_dt.float16, _dt.bfloat16)


def _pool_size(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape: floor or ceil, and the last window must start inside."""
    n = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = n // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checks of torch's pool2d_shape_check; the Geometry, whose high pads cover ceil_mode's
    last windows."""
    if input.dtype is _dt.bool:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
    if input.dim() not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{list(input.shape)}")
    k = ntuple(kernel_size, 2, "kernel_size")
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    s = k if no_stride else ntuple(stride, 2, "stride")
    p, d = ntuple(padding, 2, "padding"), ntuple(dilation, 2, "dilation")
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError("stride should not be zero")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if min(p) < 0:
        raise RuntimeError("pad must be non-negative")
    if any(q > (dd * (kk - 1) + 1) // 2 for q, kk, dd in zip(p, k, d)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
                           f"kernel_size={k[0]} and dilation={d[0]}")
    size = tuple(input.shape[-2:])
    out = tuple(_pool_size(*a, ceil_mode) for a in zip(size, k, s, p, d))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({input.shape[-3]}x{size[0]}x{size[1]}). Calculated output "
                           f"size: ({input.shape[-3]}x{out[0]}x{out[1]}). Output size is too small")
    pads = tuple((q, max(0, (o - 1) * ss + dd * (kk - 1) + 1 - n - q))
                 for n, kk, ss, q, dd, o in zip(size, k, s, p, d, out))
    return Geometry(size, k, d, s, pads, out)


def _batched(input, fn):
    """``fn`` on a 4-D input; a 3-D (C, H, W) input gets a batch dim of 1 and loses it again."""
    if input.dim() == 4:
        return fn(input)
    out = fn(input.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


# ---------------------------------------------------------------------------- max
@functools.lru_cache(maxsize=64)
def _index_map_host(geo):
    """(oh, ow, kh * kw) flat input index of each window element; a padding element takes its
    window's first valid index (never preferred to it, since max picks the first of equals)."""
    (h, w), (kh, kw), (dh, dw), (sh, sw), ((ph, _), (pw, _)), (oh, ow) = geo
    rows = np.arange(oh)[:, None] * sh - ph + np.arange(kh)[None, :] * dh    # (oh, kh)
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw    # (ow, kw)
    r, c = rows[:, None, :, None], cols[None, :, None, :]                     # (oh, ow, kh, kw)
    valid = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    flat = np.broadcast_to(r * w + c, valid.shape).reshape(oh, ow, kh * kw)
    valid = valid.reshape(oh, ow, kh * kw)
    first = np.take_along_axis(flat, valid.argmax(-1)[..., None], -1)
    return np.where(valid, flat, first).astype(np.int64)


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


class _PickedMax(Function):
    """A max pool: the max over the last dim of each window's candidates, torch's flat input
    index of each pick (through ``index_map``), and a backward that scatters to those indices."""

    @staticmethod
    def pick(ctx, candidates, index_map, x):
        values, pick = candidates.max(-1)
        indices = index_map.expand(candidates.shape).gather(-1, pick.unsqueeze(-1)).squeeze(-1)
        ctx.mark_non_differentiable(indices)
        ctx.indices, ctx.shape = indices, tuple(x.shape)
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        return _to_picks(ctx, grad), None


class _MaxPool2d(_PickedMax):
    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, geo):
        n, c = x.shape[:2]
        (oh, ow), (kh, kw) = geo.out, geo.kernel
        win = windows(_padded(x, geo, _lowest(x.dtype)), geo).permute(0, 1, 4, 5, 2, 3)
        index_map = _on_device(_index_map_host, (geo,), x.device)
        return _PickedMax.pick(ctx, win.reshape(n, c, oh, ow, kh * kw), index_map, x)


def _to_picks(ctx, grad):
    """The gradient of a max pool: each output's gradient added at the input it picked."""
    n, c, h, w = ctx.shape
    zeros = ops.zeros((n, c, h * w), dtype=grad.dtype, device=grad.device)
    length = ctx.indices.shape[2] * ctx.indices.shape[3]
    flat = zeros.scatter_add(2, ctx.indices.reshape(n, c, length), grad.reshape(n, c, length))
    return flat.view(ctx.shape)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window; ``return_indices`` gives the flat ``h * W + w`` positions, as torch."""
    geo = _pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    values, indices = _batched(input, lambda x: _MaxPool2d.apply(x, geo))
    return (values, indices) if return_indices else values


def _one_d(name, input, kernel_size, stride, padding, dilation=1):
    """A 1-D pool's input with a height of 1 inserted, and its arguments as 2-D ones."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{name}() Expected 2D or 3D input tensor, but got {list(input.shape)}")

    def first(v):
        return v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    return (input.unsqueeze(-2), (1, first(kernel_size)), None if no_stride else (1, first(stride)),
            (0, first(padding)), (1, first(dilation)))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if not return_indices and not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{input.type()}'")
    args = _one_d("max_pool1d", input, kernel_size, stride, padding, dilation)
    out = max_pool2d(*args, ceil_mode, return_indices)
    return tuple(o.squeeze(-2) for o in out) if return_indices else out.squeeze(-2)


# ---------------------------------------------------------------------------- adaptive max
@functools.lru_cache(maxsize=64)
def _adaptive_map_host(size, out):
    """(oh, ow, kh * kw) flat indices of adaptive windows padded to the longest (kh, kw) by
    repeating a window's last row/column, which never changes its max or the pick's index."""
    starts, lengths = [], []
    for n, o in zip(size, out):
        lo = np.arange(o) * n // o
        hi = -(-(np.arange(1, o + 1) * n) // o)
        starts.append(lo)
        lengths.append(hi - lo)
    (kh, kw), w = (int(v.max(initial=1)) for v in lengths), size[1]
    rows = starts[0][:, None] + np.minimum(np.arange(kh)[None, :], lengths[0][:, None] - 1)   # (oh, kh)
    cols = starts[1][:, None] + np.minimum(np.arange(kw)[None, :], lengths[1][:, None] - 1)   # (ow, kw)
    flat = rows[:, None, :, None] * w + cols[None, :, None, :]
    return np.ascontiguousarray(flat.reshape(out[0], out[1], kh * kw)).astype(np.int64)


class _AdaptiveMaxPool2d(_PickedMax):
    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out):
        n, c, h, w = x.shape
        index_map = _on_device(_adaptive_map_host, ((h, w), out), x.device)
        k = index_map.shape[2]
        picked = x.reshape(n, c, h * w).index_select(2, index_map.reshape(-1)).view(n, c, *out, k)
        return _PickedMax.pick(ctx, picked, index_map, x)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows [floor(i * H / oh), ceil((i + 1) * H / oh))."""
    out = _checked_adaptive_size("adaptive_max_pool2d", input, output_size,
                                 "(): Expected 3D or 4D tensor, but got:", "():")
    values, indices = _batched(input, lambda x: _AdaptiveMaxPool2d.apply(x, out))
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
                           "argument #1 'self' (while checking arguments for adaptive_max_pool1d)")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    return tuple(o.squeeze(-2) for o in out) if return_indices else out.squeeze(-2)


# ---------------------------------------------------------------------------- average
@functools.lru_cache(maxsize=64)
def _divisors_host(geo, count_include_pad):
    """(oh, ow) element count of each window, as torch's avg_pool2d counts it."""
    counts = []
    for n, k, s, (lo, _), o in zip(geo.size, geo.kernel, geo.stride, geo.pads, geo.out):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, n + lo)
        counts.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return (counts[0][:, None] * counts[1][None, :]).astype(np.float64)


class _AvgPool2d(Function):
    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geo, divisor):
        work = _dt.float32 if x.dtype in _LOW_PRECISION else x.dtype
        sums = windows(_padded(x, geo), geo).sum((2, 3), dtype=work)
        ctx.geo, ctx.divisor = geo, divisor
        return (sums / divisor).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        geo = ctx.geo
        n, c, oh, ow = grad.shape
        g = (grad / ctx.divisor).view(n, c, 1, 1, oh, ow).expand(n, c, *geo.kernel, oh, ow)
        return _Col2Im.apply(g, geo), None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window (``divisor_override`` replaces the element count)."""
    geo = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"avg_pool2d of {input.dtype} tensors is not supported "
                                  "(floating point only)")
    if divisor_override is not None:
        divisor = float(divisor_override)
    else:
        counts = _divisors_host(geo, bool(count_include_pad))
        if (counts == counts.flat[0]).all():
            divisor = float(counts.flat[0])
        else:
            work = _dt.float32 if input.dtype in _LOW_PRECISION else input.dtype
            divisor = _on_device(_divisors_host, (geo, bool(count_include_pad)), input.device).to(work)
    return _batched(input, lambda x: _AvgPool2d.apply(x, geo, divisor))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    x, k, st, pad, _ = _one_d("avg_pool1d", input, kernel_size, stride, padding)
    return avg_pool2d(x, k, st, pad, ceil_mode, count_include_pad).squeeze(-2)


# ---------------------------------------------------------------------------- adaptive average
@functools.lru_cache(maxsize=64)
def _averaging_host(size, out):
    """(out, size) matrix whose row i averages input [floor(i*size/out), ceil((i+1)*size/out))."""
    m = np.zeros((out, size))
    for i in range(out):
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


class _AdaptiveAvgPool2d(Function):
    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, ph, pw):
        ctx.mats, ctx.dtype = (ph, pw), x.dtype
        return ops.matmul(ops.matmul(ph, x.to(ph.dtype)), pw.t()).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        ph, pw = ctx.mats
        return ops.matmul(ops.matmul(ph.t(), grad.to(ph.dtype)), pw).to(ctx.dtype), None, None


def _adaptive_size(output_size, size):
    out = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * len(size)
    return tuple(s if o is None else int(o) for o, s in zip(out, size))


def _checked_adaptive_size(name, input, output_size, rank_message, size_prefix):
    """The (oh, ow) of an adaptive 2-d pool after torch's checks (whose wording differs per pool)."""
    if input.dim() not in (3, 4):
        raise RuntimeError(f"{name}{rank_message} {list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                               f"but input has sizes {list(input.shape)} with dimension {d} being empty")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{input.type()}'")
    out = _adaptive_size(output_size, tuple(input.shape[-2:]))
    if min(out) < 0:
        raise RuntimeError(f"{name}{size_prefix} elements of output_size must be greater than or equal to 0 "
                           f"but received {list(out)}")
    return out


def adaptive_avg_pool2d(input, output_size):
    out = _checked_adaptive_size("adaptive_avg_pool2d", input, output_size,
                                 "(): Expected 3D or 4D tensor, but got", ":")
    if out == (1, 1):  # torch takes the mean here (MeanBackward1)
        return input.mean((-1, -2), keepdim=True)
    work = _dt.float32 if input.dtype in _LOW_PRECISION else input.dtype
    ph, pw = (ops.tensor(_averaging_host(s, o), dtype=work, device=input.device)
              for s, o in zip(input.shape[-2:], out))
    return _AdaptiveAvgPool2d.apply(input, ph, pw)


def adaptive_avg_pool1d(input, output_size):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d() argument 'input' should be 2D or 3D, but got "
                           f"{list(input.shape)}")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)
