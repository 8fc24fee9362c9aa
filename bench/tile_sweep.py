"""Time the GPU matmul kernel under several tile configurations (a GPU session's tool).

    PYTHONPATH=src python3 bench/tile_sweep.py [--n 4096] [--dtype float32] [--precision tf32] [--k-major-b]

Each configuration (BLOCK_M, BLOCK_N, BLOCK_K, warps, stages) is forced with
``kernels/triton/matmul.force_tile`` on an n x n x n product and timed with CUDA events, so
``_TILES`` in matmul.py can be set from measurements; torch's time for the same product is
the reference. A configuration that does not compile or fit prints its error. ``--k-major-b``
times ``a @ a.t()`` (B K-major, as nn.Linear's weight) instead of ``a @ a``, which for TF32
is the kernel alone, without the K-major staging copy of ``backends/cuda._k_major``.
"""
from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "src"), os.path.join(ROOT, "bench")]

CONFIGS = [(128, 128, 32, 8, 3), (128, 128, 32, 8, 4), (128, 128, 64, 8, 3), (128, 128, 32, 4, 4),
           (128, 256, 32, 8, 3), (256, 128, 32, 8, 3), (128, 64, 32, 4, 4), (64, 64, 32, 4, 4),
           (128, 128, 64, 8, 4), (128, 256, 64, 8, 3)]


def main(argv=None):
    import torch
    import tritensor
    from gpu_check import time_ms
    from tritensor.backends import cuda_replay
    from tritensor.kernels.triton import matmul as mm_k

    cuda_replay.ENABLED = False  # a replay would keep the first forced tile's launch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--precision", default="tf32", help="fp32 only: ieee, tf32 or tf32x3")
    parser.add_argument("--k-major-b", action="store_true", help="B = a.t() (K-major) instead of a")
    args = parser.parse_args(argv)
    n, flops = args.n, 2 * args.n ** 3
    a = tritensor.randn(n, n, device="cuda", dtype=getattr(tritensor, args.dtype))
    ta = torch.randn(n, n, device="cuda", dtype=getattr(torch, args.dtype))
    b, tb = (a.t(), ta.t()) if args.k_major_b else (a, ta)
    tritensor.backends.cuda.matmul.fp32_precision = args.precision
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    ms = time_ms(torch, "cuda", lambda: ta @ tb)
    print(f"torch: {ms * 1e3:.1f} us, {flops / ms / 1e9:.1f} TFLOP/s")
    for bm, bn, bk, warps, stages in CONFIGS:
        tile = mm_k.Tile("sweep", bm, bn, bk, 8, 1, warps, stages)
        try:
            with mm_k.force_tile(tile):
                ms = time_ms(tritensor, "cuda", lambda: a @ b)
            print(f"{bm}x{bn}x{bk} warps {warps} stages {stages}: {ms * 1e3:.1f} us, "
                  f"{flops / ms / 1e9:.1f} TFLOP/s")
        except Exception as exc:  # noqa: BLE001 - a config that does not fit is a result too
            print(f"{bm}x{bn}x{bk} warps {warps} stages {stages}: {type(exc).__name__}: {str(exc)[:120]}")


if __name__ == "__main__":
    main()
