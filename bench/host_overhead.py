"""Host time of one eager op on the real-GPU path, without a GPU.

The 'cuda' backend's host side (op layer, allocation and its cache, launch arguments,
specialisation lookup) runs on ``tests/fake_gpu.py``'s driverless GPU: driver calls are
Python stubs and the kernel launcher only records. What is timed is therefore tritensor's own
Python per op, the part a GPU cannot speed up; on a GPU each op adds the launcher call into
Triton's C launcher and the driver (7.6 us measured on an H100, ../shared/GPU.md) and the
stubs' cost is replaced by cuda-bindings calls, which the allocator's cache avoids.

    PYTHONPATH=src python bench/host_overhead.py [--number 20000]
"""
from __future__ import annotations

import argparse
import os
import sys
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "src"), os.path.join(ROOT, "tests")]

CASES = [
    ("a + b", "1-element add"),
    ("a * 2.0", "1-element multiply by a Python float"),
    ("a.relu()", "1-element relu"),
    ("x + y", "add, 4096 float32"),
    ("x.sum()", "sum, 4096 float32"),
    ("m @ m", "mm 64x64 float32"),
    ("x.t() + x.t()", "add of transposed operands (general path)"),
]


def main(argv=None):
    import pytest
    import tritensor
    from fake_gpu import driverless_gpu

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args(argv)
    patch = pytest.MonkeyPatch()
    driverless_gpu(patch)
    env = {"a": tritensor.ones(1, device="cuda"), "b": tritensor.ones(1, device="cuda"),
           "x": tritensor.ones(64, 64, device="cuda"), "y": tritensor.ones(64, 64, device="cuda"),
           "m": tritensor.ones(64, 64, device="cuda")}
    print("| op | host time per call |\n| --- | --- |")
    for stmt, what in CASES:
        exec(stmt, env)  # first call compiles (a stub here) and fills the caches
        best = min(timeit.repeat(stmt, globals=env, number=args.number, repeat=5)) / args.number
        print(f"| {what} (`{stmt}`) | {best * 1e6:.2f} us |")
    for what, step in (("cross entropy forward + backward, 64 x 10 logits", cross_entropy_step()),
                       ("Adam step over the MLP's 6 parameters", adam_step()),
                       ("MLP train step 784-512-256-10, batch 128, CrossEntropy + Adam", mlp_step(patch))):
        best = min(timeit.repeat(step, number=200, repeat=5)) / 200
        print(f"| {what} | {best * 1e6:.0f} us |")
    patch.undo()


def _mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10)).to("cuda")


def cross_entropy_step():
    import tritensor as torch
    x = torch.ones(64, 10, device="cuda").requires_grad_()
    y = torch.zeros(64, dtype=torch.int64, device="cuda")

    def step():
        x.grad = None
        torch.nn.functional.cross_entropy(x, y).backward()
    step()
    return step


def adam_step():
    import tritensor as torch
    model = _mlp(torch)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.step()
    return opt.step


def mlp_step(patch):
    """One training step of bench/test_bench_mlp.py's model, on the driverless GPU."""
    import tritensor as torch
    nn = torch.nn
    model = _mlp(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.ones(128, 784, device="cuda")
    y = torch.zeros(128, dtype=torch.int64, device="cuda")

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    return step


if __name__ == "__main__":
    main()
