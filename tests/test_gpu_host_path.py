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
from harness import DEVICE
from tritensor.backends import cuda as cuda_backend
from tritensor.kernels.triton import launch as launch_mod


@pytest.fixture
def gpu(monkeypatch):
    yield driverless_gpu(monkeypatch)
    launch_mod.forget_compiled()


def _general_launch(name, out, operands):
    """(specialisation key, the launch) of the general elementwise path for this call."""
    compute = next(x for x in (*operands, out) if isinstance(x, tritensor.Tensor)).dtype.compute_np
    kernel, grid, args = cuda_backend._elementwise_launch(name, out, operands, compute)
    key, raw = launch_mod._prepare(kernel, args, {})
    function = launch_mod._compiled[key][2]
    return key, (kernel.__name__, grid + (1,) * (3 - len(grid)), 0, function, tuple(raw))


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
        calls += [(lambda: a * scalar, "mul", (a, scalar)), (lambda: a - b, "sub", (a, b)),
                  (lambda: a.add_(b), "add", (a, b)), (lambda: a.mul_(scalar), "mul", (a, scalar))]
    for call, name, operands in calls:
        for attempt in range(2):  # the first compiles through the general path, the second is direct
            launches.clear()
            out = call()
            _, expected = _general_launch(name, out, operands)
            assert launches == [expected], (name, attempt)
            del out


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
def test_fill_takes_the_lane_for_contiguous_tensors(gpu, dtype):
    """``fill_`` (``ones_like(loss)`` in every backward) of a contiguous tensor launches what
    the general path would; a strided one takes the general path."""
    dtype = getattr(tritensor, dtype)
    value = True if dtype is tritensor.bool else 1
    for t in (tritensor.empty(1, dtype=dtype, device="cuda"), tritensor.empty(33, dtype=dtype, device="cuda"),
              tritensor.empty(6, 6, dtype=dtype, device="cuda").t()):
        for _ in range(2):
            launches.clear()
            t.fill_(value)
            _, expected = _general_launch("identity", t, (value,))
            assert launches == [expected]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_operands_keep_the_sign_of_zero(gpu, dtype):
    """Scalars are converted once and cached by value; 0.0 and -0.0 are equal as keys but
    not as bits, so each must reach the kernel as itself however often both are used."""
    dtype = getattr(tritensor, dtype)
    a = tritensor.empty(4, dtype=dtype, device="cuda")
    bits = {}
    for scalar in (0.0, -0.0, 0.0, -0.0, 1.5):
        launches.clear()
        a * scalar
        (*_, args), = launches
        bits.setdefault(str(scalar), set()).add(args[2])  # out, a, the scalar
    as_bits = (lambda v: int(np.float64(v).view(np.int64))) if dtype is tritensor.float64 else float
    for text, seen in bits.items():
        assert len(seen) == 1 and np.signbit(float(text)) == np.signbit(next(iter(seen)))
        assert seen == {as_bits(float(text))}


def test_the_lane_takes_tensor_subclasses_as_tensors(gpu):
    """A Parameter operand (nn.init works on them) is a tensor to the direct lane, not a scalar."""
    w = tritensor.nn.Parameter(tritensor.ones(64, device="cuda"))
    with tritensor.no_grad():
        for out in (w * (1 - w), (1 - w) * w, w + w):
            assert out.shape == (64,) and type(out) is tritensor.Tensor
        tritensor.nn.init.trunc_normal_(w)


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
    (_, _, _, _, args), = launches
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


# ------------------------------------------------------------------ replayed launches
def _full_path(op):
    """``op()``'s launches with replay off (as inside another op's capture: every backend
    function runs in full)."""
    from tritensor.backends import cuda_memory, cuda_replay
    cuda_memory.captures.current = cuda_replay.Capture()
    try:
        launches.clear()
        result = op()
        return result, list(launches)
    finally:
        cuda_memory.captures.current = None


def _replays_like_the_full_path(gpu, op):
    """Call ``op`` three times: the capture, a replay (there must be one), and the full path
    again; the replay must launch exactly what the full path launches (same kernels, compiled
    kernels, grids and arguments), pointers compared by the device block they point into
    (blocks named in order of first use: which free block the allocator hands out may vary)."""
    from tritensor.backends import cuda_replay
    op()
    launches.clear()
    replays = []
    replay = cuda_replay._replay
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cuda_replay, "_replay",
                      lambda plan, tensors: (replays.append(plan), replay(plan, tensors)))
        op()
    replayed = _canonical(gpu, launches)
    _, full = _full_path(op)
    assert replays, "nothing was replayed"
    assert replayed and replayed == _canonical(gpu, full)


def _canonical(gpu, calls):
    names = {}

    def name(v):
        if type(v) is int and v > 1 << 32:
            for base, buf in gpu.blocks.items():
                if base <= v < base + buf.size:
                    return ("block", names.setdefault(base, len(names)), v - base)
        return v
    return [(kernel, grid, stream, function, tuple(map(name, args)))
            for kernel, grid, stream, function, args in calls]


def _cuda(*shape, dtype="float32"):
    return tritensor.empty(*shape, dtype=getattr(tritensor, dtype), device="cuda")


REPLAYED_OPS = {
    "sum": lambda x, y, v: x.sum(),
    "sum dim 0": lambda x, y, v: x.sum(0),
    "sum dim 1 keepdim": lambda x, y, v: x.sum(1, keepdim=True),
    "mean of a transposed view": lambda x, y, v: x.t().mean(0),
    "max with indices": lambda x, y, v: x.max(1),
    "argmin": lambda x, y, v: x.argmin(0),
    "cumsum": lambda x, y, v: x.cumsum(1),
    "cummax with indices": lambda x, y, v: x.cummax(0),
    "logcumsumexp": lambda x, y, v: x.logcumsumexp(1),
    "aminmax": lambda x, y, v: x.aminmax(dim=1),
    "softmax": lambda x, y, v: x.softmax(1),
    "log_softmax dim 0": lambda x, y, v: x.log_softmax(0),
    "mm": lambda x, y, v: x @ y,
    "mm of transposes": lambda x, y, v: x.t() @ y.t(),
    "x @ x": lambda x, y, v: x @ x,
    "mv": lambda x, y, v: x @ v,
    "addmm": lambda x, y, v: tritensor.addmm(v, x, y, beta=0.5, alpha=2.0),
    "split-K mm": lambda x, y, v: x[:4].t() @ y[:4],
    "bmm": lambda x, y, v: x.reshape(16, 8, 8) @ y.reshape(16, 8, 8),
    "cat": lambda x, y, v: tritensor.cat([x, y, x[:3]]),
    "stack": lambda x, y, v: tritensor.stack([x, y]),
    "broadcast add": lambda x, y, v: x + v,
    "strided mul": lambda x, y, v: x.t() * y,
    "where": lambda x, y, v: tritensor.where(x > y, x, y),
    "in-place add into a strided tensor": lambda x, y, v: x.t().add_(y.t()),
    "advanced getitem": lambda x, y, v: x[:, tritensor.arange(3, device="cuda")],
    "advanced getitem of two index tensors": lambda x, y, v: x[tritensor.arange(3, device="cuda"),
                                                               tritensor.arange(3, device="cuda")[:, None]],
    "index_put_ accumulating": lambda x, y, v: x.index_put_((tritensor.arange(3, device="cuda"),), y[:3],
                                                            accumulate=True),
    "transposing copy": lambda x, y, v: x.t().contiguous(),
    "batched transposing copy": lambda x, y, v: x.reshape(4, 16, 16).transpose(1, 2).contiguous(),
}


@pytest.mark.parametrize("name", list(REPLAYED_OPS))
def test_replay_launches_what_the_full_path_launches(gpu, name):
    op = REPLAYED_OPS[name]
    x, y, v = _cuda(32, 32), _cuda(32, 32), _cuda(32)
    _replays_like_the_full_path(gpu, lambda: op(x, y, v))


def test_transposed_operands_go_by_tiles(gpu):
    """An elementwise op (a copy, a cast, an add, an in-place op) whose tensors are contiguous
    along different axes launches the tiled kernel; other layouts, and an operand broadcast
    along the other axis, stay on the flat kernel, as do batches past the grid's 65535."""
    x, long, col, batches = _cuda(32, 48), _cuda(64 * 65536 + 1, 2), _cuda(32, 1), _cuda(65536, 2, 3)
    xt, wide, mask = _cuda(48, 32), _cuda(48, 32, dtype="float64"), _cuda(32, 48, dtype="bool")
    tiled, flat = "elementwise_tile_kernel", "elementwise_kernel"
    for op, kernel in [(lambda: x.t().contiguous(), tiled),
                       (lambda: x.reshape(4, 8, 48).transpose(1, 2).contiguous(), tiled),
                       (lambda: wide.copy_(x.t()), tiled),
                       (lambda: x.t().to(tritensor.float64), flat),  # keeps x.t()'s strides, as torch
                       (lambda: x.t() + xt, tiled),
                       (lambda: tritensor.where(mask, x, xt.t()), tiled),
                       (lambda: xt.t().mul_(x), tiled),
                       (lambda: x[:, ::2].contiguous(), flat),
                       (lambda: x.expand(2, 32, 48).contiguous(), flat),
                       (lambda: x + col, flat),
                       (lambda: x.t().mul_(2.0), flat),
                       (lambda: long.t().contiguous(), tiled),  # 65537 tile rows, on grid axis 0
                       (lambda: batches.transpose(1, 2).contiguous(), flat)]:
        launches.clear()
        op()
        assert [name for name, *_ in launches] == [kernel]


def test_replay_compiles_for_another_alignment(gpu):
    """The same layouts at an address that is not 16-byte aligned are another Triton
    specialisation: the replay compiles it rather than reusing the aligned kernel."""
    base = _cuda(1 + 32 * 32)
    aligned, shifted = base[:1024].view(32, 32), base[1:].view(32, 32)
    aligned.sum(1)
    launches.clear()
    aligned.sum(1)
    (*_, aligned_function, _), = launches
    launches.clear()
    shifted.sum(1)
    (*_, shifted_function, _), = launches
    assert shifted_function != aligned_function
    _, full = _full_path(lambda: shifted.sum(1))
    assert launches == full


def test_a_replay_plan_keeps_no_tensor_of_its_capture_alive(gpu):
    """A plan outlives the call it was captured from; the tensors of that call (the input and
    the output of a softmax here) must be freed as soon as nothing else holds them."""
    import weakref
    x = _cuda(8 * 16).view(8, 16)
    y = x.softmax(1)
    storages = [weakref.ref(x._storage), weakref.ref(y._storage)]
    del x, y
    assert [s() for s in storages] == [None, None]
    z = _cuda(8 * 16).view(8, 16)
    launches.clear()
    z.softmax(1)
    assert len(launches) == 1  # the plan replays


def test_replay_is_keyed_by_global_state(gpu):
    """fp32 matmul precision changes the kernel's constexprs: a replay must not cross it."""
    x = _cuda(32, 32)
    x @ x
    try:
        tritensor.backends.cuda.matmul.allow_tf32 = True
        launches.clear()
        x @ x
        _, full = _full_path(lambda: x @ x)
        assert launches == full
    finally:
        tritensor.backends.cuda.matmul.allow_tf32 = False


def test_tf32_operand_staging_replays(gpu, monkeypatch):
    """A TF32 product that copies its row-major B K-major first replays the copy too."""
    monkeypatch.setattr(cuda_backend, "K_MAJOR_MIN_MACS", 0)
    x, y = _cuda(32, 32), _cuda(32, 32)
    try:
        tritensor.backends.cuda.matmul.allow_tf32 = True
        _replays_like_the_full_path(gpu, lambda: x @ y)
        assert [name for name, *_ in launches] == ["elementwise_tile_kernel", "bmm_kernel"]
    finally:
        tritensor.backends.cuda.matmul.allow_tf32 = False


def test_calls_that_read_device_memory_on_the_host_are_not_replayed(gpu, monkeypatch):
    """A backend function that downloads bytes may act on their values: it runs in full."""
    from tritensor.backends import cuda_memory, cuda_replay
    x = _cuda(8)

    @cuda_replay.replayable
    def read_then_fill(out):
        value = float(cuda_memory.download(out._storage, 0, 4).view(np.float32)[0])
        cuda_backend.fill_(out, value)

    for _ in range(2):
        launches.clear()
        read_then_fill(x)
        assert len(launches) == 1
    assert list(read_then_fill.plans.values()) == [cuda_replay._NOT_REPLAYABLE]


def test_addmm_with_a_host_bias_names_the_devices():
    if DEVICE != "cuda":
        pytest.skip("needs the 'cuda' device (emulated or real)")
    x = tritensor.ones(8, 8, device="cuda")
    with pytest.raises(RuntimeError, match="same device"):
        tritensor.addmm(tritensor.ones(8), x, x)


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


def test_out_of_memory_returns_the_cache_first_then_raises(gpu):
    gpu.capacity = 1 << 20
    a = tritensor.empty(600_000, dtype=tritensor.uint8, device="cuda")
    del a  # cached: the driver still counts it as used
    b = tritensor.empty(700_000, dtype=tritensor.uint8, device="cuda")  # fits once the cache is returned
    assert gpu.count("cuMemFreeAsync") == 1 and gpu.count("cuCtxSynchronize") == 1
    with pytest.raises(tritensor.cuda.OutOfMemoryError,
                       match=r"Tried to allocate 781\.25 KiB \(800000 bytes\)"):
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


def test_non_blocking_uploads_from_pinned_memory_do_not_wait(gpu):
    """torch's input pipeline idiom: pinned batches copied with non_blocking=True overlap the
    device's work; the pinned memory stays referenced until the copy is known to be done."""
    from tritensor.backends import cuda_memory
    batch = tritensor.arange(6.0).pin_memory()
    on_device = batch.to("cuda", non_blocking=True)
    assert gpu.count("cuStreamSynchronize") == 0 and gpu.count("cuEventRecord") == 1
    assert len(cuda_memory._in_flight) == 1
    np.testing.assert_array_equal(on_device.cpu().numpy(), np.arange(6.0, dtype=np.float32))
    batch.cuda(non_blocking=True)  # the first copy has finished by now: its event is let go
    assert gpu.count("cuEventDestroy") == 1 and len(cuda_memory._in_flight) == 1
    tritensor.empty(6, device="cuda").copy_(batch, non_blocking=True)
    assert gpu.count("cuStreamSynchronize") == 1  # the download in .cpu() above, none since


def test_launches_with_pointer_tuples_replay(gpu):
    """cat hands its kernel a tuple of input pointers: those are replayed too."""
    from tritensor.backends import cuda_replay
    x, y = _cuda(4, 8), _cuda(4, 8)
    _replays_like_the_full_path(gpu, lambda: tritensor.cat([x, y, x[1:]]))
    plans = list(cuda_backend.cat.plans.values())
    assert plans and all(isinstance(p, cuda_replay._Plan) for p in plans)
    misaligned = _cuda(33)[1:].view(4, 8)  # another alignment of one member: compiled anew
    _replays_like_the_full_path(gpu, lambda: tritensor.cat([x, misaligned]))


def test_a_capture_holds_only_its_own_threads_work(gpu):
    """Ops another thread runs while one op is being captured are not part of its plan."""
    import threading
    from tritensor.backends import cuda_replay
    x, y = _cuda(16, 16), _cuda(16, 16)
    sums = []

    @cuda_replay.replayable
    def fill_while_another_thread_works(out):
        worker = threading.Thread(target=lambda: sums.append(y.sum(0)))
        worker.start()
        worker.join()
        cuda_backend.fill_(out, 1.0)

    fill_while_another_thread_works(x)
    (plan,) = fill_while_another_thread_works.plans.values()
    assert sums and [step.kernel.__name__ for step in plan.steps] == ["elementwise_kernel"]
    assert plan.temp_sizes == []


def test_pinned_memory_is_cached_until_nothing_holds_it(gpu):
    """A DataLoader with pin_memory=True pins every batch: the page-locked allocations are
    reused (by power-of-two size class) instead of pinned and unpinned each time, but never
    while a numpy view of the old tensor or an upload from it is still alive."""
    first = tritensor.ones(1000).pin_memory()
    ptr = first.data_ptr()
    del first
    second = tritensor.ones(900).pin_memory()  # 3600 bytes: the same 4 KiB class
    assert second.data_ptr() == ptr and gpu.count("cuMemHostAlloc") == 1
    view = second.numpy()
    del second
    third = tritensor.ones(1000).pin_memory()
    assert third.data_ptr() != ptr and gpu.count("cuMemHostAlloc") == 2  # the view holds the old one
    np.testing.assert_array_equal(view, np.ones(900, np.float32))
    del third, view
    assert len({tritensor.ones(1000).pin_memory().data_ptr() for _ in range(3)}) <= 2
    assert gpu.count("cuMemHostAlloc") == 2
    tritensor.cuda.empty_cache()
    assert gpu.count("cuMemFreeHost") == 2


def test_replays_can_be_turned_off(gpu, monkeypatch):
    """TRITENSOR_REPLAY=0 (read at import; set here on the module): every call runs in full."""
    from tritensor.backends import cuda_replay
    monkeypatch.setattr(cuda_replay, "ENABLED", False)
    x = _cuda(8, 8)
    for _ in range(3):
        x.sum(0)
    assert not cuda_backend.reduce.plans


# ------------------------------------------------------------------ cross entropy, kernel errors
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("rows", [16, 300])  # one program; several, whose partial sums a second kernel adds
def test_cross_entropy_replays_and_never_waits_for_the_device(gpu, reduction, rows):
    """The fused loss's forward and backward replay like any op, and neither reads device
    memory: an out-of-range target is reported through the error word instead."""
    x = _cuda(rows, 10).requires_grad_()
    t = tritensor.zeros(rows, dtype=tritensor.int64, device="cuda")
    forward = lambda: tritensor.nn.functional.cross_entropy(x, t, reduction=reduction)  # noqa: E731
    _replays_like_the_full_path(gpu, forward)
    assert [name for name, *_ in launches] == ["forward_kernel"] + ["finish_kernel"] * (
        rows > 128 and reduction != "none")
    loss = forward()
    seed = tritensor.empty(loss.shape, device="cuda")
    _replays_like_the_full_path(gpu, lambda: loss.backward(seed, retain_graph=True))
    assert [name for name, *_ in launches] == ["backward_kernel", "elementwise_kernel"]  # and x.grad += it
    assert gpu.count("cuMemcpyDtoHAsync") == 0 and gpu.count("cuStreamSynchronize") == 0


@pytest.mark.parametrize("op", ["nll_loss", "binary_cross_entropy", "gather", "index_select", "embedding",
                                "index_add", "scatter_add", "getitem", "getitem of columns", "setitem",
                                "getitem of two index tensors", "getitem backward"])
def test_value_checks_do_not_wait_for_the_device(gpu, op):
    """nll_loss's targets, binary_cross_entropy's inputs and the indexing ops' indices (one
    index tensor for ``x[idx]``) are checked by a kernel that writes the error word: no
    device-to-host copy, no sync."""
    x, t = _cuda(4, 3), tritensor.zeros(4, dtype=tritensor.int64, device="cuda")
    call = {"nll_loss": lambda: tritensor.nn.functional.nll_loss(x, t),
            "binary_cross_entropy": lambda: tritensor.nn.functional.binary_cross_entropy(x, x),
            "gather": lambda: x.gather(1, t[:, None]),
            "index_select": lambda: x.index_select(0, t),
            "embedding": lambda: tritensor.nn.functional.embedding(t, x),
            "index_add": lambda: x.index_add(0, t, _cuda(4, 3)),
            "scatter_add": lambda: x.scatter_add(1, t[:, None], _cuda(4, 1)),
            "getitem": lambda: x[t],
            "getitem of columns": lambda: x[:, t[:2]],
            "getitem of two index tensors": lambda: x[t, t],
            "setitem": lambda: x.__setitem__(t, _cuda(4, 3)),
            "getitem backward": lambda: x.detach().requires_grad_()[t].sum().backward()}[op]
    call()  # the first call compiles (and captures)
    launches.clear()
    before = len(gpu.calls)
    call()
    assert not {"cuMemcpyDtoHAsync", "cuStreamSynchronize"} & {name for name, _ in gpu.calls[before:]}
    assert {"report_kernel", "range_kernel"} & {name for name, *_ in launches}


def test_kernel_errors_are_raised_at_the_next_wait_for_the_device(gpu):
    """What a kernel writes into the error word (mapped host memory, handed to the loss kernel
    as a pointer) is raised once, by whichever call next waits for the device."""
    from tritensor.backends import cuda_errors
    x, t = _cuda(4, 3), tritensor.zeros(4, dtype=tritensor.int64, device="cuda")
    launches.clear()
    loss = tritensor.nn.functional.cross_entropy(x, t)
    word = cuda_errors.word(x.device)
    (_, _, _, _, args), = [call for call in launches if call[0] == "forward_kernel"]
    assert word.data_ptr() in args and gpu.count("cuMemHostAlloc") == 1
    view, = cuda_errors._views
    waits = [loss.item, lambda: print(loss), tritensor.cuda.synchronize,
             tritensor.cuda.current_stream().synchronize]
    for wait in waits:
        view[:] = (cuda_errors.TARGET_OUT_OF_BOUNDS, 7)  # what forward_kernel stores for target 7
        with pytest.raises(IndexError, match="Target 7 is out of bounds"):
            wait()
        assert not view.any()
        wait()  # reported once; the device stays usable
    event = tritensor.cuda.Event()
    event.record()
    view[:] = (cuda_errors.TARGET_OUT_OF_BOUNDS, -3)
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        event.synchronize()
    assert tritensor.cuda.memory_allocated() == 3 * 512  # x, t and loss: not the word (nor lse, total)


# ------------------------------------------------------------------ fused optimizer step
def test_optimizer_step_uploads_only_its_scalars(gpu):
    """A step's tables (addresses, work chunks) stay on the device while they are the same:
    a step uploads its scalars (lr, bias corrections) into the same buffer, with no
    allocation; a gradient in another block gives another buffer and one upload of it all."""
    params = [tritensor.nn.Parameter(_cuda(1000)) for _ in range(3)]
    for p in params:
        p.grad = _cuda(1000)
    opt = tritensor.optim.Adam(params, lr=1e-3)
    opt.step()  # creates the state
    buffers, calls = [], []
    for step in range(4):
        if step == 2:
            params[1].grad = _cuda(1000)  # another block: the table changes
        before = len(gpu.calls)
        launches.clear()
        opt.step()
        calls.append(gpu.calls[before:])
        (kernel, _, _, _, args), = launches
        assert kernel == "step_kernel"
        buffers.append(args[0])  # the work list's address, at the start of the buffer
    scalars = 6 * 4 + 3 * 2 * 4  # hp and pt, float32
    table = 3 * 3 * 8 + 5 * 3 * 8  # work (tensor, start, stop) and 5 address rows, int64
    assert calls[1] == calls[3] == [("cuMemcpyHtoDAsync", scalars)]
    assert [c for c in calls[2] if c[0] != "cuCtxSetCurrent"] == [("cuMemAllocAsync", 512),
                                                                   ("cuMemcpyHtoDAsync", table + scalars)]
    assert buffers[0] == buffers[1] != buffers[2] == buffers[3]


def test_an_import_error_in_the_cuda_backend_is_not_hidden(monkeypatch):
    """With triton installed, ``tritensor.backends.cuda`` is the backend module, and an
    ImportError while loading it propagates (it used to turn into the flags-only namespace
    kept for installs without triton, hiding the bug)."""
    import importlib
    import types

    from tritensor import backends
    assert isinstance(backends.__getattr__("cuda"), types.ModuleType)
    real = importlib.import_module

    def broken(name, *args):
        if name == "tritensor.backends.cuda":
            raise ImportError("cannot import name '_pack'")
        return real(name, *args)
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ImportError, match="_pack"):
        backends.__getattr__("cuda")


def test_a_training_step_never_waits_for_the_device(gpu):
    """A training step (embedding, Linear, LayerNorm, BatchNorm, GELU, dropout; cross entropy
    with label smoothing plus an MSE term; clip_grad_norm_, AdamW, OneCycleLR) copies nothing
    back to the host and never waits: its only driver calls are the optimizer's uploads of
    its tables (and allocations while the caching allocator warms up)."""
    nn = tritensor.nn
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.GELU(), nn.Dropout(0.1),
                          nn.Linear(16, 16), nn.BatchNorm1d(16), nn.Linear(16, 4)).to("cuda")
    embedding = nn.Embedding(10, 8).to("cuda")
    opt = tritensor.optim.AdamW([*model.parameters(), *embedding.parameters()], lr=1e-3)
    schedule = tritensor.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    ids, y = (tritensor.zeros(6, dtype=tritensor.int64, device="cuda") for _ in range(2))

    def step():
        opt.zero_grad()
        out = model(embedding(ids))
        loss = nn.functional.cross_entropy(out, y, label_smoothing=0.1)
        loss = loss + 0.1 * nn.functional.mse_loss(out, out)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
    for _ in range(3):
        step()
    before = len(gpu.calls)
    step()
    allowed = {"cuMemcpyHtoDAsync", "cuMemAllocAsync", "cuCtxSetCurrent"}
    assert {name for name, _ in gpu.calls[before:]} <= allowed


def test_clip_grad_norm_is_three_launches(gpu):
    """The norm's two launches (the total also writes the clip coefficient) and the scaling:
    no elementwise launches for the coefficient, nothing read back."""
    params = [tritensor.nn.Parameter(_cuda(n)) for n in (3, 70, 1000)]
    for p in params:
        p.grad = _cuda(p.numel())
    launches.clear()
    tritensor.nn.utils.clip_grad_norm_(params, 1.0)
    assert [name for name, *_ in launches] == ["partial_norm_kernel", "total_kernel", "scale_kernel"]
