"""Cold and warm start-up time: ``import tritensor``, then the first op.

    python bench/startup.py [--runs 3]

"Cold" runs with an empty Numba cache (a fresh NUMBA_CACHE_DIR, so every kernel the
snippet needs is compiled); "warm" runs again with that cache filled (kernels load from
disk). Each run is a new interpreter; the child times the import and the first op
itself, and the parent times the whole process. Results go in docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, time
t0 = time.perf_counter()
import tritensor as t
t1 = time.perf_counter()
x = t.ones(3); (x + x).sum()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_op": t2 - t1}))
"""


def run_once(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, capture_output=True,
                         text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - start
    return result


def fmt(r: dict) -> str:
    return " | ".join(f"{k} {r[k]:.2f} s" for k in ("import", "first_op", "process"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="tritensor-numba-cache-") as cache:
            cold = run_once(cache)
            warm = run_once(cache)
        print(f"run {i + 1}: cold: {fmt(cold)}")
        print(f"run {i + 1}: warm: {fmt(warm)}")
    baseline = subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import numba, numpy; "
                               "print(time.perf_counter()-t)"], check=True, capture_output=True, text=True)
    print(f"for reference: import numpy + numba alone: {float(baseline.stdout):.2f} s")


if __name__ == "__main__":
    main()
