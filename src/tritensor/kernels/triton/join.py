"""cat/stack in one launch: every input is copied into its slice of the output.

Each input is described as a 3-D strided view (outer, its size along the cat dim, inner);
the output is contiguous. Grid axis 1 selects the input, axis 0 blocks over its elements,
so all inputs (up to ``MAX_INPUTS`` per launch, tuples of pointers) move in one launch.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .elementwise import cast_to

#: inputs per launch (the tuple arguments are unrolled at compile time)
MAX_INPUTS = 16


@triton.jit
def cat_kernel(out, srcs, s_outer, s_mid, s_inner, mids, starts, outer, inner, total_mid,
               N: tl.constexpr, INT64: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    which = tl.program_id(1)
    if INT64:
        pid = pid.to(tl.int64)
    e = pid * BLOCK + tl.arange(0, BLOCK)
    for i in tl.static_range(N):
        if which == i:
            row = mids[i] * inner
            mask = e < row * outer
            o = e // row
            rem = e % row
            j = rem // inner
            k = rem % inner
            v = tl.load(srcs[i] + o * s_outer[i] + j * s_mid[i] + k * s_inner[i], mask=mask)
            dst = out + (o * total_mid + starts[i] + j) * inner + k
            tl.store(dst, cast_to(v, out.dtype.element_ty), mask=mask)
