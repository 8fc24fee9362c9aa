"""``CrossMapLRN2d``: torch's legacy (Lua-torch) local response norm across channels.

It differs from ``LocalResponseNorm``, so it gets its own forward: with ``p = int((size - 1) / 2 + 1)``
channel ``c`` sums the squares of channels ``c-p+1 .. c+p-1`` (clipped to the tensor, so the window
is ``2p - 1`` wide: an even ``size`` behaves as ``size - 1``), and for ``c >= p`` also channel 0,
which torch's running-sum implementation never subtracts. Then ``x * (k + alpha/size * sum)^-beta``.
Composed from pad/slice/elementwise ops, so it runs on both devices with autograd (the grad_fn is
tritensor's ``MulBackward0`` rather than torch's Python ``CrossMapLRN2dBackward``).
"""
from __future__ import annotations

from ... import ops
from .. import functional as F
from .module import Module


def _channel_window_sums(squares, pre_pad: int):
    """Sum over channels ``c-p+1 .. c+p-1`` of ``squares`` (N, C, H, W), zero outside."""
    channels = squares.shape[1]
    reach = pre_pad - 1
    padded = F.pad(squares, (0, 0, 0, 0, reach, reach))
    total = padded[:, 0:channels]
    for offset in range(1, 2 * reach + 1):
        total = total + padded[:, offset:offset + channels]
    return total


def _first_channel_carry(squares, pre_pad: int):
    """Channel 0's square, for the channels ``c >= p`` whose running sum still holds it."""
    channels = squares.shape[1]
    if channels <= pre_pad:
        return None
    carried = ops.arange(channels, device=squares.device) >= pre_pad
    return squares[:, 0:1] * carried.reshape(1, channels, 1, 1).to(squares.dtype)


class CrossMapLRN2d(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        pre_pad = int((self.size - 1) / 2 + 1)
        squares = input * input
        sums = _channel_window_sums(squares, pre_pad)
        carry = _first_channel_carry(squares, pre_pad)
        if carry is not None:
            sums = sums + carry
        scale = sums * (self.alpha / self.size) + self.k
        return input * scale.pow(-self.beta)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
