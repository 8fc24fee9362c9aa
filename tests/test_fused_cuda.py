"""The fused cross entropy, clip_grad_norm_, layer norm and batch norm kernels against torch, on DEVICE.

Run on 'cpu' (Numba kernels) and with ``TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda``
(the Triton kernels of ``kernels/triton/cross_entropy.py``, ``grad_norm.py`` and
``normalization.py``). Each
group also proves that the device's fused entry in ``nn._fused`` served the call (and on
'cuda', how many launches it took).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, assert_same, check
from tritensor.nn import _fused

rng = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def logits(n, c, dtype="float32", transpose=False):
    """(n, c) logits; ``transpose``: a non-contiguous (transposed) view of the same shape."""
    return Arg(rng.standard_normal((n, c)) * 3, dtype, requires_grad=True, transpose=transpose)


def targets(n, c):
    return rng.integers(0, c, n).astype(np.int64)


def ce(**kwargs):
    return lambda lib, x, t, *w: lib.nn.functional.cross_entropy(x, t, *w, **kwargs)


class _Counting:
    """Wraps a fused-kernel object and counts the calls of each method."""

    def __init__(self, inner):
        self.inner, self.calls = inner, {}

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return attr(*args, **kwargs)
        return counted


@pytest.fixture
def count_fused(monkeypatch):
    """Counting wrappers around this device's CROSS_ENTROPY, GRAD_NORM, LAYER_NORM and BATCH_NORM
    entries."""
    tritensor.empty(0, device=DEVICE)  # loads the device backend, which registers its kernels
    tables = (_fused.CROSS_ENTROPY, _fused.GRAD_NORM, _fused.LAYER_NORM, _fused.BATCH_NORM)
    wrapped = [_Counting(table[DEVICE]) for table in tables]
    for table, counting in zip(tables, wrapped):
        monkeypatch.setitem(table, DEVICE, counting)
    return wrapped


@pytest.fixture
def count_launches(monkeypatch):
    """On 'cuda': {kernel name: launches} of the fused Triton modules."""
    if DEVICE != "cuda":
        pytest.skip("Triton launches exist on device 'cuda' only")
    from tritensor.backends import cuda_replay
    from tritensor.kernels.triton import cross_entropy, grad_norm, normalization
    monkeypatch.setattr(cuda_replay, "ENABLED", False)  # a GPU's replays launch without these modules
    counts = {}
    for module in (cross_entropy, grad_norm, normalization):
        real = module.launch

        def counted(kernel, *args, _real=real, **kwargs):
            name = kernel.fn.__name__ if hasattr(kernel, "fn") else kernel.__name__
            counts[name] = counts.get(name, 0) + 1
            return _real(kernel, *args, **kwargs)
        monkeypatch.setattr(module, "launch", counted)
    return counts


# ---------------------------------------------------------------------------- cross entropy
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_dtypes(dtype, reduction):
    check(ce(reduction=reduction), logits(6, 5, dtype), targets(6, 5))


@pytest.mark.parametrize("n,c", [(4, 1), (3, 37), (0, 5), (1, 100), (2, 20000)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_shapes(n, c, reduction):
    """One class, classes not a multiple of the block, an empty batch (mean: nan), and
    more classes than one tile holds (several tiles per row)."""
    check(ce(reduction=reduction), logits(n, c), targets(n, c))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_strided_logits(reduction):
    assert check(ce(reduction=reduction), logits(5, 7, transpose=True), targets(5, 7)) is not None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_ignore_index(dtype, reduction):
    t = targets(8, 6)
    t[[1, 4]] = 3
    weight = Arg(rng.uniform(0.1, 2.0, 6), dtype)
    check(ce(reduction=reduction), logits(8, 6, dtype), t, weight)
    check(ce(reduction=reduction, ignore_index=3), logits(8, 6, dtype), t, weight)
    check(ce(reduction=reduction, ignore_index=3), logits(8, 6, dtype), t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_all_ignored(reduction):
    t = np.full(4, -100, np.int64)
    check(ce(reduction=reduction), logits(4, 3), t)  # mean: 0 / 0 = nan, zero gradient
    check(ce(reduction=reduction), logits(4, 3), t, Arg(rng.uniform(0.5, 1.5, 3), "float32"))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing(dtype, reduction):
    t = targets(7, 9)
    t[2] = 1
    check(ce(reduction=reduction, label_smoothing=0.15), logits(7, 9, dtype), t)
    if dtype in ("float32", "float64"):  # torch's 16-bit nll_loss takes no float weight of its own dtype
        check(ce(reduction=reduction, label_smoothing=0.3, ignore_index=1), logits(7, 9, dtype), t,
              Arg(rng.uniform(0.1, 2.0, 9), dtype))


def test_cross_entropy_nonfinite_logits():
    x = rng.standard_normal((4, 3))
    x[1, 2], x[2, :], x[3, 0] = np.nan, -np.inf, np.inf
    check(ce(reduction="none"), Arg(x, requires_grad=True), np.array([0, 1, 2, 1]))


@pytest.mark.parametrize("bad", [5, -2])
def test_cross_entropy_bad_target(bad):
    t = np.array([0, 1, bad, 2], np.int64)
    for reduction in REDUCTIONS:
        check(ce(reduction=reduction), logits(4, 3), t)
    x = tritensor.zeros(4, 3, device=DEVICE, requires_grad=True)
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
        loss = tritensor.nn.functional.cross_entropy(x, tritensor.tensor(t, device=DEVICE))
        loss.backward()
        loss.item()  # on 'cuda' the kernel's finding is raised by the next wait for the device
    if DEVICE != "cpu":  # the loss and the bad row's gradient are nan, the rest is computed
        assert math.isnan(loss.item())
        grad = x.grad.cpu().numpy()
        assert np.isnan(grad[2]).all() and np.isfinite(np.delete(grad, 2, 0)).all()
        rows = tritensor.nn.functional.cross_entropy(x.detach(), tritensor.tensor(t, device=DEVICE),
                                                     reduction="none")
        with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
            tritensor.cuda.synchronize()
        expected = np.full(4, np.log(3), np.float32)
        expected[2] = np.nan
        np.testing.assert_allclose(rows.cpu().numpy(), expected, rtol=1e-6)  # the device goes on


def test_cross_entropy_takes_fused_path(count_fused):
    ce_kernel = count_fused[0]
    x = tritensor.randn(6, 4, device=DEVICE, requires_grad=True)
    t = tritensor.tensor(targets(6, 4), device=DEVICE)
    for smoothing in (0.0, 0.1):
        tritensor.nn.functional.cross_entropy(x, t, label_smoothing=smoothing).backward()
    assert ce_kernel.calls == {"forward": 2, "backward": 2}


def test_cross_entropy_launches(count_launches):
    """A batch in one program: one forward launch, one backward launch, no other kernel (the
    mean's division included); a batch over several programs adds the one-program reduction
    of their partial sums, except for reduction='none'."""
    x = tritensor.randn(6, 4, device=DEVICE, requires_grad=True)
    loss = tritensor.nn.functional.cross_entropy(x, tritensor.tensor(targets(6, 4), device=DEVICE))
    assert count_launches == {"forward_kernel": 1}
    loss.backward(tritensor.tensor(1.0, device=DEVICE))
    assert count_launches == {"forward_kernel": 1, "backward_kernel": 1}
    count_launches.clear()
    x, t = tritensor.randn(2000, 4, device=DEVICE), tritensor.tensor(targets(2000, 4), device=DEVICE)
    tritensor.nn.functional.cross_entropy(x, t, reduction="none")
    assert count_launches == {"forward_kernel": 1}
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(x.cpu().numpy()),
                                                 torch.from_numpy(t.cpu().numpy()), reduction="sum")
    actual = tritensor.nn.functional.cross_entropy(x, t, reduction="sum")
    assert count_launches == {"forward_kernel": 2, "finish_kernel": 1}
    assert_same(expected, actual)


# ---------------------------------------------------------------------------- clip_grad_norm_
def _params(grads, dtype):
    """The same parameters with ``grads`` in torch and in tritensor."""
    tps, aps = [], []
    for g in grads:
        tp = torch.nn.Parameter(torch.zeros(g.shape, dtype=getattr(torch, dtype)))
        ap = tritensor.nn.Parameter(tritensor.zeros(g.shape, dtype=getattr(tritensor, dtype), device=DEVICE))
        tp.grad = torch.tensor(g).to(getattr(torch, dtype))
        ap.grad = tritensor.tensor(g, device=DEVICE).to(getattr(tritensor, dtype))
        tps.append(tp)
        aps.append(ap)
    return tps, aps


def _clip_both(grads, dtype, *args, **kwargs):
    tps, aps = _params(grads, dtype)
    try:
        expected = torch.nn.utils.clip_grad_norm_(tps, *args, **kwargs)
    except RuntimeError as exc:  # e.g. the inf norm of an empty gradient
        with pytest.raises(RuntimeError, match=str(exc).split()[1]):
            tritensor.nn.utils.clip_grad_norm_(aps, *args, **kwargs)
        return
    actual = tritensor.nn.utils.clip_grad_norm_(aps, *args, **kwargs)
    assert_same(expected, actual, rtol=2e-5 if dtype == "float32" else None)
    for tp, ap in zip(tps, aps):
        assert_same(tp.grad, ap.grad, rtol=2e-5 if dtype == "float32" else None)


MIXED = [(3, 4), (7,), (1,), (50, 3)]
EMPTY = MIXED + [(0,)]  # torch has no inf norm of an empty tensor: it raises


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm(norm_type, max_norm, dtype):
    _clip_both([rng.standard_normal(s) for s in EMPTY], dtype, max_norm, norm_type)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_16bit(dtype, norm_type):
    _clip_both([rng.standard_normal(s) for s in MIXED], dtype, 0.5, norm_type)


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_foreach(foreach):
    _clip_both([rng.standard_normal(s) for s in MIXED], "float32", 0.7, 2.0, foreach=foreach)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_grad_norm_nonfinite(norm_type, bad):
    grads = [rng.standard_normal(s) for s in MIXED]
    grads[2][0] = bad
    _clip_both(grads, "float32", 1.0, norm_type)  # scales by the non-finite norm, like torch
    _, aps = _params(grads, "float32")
    with pytest.raises(RuntimeError, match="non-finite"):
        tritensor.nn.utils.clip_grad_norm_(aps, 1.0, norm_type, error_if_nonfinite=True)


def test_get_total_norm_and_clip_with_host_norm():
    """The split API: the norm on its own, then clipping by a norm given as a host tensor."""
    grads = [rng.standard_normal(s) for s in MIXED]
    tps, aps = _params(grads, "float32")
    expected = torch.nn.utils.get_total_norm([p.grad for p in tps], 3.0)
    assert_same(expected, tritensor.nn.utils.get_total_norm([p.grad for p in aps], 3.0), rtol=2e-5)
    torch.nn.utils.clip_grads_with_norm_(tps, 0.5, torch.tensor(7.0))
    tritensor.nn.utils.clip_grads_with_norm_(aps, 0.5, tritensor.tensor(7.0))
    for tp, ap in zip(tps, aps):
        assert_same(tp.grad, ap.grad)


COEFFICIENT_CASES = [(1.0, 0.37), (1.0, 1e6), (1e-3, 3.3e-3), (np.inf, 1.0), (np.nan, 1.0)]


@pytest.mark.parametrize("dtype, scale, max_norm", [
    (d, s, m)
    for d in (FLOATS if DEVICE == "cuda" else ["float32", "float64"])  # the Numba kernel's dtypes
    for s, m in COEFFICIENT_CASES])
def test_clip_coefficient_is_torchs_formula(dtype, scale, max_norm):
    """The fused kernel's clip coefficient, from its own norm, is exactly torch's
    ``clamp(max_norm / (norm + 1e-6), max=1)`` in the gradients' dtype (rounded after each op;
    NaN stays NaN)."""
    tritensor.empty(0, device=DEVICE)
    kernel = _fused.GRAD_NORM[DEVICE]
    local = np.random.default_rng(7)  # fixed values: exact comparisons under the interpreter too
    grads = [tritensor.tensor(local.standard_normal(s) * scale, device=DEVICE).to(getattr(tritensor, dtype))
             for s in MIXED]
    assert kernel.accepts(grads)
    total, coef = kernel.total_norm(grads, 2.0, max_norm)
    norm = torch.tensor(total.cpu().float().item() if dtype == "bfloat16" else total.cpu().item(),
                        dtype=getattr(torch, dtype))
    assert_same(torch.clamp(max_norm / (norm + 1e-6), max=1.0), coef, rtol=0, atol=0)


def test_clip_grad_norm_takes_fused_path(count_fused):
    norm_kernel = count_fused[1]
    _, aps = _params([rng.standard_normal(s) for s in MIXED], "float32")
    tritensor.nn.utils.clip_grad_norm_(aps, 0.1)
    assert norm_kernel.calls == {"accepts": 1, "total_norm": 1, "scale_": 1}


def test_clip_grad_norm_launches(count_launches):
    """Two launches for the norm (all tensors, then the fold) and one to scale, however
    many tensors; clipping reads nothing back from the device."""
    _, aps = _params([rng.standard_normal(s) for s in MIXED * 3], "float32")
    tritensor.nn.utils.clip_grad_norm_(aps, 0.1)
    assert count_launches == {"partial_norm_kernel": 1, "total_kernel": 1, "scale_kernel": 1}


# ---------------------------------------------------------------------------- layer norm
def _layer_norms(lib, x, w, b):
    """Layer norm with weight and bias, either one, or neither (the output is xhat itself)."""
    f, shape = lib.nn.functional, tuple(w.shape)
    return (f.layer_norm(x, shape, w, b), f.layer_norm(x, shape, w, None), f.layer_norm(x, shape, None, b),
            f.layer_norm(x, shape))


@pytest.mark.parametrize("shape,k,dtype", [
    ((3, 5), 1, "float32"), ((40, 7), 1, "float32"), ((2, 3, 4, 6), 2, "float32"),
    ((3, 20000), 1, "float32"),    # a row in several column tiles (the interpreter's are 16384 wide)
    ((5000, 16), 1, "float64"),    # rows in several blocks, shared by several backward programs
    ((1, 1), 1, "float64"), ((2, 3), 1, "float64")])
def test_layer_norm_kernel_layouts(shape, k, dtype):
    """The device's one-kernel layer norm against torch: values and the gradients of input,
    weight and bias. float64 where the parameters' gradients sum thousands of rows."""
    x = Arg(rng.standard_normal(shape) * 3 + 1, dtype, requires_grad=True)
    w, b = (Arg(rng.standard_normal(shape[-k:]), dtype, requires_grad=True) for _ in range(2))
    check(_layer_norms, x, w, b)


def test_layer_norm_takes_fused_path(count_fused):
    norm_kernel = count_fused[2]
    x = tritensor.randn(6, 4, device=DEVICE, requires_grad=True)
    w = tritensor.randn(4, device=DEVICE, requires_grad=True)
    tritensor.nn.functional.layer_norm(x, (4,), w).sum().backward()
    assert norm_kernel.calls == {"accepts": 1, "forward": 1, "backward": 1}


def test_layer_norm_launches(count_launches):
    """One launch forward and one backward, whatever the number of rows and row tiles."""
    for shape in ((6, 4), (5000, 16), (2, 20000)):
        count_launches.clear()
        x = tritensor.randn(*shape, device=DEVICE, requires_grad=True)
        w, b = (tritensor.randn(shape[-1], device=DEVICE, requires_grad=True) for _ in range(2))
        y = tritensor.nn.functional.layer_norm(x, shape[-1:], w, b)
        assert count_launches == {"normalize_forward_kernel": 1}
        y.backward(tritensor.ones_like(y))
        assert count_launches == {"normalize_forward_kernel": 1, "layer_norm_backward_kernel": 1}


# ---------------------------------------------------------------------------- batch norm
def _batch_norms(lib, x, w, b):
    """Batch norm in training with weight and bias (updating running statistics, returned
    too), either one, or neither."""
    f, channels = lib.nn.functional, x.shape[1]
    stats = [lib.zeros(channels, dtype=x.dtype, device=x.device),
             lib.ones(channels, dtype=x.dtype, device=x.device)]
    return (f.batch_norm(x, *stats, w, b, True), f.batch_norm(x, None, None, w, None, True),
            f.batch_norm(x, None, None, None, b, True), f.batch_norm(x, None, None, None, None, True, 0.3),
            *stats)


@pytest.mark.parametrize("shape,dtype", [
    ((6, 4), "float32"), ((6, 4, 5), "float32"), ((3, 4, 5, 6), "float64"), ((2, 3, 2, 2, 5), "float32"),
    ((2, 3, 10000), "float32"),    # a channel's plane in several tiles (the interpreter's hold 16384)
    ((4, 3000), "float64"),        # channels as columns, in several blocks of channels
    ((2, 600, 3), "float64"), ((2, 1), "float64")])
def test_batch_norm_kernel_layouts(shape, dtype):
    """The device's one-kernel batch norm in training against torch: values, running
    statistics and the gradients of input, weight and bias."""
    x = Arg(rng.standard_normal(shape) * 3 + 1, dtype, requires_grad=True)
    w, b = (Arg(rng.standard_normal(shape[1]), dtype, requires_grad=True) for _ in range(2))
    assert check(_batch_norms, x, w, b) is not None


def test_batch_norm_takes_fused_path(count_fused):
    norm_kernel = count_fused[3]
    x = tritensor.randn(6, 4, 3, device=DEVICE, requires_grad=True)
    w = tritensor.randn(4, device=DEVICE, requires_grad=True)
    tritensor.nn.functional.batch_norm(x, None, None, w, training=True).sum().backward()
    assert norm_kernel.calls == {"accepts": 1, "forward": 1, "backward": 1}


def test_batch_norm_launches(count_launches):
    """One launch forward and one backward, whatever the layout."""
    for shape in ((6, 4), (2, 3, 10000), (4, 3000)):
        count_launches.clear()
        x = tritensor.randn(*shape, device=DEVICE, requires_grad=True)
        w, b = (tritensor.randn(shape[1], device=DEVICE, requires_grad=True) for _ in range(2))
        y = tritensor.nn.functional.batch_norm(x, None, None, w, b, training=True)
        assert count_launches == {"normalize_forward_kernel": 1}
        y.backward(tritensor.ones_like(y))
        assert count_launches == {"normalize_forward_kernel": 1, "batch_norm_backward_kernel": 1}


# ---------------------------------------------------------------------------- data and checkpoints on DEVICE
def _roundtrip(obj, **load_kwargs):
    import io
    buf = io.BytesIO()
    tritensor.save(obj, buf)
    buf.seek(0)
    return tritensor.load(buf, **load_kwargs)


def test_loader_batches_of_device_tensors():
    """A TensorDataset of DEVICE tensors collates (stacks) on DEVICE, batch for batch like torch."""
    import torch.utils.data as tdata

    import tritensor.utils.data as data
    x = rng.standard_normal((23, 3)).astype(np.float32)
    y = rng.integers(0, 5, 23)
    ref = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=5)
    ours = data.DataLoader(data.TensorDataset(tritensor.tensor(x, device=DEVICE),
                                              tritensor.tensor(y, device=DEVICE)), batch_size=5)
    for (ex, ey), (ax, ay) in zip(ref, ours, strict=True):
        assert_same(ex, ax)
        assert_same(ey, ay)


def test_loader_pin_memory_then_move():
    """pin_memory=True yields host batches (page-locked on a GPU machine) that move to DEVICE."""
    import tritensor.utils.data as data
    x = rng.standard_normal((10, 2)).astype(np.float32)
    loader = data.DataLoader(data.TensorDataset(tritensor.tensor(x)), batch_size=4, pin_memory=True)
    batches = [b.to(DEVICE, non_blocking=True) for (b,) in loader]
    assert [b.device.type for b in batches] == [DEVICE] * 3
    np.testing.assert_array_equal(np.concatenate([b.cpu().numpy() for b in batches]), x)


def test_checkpoint_of_device_module_round_trips():
    model = tritensor.nn.Linear(3, 2).to(DEVICE)
    state = _roundtrip(model.state_dict())
    assert [t.device.type for t in state.values()] == [DEVICE] * 2
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(state[k].cpu().numpy(), v.cpu().numpy())
    on_host = _roundtrip(model.state_dict(), map_location="cpu")
    assert {t.device.type for t in on_host.values()} == {"cpu"}
    fresh = tritensor.nn.Linear(3, 2).to(DEVICE)
    fresh.load_state_dict(on_host)  # copies host values into the DEVICE parameters
    assert fresh.weight.device.type == DEVICE
    np.testing.assert_array_equal(fresh.weight.detach().cpu().numpy(), model.weight.detach().cpu().numpy())


def test_checkpoint_map_location_to_device():
    t = tritensor.arange(6, dtype=tritensor.float32).view(2, 3)
    for where in (DEVICE, tritensor.device(DEVICE), {"cpu": DEVICE}):
        out = _roundtrip({"t": t.t()}, map_location=where)["t"]
        assert out.device.type == DEVICE and out.shape == (3, 2)
        np.testing.assert_array_equal(out.cpu().numpy(), t.t().numpy())
    saved = t.to(DEVICE)
    out = _roundtrip(saved, map_location=lambda tensor, location: tensor.cpu())
    assert out.device.type == "cpu"
    if DEVICE == "cuda":
        assert _roundtrip(saved, map_location={"cuda:0": "cpu"}).device.type == "cpu"
