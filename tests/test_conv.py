"""Convolution, unfold/fold, pooling, BatchNorm2d and channel dropout against torch."""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (DEVICE, TOLERANCES, Arg, assert_same, check, compare_modules, copied_state, dev,
                     gradcheck, module_pair, torch_2_13)

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------------------- unfold / fold
WINDOWS = [  # kernel_size, dilation, padding, stride
    (2, 1, 0, 1), ((2, 3), 1, 1, 1), (3, 2, 1, 2), ((1, 2), (2, 1), (0, 1), (3, 1)), (3, 1, 2, (1, 2)),
]


@pytest.mark.parametrize("k, d, p, s", WINDOWS)
def test_unfold(k, d, p, s):
    check(lambda lib, x: F(lib).unfold(x, k, d, p, s), Arg(randn(2, 3, 6, 7), requires_grad=True))


@pytest.mark.parametrize("k, d, p, s", WINDOWS)
def test_fold_is_the_adjoint(k, d, p, s):
    size = (6, 7)
    blocks = torch.nn.functional.unfold(torch.zeros(1, 2, *size), k, d, p, s).shape
    check(lambda lib, c: F(lib).fold(c, size, k, d, p, s), Arg(randn(2, *blocks[1:]), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64"])
def test_unfold_fold_dtypes(dtype):
    x = rng.integers(-4, 5, (1, 2, 5, 5)).astype(np.float64)
    check(lambda lib, x: F(lib).unfold(x, 2, padding=1), Arg(x, dtype))
    cols = rng.integers(-4, 5, (1, 8, 9)).astype(np.float64)
    check(lambda lib, c: F(lib).fold(c, (4, 4), 2), Arg(cols, dtype))


def test_unfold_fold_unbatched_noncontiguous_and_empty():
    check(lambda lib, x: F(lib).unfold(x.permute(2, 1, 0), 2, stride=2),
          Arg(randn(5, 4, 3), requires_grad=True))
    check(lambda lib, c: F(lib).fold(c, (3, 4), 2), Arg(randn(6, 8), transpose=True, requires_grad=True))
    check(lambda lib, x: F(lib).unfold(x, 2), Arg(randn(0, 2, 3, 3), requires_grad=True))
    check(lambda lib, c: F(lib).fold(c, (3, 3), 2), Arg(randn(0, 8, 4), requires_grad=True))


COL2IM_GEOMETRIES = [  # size, kernel, dilation, stride, pads
    ((7,), (3,), (2,), (1,), ((1, 2),)),
    ((6, 7), (2, 3), (1, 2), (1, 1), ((1, 1), (0, 2))),
    ((6, 5), (3, 2), (2, 1), (2, 3), ((2, 0), (1, 1))),
    ((4, 5, 3), (2, 3, 1), (1, 1, 2), (2, 1, 1), ((0, 1), (1, 1), (0, 0))),
]


@pytest.mark.parametrize("size, kernel, dilation, stride, pads", COL2IM_GEOMETRIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cpu_col2im_kernel_equals_the_composed_adds(size, kernel, dilation, stride, pads, dtype, monkeypatch):
    """The CPU's one-pass col2im gives the strided adds' result bit for bit (same order of adds),
    for columns of any strides (here: permuted, as a convolution's backward hands them over)."""
    from tritensor.nn import _conv, _fused
    geo = _conv.geometry(size, kernel, dilation, stride, pads)
    shape = (3, 2) + geo.kernel + geo.out
    data = rng.standard_normal(shape[::-1]).astype(dtype)
    cols = tritensor.tensor(data).permute(tuple(range(len(shape)))[::-1])  # reversed strides
    fused = _conv.col2im(cols, geo)
    monkeypatch.setattr(_fused, "COL2IM", {})
    composed = _conv.col2im(cols, geo)
    assert fused.shape == composed.shape == (3, 2) + size and fused.is_contiguous()
    np.testing.assert_array_equal(fused.numpy(), composed.numpy())


def test_unfold_fold_gradcheck():
    gradcheck(lambda lib, x: F(lib).unfold(x, 2, 2, 1, 1), randn(1, 1, 4, 4))
    gradcheck(lambda lib, c: F(lib).fold(c, (4, 4), 2, padding=1, stride=2), randn(1, 4, 9))


@pytest.mark.parametrize("fn, shape", [
    (lambda lib, x: F(lib).unfold(x, 2), (3, 8)),                       # rank
    (lambda lib, x: F(lib).unfold(x, 3), (1, 1, 2, 2)),                 # no block fits
    (lambda lib, x: F(lib).unfold(x, 0), (1, 1, 2, 2)),                 # kernel 0
    (lambda lib, x: F(lib).unfold(x, 2, stride=0), (1, 1, 2, 2)),       # stride 0
    (lambda lib, x: F(lib).unfold(x, 2, padding=-1), (1, 1, 4, 4)),     # negative padding
    (lambda lib, x: F(lib).unfold(x, 2, dilation=0), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).fold(x, (3, 3), 2), (1, 4, 5)),              # wrong block count
    (lambda lib, x: F(lib).fold(x, (3, 3), 2), (1, 5, 4)),              # channels not divisible
    (lambda lib, x: F(lib).fold(x, (3, 3), 2), (1, 1, 4, 4)),           # rank
    (lambda lib, x: F(lib).fold(x, (3, 3), 2), (1, 0, 4)),              # empty channels
])
def test_unfold_fold_errors(fn, shape):
    check(fn, randn(*shape))


def test_tensor_unfold_overlapping_windows_sum_gradients():
    check(lambda lib, x: x.unfold(1, 3, 1), Arg(randn(2, 7), requires_grad=True))


# ---------------------------------------------------------------------------- convolution
CONV2D = [  # input shape, weight shape, kwargs
    ((2, 3, 7, 6), (4, 3, 3, 2), {}),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((1, 2, 8, 8), (3, 2, 3, 3), dict(stride=(2, 1), padding=(2, 0), dilation=(2, 3))),
    ((2, 4, 5, 5), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((1, 6, 5, 6), (6, 1, 2, 2), dict(groups=6, stride=2)),           # depthwise
    ((2, 3, 6, 6), (2, 3, 4, 3), dict(padding="same")),                # even kernel: extra pad high
    ((2, 3, 6, 6), (2, 3, 3, 3), dict(padding="same", dilation=2)),
    ((2, 3, 6, 6), (2, 3, 3, 3), dict(padding="valid")),
    ((1, 1, 3, 3), (2, 1, 3, 3), {}),                                  # kernel = input
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONV2D)
def test_conv2d(xs, ws, kw, bias):
    args = [Arg(randn(*xs), requires_grad=True), Arg(randn(*ws), requires_grad=True)]
    if bias:
        args.append(Arg(randn(ws[0]), requires_grad=True))
    check(lambda lib, x, w, *b: F(lib).conv2d(x, w, *b, **kw), *args)


CONV1D = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 4, 9), (2, 2, 2), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((2, 3, 8), (5, 3, 4), dict(padding="same")),
    ((3, 7), (2, 3, 3), dict(padding=(1,))),                           # unbatched
]


@pytest.mark.parametrize("xs, ws, kw", CONV1D)
def test_conv1d(xs, ws, kw):
    check(lambda lib, x, w, b: F(lib).conv1d(x, w, b, **kw), Arg(randn(*xs), requires_grad=True),
          Arg(randn(*ws), requires_grad=True), Arg(randn(ws[0]), requires_grad=True))


def test_conv3d():
    check(lambda lib, x, w, b: F(lib).conv3d(x, w, b, stride=(1, 2, 1), padding=1),
          Arg(randn(1, 2, 3, 4, 4), requires_grad=True), Arg(randn(2, 2, 2, 3, 2), requires_grad=True),
          Arg(randn(2), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_conv2d_dtypes(dtype):
    """Forward and weight/bias gradients against torch in ``dtype``. The input gradient is summed
    in float32 and rounded once, as cuDNN and torch's CPU kernel on AVX512-BF16 machines do (on
    other CPUs torch's 16-bit col2im rounds after each kernel offset): the oracle is torch's
    float64 gradient rounded to ``dtype``, exact here as every product and sum is."""
    local = np.random.default_rng(5)
    x, w, b = (local.integers(-3, 4, s).astype(np.float64) / 2 for s in ((2, 3, 5, 5), (4, 3, 3, 3), (4,)))
    check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, padding=1), Arg(x, dtype),
          Arg(w, dtype, requires_grad=True), Arg(b, dtype, requires_grad=True))
    grad = local.integers(-8, 9, (2, 4, 5, 5)) / 4
    expected = torch.tensor(x, device=dev(torch), requires_grad=True)
    torch.nn.functional.conv2d(expected, torch.tensor(w, device=dev(torch)), padding=1).backward(
        torch.tensor(grad, device=dev(torch)))
    tt = getattr(tritensor, dtype)
    actual = tritensor.tensor(x, dtype=tt, device=DEVICE, requires_grad=True)
    F(tritensor).conv2d(actual, tritensor.tensor(w, dtype=tt, device=DEVICE), padding=1).backward(
        tritensor.tensor(grad, dtype=tt, device=DEVICE))
    assert_same(expected.grad.to(getattr(torch, dtype)), actual.grad, what="grad of input")


def test_conv2d_integers():
    x, w = rng.integers(-3, 4, (2, 3, 5, 5)), rng.integers(-3, 4, (4, 3, 3, 3))
    check(lambda lib, x, w: F(lib).conv2d(x, w, stride=2), x, w)


def test_conv_noncontiguous_unbatched_and_empty():
    x = Arg(randn(6, 5, 3), requires_grad=True)
    w = Arg(randn(3, 2, 3, 4), requires_grad=True)
    check(lambda lib, x, w: F(lib).conv2d(x.permute(2, 1, 0).unsqueeze(0), w.transpose(1, 2)), x, w)
    check(lambda lib, x, w: F(lib).conv2d(x, w[:, :, :2]), Arg(randn(3, 4, 5), requires_grad=True),
          Arg(randn(2, 3, 3, 3), requires_grad=True))
    check(lambda lib, x, w: F(lib).conv2d(x, w), Arg(randn(0, 3, 4, 4), requires_grad=True),
          Arg(randn(2, 3, 3, 3), requires_grad=True))
    check(lambda lib, x, w: F(lib).conv1d(x, w), Arg(randn(2, 2, 4), requires_grad=True),
          Arg(randn(0, 2, 3), requires_grad=True))


def test_conv_gradcheck_and_double_backward():
    gradcheck(lambda lib, x, w, b: F(lib).conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2),
              randn(1, 2, 4, 4), randn(2, 1, 2, 2), randn(2))
    gradcheck(lambda lib, x, w: F(lib).conv1d(x, w, padding="same"), randn(1, 2, 4), randn(2, 2, 2))

    def double(lib, x, w):
        out = F(lib).conv2d(x, w, padding=1)
        gx, gw = lib.autograd.grad((out * out).sum(), (x, w), create_graph=True)
        return (gx * gx).sum() + (gw ** 3).sum()
    check(double, Arg(randn(1, 2, 4, 4), requires_grad=True), Arg(randn(3, 2, 3, 3), requires_grad=True))


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(3, 7), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2), st.integers(1, 2), st.booleans())
def test_conv2d_hypothesis(groups, per_group, size, k, stride, padding, dilation, bias):
    c, o = groups * per_group, groups * 2
    if dilation * (k - 1) + 1 > size + 2 * padding:
        return
    args = [Arg(randn(2, c, size, size + 1), requires_grad=True),
            Arg(randn(o, per_group, k, k), requires_grad=True)]
    if bias:
        args.append(Arg(randn(o), requires_grad=True))
    check(lambda lib, x, w, *b: F(lib).conv2d(x, w, *b, stride=stride, padding=padding, dilation=dilation,
                                              groups=groups), *args)


@pytest.mark.parametrize("xs, ws, bs, kw", [
    ((3, 8), (4, 3, 3, 3), None, {}),                                   # input rank
    ((2, 3, 4, 4, 4, 4), (4, 3, 3, 3), None, {}),
    ((2, 2, 8, 8), (4, 3, 3, 3), None, {}),                             # channels vs weight
    ((2, 3, 2, 2), (4, 3, 3, 3), None, {}),                             # kernel bigger than input
    ((2, 3, 2, 2), (4, 3, 2, 2), None, dict(dilation=2)),               # dilated kernel too
    ((2, 3, 8, 8), (4, 1, 3, 3), None, dict(groups=2)),                 # groups vs input channels
    ((2, 4, 8, 8), (3, 2, 3, 3), None, dict(groups=2)),                 # groups vs out channels
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(groups=0)),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=2, padding="same")),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(padding="full")),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(padding=-1)),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=0)),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(dilation=0)),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=(1, 1, 1))),
    ((2, 3, 8, 8), (4, 3, 3, 3), (3,), {}),                             # bias size
    ((2, 3, 8, 8), (4, 3, 3), None, {}),                                # weight rank
])
def test_conv2d_errors(xs, ws, bs, kw):
    arrays = [randn(*xs), randn(*ws)] + ([randn(*bs)] if bs else [])
    check(lambda lib, x, w, *b: F(lib).conv2d(x, w, *b, **kw), *arrays)


def test_conv_dtype_mismatch_and_bool():
    check(lambda lib, x, w: F(lib).conv2d(x, w), Arg(randn(1, 1, 3, 3), "float32"), Arg(randn(1, 1, 2, 2)))
    check(lambda lib, x, w: F(lib).conv1d(x, w), randn(1, 1, 3) > 0, randn(1, 1, 2) > 0)
    check(lambda lib, x, w: F(lib).conv1d(x, w), randn(2, 3, 8, 8), randn(4, 3, 3))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("conv, xs, ws", [("conv1d", (2, 3, 6), (4, 3, 3)),
                                          ("conv2d", (2, 3, 5, 5), (4, 3, 3, 3)),
                                          ("conv_transpose1d", (2, 3, 6), (3, 4, 3)),
                                          ("conv_transpose2d", (2, 3, 4, 4), (3, 2, 3, 3))])
def test_conv_autocast(conv, xs, ws, dtype):
    """conv1d/2d/3d and conv_transpose1d/2d/3d are on torch's lower-precision autocast lists
    (CPU and CUDA)."""
    local = np.random.default_rng(6)
    bias = ws[1:2] if "transpose" in conv else ws[:1]
    x, w, b = (local.integers(-3, 4, s).astype(np.float32) / 2 for s in (xs, ws, bias))

    def run(lib, x, w, b):
        with lib.autocast(dev(lib).split(":")[0], dtype=getattr(lib, dtype)):
            return getattr(F(lib), conv)(x, w, b, padding=1)
    rtol, atol = TOLERANCES[dtype]  # the fp32 leaves' gradients went through the autocast dtype
    out = check(run, Arg(x, requires_grad=True), Arg(w, requires_grad=True), Arg(b, requires_grad=True),
                rtol=rtol, atol=atol)
    assert str(out.dtype) == f"torch.{dtype}"


# ---------------------------------------------------------------------------- max pooling
MAXPOOL = [  # kernel_size, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 0), 1, False),
    (2, 3, 0, 1, True), (3, 2, 1, 2, True), ((3, 2), 1, (1, 1), (1, 2), False), (4, 3, 2, 1, True),
]


@pytest.mark.parametrize("k, s, p, d, ceil", MAXPOOL)
def test_max_pool2d(k, s, p, d, ceil):
    x = Arg(np.random.default_rng(1).permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) / 8.0, requires_grad=True)
    check(lambda lib, x: F(lib).max_pool2d(x, k, s, p, d, ceil, return_indices=True), x)
    check(lambda lib, x: F(lib).max_pool2d(x, k, s, p, d, ceil), x)


def test_max_pool_gradient_goes_to_the_chosen_max_of_overlapping_windows():
    check(lambda lib, x: F(lib).max_pool2d(x, 3, 1, return_indices=True),
          Arg(randn(1, 2, 5, 5), requires_grad=True))
    gradcheck(lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, ceil_mode=True), randn(1, 1, 5, 5))


@pytest.mark.parametrize("k, s, p, d, ceil", MAXPOOL[:4])
def test_max_pool1d(k, s, p, d, ceil):
    k, s, p = (v[0] if isinstance(v, tuple) else v for v in (k, s, p))
    x = Arg(np.random.default_rng(2).permutation(2 * 3 * 9).reshape(2, 3, 9) / 4.0, requires_grad=True)
    check(lambda lib, x: F(lib).max_pool1d(x, k, s, p, d, ceil, return_indices=True), x)
    check(lambda lib, x: F(lib).max_pool1d(x, k, s, p, d, ceil), Arg(randn(3, 9), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64", "int32", "int8", "uint8"])
def test_max_pool2d_dtypes(dtype):
    x = rng.integers(0, 9, (2, 2, 5, 5)).astype(np.float64)
    check(lambda lib, x: F(lib).max_pool2d(x, 2, 1, 1)[..., 1:, 1:], Arg(x, dtype))
    check(lambda lib, x: F(lib).max_pool2d(x, 3, 2, return_indices=True)[0], Arg(x, dtype))


def test_max_pool_nan_inf_noncontiguous_empty():
    x = randn(2, 2, 4, 6)
    x[0, 0, 1, 1], x[1, 1, 3, 5], x[0, 1, 0, 0] = np.nan, -np.inf, np.inf
    check(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), Arg(x, requires_grad=True))
    check(lambda lib, x: F(lib).max_pool2d(x, 2), Arg(np.full((1, 1, 2, 2), -np.inf), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool2d(x.permute(2, 1, 0).unsqueeze(0), 2, 1, 1, return_indices=True),
          Arg(randn(6, 5, 3), requires_grad=True))
    check(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True),
          Arg(randn(0, 2, 4, 4), requires_grad=True))


def test_max_pool_windows_of_padding_only_and_double_backward():
    """A window that dilation leaves without an input element (-inf, and torch's index past
    the plane, whose gradient is dropped), and a backward that records a graph (the composed
    scatter, differentiable again)."""
    x = Arg(randn(1, 2, 5, 5), requires_grad=True)
    check(lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, 3, True, return_indices=True), x)

    def twice(lib, x):
        y = F(lib).max_pool2d(x, 2, 1)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return g, lib.autograd.grad(g.sum(), x, retain_graph=True)[0]
    check(twice, Arg(randn(2, 3, 4, 5), dtype="float64", requires_grad=True), same_node=False)


def test_max_pool_backward_is_deterministic():
    """max_pool1d/2d's backward gathers each input's gradient on every device (in output order,
    no atomics), so deterministic mode accepts it, as torch's CPU and CUDA kernels: overlapping
    windows, padding, dilation, ceil_mode's windows past the plane, a strided gradient."""
    def pooled_grad(lib, x):
        lib.use_deterministic_algorithms(True)
        try:
            f = F(lib)
            ys = (f.max_pool2d(x, 3, 1, 1), f.max_pool2d(x, 2, 1, 0, 2, True),
                  f.max_pool2d(x, (3, 2), (2, 3), 1), f.max_pool1d(x[0], 3, 2, 1, 1, True),
                  f.max_pool2d(x, 3, 2, 1, 3, True))
            loss = sum((y.transpose(-1, -2) * y.transpose(-1, -2).detach().sin()).sum() for y in ys)
            return lib.autograd.grad(loss, x)[0]
        finally:
            lib.use_deterministic_algorithms(False)
    assert check(pooled_grad, Arg(randn(2, 3, 6, 7), requires_grad=True)) is not None
    assert check(pooled_grad, Arg(randn(1, 2, 5, 5), dtype="float64", requires_grad=True)) is not None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_takes_the_fused_kernel(monkeypatch, dtype):
    """float32/float64 pools of any rank run the device's one-pass kernel (Numba on the CPU,
    Triton on 'cuda'; its results are the tests above); other dtypes compose."""
    from tritensor.nn import _fused
    calls = []
    x = tritensor.ones(2, 3, 6, 6, 6, dtype=getattr(tritensor, dtype), device=DEVICE)
    kernel = _fused.MAX_POOL[DEVICE]
    monkeypatch.setattr(type(kernel), "forward", lambda self, x, geo, f=type(kernel).forward:
                        calls.append(len(geo.kernel)) or f(self, x, geo))
    tritensor.nn.functional.max_pool3d(x, 2)
    tritensor.nn.functional.max_pool2d(x[0], 2)
    tritensor.nn.functional.max_pool1d(x[0, 0], 2)
    tritensor.nn.functional.max_pool2d(x[0].half(), 2)
    assert calls == [3, 2, 2]


@pytest.mark.parametrize("fn, shape", [
    (lambda lib, x: F(lib).max_pool2d(x, 2, padding=2), (1, 1, 8, 8)),       # pad > kernel / 2
    (lambda lib, x: F(lib).max_pool2d(x, 2), (8,)),                           # rank
    (lambda lib, x: F(lib).max_pool2d(x, 2), (2, 0, 8, 8)),                   # empty channels
    (lambda lib, x: F(lib).max_pool2d(x, 3), (1, 1, 2, 2)),                   # output too small
    (lambda lib, x: F(lib).max_pool2d(x, 2, stride=0), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).max_pool2d(x, 2, dilation=0), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).max_pool2d(x, 0), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).max_pool1d(x, 2), (1, 1, 4, 4)),                   # 1-d rank
    (lambda lib, x: F(lib).max_pool1d(x.long(), 2), (1, 1, 4)),               # torch: no integer max_pool1d
    (lambda lib, x: F(lib).max_pool2d(x > 0, 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).avg_pool2d(x > 0, 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).avg_pool2d(x, 2, padding=2), (1, 1, 8, 8)),
    (lambda lib, x: F(lib).avg_pool2d(x, 3), (1, 1, 2, 2)),
    (lambda lib, x: F(lib).avg_pool2d(x, 2, divisor_override=0), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).avg_pool1d(x, 2), (4,)),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), (8,)),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), (1, 1, 0, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x.long(), 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).adaptive_avg_pool1d(x, 2), (1, 1, 4, 4)),
])
def test_pool_errors(fn, shape):
    check(fn, randn(*shape))


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 7), st.integers(2, 7), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
       st.integers(1, 2), st.booleans(), st.booleans())
def test_pools_hypothesis(h, w, k, s, p, d, ceil, count_include_pad):
    """Max and average pools over random geometries (values without ties, so indices are exact)."""
    if 2 * p > d * (k - 1) + 1 or d * (k - 1) + 1 > min(h, w) + 2 * p:
        return
    values = np.random.default_rng(h * 31 + w).permutation(2 * h * w).reshape(1, 2, h, w) / 4.0
    x = Arg(values, requires_grad=True)
    check(lambda lib, x: F(lib).max_pool2d(x, k, s, p, d, ceil, return_indices=True), x)
    if 2 * p <= k:
        check(lambda lib, x: F(lib).avg_pool2d(x, k, s, p, ceil, count_include_pad), x)


# ---------------------------------------------------------------------------- average pooling
AVGPOOL = [  # kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
    (3, 2, 1, True, True, None), (3, 2, 1, True, False, None), ((2, 3), (1, 2), (1, 1), True, False, None),
    (2, 3, 1, True, True, None), (3, 2, 1, False, True, 5), (4, 3, 2, True, False, None),
    (5, 1, 2, False, True, None),  # 25 offsets: the reduction over the window view, not the slices
]


@pytest.mark.parametrize("k, s, p, ceil, cip, div", AVGPOOL)
def test_avg_pool2d(k, s, p, ceil, cip, div):
    check(lambda lib, x: F(lib).avg_pool2d(x, k, s, p, ceil, cip, div),
          Arg(randn(2, 3, 7, 8), requires_grad=True))


@pytest.mark.parametrize("k, s, p, ceil, cip, div", AVGPOOL[:6])
def test_avg_pool1d(k, s, p, ceil, cip, div):
    k, s, p = (v[0] if isinstance(v, tuple) else v for v in (k, s, p))
    check(lambda lib, x: F(lib).avg_pool1d(x, k, s, p, ceil, cip), Arg(randn(2, 3, 9), requires_grad=True))
    check(lambda lib, x: F(lib).avg_pool1d(x, k, s, p, ceil, cip), Arg(randn(3, 9), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_avg_pool_dtypes_noncontiguous_empty(dtype):
    x = rng.integers(-4, 5, (2, 2, 5, 6)).astype(np.float64)
    check(lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1), Arg(x, dtype, requires_grad=True))
    check(lambda lib, x: F(lib).avg_pool2d(x.permute(2, 1, 0), 2, ceil_mode=True), Arg(randn(6, 5, 3), dtype))
    check(lambda lib, x: F(lib).avg_pool2d(x, 2), Arg(randn(0, 2, 4, 4), dtype, requires_grad=True))


def test_avg_pool_gradcheck():
    gradcheck(lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
              randn(1, 1, 5, 5))


# ---------------------------------------------------------------------------- adaptive average pooling
@pytest.mark.parametrize("size", [(1, 1), 1, 2, (3, 5), (7, 8), (2, None), (4, 3), (10, 12)])
def test_adaptive_avg_pool2d(size):
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, size), Arg(randn(2, 3, 7, 8), requires_grad=True))


@pytest.mark.parametrize("size", [1, 3, 5, 9, 13])
def test_adaptive_avg_pool1d(size):
    check(lambda lib, x: F(lib).adaptive_avg_pool1d(x, size), Arg(randn(2, 3, 9), requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_avg_pool1d(x, size), Arg(randn(3, 9), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_adaptive_avg_pool_dtypes(dtype):
    x = rng.integers(-4, 5, (2, 2, 5, 7)).astype(np.float64)
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, (3, 4)), Arg(x, dtype, requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x.permute(2, 1, 0), 3), Arg(randn(7, 5, 2), dtype))
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), Arg(randn(0, 2, 4, 4), dtype, requires_grad=True))
    if dtype == "float32":
        gradcheck(lambda lib, x: F(lib).adaptive_avg_pool2d(x, (2, 3)), randn(1, 1, 5, 4))


# ---------------------------------------------------------------------------- modules
REPRS = [
    ("Conv2d", (1, 32, 3), {}),
    ("Conv2d", (2, 4, (3, 5)), dict(stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)),
    ("Conv2d", (2, 4, 3), dict(padding="same")),
    ("Conv2d", (2, 4, 3), dict(padding="valid")),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="reflect")),
    ("Conv1d", (2, 4, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ("Conv3d", (2, 4, 2), {}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3, 2, 1, 2, True, True), {}),
    ("MaxPool1d", (3,), dict(stride=2, ceil_mode=True)),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", ((2, 3), 1, 1), dict(ceil_mode=True, count_include_pad=False, divisor_override=3)),
    ("AvgPool1d", (3, 2, 1), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((2, None),), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool2d", ((2, None), True), {}),
    ("AdaptiveMaxPool1d", (3,), {}),
    ("BatchNorm2d", (3,), dict(momentum=None, affine=False)),
    ("Dropout2d", (), {}),
    ("Dropout1d", (0.2,), {}),
]


@torch_2_13
@pytest.mark.parametrize("name, args, kwargs", REPRS)
def test_module_repr(name, args, kwargs):
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv2d", (4, 6, 3), dict(groups=3)), ("Conv2d", (4, 6, 3), dict(groups=4)),
    ("Conv2d", (4, 6, 3), dict(padding="full")), ("Conv2d", (4, 6, 3), dict(padding="same", stride=2)),
    ("Conv2d", (4, 6, 3), dict(padding_mode="mirror")), ("Conv1d", (4, 6, 3), dict(groups=0)),
])
def test_module_constructor_errors(name, args, kwargs):
    with pytest.raises(ValueError) as expected:
        getattr(torch.nn, name)(*args, **kwargs)
    with pytest.raises(ValueError) as actual:
        getattr(tritensor.nn, name)(*args, **kwargs)
    if "{" not in str(expected.value):  # torch prints a set in some messages, in hash order
        assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv2d", (6, 8, (3, 2)), dict(groups=2)), ("Conv1d", (3, 5, 4), dict(bias=False)),
    ("Conv3d", (2, 3, 2), {}),
])
def test_conv_module_init_and_state_dict(name, args, kwargs):
    tritensor.manual_seed(0)
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (n, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert tuple(a.shape) == tuple(b.shape), n
        fan_in = math.prod(ref.weight.shape[1:])
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias share this bound
        values = a.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.5 * bound, n








@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("Conv2d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 6, 7)),
    ("Conv2d", (3, 2, 2), dict(padding="same", bias=False), (2, 3, 5, 5)),
    ("Conv1d", (3, 4, 3), dict(dilation=2), (2, 3, 9)),
    ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 7, 7)),
    ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False), (2, 3, 7, 7)),
    ("AvgPool1d", (3, 2), {}, (2, 3, 7)),
    ("MaxPool1d", (2,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 7)),
    ("AdaptiveAvgPool1d", (2,), {}, (2, 3, 7)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 7)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 7)),
])
def test_modules_forward_backward(name, args, kwargs, shape):
    compare_modules(*module_pair(name, *args, **kwargs), randn(*shape))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("name, shape, padding", [
    ("Conv2d", (2, 2, 5, 6), (1, 2)), ("Conv2d", (2, 2, 5, 6), "same"), ("Conv1d", (2, 2, 7), 2),
])
def test_conv_module_padding_modes(mode, name, shape, padding):
    """Other padding modes pad with F.pad first, then convolve without padding, as torch."""
    compare_modules(*module_pair(name, 2, 3, 3, padding=padding, padding_mode=mode), randn(*shape))


def test_max_pool_module_return_indices():
    ref, ours = module_pair("MaxPool2d", 2, return_indices=True)
    x = randn(1, 2, 4, 4)
    assert_same(ref(torch.tensor(x)), ours(tritensor.tensor(x, device=DEVICE)))


# ---------------------------------------------------------------------------- batch norm / channel dropout
@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(momentum=None),
                                    dict(track_running_stats=False)])
def test_batchnorm2d(kwargs):
    ref, ours = module_pair("BatchNorm2d", 3, **kwargs)
    for _ in range(2):
        compare_modules(ref, ours, randn(4, 3, 3, 2))
    ref.eval(), ours.eval()
    compare_modules(ref, ours, randn(2, 3, 3, 2))


def test_batchnorm2d_rank_and_batch_norm_on_sequences():
    check(lambda lib, x: lib.nn.BatchNorm2d(3)(x), randn(2, 3, 4))
    ref, ours = module_pair("BatchNorm1d", 3)
    compare_modules(ref, ours, randn(4, 3, 5))  # (N, C, L): statistics per channel over N and L
    check(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
          Arg(randn(3, 2, 4, 2), requires_grad=True), Arg(randn(2), requires_grad=True),
          Arg(randn(2), requires_grad=True))


@pytest.mark.parametrize("name, shape, channel_dims", [
    ("dropout2d", (4, 6, 3, 5), 2), ("dropout1d", (4, 6, 9), 2), ("dropout1d", (16, 9), 1),
])
def test_channel_dropout(name, shape, channel_dims):
    tritensor.manual_seed(0)
    x = tritensor.ones(shape, device=DEVICE, requires_grad=True)
    out = getattr(tritensor.nn.functional, name)(x, 0.4)
    values = out.detach().cpu().numpy().reshape(int(np.prod(shape[:channel_dims])), -1)
    per_channel = values[:, :1]
    assert (values == per_channel).all(), "a channel is either all dropped or all kept"
    assert set(np.unique(per_channel)) <= {0.0, np.float32(1 / 0.6)}
    assert 0 < (per_channel == 0).sum() < len(per_channel)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy().reshape(values.shape), values)
    assert getattr(tritensor.nn.functional, name)(x, 0.4, training=False) is x
    assert (getattr(tritensor.nn.functional, name)(x, 1.0).detach().cpu().numpy() == 0).all()


def test_channel_dropout_modules_and_errors():
    m = tritensor.nn.Dropout2d(0.5).eval()
    x = tritensor.ones(2, 3, 4, 4, device=DEVICE)
    assert m(x) is x
    check(lambda lib, x: F(lib).dropout1d(x, 0.5), randn(2, 3, 4, 4))
    check(lambda lib, x: F(lib).dropout2d(x, 1.5), randn(2, 3, 4, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F(tritensor).dropout2d(tritensor.ones(2, 3, 4, device=DEVICE))
    assert any("(N, C, L)" in str(w.message) for w in caught)


# ---------------------------------------------------------------------------- a small CNN
def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3),
                         nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(24, 10))


def test_small_cnn_trains_like_torch():
    torch.manual_seed(0)
    ref = _cnn(torch)
    ours = _cnn(tritensor).to(DEVICE)
    ours.load_state_dict(copied_state(ref))
    assert repr(ours) == repr(ref)
    opts = (torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9),
            tritensor.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9))
    data = rng.standard_normal((3, 8, 1, 10, 10)).astype(np.float32)
    labels = rng.integers(0, 10, (3, 8))
    for step in range(3):
        losses = []
        for lib, model, opt in ((torch, ref, opts[0]), (tritensor, ours, opts[1])):
            opt.zero_grad()
            dev = "cpu" if lib is torch else DEVICE
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(data[step], device=dev)),
                                                   lib.tensor(labels[step], device=dev))
            loss.backward()
            opt.step()
            losses.append(loss)
        assert_same(losses[0], losses[1], what=f"loss of step {step}")
    for (n, p), (_, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert_same(p, q, what=n)


@pytest.mark.parametrize("case", list(itertools.product([1, 2], [1, 2])))
def test_conv_then_pool_grad_fn_names(case):
    stride, groups = case
    check(lambda lib, x, w: F(lib).max_pool2d(F(lib).conv2d(x, w, stride=stride, groups=groups).relu(), 2),
          Arg(randn(2, 2, 8, 8), requires_grad=True), Arg(randn(2, 2 // groups, 3, 3), requires_grad=True))


# ---------------------------------------------------------------------------- adaptive max pooling
@pytest.mark.parametrize("size", [1, 2, (3, 5), (7, 8), (2, None), (4, 3), (10, 12)])
def test_adaptive_max_pool2d(size):
    x = Arg(np.random.default_rng(3).permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) / 8.0, requires_grad=True)
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, size, return_indices=True), x)
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, size), x)


@pytest.mark.parametrize("size", [1, 3, 5, 9, 13])
def test_adaptive_max_pool1d(size):
    x = Arg(np.random.default_rng(4).permutation(2 * 3 * 9).reshape(2, 3, 9) / 4.0, requires_grad=True)
    check(lambda lib, x: F(lib).adaptive_max_pool1d(x, size, return_indices=True), x)
    check(lambda lib, x: F(lib).adaptive_max_pool1d(x, size), Arg(randn(3, 9), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_adaptive_max_pool_dtypes_nan_noncontiguous_empty(dtype):
    x = randn(2, 2, 5, 7)
    x[0, 0, 1, 1], x[1, 1, 4, 6] = np.nan, -np.inf
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, (3, 4)), Arg(x, dtype, requires_grad=True))
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x.permute(2, 1, 0), 3, True), Arg(randn(7, 5, 2), dtype))
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, 2, True),
          Arg(randn(0, 2, 4, 4), dtype, requires_grad=True))
    if dtype == "float32":
        gradcheck(lambda lib, x: F(lib).adaptive_max_pool2d(x, (2, 3)), randn(1, 1, 5, 4))


@pytest.mark.parametrize("fn, shape", [
    (lambda lib, x: F(lib).adaptive_max_pool2d(x, 2), (8,)),
    (lambda lib, x: F(lib).adaptive_max_pool2d(x, 2), (1, 1, 0, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool2d(x.long(), 2), (1, 1, 4, 4)),
    (lambda lib, x: F(lib).adaptive_max_pool1d(x, 2), (1, 1, 4, 4)),
])
def test_adaptive_max_pool_errors(fn, shape):
    check(fn, randn(*shape))


@pytest.mark.parametrize("fn", [
    lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1),
    lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda lib, x: F(lib).adaptive_avg_pool2d(x, (2, 3)),
    lambda lib, x: F(lib).adaptive_max_pool2d(x, (2, 3)),
    lambda lib, x: F(lib).unfold(x, 2, padding=1),
    lambda lib, x: F(lib).fold(x.reshape(1, 8, -1)[:, :, :9], (4, 4), 2),
])
def test_double_backward(fn):
    """Each backward is written with differentiable ops, so create_graph=True works."""
    def run(lib, x):
        (gx,) = lib.autograd.grad((fn(lib, x) ** 2).sum(), (x,), create_graph=True)
        return (gx ** 3).sum()
    check(run, Arg(randn(1, 2, 5, 6), requires_grad=True))
