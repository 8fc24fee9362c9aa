"""CPU benchmarks: tritensor vs NumPy vs torch (CPU) on the same data, one group per op and size.

    python -m pytest bench/ --benchmark-only --benchmark-columns=median,iqr,rounds -q

Each case is written once for the torch API (run by tritensor and torch unchanged) and once
for NumPy. Inputs are float32, built from the same NumPy arrays for all three libraries.
Every function runs once before timing, so Numba compilation (or a disk-cache load) is
never measured. ``bench/report.py`` turns ``--benchmark-json`` output into the table in
docs/performance.md, with each op's floor (least bytes moved / memory bandwidth, or FLOPs /
BLAS peak).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch

import tritensor

N = 1 << 24  # 2^24 float32 = 64 MiB per operand


@dataclass(frozen=True)
class Case:
    group: str
    shapes: tuple                  # input shapes (float32, standard normal)
    torch_like: Callable           # fn(lib, *tensors), lib = torch or tritensor
    numpy: Callable                # fn(*arrays), the NumPy equivalent
    out_elements: int = 0          # elements written (for the memory-traffic floor)
    flops: int = 0                 # floating-point operations (for the compute floor)

    @property
    def bytes_moved(self) -> int:
        """Least memory traffic: read every input once, write the output once (float32)."""
        return 4 * (sum(int(np.prod(s)) for s in self.shapes) + self.out_elements)

    def __str__(self):
        return self.group


def np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


M = 4096 * 4096

CASES = [
    Case("add 2^24", ((N,), (N,)), lambda lib, a, b: a + b, lambda a, b: a + b, N),
    Case("(a*b+c).relu() 2^24", ((N,), (N,), (N,)),
         lambda lib, a, b, c: (a * b + c).relu(), lambda a, b, c: np.maximum(a * b + c, 0), N),
    Case("exp 2^24", ((N,),), lambda lib, a: a.exp(), np.exp, N),
    Case("sigmoid 2^24", ((N,),), lambda lib, a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), N),
    Case("tanh 2^24", ((N,),), lambda lib, a: a.tanh(), np.tanh, N),
    Case("sum 2^24", ((N,),), lambda lib, a: a.sum(), lambda a: a.sum()),
    Case("sum dim=0 4096x4096", ((4096, 4096),), lambda lib, a: a.sum(0), lambda a: a.sum(0)),
    Case("sum dim=1 4096x4096", ((4096, 4096),), lambda lib, a: a.sum(1), lambda a: a.sum(1)),
    Case("softmax dim=1 4096x4096", ((4096, 4096),), lambda lib, a: lib.softmax(a, dim=1), np_softmax, M),
    Case("mm 512", ((512, 512), (512, 512)), lambda lib, a, b: lib.mm(a, b), np.matmul,
         flops=2 * 512 ** 3),
    Case("mm 1024", ((1024, 1024), (1024, 1024)), lambda lib, a, b: lib.mm(a, b), np.matmul,
         flops=2 * 1024 ** 3),
    Case("cat 8 x 2^21", ((1 << 21,),) * 8,
         lambda lib, *xs: lib.cat(xs), lambda *xs: np.concatenate(xs), 8 << 21),
    Case("add 1 element", ((1,), (1,)), lambda lib, a, b: a + b, lambda a, b: a + b),
    Case("sort 2^20", ((1 << 20,),), lambda lib, a: a.sort().values, lambda a: np.sort(a, kind="stable"),
         3 << 20),
    Case("topk 5 dim=1 4096x1000", ((4096, 1000),), lambda lib, a: a.topk(5, dim=1).values,
         lambda a: -np.sort(-np.partition(a, -5, axis=1)[:, -5:], axis=1), 3 * 4096 * 5),
]

LIBRARIES = ["tritensor", "numpy", "torch"]


def inputs(case: Case, library: str):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in case.shapes]
    if library == "numpy":
        return arrays
    lib = tritensor if library == "tritensor" else torch
    return [lib.from_numpy(a) for a in arrays]


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_op(benchmark, case: Case, library: str):
    args = inputs(case, library)
    if library == "numpy":
        fn = lambda: case.numpy(*args)  # noqa: E731
    else:
        lib = tritensor if library == "tritensor" else torch
        fn = lambda: case.torch_like(lib, *args)  # noqa: E731
    expected = case.numpy(*inputs(case, "numpy"))
    got = fn()  # warm-up: compile / load kernels, and check the result while at it
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-4, atol=1e-3)
    benchmark.group = case.group
    benchmark.extra_info.update(library=library, bytes=case.bytes_moved, flops=case.flops)
    benchmark(fn)
