"""Convergence: the same MLP trained by tritensor and by torch follows the same loss curve.

Same initial weights (tritensor's, copied into torch), same mini-batches (a fixed index
order), same optimizer and LR schedule: 200 steps of a 64-32-10 MLP on scikit-learn's
digits. This checks nn.Linear, ReLU, CrossEntropyLoss, autograd, the optimizers and the
scheduler together, in the composition a training script uses. tritensor runs on the test
device (``TRITENSOR_TEST_DEVICE``: CPU in CI, 'cuda' on a GPU machine), torch on the CPU.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import tritensor
from harness import DEVICE, dev

#: 200 steps on the CPU and on a GPU; Triton's interpreter (the emulated 'cuda' device, ~0.5 s
#: a step) runs the first 30 of the same curve.
STEPS = 30 if DEVICE != "cpu" and os.environ.get("TRITON_INTERPRET") == "1" else 200
BATCH = 32
#: Relative tolerance on each step's loss. float32 roundings differ between the two libraries
#: (summation order) and compound over 200 steps; float64 keeps them near machine precision.
RTOL = {"float32": 1e-4, "float64": 1e-10}

OPTIMIZERS = {
    "sgd": lambda lib, params: lib.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adam": lambda lib, params: lib.optim.Adam(params, lr=1e-2, weight_decay=1e-4),
    "adamw": lambda lib, params: lib.optim.AdamW(params, lr=1e-2, amsgrad=True),
}


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data / 16.0), data.target.astype(np.int64)


def batch_order(n, steps, batch, seed=0):
    """Index arrays of ``steps`` mini-batches: shuffled epochs, the last partial batch dropped."""
    rng = np.random.default_rng(seed)
    per_epoch = n // batch
    order = []
    while len(order) < steps:
        perm = rng.permutation(n)
        order += [perm[i * batch:(i + 1) * batch] for i in range(per_epoch)]
    return order[:steps]


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(64, 32), lib.nn.ReLU(), lib.nn.Linear(32, 10))


def train(lib, model, optimizer_name, x, y, order):
    """Loss of each step of training ``model`` on the batches ``order`` (x, y as numpy arrays)."""
    optimizer = OPTIMIZERS[optimizer_name](lib, model.parameters())
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
    criterion = lib.nn.CrossEntropyLoss()
    dtype = next(model.parameters()).dtype
    losses = []
    for idx in order:
        inputs = lib.tensor(x[idx], dtype=dtype, device=dev(lib))
        targets = lib.tensor(y[idx], device=dev(lib))
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer_name", list(OPTIMIZERS))
def test_loss_curve_matches_torch(digits, optimizer_name, dtype):
    x, y = digits
    order = batch_order(len(x), STEPS, BATCH)
    tritensor.manual_seed(0)
    ours = mlp(tritensor).to(dev(tritensor), getattr(tritensor, dtype))
    theirs = mlp(torch).to(getattr(torch, dtype))
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            p_theirs.copy_(torch.from_numpy(p_ours.detach().cpu().numpy().copy()))

    our_losses = train(tritensor, ours, optimizer_name, x, y, order)
    their_losses = train(torch, theirs, optimizer_name, x, y, order)

    assert their_losses[-5:].mean() < 0.6 * their_losses[:5].mean()  # it really trains
    np.testing.assert_allclose(our_losses, their_losses, rtol=RTOL[dtype], atol=0)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p_ours.detach().cpu().numpy(), p_theirs.detach().numpy(),
                                   rtol=RTOL[dtype], atol=RTOL[dtype] / 10)
