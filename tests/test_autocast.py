"""autocast against torch's CPU autocast: per-op output dtypes, values, grads; state and nesting.

Each ``ac_check`` runs the op inside ``autocast`` in both libraries (tritensor on
``harness.DEVICE``, torch on 'cpu') and compares as ``check`` does, gradients to the fp32
leaves included (backward runs after the region, as torch recommends). Values computed in
the autocast dtype are compared at that dtype's tolerance. On the emulated 'cuda' device
the ops whose CUDA policy differs from the CPU one are compared with torch running the
documented CUDA policy by hand (``cuda_policy`` cases).
"""
from __future__ import annotations

import threading
import timeit
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, TOLERANCES, check, dev, to_numpy

rng = np.random.default_rng(5)
ON_CUDA = DEVICE.startswith("cuda")
KIND = DEVICE.split(":")[0]
LOW = ["bfloat16", "float16"]


def randn(*shape):
    """fp32 data that bf16 and fp16 hold exactly, so the autocast casts themselves are exact
    (the Triton interpreter rounds fp32 -> bf16 toward zero, torch to nearest)."""
    bits = rng.standard_normal(shape).astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)


def g(x, dtype=None):
    return Arg(x, dtype, requires_grad=True)


def labels(n, c):
    return rng.integers(0, c, (n,)).astype(np.int64)


def F(lib):
    return lib.nn.functional


def autocast(lib, dtype="bfloat16", **kwargs):
    """autocast on the device the library's tensors live on."""
    return lib.autocast(dev(lib).split(":")[0], dtype=getattr(lib, dtype), **kwargs)


def ac_check(fn, *inputs, dtype="bfloat16", **kwargs):
    def run(lib, *ts):
        with autocast(lib, dtype):
            return fn(lib, *ts)
    rtol, atol = TOLERANCES[dtype]
    kwargs.setdefault("rtol", rtol)
    kwargs.setdefault("atol", atol)
    return check(run, *inputs, **kwargs)


# ---------------------------------------------------------------------------- lower-precision ops
LOWER_CASES = {  # on both torch's CPU and CUDA lists
    "mm": (lambda lib, a, b: a.mm(b), (4, 5), (5, 3)),
    "matmul_2d": (lambda lib, a, b: a @ b, (4, 5), (5, 3)),
    "matmul_1d_1d": (lambda lib, a, b: lib.matmul(a, b), (5,), (5,)),
    "matmul_2d_1d": (lambda lib, a, b: lib.matmul(a, b), (4, 5), (5,)),
    "matmul_3d_2d": (lambda lib, a, b: lib.matmul(a, b), (2, 4, 5), (5, 3)),
    "matmul_batched": (lambda lib, a, b: lib.matmul(a, b), (2, 1, 4, 5), (3, 5, 2)),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), (2, 4, 5), (2, 5, 3)),
    "inner": (lambda lib, a, b: lib.inner(a, b), (4, 5), (3, 5)),
    "addmm": (lambda lib, a, b: lib.addmm(b[0, :3], a, b[:, :3], beta=0.5, alpha=2), (4, 5), (5, 4)),
    "baddbmm": (lambda lib, a, b: lib.baddbmm(a[:, :, :3], a, b), (2, 4, 5), (2, 5, 3)),
    "addbmm": (lambda lib, a, b: lib.addbmm(a[0, :, :3], a, b), (2, 4, 5), (2, 5, 3)),
    "linear": (lambda lib, x, w: F(lib).linear(x, w, w[:, 0]), (4, 5), (3, 5)),
    "linear_3d_no_bias": (lambda lib, x, w: F(lib).linear(x, w), (2, 4, 5), (3, 5)),
}


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", list(LOWER_CASES))
def test_lower_precision_ops(name, dtype):
    fn, sa, sb = LOWER_CASES[name]
    out = ac_check(fn, g(randn(*sa)), g(randn(*sb)), dtype=dtype)
    assert out.dtype is getattr(tritensor, dtype)


@pytest.mark.parametrize("dtype", LOW)
def test_lower_precision_mixed_and_low_inputs(dtype):
    """fp32 and low inputs meet in the autocast dtype; a bf16 input under fp16 autocast is cast too."""
    ac_check(lambda lib, a, b: lib.mm(a, b), g(randn(3, 4)), g(randn(4, 2), dtype), dtype=dtype)
    ac_check(lambda lib, a, b: lib.mm(a, b), g(randn(3, 4), "bfloat16"), g(randn(4, 2), "float16"),
             dtype=dtype)


def test_non_float_and_float64_inputs_untouched():
    ac_check(lambda lib, a, b: lib.mm(a, b), rng.integers(-3, 3, (3, 4)), rng.integers(-3, 3, (4, 2)))
    ac_check(lambda lib, a, b: lib.mm(a, b), g(randn(3, 4), "float64"), g(randn(4, 2), "float64"))
    # float64 is not cast: addmm(float64, bf16, bf16) is a dtype error in both
    ac_check(lambda lib, a, b: lib.addmm(a, b, b.t()), randn(3, 3).astype(np.float64), randn(3, 4))


@pytest.mark.parametrize("name", ["mv", "addmv", "dot"])
def test_cuda_only_lower_ops(name):
    """mv/addmv run in the autocast dtype on CUDA only, dot promotes (CUDA): on CPU they keep fp32."""
    fns = {"mv": lambda lib, a, v: lib.mv(a, v), "addmv": lambda lib, a, v: lib.addmv(v[:4], a, v),
           "dot": lambda lib, a, v: lib.dot(a[0], v)}
    args = g(randn(4, 5)), g(randn(5))
    if not ON_CUDA:
        ac_check(fns[name], *args)
        return
    to = "bfloat16" if name != "dot" else "float32"  # promote: fp32 is the widest input
    check(lambda lib, a, v: _under_autocast(lib, fns[name], a, v) if lib is tritensor else
          fns[name](lib, a.to(getattr(lib, to)), v.to(getattr(lib, to))), *args, **_tol("bfloat16"))


def _under_autocast(lib, fn, *args, dtype="bfloat16"):
    with autocast(lib, dtype):
        return fn(lib, *args)


def _tol(dtype):
    rtol, atol = TOLERANCES[dtype]
    return {"rtol": rtol, "atol": atol}


# ---------------------------------------------------------------------------- fp32 ops
def _ce(lib, x, t, **kw):
    return F(lib).cross_entropy(x, t, **kw)


FP32_CASES = {  # on both torch's CPU and CUDA lists; inputs arrive in bf16 (the output of a lower op)
    "mse_loss": (lambda lib, x, y: F(lib).mse_loss(x, y), (4, 3)),
    "l1_loss": (lambda lib, x, y: F(lib).l1_loss(x, y, reduction="sum"), (4, 3)),
    "smooth_l1_loss": (lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=0.5), (4, 3)),
    "huber_loss": (lambda lib, x, y: F(lib).huber_loss(x, y, reduction="none"), (4, 3)),
    "bce_with_logits": (lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y.sigmoid()), (4, 3)),
    "kl_div": (lambda lib, x, y: F(lib).kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
               (4, 3)),
    "triplet": (lambda lib, x, y: F(lib).triplet_margin_loss(x, y, x * 0.5), (4, 3)),
    "prod": (lambda lib, x, y: (x * 0.1 + 1).prod(1), (4, 3)),
    "nll_loss": (lambda lib, x, y: F(lib).nll_loss(x, lib.tensor([0, 2, 1, 2], device=dev(lib))), (4, 3)),
    "cross_entropy": (lambda lib, x, y: _ce(lib, x, lib.tensor([0, 2, 1, 2], device=dev(lib))), (4, 3)),
    "cross_entropy_smooth": (lambda lib, x, y: _ce(lib, x, lib.tensor([0, 2, 1, 2], device=dev(lib)),
                                                   label_smoothing=0.1), (4, 3)),
    "cross_entropy_3d": (lambda lib, x, y: _ce(lib, x.view(2, 2, 3).transpose(1, 2),
                                               lib.tensor([[0, 1], [1, 0]], device=dev(lib))), (4, 3)),
    "cross_entropy_probs": (lambda lib, x, y: _ce(lib, x, y.softmax(1)), (4, 3)),
}


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", list(FP32_CASES))
def test_fp32_ops(name, dtype):
    fn, shape = FP32_CASES[name]
    out = ac_check(fn, g(randn(*shape), dtype), g(randn(*shape), dtype), dtype=dtype)
    assert out.dtype is tritensor.float32


def test_binary_cross_entropy():
    """BCELoss runs in fp32 under CPU autocast and is banned under CUDA autocast."""
    fn = lambda lib, p, y: F(lib).binary_cross_entropy(p, y)  # noqa: E731
    p, y = g(rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32), "bfloat16"), rng.uniform(0, 1, (4, 3))
    if not ON_CUDA:
        ac_check(fn, p, y.astype(np.float32))
        return
    with pytest.raises(RuntimeError, match="unsafe to autocast"):
        with tritensor.autocast("cuda"):
            fn(tritensor, tritensor.full((2,), 0.5, device="cuda"), tritensor.ones(2, device="cuda"))
    with pytest.raises(RuntimeError, match="unsafe to autocast"):
        with tritensor.autocast("cuda"):
            tritensor.nn.BCELoss()(tritensor.full((2,), 0.5, device="cuda"), tritensor.ones(2, device="cuda"))


CUDA_FP32_CASES = {  # torch's CUDA list has these in fp32, its CPU list not: (op, torch's explicit CUDA form)
    "softmax": (lambda lib, x: F(lib).softmax(x, 1), lambda lib, x: x.softmax(1, dtype=lib.float32)),
    "log_softmax": (lambda lib, x: x.log_softmax(0), lambda lib, x: x.log_softmax(0, dtype=lib.float32)),
    "sum": (lambda lib, x: x.sum(1), lambda lib, x: x.sum(1, dtype=lib.float32)),
    "cumsum": (lambda lib, x: x.cumsum(1), lambda lib, x: x.cumsum(1, dtype=lib.float32)),
    "norm": (lambda lib, x: x.norm(), lambda lib, x: x.norm(dtype=lib.float32)),
    "logsumexp": (lambda lib, x: x.logsumexp(1), lambda lib, x: x.float().logsumexp(1)),
    "layer_norm": (lambda lib, x: F(lib).layer_norm(x, (3,)),
                   lambda lib, x: F(lib).layer_norm(x.float(), (3,))),
    # "* 1": tritensor's cosine_similarity ends in a division, torch's in a sum (grad_fn names differ)
    "cosine_similarity": (lambda lib, x: F(lib).cosine_similarity(x, x * 2 + 1) * 1,
                          lambda lib, x: F(lib).cosine_similarity(x.float(), (x * 2 + 1).float()) * 1),
    "normalize": (lambda lib, x: F(lib).normalize(x),
                  lambda lib, x: x / x.norm(2, 1, True, dtype=lib.float32)),
    "exp": (lambda lib, x: x.exp(), lambda lib, x: x.float().exp()),
    "log": (lambda lib, x: lib.log(x * x + 1), lambda lib, x: lib.log((x * x + 1).float())),
    "rsqrt": (lambda lib, x: (x * x + 1).rsqrt(), lambda lib, x: (x * x + 1).float().rsqrt()),
    "pow": (lambda lib, x: lib.pow(x, 3), lambda lib, x: lib.pow(x.float(), 3)),
    "softplus": (lambda lib, x: F(lib).softplus(x), lambda lib, x: F(lib).softplus(x.float())),
}


@pytest.mark.parametrize("name", list(CUDA_FP32_CASES))
def test_ops_fp32_on_cuda_only(name):
    """On CPU these keep their (low) input dtype, as torch's CPU autocast does; on CUDA they give fp32."""
    fn, cuda_form = CUDA_FP32_CASES[name]
    x = g(randn(4, 3), "bfloat16")
    if not ON_CUDA:
        out = ac_check(fn, x)
        assert out.dtype is tritensor.bfloat16
        return
    out = check(lambda lib, t: _under_autocast(lib, fn, t) if lib is tritensor else cuda_form(lib, t), x,
                **_tol("bfloat16"))
    assert out.dtype is tritensor.float32


def test_explicit_dtype_is_respected():
    ac_check(lambda lib, x: x.softmax(1, dtype=lib.float64), g(randn(3, 4), "bfloat16"))
    ac_check(lambda lib, x: x.sum(dtype=lib.bfloat16), g(randn(3, 4), "bfloat16"))


# ---------------------------------------------------------------------------- promote ops
@pytest.mark.parametrize("dtype", LOW)
def test_promote_ops(dtype):
    ac_check(lambda lib, a, b: lib.cat([a, b]), g(randn(2, 3)), g(randn(2, 3), dtype), dtype=dtype)
    ac_check(lambda lib, a, b: lib.stack([b, b]), g(randn(2, 3)), g(randn(2, 3), dtype), dtype=dtype)
    if not ON_CUDA or dtype == "bfloat16":  # float64 is ignored; under CPU fp16 autocast bf16 is an error
        ac_check(lambda lib, a, b: lib.cat([a, b], 1), g(randn(2, 3), "float64"), g(randn(2, 3), "bfloat16"),
                 dtype=dtype)
    if not ON_CUDA:  # CPU list only: on CUDA index_copy keeps its dtype rule (and mismatched dtypes raise)
        ac_check(lambda lib, a, b: a.index_copy(0, lib.tensor([1, 0], device=dev(lib)), b),
                 g(randn(2, 3)), g(randn(2, 3), dtype), dtype=dtype)


def test_index_put_and_scatter_add_promote_on_cuda():
    """index_put/scatter_add run in the widest input type under CUDA autocast (torch's promote
    list; without autocast mismatched dtypes raise); on CPU they keep their dtype rules."""
    x, v = g(randn(3, 4), "float16"), g(randn(2, 4))
    cases = (lambda lib, a, b: a.index_put((lib.tensor([2, 0], device=dev(lib)),), b),
             lambda lib, a, b: a.scatter_add(0, lib.tensor([[0, 1, 2, 0], [2, 2, 1, 0]], device=dev(lib)), b))
    for fn in cases:
        if ON_CUDA:  # torch's CUDA form: both inputs cast to float32 first
            out = check(lambda lib, a, b: _under_autocast(lib, fn, a, b, dtype="float16") if lib is tritensor
                        else fn(lib, a.float(), b), x, v, **_tol("float16"))
            assert out.dtype is tritensor.float32
        else:  # not on the CPU list: torch raises for the mismatch under CPU autocast as well
            ac_check(fn, x, v)


def test_elementwise_promote_ops_on_cuda():
    """addcmul/addcdiv/atan2 run in the widest input type under CUDA autocast; unchanged on CPU.
    The float32 operand is 0-d, so plain type promotion would keep float16."""
    a, b = g(randn(2, 3), "float16"), g(np.array(randn(1)[0]))
    cases = (lambda lib, x, y: lib.addcmul(x, x, y), lambda lib, x, y: lib.addcdiv(x, x, y * y + 1),
             lambda lib, x, y: lib.atan2(x, y))
    for fn in cases:
        if ON_CUDA:  # torch's CUDA form: every input cast to float32 first
            out = check(lambda lib, x, y: _under_autocast(lib, fn, x, y, dtype="float16") if lib is tritensor
                        else fn(lib, x.float(), y), a, b, **_tol("float16"))
            assert out.dtype is tritensor.float32
        else:
            ac_check(fn, a, b)


# ---------------------------------------------------------------------------- models
def _mlp(lib, sizes, weights):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layer = lib.nn.Linear(n_in, n_out).to(dev(lib))
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weights[2 * i], device=dev(lib)))
            layer.bias.copy_(lib.tensor(weights[2 * i + 1], device=dev(lib)))
        layers += [layer, lib.nn.ReLU()]
    return lib.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("dtype", LOW)
def test_mlp_forward_backward(dtype):
    """nn.Linear layers run in the autocast dtype, the loss in fp32, fp32 grads reach the weights."""
    sizes = (6, 8, 4)
    weights = [w for a, b in zip(sizes, sizes[1:]) for w in (randn(b, a) * 0.4, randn(b) * 0.1)]
    x, target = randn(5, 6), labels(5, 4)
    results = {}
    for lib in (torch, tritensor):
        model = _mlp(lib, sizes, weights)
        with autocast(lib, dtype):
            logits = model(lib.tensor(x, device=dev(lib)))
            loss = F(lib).cross_entropy(logits, lib.tensor(target, device=dev(lib)))
        loss.backward()
        results[lib] = (logits, loss, [p.grad for p in model.parameters()])
    (t_logits, t_loss, t_grads), (logits, loss, grads) = results[torch], results[tritensor]
    assert logits.dtype is getattr(tritensor, dtype) and loss.dtype is tritensor.float32
    rtol, atol = TOLERANCES[dtype]
    np.testing.assert_allclose(to_numpy(logits), to_numpy(t_logits), rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_numpy(loss), to_numpy(t_loss), rtol=rtol, atol=atol)
    for t, ours in zip(t_grads, grads):
        assert ours.dtype is tritensor.float32
        np.testing.assert_allclose(to_numpy(ours), to_numpy(t), rtol=rtol, atol=atol)


def test_weight_used_twice_is_cast_once_and_cache_dropped_on_exit():
    from tritensor.ops._autocast import state
    w = tritensor.tensor(randn(3, 3), device=DEVICE, requires_grad=True)
    x = tritensor.tensor(randn(2, 3), device=DEVICE)
    with tritensor.autocast(KIND):
        y = (x @ w) @ w
        assert len(state.cache) == 1
        with tritensor.autocast(KIND, enabled=False):
            pass
        assert len(state.cache) == 1  # only the outermost exit drops it
    assert not state.cache
    y.float().sum().backward()
    tw = torch.tensor(to_numpy(w), requires_grad=True)
    with torch.autocast("cpu"):
        ty = (torch.tensor(to_numpy(x)) @ tw) @ tw
    ty.float().sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), to_numpy(tw.grad), **dict(zip(("rtol", "atol"),
                                                                               TOLERANCES["bfloat16"])))
    with tritensor.autocast(KIND, cache_enabled=False):
        x @ w
        assert not state.cache


# ---------------------------------------------------------------------------- state, nesting, decorator
def test_state_and_nesting_match_torch():
    def trace(lib):
        a = lib.ones(2, 2, device=dev(lib))
        kind = dev(lib).split(":")[0]
        seen = [lib.is_autocast_enabled(kind), lib.get_autocast_dtype(kind)]
        with lib.autocast(kind):
            seen += [lib.is_autocast_enabled(kind), lib.mm(a, a).dtype]
            with lib.autocast(kind, enabled=False):
                seen += [lib.is_autocast_enabled(kind), lib.mm(a, a).dtype]
                with lib.autocast(kind, dtype=lib.float16):
                    seen += [lib.get_autocast_dtype(kind), lib.mm(a, a).dtype]
            seen += [lib.is_autocast_enabled(kind), lib.get_autocast_dtype(kind), lib.mm(a, a).dtype]
        seen += [lib.is_autocast_enabled(kind), lib.mm(a, a).dtype]
        return [str(s).split(".")[-1] for s in seen]
    expected = trace(torch)
    if ON_CUDA:  # torch's default CUDA dtype is float16 (CPU: bfloat16)
        expected = [s.replace("bfloat16", "float16") for s in expected]
    assert trace(tritensor) == expected


def test_state_restored_after_exception_and_thread_local():
    with pytest.raises(ZeroDivisionError):
        with tritensor.autocast("cpu", dtype=tritensor.float16):
            1 / 0
    assert not tritensor.is_autocast_enabled("cpu")
    assert tritensor.get_autocast_dtype("cpu") is tritensor.bfloat16
    seen = []
    with tritensor.autocast("cpu"):
        t = threading.Thread(target=lambda: seen.append(tritensor.is_autocast_enabled("cpu")))
        t.start()
        t.join()
        assert tritensor.is_autocast_enabled("cpu")
    assert seen == [False]


def test_decorator_and_aliases():
    @tritensor.autocast(KIND)
    def f(a):
        return a @ a
    a = tritensor.ones(2, 2, device=DEVICE)
    low = tritensor.get_autocast_dtype(KIND)
    assert f(a).dtype is low and f(a).dtype is low and (a @ a).dtype is tritensor.float32
    with tritensor.amp.autocast(KIND):
        assert (a @ a).dtype is low
    if ON_CUDA:
        with pytest.warns(FutureWarning):
            ctx = tritensor.cuda.amp.autocast()
        with ctx:
            assert (a @ a).dtype is tritensor.float16


def test_other_device_type_untouched():
    """Only tensors on the autocast device type are cast (and only its op list applies)."""
    a = tritensor.ones(2, 2, device=DEVICE)
    other = "cpu" if ON_CUDA else "cuda"
    if other == "cuda" and not tritensor.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            with tritensor.autocast("cuda"):
                assert (a @ a).dtype is tritensor.float32 and not tritensor.is_autocast_enabled("cuda")
        return
    with tritensor.autocast(other):
        assert (a @ a).dtype is tritensor.float32
        assert tritensor.is_autocast_enabled(other) and not tritensor.is_autocast_enabled(KIND)


def test_arguments_like_torch():
    with pytest.raises(ValueError):
        tritensor.autocast(tritensor.device("cpu"))
    for lib in (torch, tritensor):
        with pytest.raises(RuntimeError):
            lib.autocast("xyz")
        with pytest.warns(UserWarning, match="CPU Autocast only supports"):
            with lib.autocast("cpu", dtype=lib.float32):
                assert not lib.is_autocast_enabled("cpu")
    assert tritensor.amp.is_autocast_available("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tritensor.autocast("cpu", enabled=False):
            assert not tritensor.is_autocast_enabled("cpu")


def test_out_argument_is_not_autocast():
    out = ac_check(lambda lib, a: lib.mm(a, a, out=lib.empty(3, 3, device=dev(lib))), randn(3, 3))
    assert out.dtype is tritensor.float32
    ac_check(lambda lib, a: lib.matmul(a, a, out=lib.empty(3, 3, device=dev(lib))), randn(3, 3))
    ac_check(lambda lib, a: lib.prod(a, 1, out=lib.empty(3, dtype=lib.bfloat16, device=dev(lib))),
             Arg(randn(3, 4), "bfloat16"))


# ---------------------------------------------------------------------------- training / cost
def _train(dtype, steps=30):
    """A small regression MLP trained with SGD, optionally under autocast + GradScaler."""
    local = np.random.default_rng(0)
    x = tritensor.tensor(local.standard_normal((64, 8)).astype(np.float32), device=DEVICE)
    y = (x[:, :1] * 2 - x[:, 1:2]).tanh()
    sizes = (8, 16, 1)
    model = _mlp(tritensor, sizes, [w for a, b in zip(sizes, sizes[1:])
                                    for w in (local.standard_normal((b, a)).astype(np.float32) * 0.3,
                                              np.zeros(b, np.float32))])
    opt = tritensor.optim.SGD(model.parameters(), lr=0.1)
    scaler = tritensor.amp.GradScaler(KIND, enabled=dtype is not None)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        with tritensor.autocast(KIND, dtype=dtype or tritensor.float16, enabled=dtype is not None):
            loss = F(tritensor).mse_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    return losses


def test_grad_scaler_training_converges_like_fp32():
    """Loose by nature: the mixed-precision loss must fall like the fp32 one (within 10% at the end)."""
    dtype = tritensor.float16 if ON_CUDA else tritensor.bfloat16
    mixed, full = _train(dtype), _train(None)
    assert mixed[-1] < 0.5 * mixed[0]
    assert abs(mixed[-1] - full[-1]) <= 0.1 * full[-1] + 1e-3


def test_disabled_check_is_cheap():
    """The per-op cost with autocast off is one thread-local attribute read (target: well under 0.2 us)."""
    from tritensor.ops._autocast import state

    def guard():
        if state.on:
            raise AssertionError

    def empty():
        pass
    n = 200_000
    cost = (min(timeit.repeat(guard, number=n, repeat=5)) - min(timeit.repeat(empty, number=n, repeat=5))) / n
    assert cost < 0.2e-6, f"{cost * 1e9:.0f} ns"


# ---------------------------------------------------------------------------- custom autograd functions
def _custom_mm(lib, cast_inputs):
    """A custom Function under ``amp.custom_fwd`` / ``custom_bwd`` on the library's device type;
    it reports the dtypes its forward and backward saw and computed in."""
    kind = dev(lib).split(":")[0]
    seen = {}

    class MatMul(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type=kind, cast_inputs=cast_inputs and getattr(lib, cast_inputs))
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            seen["forward"] = (str(a.dtype), str(b.dtype), lib.is_autocast_enabled(kind))
            return a.mm(b)

        @staticmethod
        @lib.amp.custom_bwd(device_type=kind)
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            seen["backward"] = (str(grad.dtype), lib.is_autocast_enabled(kind), str(grad.mm(b.t()).dtype))
            return grad.mm(b.t()), a.t().mm(grad)
    return MatMul, seen


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
@pytest.mark.parametrize("inside", [True, False])
def test_custom_fwd_and_bwd_match_torch(cast_inputs, inside):
    """Inside a region, ``cast_inputs`` casts the inputs and turns autocast off for forward;
    without it forward's ops autocast; backward (called outside the region) runs under
    forward's state either way. Outside a region both decorators change nothing."""
    def fn(lib, a, b):
        op, seen = _custom_mm(lib, cast_inputs)
        if inside:
            with autocast(lib):
                out = op.apply(a.to(getattr(lib, "bfloat16")), b)
        else:
            out = op.apply(a, b)
        out.float().sum().backward()
        return out, a.grad, b.grad, seen["forward"], seen["backward"]
    check(fn, g(randn(3, 4)), g(randn(4, 2)), grad=False, **_tol("bfloat16"))


def test_custom_fwd_and_bwd_argument_errors_and_deprecated_spellings():
    for lib in (torch, tritensor):
        with pytest.raises(ValueError, match="device_type"):
            lib.amp.custom_fwd(device_type=0)
        with pytest.raises(ValueError, match="device_type"):
            lib.amp.custom_bwd(device_type=None)
        with pytest.warns(FutureWarning, match="torch.amp.custom_fwd"):
            lib.cuda.amp.custom_fwd(lambda ctx, x: x)
        with pytest.warns(FutureWarning, match="torch.amp.custom_bwd"):
            lib.cuda.amp.custom_bwd(lambda ctx, g: g)
        with pytest.warns(FutureWarning, match="torch.amp.autocast"):
            region = lib.cpu.amp.autocast()
        with region:
            assert lib.is_autocast_enabled("cpu") and lib.get_autocast_dtype("cpu") is lib.bfloat16
        with pytest.warns(FutureWarning, match="torch.amp.GradScaler"):
            lib.cpu.amp.GradScaler()


def test_cpu_device_module_matches_torch():
    def fn(lib):
        return (lib.cpu.is_available(), lib.cpu.device_count(), lib.cpu.current_device(),
                lib.cpu.synchronize(), lib.cpu.set_device("cpu"))
    check(fn)
