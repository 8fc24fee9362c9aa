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

Each activation runs as a loop of its own over a run of the row (``sigmoid_into``,
``tanh_into``) and the state update as plain multiply-add loops, so LLVM vectorises every one
(see vmath's docstring; torch's fused CPU LSTM is vectorised too).
Every array is C-contiguous (the host makes sure), rows are independent, so the host can
split them across threads (``nogil``); ``lo``/``hi`` bound the rows a call handles. (Like
the cross-entropy kernels, these are cached by this file only: clear its ``__pycache__``
after editing vmath.)
"""
from __future__ import annotations

import numba

from .vmath import like, sigmoid, tanh

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})

#: the blocks of a saved activation row, in units of H
SAVED_BLOCKS = 5
_TANH_C = 4


@_jit
def sigmoid_into(x, out):
    """out = sigmoid(x) over one run of a row (``out`` a different array: an overlap makes LLVM's
    runtime check take the scalar loop). The activations each get a loop of their own: one
    inlined vmath body per loop vectorises, where a loop calling sigmoid three times and tanh
    twice made scalar calls (Numba's SSA check refuses several IR-inlined copies in one loop,
    so the function was called, not inlined)."""
    for j in range(x.shape[0]):
        out[j] = sigmoid(x[j])


@_jit
def tanh_into(x, out):
    """out = tanh(x) over one run of a row (``out`` a different array); see ``sigmoid_into``."""
    for j in range(x.shape[0]):
        out[j] = tanh(x[j])


@_jit
def forward_rows(gates, c_prev, lo, hi, h, c, saved):
    """Rows ``lo:hi`` of ``h`` and ``c`` (B, H) from ``gates`` (B, 4H) and ``c_prev`` (B, H),
    with the activations in ``saved`` (B, 5H)."""
    n = c.shape[1]
    for r in range(lo, hi):
        z, cp, act, hr, cr = gates[r], c_prev[r], saved[r], h[r], c[r]
        sigmoid_into(z[:2 * n], act[:2 * n])  # input and forget gates
        tanh_into(z[2 * n:3 * n], act[2 * n:3 * n])  # cell candidate
        sigmoid_into(z[3 * n:4 * n], act[3 * n:4 * n])  # output gate
        for j in range(n):
            cr[j] = act[n + j] * cp[j] + act[j] * act[2 * n + j]
        tanh_into(cr, act[_TANH_C * n:])
        for j in range(n):
            hr[j] = act[3 * n + j] * act[_TANH_C * n + j]


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
