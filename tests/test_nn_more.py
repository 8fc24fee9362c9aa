"""Smaller layers against torch: in-place functional activations, alpha/3-d dropout, channel
shuffle, local response norm, gumbel-softmax, pdist, the stateless modules (Fold, Unfold,
ChannelShuffle, Softmax2d ...) and the ``torch.<loss>`` forms with ATen's integer reduction."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, gradcheck, to_numpy

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------------------- in-place activations
INPLACE = [("elu_", ()), ("elu_", (0.5,)), ("leaky_relu_", ()), ("leaky_relu_", (0.2,)), ("selu_", ()),
           ("celu_", (1.5,)), ("threshold_", (0.1, -2.0)), ("hardtanh_", ()), ("hardtanh_", (-0.5, 0.3))]


@pytest.mark.parametrize("name, args", INPLACE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inplace_functional_activations(name, args, dtype):
    def fn(lib, x):
        y = x * 1  # a non-leaf, which may be written in place
        out = getattr(F(lib), name)(y, *args)
        assert out is y
        return out
    check(fn, Arg(randn(3, 5), dtype, requires_grad=True))


@pytest.mark.parametrize("name, args", [("celu_", (1.5,)), ("selu_", ()), ("threshold_", (0.1, -2.0))])
def test_inplace_activations_at_top_level(name, args):
    check(lambda lib, x: getattr(lib, name)(x * 1, *args),
          Arg(randn(4, 3), transpose=True, requires_grad=True))


def test_inplace_activation_of_a_leaf_raises():
    check(lambda lib, x: F(lib).elu_(x), Arg(randn(3), requires_grad=True))


# ---------------------------------------------------------------------------- dropout variants
ALPHA = 1.7580993408473766  # SELU's scale * alpha


def _alpha_affine(p):
    """(scale, shift) of kept elements and the dropped value of torch's alpha dropout."""
    a = 1 / math.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)


def _kept(out, x, p, alpha):
    """Which elements were kept, asserting each output is the kept or the dropped value."""
    if alpha:
        a, shift, dropped = _alpha_affine(p)
        kept_value, dropped_value = a * x + shift, np.full_like(x, dropped)
    else:
        kept_value, dropped_value = x / (1 - p), np.zeros_like(x)
    kept = np.isclose(out, kept_value, rtol=1e-5, atol=1e-6)
    assert (kept | np.isclose(out, dropped_value, rtol=1e-5, atol=1e-6)).all()
    return kept


@pytest.mark.parametrize("name, shape, lead, alpha", [
    ("alpha_dropout", (40, 50), 2, True), ("feature_alpha_dropout", (30, 20, 3, 2), 2, True),
    ("dropout3d", (6, 30, 2, 2, 3), 2, False), ("dropout3d", (50, 2, 2, 3), 1, False),
])
def test_dropout_variants_keep_or_drop(name, shape, lead, alpha):
    tritensor.manual_seed(0)
    p = 0.3
    x = tritensor.tensor(rng.uniform(1, 2, shape), dtype=tritensor.float32, device=DEVICE, requires_grad=True)
    out = getattr(F(tritensor), name)(x, p, True)
    kept = _kept(to_numpy(out), to_numpy(x), p, alpha)
    groups = kept.reshape(int(np.prod(shape[:lead])), -1)
    assert (groups == groups[:, :1]).all(), "a channel is kept or dropped as a whole"
    n = len(groups)
    assert abs((~groups[:, 0]).sum() - p * n) < 5 * math.sqrt(p * (1 - p) * n)
    out.sum().backward()
    scale = _alpha_affine(p)[0] if alpha else 1 / (1 - p)
    np.testing.assert_allclose(to_numpy(x.grad), np.where(kept, scale, 0.0), rtol=1e-6)


def test_alpha_dropout_keeps_mean_and_variance():
    tritensor.manual_seed(1)
    x = tritensor.randn(200_000, device=DEVICE)
    out = F(tritensor).alpha_dropout(F(tritensor).selu(x), 0.2, True)
    selu = F(tritensor).selu(x)
    assert abs(float(out.mean()) - float(selu.mean())) < 0.01
    assert abs(float(out.std()) - float(selu.std())) < 0.01


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout", "dropout3d"])
@pytest.mark.parametrize("p, training", [(0.5, False), (0.0, True), (1.0, True)])
def test_dropout_variants_without_randomness(name, p, training):
    check(lambda lib, x: getattr(F(lib), name)(x, p, training), Arg(randn(2, 3, 2, 2, 2), requires_grad=True))


@pytest.mark.parametrize("fn", [
    lambda lib, x: F(lib).alpha_dropout(x, 1.5, True),
    lambda lib, x: F(lib).feature_alpha_dropout(x, -0.1, True),
    lambda lib, x: F(lib).dropout3d(x, 2.0),
    lambda lib, x: F(lib).feature_alpha_dropout(x.flatten(), 0.5, True),   # fewer than 2 dims
    lambda lib, x: lib.feature_dropout(x.flatten(), 0.5, True),
    lambda lib, x: F(lib).alpha_dropout(x.long(), 0.5, True),             # integer: float noise
    lambda lib, x: F(lib).alpha_dropout(x[:0], 0.5, True),                 # empty
])
@pytest.mark.filterwarnings("ignore:dropout3d. Received a 3-D input")
def test_dropout_variant_errors_and_edges(fn):
    check(fn, randn(2, 3, 4))


def test_dropout3d_warns_on_other_ranks():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F(tritensor).dropout3d(tritensor.ones(2, 3, device=DEVICE))
    assert any("Received a 2-D input to dropout3d" in str(w.message) for w in caught)


def test_dropout_modules_in_eval_and_repr():
    for name in ("AlphaDropout", "FeatureAlphaDropout", "Dropout3d"):
        m = getattr(tritensor.nn, name)(0.25)
        assert repr(m) == repr(getattr(torch.nn, name)(0.25))
        x = tritensor.ones(4, 8, 2, 2, 2, device=DEVICE)
        assert m.eval()(x) is x
        m.train()
        tritensor.manual_seed(0)
        kept = _kept(to_numpy(m(x)), to_numpy(x), 0.25, name != "Dropout3d")
        assert 0 < kept.sum() < kept.size


@pytest.mark.parametrize("name", ["alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
                                  "feature_alpha_dropout_", "feature_dropout", "feature_dropout_"])
def test_aten_dropout_forms(name):
    check(lambda lib, x: getattr(lib, name)(x * 1, 0.5, False), Arg(randn(2, 3, 4), requires_grad=True))
    x = tritensor.ones(40, 30, 2, device=DEVICE)
    tritensor.manual_seed(0)
    out = to_numpy(getattr(tritensor, name)(x.clone(), 0.5, True))
    groups = out.reshape(1200 if "feature" in name else 2400, -1)
    assert (groups == groups[:, :1]).all() and len(np.unique(out)) == 2


# ---------------------------------------------------------------------------- channel shuffle
@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 2), ((2, 6, 2, 2), 3), ((1, 4, 2, 1, 2), 4),
                                           ((0, 4, 3), 2), ((3, 5, 2), 1)])
def test_channel_shuffle(shape, groups):
    check(lambda lib, x: F(lib).channel_shuffle(x, groups), Arg(randn(*shape), requires_grad=True))
    check(lambda lib, x: lib.channel_shuffle(x.transpose(0, -1), groups),
          Arg(randn(*reversed(shape)).T.copy().T, requires_grad=True)) if shape[-1] == shape[0] else None


@pytest.mark.parametrize("dtype", ["int64", "float16", "bool"])
def test_channel_shuffle_dtypes_and_strides(dtype):
    data = rng.integers(0, 2, (4, 6, 3)).astype(np.float64)
    check(lambda lib, x: F(lib).channel_shuffle(x, 3), Arg(data, dtype))
    check(lambda lib, x: F(lib).channel_shuffle(x.permute(2, 1, 0), 2), Arg(data, dtype))


def test_channel_shuffle_gradcheck_and_module():
    gradcheck(lambda lib, x: F(lib).channel_shuffle(x, 2), randn(2, 4, 3))
    check(lambda lib, x: lib.nn.ChannelShuffle(3)(x), Arg(randn(2, 6, 2), requires_grad=True))
    assert repr(tritensor.nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))


@pytest.mark.parametrize("shape, groups", [((2, 4), 2), ((2, 5, 3), 2), ((2, 4, 3), 0), ((2, 4, 3), -2)])
def test_channel_shuffle_errors(shape, groups):
    check(lambda lib, x: F(lib).channel_shuffle(x, groups), randn(*shape))


# ---------------------------------------------------------------------------- local response norm
@pytest.mark.parametrize("shape, size", [((2, 5, 7), 3), ((2, 6, 3, 4), 2), ((1, 4, 2, 3, 2), 5),
                                         ((3, 7, 4), 1), ((0, 3, 4), 2)])
def test_local_response_norm(shape, size):
    check(lambda lib, x: F(lib).local_response_norm(x, size), Arg(randn(*shape), requires_grad=True))
    check(lambda lib, x: lib.nn.LocalResponseNorm(size, 1e-2, 0.5, 2.0)(x), Arg(randn(*shape), "float32"))


def test_local_response_norm_dtypes_gradcheck_and_errors():
    check(lambda lib, x: F(lib).local_response_norm(x.transpose(1, 2), 2, alpha=0.1),
          Arg(randn(2, 4, 3), "bfloat16"))
    gradcheck(lambda lib, x: F(lib).local_response_norm(x, 3, alpha=0.5, k=1.5), randn(1, 4, 3))
    check(lambda lib, x: F(lib).local_response_norm(x, 2), randn(3, 4))
    assert repr(tritensor.nn.LocalResponseNorm(2)) == repr(torch.nn.LocalResponseNorm(2))


# ---------------------------------------------------------------------------- gumbel softmax
def test_gumbel_softmax_soft_and_hard():
    logits = tritensor.tensor(randn(64, 5), dtype=tritensor.float32, device=DEVICE, requires_grad=True)
    tritensor.manual_seed(3)
    soft = F(tritensor).gumbel_softmax(logits, tau=0.5)
    tritensor.manual_seed(3)
    hard = F(tritensor).gumbel_softmax(logits, tau=0.5, hard=True)
    s, h = to_numpy(soft), to_numpy(hard)
    np.testing.assert_allclose(s.sum(1), 1, rtol=1e-5)
    assert ((h == 0) | (h == 1)).all() and (h.sum(1) == 1).all()
    np.testing.assert_array_equal(h.argmax(1), s.argmax(1))
    weights = tritensor.tensor(randn(64, 5), dtype=tritensor.float32, device=DEVICE)
    soft_grad, = tritensor.autograd.grad((soft * weights).sum(), logits)
    hard_grad, = tritensor.autograd.grad((hard * weights).sum(), logits)
    np.testing.assert_allclose(to_numpy(hard_grad), to_numpy(soft_grad), rtol=1e-5, atol=1e-6)


def test_gumbel_softmax_samples_the_softmax():
    logits = tritensor.tensor([0.5, -1.0, 1.5, 0.0], device=DEVICE)
    tritensor.manual_seed(4)
    n = 20_000
    picks = to_numpy(F(tritensor).gumbel_softmax(logits.expand(n, 4), hard=True, dim=1)).sum(0) / n
    expected = np.exp([0.5, -1.0, 1.5, 0.0]) / np.exp([0.5, -1.0, 1.5, 0.0]).sum()
    np.testing.assert_allclose(picks, expected, atol=5 * math.sqrt(0.25 / n))


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F(tritensor).gumbel_softmax(tritensor.zeros(3, device=DEVICE), eps=1e-5)


# ---------------------------------------------------------------------------- pdist
@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3.5, math.inf])
def test_pdist(p):
    check(lambda lib, x: F(lib).pdist(x, p), Arg(randn(5, 3), requires_grad=True))
    check(lambda lib, x: lib.pdist(x, p), Arg(randn(4, 6), "float32", transpose=True, requires_grad=True))


@pytest.mark.parametrize("p", [0.5, 1, 2, 3, math.inf])
def test_pdist_gradient_at_zero_differences_and_ties(p):
    rows = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 5.0], [0.0, 2.0, 3.0], [1.0, 2.0, 3.0], [2.0, 3.0, 3.0]])
    check(lambda lib, x: lib.pdist(x, p), Arg(rows, requires_grad=True))


@pytest.mark.parametrize("shape", [(1, 3), (0, 3), (3, 0), (2, 1)])
def test_pdist_edges(shape):
    # torch 2.13's PdistBackward0 crashes (segfault) on a 0-row input: no gradient compared there
    check(lambda lib, x: lib.pdist(x), Arg(randn(*shape), requires_grad=shape[0] > 0))


def test_pdist_gradcheck_and_errors():
    gradcheck(lambda lib, x: lib.pdist(x), randn(4, 3))
    gradcheck(lambda lib, x: lib.pdist(x, 3), randn(3, 2))
    gradcheck(lambda lib, x: lib.pdist(x, 1.5), randn(3, 2))
    check(lambda lib, x: lib.pdist(x), randn(2, 3, 4))
    check(lambda lib, x: lib.pdist(x, -1), randn(3, 4))
    check(lambda lib, x: lib.pdist(x.long()), randn(3, 4))


# ---------------------------------------------------------------------------- stateless modules
def test_fold_unfold_modules():
    check(lambda lib, x: lib.nn.Unfold(2, padding=1, stride=2)(x), Arg(randn(2, 3, 5, 4), requires_grad=True))
    check(lambda lib, c: lib.nn.Fold((3, 4), 2)(c), Arg(randn(2, 8, 6), requires_grad=True))
    check(lambda lib, c: lib.nn.Fold(output_size=(4, 4), kernel_size=2, stride=2)(c), randn(1, 4, 4))
    for args in [((4, 5), 2), ((3, 3), (2, 1), 2, 1, 1)]:
        assert repr(tritensor.nn.Fold(*args)) == repr(torch.nn.Fold(*args))
    assert repr(tritensor.nn.Unfold(3, dilation=2)) == repr(torch.nn.Unfold(3, dilation=2))


@pytest.mark.parametrize("make", [
    lambda nn: nn.Fold(3), lambda nn: nn.Unfold(2, foo=1), lambda nn: nn.ChannelShuffle(1, 2),
    lambda nn: nn.PixelShuffle(),
])
def test_stateless_module_arguments(make):
    with pytest.raises(TypeError):
        make(torch.nn)
    with pytest.raises(TypeError, match=r"__init__\(\)"):
        make(tritensor.nn)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 4), (2, 3, 4, 5, 6), (3, 4)])
def test_softmax2d(shape):
    check(lambda lib, x: lib.nn.Softmax2d()(x), Arg(randn(*shape), requires_grad=True))
    assert repr(tritensor.nn.Softmax2d()) == repr(torch.nn.Softmax2d())


# ---------------------------------------------------------------------------- torch.<loss> forms
def _targets(shape):
    signs = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return signs


LOSS_FORMS = [
    ("binary_cross_entropy_with_logits", lambda: (randn(3, 4), rng.random((3, 4))), ()),
    ("binary_cross_entropy_with_logits", lambda: (randn(3, 4), rng.random((3, 4)), rng.random(4),
                                                  rng.random(4) + 0.5), ()),
    ("kl_div", lambda: (randn(3, 4), rng.random((3, 4))), ()),
    ("triplet_margin_loss", lambda: (randn(3, 4), randn(3, 4), randn(3, 4)), (0.5, 1.0, 1e-6, True)),
    ("cosine_embedding_loss", lambda: (randn(3, 4), randn(3, 4), _targets(3)), (0.2,)),
    ("hinge_embedding_loss", lambda: (randn(3, 4), _targets((3, 4))), (0.7,)),
    ("margin_ranking_loss", lambda: (randn(5), randn(5), _targets(5)), (0.1,)),
]


@pytest.mark.parametrize("name, make, options", LOSS_FORMS)
@pytest.mark.parametrize("reduction", [None, 0, 1, 2, 7])
def test_aten_loss_forms(name, make, options, reduction):
    data = make()
    grads = [Arg(d, requires_grad=(k == 0)) for k, d in enumerate(data)]
    extra = options + ((reduction,) if reduction is not None else ())
    if reduction is not None and name == "binary_cross_entropy_with_logits":  # after weight, pos_weight
        extra = (None, None)[:4 - len(data)] + (reduction,)
    check(lambda lib, *t: getattr(lib, name)(*t, *extra), *grads)


def test_aten_loss_forms_keywords_and_errors():
    x, t = randn(3, 4), rng.random((3, 4))
    check(lambda lib, a, b: lib.kl_div(a, b.log(), 2, log_target=True), Arg(x, requires_grad=True), t)
    check(lambda lib, a, b: lib.poisson_nll_loss(a, b, True, False, 1e-8, 1), Arg(x, requires_grad=True), t)
    check(lambda lib, a, b: lib.poisson_nll_loss(a.exp(), b, False, True, 1e-8, 0),
          Arg(x, requires_grad=True), t)
    check(lambda lib, a, b: lib.poisson_nll_loss(a, b, True, False, 1e-8), x, t)          # reduction required
    check(lambda lib, a, b: lib.kl_div(a, b, "mean"), x, t)
    check(lambda lib, a, b: lib.hinge_embedding_loss(a, b, 1.0, True), x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch.kl_div's 'mean' has no deprecation warning
        tritensor.kl_div(tritensor.tensor(x, device=DEVICE), tritensor.tensor(t, device=DEVICE), 1)


def test_aten_instance_norm():
    def fn(lib, x, w, b):
        mean, var = lib.zeros(3, device=x.device), lib.ones(3, device=x.device)
        out = lib.instance_norm(x, w, b, mean, var, True, 0.1, 1e-5, False)
        return out, mean, var
    check(fn, Arg(randn(2, 3, 5), requires_grad=True), Arg(randn(3), requires_grad=True),
          Arg(randn(3), requires_grad=True), same_node=False)  # torch's last node: a view


# ---------------------------------------------------------------------------- embedding_bag
def _bag(lib, indices, offsets, dtype="int64"):
    index_dtype = getattr(lib, dtype)
    device = DEVICE if lib is tritensor else "cpu"
    i = lib.tensor(indices, dtype=index_dtype, device=device)
    return i, None if offsets is None else lib.tensor(offsets, dtype=index_dtype, device=device)


BAGS = [  # indices, offsets, include_last_offset, padding_idx
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3], False, None),       # an empty bag in the middle
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3], True, None),        # indices past the last offset belong to none
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 8], True, None),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 6], False, 4),          # padding indices belong to no bag
    ([1, 2, 4, 4, 4, 3, 2, 9], [0, 2, 5], False, -6),         # a bag of padding only; negative padding_idx
    ([[1, 2, 3], [4, 5, 4], [0, 0, 7]], None, False, 4),      # fixed-length bags
    ([[1, 2, 3], [4, 5, 4]], None, True, None),               # include_last_offset ignored for 2-D input
    ([7], [0], False, None),
    ([], [0, 0], False, None),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("indices, offsets, last, padding", BAGS)
def test_embedding_bag(indices, offsets, last, padding, mode):
    def fn(lib, weight):
        i, o = _bag(lib, indices, offsets)
        return F(lib).embedding_bag(i, weight, o, mode=mode, include_last_offset=last, padding_idx=padding)
    check(fn, Arg(randn(10, 3), requires_grad=True), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_embedding_bag_dtypes_and_int32_indices(dtype):
    def fn(lib, weight):
        i, o = _bag(lib, [1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 5], "int32")
        return F(lib).embedding_bag(i, weight, o, mode="mean")
    check(fn, Arg(randn(10, 4), dtype, requires_grad=True), same_node=False)


def test_embedding_bag_options():
    def weighted(lib, weight, psw):
        i, o = _bag(lib, [1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 5])
        return F(lib).embedding_bag(i, weight, o, mode="sum", per_sample_weights=psw)
    check(weighted, Arg(randn(10, 3), requires_grad=True), Arg(randn(8), requires_grad=True), same_node=False)

    # scale_grad_by_freq: each row's gradient over its count in the batch, as documented (torch
    # 2.13's CPU kernel divides some rows by other rows' counts: [[1, 2, 1], [1, 5, 5]] scales row 2
    # by 1/3 and row 5 by 1/3, and leaves a row 7 that occurs twice unscaled)
    weight = tritensor.tensor(randn(10, 3), device=DEVICE, requires_grad=True)
    bags = tritensor.tensor([[1, 2, 1, 7], [1, 5, 5, 7]], device=DEVICE)
    plain, = tritensor.autograd.grad(F(tritensor).embedding_bag(bags, weight).sum(), weight)
    scaled, = tritensor.autograd.grad(F(tritensor).embedding_bag(bags, weight, scale_grad_by_freq=True).sum(),
                                      weight)
    counts = np.bincount([1, 2, 1, 7, 1, 5, 5, 7], minlength=10).clip(1)[:, None]
    np.testing.assert_allclose(to_numpy(scaled), to_numpy(plain) / counts, rtol=1e-12)

    def renormed(lib, weight):
        weight = weight.clone()  # max_norm rescales the rows it reads in place
        i, o = _bag(lib, [1, 2, 4, 5], [0, 2])
        return F(lib).embedding_bag(i, weight, o, max_norm=1.0, norm_type=1.5, mode="sum"), weight
    check(renormed, randn(10, 3) * 3)
    gradcheck(lambda lib, w: F(lib).embedding_bag(_bag(lib, [1, 2, 4, 5, 4], [0, 2])[0], w,
                                                  _bag(lib, [1, 2, 4, 5, 4], [0, 2])[1]), randn(6, 2))


@pytest.mark.parametrize("call", [
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o + 1),                          # offsets[0] != 0
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, lib.cat([o, o[-1:] + 9])),      # past the end
    lambda lib, w, i, o: F(lib).embedding_bag(i + 10, w, o),                         # index out of range
    lambda lib, w, i, o: F(lib).embedding_bag(i - 3, w, o),                          # negative index
    lambda lib, w, i, o: F(lib).embedding_bag(i, w),                                 # 1-D without offsets
    lambda lib, w, i, o: F(lib).embedding_bag(i.view(2, 4), w, o),                   # 2-D with offsets
    lambda lib, w, i, o: F(lib).embedding_bag(i.view(2, 2, 2), w),                   # 3-D
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o.view(1, 2)),
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o, mode="median"),
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o, mode="max", scale_grad_by_freq=True),
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o, mode="mean", per_sample_weights=w[:8, 0]),
    lambda lib, w, i, o: F(lib).embedding_bag(i, w, o, mode="sum", per_sample_weights=w[:3, 0]),
    lambda lib, w, i, o: F(lib).embedding_bag(i.float(), w.long(), o),              # the old argument order
    lambda lib, w, i, o: F(lib).embedding_bag(i.float(), w, o),                      # float indices
    lambda lib, w, i, o: F(lib).embedding_bag(i, w[0], o),                           # 1-D weight
    lambda lib, w, i, o: F(lib).embedding_bag(i, w.long(), o),                       # integer weight
])
@pytest.mark.filterwarnings("ignore:Argument order of nn.functional.embedding_bag was changed")
def test_embedding_bag_errors(call):
    def fn(lib, w):
        i, o = _bag(lib, [1, 2, 4, 5, 4, 3, 2, 7], [0, 3])
        return call(lib, w, i, o)
    check(fn, randn(10, 3))


def test_embedding_bag_module():
    for kwargs in ({}, {"mode": "sum", "padding_idx": 2, "max_norm": 1.0, "scale_grad_by_freq": True}):
        expected = repr(torch.nn.EmbeddingBag(10, 3, **kwargs))
        assert repr(tritensor.nn.EmbeddingBag(10, 3, **kwargs)) == expected
    bag = tritensor.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2, device=DEVICE)
    assert bag.weight.shape == (10, 3) and not to_numpy(bag.weight)[2].any()
    assert list(bag.state_dict()) == list(torch.nn.EmbeddingBag(10, 3).state_dict())
    weights = randn(6, 2)

    def fn(lib, w):
        layer = lib.nn.EmbeddingBag.from_pretrained(w, freeze=False, mode="max", include_last_offset=True)
        i, o = _bag(lib, [1, 2, 4, 5, 0], [0, 2, 4])
        return layer(i, o)
    check(fn, Arg(weights, requires_grad=True), same_node=False)
    frozen = tritensor.nn.EmbeddingBag.from_pretrained(tritensor.tensor(weights, device=DEVICE))
    assert not frozen.weight.requires_grad
