"""The GPU compile check: compile every recorded Triton kernel specialisation for a real GPU, without one.

    TRITENSOR_RECORD_LAUNCHES=/tmp/rec.jsonl TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda pytest tests/...
    python bench/compile_check.py /tmp/rec.jsonl [--arch 90 --arch 80] [--jobs N] [--per-variant] [--quiet]

Triton's interpreter runs a kernel's Python body, so it accepts code that the compiler
rejects. Triton's wheel ships the whole compiler (MLIR passes, LLVM, ptxas), so each
specialisation that the tests launched (recorded by ``kernels/triton/record.py``) is compiled
here with ``triton.compile(ASTSource(...), target=GPUTarget("cuda", arch, 32))`` to a cubin,
as ``JITFunction`` would on that GPU, in parallel processes. A specialisation fails if it does
not compile or if it would not launch: shared memory beyond the architecture's per-block
limit ("out of resources") or more than 1024 threads. Prints one table row per
(specialisation, arch); exit status 1 if any failed.

Runs with ``TRITON_INTERPRET`` removed from the environment: under the interpreter
``@triton.jit`` gives ``InterpretedFunction``s, which do not compile.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: bytes of shared memory one block may use (cudaDevAttrMaxSharedMemoryPerBlockOptin).
SHARED_LIMIT = {80: 166912, 86: 101376, 89: 101376, 90: 232448}
MAX_THREADS = 1024


def load(path, per_variant=False, package=None):
    """The distinct records of a JSON-lines file; with ``per_variant``, one per kernel,
    constexpr values and options (ignoring argument types and divisibility); with ``package``,
    only the kernels of that package's modules."""
    records = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                if package and not rec["kernel"].startswith(package + "."):
                    continue
                fields = ("kernel", "constexprs", "options") if per_variant else sorted(rec)
                records.setdefault(json.dumps([rec[k] for k in fields], sort_keys=True), rec)
    return list(records.values())


# ---------------------------------------------------------------- in the worker processes
def resolve(name):
    """The object named ``"module:qualname"``."""
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def decode(value):
    """A recorded constexpr value (``record.encode``'s JSON) as the kernel receives it."""
    if isinstance(value, dict):
        import triton.language as tl
        if "dtype" in value:
            return tl.dtype(value["dtype"])
        if "jit" in value:
            return resolve(value["jit"])
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
    return value


def _tuples(sig):
    return tuple(map(_tuples, sig)) if isinstance(sig, list) else sig


def source(rec):
    """``(ASTSource, options)`` for a record: the arguments of ``triton.compile``."""
    from triton.backends.compiler import BaseBackend
    from triton.compiler import ASTSource
    kernel = resolve(rec["kernel"])
    signature = {name: _tuples(sig) for name, sig in rec["signature"].items()}
    constexprs = {tuple(path): decode(v) for path, v in rec["constexprs"]}
    attrs = {tuple(path): BaseBackend.parse_attr("D") for path in rec["divisible"]}
    return ASTSource(kernel, signature, constexprs, attrs), rec["options"]


def compile_one(rec, arch):
    """(ok, message, seconds) of compiling one record to a cubin for ``sm_<arch>``."""
    import triton
    from triton.backends.compiler import GPUTarget
    start = time.perf_counter()
    try:
        from tritensor.kernels.triton.launch import COMPILE_OPTIONS
        src, options = source(rec)
        target = GPUTarget("cuda", arch, 32)
        compiled = triton.compile(src, target=target, options={**COMPILE_OPTIONS, **options})
        problem = launch_problem(compiled.metadata, arch)
        assert "cubin" in compiled.asm
    except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the check
        return False, _message(e), time.perf_counter() - start
    return problem is None, problem or "OK", time.perf_counter() - start


def _message(error):
    """The innermost cause first (a CompilationError in a nested ``@jit`` call says only where
    the call was), then the chain from the outside in."""
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return "\n".join(f"{type(e).__name__}: {e}" for e in [chain[-1], *chain[:-1]])


def launch_problem(metadata, arch):
    """Why a compiled kernel would fail to launch (as the driver's checks in triton's
    ``CompiledKernel._init_handles``), or None."""
    limit = SHARED_LIMIT.get(arch)
    if limit is not None and metadata.shared > limit:
        return f"out of resources: shared memory, Required: {metadata.shared}, Hardware limit: {limit}"
    if metadata.num_warps * 32 > MAX_THREADS:
        return f"out of resources: {metadata.num_warps} warps exceed {MAX_THREADS} threads per block"
    return None


def _init_worker():
    """Kernels import from tritensor's source tree, and kernels of the tests from tests/."""
    os.environ.pop("TRITON_INTERPRET", None)
    sys.path[:0] = [os.path.join(ROOT, "src"), os.path.join(ROOT, "tests")]


def _task(job):
    rec, arch = job
    return compile_one(rec, arch)


# ---------------------------------------------------------------- report
def describe(rec):
    """One line: the argument types, the constexpr values (``name[i]`` inside a tuple), the options."""
    names = list(rec["signature"])
    sig = " ".join(_sig(s) for s in rec["signature"].values() if s != "constexpr")
    consts = " ".join(f"{names[p[0]]}{''.join(f'[{i}]' for i in p[1:])}={_short(v)}" for p, v in rec["constexprs"])
    opts = " ".join(f"{k}={v}" for k, v in rec["options"].items())
    return " | ".join(x for x in (sig, consts, opts) if x)


def _sig(s):
    return "(" + " ".join(map(_sig, s)) + ")" if isinstance(s, list) else s


def _short(v):
    if isinstance(v, dict):
        if "jit" in v:
            return v["jit"].rpartition(":")[2]
        if "dtype" in v:
            return v["dtype"]
        return "(" + ",".join(_short(x) for x in v["tuple"]) + ")"
    return repr(v)


def _first_lines(message, n=2, width=200):
    """The start of the innermost error's message, on one line (triton's CompilationError puts
    the source excerpt first and the reason last)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if lines and lines[0].startswith("CompilationError"):
        head = lines[0]
        lines = [head, *[x for x in lines[1:] if not x.startswith(("CompilationError", "^"))][-1:]]
    return " / ".join(lines[:n])[:width]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", help="JSON lines written with TRITENSOR_RECORD_LAUNCHES")
    parser.add_argument("--arch", type=int, action="append", help="compute capability, e.g. 90 (repeatable; "
                        "default 90 and 80)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel compiler processes")
    parser.add_argument("--per-variant", action="store_true",
                        help="compile one specialisation per kernel + constexprs + options")
    parser.add_argument("--quiet", action="store_true", help="table rows of failures only")
    parser.add_argument("--package", help="only kernels defined in this package (e.g. tritensor: not the "
                        "tests' own kernels, which import the test harness and torch)")
    args = parser.parse_args(argv)
    os.environ.pop("TRITON_INTERPRET", None)
    # triton 3.9's default (fusion on) made explicit, so its warning is not printed per worker;
    # tritensor's kernels compile without fusion anyway (launch.COMPILE_OPTIONS, added below)
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    archs = args.arch or [90, 80]
    records = load(args.records, args.per_variant, args.package)
    jobs = [(rec, arch) for rec in records for arch in archs]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), initializer=_init_worker) as pool:
        results = list(pool.map(_task, jobs))
    failed = [(rec, arch, msg) for (rec, arch), (ok, msg, _) in zip(jobs, results) if not ok]
    for (rec, arch), (ok, msg, seconds) in zip(jobs, results):
        if ok and args.quiet:
            continue
        status = "OK" if ok else "FAIL " + _first_lines(msg)
        print(f"{rec['kernel'].rpartition(':')[2]:<22} sm_{arch} {seconds:6.2f}s  {status:<4}  {describe(rec)}")
    for rec, arch, msg in failed:
        print(f"\n=== {rec['kernel']} sm_{arch}: {describe(rec)}\n" + "\n".join(msg.splitlines()[:40]))
    print(f"\n{len(records)} specialisations x {len(archs)} archs: {len(jobs) - len(failed)} compiled, "
          f"{len(failed)} failed, in {time.perf_counter() - start:.1f} s with {args.jobs} processes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
