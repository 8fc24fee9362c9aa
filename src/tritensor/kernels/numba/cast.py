"""bfloat16 <-> float32 conversion (numpy has no bfloat16; tritensor stores its bits as uint16)."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def bf16_to_f32(out, bits):
    """Widen: a bfloat16 is the top half of a float32."""
    flat_out = out.reshape(-1)
    src = bits.reshape(-1)
    for i in range(src.size):
        flat_out[i] = numba.uint32(src[i]) << 16


@numba.njit(cache=True, nogil=True)
def f32_to_bf16(out, values):
    """Narrow with round-to-nearest-even; NaN stays a quiet NaN."""
    src = values.reshape(-1)
    dst = out.reshape(-1)
    for i in range(src.size):
        b = src[i]
        if (b & 0x7FFFFFFF) > 0x7F800000:
            dst[i] = numba.uint16((b >> 16) | 0x40)
        else:
            dst[i] = numba.uint16((b + 0x7FFF + ((b >> 16) & 1)) >> 16)


def bfloat16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    out = np.empty(bits.shape, np.uint32)
    bf16_to_f32(out, np.ascontiguousarray(bits))
    return out.view(np.float32)


def float32_to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    src = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    out = np.empty(src.shape, np.uint16)
    f32_to_bf16(out, src)
    return out


@numba.njit(cache=True, nogil=True)
def float_to_int(out, values, low, high):
    """out = values truncated toward zero, as torch's x86 kernels convert: into the wide
    integer type (int32, or int64 for an int64 ``out``) where they lie in [low, high), else
    (out of range, NaN) its minimum ``low``; then the low bits into out's type. One pass,
    where numpy's version of the same rule took eight (a (1024, 1024) ``.int()`` 3.8 ms)."""
    src = values.reshape(-1)
    dst = out.reshape(-1)
    floor = np.int64(low)
    for i in range(src.size):
        v = src[i]
        fits = v >= low and v < high
        whole = np.int64(v if fits else 0)
        dst[i] = whole if fits else floor
