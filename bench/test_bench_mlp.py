"""One MLP training step, tritensor vs torch (CPU): the project's main job in miniature.

    python -m pytest bench/test_bench_mlp.py --benchmark-only \
        --benchmark-columns=median,iqr,rounds -q

784-512-256-10 with ReLU, a batch of 128, CrossEntropyLoss and Adam (each library's
default implementation: tritensor's fused multi-tensor step, torch's CPU for-loop).
One step is ``zero_grad``, forward, loss, backward and ``optimizer.step()``. Both
libraries start from the same weights and see the same batch. The floor is the three
matmuls of the forward and five of the backward, ~0.31 GFLOP, at the machine's GEMM peak.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor

LIBS = {"tritensor": tritensor, "torch": torch}
SIZES = (784, 512, 256, 10)
BATCH = 128
#: random inputs and labels, cycled, so the timed steps see a stream of batches like
#: training does rather than one batch memorised down to vanishing gradients
N_BATCHES = 32


def _weights():
    rng = np.random.default_rng(0)
    return [(rng.uniform(-1, 1, (n_out, n_in)).astype(np.float32) / np.sqrt(n_in),
             rng.uniform(-1, 1, n_out).astype(np.float32) / np.sqrt(n_in))
            for n_in, n_out in zip(SIZES, SIZES[1:])]


def mlp_step(lib):
    """A training-step closure for ``lib`` (torch or tritensor), weights and batch fixed."""
    nn = lib.nn
    layers = []
    for w, b in _weights():
        linear = nn.Linear(w.shape[1], w.shape[0])
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(w))
            linear.bias.copy_(lib.tensor(b))
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)
    batches = [(lib.tensor(rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32)),
                lib.tensor(rng.integers(0, SIZES[-1], BATCH))) for _ in range(N_BATCHES)]
    order = iter(range(1 << 62))

    def step():
        x, y = batches[next(order) % N_BATCHES]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("impl", list(LIBS))
def test_mlp_train_step(benchmark, impl):
    step = mlp_step(LIBS[impl])
    for _ in range(5):  # compile / load kernels, allocate optimizer state
        step()
    benchmark.group = "MLP step 784-512-256-10, batch 128, Adam"
    benchmark.pedantic(step, rounds=50, iterations=5, warmup_rounds=2)
