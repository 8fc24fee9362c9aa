"""torch.optim.swa_utils against torch: AveragedModel (SWA and EMA averages, buffers),
update_bn and the SWALR schedule."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, ORACLE_DEVICE, TOLERANCES, dev

rng = np.random.default_rng(0)


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3), lib.nn.ReLU(), lib.nn.Linear(3, 2))


def _pair():
    """The same small model (weights copied from torch's) in both libraries, on the test devices."""
    ref = _model(torch).to(dev(torch))
    ours = _model(tritensor)
    ours.load_state_dict({k: tritensor.tensor(v.cpu().numpy()) for k, v in ref.state_dict().items()})
    return ours.to(dev(tritensor)), ref


def _assert_state_equal(ours, ref, dtype="float32"):
    rtol, atol = TOLERANCES[dtype]
    mine, theirs = ours.state_dict(), ref.state_dict()
    assert list(mine) == list(theirs)
    for key in theirs:
        a, b = mine[key].cpu().numpy(), theirs[key].cpu().numpy()
        assert a.dtype == b.dtype, key
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=key)


def _perturb(ours, ref, step):
    """Move both models' parameters to the same new values and run a batch (so batch norm's
    buffers move too), as training steps would."""
    x = rng.standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        for (name, p), q in zip(ref.named_parameters(), ours.parameters()):
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.1 * step))
            q.data.copy_(tritensor.tensor(p.detach().cpu().numpy()))
    ref.train(), ours.train()
    ref(torch.tensor(x, device=dev(torch)))
    ours(tritensor.tensor(x, device=dev(tritensor)))


AVERAGES = {
    "swa": {},
    "swa_multi": {"multi_avg_fn": "get_swa_multi_avg_fn()"},
    "ema_multi": {"multi_avg_fn": "get_ema_multi_avg_fn(0.9)"},
    "ema": {"avg_fn": "get_ema_avg_fn(0.75)"},
    "swa_fn": {"avg_fn": "get_swa_avg_fn()"},
}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("kind", list(AVERAGES))
def test_averaged_model_matches_torch(kind, use_buffers):
    ours, ref = _pair()
    kwargs = {}
    for name, expr in AVERAGES[kind].items():
        kwargs[name] = (eval(f"torch.optim.swa_utils.{expr}"), eval(f"tritensor.optim.swa_utils.{expr}"))
    avg_ref = torch.optim.swa_utils.AveragedModel(ref, use_buffers=use_buffers,
                                                  **{k: v[0] for k, v in kwargs.items()})
    avg_ours = tritensor.optim.swa_utils.AveragedModel(ours, use_buffers=use_buffers,
                                                       **{k: v[1] for k, v in kwargs.items()})
    assert repr(avg_ours) == repr(avg_ref)
    # the multi-tensor SWA mean of an integer buffer (batch norm's count) goes through addcdiv,
    # which refuses integers; torch's default takes it on 'cuda' only (elsewhere a per-tensor mean)
    refuses = use_buffers and (kind == "swa_multi" or (kind == "swa" and DEVICE == "cuda"))
    for step in range(4):
        _perturb(ours, ref, step + 1)
        if refuses and step == 1:
            with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
                avg_ours.update_parameters(ours)
            if ORACLE_DEVICE == DEVICE:
                with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
                    avg_ref.update_parameters(ref)
            return
        avg_ref.update_parameters(ref)
        avg_ours.update_parameters(ours)
        _assert_state_equal(avg_ours, avg_ref)
    assert int(avg_ours.n_averaged) == 4 and avg_ours.n_averaged.dtype == tritensor.int64
    x = rng.standard_normal((3, 4)).astype(np.float32)
    avg_ref.eval(), avg_ours.eval()
    np.testing.assert_allclose(avg_ours(tritensor.tensor(x, device=dev(tritensor))).detach().cpu().numpy(),
                               avg_ref(torch.tensor(x, device=dev(torch))).detach().cpu().numpy(),
                               rtol=1.3e-5, atol=1e-5)


def test_averaged_model_is_a_copy_and_checks_its_arguments():
    ours, _ = _pair()
    avg = tritensor.optim.swa_utils.AveragedModel(ours, device=dev(tritensor))
    assert all(a is not b for a, b in zip(avg.parameters(), ours.parameters()))
    assert avg.n_averaged.device == ours[0].weight.device
    fn = tritensor.optim.swa_utils.get_swa_avg_fn()
    multi = tritensor.optim.swa_utils.get_swa_multi_avg_fn()
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        tritensor.optim.swa_utils.AveragedModel(ours, avg_fn=fn, multi_avg_fn=multi)
    # loads torch's state_dict layout
    ref_avg = torch.optim.swa_utils.AveragedModel(_model(torch))
    avg.load_state_dict({k: tritensor.tensor(v.numpy()) for k, v in ref_avg.state_dict().items()})
    # the averaged copy does not record gradients of the update
    avg.update_parameters(ours)
    assert all(p.grad is None for p in avg.parameters())


def _reading_dicts(lib, model):
    """``model`` behind a module whose input is a dict batch (update_bn passes a dict on
    unchanged, as torch's does)."""
    class ReadsDicts(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, batch):
            return self.inner(batch["x"])
    return ReadsDicts().train(model.training)


@pytest.mark.parametrize("batches", ["tensors", "tuples", "dicts"])
def test_update_bn_matches_torch(batches):
    ours, ref = _pair()
    data = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(3)]

    def loader(lib):
        tensors = [lib.tensor(d, device=dev(lib)) for d in data]
        if batches == "dicts":
            return [{"x": t} for t in tensors]
        return tensors if batches == "tensors" else [(t, t.sum(1)) for t in tensors]
    ref.eval(), ours.eval()
    wrap = _reading_dicts if batches == "dicts" else (lambda lib, model: model)
    torch.optim.swa_utils.update_bn(loader(torch), wrap(torch, ref))
    tritensor.optim.swa_utils.update_bn(loader(tritensor), wrap(tritensor, ours))
    _assert_state_equal(ours, ref)
    assert not ours.training and ours[1].momentum == 0.1
    # no batch norm: nothing to do, the model is left as it is
    lin = tritensor.nn.Linear(2, 2)
    lin.eval()
    tritensor.optim.swa_utils.update_bn([tritensor.ones(1, 2)], lin)
    assert not lin.training


def _swalr_sequence(lib, kwargs, steps=14, groups=1):
    params = [lib.nn.Parameter(lib.zeros(2)) for _ in range(groups)]
    opt = lib.optim.SGD([{"params": [p], "lr": 0.5 + i} for i, p in enumerate(params)], lr=0.5)
    sched = lib.optim.swa_utils.SWALR(opt, **kwargs)
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs, sched


@pytest.mark.parametrize("kwargs", [
    {"swa_lr": 0.05}, {"swa_lr": 0.05, "anneal_strategy": "linear", "anneal_epochs": 3},
    {"swa_lr": 0.1, "anneal_epochs": 0}, {"swa_lr": 0.2, "anneal_epochs": 5, "anneal_strategy": "cos"},
])
def test_swalr_sequence_matches_torch(kwargs):
    for groups in (1, 2):
        ours, _ = _swalr_sequence(tritensor, kwargs, groups=groups)
        ref, _ = _swalr_sequence(torch, kwargs, groups=groups)
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_swalr_per_group_values_state_dict_and_errors():
    ours, sched = _swalr_sequence(tritensor, {"swa_lr": [0.01, 0.02], "anneal_epochs": 4}, steps=2, groups=2)
    ref, ref_sched = _swalr_sequence(torch, {"swa_lr": [0.01, 0.02], "anneal_epochs": 4}, steps=2, groups=2)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    state = sched.state_dict()
    assert set(state) == set(ref_sched.state_dict())
    _, other = _swalr_sequence(tritensor, {"swa_lr": 0.3, "anneal_strategy": "linear"}, steps=1, groups=2)
    other.load_state_dict(state)
    assert other.anneal_func is other._cosine_anneal and other.anneal_epochs == 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.get_lr()
    assert any("get_last_lr()" in str(w.message) for w in caught)
    opt = tritensor.optim.SGD([tritensor.nn.Parameter(tritensor.zeros(1))], lr=0.1)
    for kwargs, error in [({"anneal_strategy": "exp"}, "anneal_strategy must be one of"),
                          ({"anneal_epochs": -1}, "anneal_epochs must be equal or greater than 0"),
                          ({"anneal_epochs": 2.5}, "anneal_epochs must be equal or greater than 0"),
                          ({"swa_lr": [0.1, 0.2]}, "swa_lr must have the same length")]:
        kwargs = {"swa_lr": 0.05, **kwargs}
        with pytest.raises(ValueError, match=error):
            tritensor.optim.swa_utils.SWALR(opt, **kwargs)
        with pytest.raises(ValueError):
            ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
            torch.optim.swa_utils.SWALR(ref_opt, **kwargs)
