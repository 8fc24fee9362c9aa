"""The emulated device's one correction to Triton's interpreter: its bfloat16 <-> float32
casts, made exact as a GPU's (``cvt.rn.bf16.f32`` rounds to nearest even, widening is exact).

Triton's interpreter (3.6 to 3.9) converts with ``_convert_float``: narrowing float32 to
bfloat16 truncates (no rounding mode is passed), so every bfloat16 result on the emulated
device could be 1 ulp below the GPU's and the tests of bfloat16 ops had to expect failures
there; widening flushes bfloat16 subnormals to zero. The casts of a kernel (``x.to(...)``, a
value stored through a pointer of the other type, a bfloat16 constant) all go through
``InterpreterBuilder.cast_impl``; this wraps it once, for those two conversions, with the
CPU backend's exact ones (``kernels/numba/cast.py``). Nothing changes on a real GPU: the
module is installed only when the interpreter runs the kernels.
"""
from __future__ import annotations

import numpy as np

_installed = False


def install() -> None:
    """Wrap the interpreter's cast once (idempotent)."""
    global _installed
    if _installed:
        return
    import triton.language as tl
    from triton.runtime import interpreter

    from ..kernels.numba.cast import bfloat16_bits_to_float32, float32_to_bfloat16_bits

    interpreters_cast = interpreter.InterpreterBuilder.cast_impl

    def cast_impl(self, src, dst_type):
        source, target = src.dtype.scalar, dst_type.scalar
        if source == tl.float32 and target == tl.bfloat16:
            values = np.asarray(src.data)
            return interpreter.TensorHandle(float32_to_bfloat16_bits(values).reshape(values.shape), target)
        if source == tl.bfloat16 and target == tl.float32:
            bits = np.asarray(src.data)
            return interpreter.TensorHandle(bfloat16_bits_to_float32(bits).reshape(bits.shape), target)
        return interpreters_cast(self, src, dst_type)

    interpreter.InterpreterBuilder.cast_impl = cast_impl
    _installed = True
