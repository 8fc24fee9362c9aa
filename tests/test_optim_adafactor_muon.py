"""torch.optim.Adafactor and torch.optim.Muon against torch: several steps over param groups
(params equal to fp32 rel err 1e-6, float64 1e-13), the seed-style training loop, state and
state_dict (ours and torch's), options and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, TOLERANCES

#: max |ours - torch| / max |torch| per tensor
REL_TOL = {"float32": 1e-6, "float64": 1e-13}
STEPS = 5
#: Adafactor: a vector, matrices (one transposed, non-contiguous), a 3-D param, a scalar
ADAFACTOR_SHAPES = [(4,), (3, 5), (2, 3, 4), (), (5, 3)]
MUON_SHAPES = [(3, 5), (6, 4), (5, 3)]


def _device(lib):
    """tritensor runs on the harness's test device, torch (the oracle) on the CPU."""
    return DEVICE if lib is tritensor else "cpu"


def _np(t):
    return t.detach().cpu().float().numpy() if t.dtype in (torch.bfloat16, tritensor.bfloat16) \
        else t.detach().cpu().numpy()


def _params(lib, shapes, dtype, rng):
    dtype = getattr(lib, dtype)
    out = [lib.tensor(rng.standard_normal(s), dtype=dtype, device=_device(lib), requires_grad=True)
           for s in shapes[:-1]]
    last = lib.tensor(rng.standard_normal(shapes[-1][::-1]), dtype=dtype, device=_device(lib)).t()
    return out + [last.detach().requires_grad_()]


def run(lib, name, kwargs, dtype, shapes, steps=STEPS, seed=0, state_dict=None):
    """``steps`` steps of two param groups (the second with half the lr); one param gets no
    grad on the second step. ``state_dict`` (a function of lib) is loaded before stepping."""
    rng = np.random.default_rng(seed)
    params = _params(lib, shapes, dtype, rng)
    lr = kwargs.get("lr", {"Adafactor": 1e-2, "Muon": 1e-3}[name])
    opt = getattr(lib.optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}],
                                   **kwargs)
    if state_dict is not None:
        opt.load_state_dict(state_dict(lib, params))
    for k in range(steps):
        for i, p in enumerate(params):
            grad = lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype, device=_device(lib))
            p.grad = None if (k == 1 and i == 2) else grad
        opt.step()
    return opt, params


def _assert_close(ours, ref, dtype, what):
    ours, ref = _np(ours).astype(np.float64), _np(ref)
    assert ours.shape == ref.shape, what
    if dtype in REL_TOL:
        err = np.abs(ours - ref).max(initial=0.0) / max(np.abs(ref).max(initial=0.0), 1e-30)
        assert err <= REL_TOL[dtype], f"{what}: relative error {err:.3g}"
    else:
        rtol, atol = TOLERANCES[dtype]
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=what)


def _assert_same(opt_t, params_t, opt_r, params_r, dtype):
    """Same params, and the same state_dict: groups, keys, state dtypes, shapes and values."""
    for i, (a, b) in enumerate(zip(params_t, params_r)):
        _assert_close(a, b, dtype, f"param {i}")
    sd_t, sd_r = opt_t.state_dict(), opt_r.state_dict()
    assert sd_t["param_groups"] == sd_r["param_groups"]
    assert list(sd_t["state"]) == list(sd_r["state"])
    for idx, ref_state in sd_r["state"].items():
        state = sd_t["state"][idx]
        assert list(state) == list(ref_state), idx
        for key, value in ref_state.items():
            assert str(state[key].dtype) == str(value.dtype), key
            assert tuple(state[key].shape) == tuple(value.shape), key
            assert state[key].device.type == ("cpu" if key == "step" else DEVICE), key
            _assert_close(state[key], value, dtype, f"state {idx} {key}")


def _to_tritensor(value, device):
    """torch's state_dict structure with its tensors as tritensor tensors (``step`` stays on
    the CPU, as torch keeps it)."""
    if isinstance(value, torch.Tensor):
        return tritensor.tensor(_np(value), dtype=getattr(tritensor, str(value.dtype)[6:]),
                                device="cpu" if value.dim() == 0 else device)
    if isinstance(value, dict):
        return {k: _to_tritensor(v, device) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_tritensor(v, device) for v in value]
    return value


ADAFACTOR_OPTIONS = [
    {},
    {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
    {"foreach": True, "beta2_decay": -0.5, "d": 2.0, "eps": (1e-20, 1e-2)},
    {"foreach": False, "lr": torch.tensor(0.02)},
]
MUON_OPTIONS = [
    {},
    {"nesterov": False, "weight_decay": 0.0, "adjust_lr_fn": "match_rms_adamw", "lr": 0.02},
    {"momentum": 0.5, "ns_steps": 3, "adjust_lr_fn": "original", "eps": 1e-3,
     "ns_coefficients": (2.0, -1.5, 0.5), "lr": torch.tensor(0.01)},
]


def _kwargs(lib, kwargs):
    return {k: (lib.tensor(v.item()) if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}


def _compare(name, kwargs, dtype, shapes, steps=STEPS):
    opt_r, ref = run(torch, name, _kwargs(torch, kwargs), dtype, shapes, steps)
    opt_t, ours = run(tritensor, name, _kwargs(tritensor, kwargs), dtype, shapes, steps)
    _assert_same(opt_t, ours, opt_r, ref, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", ADAFACTOR_OPTIONS, ids=str)
def test_adafactor_matches_torch(kwargs, dtype):
    _compare("Adafactor", kwargs, dtype, ADAFACTOR_SHAPES)


def test_adafactor_16_bit_params():
    """bfloat16/float16 params: eps[0] defaults to their machine epsilon, the state is kept in
    their dtype; a few 16-bit ulps apart from torch at most."""
    for dtype in ("bfloat16", "float16"):
        _compare("Adafactor", {}, dtype, ADAFACTOR_SHAPES, steps=3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", MUON_OPTIONS, ids=str)
def test_muon_matches_torch(kwargs, dtype):
    _compare("Muon", kwargs, dtype, MUON_SHAPES)


def test_muon_step_is_close_to_torch_on_every_device():
    """The Muon update near torch's on every device, with torch's state layout: this checks
    the orientation, scaling, lr adjustment and decay (a mistake there is off by O(1)); the
    exact match is test_muon_matches_torch."""
    opt_r, ref = run(torch, "Muon", {"lr": 0.05}, "float32", MUON_SHAPES, steps=2)
    opt_t, ours = run(tritensor, "Muon", {"lr": 0.05}, "float32", MUON_SHAPES, steps=2)
    rng = np.random.default_rng(0)  # the initial params, as run() draws them
    initial = [rng.standard_normal(s) for s in MUON_SHAPES[:-1]]
    initial.append(rng.standard_normal(MUON_SHAPES[-1][::-1]).T)
    for i, (a, b, p0) in enumerate(zip(ours, ref, initial)):
        step_t, step_r = _np(a) - p0.astype(np.float32), _np(b) - p0.astype(np.float32)
        np.testing.assert_allclose(step_t, step_r, rtol=0, atol=0.1 * np.abs(step_r).max(), err_msg=i)
    assert list(opt_t.state_dict()["state"][0]) == ["momentum_buffer"]


def test_muon_bfloat16_params():
    """bfloat16 params (without Nesterov the iteration scales the momentum buffer itself, as
    torch's does): a few bfloat16 ulps from torch."""
    for nesterov in (True, False):
        _compare("Muon", {"nesterov": nesterov, "lr": 0.02}, "bfloat16", MUON_SHAPES[:2], steps=3)


def _loop(lib, name, kwargs, steps=4):
    """The seed-style loop: zero_grad, forward, loss.backward(), step."""
    lib.manual_seed(0)
    rng = np.random.default_rng(1)
    bias = name == "Adafactor"
    model = lib.nn.Sequential(lib.nn.Linear(4, 6, bias=bias), lib.nn.Tanh(), lib.nn.Linear(6, 3, bias=bias))
    weights = [rng.standard_normal(tuple(p.shape)) * 0.5 for p in model.parameters()]
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w, dtype=lib.float32))
    model = model.to(_device(lib))
    opt = getattr(lib.optim, name)(model.parameters(), **kwargs)
    losses = []
    for _ in range(steps):
        x = lib.tensor(rng.standard_normal((5, 4)), dtype=lib.float32, device=_device(lib))
        target = lib.tensor(rng.standard_normal((5, 3)), dtype=lib.float32, device=_device(lib))
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return list(model.parameters()), losses


@pytest.mark.parametrize("name,kwargs", [("Adafactor", {"lr": 0.05}),
                                         ("Muon", {"lr": 0.05})])
def test_training_loop_matches_torch(name, kwargs):
    ref, losses_r = _loop(torch, name, kwargs)
    ours, losses_t = _loop(tritensor, name, kwargs)
    np.testing.assert_allclose(losses_t, losses_r, rtol=1e-5)
    for i, (a, b) in enumerate(zip(ours, ref)):
        _assert_close(a, b, "float32", f"param {i}")


@pytest.mark.parametrize("name,kwargs,shapes", [("Adafactor", {"weight_decay": 0.05}, ADAFACTOR_SHAPES),
                                                ("Muon", {}, MUON_SHAPES)])
def test_state_dict_round_trips(name, kwargs, shapes):
    """Our state_dict reloaded into a fresh optimizer continues as if never interrupted, and
    torch's state_dict (converted tensor by tensor) loads into ours."""
    opt_r, _ = run(torch, name, kwargs, "float64", shapes, steps=2)
    torch_sd = opt_r.state_dict()
    opt_t, _ = run(tritensor, name, kwargs, "float64", shapes, steps=2)
    ours_sd = opt_t.state_dict()

    def loaders(source):
        return lambda lib, params: source if lib is tritensor else torch_sd
    opt_a, from_torch = run(tritensor, name, kwargs, "float64", shapes, steps=2, seed=5,
                            state_dict=loaders(_to_tritensor(torch_sd, DEVICE)))
    opt_b, from_ours = run(tritensor, name, kwargs, "float64", shapes, steps=2, seed=5,
                           state_dict=loaders(ours_sd))
    opt_c, ref = run(torch, name, kwargs, "float64", shapes, steps=2, seed=5, state_dict=loaders(None))
    _assert_same(opt_a, from_torch, opt_c, ref, "float64")
    _assert_same(opt_b, from_ours, opt_c, ref, "float64")


def test_state_layout_and_repr():
    """Adafactor's factored state: row_var (last dim 1) and col_var (second-to-last dim 1) for
    >= 2-D params, variance for vectors and scalars; reprs as torch's."""
    for lib in (torch, tritensor):
        v = lib.zeros(3, device=_device(lib), requires_grad=True)
        m = lib.zeros(2, 3, 4, device=_device(lib), requires_grad=True)
        opt = lib.optim.Adafactor([v, m])
        v.grad, m.grad = lib.ones_like(v), lib.ones_like(m)
        opt.step()
        assert list(opt.state[v]) == ["step", "variance"]
        assert list(opt.state[m]) == ["step", "row_var", "col_var"]
        assert tuple(opt.state[m]["row_var"].shape) == (2, 3, 1)
        assert tuple(opt.state[m]["col_var"].shape) == (2, 1, 4)
    for name in ("Adafactor", "Muon"):
        ref = getattr(torch.optim, name)([torch.zeros(2, 2, requires_grad=True)])
        ours = getattr(tritensor.optim, name)([tritensor.zeros(2, 2, requires_grad=True)])
        assert repr(ours) == repr(ref)
        assert ours.defaults == ref.defaults


def _raises_like_torch(name, *args, **kwargs):
    """Both libraries raise the same exception type (at construction)."""
    with pytest.raises(Exception) as ref:
        getattr(torch.optim, name)([torch.zeros(*args, requires_grad=True)], **kwargs)
    with pytest.raises(ref.type) as ours:
        getattr(tritensor.optim, name)([tritensor.zeros(*args, requires_grad=True)], **kwargs)
    return str(ours.value)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"beta2_decay": 0.1}, {"eps": (-1.0, 1e-3)},
                                    {"eps": (None, -1.0)}, {"d": 0.5}, {"weight_decay": -0.1},
                                    {"fused": True}, {"capturable": True}], ids=str)
def test_adafactor_errors(kwargs):
    message = _raises_like_torch("Adafactor", 2, 2, **kwargs)
    value = next(iter(kwargs.values()))
    assert str(value if not isinstance(value, tuple) else min(v for v in value if v is not None)) in message \
        or "unexpected keyword" in message


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"momentum": -0.5}, {"weight_decay": -0.1},
                                    {"adjust_lr_fn": "bogus"}, {"foreach": True}, {"fused": True}], ids=str)
def test_muon_errors(kwargs):
    _raises_like_torch("Muon", 2, 2, **kwargs)


def test_muon_rejects_non_matrices_and_bad_iterations():
    for shape in ((3,), (2, 2, 2)):
        message = _raises_like_torch("Muon", *shape)
        assert str(list(shape)) in message or str(shape) in message
    for kwargs in ({"ns_steps": 100}, {"ns_coefficients": (1.0, 2.0)}):
        for lib in (torch, tritensor):
            p = lib.zeros(2, 3, device=_device(lib), requires_grad=True)
            opt = lib.optim.Muon([p], **kwargs)
            p.grad = lib.ones_like(p)
            with pytest.raises(ValueError):
                opt.step()
