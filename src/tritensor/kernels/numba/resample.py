"""One separable pass of ``F.interpolate`` on the CPU (Numba), and its adjoint.

Along one dim, output position ``j`` reads ``taps`` input positions ``index[t, j]`` weighted by
``weight[t, j]`` (nn/_interpolate.py computes both tables on the host). The arrays are
``(outer, size, inner)`` views of contiguous tensors around that dim:

    y[o, j, :] = sum_t weight[t, j] * x[o, index[t, j], :]        (``resample_taps``)
    gx[o, index[t, j], :] += weight[t, j] * g[o, j, :]             (``resample_taps_adjoint``)

Memory pattern: every output row ``y[o, j, :]`` is written once, from ``taps`` input rows read
whole (contiguous, vectorised over ``inner``); along the last dim (inner 1) each output element
reads its taps from the same cached input row. The taps are summed in tap order (each product
rounded, then added: no fused multiply-add), the adjoint adds tap by tap in output order: the
rounding of the composed path (``index_select``, multiply, ``sum``; ``index_add``) it replaces.
Threads split the outer slices (``lo``/``hi``, ``nogil``), which never share an output row.
"""
from __future__ import annotations

import numba

_jit = numba.njit(cache=True, nogil=True)


@_jit
def resample_taps(y, x, index, weight, lo, hi):
    """y[o, j, :] = sum_t weight[t, j] * x[o, index[t, j], :] for outer slices lo:hi."""
    taps, out = index.shape
    inner = x.shape[2]
    for o in range(lo, hi):
        src, dst = x[o], y[o]
        if inner == 1:  # tap by tap over the row: loops of gathers the compiler vectorises
            row, values = src.reshape(src.shape[0]), dst.reshape(out)
            picks, weights = index[0], weight[0]
            for j in range(out):
                values[j] = weights[j] * row[picks[j]]
            for t in range(1, taps):
                picks, weights = index[t], weight[t]
                for j in range(out):
                    values[j] += weights[j] * row[picks[j]]
            continue
        for j in range(out):
            run, w = src[index[0, j]], weight[0, j]
            values = dst[j]
            for i in range(inner):
                values[i] = w * run[i]
            for t in range(1, taps):
                run, w = src[index[t, j]], weight[t, j]
                for i in range(inner):
                    values[i] += w * run[i]


@_jit
def resample_taps_adjoint(gx, g, index, weight, lo, hi):
    """gx[o, index[t, j], :] += weight[t, j] * g[o, j, :] for outer slices lo:hi of a zeroed
    ``gx``, tap by tap (all outputs' first taps, then their second ...)."""
    taps, out = index.shape
    inner = g.shape[2]
    for o in range(lo, hi):
        src, dst = g[o], gx[o]
        if inner == 1:
            row, values = src[:, 0], dst[:, 0]
            for t in range(taps):
                for j in range(out):
                    values[index[t, j]] += weight[t, j] * row[j]
            continue
        for t in range(taps):
            for j in range(out):
                run, w, values = src[j], weight[t, j], dst[index[t, j]]
                for i in range(inner):
                    values[i] += w * run[i]
