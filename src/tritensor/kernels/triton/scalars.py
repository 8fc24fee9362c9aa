"""Float64 scalars as kernel arguments. Triton passes a Python float as fp32, so a float64
value (an epsilon, a norm's order, a clip threshold) travels as its int64 bits and the kernel
reinterprets them."""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl


def float64_bits(value) -> int:
    """``value`` as the int64 holding its float64 bits (the host side of ``from_float64_bits``)."""
    return int(np.float64(value).view(np.int64))


@triton.jit
def from_float64_bits(bits):
    """The float64 whose bits ``float64_bits`` packed."""
    return tl.cast(tl.cast(bits, tl.int64), tl.float64, bitcast=True)
