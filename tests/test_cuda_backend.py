"""Device 'cuda' on the emulated device: tritensor's Triton kernels run in Triton's interpreter.

Every op result is compared with torch on the CPU through the shared harness with its
device switched to 'cuda'. It runs in the emulated-cuda pass of .ci/run
(TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda): the interpreter must be on before any
Triton kernel module is imported (``@triton.jit`` decides then), which the CPU pass, whose
other test modules import kernels while collecting, cannot promise.
Shapes stay small: the interpreter runs each kernel program in Python.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") != "1" or os.environ.get("TRITENSOR_TEST_DEVICE") != "cuda":
    pytest.skip("runs in the emulated-cuda pass: TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda",
                allow_module_level=True)

import harness  # noqa: E402
import tritensor  # noqa: E402
from harness import Arg, check, gradcheck  # noqa: E402


def data(shape, dtype="float32", lo=-2.0, hi=2.0, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in harness.INT_DTYPES:
        lo, hi = (0, 9) if dtype == "uint8" else (-9, 9)
        return rng.integers(lo, hi, size=shape).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(np.float64 if dtype == "bfloat16" else dtype)


def cuda(x, dtype=None):
    return tritensor.tensor(x, dtype=dtype, device="cuda")


# ------------------------------------------------------------------ device, memory, module
def test_device_module_reports_the_emulated_device():
    assert tritensor.cuda.is_available()
    assert tritensor.cuda.device_count() == 1
    assert tritensor.cuda.current_device() == 0
    assert "emulated" in tritensor.cuda.get_device_name()
    t = tritensor.ones(3, device="cuda")
    assert t.device == tritensor.device("cuda", 0) and t.is_cuda and t.get_device() == 0
    assert repr(t) == "tensor([1., 1., 1.], device='cuda:0')"
    tritensor.cuda.synchronize()


def test_round_trips_keep_values_and_dtypes():
    for name in harness.ALL_DTYPES:
        a = data((3, 4), name)
        t = tritensor.tensor(a, dtype=harness.TT_DTYPES[name])
        g = t.to("cuda")
        assert g.device.type == "cuda" and g.dtype is t.dtype
        back = g.cpu()
        assert back.device.type == "cpu"
        np.testing.assert_array_equal(harness.to_numpy(back), harness.to_numpy(t))
        np.testing.assert_array_equal(harness.to_numpy(g.t().cpu()), harness.to_numpy(t.t()))
    g = cuda([[1.5, 2.5]])
    assert g.tolist() == [[1.5, 2.5]] and g[0, 1].item() == 2.5
    assert g.cuda() is g and g.to("cuda:0") is g
    assert g.to("cuda", tritensor.float64).dtype is tritensor.float64


def test_numpy_of_a_cuda_tensor_raises_like_torch():
    with pytest.raises(TypeError, match="cpu"):
        cuda([1.0]).numpy()


def test_memory_statistics_follow_allocations():
    before = tritensor.cuda.memory_allocated()
    t = tritensor.empty(1000, device="cuda")
    assert tritensor.cuda.memory_allocated() - before == 4096  # 4000 bytes in 512-byte blocks
    assert tritensor.cuda.max_memory_allocated() >= tritensor.cuda.memory_allocated()
    del t
    assert tritensor.cuda.memory_allocated() == before
    tritensor.cuda.reset_peak_memory_stats()
    assert tritensor.cuda.max_memory_allocated() == before
    tritensor.cuda.empty_cache()


def test_out_of_memory_names_sizes_and_allocator_recovers():
    tritensor.cuda.set_per_process_memory_fraction(0.0)
    try:
        with pytest.raises(tritensor.cuda.OutOfMemoryError, match="Tried to allocate 4.00 KiB") as info:
            tritensor.empty(1024, device="cuda")
        assert isinstance(info.value, RuntimeError) and "free" in str(info.value)
    finally:
        tritensor.cuda.set_per_process_memory_fraction(1.0)
    assert tritensor.ones(4, device="cuda").sum().item() == 4


def test_invalid_device_index_raises():
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        tritensor.zeros(2, device="cuda:3")


def test_events_measure_time_and_streams_exist():
    start = tritensor.cuda.Event(enable_timing=True)
    end = tritensor.cuda.Event(enable_timing=True)
    start.record()
    cuda([1.0, 2.0]).exp()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    s = tritensor.cuda.Stream()
    with tritensor.cuda.stream(s):
        assert tritensor.cuda.current_stream() is s
    assert tritensor.cuda.current_stream() == tritensor.cuda.default_stream()


@pytest.mark.parametrize("fn", [lambda lib, a, b: a + b, lambda lib, a, b: lib.cat([a, b]),
                                lambda lib, a, b: a @ b, lambda lib, a, b: lib.where(a > 0, a, b)])
def test_mixing_devices_raises(fn):
    a = cuda(data((2, 2)))
    b = tritensor.tensor(data((2, 2)))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        fn(tritensor, a, b)


def test_zero_dim_cpu_tensor_joins_a_cuda_op_as_a_scalar():
    check(lambda lib, x: x * lib.tensor(3.0) + lib.tensor(1, dtype=lib.int64),
          Arg(data((3,))))


# ------------------------------------------------------------------ elementwise
UNARY = ["neg", "abs", "sign", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
         "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
         "asinh", "atanh", "angle",
         "sigmoid", "relu", "erf", "floor", "ceil", "round", "trunc", "frac", "isnan", "isinf",
         "isfinite", "logical_not"]
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "reciprocal"}
UNIT = {"asin", "acos", "atanh"}


@pytest.mark.parametrize("name", UNARY)
def test_unary(name):
    lo, hi = (0.1, 3.0) if name in POSITIVE else (-0.95, 0.95) if name in UNIT else (-3.0, 3.0)
    x = data((5, 7), "float32", lo, hi)
    x[0, :3] = [0.5, -2.5, 1e-4]  # round-half-even and tiny arguments (log1p/expm1)
    check(lambda lib, t: getattr(lib, name)(t), Arg(x))


def test_unary_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e30, 88.0], np.float32)
    check(lambda lib, t: (t.exp(), t.sigmoid(), t.tanh(), t.relu(), t.sign(), t.abs(), t.expm1(),
                          t.isnan(), t.isinf(), t.clamp(-1, 1), lib.nan_to_num(t), t.floor()), Arg(x))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "atan2", "maximum", "minimum",
                                  "remainder", "fmod", "floor_divide", "eq", "lt", "ge", "ne"])
def test_binary_with_broadcast(name):
    a = data((3, 1), "float32", 0.5, 3.0)
    b = data((1, 4), "float32", -3.0, 3.0, seed=1)
    b[0, 0] = 2.0
    check(lambda lib, x, y: getattr(lib, name)(x, y), Arg(a), Arg(b))


@pytest.mark.parametrize("dtype", harness.ALL_DTYPES)
def test_dtypes_add_mul_compare(dtype):
    check(lambda lib, x, y: (x * y + x, x == y, x.to(lib.float32), lib.maximum(x, y)),
          Arg(data((4, 5), dtype), dtype), Arg(data((4, 5), dtype, seed=2), dtype))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
def test_integer_division_and_bit_ops(dtype):
    a = data((6,), dtype)
    b = np.array([3, -2, 5, 1, 7, -4] if dtype != "uint8" else [3, 2, 5, 1, 7, 4], dtype)
    check(lambda lib, x, y: (x // y, x % y, x & y, x | y, x ^ y, ~x, x ** 2,
                             lib.div(x, y, rounding_mode="trunc")),
          Arg(a, dtype), Arg(b, dtype))


@pytest.mark.parametrize("da,db", [("float16", "float32"), ("bfloat16", "float16"), ("int8", "uint8"),
                                   ("bool", "int32"), ("int64", "float64"), ("bfloat16", "bfloat16")])
def test_promotion(da, db):
    check(lambda lib, x, y: (x + y, x * y, x - y if "bool" not in (da, db) else x + y),
          Arg(data((2, 3), da), da), Arg(data((2, 3), db), db))


@pytest.mark.parametrize("scalar", [2, 2.5, True, -3, 0.1])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "float16", "bfloat16", "float32", "float64", "bool"])
def test_python_scalars(scalar, dtype):
    check(lambda lib, x: (x + scalar, x * scalar, scalar * x, x / scalar, x == scalar),
          Arg(data((3,), dtype), dtype))


def test_float64_scalar_keeps_double_precision():
    check(lambda lib, x: x * 0.1 + 1e-12, Arg(data((4,), "float64")), rtol=1e-15, atol=0)


@pytest.mark.parametrize("shape", [(), (1,), (0,), (0, 3), (1, 1, 1), (1000,), (3, 1000), (17, 33, 5)])
def test_shapes_sizes_and_empty(shape):
    check(lambda lib, x, y: x * 2 - y, Arg(data(shape)), Arg(data(shape, seed=3)))


def test_strided_transposed_and_expanded_inputs_read_in_place():
    a = data((6, 5))
    check(lambda lib, x, y: x.t() + y, Arg(a), Arg(data((5, 6))))
    check(lambda lib, x, y: x + y, Arg(a, transpose=True), Arg(data((5, 6))))
    check(lambda lib, x: x[::2, 1::2] * 3, Arg(a))
    check(lambda lib, x, y: x.expand(4, 6, 5) * y, Arg(a), Arg(data((4, 1, 1))))
    check(lambda lib, x: x.permute(1, 0).unsqueeze(0).expand(3, 5, 6).exp(), Arg(a))


def test_inplace_ops_and_strided_outputs():
    def f(lib, x, y):
        x = x.clone()
        x.t().mul_(2)
        x[:, 1] += y[:, 0]
        x[1:3].clamp_(-1, 1)
        x.add_(y, alpha=0.5)
        return x
    check(f, Arg(data((4, 3))), Arg(data((4, 3), seed=4)))


def test_fill_zero_copy_and_setitem():
    def f(lib, x):
        y = lib.empty(4, 3, device=x.device)
        y.fill_(2.5)
        y[0].zero_()
        y[:, 2] = x[:, 0]
        y.t()[1].copy_(x[:, 1].double())
        z = lib.full((2, 2), 7, dtype=lib.int8, device=x.device)
        return y, z, lib.zeros_like(x), lib.ones(3, dtype=lib.bfloat16, device=x.device)
    check(f, Arg(data((4, 3))))


def test_ternary_and_parameterised_ops():
    check(lambda lib, c, x, y: (lib.where(c, x, y), lib.lerp(x, y, 0.3), lib.clamp(x, min=-0.5),
                                x.clamp(max=y), lib.where(c, x, 0.0)),
          Arg(data((3, 4), "bool"), "bool"), Arg(data((3, 4))), Arg(data((1, 4), seed=5)))


def test_large_offsets_use_int64_index_math(monkeypatch):
    from tritensor.backends import cuda as cuda_backend
    monkeypatch.setattr(cuda_backend, "_I32", 8)
    check(lambda lib, x, y: (x.t() + y, x.sum(0), x.softmax(1), x.cumsum(0), lib.cat([x, x], 1)),
          Arg(data((5, 6))), Arg(data((6, 5), seed=6)))


# ------------------------------------------------------------------ reductions
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False)])
def test_reductions(dim, keepdim):
    x = Arg(data((4, 5, 6)))
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    check(lambda lib, t: (t.sum(**kw), t.mean(**kw), t.amax(**kw), t.amin(**kw), t.var(**kw), t.std(**kw),
                          t.prod(**kw), t.logsumexp(**({"dim": dim if dim is not None else (0, 1, 2),
                                                          "keepdim": keepdim})),
                          t.norm(dim=dim, keepdim=keepdim) if dim is not None else t.norm()), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_argmax_along_dim(dim):
    a = data((5, 7))
    a[2, 3] = a[2, 4] = a.max() + 1  # ties pick the first index
    check(lambda lib, t: (t.max(dim), t.min(dim, keepdim=True), t.argmax(dim), t.argmin(dim), t.argmax(),
                          t.max()), Arg(a))
    check(lambda lib, t: (t.max(dim), t.argmax(dim)), Arg(a, transpose=True))


def test_reductions_of_strided_and_transposed_inputs():
    check(lambda lib, t: (t.sum(0), t.sum(1), t.mean((0, 1)), t.var(0, correction=0)), Arg(data((9, 13)),
                                                                                           transpose=True))
    check(lambda lib, t: t[::2, ::3].sum(1), Arg(data((9, 13))))
    check(lambda lib, t: t.expand(3, 4, 5).sum((0, 2)), Arg(data((4, 1))))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32", "uint8", "bool", "float64"])
def test_reduction_dtypes(dtype):
    check(lambda lib, t: (t.sum(), t.sum(1), t.amax(0), t.any(), t.all(1), t.count_nonzero(0)),
          Arg(data((6, 7), dtype), dtype))


def test_long_reduction_splits_into_partials(monkeypatch):
    from tritensor.backends import cuda as cuda_backend
    merges = []
    merge = cuda_backend._merge
    monkeypatch.setattr(cuda_backend, "_merge", lambda *a: merges.append(a) or merge(*a))
    check(lambda lib, t: (t.sum(), t.amax(), t.mean(), t.var()), Arg(data((300000,))), rtol=1e-4)
    check(lambda lib, t: t.sum(1), Arg(data((2, 300000))), rtol=1e-4)
    assert len(merges) >= 5  # every reduction above took the second launch


def test_reduction_of_empty_and_single_element():
    check(lambda lib, t: (t.sum(), t.sum(0), t.prod(1), t.amax(1)), Arg(data((0, 3)).T.copy()))
    check(lambda lib, t: (t.sum(), t.max(), t.argmax(), t.mean()), Arg(np.array([1.5], np.float32)))
    check(lambda lib, t: (t.sum(), t.argmax()), Arg(np.array(2.5, np.float32)))


def test_nan_propagates_through_max_and_argmax():
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 0.0]], np.float32)
    check(lambda lib, t: (t.amax(1), t.argmax(1), t.argmin(1), t.max()), Arg(a))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dim):
    a = data((5, 40), "float32", -5, 5)
    check(lambda lib, t: (t.softmax(dim), t.log_softmax(dim)), Arg(a, requires_grad=True))
    check(lambda lib, t: t.softmax(dim), Arg(data((5, 3), "float16"), "float16"))


def test_softmax_of_infinite_rows():
    a = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [0.0, -np.inf]], np.float32)
    check(lambda lib, t: (t.softmax(1), t.log_softmax(1)), Arg(a))


@pytest.mark.parametrize("dim", [0, 1])
def test_cumsum_cumprod(dim):
    check(lambda lib, t: (t.cumsum(dim), t.cumprod(dim)), Arg(data((6, 9), "float32", 0.5, 1.5)))
    check(lambda lib, t: t.cumsum(dim), Arg(data((6, 9), "int32"), "int32"))
    check(lambda lib, t: t.cumsum(dim), Arg(data((6, 9)), transpose=True))


# ------------------------------------------------------------------ matmul
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 7), (70, 33, 65), (4, 0, 3)])
def test_mm_shapes(m, k, n):
    check(lambda lib, a, b: a @ b, Arg(data((m, k))), Arg(data((k, n), seed=7)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_mm_dtypes(dtype):
    check(lambda lib, a, b: lib.mm(a, b), Arg(data((20, 48), dtype), dtype),
          Arg(data((48, 17), dtype, seed=8), dtype))


def test_mm_transposed_bmm_matmul_broadcast_and_mv():
    check(lambda lib, a, b: a @ b, Arg(data((7, 5)), transpose=True), Arg(data((6, 4)), transpose=True))
    check(lambda lib, a, b: lib.bmm(a, b), Arg(data((3, 4, 5))), Arg(data((3, 5, 2), seed=9)))
    check(lambda lib, a, b: lib.matmul(a, b), Arg(data((2, 1, 4, 5))), Arg(data((3, 5, 6), seed=9)))
    check(lambda lib, a, b: (a @ b, b @ b), Arg(data((4, 5))), Arg(data((5,), seed=10)))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_mm(dtype):
    check(lambda lib, a, b: (a @ b, lib.bmm(a.unsqueeze(0), b.unsqueeze(0))), Arg(data((5, 7), dtype), dtype),
          Arg(data((7, 3), dtype, seed=17), dtype))


# ------------------------------------------------------------------ joining
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    check(lambda lib, a, b, c: (lib.cat([a, b, c], dim), lib.stack([a, b, c], dim)),
          Arg(data((3, 4))), Arg(data((3, 4), seed=11)), Arg(data((3, 4), seed=12)))


def test_cat_mixed_dtypes_strided_and_empty_inputs():
    check(lambda lib, a, b, c: lib.cat([a, b, c, lib.zeros(0, device=a.device)], 0),
          Arg(data((2, 3)), transpose=True), Arg(data((3, 3), "int64"), "int64"), Arg(data((0, 3))))
    check(lambda lib, a, b: lib.cat([a, b], 1), Arg(data((4, 2), "float16"), "float16"),
          Arg(data((4, 3), "bfloat16"), "bfloat16"))
    check(lambda lib, a: lib.cat([a[:, ::2]] * 20, 1), Arg(data((3, 8))))  # more inputs than one launch takes
    check(lambda lib, a: lib.cat([a.permute(2, 0, 1), a.permute(2, 0, 1)], 1), Arg(data((2, 3, 4))))


# ------------------------------------------------------------------ autograd
def test_autograd_through_cuda_ops_matches_cpu():
    def f(lib, x, w, b):
        h = (x @ w + b).relu()
        return h.softmax(1).log().mean() + (h * h).sum(0).sqrt().sum() + lib.cat([h, x], 1).var()
    check(f, Arg(data((4, 3)), requires_grad=True), Arg(data((3, 5), seed=13), requires_grad=True),
          Arg(data((5,), seed=14), requires_grad=True))


@pytest.mark.parametrize("name", ["mul", "div", "pow", "atan2", "maximum"])
def test_binary_gradients(name):
    a = Arg(data((3, 4), "float64", 0.5, 2), requires_grad=True)
    b = Arg(data((1, 4), "float64", 0.5, 2, seed=15), requires_grad=True)
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b)


def test_gradcheck_on_cuda():
    gradcheck(lambda lib, x, y: (x * y).sin().sum(1, keepdim=True) * x.exp(), data((2, 3), "float64"),
              data((2, 3), "float64", seed=16))


def test_cross_device_copy_is_differentiable():
    def f(lib, x):
        y = (x.cpu() * 2).to(x.device)
        return (y * x).sum()
    check(f, Arg(data((3,)), requires_grad=True))


# ------------------------------------------------------------------ indexing
def test_gather_index_select_take_flip_tril():
    x = data((4, 5))
    idx = np.array([[0, 4, 1], [3, 3, 0]], np.int64)
    check(lambda lib, t, i: (lib.gather(t, 1, i), t.index_select(0, i[0] % 4), t.index_select(1, i[1]),
                             lib.take(t, i - 2), t.flip(0), t.flip((0, 1)), t.tril(), t.triu(1), t.tril(-1)),
          Arg(x, requires_grad=True), Arg(idx, "int64"))
    check(lambda lib, t, i: (t.index_select(0, i), t.flip(1), t.triu()), Arg(x, transpose=True),
          Arg(np.array([4, 0, -1]), "int64"))


def test_optional_backend_hooks_stay_absent():
    from tritensor.backends import cuda as cuda_backend
    assert not hasattr(cuda_backend, "wrap_array")  # optional hooks stay absent
    with pytest.raises(AttributeError):
        cuda_backend.no_such_backend_function


def test_every_cpu_elementwise_kernel_has_a_triton_kernel():
    import inspect
    from tritensor.kernels.numba import elementwise as numba_ew
    from tritensor.kernels.triton import elementwise as triton_ew
    api = {"scalar_function", "ufunc", "flat_kernel", "flat_entry", "rows_kernel", "tiled_kernel",
           "compile_loop", "scalar_op"}
    names = [n.rstrip("_") for n, f in vars(numba_ew).items()
             if inspect.isfunction(f) and f.__module__ == numba_ew.__name__ and not n.startswith("_")
             and n not in api]
    missing = []
    for n in names:
        try:
            triton_ew.scalar_function(n)
        except NotImplementedError:
            missing.append(n)
    assert not missing


def test_scatter_family_masks_and_advanced_indexing():
    x = data((4, 5))
    idx = np.array([[0, 4, 1], [3, 3, 0]], np.int64)

    def f(lib, t, i, src):
        y = t.clone()
        y[1] = 0.5
        y[:, i[0]] = src[0, :3].unsqueeze(0).expand(4, 3) if False else y[:, i[0]] * 2
        z = lib.zeros(4, 5, dtype=t.dtype, device=t.device)
        return (y, z.scatter(1, i, src[:2, :3]), z.scatter_add(0, i % 4, src[:2, :3]),
                z.index_add(1, i[1], src[:, :3]), t.index_fill(0, i[1] % 4, -1.0), t.masked_fill(t > 0, 0.0),
                t[t > 0.5], t[i % 4, i], t[:, [0, 2]], lib.nonzero(t > 0), (t > 0).nonzero(as_tuple=True))
    check(f, Arg(x, requires_grad=True), Arg(idx, "int64"), Arg(data((4, 5), seed=20), requires_grad=True))

    def g(lib, t):
        y = t.clone()
        y[lib.tensor([0, 0, 2], device=t.device)] += 1.0
        rows = lib.tensor([1, 1], device=t.device)
        y.index_put_((rows,), lib.tensor(3.0, device=t.device), accumulate=True)
        y[y < 0] = 0.0
        return y
    check(g, Arg(data((4, 5), "float32")))
    check(g, Arg(data((4, 5), "float16"), "float16"))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int8", "int64", "bool"])
def test_scatter_reductions_with_repeated_indices(dtype):
    idx = np.array([[0, 1, 0, 2], [2, 2, 1, 0]], np.int64)

    def f(lib, t, i, s):
        out = [t.scatter_reduce(0, i, s, "amax"), t.scatter_reduce(0, i, s, "amin", include_self=False),
               t.index_add(0, i[0], s)]
        if dtype != "bool":
            out.append(t.scatter_add(0, i, s))
        return out
    check(f, Arg(data((3, 4), dtype), dtype), Arg(idx, "int64"), Arg(data((2, 4), dtype, seed=21), dtype))


def test_training_steps_match_the_cpu():
    def train(device):
        tritensor.manual_seed(0)
        nn = tritensor.nn
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        opt = tritensor.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = tritensor.randn(16, 4).to(device)
        y = tritensor.randint(0, 3, (16,)).to(device)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    np.testing.assert_allclose(train("cuda"), train("cpu"), rtol=1e-5)
