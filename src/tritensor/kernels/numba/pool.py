"""Max pooling on the CPU (Numba): each window's max and its flat input index in one pass,
and the backward's scatter of the gradient to those indices.

Planes ``x`` (P, D, H, W), C-contiguous (1-d and 2-d pools come as 3-d ones with unit dims).
Output position ``o`` of a dim covers ``o s - pad + k dil`` for ``k`` in the kernel, clipped to
the input; the search follows torch's CPU kernel exactly: it starts at the window's first
position inside the input, and a value replaces the running max when it is larger or NaN
(ties keep the first, NaNs the last). A window that dilation leaves without an input element
gets -inf and the index of where its search would have started, which may lie past the plane
(as torch's); the backward drops such picks rather than write there.

Memory pattern: the window bounds of every output position are computed once per call, then
each plane is read window by window (rows of the plane, overlapping only where windows do) and
its outputs written in order; planes are independent, so the host splits them across threads
(``lo``/``hi`` count planes, ``nogil``). The backward walks each plane's picks in output order
and adds into that plane of the zeroed input gradient: the order of torch's adds, so the same
rounding where windows overlap.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numba
import numpy as np

from .vmath import select

_jit = numba.njit(cache=True, nogil=True)


def window_bounds(count, kernel, dilation, stride, pad, size):
    """(count, 2) int64: each output position's first in-input element and how many of its
    elements (``dilation`` apart) lie in the input, as torch's kernel bounds them."""
    bounds = np.empty((count, 2), np.int64)
    for o in range(count):
        start = o * stride - pad
        end = min(start + (kernel - 1) * dilation + 1, size)
        while start < 0:
            start += dilation
        bounds[o] = start, max(0, -(-(end - start) // dilation))
    return bounds


class WindowPlan(NamedTuple):
    """A pool's geometry as 3-d tuples (1-d and 2-d pools lifted with unit dims, no padding)
    and each dim's ``window_bounds``."""

    kernel: tuple
    dilation: tuple
    stride: tuple
    pad: tuple  # low padding
    size: tuple
    out: tuple
    bounds: tuple


@functools.lru_cache(maxsize=64)
def window_plan(geo) -> WindowPlan:
    """The ``WindowPlan`` of a pool's ``geo`` (nn/_conv.Geometry), once per geometry: what
    the max pool kernels take (the 'cuda' ones too)."""
    lift = 3 - len(geo.kernel)
    kernel, dilation, stride, size, out = ((1,) * lift + tuple(v) for v in
                                           (geo.kernel, geo.dilation, geo.stride, geo.size, geo.out))
    pad = (0,) * lift + tuple(lo for lo, _ in geo.pads)
    bounds = tuple(window_bounds(*dim) for dim in zip(out, kernel, dilation, stride, pad, size))
    return WindowPlan(kernel, dilation, stride, pad, size, out, bounds)


@_jit
def max_pool_planes(x, bounds_d, bounds_h, bounds_w, dilation, lowest, lo, hi, out, indices):
    """Planes ``lo:hi`` of ``out`` and ``indices`` (P, OD, OH, OW) from ``x`` (P, D, H, W);
    ``lowest`` is -inf in x's dtype."""
    h_n, w_n = x.shape[2], x.shape[3]
    dd, dh, dw = dilation
    for p in range(lo, hi):
        plane = x[p]
        for od in range(out.shape[1]):
            d0, nd = bounds_d[od, 0], bounds_d[od, 1]
            for oh in range(out.shape[2]):
                h0, nh = bounds_h[oh, 0], bounds_h[oh, 1]
                values, picks = out[p, od, oh], indices[p, od, oh]
                for ow in range(out.shape[3]):
                    w0, nw = bounds_w[ow, 0], bounds_w[ow, 1]
                    best, pick = lowest, (d0 * h_n + h0) * w_n + w0
                    for i in range(nd):
                        z = d0 + i * dd
                        for j in range(nh):
                            row, base = plane[z, h0 + j * dh], (z * h_n + h0 + j * dh) * w_n
                            for k in range(nw):
                                value = row[w0 + k * dw]
                                take = (value > best) | (value != value)  # a select, not a branch
                                best = select(take, value, best)
                                pick = select(take, base + w0 + k * dw, pick)
                    values[ow] = best
                    picks[ow] = pick


@_jit
def max_pool_backward_planes(grad, indices, lo, hi, out):
    """Add each plane's ``grad`` (P, L) at its ``indices`` (P, L) into the zeroed ``out``
    (P, size), planes ``lo:hi``; picks past the plane are dropped."""
    size = out.shape[1]
    for p in range(lo, hi):
        g, picks, row = grad[p], indices[p], out[p]
        for j in range(g.shape[0]):
            i = picks[j]
            if i < size:
                row[i] += g[j]
