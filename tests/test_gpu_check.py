"""bench/gpu_check.py must stay runnable: its --smoke mode (tiny sizes, emulated device,
torch's CPU as the oracle) runs every section here, so the GPU session can run it unedited."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_check_smoke(tmp_path):
    out = tmp_path / "table.md"
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRITENSOR_TEST_DEVICE", "TRITENSOR_ORACLE_DEVICE")}
    script = os.path.join(ROOT, "bench", "gpu_check.py")
    proc = subprocess.run([sys.executable, script, "--smoke", "--out", str(out), "--budget", "150"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.strip() in proc.stdout  # printed and written
    for section in ("## Op tests on 'cuda'", "## More than 2^31 elements", "## Per-op host time",
                    "## tritensor vs torch"):
        assert section in text, section
    assert "passed" in text and "failed" not in text and "**ok**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert any(line.startswith("| mm fp32 highest") and line.endswith("x |") for line in rows)  # a ratio
    assert any(line.startswith("| MLP") and line.endswith("x |") for line in rows)
    assert not any("**" in line for line in rows), text  # no case raised
    assert "skipped" not in text, text


def test_shards_split_a_file_without_overlap():
    """TRITENSOR_TEST_SHARD=k/n (tests/conftest.py), which gpu_check uses for big files: the
    shards of a file run every test exactly once."""
    def collected(shard=None):
        env = {k: v for k, v in os.environ.items() if k != "TRITENSOR_TEST_SHARD"}
        if shard:
            env["TRITENSOR_TEST_SHARD"] = shard
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/test_promotion.py"]
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        return [line for line in proc.stdout.splitlines() if "::" in line]
    every = collected()
    shards = [collected(f"{k}/3") for k in range(3)]
    assert len(every) > 3 and all(shards)
    assert sorted(sum(shards, [])) == sorted(every)


def test_gpu_check_runs_every_emulated_test_file():
    """The GPU check's op tests are the emulated CI run's files (.ci/run), less the two that
    belong to devices without a GPU (and more), so a new test file cannot miss the real-GPU run."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import gpu_check
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    names = ci[ci.index("for name in") + len("for name in"):ci.index("; do")].replace("\\", " ").split()
    emulated = {f"tests/test_{name}.py" for name in names}
    on_gpu = {target for target, _ in gpu_check.TEST_FILES}
    assert emulated - {"tests/test_cuda_backend.py", "tests/test_gpu_host_path.py"} <= on_gpu
    assert all(os.path.exists(os.path.join(ROOT, target)) for target in on_gpu)
