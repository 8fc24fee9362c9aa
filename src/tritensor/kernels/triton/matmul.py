"""Batched matrix multiply: one tiled kernel for mm, bmm and matmul.

Each program computes a ``BLOCK_M x BLOCK_N`` tile of one batch entry, walking K in
``BLOCK_K`` steps (at least 16, the smallest legal ``tl.dot`` K for 16-bit inputs) and
accumulating in fp32 (fp64 for float64, int64 for integers). Operands are read in place
through their strides, so transposed inputs need no copy. fp32 uses IEEE-accurate
products (``input_precision='ieee'``) unless the caller asks for tf32. float64 (on a GPU)
and integer products accumulate outer products on the CUDA cores instead of ``tl.dot``.
Kernels here and beside it use only ``tl`` builtins and tritensor's own ``@triton.jit``
helpers (not ``tl.sum``/``tl.zeros``/``tl.cdiv``, which triton defines with ``@jit`` at its
own import and so only interpret if TRITON_INTERPRET was set before triton was imported).
"""
from __future__ import annotations

import triton
import triton.language as tl



@triton.jit
def bmm_kernel(out, a, b, M, N, K, sab, sam, sak, sbb, sbk, sbn, sob, som, son,
               ACC: tl.constexpr, USE_DOT: tl.constexpr, PRECISION: tl.constexpr, UPCAST: tl.constexpr,
               BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid = tl.program_id(0)
    batch = tl.program_id(1).to(tl.int64)
    grid_n = (N + BLOCK_N - 1) // BLOCK_N
    rm = (pid // grid_n) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = (pid % grid_n) * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    a_ptrs = a + batch * sab + rm[:, None] * sam + rk[None, :] * sak
    b_ptrs = b + batch * sbb + rk[:, None] * sbk + rn[None, :] * sbn
    acc = tl.full([BLOCK_M, BLOCK_N], 0, ACC)
    if USE_DOT:
        for k0 in range(0, K, BLOCK_K):
            ka = k0 + rk
            av = tl.load(a_ptrs, mask=(rm[:, None] < M) & (ka[None, :] < K), other=0)
            bv = tl.load(b_ptrs, mask=(ka[:, None] < K) & (rn[None, :] < N), other=0)
            if UPCAST:  # the interpreter's dot reads bf16 as raw bits
                av = av.to(tl.float32)
                bv = bv.to(tl.float32)
            acc = tl.dot(av, bv, acc, input_precision=PRECISION, out_dtype=ACC)
            a_ptrs += BLOCK_K * sak
            b_ptrs += BLOCK_K * sbk
    else:
        # outer products, one k at a time: float64 on GPUs, integers everywhere
        a_col = a + batch * sab + rm * sam
        b_row = b + batch * sbb + rn * sbn
        for k in range(0, K):
            av = tl.load(a_col + k * sak, mask=rm < M, other=0).to(ACC)
            bv = tl.load(b_row + k * sbk, mask=rn < N, other=0).to(ACC)
            acc += av[:, None] * bv[None, :]
    o_ptrs = out + batch * sob + rm[:, None] * som + rn[None, :] * son
    tl.store(o_ptrs, acc.to(out.dtype.element_ty), mask=(rm[:, None] < M) & (rn[None, :] < N))
