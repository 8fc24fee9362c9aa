"""Losses (functional and module forms) against torch: values, gradients, exception types."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, cpu_oracle_only, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def probs(*shape):
    return rng.uniform(0.02, 0.98, shape).astype(np.float32)


def g(x):
    return Arg(x, requires_grad=True)


def labels(n, c, *extra):
    return rng.integers(0, c, (n,) + extra).astype(np.int64)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [
    ("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {}), ("huber_loss", {"delta": 0.3}),
    ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.4}), ("smooth_l1_loss", {"beta": 0.0}),
])
def test_regression_losses(name, kwargs, reduction):
    check(lambda lib, x, y: getattr(F(lib), name)(x, y, reduction=reduction, **kwargs),
          g(randn(4, 5)), g(randn(4, 5)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [("mse_loss", {}), ("huber_loss", {"delta": 0.3}),
                                         ("smooth_l1_loss", {"beta": 0.4})])
def test_regression_losses_dtypes_layouts_and_nan(name, kwargs, reduction, dtype):
    """One kernel pass each way: every float dtype, a target of another dtype, a transposed
    input, NaN (in the loss and the gradient, as torch's kernels), an empty batch."""
    x, y = randn(4, 5), randn(4, 5)
    x[1, 2] = np.nan

    def loss(lib, a, b):
        return getattr(F(lib), name)(a, b, reduction=reduction, **kwargs)
    check(loss, Arg(x, dtype, requires_grad=True), Arg(y, dtype, requires_grad=True))
    other = dtype if name == "huber_loss" else "float32"  # huber's backward refuses another (below)
    check(loss, Arg(x, dtype, requires_grad=True, transpose=True), Arg(y, other, requires_grad=True))
    check(loss, Arg(np.zeros((0, 3)), dtype, requires_grad=True), Arg(np.zeros((0, 3)), dtype))


@pytest.mark.parametrize("dtypes", [("bfloat16", "float32"), ("float64", "float32"), ("float32", "float64")])
def test_huber_loss_keeps_the_input_dtype_and_its_backward_refuses_another(dtypes):
    """torch's huber_loss (unlike mse and smooth_l1) writes the loss in the input's dtype and
    its backward raises for a target of another dtype."""
    def loss(lib, a, b):
        return F(lib).huber_loss(a, b, delta=0.3)
    check(loss, Arg(randn(4, 5), dtypes[0]), Arg(randn(4, 5), dtypes[1]))
    for lib in (torch, tritensor):
        x = lib.ones(2, 3, dtype=getattr(lib, dtypes[0]), device=dev(lib), requires_grad=True)
        out = loss(lib, x, lib.zeros(2, 3, dtype=getattr(lib, dtypes[1]), device=dev(lib)))
        with pytest.raises(RuntimeError, match="^Found dtype"):
            out.backward()


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_broadcast_and_mismatch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, y: getattr(F(lib), name)(x, y), g(randn(4, 5)), g(randn(5)))
        check(lambda lib, x, y: getattr(F(lib), name)(x, y), randn(4, 5), randn(3))
    with pytest.warns(UserWarning, match="target size"):
        getattr(tritensor.nn.functional, name)(tritensor.ones(2, 3, device=DEVICE),
                                               tritensor.ones(3, device=DEVICE))


def test_bad_reduction_string():
    check(lambda lib, x, y: F(lib).mse_loss(x, y, reduction="avg"), randn(3), randn(3))
    check(lambda lib, x, y: F(lib).cross_entropy(x, y, reduction="avg"), randn(3, 4), labels(3, 4))


def test_legacy_size_average_reduce():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, y: F(lib).mse_loss(x, y, size_average=False), g(randn(3, 2)), randn(3, 2))
        check(lambda lib, x, y: F(lib).l1_loss(x, y, reduce=False), g(randn(3, 2)), randn(3, 2))


def test_regression_gradcheck_float64():
    for name in ("mse_loss", "huber_loss", "smooth_l1_loss"):
        gradcheck(lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction="sum"),
                  randn(3, 4, dtype=np.float64), randn(3, 4, dtype=np.float64))


# ---------------------------------------------------------------------------- cross entropy / nll
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3)])
def test_cross_entropy_class_indices(shape, reduction):
    target = labels(shape[0], shape[1], *shape[2:])
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction), g(randn(*shape)), target)


def test_cross_entropy_unbatched():
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), g(randn(5)), np.array(3, dtype=np.int64))
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction="none"), g(randn(5)), np.array(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_and_ignore_index(reduction):
    t = labels(8, 4)
    t[[1, 5]] = -100
    check(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, reduction=reduction),
          g(randn(8, 4)), t, np.array([0.5, 2.0, 1.0, 0.1], np.float32))
    t2 = labels(8, 4)
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, ignore_index=2, reduction=reduction),
          g(randn(8, 4)), t2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing(reduction, weighted):
    t = labels(8, 4)
    t[2] = -100
    w = np.array([0.5, 2.0, 1.0, 0.1], np.float32)
    check(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w if weighted else None, reduction=reduction,
                                                    label_smoothing=0.2),
          g(randn(8, 4)), t, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(reduction, smoothing):
    target = rng.dirichlet(np.ones(5), 6).astype(np.float32)
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
          g(randn(6, 5)), g(target))
    check(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, reduction=reduction),
          g(randn(6, 5)), target, np.linspace(0.5, 1.5, 5).astype(np.float32))


@cpu_oracle_only
def test_cross_entropy_errors():
    x = randn(4, 3)
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, np.array([0, 1, 3, 2]))        # index out of range
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, np.array([0, 1, -2, 2]))       # negative index
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, np.array([0, 1, 2]))           # batch mismatch
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, randn(4, 2))                   # prob target shape
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, np.array([0, 1, 1, 2], np.int32))  # int32 target
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), x, np.zeros((4, 3), np.int64))    # multi-target
    check(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w), x, np.array([0, 1, 1, 2]), randn(2))
    with pytest.raises(IndexError, match="out of bounds"):  # raised on 'cuda' by the wait for the device
        tritensor.nn.functional.cross_entropy(tritensor.randn(2, 3, device=DEVICE),
                                              tritensor.tensor([0, 7], device=DEVICE)).item()


@pytest.mark.parametrize("call", [
    lambda lib, x, w: F(lib).cross_entropy(x, lib.tensor([0, 2], device=x.device), weight=w),
    lambda lib, x, w: F(lib).nll_loss(x.log_softmax(1), lib.tensor([0, 2], device=x.device), weight=w),
    lambda lib, x, w: F(lib).binary_cross_entropy(x[0].sigmoid(), x[1].sigmoid().detach(), weight=w),
    lambda lib, x, w: F(lib).binary_cross_entropy_with_logits(x[0], x[1].detach(), weight=w),
    lambda lib, x, w: F(lib).binary_cross_entropy_with_logits(x[0], x[1].detach(), pos_weight=w),
])
def test_loss_weights_that_require_grad_are_refused(call):
    """torch does not differentiate losses' weights: one requiring grad is a RuntimeError."""
    check(call, g(randn(2, 3)), g(np.array([1.0, 2.0, 0.5], np.float32)))


def test_cross_entropy_inputs_on_two_devices_or_of_integers_are_refused():
    """Labels left on the CPU with 'cuda' logits (a common slip) are torch's device error,
    not a kernel reading host memory; integer logits have no kernel, as in torch."""
    x, t = tritensor.randn(3, 5, device=DEVICE), tritensor.tensor([0, 1, 2])
    if DEVICE != "cpu":
        for call in (lambda: F(tritensor).cross_entropy(x, t), lambda: F(tritensor).nll_loss(x, t),
                     lambda: F(tritensor).cross_entropy(x, t.to(DEVICE), weight=tritensor.ones(5)),
                     lambda: F(tritensor).cross_entropy(x.cpu(), t.to(DEVICE))):
            with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
                call()
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), np.array([[1, 2], [0, 3]]), np.array([0, 1]))
    check(lambda lib, x, t: F(lib).nll_loss(x, t), np.array([[1, 2], [0, 3]]), np.array([0, 1]))


@pytest.mark.parametrize("pair", [([[0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0]]),
                                  ([[1.0, -2.0, 0.5]], [[0.0, 0.0, 0.0]]),
                                  ([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]], [[1.0, 2.0, 3.0]])])
def test_cosine_similarity_of_a_zero_vector_has_torchs_finite_gradient(pair):
    a, b = (np.array(p, np.float64) for p in pair)
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y), g(a), g(b))


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "smooth_l1_loss", "l1_loss"])
def test_pointwise_losses_refuse_integer_inputs(name):
    check(lambda lib, x, y: getattr(F(lib), name)(x, y), np.array([1, 2]), np.array([1, 3]))


@pytest.mark.parametrize("bad", [7, -3])
def test_out_of_range_inputs_name_the_value(bad):
    """nll_loss names the first bad target, binary_cross_entropy refuses inputs outside [0, 1];
    on 'cuda' the kernel's finding is raised by the next call that waits for the device."""
    logp = tritensor.randn(3, 4, device=DEVICE).log_softmax(1)
    with pytest.raises(IndexError, match=f"^Target {bad} is out of bounds"):
        tritensor.nn.functional.nll_loss(logp, tritensor.tensor([1, bad, 2], device=DEVICE)).item()
    p = tritensor.tensor([0.5, bad / 5, 0.2], device=DEVICE)  # 1.4 or -0.6
    with pytest.raises(RuntimeError, match="^all elements of input should be between 0 and 1"):
        tritensor.nn.functional.binary_cross_entropy(p, tritensor.zeros(3, device=DEVICE)).item()
    with pytest.raises(RuntimeError, match="^all elements of target should be between 0 and 1"):
        tritensor.nn.functional.binary_cross_entropy(p.clamp(0, 1), p.clamp(0, 1) + bad).item()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    t = labels(6, 4)
    t[0] = -100
    check(lambda lib, x, t: F(lib).nll_loss(x, t, reduction=reduction), g(randn(6, 4)), t)
    check(lambda lib, x, t, w: F(lib).nll_loss(x, t, weight=w, reduction=reduction),
          g(randn(2, 4, 3)), labels(2, 4, 3), np.array([1.0, 2.0, 0.5, 0.0], np.float32))


def test_cross_entropy_float64_gradcheck():
    target = tritensor.tensor([2, 0, 1], device=DEVICE)
    gradcheck(lambda lib, x: lib.nn.functional.cross_entropy(x, target, label_smoothing=0.1),
              randn(3, 4, dtype=np.float64))


def test_cross_entropy_extreme_logits_stay_finite():
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), g(np.array([[1000.0, -1000.0, 0.0]], np.float32)),
          np.array([1]))


# ---------------------------------------------------------------------------- binary cross entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y, reduction=reduction), g(probs(4, 3)),
          rng.integers(0, 2, (4, 3)).astype(np.float32))
    check(lambda lib, p, y, w: F(lib).binary_cross_entropy(p, y, weight=w, reduction=reduction),
          g(probs(4, 3)), probs(4, 3), np.array([1.0, 0.5, 2.0], np.float32))


@cpu_oracle_only  # inputs outside [0, 1] are a device-side assert in torch's CUDA build
def test_binary_cross_entropy_edges_and_errors():
    check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y), g(np.array([0.0, 1.0, 0.5], np.float32)),
          np.array([1.0, 0.0, 1.0], np.float32))  # log clamped at -100, like torch
    check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y), np.array([1.5, 0.2], np.float32),
          np.array([1.0, 0.0], np.float32))
    check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y), np.array([-0.1, 0.2], np.float32),
          np.array([1.0, 0.0], np.float32))
    check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y), probs(3, 2), probs(3))
    for target in (np.array([2.0, 0.0], np.float32), np.array([-0.1, 1.0], np.float32),  # outside [0, 1]
                   np.array([1, 0]), np.array([1.0, 0.0])):  # int64 and float64 targets
        check(lambda lib, p, y: F(lib).binary_cross_entropy(p, y), np.array([0.5, 0.2], np.float32), target)
    for target in (np.array([1, 0]), np.array([1.0, 0.0]), np.array([2.0, -1.0], np.float32)):
        check(lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y),
              np.array([0.5, -2.0], np.float32), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    y = rng.integers(0, 2, (5, 3)).astype(np.float32)
    check(lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y, reduction=reduction),
          g(randn(5, 3) * 4), g(y))
    check(lambda lib, x, y, w, pw: F(lib).binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                                           reduction=reduction),
          g(randn(5, 3) * 4), g(probs(5, 3)), np.array([1.0, 0.3, 2.0], np.float32),
          np.array([3.0, 1.0, 0.5], np.float32))
    check(lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y), randn(5, 3), randn(5))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_dtypes_layouts_and_nan(reduction, dtype):
    """The one-pass kernels in every float dtype, with and without a (broadcast) pos_weight: a
    transposed input, NaN logits, an empty batch; a target of another dtype takes tensor ops."""
    x = randn(4, 3) * 4
    x[2, 1] = np.nan

    def loss(lib, a, b, pw=None):
        return F(lib).binary_cross_entropy_with_logits(a, b, pos_weight=pw, reduction=reduction)
    check(loss, Arg(x, dtype, requires_grad=True), Arg(probs(4, 3), dtype, requires_grad=True))
    check(loss, Arg(x, dtype, requires_grad=True, transpose=True), Arg(probs(4, 3), dtype),
          Arg(np.array([3.0, 1.0, 0.5]), dtype))
    check(loss, Arg(x, dtype, requires_grad=True), Arg(probs(4, 3), "float32"))
    check(loss, Arg(np.zeros((0, 3)), dtype, requires_grad=True), Arg(np.zeros((0, 3)), dtype))


def test_bce_with_logits_large_logits_stable():
    check(lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y, reduction="none"),
          g(np.array([100.0, -100.0, 30.0], np.float32)), np.array([0.0, 1.0, 1.0], np.float32))


# ---------------------------------------------------------------------------- kl / triplet
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    target = rng.dirichlet(np.ones(4), 3).astype(np.float32)
    target[0, 1] = 0.0
    if log_target:
        target = np.log(target + 0.1)
    check(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction, log_target=log_target),
          g(np.log(rng.dirichlet(np.ones(4), 3)).astype(np.float32)), g(target))


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        tritensor.nn.functional.kl_div(tritensor.zeros(2, 2, device=DEVICE),
                                       tritensor.ones(2, 2, device=DEVICE))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"margin": 0.3, "p": 1.0}, {"swap": True}, {"p": 3.0}])
def test_triplet_margin_loss(reduction, kwargs):
    check(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, reduction=reduction, **kwargs),
          g(randn(6, 4)), g(randn(6, 4)), g(randn(6, 4)))


def test_triplet_errors():
    check(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n), randn(3, 2), randn(2), randn(3, 2))
    check(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, margin=0.0), randn(3, 2), randn(3, 2),
          randn(3, 2))


# ---------------------------------------------------------------------------- modules
@pytest.mark.parametrize("name,args,kwargs,inputs", [
    ("MSELoss", (), {}, lambda: (g(randn(3, 4)), randn(3, 4))),
    ("L1Loss", (), {"reduction": "sum"}, lambda: (g(randn(3, 4)), randn(3, 4))),
    ("HuberLoss", (), {"delta": 0.5}, lambda: (g(randn(3, 4)), randn(3, 4))),
    ("SmoothL1Loss", (), {"beta": 0.5}, lambda: (g(randn(3, 4)), randn(3, 4))),
    ("CrossEntropyLoss", (), {"label_smoothing": 0.1}, lambda: (g(randn(3, 4)), labels(3, 4))),
    ("NLLLoss", (), {"ignore_index": 1}, lambda: (g(randn(3, 4)), labels(3, 4))),
    ("BCELoss", (), {}, lambda: (g(probs(3, 4)), probs(3, 4))),
    ("BCEWithLogitsLoss", (), {}, lambda: (g(randn(3, 4)), probs(3, 4))),
    ("KLDivLoss", (), {"reduction": "batchmean"}, lambda: (g(randn(3, 4)), probs(3, 4))),
    ("TripletMarginLoss", (), {"margin": 2.0}, lambda: (g(randn(3, 4)), g(randn(3, 4)), g(randn(3, 4)))),
])
def test_loss_modules(name, args, kwargs, inputs):
    check(lambda lib, *xs: getattr(lib.nn, name)(*args, **kwargs)(*xs), *inputs())
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)


def test_weighted_loss_modules_register_buffers():
    w = np.array([1.0, 2.0, 0.5], np.float32)
    ours = tritensor.nn.CrossEntropyLoss(weight=tritensor.tensor(w))
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    check(lambda lib, x, t, w: lib.nn.CrossEntropyLoss(weight=w)(x, t), g(randn(5, 3)), labels(5, 3), w)
    pw = np.array([2.0, 1.0, 0.5], np.float32)
    check(lambda lib, x, t, pw: lib.nn.BCEWithLogitsLoss(pos_weight=pw)(x, t), g(randn(5, 3)), probs(5, 3),
          pw)
    assert list(tritensor.nn.BCEWithLogitsLoss(pos_weight=tritensor.tensor(pw)).state_dict()) == \
        list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)).state_dict())


def test_seed_custom_and_multitask_losses():
    """The seed's CustomLoss, custom_loss (F.binary_cross_entropy) and MultiTaskLoss, in both libraries."""
    def run(lib, pred, target, logits, classes):
        nn, Fn = lib.nn, lib.nn.functional

        class CustomLoss(nn.Module):
            def __init__(self, alpha=0.5):
                super().__init__()
                self.alpha = alpha

            def forward(self, pred, target):
                mse = lib.mean((pred - target) ** 2)
                l1 = lib.mean(lib.abs(pred - target))
                return self.alpha * mse + (1 - self.alpha) * l1

        def custom_loss(pred, target, beta=0.3):
            base_loss = Fn.binary_cross_entropy(pred, target)
            penalty = lib.mean(lib.relu(pred - 0.7)) ** 2
            return base_loss + beta * penalty

        class MultiTaskLoss(nn.Module):
            def __init__(self):
                super().__init__()
                self.ce = nn.CrossEntropyLoss()
                self.mse = nn.MSELoss()

            def forward(self, pred_class, pred_reg, target_class, target_reg):
                return self.ce(pred_class, target_class) + 0.5 * self.mse(pred_reg, target_reg)

        return (CustomLoss()(pred, target) + custom_loss(pred, target)
                + MultiTaskLoss()(logits, pred, classes, target))

    check(run, g(probs(4, 3)), probs(4, 3), g(randn(4, 5)), labels(4, 5))


def test_loss_on_device_follows_input():
    x = tritensor.randn(3, 4, device=DEVICE, requires_grad=True)
    loss = tritensor.nn.CrossEntropyLoss()(x, tritensor.tensor([0, 1, 2], device=DEVICE))
    loss.backward()
    assert loss.device.type == DEVICE.split(":")[0] and x.grad.shape == (3, 4)


# ---------------------------------------------------------------------------- fused cross entropy path
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_non_contiguous_and_wide_rows(reduction):
    assert check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction),
                 Arg(randn(6, 7), requires_grad=True, transpose=True), labels(6, 7)) is not None
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction), g(randn(3, 1000) * 30),
          labels(3, 1000))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 3)])
def test_cross_entropy_dtypes(dtype, shape):
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), Arg(randn(*shape), dtype, requires_grad=True),
          labels(shape[0], shape[1], *shape[2:]))


@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 2)])  # fused 2-d path and composed k-d path
def test_cross_entropy_nan_logits_and_all_ignored(shape):
    x = randn(*shape)
    x[1, 2] = np.nan
    t = labels(shape[0], shape[1], *shape[2:])
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction="none"), g(x), t)
    check(lambda lib, x, t: F(lib).cross_entropy(x, t), g(randn(*shape)), np.full(t.shape, -100))


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_double_backward(smoothing):
    """create_graph through the fused kernel's backward (it switches to tensor ops)."""
    x_np, w_np, t_np = randn(4, 5).astype(np.float64), np.linspace(0.5, 2, 5), np.array([0, 4, 2, 2])
    results = []
    for lib in (torch, tritensor):
        d = dev(lib)
        x = lib.tensor(x_np, requires_grad=True, device=d)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(t_np, device=d),
                                               weight=lib.tensor(w_np, device=d), label_smoothing=smoothing)
        (gx,) = lib.autograd.grad(loss, x, create_graph=True)
        (ggx,) = lib.autograd.grad((gx ** 2).sum(), x)
        results.append((gx.detach(), ggx))
    for e, a in zip(*results):
        np.testing.assert_allclose(to_numpy(a), e.cpu().numpy(), rtol=1e-7, atol=1e-9)


DOUBLE_BACKWARD = {
    "mse_loss": lambda F, x, y, w, b: F.mse_loss(x, y),
    "mse_loss sum": lambda F, x, y, w, b: F.mse_loss(x * w, y, reduction="sum"),
    "huber_loss": lambda F, x, y, w, b: F.huber_loss(x, y, delta=0.5),
    "smooth_l1_loss none": lambda F, x, y, w, b: F.smooth_l1_loss(x, y * b, reduction="none"),
    "layer_norm": lambda F, x, y, w, b: F.layer_norm(x, (3,), w, b) * y,
    "layer_norm, affine from x": lambda F, x, y, w, b: F.layer_norm(x, (3,), x[0], x[1]) * y,
    "batch_norm train": lambda F, x, y, w, b: F.batch_norm(x, None, None, w, b, training=True) * y,
    "batch_norm eval": lambda F, x, y, w, b: F.batch_norm(x, w.detach() * 0.1, b.detach().abs() + 1, w, b)
    * y,
}


@pytest.mark.parametrize("case", list(DOUBLE_BACKWARD))
def test_double_backward_through_fused_backwards(case):
    """Fused losses and normalisations compute their gradient from tensors forward kept;
    with create_graph the gradient must still be differentiable in every input (it came
    back without a graph, or with a partial one, before)."""
    fn = DOUBLE_BACKWARD[case]
    x_np, y_np = randn(2, 3).astype(np.float64) + 1, randn(2, 3).astype(np.float64)
    w_np, b_np = np.linspace(0.5, 2, 3), np.linspace(-1, 1, 3)
    results = []
    for lib in (torch, tritensor):
        x, y, w, b = (lib.tensor(a, requires_grad=True, device=dev(lib)) for a in (x_np, y_np, w_np, b_np))
        out = fn(lib.nn.functional, x, y, w, b)
        inputs = (x, y, w, b)
        grads = lib.autograd.grad(out.sum() if out.dim() else out, inputs, create_graph=True,
                                  allow_unused=True)
        used = [(t, g) for t, g in zip(inputs, grads) if g is not None]
        assert all(g.requires_grad for _, g in used)
        second = lib.autograd.grad(sum((g * g).sum() for _, g in used), [t for t, _ in used],
                                   allow_unused=True)
        results.append([g.detach() for _, g in used] + list(second))
    assert len(results[0]) == len(results[1])
    for e, a in zip(*results):
        if e is None:
            assert a is None or not to_numpy(a).any()
        else:
            np.testing.assert_allclose(to_numpy(a), e.cpu().numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(3, 5), (3, 5, 2)])  # fused 2-d path and composed k-d path
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_entropy_masked_minus_inf_logits(shape, dtype):
    """Masked classes (not the targets) leave the loss finite, the first class included (a
    row's sum once started from its first logit times zero: -inf * 0 is nan); with label
    smoothing the loss is inf, as in torch."""
    x = randn(*shape).astype(dtype)
    x[0, 1] = x[2, 4] = x[1, 0] = -np.inf
    t = np.array([0, 2, 3]) if len(shape) == 2 else np.array([[0, 0], [2, 2], [3, 3]])
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction="none"), g(x), t)
    check(lambda lib, x, t: F(lib).cross_entropy(x, t, label_smoothing=0.1), g(x), t)


@pytest.mark.parametrize("weight_dtype", ["float64", "float32"])
def test_class_weight_of_another_dtype_is_an_error(weight_dtype):
    """torch refuses a weight whose dtype differs from the input's (no silent conversion)."""
    x = rng.standard_normal((3, 4)).astype(np.float32 if weight_dtype == "float64" else np.float64)
    t = np.array([0, 1, 3])
    w = np.ones(4, weight_dtype)
    check(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, weight=w), x, t, w)
    check(lambda lib, x, t, w: lib.nn.functional.nll_loss(x, t, weight=w), x, t, w)
    for lib in (torch, tritensor):  # torch's type names in the message (Long, not torch.int64)
        with pytest.raises(RuntimeError, match="^expected scalar type Float but found Long$"):
            lib.nn.functional.nll_loss(lib.zeros(2, 3), lib.tensor([0, 1]),
                                       weight=lib.ones(3, dtype=lib.int64))
