"""One helper runs the same code in torch (the oracle) and in tritensor and compares.

``check(fn, *inputs)``: ``fn(lib, *tensors)`` is called with ``lib`` = torch and with
``lib`` = tritensor, on tensors built from the same numpy data (``inputs`` are numpy
arrays, or ``Arg`` for per-input options). Values, dtypes and shapes must match (values
within the per-dtype tolerance), gradients too when any input requires grad, and if
torch raises, tritensor must raise the same exception type. ``DEVICE`` selects the
tritensor device, so the same tests run on any backend.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import tritensor

DEVICE = os.environ.get("TRITENSOR_TEST_DEVICE", "cpu")
#: where the torch oracle computes: its CPU build by default, 'cuda' on a GPU machine
#: (bench/gpu_check.py sets TRITENSOR_ORACLE_DEVICE=cuda to compare against torch's CUDA kernels)
ORACLE_DEVICE = os.environ.get("TRITENSOR_ORACLE_DEVICE", "cpu")
#: for checks where tritensor follows torch's CPU build and its CUDA build differs (integer
#: division by zero raises on the CPU only; an out-of-range class index is a device-side
#: assert on CUDA, which leaves torch's CUDA context unusable)
cpu_oracle_only = pytest.mark.skipif(ORACLE_DEVICE != "cpu", reason="torch's CUDA build behaves otherwise here; "
                                     "tritensor follows its CPU build, the oracle in CI")

#: a real GPU (not the interpreter): its threads write in no fixed order, so a write to one
#: element from several places (put_/index_put_ with duplicate indices) keeps any of them, as
#: torch documents ("undefined") and its CUDA kernels do; the CPU and the interpreter keep the last
REAL_GPU = DEVICE == "cuda" and os.environ.get("TRITON_INTERPRET") != "1"
ordered_writes_only = pytest.mark.skipif(REAL_GPU, reason="duplicate-index writes are undefined on a GPU "
                                         "(torch's docs); the CPU and the interpreter keep the last")

#: CI's oracle is torch 2.13, whose behaviour tritensor follows; the GPU machine has 2.11, which
#: differs in reprs (norm layers' bias=), some error types and grad_fn names, and a few bugs
TORCH_2_13 = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 13)
torch_2_13 = pytest.mark.skipif(not TORCH_2_13, reason=f"tritensor follows torch 2.13 here; the oracle is "
                                f"torch {torch.__version__}")



def wait_for_device():
    """On 'cuda', wait for the device: errors its kernels found in their input are raised by
    such a call, not by the op (``backends/cuda_errors.py``, CUDA's device-side asserts)."""
    if DEVICE != "cpu":
        tritensor.cuda.synchronize()


def dev(lib):
    """The device a test builds tensors on: DEVICE for tritensor, ORACLE_DEVICE for torch."""
    return DEVICE if lib is tritensor else ORACLE_DEVICE


#: (rtol, atol) per dtype: fp32 kernels may reassociate sums; 16-bit floats round early.
TOLERANCES = {
    "float64": (1e-7, 1e-9),
    "float32": (1.3e-5, 1e-5),
    "float16": (1e-2, 1e-3),
    "bfloat16": (1.6e-2, 1e-2),
}

TORCH_DTYPES = {n: getattr(torch, n) for n in
                ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")}
TT_DTYPES = {n: getattr(tritensor, n) for n in TORCH_DTYPES}
FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")


def uniform_data(rng, shape, dtype="float64", low=-3, high=3):
    """Test data of ``dtype`` from ``rng``: integers in [low, high] (uint8 from 0), bools, floats
    uniform in [low, high) (float64 for the 16-bit types, which ``Arg`` rounds). Test files pass
    their module's ``rng`` as it is when called (conftest.py reseeds it per test; a generator
    bound once would make each test's data depend on which tests ran before it)."""
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in INT_DTYPES:
        return rng.integers(0 if dtype == "uint8" else low, high + 1, shape).astype(dtype)
    return rng.uniform(low, high, shape).astype(np.float64 if dtype in ("bfloat16", "float16") else dtype)
ALL_DTYPES = ("bool",) + INT_DTYPES + FLOAT_DTYPES


#: (shape, dim) pairs for ops along one dim: 0-d, empty, 1-D, 2-D and 3-D, negative dims
ALONG_DIM_CASES = [((), 0), ((), -1), ((0,), 0), ((3, 0), 1), ((0, 4), 1), ((7,), 0), ((3, 5), 1),
                   ((3, 5), 0), ((2, 9, 3), 1), ((2, 3, 4), -1)]


def distinct(shape, seed=0):
    """Values without ties (exact indices, and gradients that finite differences can check)."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape).astype(np.float64) / 4 - n / 8


def tied(shape, dtype, seed=0):
    """Values with many ties (sorts, scans, order statistics); floats also hold NaN, +-inf
    and both zeros."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == "uint8":
        return rng.integers(0, 5, shape).astype(np.uint8)
    a = rng.integers(-4, 5, shape)
    if dtype not in FLOAT_DTYPES:
        return a
    a = a.astype(np.float64)
    a[a == 3] = np.nan
    a[a == 2] = -0.0
    a[a == -4] = -np.inf
    a[a == 4] = np.inf
    return a


@dataclass
class Arg:
    """A test input: numpy data, its dtype name, and whether it requires grad."""

    data: np.ndarray
    dtype: str | None = None
    requires_grad: bool = False
    transpose: bool = False  # pass a transposed (non-contiguous) view of data.T

    def dtype_name(self):
        return self.dtype or str(np.asarray(self.data).dtype)


def _as_arg(x):
    if isinstance(x, Arg):
        return x
    if isinstance(x, np.ndarray):
        return Arg(x)
    return x  # Python scalars and other values pass through unchanged


def make_pair(arg: Arg):
    """The same input as a torch tensor and a tritensor tensor (non-contiguous if asked)."""
    data = np.asarray(arg.data)
    name = arg.dtype_name()
    src = np.ascontiguousarray(data.T) if arg.transpose else data
    t = torch.tensor(src.astype(np.float64) if name == "bfloat16" else src)
    t = t.to(ORACLE_DEVICE, TORCH_DTYPES[name])
    tt = tritensor.tensor(src.astype(np.float64) if name == "bfloat16" else src,
                          dtype=TT_DTYPES[name], device=DEVICE)
    if arg.transpose:
        t, tt = t.t(), tt.t()
    if arg.requires_grad:
        t.requires_grad_(True)
        tt.requires_grad_(True)
    return t, tt


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.float() if x.dtype == torch.bfloat16 else x).cpu().numpy()
    if isinstance(x, tritensor.Tensor):
        x = x.detach()
        return (x.float() if x.dtype is tritensor.bfloat16 else x).cpu().numpy()
    return np.asarray(x)


def tolerance(dtype_name):
    return TOLERANCES.get(dtype_name, (0, 0))


def assert_same(expected, actual, *, rtol=None, atol=None, check_stride=False, what="output", device=None):
    """Compare one torch result with one tritensor result (tensor, scalar or tuple); tensors
    must be on ``device`` (default: the test device)."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"{what}: expected a sequence, got {type(actual)}"
        assert len(expected) == len(actual), f"{what}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, rtol=rtol, atol=atol, check_stride=check_stride, what=f"{what}[{i}]",
                        device=device)
        return
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, tritensor.Tensor), f"{what}: expected a Tensor, got {type(actual)}"
        dname = str(expected.dtype).replace("torch.", "")
        assert str(actual.dtype) == str(expected.dtype), f"{what}: dtype {actual.dtype} != {expected.dtype}"
        assert tuple(actual.shape) == tuple(expected.shape), \
            f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
        want = device or DEVICE
        assert actual.device.type == want.split(":")[0], f"{what}: on {actual.device}, expected {want}"
        if check_stride:
            assert actual.stride() == expected.stride(), f"{what}: stride {actual.stride()} != {expected.stride()}"
        r, a = tolerance(dname)
        np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), rtol=r if rtol is None else rtol,
                                   atol=a if atol is None else atol, equal_nan=True, err_msg=what)
        return
    if isinstance(expected, bool):
        assert actual == expected, f"{what}: {actual} != {expected}"
        return
    if isinstance(expected, (int, float)):
        np.testing.assert_allclose(actual, expected, rtol=1e-6 if rtol is None else rtol,
                                   atol=0 if atol is None else atol, err_msg=what)
        return
    assert actual == expected, f"{what}: {actual!r} != {expected!r}"


def check(fn, *inputs, rtol=None, atol=None, grad=True, check_stride=False, grad_rtol=None,
          grad_atol=None, seed=0, same_node=True):
    """Run ``fn(lib, *tensors)`` in both libraries and compare results, gradients, errors;
    ``same_node=False`` for composites whose last node is not torch's fused one (gradients
    are still compared, the output's grad_fn name is not)."""
    args = [_as_arg(x) for x in inputs]
    torch_args, tt_args = [], []
    for a in args:
        if isinstance(a, Arg):
            t, tt = make_pair(a)
        else:
            t = tt = a
        torch_args.append(t)
        tt_args.append(tt)
    try:
        expected = fn(torch, *torch_args)
    except Exception as exc:  # noqa: BLE001 - the oracle decides which errors are expected
        if ORACLE_DEVICE != "cpu" and isinstance(exc, NotImplementedError) and "_cuda\"" in str(exc):
            # torch's CUDA build lacks this kernel (integer matmul ...); its CPU build, the
            # oracle in CI, has it and checks the same call there
            pytest.skip(f"no torch CUDA kernel to compare with: {exc}")
        try:
            fn(tritensor, *tt_args)
            wait_for_device()  # a kernel's finding (an out-of-range class index) is raised here
        except Exception as ours:  # noqa: BLE001
            assert isinstance(ours, type(exc)) or type(exc) in type(ours).__mro__, \
                f"torch raised {type(exc).__name__}({exc}), tritensor raised {type(ours).__name__}({ours})"
            return None
        raise AssertionError(f"torch raised {type(exc).__name__}({exc}); tritensor did not raise")
    actual = fn(tritensor, *tt_args)
    assert_same(expected, actual, rtol=rtol, atol=atol, check_stride=check_stride)
    if grad and any(isinstance(a, Arg) and a.requires_grad for a in args):
        _check_grads(expected, actual, args, torch_args, tt_args, grad_rtol or rtol, grad_atol or atol, seed,
                     same_node)
    return actual


def _differentiable_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, (torch.Tensor, tritensor.Tensor)) and o.requires_grad]


def _check_grads(expected, actual, args, torch_args, tt_args, rtol, atol, seed, same_node=True):
    rng = np.random.default_rng(seed)
    t_outs, a_outs = _differentiable_outputs(expected), _differentiable_outputs(actual)
    assert len(t_outs) == len(a_outs), "a different number of outputs requires grad"
    if not t_outs:
        return
    for t, a in zip(t_outs, a_outs):
        assert not same_node or type(a.grad_fn).__name__ == type(t.grad_fn).__name__, \
            f"grad_fn {type(a.grad_fn).__name__} != {type(t.grad_fn).__name__}"
    seeds = [rng.standard_normal(tuple(t.shape)) for t in t_outs]
    torch.autograd.backward(t_outs, [torch.tensor(s, dtype=t.dtype, device=ORACLE_DEVICE)
                                     for s, t in zip(seeds, t_outs)])
    tritensor.autograd.backward(a_outs, [tritensor.tensor(s, dtype=a.dtype, device=DEVICE)
                                         for s, a in zip(seeds, a_outs)])
    for i, (arg, t, a) in enumerate(zip(args, torch_args, tt_args)):
        if isinstance(arg, Arg) and arg.requires_grad:
            if t.grad is None:
                assert a.grad is None, f"grad of input {i}: expected None"
                continue
            assert a.grad is not None, f"grad of input {i} is None"
            assert_same(t.grad, a.grad, rtol=rtol, atol=atol, what=f"grad of input {i}")


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Finite differences in float64 against tritensor's analytic gradients."""
    inputs = [tritensor.tensor(np.asarray(a, np.float64), device=DEVICE, requires_grad=True) for a in arrays]
    out = fn(tritensor, *inputs)
    seed = np.random.default_rng(1).standard_normal(tuple(out.shape))
    analytic = tritensor.autograd.grad(out, inputs, tritensor.tensor(seed, device=DEVICE), allow_unused=True)
    for k, a in enumerate(arrays):
        base = np.array(a, np.float64, order="C")  # C order: ``flat`` below is a view, never a copy
        numeric = np.zeros_like(base)
        flat = base.reshape(-1)
        assert np.shares_memory(flat, base)
        for i in range(flat.size):
            orig = flat[i]
            vals = []
            for delta in (eps, -eps):
                flat[i] = orig + delta
                args = [tritensor.tensor(base if j == k else np.asarray(arrays[j], np.float64), device=DEVICE)
                        for j in range(len(arrays))]
                vals.append((to_numpy(fn(tritensor, *args)) * seed).sum())
            flat[i] = orig
            numeric.reshape(-1)[i] = (vals[0] - vals[1]) / (2 * eps)
        got = np.zeros_like(base) if analytic[k] is None else to_numpy(analytic[k])
        np.testing.assert_allclose(got, numeric, rtol=rtol, atol=atol, err_msg=f"gradcheck input {k}")


def copied_state(module):
    """A torch module's state_dict as tritensor tensors on DEVICE."""
    return {k: tritensor.tensor(v.detach().numpy(), device=DEVICE) for k, v in module.state_dict().items()}


def module_pair(name, *args, **kwargs):
    """``torch.nn.<name>(*args, **kwargs)`` and tritensor's on DEVICE, holding torch's state."""
    ref = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(tritensor.nn, name)(*args, **kwargs).to(DEVICE)
    ours.load_state_dict(copied_state(ref))
    return ref, ours


def compare_modules(ref, ours, x, seed=0, **forward_kwargs):
    """One forward (``forward_kwargs`` too) and backward of both modules on float32 ``x``: the
    outputs, the input's and parameters' gradients and the buffers. A tuple output's first
    element gets the backward (a random gradient drawn with ``seed``)."""
    x = x.astype(np.float32)
    a, b = torch.tensor(x, requires_grad=True), tritensor.tensor(x, device=DEVICE, requires_grad=True)
    out_ref, out = ref(a, **forward_kwargs), ours(b, **forward_kwargs)
    assert_same(out_ref, out)
    first_ref, first = (out_ref[0], out[0]) if isinstance(out_ref, tuple) else (out_ref, out)
    grad = np.random.default_rng(seed).standard_normal(tuple(first_ref.shape)).astype(np.float32)
    first_ref.backward(torch.tensor(grad))
    first.backward(tritensor.tensor(grad, device=DEVICE))
    assert_same(a.grad, b.grad, what="input grad")
    for (n, p), (_, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert_same(p.grad, q.grad, what=f"grad of {n}")
    for (n, p), (_, q) in zip(ref.named_buffers(), ours.named_buffers()):
        assert_same(p, q, what=f"buffer {n}")
