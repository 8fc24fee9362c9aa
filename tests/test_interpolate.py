"""``F.interpolate``, the deprecated ``F.upsample*`` and the ``Upsample`` modules against torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tritensor
from harness import DEVICE, Arg, assert_same, check, dev, gradcheck, uniform_data

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


def interpolate(**kwargs):
    return lambda lib, x: F(lib).interpolate(x, **kwargs)


#: (mode, number of spatial dims) for every mode and the ranks torch runs it on
MODE_RANKS = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
              ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2),
              ("area", 1), ("area", 2), ("area", 3)]
ALIGNING = ("linear", "bilinear", "trilinear", "bicubic")

#: how the output size is asked for: up and down, integer and fractional, per-dim tuples
RESIZES = [dict(size=7), dict(size=2), dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6),
           dict(scale_factor=2.1), dict(scale_factor=1.7, recompute_scale_factor=True),
           dict(scale_factor=0.6, recompute_scale_factor=False)]


def spatial_shape(n, sizes=(4, 5, 3)):
    return (2, 3) + sizes[:n]


def per_dim(value, n, extra=(1.3, 0.8)):
    """A tuple resize: ``value`` for the first dim, others for the rest."""
    return (value,) + extra[:n - 1]


# ---------------------------------------------------------------------------- values and gradients
@pytest.mark.parametrize("resize", RESIZES, ids=lambda r: "-".join(f"{k}={v}" for k, v in r.items()))
@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_modes_and_ranks(mode, n, resize):
    check(interpolate(mode=mode, **resize), Arg(randn(*spatial_shape(n)), requires_grad=True))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("resize", [dict(size=9), dict(size=3), dict(size=1), dict(scale_factor=1.7),
                                    dict(scale_factor=0.45), dict(scale_factor=3)])
@pytest.mark.parametrize("mode, n", [("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)])
def test_align_corners(mode, n, resize, align_corners):
    check(interpolate(mode=mode, align_corners=align_corners, **resize),
          Arg(randn(*spatial_shape(n)), requires_grad=True))


@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_per_dim_sizes_and_scales(mode, n):
    x = Arg(randn(*spatial_shape(n, (5, 4, 3))), requires_grad=True)
    check(interpolate(mode=mode, size=per_dim(8, n, (3, 6))), x)
    check(interpolate(mode=mode, scale_factor=per_dim(1.7, n)), x)
    check(interpolate(mode=mode, size=list(per_dim(2, n, (7, 3)))), x)


def test_a_given_scale_factor_sets_the_sampling_scale():
    """Size 5 with scale 1.7 reads positions at steps of 1 / 1.7 (not 5 / 8) unless the scale
    is recomputed from the sizes; the two differ."""
    x = Arg(np.arange(5.0).reshape(1, 1, 5) ** 2, requires_grad=True)
    given = check(interpolate(mode="linear", scale_factor=1.7), x)
    recomputed = check(interpolate(mode="linear", scale_factor=1.7, recompute_scale_factor=True), x)
    assert not np.allclose(given.detach().cpu().numpy(), recomputed.detach().cpu().numpy())
    for mode in ("nearest", "nearest-exact"):
        check(interpolate(mode=mode, scale_factor=1.7), x)
        check(interpolate(mode=mode, scale_factor=1.7, recompute_scale_factor=True), x)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("size, scale", [(3, 2.1), (7, 2.1), (12, 1.05), (4, 1.2), (5, 0.9), (3, 1.9)])
def test_nearest_shortcuts_of_torchs_kernels(mode, n, size, scale):
    """torch's 2-D nearest forward copies a dim whose size does not change and halves indices
    of one that doubles, whatever the scale; every nearest backward does; nearest-exact never."""
    check(interpolate(mode=mode, scale_factor=scale), Arg(randn(2, 2, *(size,) * n), requires_grad=True))


@pytest.mark.parametrize("scale", [1.2, (1.2, 2.0), (1.0, 1.0)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_unchanged_sizes_with_a_scale(mode, scale):
    """A linear-mode dim of unchanged size is copied; torch's bicubic forward still applies the
    scale there while its backward copies when no size changes."""
    check(interpolate(mode=mode, scale_factor=scale), Arg(randn(2, 2, 4, 4), requires_grad=True))


@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_noncontiguous_and_empty_batch(mode, n):
    def reversed_dims(lib, x):
        return F(lib).interpolate(x.permute(*range(x.dim() - 1, -1, -1)), scale_factor=1.5, mode=mode)
    check(reversed_dims, Arg(randn(*spatial_shape(n, (4, 3, 2))[::-1]), requires_grad=True))
    check(lambda lib, x: F(lib).interpolate(x[..., ::2], size=3, mode=mode), Arg(randn(2, 3, *(6,) * n)))
    check(interpolate(mode=mode, size=3), Arg(randn(0, 3, *(4,) * n), requires_grad=True))


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_inputs_large_enough_to_split_across_threads(mode):
    """The CPU's one-kernel passes split an input's outer slices across threads past ~2^19
    elements of work: every slice's output and gradient as torch's."""
    check(interpolate(mode=mode, scale_factor=(2, 1.5)), Arg(randn(4, 8, 64, 96).astype(np.float32),
                                                              requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_dtypes(mode, n, dtype):
    # 3-D 'area' is adaptive_avg_pool3d, whose 16-bit gradient sums in float32 and rounds once,
    # where torch's CPU kernel rounds after each add: test_area_3d_16_bit_gradient compares it
    grads = not (mode == "area" and n == 3 and dtype != "float32")
    x = Arg(uniform_data(rng, spatial_shape(n), dtype), dtype, requires_grad=grads)
    check(interpolate(mode=mode, scale_factor=1.7), x)
    check(interpolate(mode=mode, size=2), x)


UINT8_OPTIONS = [("nearest", {}), ("nearest-exact", {})] + [
    (mode, dict(align_corners=align_corners, antialias=antialias)) for mode in ("bilinear", "bicubic")
    for align_corners in (None, False, True) for antialias in (False, True)]


@pytest.mark.parametrize("channels", [1, 3, 5])  # torch's CPU build has a vector kernel for <= 4
@pytest.mark.parametrize("mode, options", UINT8_OPTIONS)
def test_uint8(mode, options, channels):
    """Nearest copies; bilinear and bicubic follow torch's fixed-point uint8 kernels exactly."""
    x = Arg(rng.integers(0, 256, (2, channels, 5, 7)).astype(np.uint8))
    for resize in (dict(size=(9, 4)), dict(size=(3, 11)), dict(scale_factor=1.7),
                   dict(scale_factor=(0.6, 2.1)), dict(size=(5, 3))):
        check(interpolate(mode=mode, **options, **resize), x)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "bool", "uint8"])
@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_dtypes_torch_has_no_kernel_for(mode, n, dtype):
    check(interpolate(mode=mode, size=3), Arg(uniform_data(rng, spatial_shape(n), dtype), dtype))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("resize", [dict(size=(3, 4)), dict(size=(9, 13)), dict(scale_factor=0.3),
                                    dict(scale_factor=(0.45, 1.6)), dict(size=(5, 2)), dict(size=(1, 3)),
                                    dict(size=(7, 3)), dict(scale_factor=(1.1, 0.5)),
                                    dict(scale_factor=(0.9, 1.05))])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_antialias(mode, resize, align_corners, dtype):
    """Pillow's filters; torch's forward copies a dim of unchanged size (scale or not), its
    backward filters it."""
    check(interpolate(mode=mode, align_corners=align_corners, antialias=True, **resize),
          Arg(randn(2, 3, 7, 8), dtype, requires_grad=True))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_to_width_one(mode):
    """torch 2.13's CPU kernel gets a downscale to width 1 that also changes the height wrong;
    tritensor's filter is the same whichever dim is the last (the transposed resize, which
    torch computes right)."""
    x = randn(2, 3, 5, 7)
    ours = F(tritensor).interpolate(tritensor.tensor(x, device=DEVICE), size=(2, 1), mode=mode,
                                    antialias=True)
    ref = F(torch).interpolate(torch.tensor(x).transpose(-1, -2), size=(1, 2), mode=mode, antialias=True)
    assert_same(ref.transpose(-1, -2).contiguous(), ours)


def test_size_one_and_unit_scales():
    x = Arg(randn(2, 2, 5, 4), requires_grad=True)
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
        check(interpolate(mode=mode, size=1), x)
        check(interpolate(mode=mode, size=(5, 4)), x)
        check(interpolate(mode=mode, scale_factor=1), x)


@pytest.mark.parametrize("mode, n", MODE_RANKS)
def test_gradcheck(mode, n):
    shape = (1, 2) + (3, 4, 2)[:n]
    gradcheck(lambda lib, x: F(lib).interpolate(x, scale_factor=1.6, mode=mode), randn(*shape))
    gradcheck(lambda lib, x: F(lib).interpolate(x, size=2, mode=mode), randn(*shape))
    if mode in ALIGNING:
        gradcheck(lambda lib, x: F(lib).interpolate(x, size=5, mode=mode, align_corners=True), randn(*shape))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_gradcheck(mode):
    gradcheck(lambda lib, x: F(lib).interpolate(x, size=(2, 5), mode=mode, antialias=True), randn(1, 1, 5, 3))


@pytest.mark.parametrize("mode, n", [("nearest", 2), ("linear", 1), ("bicubic", 2)])
def test_double_backward(mode, n):
    """The backward is made of differentiable ops: its gradient is the forward again."""
    def second(lib, x, g):
        y = F(lib).interpolate(x, scale_factor=1.5, mode=mode)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        return lib.autograd.grad((gx * gx).sum(), g)[0]
    x = randn(*spatial_shape(n))
    g = randn(*torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.5, mode=mode).shape)
    check(second, Arg(x, requires_grad=True), Arg(g, requires_grad=True), grad=False)


settings_small = settings(max_examples=25 if DEVICE == "cpu" else 8)


@settings_small
@given(st.sampled_from([m for m in MODE_RANKS if m[0] != "area"]), st.integers(1, 9), st.integers(1, 17),
       st.floats(0.2, 4.0), st.booleans(), st.booleans())
def test_coordinates_match_torch(mode_rank, in_size, out_size, scale, use_scale, align):
    mode, n = mode_rank
    spec = dict(scale_factor=scale) if use_scale and int(in_size * scale) > 0 else dict(size=out_size)
    if mode in ALIGNING:
        spec["align_corners"] = align
    x = np.random.default_rng(in_size).standard_normal((1, 2) + (in_size,) * n)
    check(interpolate(mode=mode, **spec), Arg(x, requires_grad=True))


# ---------------------------------------------------------------------------- deprecated forms, modules
@pytest.mark.parametrize("name, call", [
    ("upsample", lambda f, x: f.upsample(x, scale_factor=2, mode="bilinear")),
    ("upsample", lambda f, x: f.upsample(x, size=(3, 5), mode="bicubic", align_corners=True)),
    ("upsample_nearest", lambda f, x: f.upsample_nearest(x, scale_factor=1.5)),
    ("upsample_bilinear", lambda f, x: f.upsample_bilinear(x, size=(5, 3))),
])
def test_deprecated_forms_warn(name, call):
    x = randn(2, 3, 4, 4)
    results = []
    for lib in (torch, tritensor):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(call(F(lib), lib.tensor(x, device=dev(lib))))
        assert [(w.category, str(w.message)) for w in caught] == \
            [(UserWarning, f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.")]
        assert caught[0].filename == __file__  # the warning points at the caller, as torch's
    assert_same(*results)


MODULES = [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bilinear")),
    ("Upsample", ((3, 5),), dict(mode="bicubic", align_corners=True)),
    ("Upsample", (), dict(size=4, mode="nearest-exact")),
    ("Upsample", (), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ("Upsample", (), dict(size=[3, 2], mode="area")),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingNearest2d", (5,), {}),
    ("UpsamplingBilinear2d", (), dict(scale_factor=1.5)),
    ("UpsamplingBilinear2d", ((3, 7),), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_modules(name, args, kwargs):
    ours, ref = getattr(tritensor.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict()) == []
    for attr in ("name", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    check(lambda lib, x: getattr(lib.nn, name)(*args, **kwargs)(x),
          Arg(randn(2, 3, 4, 5), requires_grad=True))


@pytest.mark.parametrize("kwargs", [{}, dict(scale_factor=0),
                                    dict(size=None, scale_factor=None, mode="linear")])
def test_module_reprs_without_a_resize(kwargs):
    assert repr(tritensor.nn.Upsample(**kwargs)) == repr(torch.nn.Upsample(**kwargs))


# ---------------------------------------------------------------------------- errors
ERRORS = [  # (call, input shape): torch's exception type, and a message naming what is wrong
    (interpolate(size=3, scale_factor=2), (1, 1, 4, 4)),                      # both
    (interpolate(), (1, 1, 4, 4)),                                            # neither
    (interpolate(size=(3,)), (1, 1, 4, 4)),                                   # wrong tuple lengths
    (interpolate(scale_factor=(2, 2, 2)), (1, 1, 4, 4)),
    (interpolate(size=(3.0, 4)), (1, 1, 4, 4)),                               # float sizes
    (interpolate(size=3.0), (1, 1, 4, 4)),
    (interpolate(size=(None, 4)), (1, 1, 4, 4)),
    (interpolate(scale_factor="2"), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="foo"), (1, 1, 4, 4)),                  # bad mode
    (interpolate(scale_factor=2, mode="foo"), (1, 4)),
    (interpolate(scale_factor=2, align_corners=False), (1, 1, 4, 4)),        # align_corners
    (interpolate(scale_factor=2, mode="nearest-exact", align_corners=True), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="area", align_corners=True), (1, 1, 4, 4)),
    (interpolate(size=3, recompute_scale_factor=True), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="bilinear"), (1, 1, 4)),                # rank mismatches
    (interpolate(scale_factor=2, mode="bilinear"), (1, 1, 4, 4, 4)),
    (interpolate(scale_factor=2, mode="linear"), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="trilinear"), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="bicubic"), (1, 1, 4, 4, 4)),
    (interpolate(scale_factor=2, mode="bicubic"), (1, 1, 4)),
    (interpolate(scale_factor=2), (1, 4)),
    (interpolate(size=2), (1, 4)),
    (interpolate(size=(2,)), (1, 4)),
    (interpolate(scale_factor=2), (1, 1, 2, 2, 2, 2)),
    (interpolate(size=(0, 3)), (1, 1, 4, 4)),                                 # sizes
    (interpolate(size=(-1, 3), mode="bilinear"), (1, 1, 4, 4)),
    (interpolate(scale_factor=0.1), (1, 1, 4, 4)),
    (interpolate(scale_factor=0.1, recompute_scale_factor=True), (1, 1, 4)),
    (interpolate(scale_factor=-2.0, mode="trilinear"), (1, 1, 2, 2, 2)),
    (interpolate(scale_factor=-2.0, mode="area"), (1, 1, 4, 4)),
    (interpolate(scale_factor=float("nan")), (1, 1, 4, 4)),
    (interpolate(scale_factor=float("inf"), mode="linear"), (1, 1, 4)),
    (interpolate(scale_factor=float("nan"), recompute_scale_factor=True), (1, 1, 4, 4)),
    (interpolate(scale_factor=float("inf"), recompute_scale_factor=True), (1, 1, 4, 4)),
    (interpolate(size=3), (1, 1, 0, 4)),                                      # empty inputs
    (interpolate(size=3, mode="bicubic"), (2, 0, 4, 4)),
    (interpolate(size=3, mode="linear"), (2, 0, 4)),
    (interpolate(size=3), (0, 0, 2, 2)),
    (interpolate(scale_factor=2, antialias=True), (1, 1, 4, 4)),             # antialias
    (interpolate(scale_factor=2, mode="bicubic", antialias=True), (1, 1, 4, 4, 4)),
    (interpolate(scale_factor=2, mode="bilinear", antialias=True), (1, 1, 4)),
    (interpolate(scale_factor=2, mode="lanczos"), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="lanczos", align_corners=True, antialias=True), (1, 1, 4, 4)),
    (interpolate(scale_factor=2, mode="lanczos"), (1, 1, 4)),
]


@pytest.mark.parametrize("fn, shape", ERRORS)
def test_errors(fn, shape):
    check(fn, randn(*shape))


def test_error_types_of_dtypes_come_after_shape_checks():
    check(interpolate(size=0), Arg(np.ones((1, 1, 2), np.int8)))
    check(interpolate(size=3, mode="linear"), Arg(np.ones((0, 1, 2), np.int64)))
    for dtype in ("float16", "bfloat16"):
        check(interpolate(size=3, mode="bilinear", antialias=True), Arg(randn(1, 1, 4, 4), dtype))


@pytest.mark.parametrize("kwargs, shape, match", [
    (dict(size=(3,)), (1, 1, 4, 4), r"spatial dimensions of \[4, 4\] and output size of \(3,\)"),
    (dict(scale_factor=2, align_corners=True), (1, 1, 4, 4), "mode='nearest'"),
    (dict(scale_factor=2, mode="bilinear"), (1, 1, 4), "Got 3D input, but bilinear mode needs 4D input"),
    (dict(scale_factor=2, mode="bicubic"), (1, 1, 4, 4, 4), "Got 5D input, but bicubic mode needs 4D input"),
    (dict(size=(0, 3)), (1, 1, 4, 4), r"input \(H: 4, W: 4\) output \(H: 0, W: 3\)"),
    (dict(size=3), (2, 0, 4), r"Non-empty 3D data tensor expected but got a tensor with sizes \[2, 0, 4\]"),
    (dict(scale_factor=2, mode="foo"), (1, 1, 4, 4), r"\(got foo\)"),
    (dict(size=3, mode="bilinear"), (1, 1, 4), "bilinear mode needs 4D"),
])
def test_error_messages_name_the_problem(kwargs, shape, match):
    with pytest.raises(Exception, match=match):
        F(tritensor).interpolate(tritensor.zeros(shape, device=DEVICE), **kwargs)


def test_int_dtype_error_names_the_op_and_dtype():
    with pytest.raises(NotImplementedError, match="upsample_linear1d.*'Long'"):
        F(tritensor).interpolate(tritensor.zeros((1, 1, 3), dtype=tritensor.int64, device=DEVICE), size=4,
                                 mode="linear")


def test_lanczos_is_not_supported_yet():
    with pytest.raises(NotImplementedError, match="lanczos"):
        F(tritensor).interpolate(tritensor.zeros((1, 1, 4, 4), device=DEVICE), scale_factor=2, mode="lanczos",
                                 antialias=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_area_3d_16_bit_gradient(dtype):
    """The 16-bit gradient of 3-D 'area' (overlapping windows): summed in float32 and rounded
    once, so it equals torch's float32 gradient rounded to the dtype (torch's own 16-bit CPU
    kernel rounds after each add)."""
    x = uniform_data(rng, spatial_shape(3), dtype)
    seed = rng.standard_normal((2, 3, 2, 2, 2))
    narrow = getattr(torch, dtype)
    x16 = tritensor.tensor(x, dtype=getattr(tritensor, dtype), device=DEVICE, requires_grad=True)
    F(tritensor).interpolate(x16, size=2, mode="area").backward(
        tritensor.tensor(seed, dtype=x16.dtype, device=DEVICE))
    x32 = torch.tensor(x, dtype=narrow).float().requires_grad_()
    F(torch).interpolate(x32, size=2, mode="area").backward(torch.tensor(seed, dtype=narrow).float())
    assert_same(x32.grad.to(narrow), x16.grad, what="gradient")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_passes_take_the_devices_fused_kernel(monkeypatch, dtype):
    """Each weighted pass of a float32/float64 resize runs the device's one-kernel gather
    (Numba on the CPU, Triton on 'cuda'; its values are the tests above), and the backward its
    adjoint where the device has one (the CPU); so do uint8's int64 fixed-point passes and
    float16's, computed in float32."""
    from tritensor.nn import _fused
    x = tritensor.rand(2, 3, 4, 5, dtype=getattr(tritensor, dtype), device=DEVICE, requires_grad=True)
    kernel = _fused.RESAMPLE[DEVICE]
    calls = []
    for name in ("gather", "scatter"):
        method = getattr(type(kernel), name)
        if method is not None:
            monkeypatch.setattr(type(kernel), name, lambda self, *args, f=method, n=name: calls.append(n) or
                                f(self, *args))
    F(tritensor).interpolate(x, scale_factor=2, mode="bilinear").sum().backward()
    adjoints = ["scatter"] * 2 if type(kernel).scatter is not None else []
    assert calls == ["gather"] * 2 + adjoints
    calls.clear()
    F(tritensor).interpolate((x.detach() * 255).to(tritensor.uint8), size=(6, 7), mode="bilinear")
    F(tritensor).interpolate(x.detach().half(), size=(6, 7), mode="bilinear")
    assert calls == ["gather"] * 4
