"""col2im on the CPU (Numba): the adjoint of im2col, a convolution's input gradient and ``fold``.

Columns ``cols`` (N, C, kd, kh, kw, od, oh, ow), any strides, are summed into the planes of
``out`` (N, C, D, H, W), which must be zero on entry: window position ``(od, oh, ow)`` at
kernel offset ``(kd, kh, kw)`` lands on ``(kd dil_d + od s_d - pad_d, ...)``, and positions
that land in the padding are dropped. 1-d and 2-d geometries come as 3-d ones with unit dims.

Each output element receives its contributions in kernel-offset order, one add at a time in
the storage dtype, exactly as the composed path (one strided ``add_`` per kernel offset) and
torch's CPU col2im round them. The valid window range of each offset is computed up front, so
the innermost loop over ``ow`` has no branch; with stride 1 it reads and writes contiguous
rows and vectorises. The N x C planes are independent: the host splits them across threads
(``lo``/``hi`` count planes, ``nogil``).
"""
from __future__ import annotations

import numba

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _valid_range(k, dilation, stride, pad, size, count):
    """The window positions ``o`` in [0, count) with ``0 <= k dilation + o stride - pad < size``."""
    base = k * dilation - pad
    lo = 0
    if base < 0:
        lo = (-base + stride - 1) // stride
    hi = count
    if base + (count - 1) * stride >= size:
        hi = (size - 1 - base) // stride + 1 if size - 1 >= base else 0
    return base, lo, max(lo, hi)


@_jit
def col2im_planes(cols, out, dilation, stride, pad, lo, hi):
    """Add ``cols[lo:hi]`` into the zeroed ``out[lo:hi]`` (see the module docstring)."""
    _, c_n, kd_n, kh_n, kw_n, od_n, oh_n, ow_n = cols.shape
    d_n, h_n, w_n = out.shape[2:]
    for plane in range(lo, hi):
        n, c = plane // c_n, plane % c_n
        for kd in range(kd_n):
            base_d, od_lo, od_hi = _valid_range(kd, dilation[0], stride[0], pad[0], d_n, od_n)
            for kh in range(kh_n):
                base_h, oh_lo, oh_hi = _valid_range(kh, dilation[1], stride[1], pad[1], h_n, oh_n)
                for kw in range(kw_n):
                    base_w, ow_lo, ow_hi = _valid_range(kw, dilation[2], stride[2], pad[2], w_n, ow_n)
                    for od in range(od_lo, od_hi):
                        d = base_d + od * stride[0]
                        for oh in range(oh_lo, oh_hi):
                            h = base_h + oh * stride[1]
                            src = cols[n, c, kd, kh, kw, od, oh]
                            dst = out[n, c, d, h]
                            if stride[2] == 1:  # contiguous runs: the loop LLVM vectorises
                                dst_run = dst[base_w + ow_lo:base_w + ow_hi]
                                src_run = src[ow_lo:ow_hi]
                                for i in range(ow_hi - ow_lo):
                                    dst_run[i] += src_run[i]
                            else:
                                for ow in range(ow_lo, ow_hi):
                                    dst[base_w + ow * stride[2]] += src[ow]
