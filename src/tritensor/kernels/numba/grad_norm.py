"""Multi-tensor gradient norm and scaling (CPU, Numba) for ``nn.utils.clip_grad_norm_``.

Like the optimizer kernels, a launch gets a table of data addresses instead of tensors:
``addrs[i]``/``sizes[i]`` describe contiguous gradient ``i`` and ``work`` rows
``(tensor, start, stop)`` are blocks the host deals out to its threads, so one pass
covers every gradient however many there are. ``partial_norms`` writes one partial per
block (sum of ``|g|^p`` accumulated in float64, or the max of ``|g|`` for p = inf);
``scale`` multiplies every element by one coefficient in the gradient dtype.
"""
from __future__ import annotations

import numba
import numpy as np

from .optim import _address_as_pointer

_jit = numba.njit(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract", "reassoc"})

#: ``kind`` codes for ``partial_norms``
SUM_SQUARES, SUM_ABS, MAX_ABS, SUM_POW = 0, 1, 2, 3


@_jit
def partial_norms(addrs, sizes, work, kind, p, like, out):
    for w in range(work.shape[0]):
        i = work[w, 0]
        g = numba.carray(_address_as_pointer(addrs[i], like), sizes[i])[work[w, 1]:work[w, 2]]
        acc = 0.0
        if kind == SUM_SQUARES:
            for j in range(g.shape[0]):
                v = np.float64(g[j])
                acc += v * v
        elif kind == SUM_ABS:
            for j in range(g.shape[0]):
                acc += abs(np.float64(g[j]))
        elif kind == MAX_ABS:
            for j in range(g.shape[0]):
                v = abs(np.float64(g[j]))
                if v > acc or v != v:
                    acc = v
        else:
            for j in range(g.shape[0]):
                acc += abs(np.float64(g[j])) ** p
        out[w] = acc


@_jit
def scale(addrs, sizes, work, coef, like):
    for w in range(work.shape[0]):
        i = work[w, 0]
        g = numba.carray(_address_as_pointer(addrs[i], like), sizes[i])[work[w, 1]:work[w, 2]]
        for j in range(g.shape[0]):
            g[j] = g[j] * coef
