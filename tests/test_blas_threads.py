"""numpy's OpenBLAS workers sleep soon after a product once tritensor is imported
(backends/blas_threads.py), unless the user set OPENBLAS_THREAD_TIMEOUT."""
import json
import os
import subprocess
import sys

import pytest

from tritensor.backends import blas_threads

# in a fresh interpreter (no torch, whose OpenMP threads would spin too): the CPU seconds the
# process's other threads burn in the 0.2 s after a threaded product, the main thread asleep
_SPIN_PROBE = """
import json, os, time
import numpy as np
import tritensor
from tritensor.backends import blas_threads

def cpu_seconds_of_other_threads():
    main, total = str(os.getpid()), 0
    for tid in os.listdir("/proc/self/task"):
        if tid != main:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")

a = np.ones((1024, 1024), np.float32)
a @ a
before = cpu_seconds_of_other_threads()
time.sleep(0.2)
print(json.dumps({"spin": cpu_seconds_of_other_threads() - before,
                  "variable_left": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
                  "has_openblas": blas_threads.loaded_openblas() is not None}))
"""


def _probe(**env):
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", _SPIN_PROBE], env={**environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="OpenBLAS runs worker threads only with two or more cores (read from /proc)")
def test_openblas_workers_sleep_after_a_product():
    ours = _probe()
    if not ours["has_openblas"]:
        pytest.skip("numpy's BLAS here is not OpenBLAS")
    assert ours["variable_left"] is None  # the environment is left as it was
    assert ours["spin"] < 0.02, ours
    # the user's own setting is kept: 2^28 cycles, OpenBLAS's default, spins ~0.1 s
    theirs = _probe(OPENBLAS_THREAD_TIMEOUT="28")
    assert theirs["variable_left"] == "28"
    assert theirs["spin"] > 0.03, theirs


def test_a_users_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "28")
    assert blas_threads.shorten_openblas_spin() is False
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "28"
