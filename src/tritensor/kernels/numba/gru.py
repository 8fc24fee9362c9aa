"""One GRU cell step (CPU, Numba): gates and new state forward, gradients backward, one pass
over the rows each way, like ``lstm.py``.

For a row of input projections ``x`` and hidden projections ``y`` (3 H values each: torch's
reset, update and new blocks; ``y`` includes ``b_hh``, which the reset gate scales) and the
previous state ``h``::

    r, z = sigmoid(x_r + y_r), sigmoid(x_z + y_z),   n = tanh(x_n + r y_n)
    h' = (1 - z) n + z h

The forward saves ``[r, z, n]``; given the gradient ``d`` of ``h'``, the backward only
multiplies::

    dn = d (1 - z) (1 - n^2)          dz = d (h - n) z (1 - z)       dr = dn y_n r (1 - r)
    grad x = [dr, dz, dn]             grad y = [dr, dz, dn r]        grad h = d z
"""
from __future__ import annotations

import numba
import numpy as np

from .lstm import sigmoid_into, tanh_into
from .vmath import like

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})

#: the blocks of a saved activation row, in units of H
SAVED_BLOCKS = 3


@_jit
def forward_rows(x, y, h, lo, hi, out, saved):
    """Rows ``lo:hi`` of the new state ``out`` (B, H) from ``x`` and ``y`` (B, 3H) and ``h``
    (B, H), with the activations in ``saved`` (B, 3H)."""
    n = h.shape[1]
    pre = np.empty(2 * n, saved.dtype)  # pre-activations: the activations read one array and write
    for row in range(lo, hi):           # another (an in-place loop fails LLVM's overlap check: scalar)
        xr, yr, hr, o, act = x[row], y[row], h[row], out[row], saved[row]
        one = like(1.0, hr[0])
        for j in range(2 * n):
            pre[j] = xr[j] + yr[j]
        sigmoid_into(pre, act[:2 * n])  # reset and update gates
        for j in range(n):
            pre[j] = xr[2 * n + j] + act[j] * yr[2 * n + j]
        tanh_into(pre[:n], act[2 * n:])  # the new gate
        for j in range(n):
            z = act[n + j]
            o[j] = (one - z) * act[2 * n + j] + z * hr[j]


@_jit
def backward_rows(saved, y, h, grad, lo, hi, grad_x, grad_y, grad_h):
    """Rows ``lo:hi`` of the gradients of ``x`` and ``y`` (B, 3H) and of ``h`` (B, H)."""
    n = h.shape[1]
    for row in range(lo, hi):
        act, yr, hr, d = saved[row], y[row], h[row], grad[row]
        gx, gy, gh = grad_x[row], grad_y[row], grad_h[row]
        one = like(1.0, hr[0])
        for j in range(n):
            r, z, new = act[j], act[n + j], act[2 * n + j]
            dn = d[j] * (one - z) * (one - new * new)
            dz = d[j] * (hr[j] - new) * z * (one - z)
            dr = dn * yr[2 * n + j] * r * (one - r)
            gx[j] = dr
            gx[n + j] = dz
            gx[2 * n + j] = dn
            gy[j] = dr
            gy[n + j] = dz
            gy[2 * n + j] = dn * r
            gh[j] = d[j] * z
