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

from .lstm import gate_sigmoid
from .vmath import like, tanh

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})

#: the blocks of a saved activation row, in units of H
SAVED_BLOCKS = 3


@_jit
def forward_rows(x, y, h, lo, hi, out, saved):
    """Rows ``lo:hi`` of the new state ``out`` (B, H) from ``x`` and ``y`` (B, 3H) and ``h``
    (B, H), with the activations in ``saved`` (B, 3H)."""
    n = h.shape[1]
    for row in range(lo, hi):
        xr, yr, hr, o, act = x[row], y[row], h[row], out[row], saved[row]
        one = like(1.0, hr[0])
        for j in range(n):
            r = gate_sigmoid(xr[j] + yr[j])
            z = gate_sigmoid(xr[n + j] + yr[n + j])
            new = tanh(xr[2 * n + j] + r * yr[2 * n + j])
            o[j] = (one - z) * new + z * hr[j]
            act[j] = r
            act[n + j] = z
            act[2 * n + j] = new


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
