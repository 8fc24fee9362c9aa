"""The second wave of nn: shrink/PReLU/RReLU/Softmin activations, group/RMS/instance norms,
margin and likelihood losses, bilinear, distance and padding modules, against torch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import DEVICE, TORCH_2_13, Arg, assert_same, check, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def g(x, dtype=None):
    return Arg(x, dtype=dtype, requires_grad=True)


def F(lib):
    return lib.nn.functional


def signs(*shape):
    return rng.choice([-1.0, 1.0], shape).astype(np.float32)


# ---------------------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrink_values_and_gradients(name, dtype):
    x = np.array([-2.0, -0.5, -0.3, 0.0, 0.5, 0.51, 1.0, np.inf, -np.inf], np.float32)
    check(lambda lib, t: getattr(F(lib), name)(t), g(x, dtype))
    # NaN passes through; its gradient differs between torch's vectorised and scalar CPU loops
    check(lambda lib, t: getattr(F(lib), name)(t), Arg(np.array([np.nan, 1.0], np.float32), dtype))
    check(lambda lib, t: getattr(F(lib), name)(t, 0.25), g(randn(3, 4), dtype))


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrink_layouts_and_errors(name):
    check(lambda lib, t: getattr(F(lib), name)(t, 0.4), Arg(randn(4, 3), requires_grad=True, transpose=True))
    check(lambda lib, t: getattr(F(lib), name)(t), g(np.float32(0.7)))
    check(lambda lib, t: getattr(F(lib), name)(t), g(randn(0, 3)))
    check(lambda lib, t: getattr(F(lib), name)(t), np.array([1, 2], np.int64))
    check(lambda lib, t: getattr(F(lib), name)(t, -1.0), randn(3))  # soft: RuntimeError; hard: all kept
    module = {"hardshrink": "Hardshrink", "softshrink": "Softshrink"}[name]
    assert repr(getattr(tritensor.nn, module)(0.3)) == repr(getattr(torch.nn, module)(0.3))
    gradcheck(lambda lib, t: getattr(F(lib), name)(t, 0.4), np.array([-1.0, -0.2, 0.3, 0.9]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin(dim):
    check(lambda lib, t: F(lib).softmin(t, dim), g(randn(3, 4)))
    check(lambda lib, t: F(lib).softmin(t, dim, dtype=lib.float64), g(randn(3, 4)))
    check(lambda lib, t: lib.nn.Softmin(dim)(t), g(randn(2, 5), "float64"))


def test_softmin_implicit_dim_warns():
    x = tritensor.tensor(randn(2, 3), device=DEVICE)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = F(tritensor).softmin(x)
    assert_same(torch.softmax(-torch.tensor(to_numpy(x)), 1), y)


@pytest.mark.parametrize(
    "shape,weights",
    [((2, 3, 4), 3), ((2, 3, 4), 1), ((5, 2), 2), ((4,), 1), ((), 1), ((2, 3, 2, 2), 3), ((0, 3), 3)],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prelu(shape, weights, dtype):
    check(
        lambda lib, x, w: F(lib).prelu(x, w),
        g(randn(*shape), dtype),
        g(rng.uniform(0.1, 0.5, weights), dtype),
    )


def test_prelu_weight_shapes_and_errors():
    check(lambda lib, x, w: F(lib).prelu(x, w), g(randn(2, 3)), g(np.float32(0.2)))  # a 0-d weight
    check(lambda lib, x, w: F(lib).prelu(x, w), randn(2, 3, 4), randn(4))
    check(lambda lib, x, w: F(lib).prelu(x, w), randn(2, 3, 4), randn(1, 3))
    check(lambda lib, x, w: F(lib).prelu(x, w), randn(3), randn(3))
    check(lambda lib, x, w: F(lib).prelu(x, w), np.array([1, 2]), np.array([1]))
    check(
        lambda lib, x, w: F(lib).prelu(x, w),
        Arg(randn(3, 4), transpose=True, requires_grad=True),
        g(randn(4)),
    )
    gradcheck(lambda lib, x, w: F(lib).prelu(x, w), randn(2, 3, 2), rng.uniform(0.1, 0.5, 3))


def test_prelu_module():
    for args in [(), (3,), (3, 0.1)]:
        assert repr(tritensor.nn.PReLU(*args)) == repr(torch.nn.PReLU(*args))
    m = tritensor.nn.PReLU(3, init=0.1).to(DEVICE)
    np.testing.assert_array_equal(to_numpy(m.weight), np.full(3, 0.1, np.float32))
    assert list(m.state_dict()) == ["weight"]


def test_rrelu_evaluation_is_leaky_relu_at_the_mean_slope():
    check(lambda lib, x: F(lib).rrelu(x, 0.1, 0.3), g(randn(4, 5)), same_node=False)
    check(lambda lib, x: lib.nn.RReLU(0.1, 0.3).eval()(x), g(randn(4, 5)), same_node=False)
    check(lambda lib, x: F(lib).rrelu(x, 0.5, 0.1), randn(3))
    assert repr(tritensor.nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))


def test_rrelu_training_draws_one_slope_per_negative_element():
    tritensor.manual_seed(0)
    x = tritensor.tensor(np.linspace(-3, 3, 4000).astype(np.float32), device=DEVICE, requires_grad=True)
    y = F(tritensor).rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    xs, ys, grads = to_numpy(x), to_numpy(y), to_numpy(x.grad)
    negative = xs < 0
    np.testing.assert_array_equal(ys[~negative], xs[~negative])
    slopes = ys[negative] / xs[negative]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert 0.18 < slopes.mean() < 0.22 and slopes.std() > 0.04  # U(0.1, 0.3): mean 0.2, sd 0.058
    np.testing.assert_allclose(grads[negative], slopes, rtol=1e-6)
    np.testing.assert_array_equal(grads[~negative], 1)
    z = tritensor.tensor([-1.0, 2.0], device=DEVICE)
    F(tritensor).rrelu_(z, 0.2, 0.2, training=True)
    np.testing.assert_allclose(to_numpy(z), [-0.2, 2.0], rtol=1e-6)


# ---------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    "shape,groups",
    [
        ((2, 6, 3), 3),
        ((2, 6, 3), 1),
        ((2, 6, 3), 6),
        ((3, 4), 2),
        ((2, 4, 3, 2), 2),
        ((0, 4, 3), 2),
        ((2, 4, 0), 2),
    ],
)
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm(shape, groups, affine):
    """float32 values; gradients in float64 (groups of 2 make float32's backward ill-conditioned:
    torch's own float32 gradient is further from the float64 one than ours there)."""
    c = shape[1]
    x, params = randn(*shape), (randn(c), randn(c)) if affine else (None, None)
    check(lambda lib, t, w, b: F(lib).group_norm(t, groups, w, b, 1e-5), x, *params)
    if affine and x.size == 0 and x.shape[0]:
        return  # torch's weight gradient over empty groups is NaN (0 * its NaN mean); ours is 0
    check(
        lambda lib, t, w, b: F(lib).group_norm(t, groups, w, b, 1e-5),
        g(x, "float64"),
        *[None if p is None else g(p, "float64") for p in params],
        same_node=False,
    )


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_group_norm_dtypes(dtype):
    check(lambda lib, x: F(lib).group_norm(x, 2), g(randn(2, 4, 5), dtype), same_node=False)


def test_group_norm_errors_and_module():
    check(lambda lib, x: F(lib).group_norm(x, 4), randn(2, 6, 3))
    check(lambda lib, x: F(lib).group_norm(x, 2), randn(6))
    check(lambda lib, x: F(lib).group_norm(x, 4), randn(1, 4))  # one value per group
    check(lambda lib, x, w: F(lib).group_norm(x, 2, w), randn(2, 6, 3), randn(5))
    check(lambda lib, x, b: F(lib).group_norm(x, 2, None, b), randn(2, 6, 3), randn(2, 3))
    with pytest.raises(ValueError, match="divisible"):
        tritensor.nn.GroupNorm(4, 6)
    for args, kwargs in [((2, 6), {}), ((3, 6), {"eps": 1e-3, "affine": False})]:
        assert repr(tritensor.nn.GroupNorm(*args, **kwargs)) == repr(torch.nn.GroupNorm(*args, **kwargs)) \
            or not TORCH_2_13
    check(lambda lib, x: lib.nn.GroupNorm(2, 4).to(dev(lib))(x), g(randn(3, 4, 5)), same_node=False)
    gradcheck(lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b), randn(2, 4, 3), randn(4), randn(4))


@pytest.mark.parametrize(
    "shape,normalized", [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((4,), [4]), ((0, 4), (4,))]
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_rms_norm(shape, normalized, dtype):
    # torch before 2.13 composes rms_norm (grad_fn MulBackward0), 2.13 fuses it as tritensor does
    check(lambda lib, x: F(lib).rms_norm(x, normalized), g(randn(*shape), dtype), same_node=TORCH_2_13)
    check(
        lambda lib, x, w: F(lib).rms_norm(x, normalized, w, 1e-3),
        g(randn(*shape), dtype),
        g(randn(*normalized), dtype),
        same_node=TORCH_2_13,
    )


def test_rms_norm_tiny_values_use_the_compute_epsilon():
    """eps defaults to the epsilon of the compute dtype: float32's for 16-bit inputs."""
    for dtype in ["float16", "float32", "float64"]:
        check(lambda lib, x: F(lib).rms_norm(x, (3,)), Arg(np.full((2, 3), 1e-4, np.float32), dtype))


def test_rms_norm_errors_and_module():
    check(lambda lib, x: F(lib).rms_norm(x, (4,)), randn(2, 3))
    check(lambda lib, x: F(lib).rms_norm(x, 3), randn(2, 3))
    check(lambda lib, x, w: F(lib).rms_norm(x, (3,), w), randn(2, 3), randn(4))
    for args, kwargs in [((4,), {}), (([3, 4],), {"eps": 1e-5, "elementwise_affine": False})]:
        assert repr(tritensor.nn.RMSNorm(*args, **kwargs)) == repr(torch.nn.RMSNorm(*args, **kwargs))
    check(lambda lib, x: lib.nn.RMSNorm(5).to(dev(lib))(x), g(randn(3, 5)))
    gradcheck(lambda lib, x, w: F(lib).rms_norm(x, (3,), w), randn(2, 3), randn(3))


@pytest.mark.parametrize(
    "cls,shape",
    [
        ("InstanceNorm1d", (2, 3, 5)),
        ("InstanceNorm1d", (3, 5)),
        ("InstanceNorm2d", (2, 3, 4, 2)),
        ("InstanceNorm3d", (2, 3, 2, 2, 2)),
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"affine": True},
        {"track_running_stats": True},
        {"affine": True, "track_running_stats": True, "momentum": None},
    ],
)
def test_instance_norm_modules(cls, shape, kwargs):
    def run(lib, x):
        lib.manual_seed(0)
        m = getattr(lib.nn, cls)(3, **kwargs).to(dev(lib))
        if kwargs.get("affine"):
            with lib.no_grad():
                m.weight.copy_(lib.tensor([0.5, 1.5, -1.0]))
                m.bias.copy_(lib.tensor([0.1, 0.0, -0.2]))
        outs = [m(x), m(x * 2 + 1)]
        m.eval()
        outs.append(m(x))
        return outs + [b for b in (m.running_mean, m.running_var) if b is not None]

    check(run, g(randn(*shape)), same_node=False)
    assert repr(getattr(tritensor.nn, cls)(3, **kwargs)) == repr(getattr(torch.nn, cls)(3, **kwargs)) \
        or not TORCH_2_13


def test_instance_norm_errors():
    check(lambda lib, x: lib.nn.InstanceNorm2d(3)(x), randn(3, 4))
    check(lambda lib, x: lib.nn.InstanceNorm1d(3, affine=True)(x), randn(2, 4, 5))
    with pytest.warns(UserWarning, match="num_features"):
        tritensor.nn.InstanceNorm1d(3)(tritensor.ones(2, 4, 5, device=DEVICE))
    check(lambda lib, x: F(lib).instance_norm(x), randn(2, 3))
    check(lambda lib, x: F(lib).instance_norm(x), g(randn(2, 3, 4)), same_node=False)
    gradcheck(
        lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b), randn(2, 2, 3), randn(2), randn(2)
    )


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 3),
    st.sampled_from([(1, 4), (2, 4), (4, 4), (3, 6)]),
    st.lists(st.integers(1, 3), max_size=2),
)
def test_group_norm_hypothesis(n, groups_channels, spatial):
    groups, channels = groups_channels
    x = randn(n, channels, *spatial).astype(np.float64)
    check(
        lambda lib, t, w: F(lib).group_norm(t, groups, w),
        g(x),
        g(randn(channels).astype(np.float64)),
        same_node=False,
    )


# ---------------------------------------------------------------------------- margin losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(reduction):
    check(
        lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y, 0.3, reduction=reduction),
        g(randn(6)),
        g(randn(6)),
        signs(6),
    )
    check(
        lambda lib, a, b, y: lib.nn.MarginRankingLoss(0.1, reduction=reduction)(a, b, y),
        g(randn(2, 3)),
        g(randn(1, 3)),
        signs(2, 1),
    )


def test_margin_ranking_loss_dims_and_dtypes():
    check(lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y), randn(3), randn(3, 1), randn(3))
    check(
        lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y, 0.5, reduction="none"),
        np.array([1, 2]),
        np.array([2, 2]),
        np.array([1, -1]),
    )
    check(
        lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y, reduction="avg"),
        randn(3),
        randn(3),
        randn(3),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(reduction):
    target = np.array([1.0, -1, 1, -1, 1, -1], np.float32)
    check(lambda lib, x, y: F(lib).hinge_embedding_loss(x, y, 0.7, reduction=reduction), g(randn(6)), target)
    check(
        lambda lib, x, y: lib.nn.HingeEmbeddingLoss(reduction=reduction)(x, y),
        g(randn(3, 2)),
        np.array([1.0, -1], np.float32),
    )
    check(
        lambda lib, x, y: F(lib).hinge_embedding_loss(x, y, reduction=reduction),
        g(randn(3)),
        np.array([1.0, 0, 2], np.float32),
    )  # neither 1 nor -1: both terms, as torch's formula


def test_hinge_embedding_loss_integers():
    for reduction, margin in [("none", 1.0), ("sum", 1.5), ("mean", 1.0)]:
        check(
            lambda lib, x, y: F(lib).hinge_embedding_loss(x, y, margin, reduction=reduction),
            np.array([1, 2, -3]),
            np.array([1, -1, -1]),
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_soft_margin_loss(reduction, dtype):
    check(
        lambda lib, x, y: F(lib).soft_margin_loss(x, y, reduction=reduction),
        g(randn(3, 4), dtype),
        Arg(signs(3, 4), dtype),
        same_node=False,
    )


def test_soft_margin_loss_errors():
    check(lambda lib, x, y: F(lib).soft_margin_loss(x, y), randn(3), randn(2))
    check(lambda lib, x, y: F(lib).soft_margin_loss(x, y), np.array([1, 2]), np.array([1, -1]))
    check(
        lambda lib, x, y: lib.nn.SoftMarginLoss()(x, y), g(randn(4)), np.array([1, -1, 1, 1]), same_node=False
    )
    gradcheck(
        lambda lib, x: F(lib).soft_margin_loss(
            x, lib.tensor([1.0, -1, 1], dtype=lib.float64, device=x.device)
        ),
        randn(3),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 3, 4)])
def test_multilabel_soft_margin_loss(reduction, shape):
    target = rng.integers(0, 2, shape).astype(np.float32)
    check(
        lambda lib, x, y: F(lib).multilabel_soft_margin_loss(x, y, reduction=reduction),
        g(randn(*shape)),
        target,
    )
    check(
        lambda lib, x, y, w: lib.nn.MultiLabelSoftMarginLoss(w, reduction=reduction)(x, y),
        g(randn(*shape)),
        target,
        g(rng.uniform(0.5, 2, shape[-1]).astype(np.float32)),
    )
    check(
        lambda lib, x, y: F(lib).multilabel_soft_margin_loss(x, y), randn(3, 4), np.ones((3, 5), np.float32)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4, -0.2])
def test_cosine_embedding_loss(reduction, margin):
    check(
        lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y, margin, reduction=reduction),
        g(randn(5, 4)),
        g(randn(5, 4)),
        np.array([1, -1, 1, -1, 0], np.float32),
    )
    check(
        lambda lib, a, b, y: lib.nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, y),
        g(randn(4, dtype=np.float64)),
        g(randn(4, dtype=np.float64)),
        np.array(-1.0),
    )


def test_cosine_embedding_loss_errors_and_zero_vectors():
    check(
        lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y),
        g(np.zeros((2, 3), np.float32)),
        g(randn(2, 3)),
        np.array([1.0, -1], np.float32),
    )
    for a, b, y in [
        ((4,), (4,), np.array([1.0], np.float32)),
        ((2, 3, 4), (2, 3, 4), np.ones((2, 3))),
        ((3, 4), (3, 4), np.ones((3, 1))),
        ((3, 4), (3, 5), np.ones(3)),
        ((3, 4), (3, 4), np.ones(2)),
    ]:
        check(lambda lib, x1, x2, t: F(lib).cosine_embedding_loss(x1, x2, t), randn(*a), randn(*b), y)
    gradcheck(
        lambda lib, a, b: F(lib).cosine_embedding_loss(
            a, b, lib.tensor([1.0, -1], dtype=lib.float64, device=a.device), -0.5
        ),
        randn(2, 3),
        randn(2, 3),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin", [(1, 1.0), (2, 1.0), (1, 0.3)])
def test_multi_margin_loss(reduction, p, margin):
    target = np.array([0, 3, 1, 3, 2], np.int64)
    check(
        lambda lib, x, t: F(lib).multi_margin_loss(x, t, p, margin, reduction=reduction),
        g(randn(5, 4)),
        target,
        same_node=False,
    )
    check(
        lambda lib, x, t, w: lib.nn.MultiMarginLoss(p, margin, w, reduction=reduction)(x, t),
        g(randn(5, 4, dtype=np.float64)),
        target,
        rng.uniform(0.5, 2, 4),
        same_node=False,
    )
    check(
        lambda lib, x, t: F(lib).multi_margin_loss(x, t, p, margin, reduction=reduction),
        g(randn(4)),
        np.array([2]),
        same_node=False,
    )
    check(
        lambda lib, x, t: F(lib).multi_margin_loss(x, t, p, margin, reduction=reduction),
        g(randn(4)),
        np.array(2),
        same_node=False,
    )


def test_multi_margin_loss_errors():
    x = randn(3, 4)
    for t, kwargs in [
        (np.array([0, 3, 1]), {"p": 3}),
        (np.array([0, 4, 1]), {}),
        (np.array([0, 1]), {}),
        (np.array([0.0, 1, 2]), {}),
        (np.array([0, 1, 2]), {"weight": np.ones(3, np.float32)}),
        (np.array([0, -1, 2]), {}),
    ]:
        check(
            lambda lib, a, b, w: F(lib).multi_margin_loss(a, b, weight=w, p=kwargs.get("p", 1)),
            x,
            t,
            kwargs.get("weight"),
        )
    check(lambda lib, a, b: F(lib).multi_margin_loss(a, b), randn(2, 3, 4), np.array([2, 1]))
    check(lambda lib, a, b: F(lib).multi_margin_loss(a, b), x.astype(np.float16), np.array([0, 1, 2]))
    check(
        lambda lib, a, b: F(lib).multi_margin_loss(a, b, reduction="none"), randn(0, 4), np.zeros(0, np.int64)
    )
    gradcheck(
        lambda lib, a: F(lib).multi_margin_loss(a, lib.tensor([1, 0], device=a.device), p=2), randn(2, 3)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    target = np.array([[0, 3, -1, 0], [1, -1, 0, 0], [-1, 0, 0, 0], [2, 2, 1, 3]], np.int64)
    check(
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction=reduction),
        g(randn(4, 4)),
        target,
        same_node=False,
    )
    check(
        lambda lib, x, t: lib.nn.MultiLabelMarginLoss(reduction=reduction)(x, t),
        g(randn(4)),
        np.array([3, 0, -1, 1]),
        same_node=False,
    )
    check(
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction=reduction),
        g(np.array(0.3)),
        np.array(0),
        same_node=False,
    )


def test_multilabel_margin_loss_errors():
    x = randn(3, 4)
    for t in [
        np.array([[0, 4, -1, 0]] * 3),
        np.array([[-2, 0, 0, 0]] * 3),
        np.array([[0, 3, -1]] * 3),
        np.zeros((3, 4), np.int32),
    ]:
        check(lambda lib, a, b: F(lib).multilabel_margin_loss(a, b), x, t)
    gradcheck(
        lambda lib, a: F(lib).multilabel_margin_loss(a, lib.tensor([[2, 0, -1]], device=a.device)),
        randn(1, 3),
    )


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(0, 2**31))
def test_multilabel_margin_loss_hypothesis(n, classes, seed):
    local = np.random.default_rng(seed)
    target = local.integers(-1, classes, (n, classes)).astype(np.int64)
    check(
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction="none"),
        g(local.standard_normal((n, classes))),
        target,
        same_node=False,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction, swap):
    a, p, n = g(randn(4, 3)), g(randn(4, 3)), g(randn(4, 3))
    check(
        lambda lib, x, y, z: F(lib).triplet_margin_with_distance_loss(
            x, y, z, swap=swap, reduction=reduction
        ),
        a,
        p,
        n,
    )

    def cosine_distance(lib):
        return lambda u, v: 1 - F(lib).cosine_similarity(u, v)

    check(
        lambda lib, x, y, z: lib.nn.TripletMarginWithDistanceLoss(
            distance_function=cosine_distance(lib), margin=0.5, swap=swap, reduction=reduction
        )(x, y, z),
        a,
        p,
        n,
    )


def test_triplet_margin_with_distance_loss_errors_and_repr():
    check(
        lambda lib, x, y, z: F(lib).triplet_margin_with_distance_loss(x, y, z, margin=0),
        randn(3, 4),
        randn(3, 4),
        randn(3, 4),
    )
    check(
        lambda lib, x, y, z: F(lib).triplet_margin_with_distance_loss(x, y, z),
        randn(3, 4),
        randn(4),
        randn(3, 4),
    )
    check(
        lambda lib, x, y, z: F(lib).triplet_margin_with_distance_loss(x, y, z, reduction="x"),
        randn(3, 4),
        randn(3, 4),
        randn(3, 4),
    )
    assert repr(tritensor.nn.TripletMarginWithDistanceLoss()) == repr(
        torch.nn.TripletMarginWithDistanceLoss()
    )
    with pytest.raises(ValueError):
        tritensor.nn.TripletMarginWithDistanceLoss(margin=-1)


# ---------------------------------------------------------------------------- likelihood losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_loss(reduction, log_input, full):
    x = randn(3, 4) if log_input else rng.uniform(0.1, 3, (3, 4)).astype(np.float32)
    target = rng.poisson(2.0, (3, 4)).astype(np.float32)
    check(
        lambda lib, i, t: F(lib).poisson_nll_loss(i, t, log_input, full, reduction=reduction), g(x), g(target)
    )
    check(lambda lib, i, t: lib.nn.PoissonNLLLoss(log_input, full, reduction=reduction)(i, t), g(x), target)


def test_poisson_nll_loss_broadcast_ints_and_gradcheck():
    check(lambda lib, i, t: F(lib).poisson_nll_loss(i, t), g(randn(3, 1)), randn(3))
    check(lambda lib, i, t: F(lib).poisson_nll_loss(i, t), np.array([1, 2]), np.array([1, 2]))
    check(lambda lib, i, t: F(lib).poisson_nll_loss(i, t, reduction="x"), randn(3), randn(3))
    gradcheck(
        lambda lib, i: F(lib).poisson_nll_loss(
            i, lib.tensor([0.0, 2.0, 5.0], dtype=lib.float64, device=i.device), full=True
        ),
        randn(3),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(3, 2), (3,), (3, 1), (1, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(reduction, var_shape, full):
    var = rng.uniform(0, 2, var_shape).astype(np.float32)
    var.reshape(-1)[0] = 1e-9  # clamped to eps, the gradient passing the clamp
    check(
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, full, reduction=reduction),
        g(randn(3, 2)),
        g(randn(3, 2)),
        g(var),
    )
    check(
        lambda lib, x, t, v: lib.nn.GaussianNLLLoss(full=full, eps=1e-3, reduction=reduction)(x, t, v),
        g(randn(3, 2)),
        randn(3, 2),
        g(var),
    )


def test_gaussian_nll_loss_var_rules():
    check(
        lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, 0.5, reduction="none"), g(randn(3, 2)), randn(3, 2)
    )
    check(lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, -0.5), randn(3, 2), randn(3, 2))
    for var in [rng.uniform(0, 1, 2).astype(np.float32), -rng.uniform(0, 1, (3, 2)).astype(np.float32)]:
        check(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v), randn(3, 2), randn(3, 2), var)
    check(
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, reduction="x"),
        randn(3, 2),
        randn(3, 2),
        np.ones((3, 2), np.float32),
    )
    check(
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, reduction="none"),
        randn(3, 2),
        randn(3, 1),
        np.ones((3, 2), np.float32),
    )
    gradcheck(
        lambda lib, x, v: F(lib).gaussian_nll_loss(x, lib.zeros_like(x), v),
        randn(2, 3),
        rng.uniform(0.5, 2, (2, 3)),
    )


# ---------------------------------------------------------------------------- bilinear, distances, padding
@pytest.mark.parametrize(
    "shape1,shape2", [((5, 2), (5, 3)), ((6, 5, 2), (6, 5, 3)), ((2,), (3,)), ((0, 2), (0, 3))]
)
@pytest.mark.parametrize("bias", [False, True])
def test_bilinear(shape1, shape2, bias):
    b = g(randn(4)) if bias else None
    check(
        lambda lib, x1, x2, w, b: F(lib).bilinear(x1, x2, w, b),
        g(randn(*shape1)),
        g(randn(*shape2)),
        g(randn(4, 2, 3)),
        b,
        same_node=False,
    )


def test_bilinear_errors_module_and_gradcheck():
    for s1, s2, w, b in [
        ((5, 2), (5, 3), (4, 3, 3), None),
        ((5, 2), (4, 3), (4, 2, 3), None),
        ((5, 2), (1, 5, 3), (4, 2, 3), None),
        ((5, 2), (5, 3), (4, 2, 3), (3,)),
        ((5, 2), (5, 3), (4, 2), None),
    ]:
        check(
            lambda lib, x1, x2, w, b: F(lib).bilinear(x1, x2, w, b),
            randn(*s1),
            randn(*s2),
            randn(*w),
            None if b is None else randn(*b),
        )
    for kwargs in [{}, {"bias": False}]:
        assert repr(tritensor.nn.Bilinear(2, 3, 4, **kwargs)) == repr(torch.nn.Bilinear(2, 3, 4, **kwargs))
    m = tritensor.nn.Bilinear(16, 3, 200).to(DEVICE)
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    assert (
        w.shape == (200, 16, 3)
        and np.abs(w).max() <= 0.25
        and np.abs(w).max() > 0.2
        and np.abs(b).max() <= 0.25
    )
    gradcheck(
        lambda lib, x1, x2, w, b: F(lib).bilinear(x1, x2, w, b),
        randn(2, 2),
        randn(2, 3),
        randn(2, 2, 3),
        randn(2),
    )


def test_distance_modules():
    check(lambda lib, a, b: lib.nn.CosineSimilarity()(a, b), g(randn(3, 4)), g(randn(3, 4)), same_node=False)
    check(
        lambda lib, a, b: lib.nn.CosineSimilarity(0, 1e-3)(a, b),
        g(randn(3, 4)),
        g(randn(3, 4)),
        same_node=False,
    )
    check(lambda lib, a, b: lib.nn.PairwiseDistance()(a, b), g(randn(3, 4)), g(randn(3, 4)), same_node=False)
    check(
        lambda lib, a, b: lib.nn.PairwiseDistance(1.0, 1e-3, True)(a, b),
        g(randn(3, 4)),
        g(randn(3, 4)),
        same_node=False,
    )
    for cls in ["CosineSimilarity", "PairwiseDistance"]:
        assert repr(getattr(tritensor.nn, cls)()) == repr(getattr(torch.nn, cls)())


@pytest.mark.parametrize(
    "cls,args,shape",
    [
        ("ZeroPad1d", (2,), (2, 3, 4)),
        ("ZeroPad1d", ((1, 0),), (3, 4)),
        ("ZeroPad2d", ((1, 1, 2, 0),), (1, 2, 3, 4)),
        ("ZeroPad2d", (1,), (2, 3, 4)),
        ("ZeroPad3d", (1,), (1, 2, 2, 2)),
        ("ConstantPad1d", (2, 3.5), (2, 4)),
        ("ConstantPad2d", ((1, 2, 3, 4), -1.0), (1, 2, 3)),
        ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 1, 2, 3)),
        ("ZeroPad2d", ((-1, 1, 0, -1),), (2, 3, 4)),
    ],
)
def test_padding_modules(cls, args, shape):
    check(lambda lib, x: getattr(lib.nn, cls)(*args)(x), g(randn(*shape)))
    assert repr(getattr(tritensor.nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))


def test_new_layers_train_like_torch():
    """A few SGD steps of a model built from the new layers, from torch's initial weights."""

    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(
            lib.nn.Linear(6, 8),
            lib.nn.GroupNorm(2, 8),
            lib.nn.PReLU(8),
            lib.nn.Linear(8, 4),
            lib.nn.RMSNorm(4),
            lib.nn.Softshrink(0.1),
        )

    ours, theirs = build(tritensor).to(DEVICE), build(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.load_state_dict(
            {k: tritensor.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
        )
    x, labels = randn(16, 6), rng.integers(0, 4, 16)
    losses = []
    for lib, model in ((torch, theirs), (tritensor, ours)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        curve = []
        for _ in range(3):
            opt.zero_grad()
            loss = F(lib).multi_margin_loss(
                model(lib.tensor(x, device=dev(lib))), lib.tensor(labels, device=dev(lib))
            )
            loss.backward()
            opt.step()
            curve.append(loss.item())
        losses.append(curve)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    assert not math.isclose(losses[0][0], losses[0][-1])


# ---------------------------------------------------------------------------- pad modes
PAD_CASES = [
    ((3, 5), (2, 1)),
    ((2, 3, 5), (0, 4)),
    ((2, 3, 5), (-1, 2)),
    ((2, 4, 5), (1, 2, 3, 0)),
    ((1, 2, 4, 5), (-2, 1, 1, -1)),
    ((2, 3, 3, 4), (1, 1, 2, 2, 0, 1)),
    ((1, 2, 3, 3, 4), (2, 0, 1, 1, 1, 2)),
    ((0, 3, 5), (1, 1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
def test_pad_modes(mode, shape, pad):
    check(lambda lib, x: F(lib).pad(x, pad, mode=mode), g(randn(*shape)), same_node=False)
    check(lambda lib, x: F(lib).pad(x, pad, mode=mode), rng.integers(-5, 5, shape))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_pad_modes_dtypes_and_layouts(mode, dtype):
    check(lambda lib, x: F(lib).pad(x, (1, 2), mode=mode), g(randn(3, 4), dtype), same_node=False)
    check(
        lambda lib, x: F(lib).pad(x, (2, 1), mode=mode),
        Arg(randn(4, 3), dtype, requires_grad=True, transpose=True),
        same_node=False,
    )


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_mode_errors(mode):
    for shape, pad in [
        ((1, 3, 4), (4, 1)),
        ((1, 3, 4), (5, 0)),
        ((4,), (1, 1)),
        ((1, 1, 3, 4), (1, 1)),
        ((3, 4), (1, 1, 1, 1)),
        ((2, 3, 4, 5, 6), (1,) * 8),
        ((2, 0, 4), (1, 1)),
        ((1, 3, 0), (0, 0)),
    ]:
        check(lambda lib, x: F(lib).pad(x, pad, mode=mode), randn(*shape))
    check(lambda lib, x: F(lib).pad(x, (1, 1), mode=mode), np.ones((1, 3, 4), bool))
    check(lambda lib, x: F(lib).pad(x, (1, 1), mode=mode, value=2.0), randn(1, 3, 4))
    check(lambda lib, x: F(lib).pad(x, (1, 1), mode=mode, value=0.0), randn(1, 3, 4))
    check(lambda lib, x: F(lib).pad(x, (1, 1), mode="mirror"), randn(1, 3, 4))
    gradcheck(lambda lib, x: F(lib).pad(x, (2, 1, 1, 1), mode=mode), randn(1, 3, 3))


@pytest.mark.parametrize("kind", ["Reflection", "Replication", "Circular"])
@pytest.mark.parametrize(
    "n,padding,shape", [(1, 2, (2, 3, 4)), (2, (1, 0, 2, 1), (1, 2, 3, 4)), (3, 1, (1, 2, 2, 3))]
)
def test_index_padding_modules(kind, n, padding, shape):
    cls = f"{kind}Pad{n}d"
    check(lambda lib, x: getattr(lib.nn, cls)(padding)(x), g(randn(*shape)), same_node=False)
    assert repr(getattr(tritensor.nn, cls)(padding)) == repr(getattr(torch.nn, cls)(padding))


# ---------------------------------------------------------------------------- integer inputs
@pytest.mark.parametrize(
    "name,args",
    [
        ("leaky_relu", ()),
        ("elu", ()),
        ("gelu", ()),
        ("silu", ()),
        ("softplus", ()),
        ("selu", ()),
        ("celu", ()),
        ("mish", ()),
        ("hardswish", ()),
        ("hardsigmoid", ()),
        ("logsigmoid", ()),
        ("glu", ()),
        ("hardtanh", ()),
        ("hardtanh", (-1.5, 2.5)),
        ("relu6", ()),
        ("threshold", (1.5, 7.9)),
        ("threshold", (-1.2, 0.9)),
        ("rrelu", ()),
        ("relu", ()),
        ("softsign", ()),
        ("tanhshrink", ()),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_activations_of_integer_and_bool_inputs(name, args, dtype):
    """torch's activation kernels are float-only (NotImplementedError); hardtanh, relu6 and
    threshold keep an integer dtype, reading their numbers as integers."""
    data = np.array([1, 0, 3, 4, 2, 5]) if dtype in ("uint8", "bool") else np.array([1, -2, 3, 4, -5, 0])
    check(
        lambda lib, x: getattr(F(lib), name)(x, *args),
        Arg(data.astype(dtype) if dtype != "bool" else data > 2),
    )


def test_state_dict_hooks_run_like_torchs():
    """Save and load hooks: which module, when, with which arguments, in which order."""

    def trace(lib):
        log = []
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
        for name, mod in m.named_modules():
            mod.register_state_dict_pre_hook(
                lambda module, prefix, keep, n=name: log.append(("pre", n, prefix, keep))
            )
            mod.register_state_dict_post_hook(
                lambda module, sd, prefix, meta, n=name: log.append(("post", n, len(sd)))
            )
            mod.register_load_state_dict_pre_hook(
                lambda module, sd, prefix, meta, strict, missing, unexpected, errors, n=name: log.append(
                    ("load-pre", n, prefix, strict, len(missing))
                )
            )
            mod.register_load_state_dict_post_hook(
                lambda module, keys, n=name: log.append(
                    ("load-post", n, list(keys.missing_keys), list(keys.unexpected_keys))
                )
            )
        state = m.state_dict(keep_vars=True)
        edited = {k: v for k, v in state.items() if k != "0.bias"}
        edited["extra"] = state["0.weight"]
        m.load_state_dict(edited, strict=False)
        handle = m.register_state_dict_pre_hook(lambda *args: log.append("removed hook ran"))
        handle.remove()
        m.state_dict()
        return log

    assert trace(tritensor) == trace(torch)
    m = tritensor.nn.Linear(2, 2)
    m.register_load_state_dict_post_hook(lambda module, keys: keys)
    with pytest.raises(AssertionError):
        m.load_state_dict(m.state_dict())


@pytest.mark.parametrize("shape,factor", [((2, 8, 2, 3), 2), ((1, 9, 1, 2), 3), ((4, 1, 1), 2),
                                          ((2, 3, 4, 1, 1), 2), ((1, 0, 2, 2), 2), ((1, 4, 2, 2), 1)])
def test_pixel_shuffle_and_unshuffle(shape, factor):
    # (torch 2.13 with no channels: PixelShuffleBackward0 returns a wrongly shaped gradient and
    # pixel_unshuffle returns its input's shape, so those are checked on nonempty inputs only)
    x = Arg(np.random.default_rng(0).standard_normal(shape), requires_grad=0 not in shape)
    check(lambda lib, t: (lib.pixel_shuffle(t, factor), lib.nn.PixelShuffle(factor)(t)), x, same_node=False)
    if 0 not in shape:
        check(lambda lib, t: lib.nn.functional.pixel_unshuffle(lib.pixel_shuffle(t, factor), factor), x,
              same_node=False)
    assert repr(tritensor.nn.PixelUnshuffle(factor)) == repr(torch.nn.PixelUnshuffle(factor))


def test_pixel_shuffle_errors():
    check(lambda lib, t: lib.pixel_shuffle(t, 2), np.ones((1, 3, 2, 2)))
    check(lambda lib, t: lib.pixel_shuffle(t, 2), np.ones((4, 2)))
    check(lambda lib, t: lib.pixel_unshuffle(t, 2), np.ones((1, 1, 3, 4)))
    check(lambda lib, t: lib.pixel_unshuffle(t, 2), np.ones((1, 1, 4, 3)))
