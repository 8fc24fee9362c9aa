"""Creation and conversion against torch: dtype inference, factories, casts, legacy types, random."""
import array
import collections
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import ALL_DTYPES, DEVICE, TT_DTYPES, Arg, check, dev

rng = np.random.default_rng(0)


# ------------------------------------------------------------------ tensor(data)
@pytest.mark.parametrize("data", [
    [1, 2, 3], [1.0, 2, 3], [True, False], [[1, 2], [3, 4]], 3, 2.5, True, [], [[]], [[], []],
    [[1.5], [2]], [True, 2], [True, 2.0], (1, 2), [(1, 2), (3, 4)], np.float32(1.5), np.int16(3),
    [np.float32(1.0), 2.0], [np.int32(1), 2], 2 ** 40, [-0.0, float("inf"), float("nan")],
    np.array([1, 2], np.int32), np.array([1.0], np.float16), np.array(True), np.array([[1, 2]], np.uint8),
])
def test_tensor_dtype_inference(data):
    check(lambda lib: lib.tensor(data, device=dev(lib)))


@pytest.mark.parametrize("make", [
    lambda lib: collections.deque([1.5, 2.0]), lambda lib: range(4), lambda lib: range(0),
    lambda lib: array.array("d", [1.0, 2.0]), lambda lib: [collections.deque([1, 2]), (3, 4)],
    lambda lib: collections.deque([lib.tensor(1.5), lib.tensor(2.0)]), lambda lib: {1: 2},
    lambda lib: {1.0, 2.0}, lambda lib: (x for x in [1.0]),
])
def test_tensor_from_any_sequence(make):
    """Any object with a length and items reads as a sequence (a deque of returns in
    pytorch/examples' reinforce.py, a range); mappings, sets and generators are refused."""
    check(lambda lib: lib.tensor(make(lib), device=dev(lib)))


def test_tensor_from_tensors_and_0d():
    check(lambda lib: lib.tensor([lib.tensor(1.5), lib.tensor(2)], device=dev(lib)))
    check(lambda lib: lib.tensor([lib.tensor(1, dtype=lib.int32), lib.tensor(2, dtype=lib.int32)],
                                 device=dev(lib)))
    check(lambda lib: lib.tensor(lib.tensor([1.0, 2.0], dtype=lib.float64), device=dev(lib)))
    check(lambda lib: lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
                                 device=dev(lib)))  # ValueError in torch
    check(lambda lib: lib.tensor([lib.tensor(2.5, dtype=lib.float64, device=dev(lib)),
                                  lib.tensor(1.5, dtype=lib.float64, device=dev(lib))], device=dev(lib)))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tensor_dtype_argument(dtype):
    check(lambda lib: (lib.tensor([1.7, -2.2, 0.0], dtype=getattr(lib, dtype), device=dev(lib)),
                       lib.tensor([[1, 0], [3, 200]], dtype=getattr(lib, dtype), device=dev(lib)),
                       lib.tensor(np.array([0.5, 1.5]), dtype=getattr(lib, dtype), device=dev(lib))))


def test_tensor_errors():
    check(lambda lib: lib.tensor([[1, 2], [3]], device=dev(lib)))  # ragged -> ValueError
    check(lambda lib: lib.tensor([[1, 2], 3], device=dev(lib)))
    check(lambda lib: lib.tensor("abc", device=dev(lib)))
    check(lambda lib: lib.tensor([1, "a"], device=dev(lib)))
    check(lambda lib: lib.tensor(np.array(["a"]), device=dev(lib)))
    check(lambda lib: lib.tensor([1.5], dtype=lib.int64, requires_grad=True, device=dev(lib)))
    check(lambda lib: lib.tensor(2 ** 64, device=dev(lib)))
    check(lambda lib: lib.tensor([1, 2 ** 63], device=dev(lib)))
    check(lambda lib: lib.tensor([[1], [2 ** 63]], device=dev(lib)))
    check(lambda lib: lib.tensor([-2 ** 63, 2 ** 63 - 1], device=dev(lib)))


def test_tensor_requires_grad_and_copy():
    check(lambda lib: lib.tensor([1.0, 2.0], requires_grad=True, device=dev(lib)) * 2)
    a = np.array([1.0, 2.0])
    t = tritensor.tensor(a, device=DEVICE)
    a[0] = 5.0
    assert t[0].item() == 1.0  # tensor() copies


@pytest.mark.cpu_only  # lib.Tensor(...) is a legacy CPU constructor
def test_Tensor_constructor_forms():
    # the seed's Tips: Tensor(2, 3, 4) is a shape, Tensor([2, 3, 4]) is data
    assert tritensor.Tensor(2, 3, 4).shape == (2, 3, 4)
    assert tritensor.Tensor(2, 3, 4).dtype is tritensor.float32
    check(lambda lib: lib.Tensor([2, 3, 4]))
    check(lambda lib: lib.Tensor([[1, 2]]))
    check(lambda lib: lib.Tensor(np.array([1, 2], np.int64)))
    check(lambda lib: lib.Tensor(lib.Size([2, 3])).shape)
    check(lambda lib: lib.Tensor().shape)
    check(lambda lib: lib.Tensor(3).shape)
    check(lambda lib: lib.Tensor(2, 3.5))  # TypeError
    assert isinstance(tritensor.Tensor(2), tritensor.Tensor)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
                                  "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"])
@pytest.mark.cpu_only  # legacy CPU types: FloatTensor(...) builds CPU tensors
def test_legacy_types(name):
    check(lambda lib: getattr(lib, name)([1, 0, 2]))
    check(lambda lib: (getattr(lib, name)(2, 3).shape, getattr(lib, name)(lib.Size([2, 1])).shape,
                       getattr(lib, name)().shape, getattr(lib, name)((2, 1))))
    check(lambda lib: (getattr(lib, name)([1, 0]).type(),
                       isinstance(getattr(lib, name)([1]), getattr(lib, name)),
                       isinstance(lib.tensor([1.5]), getattr(lib, name)),
                       isinstance(getattr(lib, name)([1]), lib.Tensor),
                       str(lib.tensor([1, 2]).type(getattr(lib, name)).dtype),
                       str(lib.tensor([1, 2]).type("torch." + name).dtype)))


@pytest.mark.cpu_only  # type() names CPU types (torch.FloatTensor); the oracle has no CUDA
def test_type_method():
    check(lambda lib: (lib.ones(2).type(), lib.ones(2).long().type(),
                       str(lib.ones(2).type(lib.float64).dtype),
                       lib.ones(2).type("torch.IntTensor"), lib.typename(lib.ones(2)),
                       lib.ones(2).type_as(lib.ones(1).int())))
    check(lambda lib: lib.ones(2).type("torch.Nope"))
    assert tritensor.cuda.FloatTensor.__name__ == "FloatTensor"


# ------------------------------------------------------------------ sharing with numpy
@pytest.mark.cpu_only  # frombuffer makes CPU tensors (no device argument, as torch)
@pytest.mark.parametrize("kw", [{"dtype": "float32"}, {"dtype": "float32", "count": 1, "offset": 4},
                                {"dtype": "int16"}, {"dtype": "bfloat16", "count": 2},
                                {"dtype": "float32", "count": -2}, {"dtype": "uint8", "offset": 7},
                                {"dtype": "float32", "count": 3}, {"dtype": "float32", "offset": 9},
                                {"dtype": "float32", "offset": 2}, {"dtype": "float32", "count": 0}])
def test_frombuffer_matches_torch_and_shares_memory(kw):
    def fn(lib):
        buffer = bytearray(b"\x00\x00\x80\x3f\x00\x00\x00\x40")
        t = lib.frombuffer(buffer, **{k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()})
        t[0] = 3
        return t, bytes(buffer), t.is_contiguous()
    check(fn)


@pytest.mark.cpu_only
def test_frombuffer_of_read_only_and_non_buffers():
    def fn(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = lib.frombuffer(b"\x01\x02\x03", dtype=lib.uint8, requires_grad=False)
        ints = lib.frombuffer(array.array("i", [1, 2]), dtype=lib.int32)
        return t, [w.category.__name__ for w in caught], ints
    check(fn)
    check(lambda lib: lib.frombuffer([1, 2], dtype=lib.uint8))
    check(lambda lib: lib.frombuffer(bytearray(), dtype=lib.uint8))
    check(lambda lib: lib.frombuffer(bytearray(4), dtype=lib.float32, requires_grad=True))


@pytest.mark.cpu_only  # numpy memory sharing
def test_as_tensor_and_from_numpy_share_memory():
    a = np.arange(6.0).reshape(2, 3)
    for make in (tritensor.from_numpy, tritensor.as_tensor, tritensor.asarray):
        t = make(a)
        assert t.dtype is tritensor.float64
        t[0, 0] = 100.0
        assert a[0, 0] == 100.0
        a[1, 2] = -7.0
        assert t[1, 2].item() == -7.0
    t = tritensor.as_tensor(a, dtype=tritensor.float32)  # cast: a copy
    t[0, 0] = 1.0
    assert a[0, 0] == 100.0
    c = tritensor.asarray(a, copy=True)
    c[0, 1] = 9.0
    assert a[0, 1] == 1.0
    t = tritensor.tensor([1.0, 2.0])
    assert tritensor.as_tensor(t) is t and tritensor.asarray(t) is t
    assert tritensor.as_tensor(t, dtype=tritensor.float64).dtype is tritensor.float64


@pytest.mark.cpu_only  # numpy memory sharing
def test_from_numpy_strides():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    for view in (a.T, a[:, ::2], a[1:, 2:], a[::2]):
        t = tritensor.from_numpy(view)
        ref = torch.from_numpy(view)
        assert t.shape == ref.shape and t.stride() == ref.stride()
        np.testing.assert_array_equal(t.numpy(), view)
        t.mul_(2)
        np.testing.assert_array_equal(view, ref.numpy())
    with pytest.raises(ValueError):
        tritensor.from_numpy(a[::-1])
    with pytest.raises(ValueError):
        torch.from_numpy(a[::-1])
    with pytest.raises(TypeError):
        tritensor.from_numpy([1, 2])
    with pytest.raises(TypeError):
        tritensor.from_numpy(np.array([1 + 2j]))
    assert tritensor.from_numpy(np.zeros((0, 3))).shape == (0, 3)
    assert tritensor.from_numpy(np.ones(())).shape == ()


@pytest.mark.cpu_only  # numpy memory sharing
def test_numpy_shares_memory():
    t = tritensor.zeros(2, 3)
    a = t.numpy()
    a[0, 1] = 5.0
    assert t[0, 1].item() == 5.0
    t.add_(1)
    assert a[1, 1] == 1.0
    s = t.t().numpy()
    assert s.shape == (3, 2) and s[1, 0] == 6.0
    check(lambda lib: lib.ones(2, requires_grad=True).numpy())  # RuntimeError
    assert tritensor.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(np.asarray(tritensor.arange(3)), np.arange(3))
    assert np.asarray(tritensor.ones(2), dtype=np.float64).dtype == np.float64
    assert np.add(tritensor.ones(2), 1).tolist() == [2.0, 2.0]


# ------------------------------------------------------------------ factories
SIZES = [(2, 3), ((2, 3),), ([2, 3],), (0,), (), ((),)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_filled_factories(name, size):
    check(lambda lib: getattr(lib, name)(*size, device=dev(lib)).shape)
    if name != "empty":
        check(lambda lib: (getattr(lib, name)(*size, device=dev(lib)),
                           getattr(lib, name)(*size, dtype=lib.int32, device=dev(lib)),
                           getattr(lib, name)(*size, requires_grad=True, device=dev(lib))))


def test_factory_errors_and_kwargs():
    check(lambda lib: lib.zeros(-1, 2, device=dev(lib)))
    check(lambda lib: lib.zeros(2, 3, dtype=lib.int64, device=dev(lib)))
    check(lambda lib: lib.zeros(lib.Size([2, 3]), device=dev(lib)))
    check(lambda lib: lib.ones(2, requires_grad=True, dtype=lib.int64, device=dev(lib)))
    check(lambda lib: lib.zeros(2.5, device=dev(lib)))


@pytest.mark.parametrize("value", [2, 2.5, True, -1, 0.0, float("nan")])
def test_full(value):
    check(lambda lib: (lib.full((2, 3), value, device=dev(lib)),
                       lib.full([2], value, dtype=lib.float64, device=dev(lib)),
                       lib.full((2,), value, dtype=lib.int32, device=dev(lib)) if value == value
                       else lib.ones(1, device=dev(lib))))
    check(lambda lib, x: (lib.full_like(x, value), x.new_full((3,), value)), Arg(np.ones((2, 2), np.int32)))


def test_like_and_new():
    x = Arg(np.ones((2, 3), np.float64))
    check(lambda lib, t: (lib.zeros_like(t), lib.ones_like(t, dtype=lib.int8), lib.empty_like(t).shape,
                          lib.full_like(t, 7), t.new_zeros(2), t.new_ones((1, 2)), str(t.new_empty(3).dtype),
                          t.new_tensor([1, 2]), t.new_tensor([1.5]), t.new_full((2,), 3),
                          lib.zeros_like(t, requires_grad=True), t.new_zeros(2, dtype=lib.int32),
                          t.new_empty((2, 2)).shape, t.new_ones(2, 2)), x)
    check(lambda lib, t: (lib.rand_like(t).shape, str(lib.randn_like(t).dtype),
                          str(lib.randint_like(t, 5).dtype), lib.randint_like(t, 2, 5).shape), x)


@pytest.mark.parametrize("args,kw", [
    ((5,), {}), ((2, 7), {}), ((1, 10, 3), {}), ((0, 1, 0.1), {}), ((1.0, 2.0, 0.25), {}), ((5, 0, -1), {}),
    ((5, 0, -1.5), {}), ((10,), {"dtype": "float64"}), ((0, 5, 2), {"dtype": "float32"}), ((0.5, 3), {}),
    ((-3, 3, 1), {"dtype": "int32"}), ((0, 0), {}), ((1, 0.3, -0.2), {}), ((1, 5), {"dtype": "uint8"}),
    ((0, 10, 0), {}), ((0, 10, -1), {}), ((2.5,), {}), ((0, 1, 1 / 3), {"dtype": "float64"}),
    ((-0.5, 3.7, 1.5), {"dtype": "int64"}), ((0.5, 3), {"dtype": "int64"}),
    ((0.0, 2.5, 0.9), {"dtype": "int64"}), ((0, 3), {"dtype": "float16"}),
    ((0, 2, 0.5), {"dtype": "bfloat16"}), ((0.0, -3.0, -1.0), {}),
    ((3,), {"requires_grad": True, "dtype": "float32"}),
])
def test_arange(args, kw):
    kw = dict(kw or {})

    def f(lib):
        k = {n: getattr(lib, v) if n == "dtype" else v for n, v in kw.items()}
        return lib.arange(*args, **k, device=dev(lib))
    check(f)


@pytest.mark.parametrize("args,kw", [((0, 3), {}), ((0.5, 2.5, 0.5), {}), ((0, 10, 3), {}), ((3, 0, -1), {}),
                                     ((1, 4), {"dtype": "int32"}), ((1.5, 4.2), {"dtype": "int64"}),
                                     ((0, 1, 0.25), {"dtype": "float64"}), ((0, 3, 0), {}), ((3, 0), {})])
def test_range_is_arange_with_the_end_included_and_warns(args, kw):
    def f(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            k = {n: getattr(lib, v) for n, v in kw.items()}
            result = lib.range(*args, **k, device=dev(lib))
        return result, [w.category.__name__ for w in caught]
    check(f)
    check(lambda lib: lib.range(0, 3, out=lib.empty(2, device=dev(lib))))


def test_arange_tensor_args():
    check(lambda lib: lib.arange(lib.tensor(4), device=dev(lib)))
    check(lambda lib: lib.arange(lib.tensor(1), lib.tensor(2.5), 0.5, device=dev(lib)))


@pytest.mark.parametrize("args,kw", [
    ((0, 1, 5), {}), ((-1, 1, 1), {}), ((2, 10, 0), {}), ((0, 1, 2), {}), ((3, -3, 7), {}),
    ((0, 10, 4), {"dtype": "int64"}), ((0, 1, 11), {"dtype": "float64"}), ((0, 1, -1), {}),
    ((1, 100, 1000), {}), ((0, 1, 4), {"dtype": "float16"}),
])
def test_linspace_logspace(args, kw):
    def f(lib):
        k = {n: getattr(lib, v) for n, v in kw.items()}
        return (lib.linspace(*args, **k, device=dev(lib)),
                lib.logspace(*args[:2], abs(args[2]), **k, device=dev(lib)))
    check(f)


def test_eye():
    def eyes(lib):
        d = dev(lib)
        return (lib.eye(3, device=d), lib.eye(2, 4, device=d), lib.eye(4, 2, dtype=lib.int64, device=d),
                lib.eye(0, device=d), lib.eye(3, 0, device=d), lib.eye(2, dtype=lib.bool, device=d),
                lib.eye(2, requires_grad=True, device=d))
    check(eyes)
    check(lambda lib: lib.eye(-1, device=dev(lib)))


# ------------------------------------------------------------------ conversions
@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_casts(src, dst):
    values = np.array([-2.7, -1.5, -0.5, 0.0, 0.4, 1.0, 2.5, 3.9, 127.0, 200.0])
    if src in ("uint8", "bool"):
        values = np.abs(values)
    if src == "int8":
        values = values[:-1]
    arg = Arg(values if src in ("float16", "bfloat16") else values.astype(src), src)
    check(lambda lib, t: (t.to(getattr(lib, dst)), t.to(dtype=getattr(lib, dst)), t.type(getattr(lib, dst))),
          arg)


def test_bfloat16_rounds_to_nearest_even():
    # 3/4 of a bfloat16 ulp above a representable value: rounding and truncation differ
    values = np.array([1 + 0.75 * 2 ** -7, -(3 + 0.75 * 2 ** -6), 0.1, 300.7], np.float32)
    check(lambda lib, t: t.to(lib.bfloat16), Arg(values), rtol=0, atol=0)
    ties = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(2 + 2 ** -7)], np.float32)  # halfway: to the even one
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 3.4e38, -3.4e38, 1e-40, 2 ** -133], np.float32)
    check(lambda lib, t: t.to(lib.bfloat16), Arg(np.concatenate([ties, specials])), rtol=0, atol=0)
    products = np.random.default_rng(1).standard_normal((2, 16))  # bf16 * bf16 rounds its fp32 product
    check(lambda lib, a, b: a * b, Arg(products[0], "bfloat16"), Arg(products[1], "bfloat16"), rtol=0, atol=0)


def test_float64_to_float16_rounds_through_float32_like_torch():
    """torch converts double -> half through float (two roundings): values just past a float16
    midpoint round the other way than a direct conversion would."""
    halfway = (np.arange(1, 9) + 0.5) * 2.0 ** -10 + 1  # float16 midpoints in [1, 2)
    values = np.concatenate([halfway + 2.0 ** -40, halfway - 2.0 ** -40,
                             np.random.default_rng(3).uniform(0, 4, 300)])
    assert not np.array_equal(values.astype(np.float16), values.astype(np.float32).astype(np.float16))
    check(lambda lib, t: (t.half(), t.to(lib.float16), lib.empty(t.shape, dtype=lib.float16, device=dev(lib))
                          .copy_(t), lib.tensor(values, dtype=lib.float16, device=dev(lib)),
                          lib.full((2,), float(values[0]), dtype=lib.float16, device=dev(lib))),
          Arg(values), rtol=0, atol=0)


def test_cast_methods():
    x = Arg(np.array([-2.7, 0.0, 1.5, 300.25]))
    check(lambda lib, t: (t.float(), t.double(), t.half(), t.bfloat16(), t.long(), t.int(), t.short(),
                          t.char(),
                          t.bool()), x)
    check(lambda lib, t: t.abs().byte(), x)
    check(lambda lib, t: (t.float(), t.double(), t.long()), Arg(np.array([1.5, -2.5]), requires_grad=True))
    check(lambda lib, t: (t.to(lib.float32) * 2, t.to(lib.float16)),
          Arg(np.array([1.5, -2.5]), requires_grad=True))


def test_nonfinite_to_int_does_not_crash():
    t = tritensor.tensor([float("nan"), float("inf"), -float("inf"), 1e30], device=DEVICE)
    assert t.long().shape == (4,) and t.int().shape == (4,)
    assert t.bool().tolist() == [True, True, True, True]


def test_to_variants():
    x = Arg(np.array([[1.5, 2.0]], np.float32))
    check(lambda lib, t: (t.to(dev(lib)), t.to(lib.device(dev(lib))),
                          t.to(lib.tensor([1], dtype=lib.int8, device=dev(lib))),
                          t.to(dev(lib), lib.float64), t.to(device=dev(lib), dtype=lib.float16),
                          t.cpu().tolist(), t.cpu().device.type,
                          t.to(t) is t, t.to(lib.float32) is t, t.to(lib.float32, copy=True) is t,
                          t.to(dev(lib)).data_ptr() == t.data_ptr()), x)
    check(lambda lib, t: t.to("meta_not_a_device"), x)
    check(lambda lib, t: t.to(lib.float64), Arg(np.array([1.5, 2.0]), requires_grad=True))


def test_clone_copy_fill_zero():
    x = Arg(np.arange(6.0).reshape(2, 3))

    def f(lib, t):
        c = t.clone()
        c2 = t.t().clone()
        d = lib.zeros(2, 3, dtype=lib.int32, device=t.device)
        d.copy_(t * 1.7)
        e = lib.zeros(4, 2, 3, device=t.device)
        e.copy_(t[0])
        g = lib.zeros(2, 3, device=t.device).t()
        g.copy_(t.t())
        h = lib.empty(2, 3, device=t.device).fill_(2.5)
        i = lib.empty(3, dtype=lib.int64, device=t.device).fill_(lib.tensor(7.9))
        z = t.clone().zero_()
        b = lib.zeros(3, dtype=lib.bool, device=t.device).copy_(lib.tensor([0.0, 0.2, -1.0]))
        return c, c2, c2.stride(), c.data_ptr() != t.data_ptr(), d, e, g, h, i, z, b
    check(f, x)
    check(lambda lib, t: lib.zeros(3, device=t.device).copy_(t), x)  # RuntimeError: broadcast
    check(lambda lib, t: lib.zeros(3, device=t.device).fill_(t), x)  # RuntimeError: not 0-d
    check(lambda lib, t: t.clone(), Arg(np.arange(3.0), requires_grad=True))
    check(lambda lib, t, s: lib.zeros(2, 3, dtype=lib.float64, device=t.device).copy_(t * s), x,
          Arg(np.array(2.0), requires_grad=True))
    check(lambda lib, t: ((t * 1).fill_(2), (t * 1).zero_()), Arg(np.arange(3.0), requires_grad=True))
    check(lambda lib, t, v: (t * 1).fill_(v), Arg(np.arange(3.0), requires_grad=True),
          Arg(np.array(2.0), requires_grad=True))


def test_item_tolist():
    def f(lib):
        def t(data, **kw):
            return lib.tensor(data, device=dev(lib), **kw)
        return (t(2.5).item(), t([3]).item(), t(True).item(), t([[1, 2]]).tolist(), t(1.5).tolist(),
                t([1.5, 2.0]).tolist(), t([True]).tolist(), t([1.5], dtype=lib.bfloat16).tolist(),
                t(7, dtype=lib.uint8).item(), float(t([2.5])), int(t(3.9)), bool(t([0])))
    check(f)
    for v in (tritensor.tensor(2.5, device=DEVICE).item(), tritensor.tensor([3], device=DEVICE).item(),
              tritensor.tensor(True, device=DEVICE).item()):
        assert type(v) in (float, int, bool)
    assert type(tritensor.tensor(2.5, device=DEVICE).item()) is float
    assert type(tritensor.tensor(3, device=DEVICE).item()) is int
    assert type(tritensor.tensor([1, 2], device=DEVICE).tolist()[0]) is int
    check(lambda lib: lib.tensor([1, 2], device=dev(lib)).item())  # RuntimeError
    check(lambda lib: bool(lib.tensor([1, 2], device=dev(lib))))


# ------------------------------------------------------------------ random
def test_random_shapes_dtypes_and_errors():
    check(lambda lib: (lib.rand(2, 3).shape, lib.randn([2, 3]).shape, lib.randn((2, 3)).shape,
                       lib.rand(()).shape,
                       lib.randn(lib.Size([4])).shape, str(lib.rand(2, dtype=lib.float64).dtype),
                       str(lib.randn(2, dtype=lib.float16).dtype), str(lib.rand(2, dtype=lib.bfloat16).dtype),
                       lib.rand(2, requires_grad=True).requires_grad, str(lib.randint(5, (3,)).dtype),
                       str(lib.randint(2, 5, (3,), dtype=lib.float32).dtype), lib.randint(0, 2, (2, 2)).shape,
                       str(lib.randperm(5).dtype), str(lib.randperm(4, dtype=lib.float32).dtype),
                       lib.normal(0.0, 1.0, (2, 3)).shape, lib.normal(lib.zeros(2, 1), lib.ones(3)).shape,
                       str(lib.normal(lib.zeros(3), 1.0).dtype), lib.normal(0.0, lib.ones(3)).shape,
                       str(lib.randint(0, 2, (2,), dtype=lib.bool).dtype),
                       lib.rand(2, 3, device="cpu").device.type))
    check(lambda lib: lib.randn(2, dtype=lib.int64))  # NotImplementedError
    check(lambda lib: lib.rand(2, dtype=lib.int32))
    check(lambda lib: lib.randint(5, 3, (2,)))
    check(lambda lib: lib.randint(0, 10, (2,), dtype=lib.bool))
    check(lambda lib: lib.randint(0, 300, (2,), dtype=lib.uint8))
    check(lambda lib: lib.normal(lib.zeros(3), -1.0))
    check(lambda lib: lib.normal(0.0, -1.0, (2,)))
    check(lambda lib: lib.zeros(3, dtype=lib.int64).uniform_())
    check(lambda lib: lib.zeros(3, dtype=lib.int64).normal_())
    check(lambda lib: lib.zeros(3).uniform_(2, 1))
    check(lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.int64)))
    check(lambda lib: lib.randn())


def test_manual_seed_reproducibility():
    def draw():
        return [tritensor.rand(3), tritensor.randn(2, 2), tritensor.randint(0, 100, (4,)),
                tritensor.randperm(6),
                tritensor.normal(tritensor.zeros(3), tritensor.ones(3)), tritensor.empty(3).uniform_(-1, 1),
                tritensor.empty(2).normal_(5, 2), tritensor.rand_like(tritensor.zeros(2, 2))]
    g = tritensor.manual_seed(123)
    assert isinstance(g, tritensor.Generator)
    first = draw()
    tritensor.manual_seed(123)
    second = draw()
    for a, b in zip(first, second):
        assert a.tolist() == b.tolist()
    assert first[0].tolist() != draw()[0].tolist()
    assert tritensor.initial_seed() == 123
    state = tritensor.get_rng_state()
    x = tritensor.randn(5)
    tritensor.set_rng_state(state)
    assert tritensor.randn(5).tolist() == x.tolist()


def test_generators_are_independent():
    g1 = tritensor.Generator().manual_seed(7)
    g2 = tritensor.Generator()
    g2.manual_seed(7)
    a = tritensor.randn(4, generator=g1)
    tritensor.manual_seed(0)
    tritensor.randn(10)  # the default generator does not disturb g2
    b = tritensor.randn(4, generator=g2)
    assert a.tolist() == b.tolist()
    assert g1.initial_seed() == 7
    assert tritensor.rand(2, generator=g1).tolist() != tritensor.rand(2, generator=g2.manual_seed(8)).tolist()
    assert tritensor.randint(0, 10, (5,), generator=tritensor.Generator().manual_seed(1)).tolist() == \
        tritensor.randint(0, 10, (5,), generator=tritensor.Generator().manual_seed(1)).tolist()
    assert tritensor.Generator().device == tritensor.device("cpu")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_distributions(dtype):
    tritensor.manual_seed(0)
    d = TT_DTYPES[dtype]
    n = 20000
    u = tritensor.rand(n, dtype=d).double().numpy()
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - 12 ** -0.5) < 0.01
    z = tritensor.randn(n, dtype=d).double().numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    w = tritensor.empty(n, dtype=d).uniform_(-2, 3).double().numpy()
    assert -2 <= w.min() and w.max() <= 3 and abs(w.mean() - 0.5) < 0.05
    v = tritensor.empty(n, dtype=d).normal_(10, 0.5).double().numpy()
    assert abs(v.mean() - 10) < 0.05 and abs(v.std() - 0.5) < 0.05
    m = tritensor.normal(tritensor.tensor([0.0, 100.0]).expand(n, 2).to(d), 1.0).double().numpy()
    assert abs(m[:, 0].mean()) < 0.05 and abs(m[:, 1].mean() - 100) < 0.2


def test_integer_distributions():
    tritensor.manual_seed(0)
    r = tritensor.randint(3, 9, (30000,)).numpy()
    assert r.min() == 3 and r.max() == 8
    counts = np.bincount(r - 3)
    assert np.all(np.abs(counts / r.size - 1 / 6) < 0.01)
    p = tritensor.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    assert tritensor.randperm(0).shape == (0,)
    b = tritensor.bernoulli(tritensor.full((20000,), 0.3)).numpy()
    assert abs(b.mean() - 0.3) < 0.02


INT_NAMES = ("int8", "uint8", "int16", "int32", "int64")


def test_float_to_int_casts_match_torch():
    special = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 3e9, -3e9, 200.7, -200.7, 2 ** 31 - 0.5, -0.7])
    for src in ("float64", "float32"):
        check(lambda lib, t: tuple(t.to(getattr(lib, d)) for d in INT_NAMES + ("bool",)),
              Arg(special.astype(src)))


def test_factories_with_out():
    def f(lib):
        d = dev(lib)
        o = lib.empty(3, dtype=lib.float64, device=d)
        lib.zeros(3, out=o)
        i = lib.empty(0, dtype=lib.int32, device=d)
        lib.arange(5, out=i)
        f = lib.empty(2, device=d)
        lib.full((2,), 7, out=f)
        e = lib.empty(2, 2, device=d)
        lib.eye(2, out=e)
        r = lib.empty(4, dtype=lib.float64, device=d)
        lib.rand(4, out=r)
        return o, i, f, e, r.shape, str(r.dtype), lib.linspace(0, 1, 3, out=lib.empty(3, device=d))
    check(f)


OUT_CALLS = {
    "add": lambda lib, x, o: lib.add(x, 1, out=o), "exp": lambda lib, x, o: lib.exp(x, out=o),
    "mul": lambda lib, x, o: lib.mul(x, x[0], out=o), "where": lambda lib, x, o: lib.where(x > 0, x, -x, out=o),
    "sum": lambda lib, x, o: lib.sum(x, 0, out=o), "mean": lambda lib, x, o: lib.mean(x, 1, out=o),
    "cumsum": lambda lib, x, o: lib.cumsum(x, 0, out=o), "clamp": lambda lib, x, o: lib.clamp(x, 0, 1, out=o),
    "cat": lambda lib, x, o: lib.cat([x, x], out=o), "mm": lambda lib, x, o: lib.mm(x, x.t(), out=o),
    "arange": lambda lib, x, o: lib.arange(4.0, out=o),
}


@pytest.mark.parametrize("call", list(OUT_CALLS))
@pytest.mark.parametrize("out_shape", [(0,), (5,), (2, 3)])
def test_out_of_another_shape_is_resized_like_torch(call, out_shape):
    """An ``out=`` tensor of another shape takes the result's (an empty one silently, else
    with torch's deprecation warning); an in-place op's self is never resized."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    results = []
    for lib in (torch, tritensor):
        o = lib.zeros(out_shape, device=dev(lib))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = OUT_CALLS[call](lib, lib.tensor(x, device=dev(lib)), o)
        warned = any(str(w.message).startswith("An output with one or more elements was resized") for w in caught)
        results.append((r is o, tuple(o.shape), warned, o.cpu().numpy()))
    assert results[1][:3] == results[0][:3]
    np.testing.assert_allclose(results[1][3], results[0][3], rtol=1.3e-6)
    check(lambda lib, t: t.add_(t.sum(0)), Arg(x))  # broadcast into self: fine
    check(lambda lib, t: t[0].add_(t), Arg(x))  # self would need resizing: an error


FILL_CALLS = {
    "full": lambda lib, t, v: lib.full((2,), v, dtype=t.dtype, device=t.device),
    "full_like": lambda lib, t, v: lib.full_like(t, v),
    "fill_": lambda lib, t, v: t.fill_(v),
    "masked_fill": lambda lib, t, v: t.masked_fill(t == t, v),
    "index_fill": lambda lib, t, v: t.index_fill(0, lib.tensor([0], device=t.device), v),
    "setitem": lambda lib, t, v: t.__setitem__(0, v) or t,
}


@pytest.mark.parametrize("call", list(FILL_CALLS))
@pytest.mark.parametrize("dtype,value", [
    ("int8", 300), ("int8", -129), ("int8", -128), ("uint8", -1), ("uint8", -300), ("int32", float("nan")),
    ("int16", 1e10), ("int64", 2 ** 63), ("bool", 300), ("float16", 1e5), ("float16", float("-inf")),
    ("bfloat16", 1e39), ("float32", 1e300), ("float32", float("nan")), ("float64", 1e300),
    ("float32", 2 ** 64), ("float64", -2 ** 63 - 1), ("int64", 10 ** 40)])
def test_fill_values_that_do_not_fit_are_refused_like_torch(call, dtype, value):
    """torch's fill ops refuse a Python number outside an integer dtype's range (NaN too) or
    finite beyond a floating dtype's largest value, naming the C++ type; negatives wrap into
    unsigned types, infinity fits any floating dtype (and ``x[i] = v`` rounds a 16-bit float
    to infinity instead, as torch's setitem does)."""
    fn = FILL_CALLS[call]
    outcomes = []
    for lib in (torch, tritensor):
        t = lib.zeros(2, dtype=getattr(lib, dtype), device="cpu" if lib is torch else DEVICE)
        try:
            outcomes.append(fn(lib, t, value).cpu().tolist())
        except (RuntimeError, ValueError, OverflowError) as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    np.testing.assert_equal(outcomes[1], outcomes[0])  # the message, or the values (NaN equal to NaN)


SCALAR_CALLS = {
    "add": lambda lib, t, v: t + v, "rsub": lambda lib, t, v: v - t, "mul_": lambda lib, t, v: t.mul_(v),
    "lt": lambda lib, t, v: t < v, "clamp": lambda lib, t, v: t.clamp(max=v),
    "pow": lambda lib, t, v: t.pow(v),
    "alpha": lambda lib, t, v: t.add(1, alpha=v), "where": lambda lib, t, v: lib.where(t > 0, t, v),
    "full": lambda lib, t, v: lib.full((2,), v, dtype=t.dtype),
}


#: ops that treat a Python int in [2**63, 2**64) with an int64 tensor as torch does (add, rsub,
#: mul_ and lt wrap it, full and clamp refuse it); pow, alpha and where wrap it where torch
#: refuses it (docs/api-coverage.md)
WRAPPING_CALLS = ("add", "rsub", "mul_", "lt", "full", "clamp")


@pytest.mark.parametrize("call,dtype,value", [
    (call, dtype, value) for call in SCALAR_CALLS for dtype in ("float32", "int64")
    for value in (2 ** 63, 2 ** 64 - 1, 2 ** 64, 10 ** 40, -2 ** 63, -2 ** 63 - 1)
    if call in WRAPPING_CALLS or dtype == "float32" or not 1 << 63 <= value < 1 << 64])
def test_python_ints_beyond_64_bits_are_refused_like_torch(call, dtype, value):
    """A Python int that neither int64 nor uint64 holds is torch's OverflowError wherever a
    number is an argument (it must not round to inf); within uint64 it is taken (wrapped
    into int64 for integer tensors)."""
    fn = SCALAR_CALLS[call]
    outcomes = []
    for lib in (torch, tritensor):
        t = lib.ones(2, dtype=getattr(lib, dtype), device="cpu" if lib is torch else DEVICE)
        try:
            outcomes.append(fn(lib, t, value).cpu().tolist())
        except (RuntimeError, OverflowError) as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    np.testing.assert_equal(outcomes[1], outcomes[0])


@pytest.mark.parametrize("args", [(2 ** 63,), (2 ** 64 - 1,), (2 ** 64,), (-2 ** 63,), (0, 2 ** 63, 2 ** 62),
                                  (-2 ** 63 - 1, 0), (2 ** 63, 2 ** 63 + 4), (0, 9, 2 ** 64)])
@pytest.mark.parametrize("dtype", [None, "float32"])
def test_arange_bounds_beyond_int64(args, dtype):
    """arange refuses what no int64 holds (an integer result's bounds, any element count)
    with torch's exception type, never an empty or wrapped result."""
    outcomes = []
    for lib in (torch, tritensor):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        try:
            r = lib.arange(*args, **kw)
            outcomes.append((r.tolist(), str(r.dtype)))
        except (RuntimeError, OverflowError) as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes[1] == outcomes[0]


def _resized(lib, t, *shape):
    return t.resize_(*shape), t.shape, t.stride()


@pytest.mark.parametrize("shape", [(2, 2), (6,), (3, 2), (0,), (1, 6)])
def test_resize_within_the_storage(shape):
    """resize_ keeps the storage's elements (contiguous from the offset) where they suffice."""
    check(lambda lib, t: _resized(lib, t.clone(), *shape), np.arange(6.0))
    check(lambda lib, t: _resized(lib, t.reshape(2, 3).t(), *shape), np.arange(6.0))
    check(lambda lib, t: (_resized(lib, t[1:], shape), t), np.arange(7.0))


def test_resize_grows_and_refuses():
    def grown(lib, t):
        t.resize_(2, 5)
        return t[0], t.shape, t.stride()  # the first 5 elements are the old ones
    check(grown, np.arange(6.0))
    check(lambda lib, t: t.resize_as_(lib.ones(3, 1, device=t.device)).shape, np.arange(2.0))
    check(lambda lib, t: t.resize_(-1), np.arange(2.0))
    check(lambda lib, t: t.resize_(3), Arg(np.arange(2.0), requires_grad=True))


WINDOWS = [("hann_window", ()), ("hamming_window", ()), ("hamming_window", (0.5, 0.5)),
           ("blackman_window", ()), ("bartlett_window", ()), ("kaiser_window", ()), ("kaiser_window", (5.0,))]


@pytest.mark.parametrize("name,extra", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_windows(name, extra, length, periodic, dtype):
    check(lambda lib: getattr(lib, name)(length, periodic, *extra, dtype=getattr(lib, dtype),
                                         device=dev(lib)))


@pytest.mark.parametrize("name", sorted({n for n, _ in WINDOWS}))
def test_window_errors_and_defaults(name):
    check(lambda lib: getattr(lib, name)(7, device=dev(lib)))
    check(lambda lib: getattr(lib, name)(4, requires_grad=True, device=dev(lib)))
    check(lambda lib: getattr(lib, name)(-1))
    check(lambda lib: getattr(lib, name)(3, dtype=lib.int64))
    for length in (3.0, True):  # TypeError: an int is required
        check(lambda lib: getattr(lib, name)(length))
    check(lambda lib: getattr(lib, name)(np.int64(3), device=dev(lib)))
