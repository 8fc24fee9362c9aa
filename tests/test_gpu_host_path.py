"""The real-GPU host path of the 'cuda' backend, on a driverless GPU (tests/fake_gpu.py).

No GPU is needed: the driver is a stand-in on host memory and launches are recorded, not
run. What is checked is tritensor's side of a GPU: the caching allocator (reuse per stream
and size, statistics, empty_cache, out-of-memory recovery), host<->device copies, and that
each fast launch path hands Triton's launcher exactly the arguments and the compiled kernel
the general path would.
"""
from __future__ import annotations

import numpy as np
import pytest

import tritensor
from fake_gpu import driverless_gpu, launches
from tritensor.backends import cuda as cuda_backend
from tritensor.kernels.triton import elementwise as ew
from tritensor.kernels.triton import launch as launch_mod


@pytest.fixture
def gpu(monkeypatch):
    return driverless_gpu(monkeypatch)


def _general_launch(name, out, operands):
    """(kernel name, grid, launcher arguments) of the general elementwise path for this call."""
    compute = operands[0].dtype.compute_np
    grid, args = cuda_backend._elementwise_launch(name, out, operands, compute)
    key, raw = launch_mod._prepare(ew.elementwise_kernel, args, {})
    return key, ("elementwise_kernel", grid + (1,) * (3 - len(grid)), 0, tuple(raw))


# ------------------------------------------------------------------ fast lane
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("n", [1, 17, 1000, 4096])
def test_lane_launches_what_the_general_path_launches(gpu, dtype, n):
    dtype = getattr(tritensor, dtype)
    a = tritensor.empty(n, dtype=dtype, device="cuda")
    b = tritensor.empty(n, dtype=dtype, device="cuda")
    scalar = 2.0 if dtype.is_floating_point else 3
    calls = [(lambda: a + b, "add", (a, b)), (lambda: a * b, "mul", (a, b))]
    if dtype is not tritensor.bool:
        calls += [(lambda: a * scalar, "mul", (a, scalar)), (lambda: a - b, "sub", (a, b))]
    for call, name, operands in calls:
        for attempt in range(2):  # the first compiles through the general path, the second is direct
            launches.clear()
            out = call()
            key, expected = _general_launch(name, out, operands)
            assert launches == [expected], (name, attempt)
            assert launch_mod._compiled[key][2] == f"CUfunction<{expected[0]}>"
            del out


def test_lane_keys_follow_alignment_and_size(gpu):
    """A misaligned view or a size of other divisibility is another specialisation: the lane
    must not reuse a kernel compiled for aligned pointers or multiples of 16."""
    base = tritensor.empty(40, device="cuda")
    for view, n in [(base[:32], 32), (base[1:33], 32), (base[:17], 17), (base[1:18], 17)]:
        other = tritensor.empty(n, device="cuda")
        launches.clear()
        out = view + other
        assert launches == [_general_launch("add", out, (view, other))[1]]


def test_strided_operands_take_the_general_path(gpu):
    x = tritensor.empty(8, 8, device="cuda")
    launches.clear()
    out = x.t() + x
    (_, _, _, args), = launches
    assert args[-3] is False  # CONTIG (then INT64, BLOCK)
    assert launches == [_general_launch("add", out, (x.t(), x))[1]]


def test_launch_hooks_see_direct_launches(gpu):
    from triton import knobs
    a = tritensor.empty(16, device="cuda")
    a + a
    seen = []
    hook = knobs.runtime.launch_enter_hook
    hook.add(seen.append)
    try:
        launches.clear()
        a + a
    finally:
        hook.remove(seen.append)
    assert len(launches) == 1 and len(seen) == 0  # the stand-in launcher does not call hooks itself


# ------------------------------------------------------------------ allocator
def test_freed_blocks_are_reused_without_the_driver(gpu):
    a = tritensor.empty(1000, device="cuda")
    ptr = a.data_ptr()
    assert gpu.count("cuMemAllocAsync") == 1
    assert tritensor.cuda.memory_allocated() == 4096
    del a
    assert tritensor.cuda.memory_allocated() == 0
    assert tritensor.cuda.memory_reserved() == 4096  # cached for reuse
    b = tritensor.empty(1000, device="cuda")
    assert b.data_ptr() == ptr and gpu.count("cuMemAllocAsync") == 1
    c = tritensor.empty(2000, device="cuda")  # another size class: a new block
    assert gpu.count("cuMemAllocAsync") == 2
    assert tritensor.cuda.max_memory_allocated() == 4096 + 8192
    del b, c
    tritensor.cuda.empty_cache()
    assert gpu.count("cuMemFreeAsync") == 2 and not gpu.blocks
    assert tritensor.cuda.memory_reserved() == 0
    tritensor.empty(1000, device="cuda")
    assert gpu.count("cuMemAllocAsync") == 3


def test_blocks_are_reused_only_on_the_stream_that_freed_them(gpu):
    a = tritensor.empty(256, device="cuda")
    ptr = a.data_ptr()
    del a
    side = tritensor.cuda.Stream()
    with tritensor.cuda.stream(side):
        b = tritensor.empty(256, device="cuda")
    assert b.data_ptr() != ptr  # a kernel queued on the default stream may still use the block
    c = tritensor.empty(256, device="cuda")
    assert c.data_ptr() == ptr


def test_out_of_memory_returns_the_cache_first_then_raises(monkeypatch):
    gpu = driverless_gpu(monkeypatch, capacity=1 << 20)
    a = tritensor.empty(600_000, dtype=tritensor.uint8, device="cuda")
    del a  # cached: the driver still counts it as used
    b = tritensor.empty(700_000, dtype=tritensor.uint8, device="cuda")  # fits once the cache is returned
    assert gpu.count("cuMemFreeAsync") == 1 and gpu.count("cuCtxSynchronize") == 1
    with pytest.raises(tritensor.cuda.OutOfMemoryError, match=r"Tried to allocate 781\.25 KiB \(800000 bytes\)"):
        tritensor.empty(800_000, dtype=tritensor.uint8, device="cuda")
    assert tritensor.cuda.memory_allocated() == 700_416
    del b
    assert tritensor.empty(800_000, dtype=tritensor.uint8, device="cuda").numel() == 800_000


def test_memory_fraction_limits_allocations(gpu):
    tritensor.cuda.set_per_process_memory_fraction(0.5)
    with pytest.raises(tritensor.cuda.OutOfMemoryError, match="free for this process"):
        tritensor.empty(1 << 28, device="cuda")  # 1 GiB of a 1 GiB device
    assert tritensor.empty(16, device="cuda").numel() == 16


# ------------------------------------------------------------------ copies
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
def test_uploads_and_downloads_copy_the_bytes(gpu, dtype):
    values = np.arange(-3, 9).reshape(3, 4) % 5
    x = tritensor.tensor(values, dtype=getattr(tritensor, dtype), device="cuda")
    assert x.device.type == "cuda"
    host = x.cpu().double().numpy()
    np.testing.assert_array_equal(host, values.astype(bool) if dtype == "bool" else values)
    np.testing.assert_array_equal(x[1].cpu().double().numpy(), host[1])


def test_pageable_uploads_do_not_wait_for_the_stream(gpu):
    tritensor.tensor([1.0, 2.0], device="cuda")
    assert gpu.count("cuMemcpyHtoDAsync") == 1 and gpu.count("cuStreamSynchronize") == 0
    tritensor.ones(2).pin_memory().to("cuda")  # page-locked: the copy engine reads it later
    assert gpu.count("cuStreamSynchronize") == 1
