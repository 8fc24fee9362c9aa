"""The remaining torch.nn layers against torch: affine_grid / grid_sample, CTC loss, the lazy
modules, fractional max pooling and AdaptiveLogSoftmaxWithLoss."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import (DEVICE, Arg, assert_same, check, compare_modules, copied_state, distinct, gradcheck,
                     module_pair)

rng = np.random.default_rng(0)


def F(lib):
    return lib.nn.functional


def grid_points(*shape, spread=1.3):
    """Normalised sampling points, some beyond [-1, 1] (where the padding modes differ)."""
    return rng.uniform(-spread, spread, shape)


# ---------------------------------------------------------------------------- grid_sample
#: every mode with every padding mode, align_corners alternating (each pairing of it with a
#: mode and with a padding mode occurs)
GRID_OPTIONS = [(mode, padding, (i + j) % 2 == 1) for i, mode in enumerate(("bilinear", "nearest", "bicubic"))
                for j, padding in enumerate(("zeros", "border", "reflection"))]


@pytest.mark.parametrize("mode, padding_mode, align_corners", GRID_OPTIONS)
def test_grid_sample_2d(mode, padding_mode, align_corners):
    check(lambda lib, x, g: F(lib).grid_sample(x, g, mode, padding_mode, align_corners),
          Arg(rng.standard_normal((2, 3, 4, 5)), "float64", requires_grad=True),
          Arg(grid_points(2, 3, 4, 2), "float64", requires_grad=True))


@pytest.mark.parametrize("mode, padding_mode, align_corners",
                         [("bilinear", "zeros", False), ("bilinear", "reflection", True),
                          ("nearest", "border", False), ("bilinear", "border", True)])
def test_grid_sample_3d(mode, padding_mode, align_corners):
    check(lambda lib, x, g: F(lib).grid_sample(x, g, mode, padding_mode, align_corners),
          Arg(rng.standard_normal((2, 2, 3, 4, 3)), "float32", requires_grad=True),
          Arg(grid_points(2, 2, 3, 2, 3), "float32", requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_grid_sample_dtypes(dtype):
    """16-bit floats compute in float32 and round once; torch's bfloat16 kernel rounds every
    step, so its grid gradient is too coarse to compare (half of it off by 50 % in a sample)."""
    grad = dtype != "bfloat16"
    check(lambda lib, x, g: F(lib).grid_sample(x, g, "bilinear", "border", False),
          Arg(rng.standard_normal((1, 2, 4, 4)), dtype, requires_grad=grad),
          Arg(grid_points(1, 3, 2, 2), dtype, requires_grad=grad))


def test_grid_sample_non_contiguous_and_empty():
    check(lambda lib, x, g: F(lib).grid_sample(x.permute(3, 2, 1, 0), g.permute(3, 2, 1, 0),
                                               align_corners=True),
          Arg(rng.standard_normal((5, 4, 3, 2)), requires_grad=True),
          Arg(grid_points(2, 3, 4, 2), requires_grad=True))
    for x_shape, g_shape in [((0, 2, 3, 3), (0, 2, 2, 2)), ((2, 0, 3, 3), (2, 2, 2, 2)),
                             ((2, 3, 3, 3), (2, 0, 2, 2))]:
        check(lambda lib, x, g: F(lib).grid_sample(x, g, align_corners=False),
              Arg(rng.standard_normal(x_shape), requires_grad=True),
              Arg(grid_points(*g_shape), requires_grad=True))


def test_grid_sample_default_align_corners_warns():
    x = tritensor.zeros(1, 1, 2, 2, device=DEVICE)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F(tritensor).grid_sample(x, tritensor.zeros(1, 1, 1, 2, device=DEVICE))


@pytest.mark.parametrize("mode, padding_mode", [("bilinear", "reflection"), ("bicubic", "zeros")])
def test_grid_sample_gradcheck(mode, padding_mode):
    gradcheck(lambda lib, x, g: F(lib).grid_sample(x, g, mode, padding_mode, False),
              rng.standard_normal((1, 1, 2, 2)), grid_points(1, 1, 1, 2))


def test_torch_level_grid_sampler():
    check(lambda lib, x, g: lib.grid_sampler(x, g, 2, 1, True),
          Arg(rng.standard_normal((1, 2, 3, 4)), requires_grad=True),
          Arg(grid_points(1, 2, 2, 2), requires_grad=True))


@pytest.mark.parametrize("fn", [
    lambda lib, x, g: F(lib).grid_sample(x, g, mode="area", align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x, g, padding_mode="wrap", align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x, g.double(), align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x, g[:1], align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x, g[..., :1], align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x[0], g, align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x[:, :, :0], g, align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x.long(), g.long(), align_corners=False),
    lambda lib, x, g: F(lib).grid_sample(x.unsqueeze(-1), g.unsqueeze(-2)[..., :1].expand(2, 3, 3, 1, 3),
                                         mode="bicubic", align_corners=False),
])
def test_grid_sample_errors(fn):
    check(fn, rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
          grid_points(2, 3, 3, 2).astype(np.float32))


# ---------------------------------------------------------------------------- affine_grid
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 1), (1, 2, 3, 2, 4)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(size, align_corners):
    n = len(size) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners warn
        check(lambda lib, theta: F(lib).affine_grid(theta, size, align_corners),
              Arg(rng.standard_normal((size[0], n, n + 1)), requires_grad=True))


def test_affine_grid_then_grid_sample():
    """The usual pairing (a spatial transformer), as one graph through both nodes."""
    def fn(lib, x, theta):
        grid = F(lib).affine_grid(theta, x.shape, align_corners=False)
        return F(lib).grid_sample(x, grid, align_corners=False)
    check(fn, Arg(rng.standard_normal((2, 3, 4, 4)), requires_grad=True),
          Arg(np.array([[[0.9, 0.2, 0.1], [-0.3, 1.1, 0.05]]] * 2) + rng.normal(0, 0.1, (2, 2, 3)),
              requires_grad=True))
    gradcheck(lambda lib, theta: F(lib).affine_grid(theta, (1, 1, 2, 3, 2), False),
              rng.standard_normal((1, 3, 4)))


def test_affine_grid_forms_and_dtypes():
    for dtype in ("float64", "float16"):
        check(lambda lib, theta: lib.affine_grid_generator(theta, (2, 3, 4, 5), False),
              Arg(rng.standard_normal((2, 2, 3)), dtype, requires_grad=True))
    check(lambda lib, theta: F(lib).affine_grid(theta.transpose(1, 2), lib.Size((2, 3, 4, 5)), True),
          Arg(rng.standard_normal((2, 3, 2)), requires_grad=True))


@pytest.mark.parametrize("fn", [
    lambda lib, t: F(lib).affine_grid(t.long(), (2, 3, 4, 5), False),
    lambda lib, t: F(lib).affine_grid(t, (2, 3, 4, 5, 6), False),
    lambda lib, t: F(lib).affine_grid(t[:1], (2, 3, 4, 5), False),
    lambda lib, t: F(lib).affine_grid(t, (2, 3, 4), False),
    lambda lib, t: F(lib).affine_grid(t, (2, 3, 0, 5), False),
    lambda lib, t: F(lib).affine_grid(t[0], (2, 3, 4, 5), False),
    lambda lib, t: F(lib).affine_grid(t[:0], (0, 3, 4, 5), False),
])
def test_affine_grid_errors(fn):
    check(fn, rng.standard_normal((2, 2, 3)))


# ---------------------------------------------------------------------------- CTC loss
#: 4 samples of up to 6 steps, 5 classes: repeated labels (a blank must separate them), a
#: short input, an empty target, and one too long for its input (infinite loss)
CTC_TARGETS = np.array([[1, 2, 2], [3, 1, 0], [4, 0, 0], [2, 2, 2]])
CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS = (6, 4, 5, 4), (3, 2, 0, 3)


def log_probs(lib, logits):
    return logits.log_softmax(-1)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss(reduction, zero_infinity):
    check(lambda lib, x: F(lib).ctc_loss(log_probs(lib, x), lib.tensor(CTC_TARGETS, device=x.device),
                                         CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, reduction=reduction,
                                         zero_infinity=zero_infinity),
          Arg(rng.standard_normal((6, 4, 5)), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ctc_loss_concatenated_targets_tensor_lengths_and_blank(dtype):
    """1-D targets, int32 length tensors, blank 4, a non-contiguous (T, N, C) view."""
    def fn(lib, x, targets, input_lengths, target_lengths):
        return F(lib).ctc_loss(log_probs(lib, x.transpose(0, 1)), targets, input_lengths, target_lengths,
                               blank=4, reduction="none")
    check(fn, Arg(rng.standard_normal((3, 5, 5)), dtype, requires_grad=True),
          np.array([0, 1, 1, 3, 2]), np.array([5, 3, 4], np.int32), np.array([2, 1, 2], np.int32))


def test_ctc_loss_unbatched():
    """(T, C) log_probs, (S,) targets; lengths as 1-tuples, lists or 0-d tensors (bare ints are
    a TypeError)."""
    def fn(reduction, input_length, target_length):
        return lambda lib, x: F(lib).ctc_loss(log_probs(lib, x), lib.tensor([1, 3], device=x.device),
                                              input_length, target_length, reduction=reduction)
    for reduction, lengths in [("none", ((5,), (2,))), ("mean", ([5], [2])), ("sum", (5, 2))]:
        check(fn(reduction, *lengths), Arg(rng.standard_normal((5, 4)), requires_grad=True))
    check(lambda lib, x, il, tl: F(lib).ctc_loss(log_probs(lib, x), lib.tensor([2], device=x.device), il, tl,
                                                 reduction="none"),
          Arg(rng.standard_normal((3, 4)), requires_grad=True), np.array(3), np.array(1))


def test_ctc_loss_module_and_torch_form():
    assert repr(tritensor.nn.CTCLoss()) == repr(torch.nn.CTCLoss()) == "CTCLoss()"
    check(lambda lib, x: lib.nn.CTCLoss(blank=1, reduction="sum", zero_infinity=True)(
              log_probs(lib, x), lib.tensor(CTC_TARGETS, device=x.device) % 4 + 2, CTC_INPUT_LENGTHS,
              CTC_TARGET_LENGTHS),
          Arg(rng.standard_normal((6, 4, 6)), requires_grad=True))
    for reduction in ((), (0, 1)):  # torch's default is 0 (none) here
        check(lambda lib, x, il, tl: lib.ctc_loss(log_probs(lib, x), lib.tensor(CTC_TARGETS, device=x.device),
                                                  il, tl, *reduction),
              Arg(rng.standard_normal((6, 4, 5)), requires_grad=True), np.array(CTC_INPUT_LENGTHS),
              np.array(CTC_TARGET_LENGTHS))


def test_ctc_loss_gradcheck():
    """torch's gradient is the one of the logits under a log_softmax, so check through it."""
    gradcheck(lambda lib, x: F(lib).ctc_loss(x.log_softmax(-1), lib.tensor([[1, 1]], device=x.device),
                                             (3,), (2,), reduction="sum"),
              rng.standard_normal((3, 1, 2)))


@pytest.mark.parametrize("fn", [
    lambda lib, x, t: F(lib).ctc_loss(x, t, (6, 5), (2, 2)),                       # input too long
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5,), (2, 2)),                         # lengths per sample
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, 5), (2, 3)),                       # target too short
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, 5), (2, -1)),
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, -1), (2, 1)),
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, 5), (2, 2), blank=4),
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, 5), (2, 2), blank=-1),
    lambda lib, x, t: F(lib).ctc_loss(x.half(), t, (5, 5), (2, 2)),
    lambda lib, x, t: F(lib).ctc_loss(x, t.flatten(), (5, 5), (2, 3)),
    lambda lib, x, t: F(lib).ctc_loss(x, t, lib.tensor([5.0, 5.0]), lib.tensor([2, 2])),
    lambda lib, x, t: F(lib).ctc_loss(x, t, lib.tensor([5, 5]), (2, 2)),           # mixed forms
    lambda lib, x, t: F(lib).ctc_loss(x.unsqueeze(0), t, (5, 5), (2, 2)),
    lambda lib, x, t: F(lib).ctc_loss(x, t.unsqueeze(0), (5, 5), (2, 2)),
    lambda lib, x, t: F(lib).ctc_loss(x[:, :0], t[:0], (), ()),                    # empty batch
    lambda lib, x, t: F(lib).ctc_loss(x, t, (5, 5), (2, 2), reduction="max"),
])
def test_ctc_loss_errors(fn):
    check(fn, rng.standard_normal((5, 2, 4)), np.array([[1, 2], [1, 1]]))


# ---------------------------------------------------------------------------- lazy modules
LAZY = [("LazyLinear", (4,), {}, (2, 3)), ("LazyLinear", (3,), {"bias": False}, (5,)),
        ("LazyConv1d", (4, 2), {"padding": 1}, (2, 3, 5)),
        ("LazyConv2d", (4, 3), {"stride": 2, "bias": False}, (1, 2, 5, 5)),
        ("LazyConv3d", (2, 2), {"groups": 2}, (2, 3, 3, 3)), ("LazyConvTranspose1d", (5, 2), {}, (2, 3, 4)),
        ("LazyConvTranspose2d", (2, 3), {"output_padding": 1, "stride": 2}, (1, 2, 3, 3)),
        ("LazyConvTranspose3d", (2, 2), {"bias": False}, (1, 2, 2, 2, 2)),
        ("LazyBatchNorm1d", (), {}, (4, 3)), ("LazyBatchNorm2d", (), {"affine": False}, (2, 3, 2, 2)),
        ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 2, 2, 2, 2)),
        ("LazyInstanceNorm1d", (), {}, (2, 3, 4)),
        ("LazyInstanceNorm2d", (), {"affine": False}, (2, 3, 2, 3)),
        ("LazyInstanceNorm3d", (), {"momentum": 0.5}, (2, 2, 2, 2, 3))]


@pytest.mark.parametrize("name, args, kwargs, shape", LAZY)
def test_lazy_module_becomes_its_layer(name, args, kwargs, shape):
    ref = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(tritensor.nn, name)(*args, **kwargs).to(DEVICE)  # the placeholders move too
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.has_uninitialized_params() == ref.has_uninitialized_params()
    x = rng.standard_normal(shape).astype(np.float32)
    ref(torch.tensor(x))
    ours(tritensor.tensor(x, device=DEVICE))
    assert type(ours).__name__ == type(ref).__name__ == name[len("Lazy"):]  # LazyLinear -> Linear
    assert repr(ours) == repr(ref)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    ours.load_state_dict(copied_state(ref))
    compare_modules(ref, ours, x)


def test_lazy_placeholders():
    p, b = tritensor.nn.UninitializedParameter(), tritensor.nn.UninitializedBuffer()
    assert (repr(p), repr(b)) == ("<UninitializedParameter>", "<UninitializedBuffer>")
    assert p.requires_grad and not b.requires_grad
    assert isinstance(p, tritensor.nn.Parameter) and p.cls_to_become is tritensor.nn.Parameter
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        p.shape
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        p + 1
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        p.sum()
    converted = p.double()
    assert type(converted) is type(p) and converted.dtype is tritensor.float64
    p.materialize((2, 3), dtype=tritensor.float64)
    assert type(p) is tritensor.nn.Parameter and tuple(p.shape) == (2, 3) and p.dtype is tritensor.float64
    b.materialize(4)
    assert type(b) is tritensor.Tensor and tuple(b.shape) == (4,)


def test_lazy_module_with_optimizer_load_state_dict_and_errors():
    model = tritensor.nn.LazyLinear(2).to(DEVICE)
    optimizer = tritensor.optim.SGD(model.parameters(), lr=0.5)  # before the parameters have a shape
    model(tritensor.ones(3, 4, device=DEVICE)).sum().backward()
    before = model.weight.detach().clone()
    optimizer.step()
    assert not bool(tritensor.equal(before, model.weight.detach()))
    assert isinstance(model, tritensor.nn.Linear) and not hasattr(model, "has_uninitialized_params")

    lazy = tritensor.nn.LazyLinear(4)
    result = lazy.load_state_dict(tritensor.nn.Linear(3, 4).state_dict())
    assert str(result) == "<All keys matched successfully>"
    assert tuple(lazy.weight.shape) == (4, 3) and not lazy.has_uninitialized_params()
    ref = torch.nn.LazyLinear(4)
    ref.load_state_dict(torch.nn.Linear(3, 4).state_dict())
    ref(torch.zeros(1, 3)), lazy(tritensor.zeros(1, 3))
    assert repr(lazy) == repr(ref) == "Linear(in_features=3, out_features=4, bias=True)"

    for lib in (torch, tritensor):  # wrong rank; channels that the groups do not divide
        with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D .batched. input to LazyConv2d"):
            lib.nn.LazyConv2d(2, 3)(lib.zeros(2, 3))
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv1d(2, 1, groups=2)(lib.zeros(1, 3, 4))


# ---------------------------------------------------------------------------- fractional max pool
def samples(*shape):
    return rng.uniform(0, 1, shape)


@pytest.mark.parametrize("n, shape, kernel, options", [
    (2, (2, 3, 7, 8), 3, {"output_size": (4, 5)}),
    (2, (2, 2, 9, 6), (2, 3), {"output_ratio": (0.5, 0.6)}),
    (2, (3, 5, 5), 2, {"output_size": 3}),                                     # unbatched
    (3, (2, 2, 5, 6, 7), 2, {"output_size": (3, 4, 3)}),
    (3, (2, 4, 4, 5), (2, 1, 2), {"output_ratio": (0.5, 0.5, 0.6)}),           # unbatched
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool(n, shape, kernel, options, dtype):
    lead = (shape[0], shape[1]) if len(shape) == n + 2 else (1, shape[0])
    pool = f"fractional_max_pool{n}d"
    check(lambda lib, x, u: getattr(F(lib), pool)(x, kernel, return_indices=True, _random_samples=u,
                                                  **options),
          Arg(rng.standard_normal(shape), dtype, requires_grad=True), Arg(samples(*lead, n), dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fractional_max_pool_16_bit_and_non_contiguous(dtype):
    check(lambda lib, x, u: F(lib).fractional_max_pool2d_with_indices(x.transpose(2, 3), 2, (3, 2),
                                                                      _random_samples=u),
          Arg(rng.standard_normal((2, 2, 5, 6)), dtype, requires_grad=True), Arg(samples(3, 2, 2), dtype))
    check(lambda lib, x, u: F(lib).fractional_max_pool2d(x, 2, (2, 2), _random_samples=u),
          Arg(rng.standard_normal((0, 2, 4, 4)), requires_grad=True), Arg(samples(0, 2, 2)))


def test_fractional_max_pool_random_samples_and_gradcheck():
    x = tritensor.tensor(rng.standard_normal((2, 3, 8, 8)), device=DEVICE)
    out, indices = F(tritensor).fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5), return_indices=True)
    assert tuple(out.shape) == (2, 3, 4, 4)
    flat = x.reshape(2, 3, 64)
    assert bool((flat.gather(2, indices.reshape(2, 3, 16)).reshape(out.shape) == out).all())
    u = samples(1, 1, 3)
    gradcheck(lambda lib, x: F(lib).fractional_max_pool3d(x, 2, (1, 2, 1), _random_samples=lib.tensor(
        u, device=x.device)), distinct((1, 1, 2, 3, 2)))


def test_fractional_max_pool_modules():
    for n, args in [(2, dict(kernel_size=3, output_ratio=(0.5, 0.5))), (3, dict(kernel_size=2, output_size=3,
                                                                               return_indices=True))]:
        ref, ours = (getattr(lib.nn, f"FractionalMaxPool{n}d")(**args) for lib in (torch, tritensor))
        assert repr(ours) == repr(ref) and list(ours.state_dict()) == list(ref.state_dict()) == []
    u = samples(2, 3, 2)
    check(lambda lib, x, u: lib.nn.FractionalMaxPool2d(2, output_ratio=0.5, _random_samples=u)(x),
          Arg(rng.standard_normal((2, 3, 6, 7)), requires_grad=True), Arg(u))
    for kwargs in [{}, {"output_ratio": 1.5}, {"output_size": 2, "output_ratio": 0.5}]:
        for lib in (torch, tritensor):
            with pytest.raises(ValueError):
                lib.nn.FractionalMaxPool2d(2, **kwargs)


@pytest.mark.parametrize("fn", [
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, output_ratio=0.5),           # a float: TypeError
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, output_ratio=(0.5, 0.5, 0.5)),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (7, 5), _random_samples=u),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (4, 7), _random_samples=u),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (4, 5), _random_samples=u[:1]),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (4, 5), _random_samples=u.double()),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x.long(), 3, (4, 5), _random_samples=u),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x[:, :0], 3, (4, 5), _random_samples=u[:, :0]),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x[0, 0], 3, (4, 5), _random_samples=u),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (4, 5), _random_samples=u[..., :1]),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, 3, (4, 5), _random_samples=u[:, :1]),
    lambda lib, x, u: F(lib).fractional_max_pool2d(x, (3, 3, 3), (4, 5), _random_samples=u),
    lambda lib, x, u: F(lib).fractional_max_pool3d(x, 2, 2, _random_samples=u),
])
def test_fractional_max_pool_errors(fn):
    check(fn, rng.standard_normal((2, 3, 7, 8)).astype(np.float32), samples(2, 3, 2).astype(np.float32))


# ---------------------------------------------------------------------------- AdaptiveLogSoftmaxWithLoss
def adaptive_pair(**kwargs):
    """torch's module and ours holding its initial weights."""
    ref, ours = module_pair("AdaptiveLogSoftmaxWithLoss", 16, 10, [3, 6], **kwargs)
    assert repr(ours) == repr(ref)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    return {torch: ref, tritensor: ours}


@pytest.mark.parametrize("kwargs", [{}, {"div_value": 2.0, "head_bias": True}])
def test_adaptive_log_softmax(kwargs):
    models = adaptive_pair(**kwargs)
    target = np.array([0, 4, 9, 2, 7, 5])
    out = check(lambda lib, x: tuple(models[lib](x, lib.tensor(target, device=x.device))),
                Arg(rng.standard_normal((6, 16)), "float32", requires_grad=True))
    assert type(out).__name__ == "tuple"
    ref, ours = models[torch], models[tritensor]
    for (name, p), (_, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert_same(p.grad, q.grad, what=f"grad of {name}")
    check(lambda lib, x: models[lib].log_prob(x),
          Arg(rng.standard_normal((4, 16)), "float32", requires_grad=True))
    check(lambda lib, x: models[lib].predict(x), Arg(rng.standard_normal((20, 16)) * 3, "float32"))


def test_adaptive_log_softmax_forms_and_errors():
    models = adaptive_pair()
    x, target = tritensor.randn(3, 16, device=DEVICE), tritensor.tensor([1, 5, 8], device=DEVICE)
    result = models[tritensor](x, target)
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")
    check(lambda lib, x: tuple(models[lib](x, lib.tensor(7, device=x.device))),       # unbatched
          Arg(rng.standard_normal(16), "float32", requires_grad=True))
    check(lambda lib, x: tuple(models[lib](x, lib.tensor([], dtype=lib.int64, device=x.device))),  # empty
          Arg(rng.standard_normal((0, 16)), "float32"))
    for fn in [lambda lib, x: models[lib](x, lib.tensor([1, 2], device=x.device)),
               lambda lib, x: models[lib](x, lib.tensor([1, 2, 10], device=x.device)),
               lambda lib, x: models[lib](x, lib.tensor([-1, 2, 3], device=x.device)),
               lambda lib, x: models[lib](x.unsqueeze(0), lib.tensor([1, 2, 3], device=x.device)),
               lambda lib, x: models[lib](x, lib.tensor([[1, 2, 3]], device=x.device)),
               lambda lib, x: models[lib](x, lib.tensor(1, device=x.device)),
               lambda lib, x: models[lib].log_prob(x[0])]:
        check(fn, Arg(rng.standard_normal((3, 16)), "float32"))
    for cutoffs in ([], [6, 3], [3, 10], [3, 3], [0, 3]):
        for lib in (torch, tritensor):
            with pytest.raises(ValueError, match="cutoffs should be a sequence"):
                lib.nn.AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs)


# ---------------------------------------------------------------------------- NLLLoss2d, SyncBatchNorm
def test_nll_loss_2d_is_a_deprecated_nll_loss():
    for lib in (torch, tritensor):
        with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
            lib.nn.NLLLoss2d(ignore_index=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert repr(tritensor.nn.NLLLoss2d()) == repr(torch.nn.NLLLoss2d()) == "NLLLoss2d()"
        check(lambda lib, x: lib.nn.NLLLoss2d(ignore_index=1)(x.log_softmax(1),
                                                             lib.tensor([[[0, 1], [2, 1]]], device=x.device)),
              Arg(rng.standard_normal((1, 3, 2, 2)), requires_grad=True))


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 2, 2, 2)])
def test_sync_batch_norm_in_one_process(shape):
    ref, ours = module_pair("SyncBatchNorm", 3, momentum=None)
    assert repr(ours) == repr(ref) and list(ours.state_dict()) == list(ref.state_dict())
    compare_modules(ref, ours, rng.standard_normal(shape))
    ref.eval(), ours.eval()
    compare_modules(ref, ours, rng.standard_normal(shape))
    for lib in (torch, tritensor):
        with pytest.raises(ValueError, match="expected at least 2D input"):
            lib.nn.SyncBatchNorm(3)(lib.zeros(3))
    with pytest.raises(NotImplementedError, match="process_group"):
        tritensor.nn.SyncBatchNorm(3, process_group=object())


def test_convert_sync_batchnorm():
    models = {lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3, affine=False)) for lib in
              (torch, tritensor)}
    converted = {lib: lib.nn.SyncBatchNorm.convert_sync_batchnorm(m) for lib, m in models.items()}
    assert repr(converted[tritensor]) == repr(converted[torch])
    assert converted[tritensor][1].running_mean is models[tritensor][1].running_mean
