"""Transposed convolutions (conv_transpose1d/2d/3d and nn.ConvTranspose1d/2d/3d) against torch."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import (DEVICE, Arg, check, compare_modules, copied_state, dev, gradcheck, module_pair,
                     torch_2_13)

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


def conv_t(lib, n):
    return getattr(F(lib), f"conv_transpose{n}d")


def _args(xs, ws, groups=1, bias=True, dtype=None):
    """Input, weight (C_in, C_out / groups, *kernel) and optional bias, all requiring grad."""
    args = [Arg(randn(*xs), dtype, requires_grad=True), Arg(randn(*ws), dtype, requires_grad=True)]
    if bias:
        args.append(Arg(randn(ws[1] * groups), dtype, requires_grad=True))
    return args


# ---------------------------------------------------------------------------- functional
CASES = [  # rank, input shape, weight shape, kwargs
    (1, (2, 3, 5), (3, 2, 3), {}),
    (1, (2, 4, 5), (4, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    (1, (2, 4, 5), (4, 1, 3), dict(dilation=2, output_padding=1, groups=4)),     # output_padding < dilation
    (1, (2, 4, 4), (4, 1, 3), dict(stride=3, padding=4, output_padding=2, dilation=2, groups=2)),
    (2, (2, 3, 4, 5), (3, 2, 3, 2), {}),
    (2, (2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, padding=1)),
    (2, (1, 4, 3, 4), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
                                         dilation=(2, 1))),
    (2, (2, 2, 3, 3), (2, 2, 2, 2), dict(stride=(1, 2), dilation=(2, 1), output_padding=(1, 1))),
    (2, (1, 2, 2, 2), (2, 1, 4, 4), dict(padding=3)),                        # output of 1 x 1
    (2, (1, 2, 1, 1), (2, 3, 3, 2), {}),                                     # kernel bigger than input
    (3, (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), {}),
    (3, (1, 2, 2, 2, 3), (2, 1, 2, 3, 2), dict(stride=(2, 1, 2), padding=(1, 1, 0), output_padding=(1, 0, 1),
                                               groups=2)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n, xs, ws, kw", CASES)
def test_conv_transpose(n, xs, ws, kw, bias):
    check(lambda lib, x, w, *b: conv_t(lib, n)(x, w, *b, **kw), *_args(xs, ws, kw.get("groups", 1), bias))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_top_level_names_and_positional_arguments(n):
    """torch.conv_transpose<n>d, arguments in torch's order (stride, padding, output_padding,
    groups, dilation)."""
    xs, ws = (1, 2) + (3,) * n, (2, 2) + (2,) * n
    check(lambda lib, x, w, b: getattr(lib, f"conv_transpose{n}d")(x, w, b, 2, 1, 1, 2, 1),
          *_args(xs, (2, 1) + ws[2:], groups=2))
    check(lambda lib, x, w: getattr(lib, f"conv_transpose{n}d")(x, w, None, [2] * n, [0] * n, (1,) * n),
          *_args(xs, ws, bias=False))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_transpose_dtypes(n, dtype):
    """Values that are multiples of 1/2 keep every product and sum exact in each dtype; the
    gradients are seeded by the harness with normal values, within its tolerances."""
    local = np.random.default_rng(n)
    shapes = ((2, 3) + (3,) * n, (3, 2) + (2,) * n, (2,))
    x, w, b = (local.integers(-3, 4, s).astype(np.float64) / 2 for s in shapes)
    check(lambda lib, x, w, b: conv_t(lib, n)(x, w, b, stride=2, padding=1, output_padding=1),
          Arg(x, dtype, requires_grad=True), Arg(w, dtype, requires_grad=True),
          Arg(b, dtype, requires_grad=True))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_transpose_int64(n):
    x, w, b = (rng.integers(-3, 4, s) for s in ((2, 2) + (3,) * n, (2, 2) + (2,) * n, (2,)))
    check(lambda lib, x, w, b: conv_t(lib, n)(x, w, b, stride=2, dilation=2, output_padding=1), x, w, b)
    check(lambda lib, x, w: conv_t(lib, n)(x[0], w), x, w)


@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8", "bool"])
def test_conv_transpose_other_integer_dtypes_raise(dtype):
    """torch's CPU kernels have floating types and int64 only: NotImplementedError."""
    x, w = rng.integers(0, 3, (1, 2, 3, 3)), rng.integers(0, 3, (2, 2, 2, 2))
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w), Arg(x, dtype), Arg(w, dtype))
    check(lambda lib, x, w: F(lib).conv_transpose1d(x, w), Arg(x[0], dtype), Arg(w[..., 0], dtype))


def test_conv_transpose_unbatched_noncontiguous_and_empty():
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, stride=2, output_padding=(0, 1)),
          *_args((3, 4, 3), (3, 2, 2, 3)))
    check(lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, padding=1), *_args((2, 5), (2, 3, 3)))
    check(lambda lib, x, w, b: F(lib).conv_transpose3d(x, w, b, stride=2),
          *_args((2, 2, 2, 3), (2, 1, 2, 2, 1)))
    # a permuted input and a transposed weight (non-contiguous), and a transposed Arg
    check(lambda lib, x, w: F(lib).conv_transpose2d(x.permute(2, 1, 0).unsqueeze(0), w.transpose(2, 3),
                                                    stride=2, padding=1),
          Arg(randn(4, 3, 2), requires_grad=True), Arg(randn(2, 3, 2, 3), requires_grad=True))
    check(lambda lib, x, w: F(lib).conv_transpose1d(x, w),
          Arg(randn(5, 3), transpose=True, requires_grad=True), Arg(randn(3, 2, 2), requires_grad=True))
    # empty batch: an output of size 0, or an input of spatial size 0, is allowed then
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, stride=2), *_args((0, 3, 3, 2), (3, 2, 2, 2)))
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding=2),
          *_args((0, 3, 2, 2), (3, 2, 3, 3), bias=False))
    check(lambda lib, x, w: F(lib).conv_transpose1d(x, w), *_args((0, 3, 0), (3, 2, 3), bias=False))


def test_conv_transpose_only_some_inputs_require_grad():
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, stride=2), Arg(randn(1, 2, 3, 3)),
          Arg(randn(2, 3, 2, 2), requires_grad=True), Arg(randn(3)))
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, stride=2),
          Arg(randn(1, 2, 3, 3), requires_grad=True), Arg(randn(2, 3, 2, 2)),
          Arg(randn(3), requires_grad=True))


@pytest.mark.parametrize("n, xs, ws, kw", [
    (1, (1, 2, 3), (2, 2, 3), dict(stride=2, padding=1, output_padding=1, dilation=2)),
    (2, (1, 2, 2, 3), (2, 1, 2, 2), dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 0), groups=2)),
    (3, (1, 2, 2, 2, 1), (2, 1, 2, 1, 2), dict(stride=2, dilation=(1, 2, 1), output_padding=1)),
])
def test_conv_transpose_gradcheck(n, xs, ws, kw):
    out_channels = ws[1] * kw.get("groups", 1)
    gradcheck(lambda lib, x, w, b: conv_t(lib, n)(x, w, b, **kw), randn(*xs), randn(*ws), randn(out_channels))


@pytest.mark.parametrize("n, xs, ws, kw", [
    (1, (2, 2, 3), (2, 3, 2), dict(stride=2, output_padding=1)),
    (2, (1, 4, 3, 2), (4, 1, 2, 2), dict(stride=2, padding=1, groups=2, dilation=(1, 2))),
    (3, (1, 2, 2, 1, 2), (2, 2, 2, 2, 1), dict(padding=(1, 0, 0))),
])
def test_conv_transpose_double_backward(n, xs, ws, kw):
    """create_graph gradients, differentiated again (also in the output gradient), against torch's."""
    def double(lib, x, w, b, g):
        out = conv_t(lib, n)(x, w, b, **kw)
        gx, gw, gb = lib.autograd.grad(out, (x, w, b), g * out, create_graph=True)
        return (gx * gx).sum() + (gw ** 3).sum() + (gb * gx.sum()).sum()
    out_shape = conv_t(torch, n)(torch.zeros(xs), torch.zeros(ws), **kw).shape
    check(double, *_args(xs, ws, kw.get("groups", 1)), Arg(randn(*out_shape), requires_grad=True))


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv2d(z, W), x> == <z, conv_transpose2d(x, W)> for the same stride/padding/dilation/groups."""
    kw = dict(stride=2, padding=1, dilation=(1, 2), groups=2)
    z, w, x = (tritensor.tensor(randn(*s), device=DEVICE) for s in ((2, 4, 7, 8), (6, 2, 3, 2), (2, 6, 4, 4)))
    lhs = (F(tritensor).conv2d(z, w, **kw) * x).sum().item()
    rhs = (z * F(tritensor).conv_transpose2d(x, w, output_padding=(0, 1), **kw)).sum().item()
    assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2), st.integers(1, 2), st.integers(0, 2), st.booleans())
def test_conv_transpose2d_hypothesis(groups, per_group, size, k, stride, padding, dilation, out_pad, bias):
    out_pad = min(out_pad, max(stride, dilation) - 1)
    if (size - 1) * stride - 2 * padding + dilation * (k - 1) + out_pad + 1 < 1:
        return
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups, dilation=dilation)
    check(lambda lib, x, w, *b: F(lib).conv_transpose2d(x, w, *b, **kw),
          *_args((2, groups * per_group, size, size + 1), (groups * per_group, 2, k, k), groups, bias))


# ---------------------------------------------------------------------------- errors
ERRORS = [  # rank, input shape, weight shape, bias shape, kwargs
    (2, (2, 3, 4, 4), (3, 2, 3), None, {}),                                 # weight rank
    (2, (2, 3, 4, 4), (3, 2, 3, 3, 3), None, {}),
    (1, (2, 3, 4), (3, 2), None, {}),
    (1, (2, 3, 4), (3, 2, 3, 3), None, {}),
    (2, (3, 4), (3, 2, 3, 3), None, {}),                                    # input rank
    (2, (1, 2, 3, 4, 4), (3, 2, 3, 3), None, {}),
    (2, (2, 4, 4, 4), (3, 2, 3, 3), None, {}),                              # channels vs weight dim 0
    (1, (4, 5), (3, 2, 3), None, {}),
    (2, (2, 4, 4, 4), (4, 2, 3, 3), None, dict(groups=3)),                  # groups not dividing
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(groups=2)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(groups=0)),
    (2, (2, 0, 4, 4), (0, 2, 3, 3), None, {}),                              # no input channels
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(output_padding=1)),          # >= stride and dilation
    (1, (2, 3, 4), (3, 2, 3), None, dict(stride=2, dilation=2, output_padding=2)),
    (3, (1, 3, 2, 2, 2), (3, 2, 2, 2, 2), None, dict(stride=(2, 1, 2), output_padding=(1, 1, 0))),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(output_padding=-1)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(stride=0)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(dilation=0)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(padding=-1)),
    (2, (2, 3, 2, 2), (3, 2, 3, 3), None, dict(padding=2)),                 # output size 0
    (2, (2, 3, 2, 2), (3, 2, 3, 3), None, dict(padding=3)),                 # output size < 0
    (2, (0, 3, 2, 2), (3, 2, 3, 3), None, dict(padding=3)),                 # < 0, empty batch too
    (2, (2, 3, 0, 4), (3, 2, 3, 3), None, {}),                              # empty spatial dim
    (2, (2, 3, 4, 4), (3, 2, 0, 3), None, {}),                              # empty kernel
    (2, (2, 3, 4, 4), (3, 0, 3, 3), None, {}),                              # no output channels
    (2, (2, 3, 4, 4), (3, 2, 3, 3), (3,), {}),                              # bias size
    (2, (2, 3, 4, 4), (3, 2, 3, 3), (2, 1), {}),
    (2, (2, 4, 4, 4), (4, 2, 3, 3), (2,), dict(groups=2)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(stride=(1, 1, 1))),          # argument lengths
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(output_padding=(0, 0, 0))),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(padding="same")),            # argument types
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(padding=True)),
    (1, (2, 3, 4), (3, 2, 3), None, dict(stride=2.0)),
    (2, (2, 3, 4, 4), (3, 2, 3, 3), None, dict(groups=1.0)),
]


@pytest.mark.parametrize("n, xs, ws, bs, kw", ERRORS)
def test_conv_transpose_errors(n, xs, ws, bs, kw):
    arrays = [randn(*xs), randn(*ws)] + ([randn(*bs)] if bs else [])
    check(lambda lib, x, w, *b: conv_t(lib, n)(x, w, *b, **kw), *arrays)


def test_conv_transpose_dtype_mismatch():
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w), Arg(randn(1, 1, 3, 3), "float32"),
          Arg(randn(1, 1, 2, 2)))
    check(lambda lib, x, w: F(lib).conv_transpose1d(x, w), rng.integers(0, 3, (1, 1, 3)), Arg(randn(1, 1, 2)))


@pytest.mark.parametrize("n, dtype, bias_dtype", [
    (1, "float64", "float32"), (2, "float32", "float64"), (2, "float16", "float32"), (2, "float64", "bool"),
    (2, "float32", "int64"), (2, "int64", "float32"),      # the in-place add's casting rule: refused
    (2, "bfloat16", "float32"), (3, "float64", "float32"),  # refused
])
def test_conv_transpose_bias_of_another_dtype(n, dtype, bias_dtype):
    """torch's CPU kernels for 1-d and 2-d (not bfloat16) add the bias in place, whatever its
    dtype (within the in-place casting rule); the bias's gradient comes in its own dtype.
    torch's oneDNN path refuses the mixed dtypes instead: it takes it for bfloat16, and for
    float16 only on CPUs with float16 arithmetic (AVX512-FP16), so there the float16 oracle
    runs without it (the behaviour of torch on every other CPU)."""
    local = np.random.default_rng(3)
    x, w, b = (local.integers(0, 3, s) for s in ((1, 2) + (3,) * n, (2, 2) + (2,) * n, (2,)))
    floating = bias_dtype.startswith(("float", "bfloat"))
    with torch.backends.mkldnn.flags(enabled=dtype != "float16"):
        check(lambda lib, x, w, b: conv_t(lib, n)(x, w, b, stride=2), Arg(x, dtype), Arg(w, dtype),
              Arg(b, bias_dtype, requires_grad=floating))


def test_error_messages_name_the_values():
    x, w = tritensor.zeros(2, 3, 4, 4), tritensor.zeros(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"output_padding=\(1, 1\), stride=\(1, 1\), dilation=\(1, 1\)"):
        F(tritensor).conv_transpose2d(x, w, output_padding=1)
    with pytest.raises(RuntimeError, match=r"weight of size \[3, 2, 3, 3\].*to have 3 channels, but got 4"):
        F(tritensor).conv_transpose2d(tritensor.zeros(2, 4, 4, 4), w)
    with pytest.raises(RuntimeError, match=r"Calculated output size per channel: \(-2 x -2\)"):
        F(tritensor).conv_transpose2d(x[..., :2, :2], w, padding=3)


# ---------------------------------------------------------------------------- modules
REPRS = [
    ("ConvTranspose2d", (2, 4, 3), {}),
    ("ConvTranspose2d", (2, 4, (3, 2)), dict(stride=2, padding=1, output_padding=1, groups=2, bias=False,
                                              dilation=2)),
    ("ConvTranspose1d", (2, 4, 3), dict(stride=3, output_padding=(2,))),
    ("ConvTranspose1d", (2, 4, 3), dict(dilation=2)),
    ("ConvTranspose3d", (2, 4, 2), dict(padding=(1, 0, 1))),
]


@torch_2_13
@pytest.mark.parametrize("name, args, kwargs", REPRS)
def test_module_repr(name, args, kwargs):
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize("name, args, kwargs", [
    ("ConvTranspose2d", (4, 6, 3), dict(groups=3)), ("ConvTranspose2d", (4, 6, 3), dict(groups=4)),
    ("ConvTranspose1d", (4, 6, 3), dict(groups=0)),
    ("ConvTranspose2d", (4, 6, 3), dict(padding_mode="reflect")),
    ("ConvTranspose3d", (4, 6, 3), dict(padding_mode="circular")),
    ("ConvTranspose1d", (4, 6, 3), dict(padding_mode="mirror")),
])
def test_module_constructor_errors(name, args, kwargs):
    with pytest.raises(ValueError) as expected:
        getattr(torch.nn, name)(*args, **kwargs)
    with pytest.raises(ValueError) as actual:
        getattr(tritensor.nn, name)(*args, **kwargs)
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("name, args, kwargs", [
    ("ConvTranspose2d", (6, 8, (3, 2)), dict(groups=2)), ("ConvTranspose1d", (3, 5, 4), dict(bias=False)),
    ("ConvTranspose3d", (2, 3, 2), {}), ("ConvTranspose2d", (8, 2, 3), {}),
])
def test_module_init_and_state_dict(name, args, kwargs):
    """Weight (in, out / groups, *kernel); kaiming_uniform(a=sqrt(5)) and the bias bound both
    use the fan-in of that transposed weight, (out / groups) * prod(kernel), as torch."""
    tritensor.manual_seed(0)
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.transposed and ours.output_padding == ref.output_padding
    for (n, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert tuple(a.shape) == tuple(b.shape), n
        bound = 1 / math.sqrt(math.prod(ref.weight.shape[1:]))
        values = a.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.5 * bound, n








@pytest.mark.parametrize("name, args, kwargs, shape, output_size", [
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 3, 4), None),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 3, 4), (6, 8)),
    ("ConvTranspose2d", (3, 2, 2), dict(stride=3, bias=False), (3, 2, 3), [2, 6, 8]),       # unbatched
    ("ConvTranspose2d", (3, 2, 2), dict(stride=(3, 2)), (1, 3, 2, 3), torch.Size([1, 2, 7, 7])),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, dilation=2), (2, 3, 4), (12,)),
    ("ConvTranspose1d", (3, 4, 3), dict(output_padding=1, dilation=2), (2, 3, 4), None),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, padding=(1, 0, 0)), (1, 2, 2, 2, 1), (3, 5, 3)),
])
def test_modules_forward_backward(name, args, kwargs, shape, output_size):
    compare_modules(*module_pair(name, *args, **kwargs), randn(*shape), output_size=output_size)


@pytest.mark.parametrize("shape, output_size", [
    ((2, 4, 3, 4), (4, 8)),            # below the smallest size
    ((2, 4, 3, 4), (7, 8)),            # above the largest
    ((2, 4, 3, 4), (6,)),              # wrong number of sizes
    ((2, 4, 3, 4), (1, 6, 6, 8, 1)),
    ((4, 3, 4), (2, 6, 6, 8)),         # unbatched: 2 or 3 sizes
])
def test_module_output_size_errors(shape, output_size):
    x = randn(*shape)
    with pytest.raises(ValueError) as expected:
        torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)(torch.tensor(x), output_size)
    with pytest.raises(ValueError) as actual:
        tritensor.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2).to(DEVICE)(
            tritensor.tensor(x, device=DEVICE), output_size)
    assert str(actual.value).split(" (for")[0] == str(expected.value).split(" (for")[0]


def test_module_padding_mode_changed_after_construction_and_bad_padding():
    for lib in (torch, tritensor):
        m = lib.nn.ConvTranspose1d(2, 2, 3)
        m.padding_mode = "reflect"
        with pytest.raises(ValueError, match="Only `zeros` padding mode is supported for ConvTranspose1d"):
            m(lib.zeros(1, 2, 4))
    check(lambda lib, x: lib.nn.ConvTranspose2d(2, 2, 3, padding="same")(x), randn(1, 2, 4, 4))
    check(lambda lib, x: lib.nn.ConvTranspose2d(3, 2, 3)(x), randn(1, 2, 4, 4))


def test_module_on_device_and_dtype():
    m = tritensor.nn.ConvTranspose2d(2, 3, 2, device=DEVICE, dtype=tritensor.float64)
    assert m.weight.dtype is tritensor.float64 and m.weight.device.type == dev(tritensor).split(":")[0]
    assert tuple(m(tritensor.zeros(1, 2, 3, 3, device=DEVICE, dtype=tritensor.float64)).shape) == (1, 3, 4, 4)


def test_upsampling_decoder_trains_like_torch():
    """A conv / transposed-conv autoencoder: a few SGD steps give torch's losses."""
    def net(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1), nn.ReLU(),
                             nn.ConvTranspose2d(3, 1, 3, stride=2, padding=1, output_padding=1))
    torch.manual_seed(0)
    ref = net(torch)
    ours = net(tritensor).to(DEVICE)
    ours.load_state_dict(copied_state(ref))
    x = randn(2, 1, 4, 4).astype(np.float32)
    losses = []
    for lib, model in ((torch, ref), (tritensor, ours)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        data = lib.tensor(x, device=dev(lib))
        run = []
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(data) - data) ** 2).mean()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
