"""Zero-copy exchange with numpy and torch: numpy(), __array__, from_numpy, DLPack.

Memory sharing with numpy/torch is inherently CPU-only (``cpu_only``: skipped on other test devices).
"""
import numpy as np
import pytest
import torch

import tritensor
from harness import ALL_DTYPES, DEVICE, ORACLE_DEVICE, TORCH_DTYPES, TT_DTYPES

rng = np.random.default_rng(0)


def _values(dtype, shape=(2, 3)):
    return (rng.standard_normal(shape) * 3).round(2) if dtype != "bool" else rng.integers(0, 2, shape) > 0


def _tt(dtype, shape=(2, 3)):
    return tritensor.tensor(_values(dtype, shape), dtype=TT_DTYPES[dtype])


def _same(tt, t):
    assert str(tt.dtype) == str(t.dtype) and tuple(tt.shape) == tuple(t.shape) and tt.stride() == t.stride()
    np.testing.assert_array_equal(tt.float().numpy() if tt.dtype is tritensor.bfloat16 else tt.numpy(),
                                  t.float().numpy() if t.dtype is torch.bfloat16 else t.numpy())


@pytest.mark.cpu_only
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_torch_from_dlpack_shares_memory(dtype):
    tt = _tt(dtype)
    t = torch.from_dlpack(tt)
    _same(tt, t)
    assert t.data_ptr() == tt.data_ptr()
    tt[0, 0] = 1
    assert t[0, 0].item() == 1
    t[1, 2] = 0
    assert tt[1, 2].item() == 0


@pytest.mark.cpu_only
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_from_dlpack_of_torch_shares_memory(dtype):
    t = torch.tensor(_values(dtype)).to(TORCH_DTYPES[dtype])
    tt = tritensor.from_dlpack(t)
    _same(tt, t)
    assert tt.data_ptr() == t.data_ptr()
    t[0, 1] = 1
    assert tt[0, 1].item() == 1
    tt[1, 0] = 0
    assert t[1, 0].item() == 0


@pytest.mark.cpu_only
def test_dlpack_views_and_shapes():
    base = tritensor.arange(24.0).reshape(4, 6)
    for view in (base.t(), base[:, ::2], base[1:, 2:], base[2], base[1, 1], base.expand(3, 4, 6)):
        t = torch.from_dlpack(view)
        _same(view, t)
        assert t.data_ptr() == view.data_ptr()
    for t in (torch.arange(24.0).reshape(4, 6).t(), torch.zeros(0, 3), torch.tensor(5), torch.ones(3)[::2]):
        tt = tritensor.from_dlpack(t)
        _same(tt, t)
    z = tritensor.zeros(0, 3)
    assert torch.from_dlpack(z).shape == (0, 3)


@pytest.mark.cpu_only
def test_numpy_dlpack():
    tt = _tt("float32")
    a = np.from_dlpack(tt)
    a[0, 0] = 42.0
    assert tt[0, 0].item() == 42.0
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = tritensor.from_dlpack(arr)
    back[1, 1] = -1
    assert arr[1, 1] == -1 and back.dtype is tritensor.int32


@pytest.mark.cpu_only
def test_legacy_capsules():
    t = torch.arange(4.0)
    tt = tritensor.from_dlpack(torch.utils.dlpack.to_dlpack(t))
    tt[0] = 9.0
    assert t[0].item() == 9.0
    back = torch.utils.dlpack.from_dlpack(_tt("int64").__dlpack__())
    assert back.dtype == torch.int64


@pytest.mark.cpu_only
def test_memory_outlives_producer():
    t = torch.arange(5.0)
    tt = tritensor.from_dlpack(t)
    del t
    assert tt.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    tt = tritensor.arange(5.0)
    t = torch.from_dlpack(tt)
    del tt
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.cpu_only
def test_dlpack_errors():
    with pytest.raises(BufferError):
        torch.from_dlpack(tritensor.ones(2, requires_grad=True))
    assert tritensor.ones(2).__dlpack_device__() == torch.ones(2).__dlpack_device__()
    tt = tritensor.ones(2)
    assert tritensor.from_dlpack(tt) is tt


@pytest.mark.cpu_only
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # torch's own __array__
def test_numpy_and_array_protocol():
    tt = _tt("float64")
    a = tt.numpy()
    assert a.dtype == np.float64 and np.shares_memory(a, np.asarray(tt))
    a[1, 1] = 3.5
    assert tt[1, 1].item() == 3.5
    with pytest.raises(RuntimeError):
        tritensor.ones(2, requires_grad=True).numpy()
    assert tritensor.ones(2, requires_grad=True).numpy(force=True).tolist() == [1.0, 1.0]
    assert np.array(tritensor.ones(2, dtype=tritensor.int8)).dtype == np.int8
    for make in (torch, tritensor):  # __array__ follows numpy(): same errors as torch
        with pytest.raises(RuntimeError):
            np.asarray(make.ones(2, requires_grad=True))
        with pytest.raises(TypeError):
            np.asarray(make.ones(2, dtype=make.bfloat16))
        with pytest.raises(ValueError):
            np.array(make.ones(2), dtype=np.float64, copy=False)
        src = make.ones(2)
        np.array(src, copy=True)[0] = 5
        assert src[0].item() == 1
        np.asarray(src)[0] = 7
        assert src[0].item() == 7
    with pytest.raises(TypeError):
        tritensor.ones(2, dtype=tritensor.bfloat16).numpy()
    for lib in (torch, tritensor):  # numpy scalars on the left defer to the tensor (__array_priority__)
        t = lib.ones(2, dtype=lib.float64, requires_grad=True)
        for result in (np.float32(2.5) + t, np.float64(2) * t, np.int64(3) - t, np.float64(2) ** t):
            assert isinstance(result, lib.Tensor) and result.requires_grad and result.dtype == lib.float64
        assert (np.float32(1) < t.detach()).dtype == lib.bool
    # torch.tensor / torch.as_tensor accept our tensors through __array__
    np.testing.assert_array_equal(torch.as_tensor(np.asarray(tt)).numpy(), tt.numpy())
    t = torch.tensor(_tt("int32").numpy())
    assert t.dtype == torch.int32


def test_tensor_from_torch_tensor_data():
    t = torch.tensor([[1.5, 2.0]], dtype=torch.float64)
    tt = tritensor.tensor(t.numpy(), device=DEVICE)
    assert tt.dtype is tritensor.float64 and tt.tolist() == [[1.5, 2.0]] and tt.device.type == DEVICE


def test_device_objects():
    for spec in ("cpu", "cuda", "cuda:1", ("cuda", 0), ("cpu", 0)):
        args = spec if isinstance(spec, tuple) else (spec,)
        d, td = tritensor.device(*args), torch.device(*args)
        assert (repr(d), str(d), d.type, d.index) == (repr(td), str(td), td.type, td.index)
    assert tritensor.device("cpu") == "cpu" and tritensor.device("cuda:0") != tritensor.device("cuda:1")
    assert len({tritensor.device("cpu"), tritensor.device("cpu")}) == 1
    assert tritensor.device(tritensor.device("cuda:2")).index == 2
    for bad in ("gpu", "cuda:x", "cuda:-1"):
        with pytest.raises(RuntimeError):
            torch.device(bad)
        with pytest.raises(RuntimeError):
            tritensor.device(bad)
    assert tritensor.ones(2).device == tritensor.device("cpu")
    assert tritensor.ones(2).get_device() == torch.ones(2).get_device()


def test_tensor_of_an_array_keeps_its_dim_order():
    """``torch.tensor`` of a numpy array copies it in the array's dim order: an F-ordered or
    permuted array stays so, a strided one is packed (its memory order kept)."""
    base = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    for a in (base[0].T, base.transpose(2, 0, 1), base[:, :, ::2], base.transpose(1, 2, 0)[::2], base):
        for dtype in (None, "float32", "float16"):
            expected = torch.tensor(a, dtype=dtype and getattr(torch, dtype), device=ORACLE_DEVICE)
            actual = tritensor.tensor(a, dtype=dtype and getattr(tritensor, dtype), device=DEVICE)
            assert actual.stride() == expected.stride()
            np.testing.assert_array_equal(actual.cpu().numpy(), expected.cpu().numpy())
