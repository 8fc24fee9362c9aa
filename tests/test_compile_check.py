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
