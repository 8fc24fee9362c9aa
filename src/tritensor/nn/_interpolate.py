"""``F.interpolate`` (and its deprecated forms ``F.upsample*``): resizing the spatial dims of
an (N, C, *spatial) input, as torch's CPU kernels do.

Every mode but 'area' is separable: along one spatial dim, output position ``j`` reads a few
input positions ("taps") with weights that depend only on that dim's input size, output size,
scale and the mode. So one mechanism serves every mode and rank. The host computes, per dim, a
(taps, out) table of input indices and one of weights (small numpy arrays, cached); the device
gathers all taps of that dim with one ``index_select`` and sums them weighted. Nearest modes
have one tap and no weights (a pure gather, so any dtype that can be copied works); linear
modes two, bicubic four, antialiased ones as many as the widened filter covers. The backward
(``_Resample``, named like torch's node) scatters the gradient back with ``index_add`` along
the same dims in reverse order, each tap's share scaled by its weight.

Coordinates follow torch. With ``align_corners`` the corner pixel centres of input and output
coincide: ``src = dst * (in - 1) / (out - 1)``. Otherwise pixels are areas and their centres
are mapped: ``src = (dst + 0.5) * scale - 0.5`` (clamped at 0 for linear modes), where
``scale`` is ``1 / scale_factor`` when a scale factor is given and not recomputed (so size 5
with scale 1.7 reads ``1 / 1.7``, not 5 / 8), else ``in / out``. Nearest reads
``floor(dst * scale)``, nearest-exact ``floor((dst + 0.5) * scale)``. The scale and the source
coordinates are computed in the precision torch's kernels use (float32 for the nearest modes;
for the others float32, or float64 for float64 inputs), which decides the nearest modes' ties
exactly as torch does. ``antialias`` uses Pillow's filters, widened by the downscaling factor.

torch's CPU kernels take a few shortcuts that this module reproduces because its results are
compared with them: a linear-mode dim whose size does not change is copied whatever the scale,
and other modes' forwards or backwards do the same in some cases, so the two need not be
adjoint (``_forward_and_backward_taps``). The uint8 kernels of bilinear and bicubic compute
differently from the float ones (Pillow's fixed-point separable passes, rounding to uint8
between passes), and are reproduced by ``_fixed_point_resample``.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from typing import NamedTuple

import numpy as np

from .. import dtypes as _dt, ops
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops.elementwise import not_implemented_for
from . import _fused, _pool

_LOW_PRECISION = (_dt.float16, _dt.bfloat16)
_FLOATS = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_ALL_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


class _Mode(NamedTuple):
    """A separable mode: the spatial rank it needs (None: any of 1-3), torch's op and node
    names, and the taps it reads."""

    rank: int | None
    op: str       # torch's op, e.g. upsample_bilinear -> upsample_bilinear2d
    node: str     # torch's grad_fn, e.g. Bilinear -> UpsampleBilinear2DBackward0
    taps: str     # 'nearest', 'nearest-exact', 'linear' or 'cubic'
    uint8: bool   # torch's CPU build has a uint8 kernel


_MODES = {
    "nearest": _Mode(None, "upsample_nearest", "Nearest", "nearest", True),
    "nearest-exact": _Mode(None, "_upsample_nearest_exact", "NearestExact", "nearest-exact", True),
    "linear": _Mode(1, "upsample_linear", "Linear", "linear", False),
    "bilinear": _Mode(2, "upsample_bilinear", "Bilinear", "linear", True),
    "trilinear": _Mode(3, "upsample_trilinear", "Trilinear", "linear", False),
    "bicubic": _Mode(2, "upsample_bicubic", "Bicubic", "cubic", True),
}


# ---------------------------------------------------------------------------- arguments
def _is_integer(value):
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return not value.dtype.is_floating_point and value.dtype is not _dt.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_align_corners(mode, align_corners):
    """torch's rule: nearest and area modes take no ``align_corners``; the others default to False."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             f"linear | bilinear | bicubic | trilinear (got mode={mode!r}, "
                             f"align_corners={align_corners})")
        return None
    return False if align_corners is None else bool(align_corners)


def _size_and_scales(input, n, size, scale_factor, mode, recompute_scale_factor):
    """(output_size, scale_factors) as torch's ``F.interpolate`` hands them to its kernels:
    exactly one is a list of length ``n``, the other None (a recomputed scale factor became
    a size)."""
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != n:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {spatial} and output size of {size}. Please provide input tensor "
                    "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) or isinstance(s, bool) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            output_size, scales = list(size), None
        else:
            output_size, scales = [size] * n, None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != n:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                    "(s1, s2, ...,sK) format.")
            output_size, scales = None, list(scale_factor)
        else:
            output_size, scales = None, [scale_factor] * n
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True  # area always works from a size
    if recompute_scale_factor:
        # Python's int(): ValueError for NaN, OverflowError for inf, as torch
        output_size, scales = [int(s * f) for s, f in zip(spatial, scales)], None
    return output_size, scales


def _kernel_sizes(input, op, output_size, scales):
    """The output sizes torch's kernel computes and checks (it truncates ``in * scale``), and
    its scale per dim (None where only sizes were given)."""
    n, spatial = input.dim() - 2, tuple(input.shape[2:])
    if output_size is not None:
        if not all(_is_integer(s) for s in output_size):
            raise TypeError(f"{op}(): output_size must be a tuple of ints, but got "
                            f"{[type(s).__name__ for s in output_size]}")
        out, scales = tuple(int(s) for s in output_size), (None,) * n
    else:
        if not all(isinstance(s, numbers.Real) for s in scales):
            raise TypeError(f"{op}(): scale_factor must be a float or a tuple of floats, but got "
                            f"{[type(s).__name__ for s in scales]}")
        scales = tuple(float(s) for s in scales)
        products = [size * s for size, s in zip(spatial, scales)]
        if not all(math.isfinite(p) and abs(p) < 2.0 ** 63 for p in products):
            raise RuntimeError(f"value cannot be converted to type int64_t without overflow: the output size "
                               f"of input {list(spatial)} scaled by {list(scales)}")
        out = tuple(int(p) for p in products)
    if min(spatial) <= 0 or min(out) <= 0:
        names = ("D", "H", "W")[3 - n:]
        given = ", ".join(f"{a}: {s}" for a, s in zip(names, spatial))
        wanted = ", ".join(f"{a}: {s}" for a, s in zip(names, out))
        joint = " and output" if n == 1 else " output"
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}){joint} "
                           f"({wanted})")
    if 0 in tuple(input.shape[1:]):
        raise RuntimeError(f"Non-empty {n + 2}D data tensor expected but got a tensor with sizes "
                           f"{list(input.shape)}")
    return out, scales


# ---------------------------------------------------------------------------- taps (host)
class _Taps(NamedTuple):
    """Along one dim of ``in_size``: ``index[t, j]`` is the input position tap ``t`` of output
    ``j`` reads, ``weight[t, j]`` its weight (None for the one-tap nearest modes)."""

    index: np.ndarray
    weight: np.ndarray | None
    in_size: int

    @property
    def identity(self):
        return self.weight is None and self.index.shape == (1, self.in_size) and \
            np.array_equal(self.index[0], np.arange(self.in_size))


def _inverse_scale(in_size, out_size, scale, real):
    """torch's compute_scales_value: input positions per output position, in ``real``."""
    if scale is not None and scale > 0:
        return real(1.0 / scale)
    return real(in_size) / real(out_size)


def _ratio(in_size, out_size, scale, align_corners, real):
    """torch's area_pixel_compute_scale: input positions per output position (0 when the
    corners are aligned and there is one output)."""
    if align_corners:
        return real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
    return _inverse_scale(in_size, out_size, scale, real)


def _source_coordinates(in_size, out_size, scale, align_corners, real):
    """torch's area_pixel_compute_source_index (unclamped) of every output position."""
    dst = np.arange(out_size)
    ratio = _ratio(in_size, out_size, scale, align_corners, real)
    if align_corners:
        return ratio * dst.astype(real)
    return (np.float64(ratio) * (dst + 0.5) - 0.5).astype(real)  # double arithmetic, as the C++


def _floor_and_fraction(src, in_size, real):
    """torch's guard_index_and_lambda: the tap left of ``src`` (at most the last) and the
    fraction of the way to the next one, in [0, 1]."""
    left = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    return left, np.clip(src - left.astype(real), 0, 1).astype(real)


def _nearest_taps(in_size, out_size, scale, exact, shortcut):
    """floor(dst * scale) or floor((dst + 0.5) * scale), computed in float32 as torch does;
    with ``shortcut``, torch's copy of an unchanged dim and halving of a doubled one."""
    dst = np.arange(out_size)
    if shortcut and out_size == in_size:
        src = dst
    elif shortcut and out_size == 2 * in_size:
        src = dst >> 1
    else:
        s = _inverse_scale(in_size, out_size, scale, np.float32)
        if exact:  # (dst + 0.5) * scale in double, rounded to float by floorf
            src = np.floor(((dst + 0.5) * np.float64(s)).astype(np.float32))
        else:
            src = np.floor(dst.astype(np.float32) * s)
        src = np.minimum(src.astype(np.int64), in_size - 1)
    return _Taps(src[None, :].astype(np.int64), None, in_size)


def _linear_taps(in_size, out_size, scale, align_corners, real):
    """Two taps, the neighbours of the source coordinate (clamped at 0), weighted by distance;
    an unchanged dim is copied (torch's shortcut, whatever the scale)."""
    if out_size == in_size:
        return _nearest_taps(in_size, out_size, None, False, True)
    src = np.maximum(_source_coordinates(in_size, out_size, scale, align_corners, real), real(0))
    left, frac = _floor_and_fraction(src, in_size, real)
    right = left + (left < in_size - 1)
    return _Taps(np.stack([left, right]), np.stack([real(1) - frac, frac]), in_size)


def _cubic_convolution(x, a, real):
    """Keys' cubic convolution kernel at distance |x| < 2 (two polynomial pieces)."""
    x = np.abs(x).astype(real)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, real(0))).astype(real)


def _cubic_taps(in_size, out_size, scale, align_corners, real):
    """Four taps around the (unclamped) source coordinate with Keys' weights (A = -0.75);
    taps past a border read the border element."""
    src = _source_coordinates(in_size, out_size, scale, align_corners, real)
    left, t = _floor_and_fraction(src, in_size, real)
    a = real(-0.75)
    weight = np.stack([_cubic_convolution((t + 1.0).astype(real), a, real), _cubic_convolution(t, a, real),
                       _cubic_convolution((1.0 - t).astype(real), a, real),
                       _cubic_convolution((2.0 - t).astype(real), a, real)])
    index = np.clip(left[None, :] + np.arange(-1, 3)[:, None], 0, in_size - 1)
    return _Taps(index, weight.astype(real), in_size)


def _filter_taps(in_size, out_size, scale, align_corners, real, cubic, antialias):
    """Pillow's resampling taps (torch's antialias kernels, and its uint8 bilinear): the
    filter (a triangle, or Keys' cubic with a = -0.5) is widened by the downscaling factor
    when antialiased, taps outside the input are dropped and the rest normalised to sum to 1.
    Rows shorter than the widest are padded with zero-weight taps."""
    ratio = _ratio(in_size, out_size, scale, align_corners, real)
    half = 2.0 if cubic else 1.0
    widen = antialias and ratio >= 1.0
    support = real(half * ratio) if widen else real(half)
    inverse = real(1.0 / ratio) if widen else real(1.0)
    width = int(math.ceil(support)) * 2 + 1 if antialias else int(2 * half)
    delta = 0.5 if align_corners and not antialias else 0.0
    centre = (np.float64(ratio) * (np.arange(out_size) + 0.5 - delta)).astype(real)
    low = np.maximum((centre - support + 0.5 + delta).astype(np.float64).astype(np.int64), 0)
    high = np.minimum((centre + support + 0.5 + delta).astype(np.float64).astype(np.int64), in_size)
    count = np.clip(high - low, 0, width)
    offsets = np.arange(width)[:, None]
    at = ((offsets + low[None, :] - centre[None, :]).astype(real) + 0.5 - delta) * np.float64(inverse)
    weight = _cubic_convolution(at.astype(real), real(-0.5), real) if cubic \
        else np.maximum(real(0), real(1) - np.abs(at.astype(real))).astype(real)
    weight = np.where(offsets < count[None, :], weight, real(0)).astype(real)
    total = weight.sum(0, dtype=real)
    weight = np.where(total != 0, weight / np.where(total != 0, total, real(1)), weight).astype(real)
    index = np.minimum(low[None, :] + offsets, in_size - 1)
    return _Taps(index.astype(np.int64), weight, in_size)


@functools.lru_cache(maxsize=256)
def _taps(kind, in_size, out_size, scale, align_corners, precision, shortcut=False):
    """The taps of one dim (cached: the same layers resize the same shapes again and again)."""
    real = np.float64 if precision == "float64" else np.float32
    if kind in ("nearest", "nearest-exact"):
        return _nearest_taps(in_size, out_size, scale, kind == "nearest-exact", shortcut)
    if kind == "linear":
        return _linear_taps(in_size, out_size, scale, align_corners, real)
    if kind == "cubic":
        return _cubic_taps(in_size, out_size, scale, align_corners, real)
    return _filter_taps(in_size, out_size, scale, align_corners, real, kind.endswith("cubic"),
                        kind.startswith("aa-"))


# ---------------------------------------------------------------------------- taps (device)
_device_taps: dict = {}


def _on_device(taps, weight_dtype, device):
    """(index, weight) tensors of ``taps`` on ``device``, kept for the next call (at most 128)."""
    key = (id(taps), str(weight_dtype), str(device))
    hit = _device_taps.get(key)
    if hit is not None and hit[0] is taps:
        return hit[1]
    if len(_device_taps) >= 128:
        _device_taps.pop(next(iter(_device_taps)))
    tensors = (ops.tensor(taps.index, dtype=_dt.int64, device=device),
               None if taps.weight is None else ops.tensor(taps.weight, dtype=weight_dtype, device=device))
    _device_taps[key] = (taps, tensors)  # holding taps keeps its id from being reused
    return tensors


class _Pass(NamedTuple):
    """One dim's resampling on the device: tensor dim, taps, and that dim's input size."""

    dim: int
    index: object
    weight: object
    in_size: int


def _passes(taps_per_dim, weight_dtype, device):
    """The passes of the dims that are not copied, those that shrink the tensor most first;
    among dims resized alike, the last first: the order in which torch's kernels combine the
    taps of an output element (inner dim first), and the last dim's pass, which gathers element
    by element, runs on the smaller tensor when sizes grow."""
    order = sorted(reversed(range(len(taps_per_dim))),
                   key=lambda i: taps_per_dim[i].index.shape[1] / taps_per_dim[i].in_size)
    return tuple(_Pass(2 + i, *_on_device(taps_per_dim[i], weight_dtype, device), taps_per_dim[i].in_size)
                 for i in order if not taps_per_dim[i].identity)


# ---------------------------------------------------------------------------- resampling (device)
@functools.lru_cache(maxsize=64)
def _unit_weights(shape, dtype, device):
    """Weights of 1 for ``shape`` (taps, out): a nearest pass (and its adjoint) as a weighted
    one, exactly (x * 1 is x)."""
    return ops.ones(shape, dtype=dtype, device=device)


def _fused_pass(t, p):
    """(the device's one-kernel pass ``_fused.RESAMPLE``, the pass's weights) for ``t``, or
    None: other dtypes, and a pass to differentiate (a backward under create_graph), take the
    tensor ops."""
    fused = _fused.RESAMPLE.get(t.device.type)
    if fused is None or t.dtype not in fused.dtypes or (t.requires_grad and grad_mode.is_grad_enabled()):
        return None
    weight = _unit_weights(tuple(p.index.shape), t.dtype, t.device) if p.weight is None else p.weight
    return (fused, weight) if weight.dtype is t.dtype else None


def _gather(x, p):
    """Along ``p.dim``: every output position's taps, summed with their weights."""
    fused = _fused_pass(x, p)
    if fused is not None:
        kernels, weight = fused
        return kernels.gather(x, p.dim, p.index, weight)
    k, out = p.index.shape
    picked = x.index_select(p.dim, p.index.reshape(-1))
    if p.weight is None:
        return picked
    taps = picked.view(tuple(x.shape[:p.dim]) + (k, out) + tuple(x.shape[p.dim + 1:]))
    return (taps * p.weight.view((k, out) + (1,) * (x.dim() - p.dim - 1))).sum(p.dim)


def _scatter(g, p):
    """The adjoint of ``_gather``: each output's gradient, times each tap's weight, added to
    the input position that tap read."""
    fused = _fused_pass(g, p)
    if fused is not None and fused[0].scatter is not None:
        kernels, weight = fused
        return kernels.scatter(g, p.dim, p.index, weight, p.in_size)
    k, out = p.index.shape
    if p.weight is not None:
        weighted = g.unsqueeze(p.dim) * p.weight.view((k, out) + (1,) * (g.dim() - p.dim - 1))
        g = weighted.reshape(tuple(g.shape[:p.dim]) + (k * out,) + tuple(g.shape[p.dim + 1:]))
    shape = tuple(g.shape[:p.dim]) + (p.in_size,) + tuple(g.shape[p.dim + 1:])
    return ops.zeros(shape, dtype=g.dtype, device=g.device).index_add(p.dim, p.index.reshape(-1), g)


def _work_dtype(dtype, passes, summing):
    """16-bit floats are weighted and summed in float32 and rounded once at the end, as torch's
    kernels (a forward that only gathers needs no float32)."""
    if dtype in _LOW_PRECISION and passes and (summing or any(p.weight is not None for p in passes)):
        return _dt.float32
    return dtype


class _Resample(Function):
    """Resampling as a sequence of per-dim passes; subclasses carry torch's node names."""

    @staticmethod
    def forward(ctx, x, passes, adjoint_passes):
        ctx.adjoint, ctx.dtype = adjoint_passes, x.dtype
        y = x.to(_work_dtype(x.dtype, passes, False))
        for p in passes:
            y = _gather(y, p)
        return x.clone() if y is x else y.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        g = grad.to(_work_dtype(grad.dtype, ctx.adjoint, True))
        for p in reversed(ctx.adjoint):
            g = _scatter(g, p)
        return (grad.clone() if g is grad else g.to(ctx.dtype)), None, None


def _node_class(name):
    return type(f"_{name}", (_Resample,), {"node_name": f"{name}Backward0", "__module__": __name__})


_NODES = {name: _node_class(name) for name in
          [f"Upsample{mode.node}{n}D" for mode in _MODES.values() for n in (1, 2, 3)]
          + ["UpsampleBilinear2DAa", "UpsampleBicubic2DAa"]}


# ---------------------------------------------------------------------------- uint8 (fixed point)
def _weight_precision(weight):
    """Pillow's fixed-point precision: the most fraction bits that keep the largest weight
    (times 2) below 2 ** 15."""
    largest = float(weight.max(initial=0.0))
    for bits in range(22):
        if int(0.5 + largest * (1 << (bits + 1))) >= (1 << 15):
            return bits
    return 22


def _merge_duplicate_taps(taps):
    """The same taps with the weight of every tap that repeats an earlier tap's position (a
    border clamp) moved onto that earlier tap, so the pair is rounded to fixed point once."""
    weight, cols = taps.weight.copy(), np.arange(taps.index.shape[1])
    for t in range(1, taps.index.shape[0]):
        same = taps.index[:t] == taps.index[t]
        repeats = same.any(0)
        first = same.argmax(0)
        weight[first[repeats], cols[repeats]] += weight[t, repeats]
        weight[t, repeats] = 0
    return taps._replace(weight=weight)


@functools.lru_cache(maxsize=64)
def _fixed_point_taps(kind, in_size, out_size, scale, align_corners):
    """The taps of torch's uint8 kernels with integer weights of ``bits`` fraction bits
    (rounded half away from 0): Pillow's, except bicubic without antialias, which reads the
    float kernel's border-clamped taps."""
    if kind == "cubic":
        taps = _merge_duplicate_taps(_taps(kind, in_size, out_size, scale, align_corners, "float64"))
    else:
        taps = _taps(kind, in_size, out_size, scale, align_corners, "float64")
    bits = _weight_precision(taps.weight)
    scaled = taps.weight * (1 << bits)
    fixed = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5))
    return _Taps(taps.index, fixed, in_size), bits


def _fixed_point_resample(input, out, scales, align_corners, cubic, antialias):
    """torch's uint8 bilinear/bicubic: Pillow's separable passes (the last dim first, dims
    whose size does not change skipped), each summing integer-weighted taps, then rounding
    and clamping to uint8 before the next pass."""
    kind = ("aa-" + ("cubic" if cubic else "linear")) if antialias else ("cubic" if cubic else "pil-linear")
    y = input
    for i in reversed(range(input.dim() - 2)):
        in_size = input.shape[2 + i]
        if out[i] == in_size:
            continue
        taps, bits = _fixed_point_taps(kind, in_size, out[i], scales[i], align_corners)
        total = _gather(y.to(_dt.int64), _Pass(2 + i, *_on_device(taps, _dt.int64, y.device), in_size))
        y = ((total + (1 << (bits - 1))) >> bits).clamp(0, 255).to(_dt.uint8)
    return input.clone() if y is input else y


# ---------------------------------------------------------------------------- entry points
def _rank_error(input, mode):
    """torch's error for a mode it has no kernel of this input's rank for (naming the rank the
    mode needs where torch's message does not)."""
    spec = _MODES.get(mode)
    if spec is not None and spec.rank is not None and 3 <= input.dim() <= 5:
        return NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {spec.rank + 2}D input")
    return NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                               f"(got {input.dim()}D) for the modes: {_ALL_MODES} (got {mode})")


def _area(input, output_size):
    """'area' is torch's adaptive average pool of the output size."""
    pool = (_pool.adaptive_avg_pool1d, _pool.adaptive_avg_pool2d, _pool.adaptive_avg_pool3d)[input.dim() - 3]
    return pool(input, output_size)


def _check_dtype(input, name, mode, antialias):
    dtype = input.dtype
    if antialias and dtype not in (_dt.float32, _dt.float64, _dt.uint8):
        raise not_implemented_for("compute_index_ranges_weights", dtype)
    if dtype not in _FLOATS and not (dtype is _dt.uint8 and mode.uint8):
        raise not_implemented_for(name, dtype)


def _forward_and_backward_taps(kind, spatial, out, scales, align_corners, precision):
    """Per dim, the taps of torch's forward kernel and those of its backward, which differ
    where torch's kernels take shortcuts: 2-D nearest forwards and all nearest backwards copy
    an unchanged dim and halve the indices of a doubled one; the antialiased forwards copy an
    unchanged dim (their backwards filter it); the bicubic backward copies when no size
    changes (its forward applies the scale)."""
    def copies(size):
        return _taps("nearest", size, size, None, None, precision, True)

    forward = [_taps(kind, s, o, f, align_corners, precision, kind == "nearest" and len(spatial) == 2)
               for s, o, f in zip(spatial, out, scales)]
    backward = forward
    if kind == "nearest":
        backward = [_taps(kind, s, o, f, None, precision, True) for s, o, f in zip(spatial, out, scales)]
    elif kind == "cubic" and out == spatial:
        backward = [copies(s) for s in spatial]
    elif kind.startswith("aa-"):
        forward = [copies(s) if s == o else taps for s, o, taps in zip(spatial, out, forward)]
    return forward, backward


def _resample(input, mode, output_size, scales, align_corners, antialias):
    """One of torch's upsample kernels: its checks, then the per-dim passes."""
    n = input.dim() - 2
    name = f"{'_' if antialias else ''}{mode.op}{n}d{'_aa' if antialias else ''}"
    out, scales = _kernel_sizes(input, name, output_size, scales)
    _check_dtype(input, name, mode, antialias)
    spatial = tuple(input.shape[2:])
    if input.dtype is _dt.uint8 and mode.taps in ("linear", "cubic"):
        return _fixed_point_resample(input, out, scales, align_corners, mode.taps == "cubic", antialias)
    precision = "float64" if input.dtype is _dt.float64 else "float32"
    forward, backward = _forward_and_backward_taps(("aa-" if antialias else "") + mode.taps, spatial, out,
                                                   scales, align_corners, precision)
    weight_dtype = _dt.float64 if input.dtype is _dt.float64 else _dt.float32
    node = _NODES[f"Upsample{mode.node}{n}D{'Aa' if antialias else ''}"]
    return node.apply(input, _passes(forward, weight_dtype, input.device),
                      _passes(backward, weight_dtype, input.device))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, *spatial) input (torch.nn.functional.interpolate)."""
    align_corners = _checked_align_corners(mode, align_corners)
    n = input.dim() - 2
    output_size, scales = _size_and_scales(input, n, size, scale_factor, mode, recompute_scale_factor)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         f"requires a 4-D tensor as input (got mode={mode!r} and a {input.dim()}-D input)")
    if mode == "area" and 1 <= n <= 3:
        return _area(input, output_size)
    if mode == "lanczos" and n == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        raise NotImplementedError("interpolate(mode='lanczos') is not supported by tritensor yet")
    spec = _MODES.get(mode)
    if spec is None or not 1 <= n <= 3 or spec.rank not in (None, n):
        raise _rank_error(input, mode)
    return _resample(input, spec, output_size, scales, align_corners, antialias)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated form of ``interpolate`` (warns, as torch)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')`` (warns, as torch)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (warns, as torch)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
