"""The emulated device's one correction to Triton's interpreter: float32 -> bfloat16 casts
round to nearest even, as a GPU's ``cvt.rn.bf16.f32`` (and torch) does.

Triton's interpreter (3.6 to 3.9) narrows float32 to bfloat16 by truncation
(``InterpreterBuilder.cast_impl`` calls ``_convert_float`` without a rounding mode), so every
bfloat16 result on the emulated device could be 1 ulp below the GPU's, and the tests of
bfloat16 ops had to expect failures there. The casts of a kernel (``x.to(tl.bfloat16)``, a
float32 value stored through a bfloat16 pointer, a bfloat16 constant) all go through
``cast_impl``; this wraps it once, for that one conversion, with the CPU backend's exact
rounding (``kernels/numba/cast.py``). Nothing changes on a real GPU: the module is
installed only when the interpreter runs the kernels.
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

    from ..kernels.numba.cast import float32_to_bfloat16_bits

    truncating_cast = interpreter.InterpreterBuilder.cast_impl

    def cast_impl(self, src, dst_type):
        if src.dtype.scalar == tl.float32 and dst_type.scalar == tl.bfloat16:
            values = np.asarray(src.data)
            bits = float32_to_bfloat16_bits(values).reshape(values.shape)
            return interpreter.TensorHandle(bits, tl.bfloat16)
        return truncating_cast(self, src, dst_type)

    interpreter.InterpreterBuilder.cast_impl = cast_impl
    _installed = True
