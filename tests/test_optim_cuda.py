"""The fused multi-tensor optimizer step and GradScaler's fused unscale on the test device.

Runs on ``harness.DEVICE``: on 'cuda' (``TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda``)
it exercises the Triton kernels of ``tritensor.kernels.triton.optim``, on 'cpu' the Numba
ones. Each case trains a few steps with the fused default and with the ``foreach=False``
tensor-op reference on the same device; the two must agree bit for bit (params and every
state tensor: the fused kernels round exactly where the reference ops do, and the
interpreter, like the CPU, never contracts ``a * b + c`` into an FMA), and both must match
torch's CPU optimizer within the fp32/fp64 bound of tests/test_optim.py. (On a real GPU the
reference's one-op kernels may contract ``a * b + c`` into FMAs while the fused kernel is
compiled without contraction, so there the two are compared within that bound instead.)
The params mix
sizes (0-d, one element, empty, a length that is no multiple of any block) with a
transposed (non-contiguous) one, and lr changes between steps.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE
from tritensor.optim import _multi_tensor

SHAPES = [(37,), (), (1,), (0, 3), (4, 5)]  # the last one is passed transposed
STEPS = 4
REL_TOL = {"float32": 1e-6, "float64": 1e-13}
#: fused == reference bit for bit: on the CPU and the emulated device (neither contracts FMAs)
EXACT = DEVICE == "cpu" or os.environ.get("TRITON_INTERPRET") == "1"

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.8), "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01, "eps": 1e-3, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "betas": (0.3, 0.8), "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "weight_decay": 0.1,
                 "maximize": True}),
    ("Adadelta", {"lr": 0.5}),
    ("Adadelta", {"lr": 0.5, "rho": 0.3, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01, "eps": 1e-3}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.8), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.01, "eps": 1e-3}),
    ("NAdam", {"lr": 0.01, "betas": (0.3, 0.8), "weight_decay": 0.1, "momentum_decay": 0.5,
               "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "eps": 1e-3}),
    ("RAdam", {"lr": 0.01, "betas": (0.3, 0.8), "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("ASGD", {"lr": 0.1}),
    # t0=2: averaging (mu != 1) from step 4 on, both of ax's branches run
    ("ASGD", {"lr": 0.1, "lambd": 0.05, "alpha": 0.5, "t0": 2, "weight_decay": 0.1, "maximize": True}),
    ("Rprop", {"lr": 0.05}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.08), "maximize": True}),
]
#: RAdam rectifies its step once rho_t > 5 (from step 6, or 7 with beta2=0.8): it runs long
#: enough to take both branches
STEPS_OF = {"RAdam": 8, "ASGD": 5}
IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]


def _device(lib):
    return DEVICE if lib is tritensor else "cpu"


def _data(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES], [[rng.standard_normal(s) for s in SHAPES]
                                                      for _ in range(steps)]


def _params(lib, arrays, dtype):
    d, dev = getattr(lib, dtype), _device(lib)
    out = [lib.tensor(a, dtype=d, device=dev, requires_grad=True) for a in arrays[:-1]]
    last = lib.tensor(arrays[-1].T.copy(), dtype=d, device=dev).t().detach().requires_grad_()
    return out + [last]


def train(lib, name, kwargs, dtype, impl=None, steps=STEPS, data=None):
    """``steps`` steps over two param groups, lr scaled down after step 2; (opt, params).
    ``data``: (params, grads per step) arrays to start from instead of ``_data()``'s."""
    params_np, grads_np = data or _data(steps=steps)
    params = _params(lib, params_np, dtype)
    opt = _optimizer(lib, name, kwargs, params, impl)
    _steps(lib, opt, params, grads_np, range(steps), dtype)
    return opt, params


def _optimizer(lib, name, kwargs, params, impl=None):
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] * 0.5}]
    return getattr(lib.optim, name)(groups, **kwargs, **(impl or {}))


def _steps(lib, opt, params, grads_np, ks, dtype):
    """Steps ``ks`` of ``train``'s run (lr scaled down before step 2)."""
    for k in ks:
        if k == 2:
            for group in opt.param_groups:
                group["lr"] *= 0.3
        for p, g in zip(params, grads_np[k]):
            p.grad = lib.tensor(g, dtype=getattr(lib, dtype), device=_device(lib))
        opt.step()


def _np(t):
    t = t.detach()
    return t.numpy() if isinstance(t, torch.Tensor) else t.cpu().numpy()


def _assert_close(ours, ref, dtype, what):
    ours, ref = _np(ours), _np(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype, what
    scale = max(np.abs(ref).max(initial=0.0), 1e-30)
    err = np.abs(ours.astype(np.float64) - ref).max(initial=0.0) / scale
    assert err <= REL_TOL[dtype], f"{what}: relative error {err:.3g}"


def _assert_same_run(a, b, dtype="float32"):
    """Two (opt, params) runs hold the same params and state tensors (bit for bit if EXACT)."""
    (opt_a, params_a), (opt_b, params_b) = a, b
    for i, (p, q) in enumerate(zip(params_a, params_b)):
        pairs = [(p, q, f"param {i}")]
        state_a, state_b = opt_a.state[p], opt_b.state[q]
        assert sorted(state_a) == sorted(state_b)
        pairs += [(state_a[key], value, f"param {i} {key}") for key, value in state_b.items()]
        for x, y, what in pairs:
            if EXACT:
                np.testing.assert_array_equal(_np(x), _np(y), err_msg=what)
            else:
                _assert_close(x, y, dtype, what)


class LaunchCounter:
    """Counts the fused optimizer launches of the device under test (and their arguments)."""

    def __init__(self, monkeypatch):
        self.calls = []
        if DEVICE == "cuda":
            from tritensor.kernels.triton import optim as module
            name = "launch"
        else:
            module, name = _multi_tensor, "run_launch"
        original = getattr(module, name)

        def counted(*args, **kwargs):
            self.calls.append(args)
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, counted)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_fused_equals_reference_and_torch(name, kwargs, dtype, monkeypatch):
    steps = STEPS_OF.get(name, STEPS)
    reference = train(tritensor, name, kwargs, dtype, impl={"foreach": False}, steps=steps)
    counter = LaunchCounter(monkeypatch)
    fused = train(tritensor, name, kwargs, dtype, steps=steps)
    assert len(counter.calls) == 2 * steps  # one launch per param group per step
    _assert_same_run(fused, reference, dtype)
    _, expected = train(torch, name, kwargs, dtype, steps=steps)
    for i, (ours, ref) in enumerate(zip(fused[1], expected)):
        _assert_close(ours, ref, dtype, f"param {i}")


#: a 16-bit dtype's machine epsilon (the spacing of its values near 1) and its smallest
#: subnormal (the spacing of its values near 0: float16's normal range ends at 6e-5)
EPS_16 = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}
TINY_16 = {"float16": 2.0 ** -24, "bfloat16": 2.0 ** -133}
#: torch's fused kernels that compute 16-bit params as ours do (torch 2.13's CPU build: its fused
#: SGD with momentum on 16+ elements drifts from the float32 run by ~0.1, and its fused Adam on
#: a transposed float16 param by ~1%, where its single-tensor path and ours stay within 4e-4)
TORCH_FUSED = {"Adam", "AdamW", "Adagrad"}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_16_bit_params_take_one_launch_computed_in_float32(name, kwargs, dtype, monkeypatch):
    """16-bit params and state take the fused launch too, computed in float32 and rounded once
    per stored value (torch's fused opmath). Against torch's float32 run from the same rounded
    start and gradients, each of the steps may add at most one rounding (half an epsilon) of
    each stored value, and the state's roundings perturb the update by a few epsilons of its
    size: within STEPS epsilons of the largest value. Where torch's fused kernel computes the
    same way, it agrees within an epsilon (roundings of float32 intermediates may differ).
    Values in float16's subnormal range (Adadelta's tiny accumulators) are rounded to a fixed
    spacing (TINY_16) instead of a relative one."""
    steps = STEPS_OF.get(name, STEPS)
    params_np, grads_np = _data(steps=steps)
    rounded = [torch.tensor(a).to(getattr(torch, dtype)).double().numpy() for a in params_np]
    rounded_grads = [[torch.tensor(g).to(getattr(torch, dtype)).double().numpy() for g in step]
                     for step in grads_np]
    counter = LaunchCounter(monkeypatch)
    opt, params = train(tritensor, name, kwargs, dtype, steps=steps)
    assert len(counter.calls) == 2 * steps  # one launch per param group per step
    ref_opt, ref_params = train(torch, name, kwargs, "float32", data=(rounded, rounded_grads), steps=steps)
    for i, (p, q) in enumerate(zip(params, ref_params)):
        assert p.dtype is getattr(tritensor, dtype)
        pairs = [(p, q, f"param {i}")] + [(opt.state[p][key], value, f"param {i} {key}")
                                          for key, value in ref_opt.state[q].items() if key != "step"]
        for ours, ref, what in pairs:
            ours, ref = _np(ours.float()), _np(ref)
            err, scale = np.abs(ours - ref).max(initial=0.0), np.abs(ref).max(initial=0.0)
            assert err <= steps * (EPS_16[dtype] * scale + TINY_16[dtype]), \
                f"{what}: error {err:.3g} for values up to {scale:.3g}"
    if name in TORCH_FUSED:
        _, fused = train(torch, name, {**kwargs, "fused": True}, dtype)
        bound = EPS_16[dtype]
        for i, (p, q) in enumerate(zip(params[:-1], fused[:-1])):  # not the transposed one (above)
            ours, ref = _np(p.float()), _np(q.float())
            err = np.abs(ours - ref).max(initial=0.0) / max(np.abs(ref).max(initial=0.0), 1e-30)
            assert err <= bound, f"param {i} against torch's fused step: relative error {err:.3g}"


MANY_BLOCKS = [1, 4, 8, 11, 13, 15, 17, 19, 22, 24]


@pytest.mark.parametrize("name,kwargs", [CONFIGS[i] for i in MANY_BLOCKS], ids=[IDS[i] for i in MANY_BLOCKS])
def test_many_blocks_per_tensor(name, kwargs, monkeypatch):
    """Small work chunks (several per tensor) and a loop of several slices per program."""
    steps = STEPS_OF.get(name, STEPS)
    reference = train(tritensor, name, kwargs, "float32", impl={"foreach": False}, steps=steps)
    counter = LaunchCounter(monkeypatch)
    if DEVICE == "cuda":
        from tritensor.kernels.triton import optim as module
        monkeypatch.setattr(module, "chunk", lambda: 16)
        monkeypatch.setattr(module, "_block", lambda work: 4)
    else:
        monkeypatch.setattr(_multi_tensor, "BLOCK", 16)
    fused = train(tritensor, name, kwargs, "float32", steps=steps)
    assert len(counter.calls) == 2 * steps
    _assert_same_run(fused, reference)


@pytest.mark.parametrize("name", ["Adam", "Adamax", "NAdam", "RAdam", "ASGD"])
def test_lr_change_keeps_the_compiled_kernel(name, monkeypatch):
    """lr (and the step count) reach the kernel as data: nothing compiled changes with them
    (nor with RAdam's switch to the rectified step, a per-tensor runtime value)."""
    counter = LaunchCounter(monkeypatch)
    steps = STEPS_OF.get(name, STEPS)
    train(tritensor, name, {"lr": 0.01, "weight_decay": 0.1}, "float32", steps=steps)
    assert len(counter.calls) == 2 * steps
    if DEVICE == "cuda":
        # the constexprs (the update function, four switches, DTYPE, ALIGNED, BLOCK) select the
        # compiled kernel: the same on every step of a group (calls alternate between the groups)
        for group in (0, 1):
            assert len({args[-8:] for args in counter.calls[group::2]}) == 1
    else:
        kernel = counter.calls[0][0]
        before = len(kernel.signatures)
        train(tritensor, name, {"lr": 0.5, "weight_decay": 0.1}, "float32", steps=steps)
        assert len(kernel.signatures) == before


def test_reference_switches_take_no_fused_launch(monkeypatch):
    counter = LaunchCounter(monkeypatch)
    train(tritensor, "Adam", {"lr": 0.01}, "float32", impl={"foreach": False})
    train(tritensor, "SGD", {"lr": 0.01}, "float32", impl={"fused": False})
    assert counter.calls == []


def test_step_on_device_after_fused_checkpoint():
    """``fused=True`` checkpoints put ``step`` on the param's device; training goes on."""
    kwargs = {"lr": 0.01, "fused": True}
    opt_full, full = train(tritensor, "Adam", kwargs, "float32", steps=STEPS)
    opt_a, params_a = train(tritensor, "Adam", kwargs, "float32", steps=2)
    params_b = _params(tritensor, [_np(p) for p in params_a], "float32")
    opt_b = tritensor.optim.Adam([{"params": params_b[:2]}, {"params": params_b[2:], "lr": 0.005}],
                                 **kwargs)
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.state[params_b[0]]["step"].device.type == DEVICE
    _, grads_np = _data()
    for k in range(2, STEPS):
        if k == 2:
            for group in opt_b.param_groups:
                group["lr"] *= 0.3
        for p, g in zip(params_b, grads_np[k]):
            p.grad = tritensor.tensor(g, dtype=tritensor.float32, device=DEVICE)
        opt_b.step()
    for p, q in zip(params_b, full):
        np.testing.assert_array_equal(_np(p), _np(q))
    assert float(opt_b.state[params_b[0]]["step"]) == STEPS


#: group 1's own hyper-parameters and switches (group 0 takes the defaults)
PER_GROUP = {
    "Adamax": {"betas": (0.5, 0.9), "eps": 1e-2, "weight_decay": 0.2, "maximize": True},
    "NAdam": {"betas": (0.5, 0.9), "eps": 1e-2, "weight_decay": 0.2, "momentum_decay": 0.3,
              "decoupled_weight_decay": True, "maximize": True},
    "RAdam": {"betas": (0.5, 0.9), "eps": 1e-2, "weight_decay": 0.2, "decoupled_weight_decay": True,
              "maximize": True},
}


@pytest.mark.parametrize("name", list(PER_GROUP))
def test_per_group_hyper_parameters(name, monkeypatch):
    """Each group steps with its own hyper-parameters and switches (its own launch), like torch."""
    steps = STEPS_OF.get(name, STEPS)
    params_np, grads_np = _data(steps=steps)
    counter = LaunchCounter(monkeypatch)
    results = []
    for lib in (tritensor, torch):
        params = _params(lib, params_np, "float32")
        opt = getattr(lib.optim, name)([{"params": params[:2]},
                                        {"params": params[2:], "lr": 0.02, **PER_GROUP[name]}], lr=0.01)
        _steps(lib, opt, params, grads_np, range(steps), "float32")
        results.append(params)
    assert len(counter.calls) == 2 * steps
    for i, (ours, ref) in enumerate(zip(*results)):
        _assert_close(ours, ref, "float32", f"param {i}")


def _to_tritensor(value):
    """A torch state_dict's structure with tritensor (CPU) tensors, as a converted checkpoint."""
    if isinstance(value, torch.Tensor):
        return tritensor.tensor(value.numpy(), dtype=getattr(tritensor, str(value.dtype).split(".")[1]))
    if isinstance(value, dict):
        return {k: _to_tritensor(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name,kwargs", [c for c in CONFIGS if c[0] in ("Adamax", "NAdam", "RAdam")
                                         and len(c[1]) > 2],
                         ids=[i for c, i in zip(CONFIGS, IDS) if c[0] in ("Adamax", "NAdam", "RAdam")
                              and len(c[1]) > 2])
def test_state_dict_round_trip_and_torch_checkpoint(name, kwargs):
    """Saved after 2 steps (ours, or torch's checkpoint) and loaded into a fresh optimizer on the
    test device, the run goes on as if never interrupted. The loaded state is placed as torch's
    load_state_dict places it: ``step`` stays a CPU tensor, the rest (NAdam's 0-d ``mu_product``
    too) moves to the param's device and dtype."""
    steps = STEPS_OF.get(name, STEPS)
    grads_np = _data(steps=steps)[1]
    _, full = train(tritensor, name, kwargs, "float32", steps=steps)
    opt_a, params_a = train(tritensor, name, kwargs, "float32", steps=2)
    opt_r, params_r = train(torch, name, kwargs, "float32", steps=2)
    sources = {"tritensor": (opt_a.state_dict(), [_np(p) for p in params_a]),
               "torch": (_to_tritensor(opt_r.state_dict()), [_np(p).copy() for p in params_r])}
    _steps(torch, opt_r, params_r, grads_np, range(2, steps), "float32")
    for source, (saved, start) in sources.items():
        params = _params(tritensor, start, "float32")
        opt = _optimizer(tritensor, name, kwargs, params)
        opt.load_state_dict(saved)
        for p, q in zip(params, params_r):
            state = opt.state[p]
            assert list(state) == list(opt_r.state[q]), source  # torch's keys, in torch's order
            assert state["step"].device.type == "cpu" and float(state["step"]) == 2
            for key, value in state.items():
                if key != "step":
                    assert value.device.type == DEVICE and value.dtype is tritensor.float32, (source, key)
        _steps(tritensor, opt, params, grads_np, range(2, steps), "float32")
        for i, (p, q, r) in enumerate(zip(params, full, params_r)):
            if source == "tritensor" and EXACT:
                np.testing.assert_array_equal(_np(p), _np(q), err_msg=f"param {i}")
            _assert_close(p, r, "float32", f"{source} checkpoint: param {i}")


# ---------------------------------------------------------------- GradScaler
def _scaler_run(lib, grads_per_step, dtype="float32", init_scale=2.0 ** 10):
    """SGD under a GradScaler whose grads are set directly (already scaled)."""
    dev = _device(lib)
    params = _params(lib, _data()[0], dtype)
    opt = lib.optim.SGD(params, lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler(dev, init_scale=init_scale, growth_interval=2)
    scaler.scale(lib.ones((), device=dev))  # creates the scale on the device
    scales = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g, dtype=getattr(lib, dtype), device=dev)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return params, scales


def test_grad_scaler_skips_inf_steps_like_torch():
    _, grads = _data()
    scaled = [[g * 2.0 ** 10 for g in step] for step in grads]
    scaled[1][0] = scaled[1][0].copy()
    scaled[1][0][5] = np.inf           # step 1 is skipped, the scale halves
    scaled[2][4] = scaled[2][4].copy()
    scaled[2][4][1, 2] = np.nan         # in the transposed param: skipped too
    ours, our_scales = _scaler_run(tritensor, scaled)
    ref, ref_scales = _scaler_run(torch, scaled)
    assert our_scales == ref_scales == [2.0 ** 10, 2.0 ** 9, 2.0 ** 8, 2.0 ** 8]
    for i, (a, b) in enumerate(zip(ours, ref)):
        _assert_close(a, b, "float32", f"param {i}")


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_unscale_is_one_launch_and_exact(dtype, monkeypatch):
    """unscale_ divides every grad by the scale (as torch rounds it) and flags inf/NaN."""
    _, grads = _data()
    values = [g * 3.0 for g in grads[0]]
    values[2] = np.array([np.inf])
    params = _params(tritensor, _data()[0], dtype)
    for p, g in zip(params, values):
        p.grad = tritensor.tensor(g, dtype=getattr(tritensor, dtype), device=DEVICE)
    opt = tritensor.optim.SGD(params, lr=0.1)
    scaler = tritensor.amp.GradScaler(DEVICE, init_scale=3.0)
    scaler.scale(tritensor.ones((), device=DEVICE))
    calls = []
    if DEVICE == "cuda":
        from tritensor.kernels.triton import optim as module
        original = module.launch
        monkeypatch.setattr(module, "launch", lambda *a, **k: (calls.append(a), original(*a, **k)))
    scaler.unscale_(opt)
    if DEVICE == "cuda":
        assert len(calls) == 1
    found = scaler._per_optimizer_states[id(opt)]["found_inf_per_device"]
    assert [float(v) for v in found.values()] == [1.0]
    for p, g in zip(params, values):
        # torch multiplies by the float32 reciprocal of the scale
        expected = torch.tensor(g, dtype=getattr(torch, dtype)) * float(np.float32(1 / 3.0))
        np.testing.assert_array_equal(p.grad.float().cpu().numpy(), expected.float().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("bad", [None, np.inf, -np.inf, np.nan])
def test_unscale_flags_exactly_the_non_finite(dtype, bad, monkeypatch):
    """found_inf is 1 iff some grad holds inf/NaN; a power-of-two scale divides exactly.
    (On 'cuda' with 4-wide slices, so full unmasked slices and masked tails both run.)"""
    if DEVICE == "cuda":
        from tritensor.kernels.triton import optim as module
        monkeypatch.setattr(module, "_block", lambda work: 4)
    params = _params(tritensor, _data()[0], dtype)
    for i, p in enumerate(params):
        g = np.full(p.shape, 3.0)
        if bad is not None and i == len(params) - 1:
            g[3, 1] = bad  # in the transposed grad
        p.grad = tritensor.tensor(g, dtype=getattr(tritensor, dtype), device=DEVICE)
    opt = tritensor.optim.Adam(params)
    scaler = tritensor.amp.GradScaler(DEVICE, init_scale=4.0)
    scaler.scale(tritensor.ones((), device=DEVICE))
    scaler.unscale_(opt)
    found = scaler._per_optimizer_states[id(opt)]["found_inf_per_device"]
    assert [float(v) for v in found.values()] == [0.0 if bad is None else 1.0]
    for p in params[:-1]:
        np.testing.assert_array_equal(p.grad.float().cpu().numpy(), np.full(p.shape, 0.75, np.float32))


# ---------------------------------------------------------------- GPU code generation
def _compile_for_sm90(kernel, signature, constexprs, num_warps=4):
    """PTX of ``kernel`` compiled for an H100 (sm_90) by triton's bundled ptxas; no GPU needed."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    source = ASTSource(kernel, {**signature, **{k: "constexpr" for k in constexprs}}, constexprs)
    from tritensor.kernels.triton.launch import COMPILE_OPTIONS
    compiled = triton.compile(source, target=GPUTarget("cuda", 90, 32),
                              options={**COMPILE_OPTIONS, "num_warps": num_warps})
    return compiled.asm["ptx"]


def _step_ptx(**constexprs):
    """PTX of the fused step kernel as a GPU launch compiles it: Adam with every switch on, fp32,
    aligned tables, unless ``constexprs`` say otherwise."""
    import triton.language as tl
    from tritensor.kernels.triton import optim as kernels
    step = {"work": "*i64", "addrs": "*i64", "hp": "*fp32", "pt": "*fp32", "n_tensors": "i32", "kp": "i32"}
    constexprs = {"UPDATE": kernels.adam_update, "F0": True, "F1": True, "F2": False, "F3": True,
                  "DTYPE": tl.float32, "ALIGNED": True, "BLOCK": kernels.GPU_BLOCK, **constexprs}
    return _compile_for_sm90(kernels.step_kernel, step, constexprs, kernels.GPU_WARPS)


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1",
                    reason="compiles the real Triton kernels: @triton.jit gives interpreted functions here")
def test_kernels_compile_for_a_gpu_without_fma():
    """No a * b + c contraction (the GPU rounds like the interpreter), IEEE division and square
    root, and 128-bit vector accesses for aligned tables."""
    pytest.importorskip("triton")
    import triton.language as tl
    from tritensor.kernels.triton import optim as kernels
    ptx = _step_ptx()
    assert "fma." not in ptx and "div.rn.f32" in ptx and "sqrt.rn.f32" in ptx
    assert "ld.global.v4" in ptx and "st.global.v4" in ptx
    # bfloat16 tensors: float32 arithmetic, each value rounded once (to nearest even) when stored
    ptx = _step_ptx(DTYPE=tl.bfloat16)
    assert "fma." not in ptx and "div.rn.f32" in ptx and "cvt.rn.bf16" in ptx
    for update in (kernels.adamax_update, kernels.nadam_update, kernels.radam_update):
        ptx = _step_ptx(UPDATE=update)
        assert "fma." not in ptx and "div.rn.f32" in ptx and "st.global.v4" in ptx, update
    for update in (kernels.asgd_update, kernels.rprop_update):  # no division in these two
        ptx = _step_ptx(UPDATE=update)
        assert "fma." not in ptx and "ld.global.v4" in ptx and "st.global.v4" in ptx, update
    ptx = _compile_for_sm90(kernels.unscale_kernel, {"work": "*i64", "addrs": "*i64", "inv_scale": "fp32",
                                                     "found_inf": "*fp32"},
                            {"DTYPE": tl.bfloat16, "ALIGNED": False, "BLOCK": kernels.GPU_BLOCK})
    assert "ld.global.v4" not in ptx  # unaligned tables: no vector access


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1",
                    reason="compiles the real Triton kernels: @triton.jit gives interpreted functions here")
@pytest.mark.parametrize("update,flags", [
    ("sgd_update", (False, True, True, True)), ("adam_update", (False, True, True, False)),
    ("adam_update", (True, False, False, True)), ("adamax_update", (False, True, False, False)),
    ("nadam_update", (False, False, False, False)), ("radam_update", (False, False, False, False)),
    ("rmsprop_update", (False, True, True, True)), ("adagrad_update", (False, False, False, False)),
    ("adadelta_update", (False, False, False, False)), ("asgd_update", (False, False, False, False)),
    ("rprop_update", (True, False, False, False))])
def test_every_slot_is_loaded_before_any_store(update, flags):
    """A full slice's vector loads all precede its first vector store: the slots may alias as far as
    the compiler knows, so a load placed after a store would wait for it (a second memory round
    trip per slice)."""
    pytest.importorskip("triton")
    from tritensor.kernels.triton import optim as kernels
    switches = dict(zip(("F0", "F1", "F2", "F3"), flags))
    lines = _step_ptx(UPDATE=getattr(kernels, update), **switches).splitlines()
    loads = [i for i, line in enumerate(lines) if "ld.global.v4" in line]
    stores = [i for i, line in enumerate(lines) if "st.global.v4" in line]
    assert loads and stores and max(loads) < min(stores)


@pytest.mark.parametrize("name,kwargs,bad", [
    ("Adam", {"lr": 0.01, "amsgrad": True}, "exp_avg"),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, "momentum_buffer"),
])
def test_a_refused_step_changes_nothing(name, kwargs, bad):
    """A state tensor of another dtype than its param is refused, naming both, before any
    step count moves or state is created: fixed, training goes on as if it never happened."""
    def run(break_it):
        p, q = (tritensor.tensor([1.0, -2.0, 3.0], device=DEVICE, requires_grad=True) for _ in range(2))
        opt = getattr(tritensor.optim, name)([p, q], **kwargs)
        for k in range(3):
            p.grad = tritensor.tensor([0.5, 0.25, -1.0], device=DEVICE) * (k + 1)
            q.grad = p.grad * 2
            if k == 1 and break_it:
                good = opt.state[q][bad]
                opt.state[q][bad] = good.double()
                before = [_np(t).copy() for t in (p, q, *opt.state[p].values(), good)]
                with pytest.raises(RuntimeError, match=f"state '{bad}' has dtype torch.float64 but its "
                                                       "parameter has dtype torch.float32"):
                    opt.step()
                after = [_np(t) for t in (p, q, *opt.state[p].values(), good)]
                assert all(np.array_equal(x, y) for x, y in zip(before, after))
                opt.state[q][bad] = good
            opt.step()
        return [_np(t) for t in (p, q, *opt.state[p].values(), *opt.state[q].values())]
    for x, y in zip(run(True), run(False)):
        np.testing.assert_array_equal(x, y)
