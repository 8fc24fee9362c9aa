"""One LSTM cell step (CPU, Numba): the gate activations and state update forward, their
gradients backward, one pass over the rows each way.

For a row of gate pre-activations ``z`` (4 H values: torch's input, forget, cell and output
blocks) and the previous cell state ``c_prev``::

    i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
    c = f c_prev + i g,   h = o tanh(c)

The forward saves ``[i, f, g, o, tanh(c)]`` (5 H values a row), so the backward, given the
gradients of ``h`` and ``c``, uses only multiplies and adds::

    dc      = grad_c + grad_h o (1 - tanh(c)^2)
    dz_i    = dc g i (1 - i)          dz_f = dc c_prev f (1 - f)
    dz_g    = dc i (1 - g^2)          dz_o = grad_h tanh(c) o (1 - o)
    dc_prev = dc f

The inner loops run over a row's H columns with ``vmath``'s branch-free functions only, so
LLVM vectorises them (see vmath's docstring; torch's fused CPU LSTM is vectorised too).
Every array is C-contiguous (the host makes sure), rows are independent, so the host can
split them across threads (``nogil``); ``lo``/``hi`` bound the rows a call handles. (Like
the cross-entropy kernels, these are cached by this file only: clear its ``__pycache__``
after editing vmath.)
"""
from __future__ import annotations

import numba
import numpy as np

from .vmath import by_width, like, sigmoid, tanh

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})

#: the blocks of a saved activation row, in units of H
SAVED_BLOCKS = 5
_TANH_C = 4


@by_width(lambda x: sigmoid(x), lambda x: sigmoid(x), inline="never")
def gate_sigmoid(x):
    """vmath's sigmoid, not inlined into Numba's IR: three IR-inlined copies in one loop trip
    a Numba SSA check (a NumbaIRAssumptionWarning, as with vmath's ``exp_nonpositive``).
    LLVM inlines it anyway, so the loop still vectorises."""
    return 1.0 / (1.0 + np.exp(-x))


@_jit
def forward_rows(gates, c_prev, lo, hi, h, c, saved):
    """Rows ``lo:hi`` of ``h`` and ``c`` (B, H) from ``gates`` (B, 4H) and ``c_prev`` (B, H),
    with the activations in ``saved`` (B, 5H)."""
    n = c.shape[1]
    for r in range(lo, hi):
        z, cp, act, hr, cr = gates[r], c_prev[r], saved[r], h[r], c[r]
        for j in range(n):
            i = gate_sigmoid(z[j])
            f = gate_sigmoid(z[n + j])
            g = tanh(z[2 * n + j])
            o = gate_sigmoid(z[3 * n + j])
            cell = f * cp[j] + i * g
            tc = tanh(cell)
            cr[j] = cell
            hr[j] = o * tc
            act[j] = i
            act[n + j] = f
            act[2 * n + j] = g
            act[3 * n + j] = o
            act[_TANH_C * n + j] = tc


@_jit
def backward_rows(saved, c_prev, grad_h, grad_c, use_grad_h, use_grad_c, lo, hi, grad_gates, grad_c_prev):
    """Rows ``lo:hi`` of the gradients of the gate pre-activations (B, 4H) and of ``c_prev``.
    ``grad_h`` / ``grad_c`` count as zero unless ``use_grad_h`` / ``use_grad_c`` (an absent
    one is passed as the other, so every read stays in bounds)."""
    n = c_prev.shape[1]
    for r in range(lo, hi):
        act, cp, gh, gc, dz, dcp = saved[r], c_prev[r], grad_h[r], grad_c[r], grad_gates[r], grad_c_prev[r]
        zero = like(0.0, act[0])
        one = like(1.0, act[0])
        for j in range(n):
            i, f, g, o, tc = act[j], act[n + j], act[2 * n + j], act[3 * n + j], act[_TANH_C * n + j]
            dh = gh[j] if use_grad_h else zero
            dc = (gc[j] if use_grad_c else zero) + dh * o * (one - tc * tc)
            dz[j] = dc * g * i * (one - i)
            dz[n + j] = dc * cp[j] * f * (one - f)
            dz[2 * n + j] = dc * i * (one - g * g)
            dz[3 * n + j] = dh * tc * o * (one - o)
            dcp[j] = dc * f
