"""Optimizer-step benchmarks: 64 float32 tensors of 2^20 elements (256 MiB of params).

    python -m pytest bench/test_bench_optim.py --benchmark-only \
        --benchmark-columns=median,iqr,rounds -q

For Adam, AdamW and SGD with momentum, one ``optimizer.step()`` is timed for tritensor's
fused multi-tensor kernel, torch's foreach and fused CPU implementations, and a NumPy
reference (the same update in in-place NumPy ufuncs, tensor by tensor); for Adamax, NAdam
and RAdam (no fused kernel in torch, no NumPy twin here) tritensor's and torch's foreach.
Every variant steps a few times before timing, so compilation and lazy state allocation are
never measured. The memory floor: the Adam family moves 7 fp32 arrays (read p, g, m, v;
write p, m, v), SGD-momentum 5 (read p, g, buf; write p, buf).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor

N_TENSORS = 64
SIZE = 1 << 20

OPTIMIZERS = {
    "Adam": ("Adam", {"lr": 1e-3}),
    "AdamW": ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    "SGD-momentum": ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    "Adamax": ("Adamax", {"lr": 2e-3}),
    "NAdam": ("NAdam", {"lr": 2e-3}),
    "RAdam": ("RAdam", {"lr": 1e-3}),
}
IMPLS = ["tritensor-fused", "torch-foreach", "torch-fused", "numpy"]
#: the implementations each optimizer has (default: all of IMPLS)
IMPLS_OF = {label: IMPLS[:2] for label in ("Adamax", "NAdam", "RAdam")}


def _data():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(SIZE, dtype=np.float32) for _ in range(N_TENSORS)]
    grads = [rng.standard_normal(SIZE, dtype=np.float32) for _ in range(N_TENSORS)]
    return params, grads


def _library_step(lib, name, kwargs, impl_kwargs):
    params_np, grads_np = _data()
    params = [lib.tensor(p, requires_grad=True) for p in params_np]
    for p, g in zip(params, grads_np):
        p.grad = lib.tensor(g)
    opt = getattr(lib.optim, name)(params, **kwargs, **impl_kwargs)
    return opt.step


class _NumpyAdam:
    """torch's single-tensor Adam/AdamW in in-place NumPy ops."""

    def __init__(self, lr, weight_decay=0.0, decoupled=False, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.grads = _data()
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr, self.wd, self.decoupled, self.betas, self.eps = lr, weight_decay, decoupled, betas, eps
        self.t = 0
        self.tmp = np.empty(SIZE, np.float32)

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.t)
        bc2_sqrt = (1 - b2 ** self.t) ** 0.5
        tmp = self.tmp
        for p, g, m, v in zip(self.params, self.grads, self.m, self.v):
            if self.wd and self.decoupled:
                p *= np.float32(1 - self.lr * self.wd)
            elif self.wd:
                g = g + np.float32(self.wd) * p
            m += np.float32(1 - b1) * (g - m)
            v *= np.float32(b2)
            np.multiply(g, g, out=tmp)
            tmp *= np.float32(1 - b2)
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= np.float32(bc2_sqrt)
            tmp += np.float32(self.eps)
            np.divide(m, tmp, out=tmp)
            tmp *= np.float32(-step_size)
            p += tmp


class _NumpySGD:
    """SGD with momentum in in-place NumPy ops."""

    def __init__(self, lr, momentum):
        self.params, self.grads = _data()
        self.bufs = [None] * N_TENSORS
        self.lr, self.momentum = lr, momentum

    def step(self):
        for i, (p, g) in enumerate(zip(self.params, self.grads)):
            buf = self.bufs[i]
            if buf is None:
                buf = self.bufs[i] = g.copy()
            else:
                buf *= np.float32(self.momentum)
                buf += g
            p -= np.float32(self.lr) * buf


def _numpy_step(label):
    if label == "SGD-momentum":
        return _NumpySGD(1e-3, 0.9).step
    if label == "AdamW":
        return _NumpyAdam(1e-3, weight_decay=1e-2, decoupled=True).step
    return _NumpyAdam(1e-3).step


def _make_step(label, impl):
    name, kwargs = OPTIMIZERS[label]
    if impl == "tritensor-fused":
        return _library_step(tritensor, name, kwargs, {})
    if impl == "torch-foreach":
        return _library_step(torch, name, kwargs, {"foreach": True})
    if impl == "torch-fused":
        return _library_step(torch, name, kwargs, {"fused": True})
    return _numpy_step(label)


@pytest.mark.parametrize("label,impl", [(label, impl) for label in OPTIMIZERS
                                        for impl in IMPLS_OF.get(label, IMPLS)])
def test_optimizer_step(benchmark, label, impl):
    step = _make_step(label, impl)
    for _ in range(2):  # compile / load the kernels, allocate the state
        step()
    benchmark.group = f"{label} step, {N_TENSORS} x 2^20 fp32"
    benchmark.extra_info["bytes_moved"] = 4 * N_TENSORS * SIZE * (5 if label == "SGD-momentum" else 7)
    benchmark.pedantic(step, rounds=5, iterations=1, warmup_rounds=0)
