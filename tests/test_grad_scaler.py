"""tritensor.amp.GradScaler against torch.amp.GradScaler('cpu'): scale sequence, skipped
steps on inf/NaN, growth, explicit unscale_, errors, state_dict; autocast's disabled forms."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import tritensor

SHAPES = [(4, 3), (7,), (300, 300)]   # the last one spans several work blocks (threads)


def _train(lib, steps=10, bad_steps=(2, 3, 7), unscale_first=False, nan=False):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=lib.float32, requires_grad=True) for s in SHAPES]
    opt = lib.optim.Adam(params, lr=0.01)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
    scales = []
    for k in range(steps):
        opt.zero_grad()
        loss = sum((p * lib.tensor(rng.standard_normal(p.shape), dtype=lib.float32)).sum() for p in params)
        scaler.scale(loss).backward()
        if k in bad_steps:
            with lib.no_grad():
                params[k % 3].grad.view(-1)[-1] = float("nan") if nan else float("inf")
        if unscale_first:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return [p.detach().numpy() for p in params], scales, scaler


@pytest.mark.parametrize("unscale_first", [False, True])
@pytest.mark.parametrize("nan", [False, True])
def test_matches_torch(unscale_first, nan):
    ref, ref_scales, ref_scaler = _train(torch, unscale_first=unscale_first, nan=nan)
    ours, scales, scaler = _train(tritensor, unscale_first=unscale_first, nan=nan)
    assert scales == ref_scales
    assert scales[2] == 2.0 ** 9 and scales[3] == 2.0 ** 8   # backed off on the bad steps
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert scaler.state_dict() == ref_scaler.state_dict()


def test_unscale_is_exact_and_one_launch(monkeypatch):
    from tritensor.optim import _multi_tensor
    calls = []
    original = _multi_tensor.run_launch
    monkeypatch.setattr(_multi_tensor, "run_launch", lambda *a: (calls.append(1), original(*a)))
    g_np = np.random.default_rng(1).standard_normal((600, 600)).astype(np.float32)
    results = []
    for lib in (torch, tritensor):
        w = lib.zeros(600, 600, requires_grad=True)
        b = lib.zeros(3, requires_grad=True)
        w.grad = lib.tensor(g_np * 1024)
        b.grad = lib.tensor([1.0, 2.0, 3.0])
        opt = lib.optim.SGD([w, b], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=1024.0)
        scaler.scale(lib.ones(1))
        scaler.unscale_(opt)
        results.append((w.grad.numpy().copy(), b.grad.numpy().copy()))
    assert len(calls) == 1
    for a, r in zip(results[1], results[0]):
        np.testing.assert_array_equal(a, r)


def test_errors_like_torch():
    for lib in (torch, tritensor):
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        with pytest.raises(AssertionError):
            scaler.step(opt)          # no scale() yet
        scaler.scale((w * 2).sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            scaler.unscale_(opt)
        scaler.update()
        with pytest.raises(RuntimeError, match="Closure"):
            scaler.step(opt, closure=lambda: 0.0)
        h = lib.ones(2, dtype=lib.float16, requires_grad=True)
        h.grad = lib.ones(2, dtype=lib.float16)
        opt16 = lib.optim.SGD([h], lr=0.1)
        with pytest.raises(ValueError, match="FP16"):
            scaler.unscale_(opt16)
        with pytest.raises(AssertionError):
            lib.amp.GradScaler("cpu", growth_factor=0.5)


def test_state_dict_and_pickle():
    _, _, scaler = _train(tritensor, steps=5)
    state = scaler.state_dict()
    assert set(state) == {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}
    fresh = tritensor.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.get_scale() == scaler.get_scale()
    assert fresh._get_growth_tracker() == scaler._get_growth_tracker()
    clone = pickle.loads(pickle.dumps(scaler))
    assert clone.state_dict() == state
    scaler.update(123.0)
    with pytest.raises(AssertionError):
        scaler.update()               # no inf checks recorded since the last update


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_seed_mixed_precision_snippet_without_cuda():
    """The seed's loop: with no CUDA device both libraries warn and run it in plain fp32."""
    if tritensor.cuda.is_available():
        pytest.skip("a CUDA device is available: the scaler is enabled there")
    results = []
    for lib in (torch, tritensor):
        w = lib.ones(3, requires_grad=True)
        optimizer = lib.optim.SGD([w], lr=0.1)
        with pytest.warns(UserWarning, match="CUDA is not available"):
            scaler = lib.cuda.amp.GradScaler()
        for _ in range(3):
            optimizer.zero_grad()
            with pytest.warns(UserWarning):
                with lib.cuda.amp.autocast():
                    loss = (w * w).sum()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        assert not scaler.is_enabled() and scaler.get_scale() == 1.0
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_autocast_disabled_forms():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tritensor.autocast("cpu", enabled=False):
            pass
    with tritensor.autocast("cpu", dtype=tritensor.bfloat16):  # enabled: tests/test_autocast.py
        assert tritensor.is_autocast_enabled("cpu")
    with pytest.raises(ValueError):
        tritensor.autocast(tritensor.device("cpu"))
