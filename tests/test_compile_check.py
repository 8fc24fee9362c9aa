"""bench/compile_check.py: launches recorded under the interpreter compile for sm_90, and a kernel
that only the interpreter accepts is reported as a failure (so the tool itself can't rot)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("triton")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: run under the interpreter with recording on: a few ops (elementwise, cat), then
#: two kernels of the test's own module: one a GPU compiles, one only the interpreter runs
RECORD = """
import tritensor, kernels_under_test as k
from tritensor.backends.cuda import pointer
from tritensor.kernels.triton.launch import launch
x = tritensor.arange(6, dtype=tritensor.float32, device="cuda").reshape(2, 3)
x + x.t().contiguous().t() * 2
tritensor.cat([x, x.double()], 1).exp()
out = tritensor.zeros(16, device="cuda")
launch(k.good, (1,), pointer(out), 16, 16)
launch(k.bad, (1,), pointer(out), 16, 16)
"""

KERNELS = """
import triton
import triton.language as tl

X: tl.constexpr = 2.0  # an annotated global: the interpreter reads it, a compile does not


@triton.jit
def good(out, n, BLOCK: tl.constexpr):
    i = tl.arange(0, BLOCK)
    tl.store(out + i, i.to(tl.float32) * 2.0, mask=i < n)


@triton.jit
def bad(out, n, BLOCK: tl.constexpr):
    i = tl.arange(0, BLOCK)
    tl.store(out + i, i.to(tl.float32) * X, mask=i < n)
"""


def _run(args, tmp_path, **env):
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.path.join(ROOT, "src")]), **env}
    if "TRITENSOR_RECORD_LAUNCHES" not in env:
        environ.pop("TRITENSOR_RECORD_LAUNCHES", None)
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
                          timeout=300)


def test_recorded_launches_compile_for_sm90_and_a_bad_kernel_fails(tmp_path):
    (tmp_path / "kernels_under_test.py").write_text(textwrap.dedent(KERNELS))
    records = tmp_path / "launches.jsonl"
    run = _run(["-c", RECORD], tmp_path, TRITON_INTERPRET="1", TRITENSOR_RECORD_LAUNCHES=str(records))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    kernels = {rec["kernel"].rpartition(":")[2] for rec in lines}
    assert {"elementwise_kernel", "cat_kernel", "good", "bad"} <= kernels
    assert len(lines) == len({json.dumps(rec, sort_keys=True) for rec in lines})  # each specialisation once
    good = next(rec for rec in lines if rec["kernel"] == "kernels_under_test:good")
    assert good["signature"] == {"out": "*fp32", "n": "i32", "BLOCK": "constexpr"}
    assert good["constexprs"] == [[[2], 16]] and [1] in good["divisible"]  # n = 16 is divisible by 16

    check = _run([os.path.join(ROOT, "bench", "compile_check.py"), str(records), "--arch", "90", "--jobs", "2"],
                 tmp_path, TRITON_INTERPRET="1")  # the tool drops it itself
    assert check.returncode == 1, check.stdout + check.stderr
    rows = [line for line in check.stdout.splitlines() if " sm_90 " in line]
    failed = [row for row in rows if " FAIL " in row]
    assert len(rows) == len(lines) and len(failed) == 1 and failed[0].startswith("bad "), check.stdout
    assert f"{len(lines) - 1} compiled, 1 failed" in check.stdout


def test_package_filter_keeps_the_packages_kernels(tmp_path):
    """``--package tritensor`` (CI's triton 3.6 pass) drops the tests' own kernels."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import compile_check
    finally:
        sys.path.pop(0)
    records = tmp_path / "launches.jsonl"
    names = ["tritensor.kernels.triton.elementwise:elementwise_kernel", "test_random_cuda:_philox_words",
             "tritensor_extra.kernels:k"]
    records.write_text("".join(json.dumps({"kernel": n, "constexprs": [], "options": {}}) + "\n" for n in names))
    assert [r["kernel"] for r in compile_check.load(records, per_variant=True)] == names
    assert [r["kernel"] for r in compile_check.load(records, per_variant=True, package="tritensor")] == names[:1]


FUSED_AND_PER_OP_SGD = """
import tritensor
p = tritensor.ones(64, device="cuda", requires_grad=True)
p.grad = tritensor.ones(64, device="cuda")
tritensor.optim.SGD([p], lr=0.1).step()                 # the fused step kernel
tritensor.optim.SGD([p], lr=0.1, foreach=False).step()  # the per-op reference: p.add_(g, alpha=-lr)
"""

PTX = """
import json, re, sys
sys.path.insert(0, sys.argv[2])
import compile_check, triton
from triton.backends.compiler import GPUTarget
from tritensor.kernels.triton.launch import COMPILE_OPTIONS
for line in open(sys.argv[1]):
    rec = json.loads(line)
    src, options = compile_check.source(rec)
    options = {**COMPILE_OPTIONS, **options}
    ptx = triton.compile(src, target=GPUTarget("cuda", 90, 32), options=options).asm["ptx"]
    print(rec["kernel"].rpartition(":")[2], len(re.findall(r"\\bfma\\.rn\\.f32", ptx)),
          len(re.findall(r"\\bmul\\.(?:rn\\.)?f32", ptx)))
"""


def test_kernels_compile_without_multiply_add_contraction(tmp_path):
    """A GPU rounds each operation, as the interpreter does: SGD's fused step and its per-op
    reference (an add with alpha) both keep a separate multiply and add in their sm_90 PTX, so
    they agree bit for bit (with contraction the per-op kernel became one FMA, 1 ulp apart)."""
    records = tmp_path / "launches.jsonl"
    run = _run(["-c", FUSED_AND_PER_OP_SGD], tmp_path, TRITON_INTERPRET="1",
               TRITENSOR_RECORD_LAUNCHES=str(records))
    assert run.returncode == 0, run.stderr
    environ = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    ptx = subprocess.run([sys.executable, "-c", PTX, str(records), os.path.join(ROOT, "bench")],
                         cwd=tmp_path, env={**environ, "PYTHONPATH": os.path.join(ROOT, "src")},
                         capture_output=True, text=True, timeout=300)
    assert ptx.returncode == 0, ptx.stderr
    counts = [line.split() for line in ptx.stdout.splitlines()]
    steps = [c for c in counts if c[0] == "step_kernel"]
    multiplies = [c for c in counts if c[0] == "elementwise_kernel" and c[2] != "0"]  # add with alpha
    assert steps and multiplies, ptx.stdout
    assert all(fma == "0" for _, fma, _ in counts), ptx.stdout
