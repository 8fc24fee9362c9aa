"""The GPU check: tritensor's 'cuda' backend against torch on one real GPU, in one script.

    PYTHONPATH=src python3 bench/gpu_check.py --out /tmp/gpu_check.md          # on the GPU machine
    python bench/gpu_check.py --smoke --out /tmp/smoke.md                      # anywhere (interpreter)

Sections, each with its own time budget inside a total budget (default 285 s), writing the
markdown report after every section so a cut-off run still leaves its partial results:

1. environment: GPU, versions;
2. op tests: the harness's test files run with pytest on device 'cuda' against torch on
   'cuda' (``TRITENSOR_TEST_DEVICE=cuda TRITENSOR_ORACLE_DEVICE=cuda``), one subprocess per
   file or shard of a big file;
3. a tensor of more than 2^31 elements (uint8 add and sum; a few values checked);
4. the benchmark table: tritensor vs torch in the same run, both timed with CUDA events
   (``tritensor.cuda.Event`` / ``torch.cuda.Event``), medians of several repetitions, with
   GB/s (least bytes moved) or TFLOP/s and torch's time / tritensor's time (above 1:
   tritensor is faster).

``--smoke`` runs every section with tiny sizes under ``TRITON_INTERPRET=1`` (the emulated
device, torch's CPU as the oracle, wall-clock timers), so tests/test_gpu_check.py keeps
this script working without a GPU.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: (test file, shards) for section 2: every file of the emulated CI run (.ci/run) that a GPU runs
#: (not test_cuda_backend, the emulated device's own, nor test_gpu_host_path, the driverless GPU's),
#: most important first. The first H200 run (2026-11-27) needed over 100 s for reductions,
#: elementwise and optim, mostly compiling, so the big files run in shards
#: (TRITENSOR_TEST_SHARD, tests/conftest.py): one process each, ``--jobs`` at once, their Triton
#: compilations spread over the machine's cores. About 200 tests per shard.
TEST_FILES = [("tests/test_matmul_precision.py", 1), ("tests/test_linalg.py", 1),
              ("tests/test_reduction.py", 4), ("tests/test_elementwise.py", 4),
              ("tests/test_optim_cuda.py", 1), ("tests/test_fused_cuda.py", 1), ("tests/test_joining.py", 1),
              ("tests/test_losses.py", 1), ("tests/test_conv.py", 2), ("tests/test_attention.py", 1),
              ("tests/test_rnn.py", 1), ("tests/test_special.py", 2), ("tests/test_nn_extra.py", 2),
              ("tests/test_optim.py", 4), ("tests/test_indexing.py", 2), ("tests/test_creation.py", 3),
              ("tests/test_nn.py", 1), ("tests/test_autograd.py", 1), ("tests/test_autocast.py", 1),
              ("tests/test_sort.py", 2), ("tests/test_scans.py", 1), ("tests/test_einsum.py", 2),
              ("tests/test_tensor_extra.py", 2), ("tests/test_elementwise_extra.py", 1),
              ("tests/test_random_cuda.py", 1), ("tests/test_views.py", 1), ("tests/test_interop.py", 1),
              ("tests/test_promotion.py", 1), ("tests/test_data.py", 1), ("tests/test_serialization.py", 1),
              ("tests/test_grad_scaler.py", 1), ("tests/test_pinned.py", 1), ("tests/test_overlap.py", 1),
              ("tests/test_repeat.py", 1), ("tests/test_utilities.py", 1), ("tests/test_ops_small.py", 1),
              ("tests/test_lbfgs.py", 1), ("tests/test_distributions.py", 1), ("tests/test_edge_cases.py", 1),
              ("tests/test_nn_more.py", 1), ("tests/test_conv_transpose.py", 1),
              ("tests/test_interpolate.py", 1), ("tests/test_pool3d.py", 1),
              ("tests/test_decompositions.py", 2), ("tests/test_distributions_more.py", 1),
              ("tests/test_func_transforms.py", 1), ("tests/test_view_copies.py", 1),
              ("tests/test_deterministic.py", 1), ("tests/test_nn_layers.py", 1),
              ("tests/test_distributions_transforms.py", 1), ("tests/test_special_more.py", 1),
              ("tests/test_spectral.py", 2), ("tests/test_tensor_gaps.py", 1),
              ("tests/test_optim_swa.py", 1), ("tests/test_nn_parametrize.py", 1),
              ("tests/test_distributions_wishart.py", 1), ("tests/test_jit_profiler.py", 1),
              ("tests/test_benchmark_utils.py", 1), ("tests/test_optim_adafactor_muon.py", 1),
              ("tests/test_linalg_legacy.py", 1), ("tests/test_namespace_gaps.py", 1),
              ("tests/test_conformance_fuzz.py", 1)]
SMOKE_TESTS = [("tests/test_matmul_precision.py::test_defaults_match_torch "
                "tests/test_matmul_precision.py::test_shape_classes_and_split_k_choice", 1)]


class SectionTimeout(Exception):
    pass


@dataclass
class Report:
    """Everything the run found, rendered as markdown after each section."""

    out: str
    lines: list = field(default_factory=list)

    def add(self, *lines):
        self.lines.extend(lines)
        self.write()

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def write(self):
        if self.out:
            with open(self.out, "w") as f:
                f.write(self.text())


class Budget:
    """The total deadline, and per-step alarms so that one stuck step cannot eat the run."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def run(self, seconds, fn, *args):
        """``fn(*args)`` with at most ``seconds`` (and never past the deadline): SectionTimeout."""
        limit = min(seconds, self.left())
        if limit <= 1:
            raise SectionTimeout("no time left in the budget")

        def alarm(signum, frame):
            raise SectionTimeout(f"stopped after {limit:.0f} s")
        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------ 1. environment
def environment(report, smoke):
    import torch
    import triton
    import tritensor
    device = "emulated (TRITON_INTERPRET=1)" if smoke else torch.cuda.get_device_name()
    report.add(f"# tritensor GPU check ({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})", "",
               f"- device: {device}; tritensor sees: {tritensor.cuda.get_device_name()}",
               f"- python {platform.python_version()}, triton {triton.__version__}, "
               f"torch {torch.__version__}, "
               f"numpy {np.__version__}", "")


# ------------------------------------------------------------------ 2. op tests
def op_tests(report, budget, smoke, seconds, maxfail=1, jobs=14, logs=None, oracle="cuda"):
    """Each target (or shard of one) in its own pytest process, ``jobs`` at a time (Triton
    compiles on the CPU, so files compile in parallel); whatever has not finished by the section's end is
    stopped and reported with the progress it made. ``oracle``: the device torch computes the
    expected results on ('cpu': the comparison CI makes with the interpreter, so a failure is a
    difference between the compiled and the interpreted kernels)."""
    oracle = "cpu" if smoke else oracle
    env = dict(os.environ, TRITENSOR_TEST_DEVICE="cuda", PYTHONPATH=os.path.join(ROOT, "src"),
               TRITENSOR_ORACLE_DEVICE=oracle)
    report.add(f"## Op tests on 'cuda' (oracle: torch on {oracle})", "",
               "| tests | result | seconds |", "|---|---|---|")
    section_end = time.monotonic() + min(seconds, budget.left())
    pending, running = [], []
    for target, shards in SMOKE_TESTS if smoke else TEST_FILES:
        pending += [(target, dict(env, TRITENSOR_TEST_SHARD=f"{k}/{shards}") if shards > 1 else env)
                    for k in range(shards)]
    while pending or running:
        while pending and len(running) < jobs:
            running.append(_start_pytest(*pending.pop(0), maxfail))
        time.sleep(0.2)
        late = time.monotonic() > section_end or budget.left() < 2
        for job in list(running):
            if job["proc"].poll() is None and not late:
                continue
            running.remove(job)
            timed_out = job["proc"].poll() is None
            report.add(_finish_pytest(job, timed_out, logs))
            if not timed_out and job["proc"].returncode != 0 and "TRITENSOR_REPLAY" not in job["env"]:
                # once more without launch replays (backends/cuda_replay.py): says whether they are the cause
                pending.append((job["target"], dict(job["env"], TRITENSOR_REPLAY="0")))
        if late:
            for target, _ in pending:
                report.add(f"| {target} | skipped (time budget) | - |")
            pending = []
    report.add("")


def _start_pytest(target, env, maxfail):
    import tempfile
    log = tempfile.TemporaryFile(mode="w+")
    cmd = [sys.executable, "-m", "pytest", f"--maxfail={maxfail}", "-q", "-p", "no:randomly", "-p",
           "no:cacheprovider", *target.split()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    shard = env.get("TRITENSOR_TEST_SHARD")
    label = target + (f" [shard {shard}]" if shard else "") + \
        (" (replays off)" if env.get("TRITENSOR_REPLAY") == "0" else "")
    return {"target": target, "label": label, "env": env, "proc": proc, "log": log, "start": time.monotonic()}


def _finish_pytest(job, timed_out, logs=None) -> str:
    """The report row of a finished (or stopped) test process; a failing one's whole output is
    kept under ``logs`` (a folder) when given."""
    proc, log = job["proc"], job["log"]
    if timed_out:
        proc.kill()
    proc.wait()
    log.seek(0)
    text = log.read()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    log.close()
    if logs and proc.returncode:
        os.makedirs(logs, exist_ok=True)
        name = "".join(c if c.isalnum() else "_" for c in job["label"])[:120]
        with open(os.path.join(logs, name + ".log"), "w") as f:
            f.write(text)
    if timed_out:
        dots = sum(ln.count(".") for ln in lines if set(ln.split("[")[0].strip()) <= set(".sxF"))
        result = f"**stopped (time budget)** after about {dots} tests"
    else:
        summary = lines[-1] if lines else "(no output)"
        failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
        result = summary if proc.returncode == 0 else f"**{summary}** {failed[0] if failed else ''}"
    return f"| {job['label']} | {_cell(result)} | {time.monotonic() - job['start']:.0f} |"


def _cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")[:300]


# ------------------------------------------------------------------ 3. > 2^31 elements
def huge_tensor(report, budget, smoke):
    import tritensor
    from tritensor.backends import cuda as cuda_backend
    n = (1 << 31) + 17 if not smoke else 1000
    saved = cuda_backend._I32
    if smoke:  # the emulated device cannot hold 2^31 elements quickly: force the int64 path instead
        cuda_backend._I32 = 64
    try:
        start = time.monotonic()
        a = tritensor.ones(n, dtype=tritensor.uint8, device="cuda")
        b = a + a
        picks = [0, n // 2, (1 << 31) - 1 if not smoke else 63, n - 1]
        got = [int(b[i].item()) for i in picks]
        total = int(b.sum().item())
        ok = got == [2] * len(picks) and total == 2 * n
        report.add("## More than 2^31 elements", "",
                   f"uint8 add of {n} elements, values at {picks}: {got}; sum {total} (expected {2 * n}): "
                   f"{'**ok**' if ok else '**WRONG**'} ({time.monotonic() - start:.1f} s)", "")
        del a, b
    finally:
        cuda_backend._I32 = saved
        gc.collect()
        tritensor.cuda.empty_cache()  # 4 GiB of freed blocks: back to the device


# ------------------------------------------------------------------ 4. benchmarks
@dataclass
class Case:
    name: str
    setup: Callable              # setup(lib, device) -> a zero-argument callable to time
    bytes: int = 0               # least bytes moved (for GB/s)
    flops: int = 0               # floating-point operations (for TFLOP/s)
    torch_name: str = ""         # when torch runs something else (e.g. foreach), say what
    reps: int = 5                # timed loops; host-bound rows vary more from loop to loop


class _WallEvent:
    """``Event`` stand-in for the CPU oracle in --smoke (wall clock, milliseconds)."""

    def __init__(self, enable_timing=True):
        self.t = None

    def record(self, stream=None):
        self.t = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, other):
        return (other.t - self.t) * 1e3


def _timer(lib, device):
    if device == "cpu":
        return _WallEvent, lambda: None
    return lib.cuda.Event, lib.cuda.synchronize


def time_ms(lib, device, fn, target_ms=25.0, reps=5) -> float:
    """Median milliseconds per call, each repetition a loop of calls between two events."""
    Event, sync = _timer(lib, device)
    fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    once = max((time.perf_counter() - start) * 1e3, 1e-3)
    iters = max(1, min(2000, int(target_ms / once)))
    times = []
    for _ in range(reps):
        s, e = Event(enable_timing=True), Event(enable_timing=True)
        s.record()
        for _ in range(iters):
            fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / iters)
    return statistics.median(times)


_host_data = {}


def _randn(lib, device, *shape, dtype=None):
    """Uniform [-1, 1) data, the same numpy array for both libraries (cached per case)."""
    key = ("f", shape)
    if key not in _host_data:
        _host_data[key] = np.random.default_rng(len(_host_data)).random(shape, dtype=np.float32) * 2 - 1
    t = lib.from_numpy(_host_data[key]).to(device=device, dtype=dtype or lib.float32)
    return t.clone() if device == "cpu" else t  # a GPU copy is already private


def _randint(lib, device, high, n):
    key = ("i", high, n)
    if key not in _host_data:
        _host_data[key] = np.random.default_rng(0).integers(0, high, n)
    return lib.from_numpy(_host_data[key]).to(device)


def _mm_case(n, dtype, mode, k_major_b=False):
    """mm of two row-major n x n matrices; ``k_major_b``: B = (a row-major matrix).t(), the
    layout of nn.Linear's weight, which TF32 products read without staging a copy."""
    def setup(lib, device):
        _set_precision(lib, mode)
        d = getattr(lib, dtype)
        a, b = _randn(lib, device, n, n, dtype=d), _randn(lib, device, n, n, dtype=d)
        b = b.t() if k_major_b else b
        return lambda: lib.mm(a, b)
    return setup


def _set_precision(lib, mode):
    """'ieee' / 'tf32' in both libraries; 'tf32x3' is tritensor's (torch runs its 'highest')."""
    if lib.__name__ == "tritensor":
        lib.backends.cuda.matmul.fp32_precision = mode
    else:
        lib.backends.cuda.matmul.allow_tf32 = mode == "tf32"


def _elementwise(expr, *shapes, transpose=False):
    def setup(lib, device):
        xs = [_randn(lib, device, *s) for s in shapes]
        if transpose:
            xs[0] = xs[0].t()
        return lambda: expr(lib, *xs)
    return setup


def _cross_entropy(n, c):
    def setup(lib, device):
        x = _randn(lib, device, n, c).requires_grad_()
        t = _randint(lib, device, c, n)

        def step():
            x.grad = None
            lib.nn.functional.cross_entropy(x, t).backward()
        return step
    return setup


def _clip(count, size):
    def setup(lib, device):
        ps = [lib.nn.Parameter(lib.zeros(size, device=device)) for _ in range(count)]
        for p in ps:
            p.grad = _randn(lib, device, size)
        return lambda: lib.nn.utils.clip_grad_norm_(ps, 1.0)
    return setup


def _optimizer(name, count, size, torch_impl, **kwargs):
    def setup(lib, device):
        ps = [_randn(lib, device, size).requires_grad_() for _ in range(count)]
        for p in ps:
            p.grad = _randn(lib, device, size)
        impl = {torch_impl: True} if lib.__name__ == "torch" and device != "cpu" else {}
        opt = getattr(lib.optim, name)(ps, lr=1e-3, **kwargs, **impl)
        opt.step()  # allocates the state
        return opt.step
    return setup


def _mlp(batch, sizes):
    def setup(lib, device):
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(lib.nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(lib.nn.ReLU())
        model = lib.nn.Sequential(*layers).to(device)
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        x = _randn(lib, device, batch, sizes[0])
        y = _randint(lib, device, sizes[-1], batch)

        def step():
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    return setup


def _lstm(steps, batch, features, hidden):
    def setup(lib, device):
        model = lib.nn.LSTM(features, hidden).to(device)
        x = _randn(lib, device, steps, batch, features).requires_grad_()

        def step():
            x.grad = None
            model.zero_grad()
            model(x)[0].square().sum().backward()
        return step
    return setup


def cases(smoke):
    """The benchmark table's rows; --smoke shrinks every size (the names keep the GPU sizes)
    and keeps one row of each kind."""
    n28, side, cat_n, opt_n = (1 << 12, 64, 1 << 9, 1 << 10) if smoke else (1 << 28, 8192, 1 << 25, 1 << 20)
    row = 1 << 14 if not smoke else 64
    f4 = 4
    out = [
        Case("add fp32 2^28", _elementwise(lambda lib, a, b: a + b, (n28,), (n28,)), bytes=3 * f4 * n28),
        Case("add, broadcast row (2^14 x 2^14 + 2^14)",
             _elementwise(lambda lib, a, b: a + b, (n28 // row, row), (row,)), bytes=f4 * (2 * n28 + row)),
        Case("add, transposed operand (x.t() + y)",
             _elementwise(lambda lib, a, b: a + b, (row, n28 // row), (n28 // row, row), transpose=True),
             bytes=3 * f4 * n28),
        Case("transposing copy (x.t().contiguous())",
             _elementwise(lambda lib, a: a.contiguous(), (row, n28 // row), transpose=True),
             bytes=2 * f4 * n28),
        Case("sum fp32 2^28", _elementwise(lambda lib, a: a.sum(), (n28,)), bytes=f4 * n28),
        Case(f"sum dim=0 {side}x{side}", _elementwise(lambda lib, a: a.sum(0), (side, side)),
             bytes=f4 * side * side),
        Case(f"sum dim=1 {side}x{side}", _elementwise(lambda lib, a: a.sum(1), (side, side)),
             bytes=f4 * side * side),
        Case(f"softmax dim=1 {side}x{side}", _elementwise(lambda lib, a: lib.softmax(a, 1), (side, side)),
             bytes=2 * f4 * side * side),
        Case("cat 8 x 2^25", _elementwise(lambda lib, *xs: lib.cat(xs), *[(cat_n,)] * 8),
             bytes=2 * f4 * 8 * cat_n),
    ]
    modes = (("float32", "ieee", "fp32 highest"), ("float32", "tf32", "fp32 tf32"),
             ("float32", "tf32x3", "fp32 3xTF32"), ("float16", "ieee", "fp16"), ("bfloat16", "ieee", "bf16"))
    for n in ((64,) if smoke else (1024, 4096, 8192)):
        for dtype, mode, label in (modes[::4] if smoke else modes):
            out.append(Case(f"mm {label} {n}", _mm_case(n, dtype, mode), flops=2 * n ** 3,
                            torch_name="torch: fp32 highest" if mode == "tf32x3" else ""))
    if not smoke:  # the TF32 kernel without the K-major copy of B (backends/cuda._k_major)
        out.append(Case("mm fp32 tf32 4096, B = w.t() (K-major, no copy)",
                        _mm_case(4096, "float32", "tf32", True), flops=2 * 4096 ** 3))
    out.append(Case("add, 1 element (per-op time)", _elementwise(lambda lib, a, b: a + b, (1,), (1,))))
    ce = (64, 10) if smoke else (4096, 1000)
    out += [
        Case(f"cross_entropy fwd+bwd {ce[0]}x{ce[1]}", _cross_entropy(*ce), bytes=3 * f4 * ce[0] * ce[1],
             reps=15),
        Case("clip_grad_norm_ 64 x 2^16", _clip(64 if not smoke else 4, 1 << 16 if not smoke else 64),
             bytes=3 * f4 * 64 * (1 << 16)),
    ]
    for name, kwargs, floor in (("Adam", {}, 7), ("AdamW", {"weight_decay": 1e-2}, 7),
                                ("SGD", {"momentum": 0.9}, 5))[:1 if smoke else 3]:
        for impl in ("fused",) if smoke else ("fused", "foreach"):
            out.append(Case(f"{name}{'-momentum' if name == 'SGD' else ''} step 64 x 2^20",
                            _optimizer(name, 4 if smoke else 64, opt_n, impl, **kwargs),
                            bytes=floor * f4 * 64 * opt_n,
                            torch_name=f"torch {impl}", reps=15))
    out.append(Case("MLP 784-512-256-10 b128 Adam step",
                    _mlp(8, (32, 16, 8, 4)) if smoke else _mlp(128, (784, 512, 256, 10)), reps=15))
    out.append(Case("LSTM(64, 128) fwd+bwd, 32 steps x batch 64 (torch: cuDNN)",
                    _lstm(4, 2, 8, 16) if smoke else _lstm(32, 64, 64, 128), reps=15))
    return out


def _rate(case, ms) -> str:
    if case.flops:
        return f"{case.flops / ms / 1e9:.1f} TFLOP/s"
    if case.bytes:
        return f"{case.bytes / ms / 1e6:.0f} GB/s"
    return "-"


def _fmt(ms) -> str:
    return f"{ms * 1e3:.1f} us" if ms < 1 else f"{ms:.3f} ms"


def benchmarks(report, budget, smoke, per_case):
    import torch
    import tritensor
    torch_device = "cpu" if smoke else "cuda"
    report.add("## tritensor vs torch (same run, CUDA events, medians)", "",
               "| op | tritensor | torch | tritensor rate | torch rate | torch / tritensor |",
               "|---|---|---|---|---|---|")
    timing = {"target_ms": 2.0, "reps": 2} if smoke else {}
    for case in cases(smoke):
        if budget.left() < 3:
            report.add(f"| {case.name} | skipped (time budget) | | | | |")
            continue
        try:
            ours = budget.run(per_case, _measure, tritensor, "cuda", case, timing)
            theirs = budget.run(per_case, _measure, torch, torch_device, case, timing)
            name = case.name + (f" ({case.torch_name})" if case.torch_name else "")
            report.add(f"| {name} | {_fmt(ours)} | {_fmt(theirs)} | {_rate(case, ours)} "
                       f"| {_rate(case, theirs)} "
                       f"| {theirs / ours:.2f}x |")
        except Exception as exc:  # noqa: BLE001 - a failing case is a finding, not the end of the run
            report.add(f"| {case.name} | **{type(exc).__name__}: {_cell(exc)[:160]}** | | | | |")
        finally:
            for lib in (tritensor, torch):
                _set_precision(lib, "ieee")
            _host_data.clear()
            gc.collect()
            if not smoke:  # each library's cached blocks go back, so the next case has the memory
                tritensor.cuda.empty_cache()
                torch.cuda.empty_cache()
    report.add("", "Rates: least bytes moved (reads + writes) per second, or 2n^3 FLOPs per second. "
               "torch / tritensor above 1 means tritensor is faster.", "")


def _measure(lib, device, case, timing):
    fn = case.setup(lib, device)
    return time_ms(lib, device, fn, **{"reps": case.reps, **timing})


def host_overhead(report, smoke):
    """Python-side time of one tiny op (launch path cost), wall clock over many calls."""
    import torch
    import tritensor
    n = 2000 if not smoke else 20
    rows = [f"## Per-op host time (wall clock, 1-element add, {n} calls)", "", "| library | us per op |",
            "|---|---|"]
    for lib, device in ((tritensor, "cuda"), (torch, "cpu" if smoke else "cuda")):
        a = lib.ones(1, device=device)
        a + a
        start = time.perf_counter()
        for _ in range(n):
            a + a
        if device != "cpu":
            lib.cuda.synchronize()
        rows.append(f"| {lib.__name__} | {(time.perf_counter() - start) / n * 1e6:.1f} |")
    report.add(*rows, "")


# ------------------------------------------------------------------ main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_check.md", help="markdown report path")
    parser.add_argument("--budget", type=float, default=285, help="total seconds (sections stop early)")
    parser.add_argument("--tests-budget", type=float, default=170, help="seconds for the op tests")
    parser.add_argument("--per-case", type=float, default=40,
                        help="seconds at most per benchmark and library")
    parser.add_argument("--maxfail", type=int, default=1, help="failures before a test file stops (1: -x)")
    parser.add_argument("--jobs", type=int, default=14, help="test processes run at once")
    parser.add_argument("--oracle", choices=("cuda", "cpu"), default="cuda",
                        help="the device torch runs the op tests on")
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--skip-bench", action="store_true", help="no benchmark table")
    parser.add_argument("--tests-last", action="store_true",
                        help="benchmarks before the op tests, so the table is complete if time runs out")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the emulated device (no GPU)")
    args = parser.parse_args(argv)
    if args.smoke:
        os.environ["TRITON_INTERPRET"] = "1"  # before triton is imported
    sys.path.insert(0, os.path.join(ROOT, "src"))
    budget = Budget(args.budget)
    report = Report(args.out)
    environment(report, args.smoke)

    def tests():
        if not args.skip_tests:
            op_tests(report, budget, args.smoke, args.tests_budget, args.maxfail, args.jobs,
                     logs=os.path.splitext(args.out)[0] + "_logs", oracle=args.oracle)
    if not args.tests_last:
        tests()
    sections = (("More than 2^31 elements", lambda: huge_tensor(report, budget, args.smoke)),
                ("Per-op host time", lambda: host_overhead(report, args.smoke)),
                ("Benchmarks", lambda: benchmarks(report, budget, args.smoke, args.per_case)))
    for title, step in sections[:1 if args.skip_bench else 3]:
        try:
            budget.run(max(budget.left(), 2), step)
        except Exception as exc:  # noqa: BLE001 - report it and go on with the next section
            report.add(f"## {title}: **{type(exc).__name__}: {_cell(exc)}**", "")
    if args.tests_last:
        tests()
    report.add(f"Total {args.budget - budget.left():.0f} s of a {args.budget:.0f} s budget.")
    print(report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
