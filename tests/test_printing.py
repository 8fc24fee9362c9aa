"""repr(tensor) must equal torch's exactly, character for character."""
import numpy as np
import pytest
import torch

import tritensor

#: The oracle prints CPU tensors only (torch has no CUDA here); test_cuda_backend checks the cuda suffix.
pytestmark = pytest.mark.cpu_only

rng = np.random.default_rng(0)
nan, inf = float("nan"), float("inf")

CASES = [
    # ints
    [1, 2, 3], [[1, 2], [3, 4]], [-1, 100, 7], 5, -3, [0], [123456789012, -1], list(range(30)),
    list(range(1000)), list(range(1001)), [[i * j for i in range(12)] for j in range(12)],
    # floats
    [1.0, 2.0], [1.5, 2.25], [0.1, 0.2, 0.3], 3.0, -0.5, 1e-5, [1e-5, 1.0], [1e10, 1.0], [123456.0, 1.5],
    [1e8, 1.0], [1e9, 2.0], [0.0, -0.0], -0.0, [nan, 1.0], [inf, -inf, 1.0], [nan, inf], [nan], [inf],
    [1.0, 1000.0], [1.0, 1001.0], [0.001, 1.0], [0.0001, 1.0], [0.00009, 1.0], [12345.678], [1.23456789],
    [[1.5, -2.0], [3.25, 400.0]], [100.0, 200.5], [1e-8, 1e-9], [1e20], [-1e-20, 1e20], [0.5, nan, -inf],
    [2.0 ** 60], [1e15, 1.0], [99999.9], [0.0], [0.0, 0.0], [-1.0, -2.0], [1.0, -0.0], [3e-5, 5e-5],
    list(np.linspace(0, 1, 17)), list(np.linspace(-5, 5, 33)), [[1e-3, 1e3], [1.0, 2.0]],
    # bools
    [True, False], True, [[True], [False]],
    # nested / 3-D / 4-D
    [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [[[1.5, 2], [3, 4]], [[5, 6], [7, 8]]],
    [[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]],
    # empty
    [], [[]], [[], []],
]


def _both(data, dtype=None, **kw):
    t = torch.tensor(data, dtype=getattr(torch, dtype) if dtype else None, **kw)
    tt = tritensor.tensor(data, dtype=getattr(tritensor, dtype) if dtype else None, **kw)
    return t, tt


def assert_repr(t, tt):
    assert repr(tt) == repr(t), f"\ntritensor:\n{tt!r}\ntorch:\n{t!r}"
    assert str(tt) == str(t)


@pytest.mark.parametrize("data", CASES, ids=lambda d: repr(d)[:40])
def test_repr_matches_torch(data):
    assert_repr(*_both(data))


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16", "int32", "int16", "int8", "uint8",
                                   "bool",
                                   "int64", "float32"])
@pytest.mark.parametrize("data", [[1, 2, 3], [[1.5, 2.25], [0.1, 3.0]], [0], 2, [1e-5, 1.0], [100.0, 2e6],
                                  []],
                         ids=repr)
def test_dtype_suffix(dtype, data):
    if dtype in ("int32", "int16", "int8", "uint8", "int64", "bool") and isinstance(data, list) and data and \
            isinstance(data[0], list):
        data = [[1, 2], [0, 3]]
    if dtype in ("int32", "int16", "int8", "uint8", "int64", "bool") and data == [1e-5, 1.0]:
        data = [0, 1]
    if dtype in ("int8", "uint8", "int16") and data == [100.0, 2e6]:
        data = [100, 20]
    assert_repr(*_both(data, dtype))


@pytest.mark.parametrize("shape", [(2000,), (40, 40), (3, 400), (400, 3), (11, 11, 11), (2, 3, 200), (1001,),
                                   (5, 2, 2, 60)])
@pytest.mark.parametrize("kind", ["int", "float", "sci"])
def test_summarized(shape, kind):
    n = int(np.prod(shape))
    if kind == "int":
        data = np.arange(n).reshape(shape)
    elif kind == "float":
        data = (np.arange(n) / 7.0).reshape(shape)
    else:
        data = (np.exp(np.linspace(-12, 12, n))).reshape(shape)
    assert_repr(torch.tensor(data), tritensor.tensor(data))
    assert_repr(torch.tensor(data).float(), tritensor.tensor(data).float())


@pytest.mark.parametrize("n", [7, 8, 9, 13, 20, 26, 50])
def test_line_wrapping(n):
    for data in (np.arange(n) * 1.5, np.arange(n) * 1234567, rng.standard_normal(n),
                 rng.standard_normal((3, n))):
        assert_repr(torch.tensor(data).float(), tritensor.tensor(data).float())
        assert_repr(torch.tensor(data), tritensor.tensor(data))


def test_random_values():
    for scale in (1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9):
        data = rng.standard_normal((4, 5)) * scale
        assert_repr(torch.tensor(data, dtype=torch.float32), tritensor.tensor(data, dtype=tritensor.float32))
        assert_repr(torch.tensor(data), tritensor.tensor(data))
        if scale < 1e4:  # float16 overflows beyond
            assert_repr(torch.tensor(data).half(), tritensor.tensor(data).half())
        assert_repr(torch.tensor(data).bfloat16(), tritensor.tensor(data).bfloat16())


def test_empty_shapes():
    for shape in [(0,), (0, 3), (2, 0), (2, 0, 3), (0, 0)]:
        assert_repr(torch.zeros(shape), tritensor.zeros(shape))
        assert_repr(torch.zeros(shape, dtype=torch.int32), tritensor.zeros(shape, dtype=tritensor.int32))
        assert_repr(torch.zeros(shape, dtype=torch.float64), tritensor.zeros(shape, dtype=tritensor.float64))


def test_zero_dim():
    for v in (0.5, 3, True, nan, -inf, 1e-10, 100.0, -0.0, 123456789.0):
        assert_repr(*_both(v))
        assert_repr(*_both(v, "float64"))


def test_requires_grad_and_grad_fn():
    t, tt = _both([1.0, 2.0], requires_grad=True)
    assert_repr(t, tt)
    assert_repr(t * 2, tt * 2)
    assert_repr(t.sum(), tt.sum())
    assert_repr(t.mean(), tt.mean())
    assert_repr(t[0], tt[0])
    assert_repr(t.double() + 1, tt.double() + 1)
    assert_repr(t.view(2, 1), tt.view(2, 1))
    big_t, big_tt = _both(np.arange(2000.0).reshape(40, 50), requires_grad=True)
    assert_repr(big_t * 3, big_tt * 3)
    w_t, w_tt = _both(np.arange(12.0) * 1e6, requires_grad=True)
    assert_repr(w_t * 1, w_tt * 1)
    assert_repr(w_t.double() * 1, w_tt.double() * 1)


def test_long_suffix_wraps():
    data = np.arange(9.0) * 1.111
    t, tt = torch.tensor(data, requires_grad=True), tritensor.tensor(data, requires_grad=True)
    assert_repr(t, tt)
    assert_repr(t * 1, tt * 1)
    t, tt = torch.tensor(data[:5], dtype=torch.float16), tritensor.tensor(data[:5], dtype=tritensor.float16)
    assert_repr(t, tt)


def test_noncontiguous_and_views():
    data = np.arange(12.0).reshape(3, 4)
    t, tt = torch.tensor(data), tritensor.tensor(data)
    assert_repr(t.t(), tt.t())
    assert_repr(t[:, ::2], tt[:, ::2])
    assert_repr(t[1], tt[1])
    assert_repr(t.expand(2, 3, 4), tt.expand(2, 3, 4))


def test_printoptions():
    try:
        for opts in ({"precision": 2}, {"sci_mode": True}, {"sci_mode": False}, {"linewidth": 40},
                     {"threshold": 5, "edgeitems": 2}, {"profile": "short"}):
            torch.set_printoptions(**opts)
            tritensor.set_printoptions(**opts)
            for data in ([1.23456, 2.5], [1e-6, 1.0], list(np.arange(20.0) / 3), [[1, 2, 3], [4, 5, 6]]):
                assert_repr(*_both(data))
    finally:
        torch.set_printoptions(profile="default")
        tritensor.set_printoptions(profile="default")


def test_format_and_size():
    assert f"{tritensor.tensor(2.5):.2f}" == f"{torch.tensor(2.5):.2f}"
    for lib in (torch, tritensor):  # a 0-d tensor formats as its number even without a spec
        half, three = lib.tensor(0.5), lib.tensor(3)
        text = f"loss {half} {three} {lib.tensor(True)} {lib.tensor(0.5, requires_grad=True)}"
        assert text == "loss 0.5 3 True 0.5"
        assert f"{lib.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
        with pytest.raises(TypeError):
            format(lib.tensor([1.0]), ".2f")
    assert repr(tritensor.zeros(2, 3).shape) == "torch.Size([2, 3])"
    assert str(tritensor.zeros(0).size()) == "torch.Size([0])"
    assert repr(tritensor.float32) == "torch.float32"
    assert repr(tritensor.device("cpu")) == repr(torch.device("cpu"))


def test_default_dtype_changes_suffix_and_inference():
    try:
        torch.set_default_dtype(torch.float64)
        tritensor.set_default_dtype(tritensor.float64)
        for data in ([1.5, 2.0], [1, 2], 2.5):
            assert_repr(*_both(data))
        assert_repr(torch.tensor([1.5]).float(), tritensor.tensor([1.5]).float())
        assert_repr(torch.zeros(0, dtype=torch.float32), tritensor.zeros(0, dtype=tritensor.float32))
        assert_repr(torch.arange(3.0), tritensor.arange(3.0))
    finally:
        torch.set_default_dtype(torch.float32)
        tritensor.set_default_dtype(tritensor.float32)
