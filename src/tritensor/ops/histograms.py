"""Counting into bins: bincount and histc, each an ``index_add`` (the backends' scatter-add
kernels) of ones or weights at the bin of every element. The bin count depends on the data,
so both read its maximum (or range) back to the host first, as torch does."""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import backend
from ._registry import export
from .creation import linspace, ones, zeros
from .elementwise import _torch_name, not_implemented_for, where
from .reduction import _into
from .searching import searchsorted


def _device_name(x):
    return "cpu" if x.device.type == "cpu" else "cuda"


class _BinCount(Function):
    """torch records a node whose backward raises (bincount has no derivative): so does this."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, weights, input, length, dtype):
        return _counted(input, weights.to(dtype), length, dtype)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'bincount' is not implemented.")


@export
def bincount(input, weights=None, minlength=0):
    """torch.bincount: how often each non-negative integer occurs in the 1-D ``input`` (the
    sum of its ``weights``: float32/float64 weights keep their dtype, others give float64)."""
    if input.dtype is dt.bool or input.dtype.is_floating_point:
        raise not_implemented_for(f"bincount_{_device_name(input)}", input.dtype)
    lowest, highest = backend(input).index_range(input) if input.dim() == 1 else (0, -1)
    if input.dim() != 1 or lowest < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and (weights.dim() != 1 or weights._shape[0] != input._shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    length = max(highest + 1, minlength)
    if weights is None:
        return _counted(input, None, length, dt.int64)
    dtype = weights.dtype if weights.dtype in (dt.float32, dt.float64) else dt.float64
    return _BinCount.apply(weights, input, length, dtype)


def _counted(input, weights, length, dtype):
    """``length`` counts of ``dtype``: at each value of ``input``, 1 (``weights`` None) or its
    weight (already of ``dtype``) added, in input order. The CPU counts in one pass; other
    devices add with index_add_."""
    counts = zeros(length, dtype=dtype, device=input.device)
    if input.device.type == "cpu" and input.numel():
        backend(input).bincount(counts, input, weights)
        return counts
    added = ones(input._shape, dtype=dtype, device=input.device) if weights is None else weights
    return counts.index_add_(0, input.long(), added)


@export
def histc(input, bins=100, min=0, max=0, *, out=None):
    """torch.histc: counts of the elements in ``bins`` equal-width bins over [min, max] (the
    data's range when both are 0); elements outside, and NaN, are not counted."""
    if not input.dtype.is_floating_point:
        raise not_implemented_for(f"histogram_{_device_name(input)}", input.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    counts = zeros(bins, dtype=input.dtype, device=input.device)
    if x.device.type == "cpu" and x.numel() and backend(x).histc(counts, x, lo, hi):  # one counting pass
        return _into(out, counts)
    counted = (x >= lo) & (x <= hi)
    # the bin as torch computes it, in the input's dtype: (x - lo) * bins / (hi - lo)
    at = ((x - lo) * bins / (x.new_full((), hi) - lo)).floor().nan_to_num(0).long().clamp(0, bins - 1)
    counts.index_add_(0, at, where(counted, 1, 0).to(input.dtype))
    return _into(out, counts)


# ------------------------------------------------------------------ histogram / histogramdd
class _HistogramTuple(namedtuple("histogram", "hist bin_edges")):
    """torch.return_types.histogram: ``(hist, bin_edges)``, printed as torch prints it."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nhist={self.hist!r},\nbin_edges={self.bin_edges!r})"


class HistogramResult(_HistogramTuple):
    __slots__ = ()
    _name = "histogram"


class HistogramddResult(_HistogramTuple):
    __slots__ = ()
    _name = "histogramdd"


def _scalar_name(dtype):
    """The C++ scalar type name torch's histogram messages use ('float', 'double')."""
    return _torch_name(dtype).lower()


class _Histogram(Function):
    """The counting of ``histogramdd`` as one node: torch records a ``NotImplemented`` node
    on the counts and the edges alike when the input or the weights require grad."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, points, weight, density, *edges):
        return (_count_points(points, weight, edges, density),) + tuple(e.detach().clone() for e in edges)

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for 'histogramdd' is not implemented.")


def _count_points(points, weight, edges, density):
    """The (optionally weighted) count of the (N, D) ``points`` in the grid of bins ``edges``
    (one 1-D tensor per coordinate): each coordinate's bin is the last edge at or below it
    (the rightmost edge closes the last bin), and points outside the grid, or NaN, count nothing."""
    sizes = [e.numel() - 1 for e in edges]
    at = zeros(points._shape[0], dtype=dt.int64, device=points.device)
    inside = ones(points._shape[0], dtype=dt.bool, device=points.device)
    for d, e in enumerate(edges):
        coordinate = points[:, d].contiguous()
        bin_of = (searchsorted(e, coordinate, right=True) - 1).clamp(0, sizes[d] - 1)
        at = at * sizes[d] + bin_of
        inside = inside & (coordinate >= e[0]) & (coordinate <= e[-1])
    weight = ones(points._shape[0], dtype=points.dtype, device=points.device) if weight is None else weight
    hist = zeros(sizes, dtype=points.dtype, device=points.device)  # counted through a flat view of it
    hist.view(-1).index_add_(0, at, where(inside, weight, 0).to(points.dtype))
    if density:
        hist = hist / hist.sum()
        for d, e in enumerate(edges):
            hist = hist / (e[1:] - e[:-1]).reshape([-1 if k == d else 1 for k in range(len(edges))])
    return hist


def _check_histogram_input(input):
    if input.dtype not in (dt.float32, dt.float64):
        raise not_implemented_for("histogramdd", input.dtype)
    if input.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")


def _check_bin_count(count, d):
    if count <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for dimension {d}")


def _edge_tensors(input, bins, dims):
    """``bins`` given as edges: one 1-D tensor per coordinate, of the input's dtype."""
    if len(bins) != dims:
        raise RuntimeError(f"torch.histogramdd: expected {dims} sequences of bin edges for a "
                           f"{dims}-dimensional histogram but got {len(bins)}")
    for d, e in enumerate(bins):
        if e.dim() != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got {e.dim()} "
                               f"dimensions in the bins tensor for dimension {d}")
        if e.numel() == 0:
            raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 element, but got 0 "
                               f"elements in the bins tensor for dimension {d}")
        _check_bin_count(e.numel() - 1, d)
        if e.dtype is not input.dtype:
            raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the same "
                               f"dtype, but got input with dtype {_scalar_name(input.dtype)} and bins for "
                               f"dimension {d} with dtype {_scalar_name(e.dtype)}")
    return list(bins)


def _bin_ranges(points, range, dims):
    """Each coordinate's [lo, hi]: ``range`` (lo0, hi0, lo1, hi1 ...) or the data's own range
    ([0, 1] when there are no points); an empty range is widened by 0.5 each way, as torch."""
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram range should have "
                               f"{2 * dims} elements, but got {len(range)}")
        bounds = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    elif points._shape[0] == 0:
        bounds = [(0.0, 1.0)] * dims
    else:
        lows, highs = points.detach().amin(0).tolist(), points.detach().amax(0).tolist()
        bounds = list(zip(lows, highs))
    for d, (lo, hi) in enumerate(bounds):
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} "
                               f"for dimension {d}")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo:g}, {hi:g}] is not finite")
    return [(lo - 0.5, hi + 0.5) if lo == hi else (lo, hi) for lo, hi in bounds]


def _histogramdd(input, bins, range, weight, density):
    """The shared body of histogram and histogramdd, on ``input`` of shape (..., D)."""
    _check_histogram_input(input)
    dims = input._shape[-1]
    points = input.reshape(-1, dims)
    if weight is not None:
        if weight._shape != input._shape[:-1]:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same "
                               "shape as the input tensor excluding its innermost dimension, but got input "
                               f"with shape {list(input._shape)} and weight with shape {list(weight._shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight "
                               "tensor should have the same dtype, but got "
                               f"input({_scalar_name(input.dtype)}), and "
                               f"weight({_scalar_name(weight.dtype)})")
        weight = weight.reshape(-1)
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        edges = _edge_tensors(input, bins, dims)
    else:
        counts = [bins] * dims if isinstance(bins, int) else list(bins)
        if len(counts) != dims:
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of "
                               "the input.")
        for d, count in enumerate(counts):
            _check_bin_count(count, d)
        edges = [linspace(lo, hi, count + 1, dtype=input.dtype, device=input.device)
                 for (lo, hi), count in zip(_bin_ranges(points, range, dims), counts)]
    hist, *edges = _Histogram.apply(points, weight, bool(density), *edges)
    return hist, edges


def _check_int_bins(bins, name):
    if isinstance(bins, bool) or not isinstance(bins, (int, Tensor, list, tuple)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got bins of type "
                        f"{type(bins).__name__}, expected an int or a Tensor of bin edges")


@export
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """torch.histogram: the counts (or summed ``weight``) of the elements of ``input`` in
    ``bins`` equal-width bins over ``range`` (the data's range by default), or in the bins
    between the given edges (a 1-D tensor); ``density`` divides by the total and the widths."""
    _check_int_bins(bins, "histogram")
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram() received an invalid combination of arguments - got range= with a Tensor "
                        "of bin edges, which already fix the range")
    if isinstance(bins, (list, tuple)):
        raise TypeError("histogram() received an invalid combination of arguments - bins must be an int or "
                        "a Tensor")
    if weight is not None and weight.numel() == input.numel():
        weight = weight.reshape(-1)
    hist, (edges,) = _histogramdd(input.reshape(-1, 1), [bins] if isinstance(bins, Tensor) else bins,
                                  range, weight, density)
    return _into(out, HistogramResult(hist, edges))


@export(method=False)
def histogramdd(input, bins, range=None, weight=None, density=False):
    """torch.histogramdd: the counts (or summed ``weight``) of the points in the last dim of
    ``input`` in a D-dimensional grid of bins: ``bins`` an int (per dimension), D ints, or D
    1-D tensors of edges; ``range`` (lo0, hi0, lo1, hi1 ...) for the counted bins."""
    if isinstance(bins, Tensor):
        raise TypeError("histogramdd() received an invalid combination of arguments - bins must be an int, "
                        "a sequence of ints or a sequence of Tensors, not a Tensor")
    _check_int_bins(bins, "histogramdd")
    hist, edges = _histogramdd(input, bins, range, weight, density)
    return HistogramddResult(hist, tuple(edges))
