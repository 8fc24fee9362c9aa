"""torch.jit (no TorchScript: script/trace return the callable), the profiler, DistributedSampler,
utils.dlpack, nn.attention.sdpa_kernel and nn.CrossMapLRN2d against torch."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, copied_state, dev, gradcheck

rng = np.random.default_rng(0)
# torch 2.13 deprecates TorchScript (tritensor warns alike); the calls here are deliberate
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")


_REFERENCE_NET = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())


def _tiny_net(lib):
    """The same small network in both libraries (tritensor's holds torch's weights)."""
    if lib is torch:
        return _REFERENCE_NET
    net = tritensor.nn.Sequential(tritensor.nn.Linear(3, 2), tritensor.nn.ReLU()).to(DEVICE)
    net.load_state_dict(copied_state(_REFERENCE_NET))
    return net


# ---------------------------------------------------------------------------- torch.jit
def test_script_and_trace_return_the_callable_with_identical_values():
    x = rng.standard_normal((4, 3)).astype(np.float32)

    def run(lib, t):
        net = _tiny_net(lib)
        scripted = lib.jit.script(net)
        traced = lib.jit.trace(net, (t,))
        traced_fn = lib.jit.trace(lambda a: a * 2 + 1, t)
        module = lib.jit.trace_module(net, {"forward": (t,)})
        return scripted(t), traced(t), traced_fn(t), module(t)
    check(run, Arg(x))
    net = tritensor.nn.Linear(3, 2)
    assert tritensor.jit.script(net) is net and tritensor.jit.trace(net, tritensor.ones(1, 3)) is net


def test_trace_keeps_data_dependent_control_flow():
    """torch would bake in the branch taken on the example; tritensor keeps the Python function."""
    def sign_dependent(t):
        return t * 2 if bool(t.sum() > 0) else t - 1
    traced = tritensor.jit.trace(sign_dependent, tritensor.ones(2))
    assert traced(-tritensor.ones(2)).tolist() == [-2.0, -2.0]


def test_trace_runs_the_function_once_and_checks_arguments_like_torch():
    calls = []

    def counted(t):
        calls.append(1)
        return t + 1
    tritensor.jit.trace(counted, (tritensor.ones(2),))
    assert calls == [1]
    check(lambda lib: lib.jit.trace(lib.nn.Linear(2, 2), 3))          # not iterable: TypeError
    check(lambda lib: lib.jit.trace(lib.nn.Linear(2, 2), ()))         # missing input: TypeError
    check(lambda lib: lib.jit.trace(5, (lib.ones(2),)))               # not callable: RuntimeError
    assert tritensor.jit.trace(lambda a=1: a, example_kwarg_inputs={"a": tritensor.ones(1)})(a=2) == 2


def test_decorators_flags_and_annotations():
    jit = tritensor.jit

    @jit.ignore
    def ignored(x):
        return x

    @jit.unused
    def unused(x):
        return x
    assert ignored(1) == 1 and unused(2) == 2 and jit.ignore(drop=True)(ignored) is ignored
    assert jit.export(ignored) is ignored
    assert jit.is_scripting() is torch.jit.is_scripting() is False
    assert jit.is_tracing() is torch.jit.is_tracing() is False
    assert jit.annotate(list, [1]) == torch.jit.annotate(list, [1]) == [1]
    assert jit.Attribute(3, int) == 3
    assert jit.Final is torch.jit.Final

    @jit.interface
    class Iface:
        def forward(self, x):
            pass
    assert isinstance(Iface(), Iface)
    previous = jit.set_fusion_strategy([("STATIC", 1)])
    assert previous == [("STATIC", 2), ("DYNAMIC", 10)]
    jit.set_fusion_strategy(previous)


def test_fork_and_wait_run_eagerly():
    for lib in (torch, tritensor):
        future = lib.jit.fork(lambda a, b: a + b, lib.ones(2), b=lib.ones(2))
        assert future.wait().tolist() == [2.0, 2.0] and lib.jit.wait(future).tolist() == [2.0, 2.0]
        assert lib.wait(lib.fork(lambda: 7)) == 7
    failing = tritensor.jit.fork(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.wait()


def test_freeze_and_optimize_for_inference_mirror_torch_errors():
    check(lambda lib: lib.jit.freeze(lib.jit.script(lib.nn.Linear(2, 2))))  # training mode: RuntimeError
    check(lambda lib: lib.jit.optimize_for_inference(lambda x: x))           # not a module: RuntimeError
    net = tritensor.nn.Linear(2, 2)
    assert tritensor.jit.freeze(net.eval()) is net
    assert tritensor.jit.optimize_for_inference(net.train()) is net and not net.training


def test_save_load_point_to_tritensor_save(tmp_path):
    with pytest.raises(NotImplementedError, match="tritensor.save"):
        tritensor.jit.save(tritensor.nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(NotImplementedError, match="tritensor.load"):
        tritensor.jit.load(tmp_path / "m.pt")
    assert not isinstance(tritensor.nn.Linear(2, 2), tritensor.jit.ScriptModule)


# ---------------------------------------------------------------------------- profiler
def _workload():
    with tritensor.profiler.record_function("block"):  # encloses every op: always the longest row
        x = tritensor.ones(4, 4, device=DEVICE)
        y = x @ x + 1
        return tritensor.relu(y).sum()


def test_profile_records_ops_with_torch_names_and_nesting():
    from tritensor.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if DEVICE == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        _workload()
    names = [e.name for e in prof.events()]
    for expected in ("block", "aten::matmul", "aten::add", "aten::relu", "aten::sum"):
        assert expected in names, names
    assert names.count("aten::matmul") == 1  # the @ operator and ops.matmul are one event
    block = next(e for e in prof.events() if e.name == "block")
    assert block.cpu_time_total > 0 and block.self_cpu_time_total < block.cpu_time_total
    matmul = next(e for e in prof.events() if e.name == "aten::matmul")
    assert matmul.input_shapes == [[4, 4], [4, 4]] and matmul.cpu_parent is block
    if DEVICE == "cuda":
        assert matmul.device_time_total > 0
    averages = {a.key: a for a in prof.key_averages()}
    assert averages["aten::matmul"].count == 1 and averages["block"].cpu_time_total > 0


def test_table_layout_like_torch():
    from tritensor.profiler import profile
    _workload()  # compiled and warm: the range, not a first call's compile, is the longest row
    with profile(record_shapes=True) as prof:
        _workload()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = table.splitlines()
    header = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    assert all(title in lines[1] for title in header) and lines[1].rstrip().endswith("# of Calls")
    assert ("Self CUDA" in lines[1]) == (DEVICE == "cuda")
    footer = ["Self CPU time total: "] + (["Self CUDA time total: "] if DEVICE == "cuda" else [])
    assert lines[0] == lines[2] == lines[-1 - len(footer)] and set(lines[0]) == {"-", " "}
    assert len(lines) == 3 + 3 + 1 + len(footer) and lines[3].split()[0] == "block"  # sorted: the range first
    assert [line[:len(start)] for line, start in zip(lines[-len(footer):], footer)] == footer
    shaped = prof.key_averages(group_by_input_shape=True).table(row_limit=2)
    assert "Input Shapes" in shaped.splitlines()[1]
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="no_such_column")


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    from tritensor.profiler import profile, tensorboard_trace_handler
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w")) as prof:
        _workload()
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    trace = json.loads((tmp_path / "trace.json").read_text())
    ops = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {"block", "aten::matmul"} <= {e["name"] for e in ops}
    assert all(e["dur"] >= 0 and "ts" in e for e in ops)
    written = list((tmp_path / "tb").iterdir())
    assert len(written) == 1 and written[0].name.startswith("w.")
    assert written[0].name.endswith(".pt.trace.json")
    json.loads(written[0].read_text())


def test_schedule_matches_torch():
    cases = [dict(wait=1, warmup=2, active=3, repeat=2, skip_first=2), dict(wait=3, warmup=1, active=1,
             skip_first_wait=1), dict(wait=0, warmup=1, active=2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in cases:
            ours, theirs = tritensor.profiler.schedule(**kwargs), torch.profiler.schedule(**kwargs)
            assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)]


def test_step_cycles_call_on_trace_ready_like_torch():
    """The same schedule in both libraries: trace_ready at the same steps, with one add per active step."""
    def run(lib):
        ready = []

        def on_ready(prof):
            ready.append((prof.step_num, sum(e.name == "aten::add" for e in prof.events())))
        x = lib.ones(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(schedule=lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2),
                                      on_trace_ready=on_ready) as prof:
                for _ in range(9):
                    lib.add(x, 1)
                    prof.step()
        return ready
    assert run(tritensor) == run(torch) == [(4, 2), (8, 2)]


def test_backward_nodes_are_events_like_torch():
    """Each backward node is an ``evaluate_function`` event holding one named as the node, as
    in torch (the ops inside are each library's own)."""
    def backward_events(lib):
        x = lib.ones(3, device=dev(lib), requires_grad=True)
        with lib.profiler.profile() as prof:
            (x * 2).exp().sum().backward()
        return [(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()
                if e.name.startswith("autograd::") or e.name.endswith(("Backward0", "AccumulateGrad"))]
    assert backward_events(tritensor) == backward_events(torch)


def test_no_profiler_leaves_the_op_path_untouched():
    from tritensor.autograd import engine
    before = (tritensor.Tensor.__add__, tritensor.Tensor.add, tritensor.add, tritensor.nn.functional.linear)
    with tritensor.profiler.profile():
        assert tritensor.Tensor.__add__ is not before[0] and engine.observe is not None
    after = (tritensor.Tensor.__add__, tritensor.Tensor.add, tritensor.add, tritensor.nn.functional.linear)
    assert after == before and engine.observe is None
    with tritensor.profiler.record_function("idle"):  # no profiler: nothing recorded, no error
        pass


def test_record_function_as_decorator_and_legacy_autograd_profiler():
    @tritensor.profiler.record_function("decorated")
    def work(x):
        return x * 3
    x = tritensor.ones(2, device=DEVICE)
    with tritensor.autograd.profiler.profile(record_shapes=True) as prof:
        work(x)
    names = [e.name for e in prof.function_events]
    assert names[:2] == ["decorated", "aten::mul"]
    assert "aten::mul" in prof.key_averages().table() and prof.self_cpu_time_total > 0
    with tritensor.autograd.profiler.profile(enabled=False) as off:
        work(tritensor.ones(2))
    assert len(off.events()) == 0


# ---------------------------------------------------------------------------- DistributedSampler
@pytest.mark.parametrize("size,replicas,drop_last",
                         [(10, 3, False), (10, 3, True), (4, 8, False), (12, 4, True)])
def test_distributed_sampler_partition_matches_torch(size, replicas, drop_last):
    for rank in range(replicas):
        ours = tritensor.utils.data.DistributedSampler(range(size), replicas, rank, shuffle=False,
                                                       drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(size), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert ours.total_size == theirs.total_size


def test_distributed_sampler_shuffle_is_a_seeded_partition():
    """The shuffled order is torch's (randperm of a generator seeded seed + epoch, on the CPU
    stream both share); replicas partition the data."""
    samplers = [tritensor.utils.data.DistributedSampler(range(10), 2, rank, seed=3) for rank in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(10))
    assert first == [list(torch.utils.data.DistributedSampler(range(10), 2, rank, seed=3)) for rank in range(2)]
    assert [list(s) for s in samplers] == first  # deterministic for a seed and epoch
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != first


def test_distributed_sampler_errors_like_torch():
    check(lambda lib: lib.utils.data.DistributedSampler(range(4)))  # no process group: ValueError
    check(lambda lib: lib.utils.data.DistributedSampler(range(4), num_replicas=2, rank=2))
    check(lambda lib: lib.utils.data.DistributedSampler(range(4), num_replicas=2, rank=-1))


# ---------------------------------------------------------------------------- dlpack
@pytest.mark.skipif(DEVICE != "cpu", reason="DLPack export covers CPU tensors only (BufferError on 'cuda')")
def test_dlpack_round_trip_with_torch():
    ours = tritensor.arange(6.0).reshape(2, 3)
    shared = torch.utils.dlpack.from_dlpack(tritensor.utils.dlpack.to_dlpack(ours))
    assert shared.tolist() == ours.tolist()
    shared[0, 0] = 7.0  # memory is shared
    assert ours[0, 0].item() == 7.0
    back = tritensor.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(3)))
    assert back.tolist() == [0, 1, 2] and back.dtype == tritensor.int64
    assert tritensor.from_dlpack(tritensor.to_dlpack(ours)).tolist() == ours.tolist()
    check(lambda lib: lib.utils.dlpack.to_dlpack(3))  # TypeError
    assert tritensor.utils.dlpack.DLDeviceType.kDLCPU == int(torch.utils.dlpack.DLDeviceType.kDLCPU)


# ---------------------------------------------------------------------------- nn.attention
SDP = ["MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE"]


@pytest.mark.parametrize("names", [[n] for n in SDP] + [["FLASH_ATTENTION", "MATH"], []])
def test_sdpa_kernel_accepts_and_refuses_backends_like_torch_cpu(names):
    q = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)

    def run(lib, query):
        backends = [getattr(lib.nn.attention.SDPBackend, n) for n in names]
        with lib.nn.attention.sdpa_kernel(backends, set_priority=True):
            return lib.nn.functional.scaled_dot_product_attention(query, query, query)
    check(run, Arg(q))

    def attend_without_weights(lib, x):  # torch's MultiheadAttention goes through SDPA here
        lib.manual_seed(0)
        module = lib.nn.MultiheadAttention(4, 2).to(x.device)
        backends = [getattr(lib.nn.attention.SDPBackend, n) for n in names]
        with lib.nn.attention.sdpa_kernel(backends):
            return module(x, x, x, need_weights=False)[0].shape
    check(attend_without_weights, Arg(q[0]))
    assert tritensor.nn.attention.enabled_backends() == frozenset(
        b for b in tritensor.nn.attention.SDPBackend if b.name != "ERROR")


def test_sdpa_kernel_argument_errors():
    check(lambda lib: lib.nn.attention.sdpa_kernel(3).__enter__())  # AssertionError
    theirs = {name: int(b) for name, b in torch.nn.attention.SDPBackend.__members__.items()}
    assert {name: int(b) for name, b in tritensor.nn.attention.SDPBackend.__members__.items()} == theirs


# ---------------------------------------------------------------------------- CrossMapLRN2d
@pytest.mark.parametrize("size,channels", [(1, 3), (2, 4), (3, 5), (4, 2), (5, 6)])
def test_cross_map_lrn2d_matches_torch(size, channels):
    """Values only: torch's legacy hand-written backward is not the gradient of its own forward
    (torch.autograd.gradcheck fails on it, and it raises for size=1); tritensor's gradient is
    the true one, checked by gradcheck below."""
    x = rng.standard_normal((2, channels, 3, 2))
    check(lambda lib, t: lib.nn.CrossMapLRN2d(size, 1e-2, 0.75, 2)(t), Arg(x, "float64"))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cross_map_lrn2d_dtypes_empty_and_errors(dtype):
    x = rng.standard_normal((2, 3, 2, 2))
    check(lambda lib, t: lib.nn.CrossMapLRN2d(3)(t), Arg(x, dtype))
    check(lambda lib, t: lib.nn.CrossMapLRN2d(3)(t), Arg(np.zeros((0, 3, 2, 2)), dtype))
    check(lambda lib, t: lib.nn.CrossMapLRN2d(3)(t), Arg(x[0], dtype))  # 3-D: ValueError
    check(lambda lib, t: lib.nn.CrossMapLRN2d(3)(t.transpose(2, 3)), Arg(x, dtype))  # non-contiguous
    assert repr(tritensor.nn.CrossMapLRN2d(3, 1e-3, 0.5, 2)) == repr(torch.nn.CrossMapLRN2d(3, 1e-3, 0.5, 2))
    assert list(tritensor.nn.CrossMapLRN2d(3).state_dict()) == []


@pytest.mark.parametrize("size", [1, 3, 4])
def test_cross_map_lrn2d_gradcheck(size):
    gradcheck(lambda lib, t: lib.nn.CrossMapLRN2d(size, 0.5, 0.75, 1)(t), rng.standard_normal((1, 4, 2, 1)))
