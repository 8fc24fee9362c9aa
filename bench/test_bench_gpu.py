"""GPU benchmarks: the rows of bench/gpu_check.py's table as pytest-benchmark groups,
tritensor ('cuda') vs torch ('cuda'), on a real GPU only.

    PYTHONPATH=src python3 -m pytest bench/test_bench_gpu.py --benchmark-only \\
        --benchmark-columns=median,iqr,rounds -q

Each round is one call followed by a device synchronisation (wall clock, so it includes
the launch path); bench/gpu_check.py times the same cases with CUDA events instead. Every
case runs once before timing, so Triton compilation is never measured.
"""
from __future__ import annotations

import pytest
import torch

import tritensor
from gpu_check import _set_precision, cases
from tritensor.backends import cuda_memory

REAL_GPU = cuda_memory.gpu_count() > 0 and not cuda_memory.interpreting() and torch.cuda.is_available()
pytestmark = pytest.mark.skipif(not REAL_GPU, reason="needs a real NVIDIA GPU (with torch CUDA for the "
                                "baseline); tritensor.cuda.is_available() is also True under the interpreter")

LIBS = {"tritensor": tritensor, "torch": torch}
CASES = {case.name: case for case in cases(smoke=False)}


@pytest.mark.parametrize("library", list(LIBS))
@pytest.mark.parametrize("name", list(CASES))
def test_gpu(benchmark, name, library):
    lib, case = LIBS[library], CASES[name]
    try:
        fn = case.setup(lib, "cuda")

        def call():
            fn()
            lib.cuda.synchronize()
        call()
        benchmark.group = name
        benchmark.extra_info.update(library=library, bytes=case.bytes, flops=case.flops)
        benchmark.pedantic(call, rounds=10, iterations=1, warmup_rounds=1)
    finally:
        _set_precision(lib, "ieee")
