"""Turn pytest-benchmark JSON from bench/test_bench_cpu.py into the markdown table of
docs/performance.md: medians per library, tritensor's speed relative to NumPy and torch,
and each op's floor on this machine.

    python -m pytest bench/ --benchmark-only --benchmark-json=/tmp/bench.json -q
    python bench/report.py /tmp/bench.json

The floor is the least memory traffic divided by the measured copy bandwidth (a large
NumPy copy: read + write), or for mm the FLOPs divided by the measured BLAS peak (NumPy
matmul of 2048x2048 float32). Both are measured here unless given.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

LIBRARIES = ("tritensor", "numpy", "torch")


def best_time(fn, repeat=7):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def copy_bandwidth() -> float:
    """Bytes per second of a 256 MiB float32 copy, counting the read and the write."""
    src = np.ones(1 << 26, np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / best_time(lambda: np.copyto(dst, src))


def blas_peak() -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    return 2 * 2048 ** 3 / best_time(lambda: a @ a, repeat=5)


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def table(results, bandwidth, peak) -> str:
    groups = {}
    for bench in results["benchmarks"]:
        info = bench["extra_info"]
        if "library" not in info:
            continue  # another bench file's benchmark
        groups.setdefault(bench["group"], {})[info["library"]] = (bench["stats"]["median"], info)
    rows = ["| op | floor | tritensor | NumPy | torch | speed vs NumPy | speed vs torch |",
            "|---|---|---|---|---|---|---|"]
    for group, by_lib in groups.items():
        info = next(iter(by_lib.values()))[1]
        floor = info["flops"] / peak if info["flops"] else info["bytes"] / bandwidth
        floor_text = fmt_time(floor) if info["bytes"] >= 1 << 20 or info["flops"] else "-"
        med = {lib: by_lib[lib][0] for lib in LIBRARIES if lib in by_lib}
        ours = med["tritensor"]
        rows.append(f"| {group} | {floor_text} | " + " | ".join(fmt_time(med[lib]) for lib in LIBRARIES)
                    + f" | {med['numpy'] / ours:.2f}x | {med['torch'] / ours:.2f}x |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    parser.add_argument("--bandwidth-gbs", type=float, help="copy bandwidth (GB/s); measured if absent")
    parser.add_argument("--peak-gflops", type=float, help="float32 GEMM peak; measured if absent")
    args = parser.parse_args()
    with open(args.json) as f:
        results = json.load(f)
    bandwidth = args.bandwidth_gbs * 1e9 if args.bandwidth_gbs else copy_bandwidth()
    peak = args.peak_gflops * 1e9 if args.peak_gflops else blas_peak()
    print(f"copy bandwidth {bandwidth / 1e9:.1f} GB/s, float32 GEMM peak {peak / 1e9:.0f} GFLOP/s\n")
    print(table(results, bandwidth, peak))
    print("\nspeed vs X = X's median / tritensor's median (above 1: tritensor is faster)")


if __name__ == "__main__":
    main()
