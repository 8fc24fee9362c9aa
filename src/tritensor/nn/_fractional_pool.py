"""``F.fractional_max_pool2d/3d`` (Graham, "Fractional Max-Pooling"): max over windows of
``kernel_size`` whose starts advance by a non-integer stride, pseudo-randomly per (sample,
channel).

Each plane has one random sample ``u`` in [0, 1) per spatial dim (``_random_samples``, (N, C,
n); for 2-D, sample 0 drives the width and sample 1 the height, for 3-D samples 0, 1, 2 drive
depth, height and width, as torch's kernels). Along a dim of ``size`` with ``out`` windows of
``k``, ``alpha = (size - k) / (out - 1)`` and window i starts at ``int((i + u) alpha) -
int(u alpha)``, the last at ``size - k``; computed in the input's dtype, as torch's kernels,
so the windows are the same. The windows' flat input indices are gathered on the device into
(N, C, *out, prod(k)) candidates and the pools' shared max-picking node
(``_pool._PickedMax``: first max, last NaN, scatter-add backward) does the rest.
"""
from __future__ import annotations

import math

from .. import dtypes as _dt, ops
from ..ops.elementwise import not_implemented_for
from ._pool import _PickedMax, _per_rank

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _starts(samples, size, out, k):
    """(P, out) window starts along one dim for per-plane samples (P,), in the samples' dtype."""
    last = ops.full(samples.shape + (1,), size - k, dtype=_dt.int64, device=samples.device)
    if out == 1:
        return last
    alpha = ops.tensor(size - k, dtype=samples.dtype, device=samples.device) / (out - 1)
    steps = ops.arange(out - 1, device=samples.device).to(samples.dtype)
    u = samples.unsqueeze(1)
    starts = ((steps + u) * alpha).to(_dt.int64) - (u * alpha).to(_dt.int64)
    return ops.cat([starts, last], 1)


def _window_index(samples, spatial, out, kernel):
    """(P, *out, prod(kernel)) flat input index of each window element of each plane."""
    n, planes = len(spatial), samples.shape[0]
    order = (1, 0) if n == 2 else (0, 1, 2)  # which sample drives each spatial dim
    flat = 0
    for d in range(n):
        starts = _starts(samples[:, order[d]], spatial[d], out[d], kernel[d])  # (P, out_d)
        positions = starts.unsqueeze(2) + ops.arange(kernel[d], device=samples.device)  # (P, out_d, k_d)
        shape = [planes] + [1] * (2 * n)
        shape[1 + d], shape[1 + n + d] = out[d], kernel[d]
        flat = flat * spatial[d] + positions.reshape(shape)
    return flat.reshape((planes,) + tuple(out) + (math.prod(kernel),))


class _FractionalMaxPool(_PickedMax):
    @staticmethod
    def forward(ctx, x, samples, out, kernel):
        n = len(out)
        lead, spatial = tuple(x.shape[:-n]), tuple(x.shape[-n:])
        index = _window_index(samples, spatial, out, kernel)
        planes = math.prod(lead)
        flat_index = index.reshape(planes, math.prod(index.shape[1:]))
        candidates = x.reshape(planes, math.prod(spatial)).gather(1, flat_index)
        window_shape = lead + tuple(out) + (index.shape[-1],)
        candidates, index = candidates.reshape(window_shape), index.reshape(window_shape)
        values, indices = _PickedMax.pick(ctx, candidates, index, x)
        ctx.spatial = n  # the map carries the planes too
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return _PickedMax.backward(ctx, grad, grad_indices)[0], None, None, None


_FRACTIONAL = _per_rank(_FractionalMaxPool, "FractionalMaxPool{}DBackward0")


def _ntuple(name, value, n, what):
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, n):
            raise RuntimeError(f"{name}: {what} must either be a single Int or tuple of Ints")
        return tuple(int(v) for v in value) * (n // len(value) if len(value) == 1 else 1)
    return (int(value),) * n


def _check(name, n, input, samples, kernel, out):
    """torch's checks of the input, the samples and the window geometry."""
    if samples.dtype is not input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
    for d in range(1 if input.dim() == n + 2 else 0, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                               f"but got{list(input.shape)} with dimension {d} being empty.")
    batch = input.shape[0] if input.dim() == n + 2 else 1
    if samples.dim() != 3 or samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != input.shape[-n - 1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}; got {samples.shape[2]}.")
    for dim_name, size, k, o in zip(_DIM_NAMES[n], input.shape[-n:], kernel, out):
        if o + k - 1 > size:
            raise RuntimeError(f"{name}(): pool {dim_name} {k} too large relative to input {dim_name} {size}")
    if not input.dtype.is_floating_point:
        raise not_implemented_for(name, input.dtype)


def _fractional_max_pool(n, input, kernel_size, output_size, output_ratio, samples):
    name = f"fractional_max_pool{n}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > n:  # a bare float is a TypeError here, as torch's functional
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        sizes = input.shape[-n:]  # one ratio per dim (fewer is torch's IndexError)
        output_size = [int(sizes[d] * output_ratio[d]) for d in range(n)]
    kernel = _ntuple(name, kernel_size, n, "kernel_size")
    out = _ntuple(name, output_size, n, "output_size")
    if samples is None:
        batch = input.shape[0] if input.dim() == n + 2 else 1
        shape = (batch, input.shape[-n - 1], n)
        samples = ops.empty(shape, dtype=input.dtype, device=input.device).uniform_()
    _check(name, n, input, samples, kernel, out)
    batch = input.shape[0] if input.dim() == n + 2 else 1
    planes = samples[:batch].reshape(batch * input.shape[-n - 1], n)
    return _FRACTIONAL[n].apply(input, planes, out, kernel)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, flat ``h * W + w`` indices) of fractional max pooling of (N, C, H, W) / (C, H, W)."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, flat ``t * H * W + h * W + w`` indices) of 3-D fractional max pooling."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                             _random_samples=_random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                             _random_samples=_random_samples)
    return out if return_indices else out[0]
