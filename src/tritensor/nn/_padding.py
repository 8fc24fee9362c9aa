"""``F.pad``'s reflect, replicate and circular modes: each padded dim is one ``index_select``
of the input at positions mapped into it, so the backward (an ``index_add``) sums every copy's
gradient back into its source element, on both devices."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .. import ops
from ..ops.elementwise import not_implemented_for

_KERNEL_NAMES = {"reflect": "reflection_pad", "replicate": "replication_pad"}


def _positions(size, left, right, mode):
    """For each output position along a dim, the input position it copies."""
    at = np.arange(-left, size + right)
    if mode == "replicate":
        return np.clip(at, 0, size - 1)
    if mode == "circular":  # a negative amount crops first; the rest wraps within what is left
        start, kept = max(-left, 0), size - max(-left, 0) - max(-right, 0)
        return start + np.arange(-max(left, 0), kept + max(right, 0)) % kept if kept > 0 else at[:0]
    period = 2 * (size - 1)  # reflect: mirror at both ends, the edge element not repeated
    folded = np.abs(at) % period if period else np.zeros_like(at)
    return np.where(folded < size, folded, period - folded)


def index_pad(input, pad, mode):
    """Pad the last ``len(pad) // 2`` dims of ``input`` by copying its own elements."""
    dims = len(pad) // 2
    if input.dim() not in (dims + 1, dims + 2) or dims > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode in _KERNEL_NAMES:
        if input.dtype is _dt.bool:
            raise not_implemented_for(f"{_KERNEL_NAMES[mode]}{dims}d", input.dtype)
        if 0 in tuple(input.shape[1:]) or (input.dim() == dims + 1 and input.numel() == 0):
            raise RuntimeError(
                f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size "
                f"and other non-zero dimensions for input, but got: {list(input.shape)}"
            )
    out = input
    for i in range(dims):
        d = input.dim() - 1 - i
        left, right, size = pad[2 * i], pad[2 * i + 1], input.shape[d]
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({left}, {right}) at dimension {d} of input {list(input.shape)}"
            )
        if mode == "circular" and (left > size or right > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        index = ops.tensor(_positions(size, left, right, mode), dtype=_dt.int64, device=input.device)
        out = out.index_select(d, index)
    return out
