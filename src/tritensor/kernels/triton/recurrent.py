"""One LSTM or GRU step on 'cuda' (Triton): the GPU twins of ``kernels/numba/lstm.py`` and
``gru.py``, with the same formulas and saved activations (see there), registered as
``nn._fused.LSTM_CELL['cuda']`` / ``GRU_CELL['cuda']``.

Composed of tensor ops, an LSTM step is ~10 elementwise launches forward and ~20 backward,
each reading and writing a (batch, hidden) slice; fused it is one launch each way. Memory
pattern: a program owns ``BLOCK`` consecutive elements of the (B, H) state, flattened; element
(b, j) reads gate block k at ``b * K H + k H + j`` of the contiguous (B, K H) gate rows, so each
block's loads and stores are contiguous runs of a row. Every input element is read once and
every output written once. float32 and float64 (computed in their own width, as the CPU
kernels); 16-bit inputs take the composed path.
"""
from __future__ import annotations

import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_replay import replayable
from .elementwise import _sigmoid, _tanh
from .launch import cdiv, cuda_backend as _backend, launch

#: the blocks of a saved activation row, in units of H (the CPU kernels' layout)
LSTM_SAVED_BLOCKS = 5
GRU_SAVED_BLOCKS = 3


@triton.jit
def _elements(n, H, BLOCK: tl.constexpr):
    """This program's flat (B, H) indices as (row, column, in-range mask), int64."""
    idx = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    return idx // H, idx % H, idx < n


@triton.jit
def lstm_forward_kernel(gates, c_prev, h, c, saved, n, H, BLOCK: tl.constexpr):
    """h, c (B, H) from the gate pre-activations (B, 4H) [i, f, g, o] and c_prev; saves
    [i, f, g, o, tanh c] (B, 5H)."""
    row, col, mask = _elements(n, H, BLOCK)
    z = gates + row * 4 * H + col
    i = _sigmoid(tl.load(z, mask=mask, other=0.0))
    f = _sigmoid(tl.load(z + H, mask=mask, other=0.0))
    g = _tanh(tl.load(z + 2 * H, mask=mask, other=0.0))
    o = _sigmoid(tl.load(z + 3 * H, mask=mask, other=0.0))
    at = row * H + col
    cell = f * tl.load(c_prev + at, mask=mask, other=0.0) + i * g
    tanh_c = _tanh(cell)
    tl.store(c + at, cell, mask=mask)
    tl.store(h + at, o * tanh_c, mask=mask)
    act = saved + row * 5 * H + col
    tl.store(act, i, mask=mask)
    tl.store(act + H, f, mask=mask)
    tl.store(act + 2 * H, g, mask=mask)
    tl.store(act + 3 * H, o, mask=mask)
    tl.store(act + 4 * H, tanh_c, mask=mask)


@triton.jit
def lstm_backward_kernel(saved, c_prev, grad_h, grad_c, grad_gates, grad_c_prev, n, H,
                         USE_GRAD_H: tl.constexpr, USE_GRAD_C: tl.constexpr, BLOCK: tl.constexpr):
    """The gradients of the gate pre-activations (B, 4H) and of c_prev from those of h and c
    (an absent one counts as zero) and the saved activations: multiplies only."""
    row, col, mask = _elements(n, H, BLOCK)
    act = saved + row * 5 * H + col
    i = tl.load(act, mask=mask, other=0.0)
    f = tl.load(act + H, mask=mask, other=0.0)
    g = tl.load(act + 2 * H, mask=mask, other=0.0)
    o = tl.load(act + 3 * H, mask=mask, other=0.0)
    tanh_c = tl.load(act + 4 * H, mask=mask, other=0.0)
    at = row * H + col
    dh = tl.zeros_like(i)
    if USE_GRAD_H:
        dh = tl.load(grad_h + at, mask=mask, other=0.0)
    dc = dh * o * (1.0 - tanh_c * tanh_c)
    if USE_GRAD_C:
        dc = tl.load(grad_c + at, mask=mask, other=0.0) + dc
    dz = grad_gates + row * 4 * H + col
    tl.store(dz, dc * g * i * (1.0 - i), mask=mask)
    tl.store(dz + H, dc * tl.load(c_prev + at, mask=mask, other=0.0) * f * (1.0 - f), mask=mask)
    tl.store(dz + 2 * H, dc * i * (1.0 - g * g), mask=mask)
    tl.store(dz + 3 * H, dh * tanh_c * o * (1.0 - o), mask=mask)
    tl.store(grad_c_prev + at, dc * f, mask=mask)


@triton.jit
def gru_forward_kernel(x, y, h, out, saved, n, H, BLOCK: tl.constexpr):
    """The new state (B, H) from the input and hidden projections x, y (B, 3H) [r, z, n] and
    h; saves [r, z, n] (B, 3H)."""
    row, col, mask = _elements(n, H, BLOCK)
    xs, ys = x + row * 3 * H + col, y + row * 3 * H + col
    r = _sigmoid(tl.load(xs, mask=mask, other=0.0) + tl.load(ys, mask=mask, other=0.0))
    z = _sigmoid(tl.load(xs + H, mask=mask, other=0.0) + tl.load(ys + H, mask=mask, other=0.0))
    new = _tanh(tl.load(xs + 2 * H, mask=mask, other=0.0) + r * tl.load(ys + 2 * H, mask=mask, other=0.0))
    at = row * H + col
    tl.store(out + at, (1.0 - z) * new + z * tl.load(h + at, mask=mask, other=0.0), mask=mask)
    act = saved + row * 3 * H + col
    tl.store(act, r, mask=mask)
    tl.store(act + H, z, mask=mask)
    tl.store(act + 2 * H, new, mask=mask)


@triton.jit
def gru_backward_kernel(saved, y, h, grad, grad_x, grad_y, grad_h, n, H, BLOCK: tl.constexpr):
    """The gradients of x, y (B, 3H) and h from the new state's and the saved activations."""
    row, col, mask = _elements(n, H, BLOCK)
    act = saved + row * 3 * H + col
    r = tl.load(act, mask=mask, other=0.0)
    z = tl.load(act + H, mask=mask, other=0.0)
    new = tl.load(act + 2 * H, mask=mask, other=0.0)
    at = row * H + col
    d = tl.load(grad + at, mask=mask, other=0.0)
    dn = d * (1.0 - z) * (1.0 - new * new)
    dz = d * (tl.load(h + at, mask=mask, other=0.0) - new) * z * (1.0 - z)
    dr = dn * tl.load(y + row * 3 * H + 2 * H + col, mask=mask, other=0.0) * r * (1.0 - r)
    gx, gy = grad_x + row * 3 * H + col, grad_y + row * 3 * H + col
    tl.store(gx, dr, mask=mask)
    tl.store(gx + H, dz, mask=mask)
    tl.store(gx + 2 * H, dn, mask=mask)
    tl.store(gy, dr, mask=mask)
    tl.store(gy + H, dz, mask=mask)
    tl.store(gy + 2 * H, dn * r, mask=mask)
    tl.store(grad_h + at, d * z, mask=mask)


def _launch_flat(kernel, state, *tensors, flags=()):
    """Launch ``kernel`` over the (B, H) ``state``'s elements with the tensors' pointers."""
    be = _backend()
    n, hidden = state.numel(), state._shape[1]
    block = be._block(n, 1024)
    launch(kernel, (max(1, cdiv(n, block)),), *(be.pointer(t) for t in tensors), n, hidden, *flags, block)


@replayable
def _lstm_forward_into(gates, c_prev, h, c, saved):
    _launch_flat(lstm_forward_kernel, c_prev, gates, c_prev, h, c, saved)


@replayable
def _lstm_backward_into(saved, c_prev, grad_h, grad_c, grad_gates, grad_c_prev, use_h, use_c):
    _launch_flat(lstm_backward_kernel, c_prev, saved, c_prev, grad_h, grad_c, grad_gates, grad_c_prev,
                 flags=(use_h, use_c))


@replayable
def _gru_forward_into(x, y, h, out, saved):
    _launch_flat(gru_forward_kernel, h, x, y, h, out, saved)


@replayable
def _gru_backward_into(saved, y, h, grad, grad_x, grad_y, grad_h):
    _launch_flat(gru_backward_kernel, h, saved, y, h, grad, grad_x, grad_y, grad_h)


class _Cell:
    dtypes = (dt.float32, dt.float64)

    @staticmethod
    def _empty(shape, like):
        return _backend().empty(shape, like.dtype, like._storage.device)


class LstmCell(_Cell):
    """``nn._fused.LSTM_CELL['cuda']`` (interface in ``nn/_fused.py``)."""

    def forward(self, gates, c_prev):
        rows, hidden = c_prev._shape
        h, c = self._empty(c_prev._shape, c_prev), self._empty(c_prev._shape, c_prev)
        saved = self._empty((rows, LSTM_SAVED_BLOCKS * hidden), c_prev)
        if c_prev.numel():
            _lstm_forward_into(gates.contiguous(), c_prev.contiguous(), h, c, saved)
        return h, c, saved

    def backward(self, activations, c_prev, grad_h, grad_c):
        rows, hidden = c_prev._shape
        grad_gates = self._empty((rows, 4 * hidden), c_prev)
        grad_c_prev = self._empty(c_prev._shape, c_prev)
        if c_prev.numel():
            gh = (grad_h if grad_h is not None else grad_c).contiguous()  # an absent one: never read
            gc = (grad_c if grad_c is not None else grad_h).contiguous()
            _lstm_backward_into(activations, c_prev.contiguous(), gh, gc, grad_gates, grad_c_prev,
                                grad_h is not None, grad_c is not None)
        return grad_gates, grad_c_prev


class GruCell(_Cell):
    """``nn._fused.GRU_CELL['cuda']`` (interface in ``nn/_fused.py``)."""

    def forward(self, x, y, h):
        rows, hidden = h._shape
        out = self._empty(h._shape, h)
        saved = self._empty((rows, GRU_SAVED_BLOCKS * hidden), h)
        if h.numel():
            _gru_forward_into(x.contiguous(), y.contiguous(), h.contiguous(), out, saved)
        return out, saved

    def backward(self, activations, y, h, grad):
        grad_x, grad_y = self._empty(y._shape, h), self._empty(y._shape, h)
        grad_h = self._empty(h._shape, h)
        if h.numel():
            _gru_backward_into(activations, y.contiguous(), h.contiguous(), grad.contiguous(), grad_x, grad_y,
                               grad_h)
        return grad_x, grad_y, grad_h
