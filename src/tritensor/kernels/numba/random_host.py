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


@numba.njit(cache=True, nogil=True)
def box_muller_16(out, u, mean, std):
    """torch's ``normal_fill_16`` on each block of 16 uniforms in ``u`` (float64 or float32,
    computed in that type): lanes j and j + 8 become radius * (cos, sin) of the angle, with
    radius = sqrt(-2 log(1 - u[j])) and angle = 2 pi u[j + 8]; ``out`` is float64."""
    one, two = u.dtype.type(1), u.dtype.type(-2)
    two_pi = u.dtype.type(2.0 * math.pi)
    m, s = u.dtype.type(mean), u.dtype.type(std)
    for b in range(0, u.shape[0], 16):
        for j in range(8):
            radius = np.sqrt(two * np.log(one - u[b + j]))
            theta = two_pi * u[b + j + 8]
            out[b + j] = radius * np.cos(theta) * s + m
            out[b + j + 8] = radius * np.sin(theta) * s + m


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def scale_uniform(out, x, span, low):
    """``out = x * span + low`` with the multiply-add fused, as GCC compiles torch's
    ``uniform_real`` (it contracts by default on FMA hardware): the float64 results agree."""
    for i in range(x.shape[0]):
        out[i] = x[i] * span + low
