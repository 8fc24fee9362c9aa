"""Host loops of torch's CPU samplers (``random_mt.py``): the Fisher-Yates shuffle of
``randperm`` and the Box-Muller transform of ``normal_``, compiled so that their libm calls
(log, sin, cos) are the C library's, as in torch's scalar kernels."""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fisher_yates(perm, offsets):
    """Swap element i with element i + offsets[i], for i in order: sequential by nature."""
    for i in range(offsets.shape[0]):
        j = i + offsets[i]
        perm[i], perm[j] = perm[j], perm[i]


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def uniform_from_bits(out, raw, mask, scale, span, low):
    """``out = unit * span + low``, unit = (raw & mask) * scale exactly, in float64 with the
    multiply-add fused, as GCC compiles torch's ``uniform_real`` (it contracts by default on
    FMA hardware); the store rounds to out's dtype."""
    for i in range(raw.shape[0]):
        x = np.float64(raw[i] & mask) * scale
        out[i] = x * span + low


@numba.njit(cache=True, nogil=True)
def box_muller_16(out, u, mean, std):
    """torch's ``normal_fill_16`` on each block of 16 uniforms ``u``, computed in u's type
    (float32 or float64): lanes j and j + 8 become radius * (cos, sin) of the angle, with
    radius = sqrt(-2 log(1 - u[j])) and angle = 2 pi u[j + 8], then * std + mean."""
    u_type = u.dtype.type
    one, minus_two = u_type(1), u_type(-2)
    two_pi = u_type(2.0 * math.pi)
    m, s = u_type(mean), u_type(std)
    for b in range(0, u.shape[0], 16):
        for j in range(8):
            radius = np.sqrt(minus_two * np.log(one - u[b + j]))
            theta = two_pi * u[b + j + 8]
            out[b + j] = radius * np.cos(theta) * s + m
            out[b + j + 8] = radius * np.sin(theta) * s + m


@numba.njit(cache=True, nogil=True)
def exponential_from_bits(out, raw, mask, scale, minus_inv_lambda):
    """torch's ``exponential_``: (-1 / lambda) * log1p(-u), u a 53-bit uniform, in float64
    with the C library's log1p (numpy's differs in the last bit); the store rounds."""
    for i in range(raw.shape[0]):
        out[i] = minus_inv_lambda * math.log1p(-(np.float64(raw[i] & mask) * scale))
