"""nn benchmarks: fused cross entropy and clip_grad_norm_, tritensor vs torch (CPU).

    python -m pytest bench/test_bench_nn.py --benchmark-only \
        --benchmark-columns=median,iqr,rounds -q

* cross entropy forward + backward on a (4096, 1000) float32 batch with class-index targets
  (tritensor's fused Numba kernel vs torch's log_softmax + nll_loss); the target is >= 1.3x
  torch's speed.
* clip_grad_norm_ over 64 float32 gradients of 2^16 elements.
* conv2d forward + backward (input, weight and bias gradients): a (64, 1, 28, 28) float32
  batch through 32 3x3 filters, the first layer of a small MNIST CNN (im2col + one matmul).
Each variant runs a few times before timing, so compilation is never measured.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor

LIBS = {"tritensor": tritensor, "torch": torch}


def _cross_entropy_step(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((4096, 1000)).astype(np.float32), requires_grad=True)
    t = lib.tensor(rng.integers(0, 1000, 4096))

    def step():
        x.grad = None
        lib.nn.functional.cross_entropy(x, t).backward()
    for _ in range(3):
        step()
    return step


@pytest.mark.parametrize("impl", list(LIBS))
def test_cross_entropy_fwd_bwd(benchmark, impl):
    step = _cross_entropy_step(LIBS[impl])
    benchmark.group = "cross_entropy fwd+bwd 4096x1000 fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)


def _clip_step(lib):
    rng = np.random.default_rng(0)
    params = []
    for _ in range(64):
        p = lib.nn.Parameter(lib.zeros(1 << 16))
        p.grad = lib.tensor(rng.standard_normal(1 << 16).astype(np.float32))
        params.append(p)

    def step():
        lib.nn.utils.clip_grad_norm_(params, 1.0)
    for _ in range(3):
        step()
    return step


@pytest.mark.parametrize("impl", list(LIBS))
def test_clip_grad_norm(benchmark, impl):
    step = _clip_step(LIBS[impl])
    benchmark.group = "clip_grad_norm_ 64 x 2^16 fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)


def _conv2d_step(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal((32, 1, 3, 3)).astype(np.float32) / 3, requires_grad=True)
    b = lib.tensor(rng.standard_normal(32).astype(np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal((64, 32, 26, 26)).astype(np.float32))

    def step():
        x.grad = w.grad = b.grad = None
        lib.nn.functional.conv2d(x, w, b).backward(g)
    for _ in range(3):
        step()
    return step


@pytest.mark.parametrize("impl", list(LIBS))
def test_conv2d_fwd_bwd(benchmark, impl):
    step = _conv2d_step(LIBS[impl])
    benchmark.group = "conv2d fwd+bwd (64, 1, 28, 28) x (32, 1, 3, 3) fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
