"""Pinned (page-locked) host memory: Tensor.pin_memory / is_pinned, factories' pin_memory=True,
and DataLoader(pin_memory=True). Without an accelerator every request fails like torch's; with
the (emulated) 'cuda' device the copies are pinned CPU tensors."""
import numpy as np
import pytest

import tritensor
from harness import check
from tritensor.backends import cuda_memory
from tritensor.utils import data

HAS_ACCELERATOR = cuda_memory.usable()
needs_accelerator = pytest.mark.skipif(not HAS_ACCELERATOR, reason="pinning needs the (emulated) 'cuda' device: "
                                       "run with TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda")

REQUESTS = {
    "pin_memory": lambda lib, x: x.pin_memory(),
    "empty": lambda lib, x: lib.empty(2, 3, pin_memory=True),
    "tensor": lambda lib, x: lib.tensor([1.0, 2.0], pin_memory=True),
    "empty_strided": lambda lib, x: lib.empty_strided((2, 2), (1, 2), pin_memory=True),
}


@pytest.mark.skipif(HAS_ACCELERATOR, reason="checks the errors of a host without an accelerator")
@pytest.mark.parametrize("name", list(REQUESTS))
def test_without_an_accelerator_pinning_fails_like_torch(name):
    check(REQUESTS[name], np.ones(3, np.float32))  # torch CPU (the oracle) has no accelerator either


def test_plain_tensors_are_not_pinned():
    check(lambda lib, x: x.is_pinned(), np.ones(3, np.float32))


@needs_accelerator
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
def test_pin_memory_copies_into_pinned_memory(dtype):
    x = tritensor.tensor(np.arange(6).reshape(2, 3) % 2, dtype=getattr(tritensor, dtype)).t()
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned()
    assert p.device.type == "cpu" and p.dtype is x.dtype and p.shape == x.shape
    assert p.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(p.float().numpy(), x.float().numpy())
    assert p.pin_memory() is p


@needs_accelerator
@pytest.mark.parametrize("name", ["empty", "tensor", "empty_strided"])
def test_factories_pin_memory(name):
    t = REQUESTS[name](tritensor, None)
    assert t.is_pinned() and t.device.type == "cpu"


@needs_accelerator
def test_pin_memory_is_differentiable_and_moves_to_the_device():
    x = tritensor.ones(3, requires_grad=True)
    y = x.pin_memory()
    assert type(y.grad_fn).__name__ == "PinMemoryBackward0"
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])
    on_device = y.detach().to("cuda")
    assert on_device.device.type == "cuda" and not on_device.is_pinned()
    np.testing.assert_array_equal(on_device.cpu().numpy(), [1, 1, 1])


@needs_accelerator
def test_device_tensors_cannot_be_pinned():
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        tritensor.ones(2, device="cuda").pin_memory()


@needs_accelerator
def test_numpy_view_keeps_pinned_memory_alive():
    view = tritensor.arange(4.0).pin_memory().numpy()  # the tensor dies at once; the view must not dangle
    np.testing.assert_array_equal(view, [0, 1, 2, 3])


@needs_accelerator
@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_pins_batches(num_workers):
    values = np.arange(24, dtype=np.float32).reshape(12, 2)
    dataset = data.TensorDataset(tritensor.tensor(values), tritensor.arange(12))
    loader = data.DataLoader(dataset, batch_size=5, pin_memory=True, num_workers=num_workers)
    batches = list(loader)
    assert all(t.is_pinned() for batch in batches for t in batch)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), values)


def test_dataloader_without_pinning_leaves_batches_alone():
    dataset = data.TensorDataset(tritensor.ones(4, 2))
    assert not any(b[0].is_pinned() for b in data.DataLoader(dataset, batch_size=2))


def test_uploads_wait_only_for_page_locked_sources():
    """A host-to-device copy from pageable memory is staged by the driver before it returns,
    so uploads queue without a stream sync; a source in page-locked memory (a view of a
    HostAllocation, whatever the view) makes the copy wait, since DMA reads it later."""
    from tritensor.backends import cuda_memory
    buf = np.zeros(64, np.uint8)
    pinned = object.__new__(cuda_memory.HostAllocation)  # the host-side object, no driver call
    pinned.ptr = buf.ctypes.data
    pinned.__array_interface__ = {"shape": (64,), "typestr": "|u1", "data": (buf.ctypes.data, False),
                                  "version": 3}
    view = np.asarray(pinned)[8:].view(np.float32)
    assert cuda_memory._in_page_locked_memory(view)
    assert not cuda_memory._in_page_locked_memory(buf)
    assert not cuda_memory._in_page_locked_memory(np.concatenate([buf, buf]))
