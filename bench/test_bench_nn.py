"""nn benchmarks: fused cross entropy and clip_grad_norm_, tritensor vs torch (CPU).

    python -m pytest bench/test_bench_nn.py --benchmark-only \
        --benchmark-columns=median,iqr,rounds -q

* cross entropy forward + backward on a (4096, 1000) float32 batch with class-index targets
  (tritensor's fused Numba kernel vs torch's log_softmax + nll_loss); the target is >= 1.3x
  torch's speed.
* clip_grad_norm_ over 64 float32 gradients of 2^16 elements.
* conv2d forward + backward (input, weight and bias gradients): a (64, 1, 28, 28) float32
  batch through 32 3x3 filters, the first layer of a small MNIST CNN (im2col + one matmul).
* LSTM(64, 128), GRU(64, 128) and MultiheadAttention(128, 8 heads) forward + backward:
  composites of matmuls and elementwise ops (one matmul per time step, the step itself one
  fused node on the CPU; the score matrix materialised).
* Upsample(scale_factor=2, mode='bilinear') forward + backward on (16, 16, 64, 64) float32:
  one separable pass per spatial dim (one kernel each on the CPU).
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


def _module_step(lib, build, shape):
    """Forward + backward of a module on a random float32 input (the same weights in both libraries)."""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    reference = build(torch)
    model = reference if lib is torch else build(lib)
    if lib is not torch:
        model.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def step():
        x.grad = None
        model.zero_grad()
        out = model(x)
        (out[0] if isinstance(out, tuple) else out).square().sum().backward()
    for _ in range(3):
        step()
    return step


@pytest.mark.parametrize("impl", list(LIBS))
def test_lstm_fwd_bwd(benchmark, impl):
    step = _module_step(LIBS[impl], lambda lib: lib.nn.LSTM(64, 128), (32, 64, 64))
    benchmark.group = "LSTM(64, 128) fwd+bwd, 32 steps x batch 64, fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("impl", list(LIBS))
def test_gru_fwd_bwd(benchmark, impl):
    step = _module_step(LIBS[impl], lambda lib: lib.nn.GRU(64, 128), (32, 64, 64))
    benchmark.group = "GRU(64, 128) fwd+bwd, 32 steps x batch 64, fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)


class _SelfAttention:
    """``MultiheadAttention(x, x, x)`` as a one-input module (for _module_step)."""

    def __init__(self, lib):
        self.attention = lib.nn.MultiheadAttention(128, 8)

    def __call__(self, x):
        return self.attention(x, x, x, need_weights=False)[0]

    def state_dict(self):
        return self.attention.state_dict()

    def load_state_dict(self, state):
        self.attention.load_state_dict(state)

    def zero_grad(self):
        self.attention.zero_grad()


@pytest.mark.parametrize("impl", list(LIBS))
def test_multihead_attention_fwd_bwd(benchmark, impl):
    step = _module_step(LIBS[impl], _SelfAttention, (64, 16, 128))
    benchmark.group = "MultiheadAttention(128, 8 heads) fwd+bwd, 64 x batch 16, fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("impl", list(LIBS))
def test_upsample_bilinear_fwd_bwd(benchmark, impl):
    step = _module_step(LIBS[impl], lambda lib: lib.nn.Upsample(scale_factor=2, mode="bilinear"),
                        (16, 16, 64, 64))
    benchmark.group = "Upsample(x2, bilinear) fwd+bwd, (16, 16, 64, 64) fp32"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
