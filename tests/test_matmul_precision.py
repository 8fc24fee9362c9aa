"""fp32 matmul precision flags, the fused addmm epilogue, matmul tile classes and split-K,
edge shapes, and the GPU launch path's specialisation key.

Runs on every test device; on 'cuda' (the interpreter in CI) ``force_tile`` drives each
tile class and the split-K path with small shapes.
"""
import os

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, ORACLE_DEVICE, Arg, check, dev
from tritensor.backends import precision
from tritensor.kernels.triton import matmul as mm_k

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    if dtype in ("int64", "int32", "int16", "int8", "uint8"):
        return rng.integers(0 if dtype == "uint8" else -4, 5, shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float64 if dtype in ("float16", "bfloat16") else dtype)


def dtypes(*names):
    """Parameters; integer products only where torch can be the oracle (its CUDA build has none)."""
    no_int = pytest.mark.skipif(ORACLE_DEVICE != "cpu", reason="torch has no integer matmul on CUDA")
    return [pytest.param(n, marks=no_int) if n.startswith(("int", "uint")) else n for n in names]


def A(*shape, dtype="float32", grad=False, transpose=False):
    """A tensor argument of ``shape``; ``transpose``: a non-contiguous (transposed) view of
    that shape."""
    return Arg(data(*shape, dtype=dtype), dtype, requires_grad=grad, transpose=transpose)


@pytest.fixture(autouse=True)
def _restore_precision():
    """Every test starts at torch's defaults and leaves them so (both libraries)."""
    torch.set_float32_matmul_precision("highest")
    tritensor.set_float32_matmul_precision("highest")
    yield
    torch.set_float32_matmul_precision("highest")
    tritensor.set_float32_matmul_precision("highest")


# ------------------------------------------------------------------ flags
def test_defaults_match_torch():
    assert tritensor.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    assert tritensor.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
    assert tritensor.backends.cudnn.allow_tf32 is torch.backends.cudnn.allow_tf32 is True
    assert tritensor.backends.cuda.matmul.fp32_precision == "ieee"


@pytest.mark.parametrize("name", ["high", "medium", "highest"])
def test_set_precision_drives_allow_tf32(name):
    for lib in (torch, tritensor):
        lib.set_float32_matmul_precision(name)
        assert lib.get_float32_matmul_precision() == name
    assert tritensor.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32


@pytest.mark.parametrize("value", [True, False])
def test_allow_tf32_drives_precision(value):
    for lib in (torch, tritensor):
        lib.backends.cuda.matmul.allow_tf32 = value
    assert tritensor.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    assert tritensor.backends.cuda.matmul.fp32_precision == ("tf32" if value else "ieee")


def test_tf32x3_extension():
    tritensor.backends.cuda.matmul.fp32_precision = "tf32x3"
    assert tritensor.get_float32_matmul_precision() == "high"
    assert tritensor.backends.cuda.matmul.allow_tf32 is False  # no plain-TF32 rounding of results
    assert precision.fp32_precision() == "tf32x3"
    with pytest.raises(RuntimeError, match="fp32_precision must be one of"):
        tritensor.backends.cuda.matmul.fp32_precision = "bf16x9"


def test_bad_values_behave_like_torch():
    for lib in (torch, tritensor):
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            lib.set_float32_matmul_precision("HIGH")
        assert lib.get_float32_matmul_precision() == "highest"  # no effect
        with pytest.raises(RuntimeError, match="expects a str"):
            lib.set_float32_matmul_precision(3)
        with pytest.raises(RuntimeError, match="expects a bool"):
            lib.backends.cuda.matmul.allow_tf32 = 1
        with pytest.raises(AttributeError, match="Unknown attribute"):
            lib.backends.cuda.matmul.no_such_flag = True
        with pytest.raises(AttributeError, match="Unknown attribute"):
            lib.backends.cuda.matmul.no_such_flag  # noqa: B018
    tritensor.backends.cudnn.allow_tf32 = False  # accepted (no cuDNN here)
    assert tritensor.backends.cudnn.allow_tf32 is False
    tritensor.backends.cudnn.allow_tf32 = True


@pytest.mark.skipif(DEVICE == "cpu", reason="the precision reaches the Triton kernel only on 'cuda'")
@pytest.mark.parametrize("setting,expected", [("highest", "ieee"), ("high", "tf32"), ("medium", "tf32"),
                                              ("tf32x3", "tf32x3")])
def test_kernel_gets_the_precision(monkeypatch, setting, expected):
    from tritensor.backends import cuda as cuda_backend
    from tritensor.backends import cuda_replay
    monkeypatch.setattr(cuda_replay, "ENABLED", False)  # a replay would not pass through the spy
    seen = []
    real = cuda_backend.launch

    def spy(kernel, grid, *args, **options):
        if kernel is mm_k.bmm_kernel:
            seen.append(args[24])  # PRECISION
        return real(kernel, grid, *args, **options)
    monkeypatch.setattr(cuda_backend, "launch", spy)
    if setting == "tf32x3":
        tritensor.backends.cuda.matmul.fp32_precision = setting
    else:
        tritensor.set_float32_matmul_precision(setting)
    x = tritensor.ones(4, 4, device=DEVICE)
    x @ x
    x.half() @ x.half()
    assert seen == [expected, "tf32"]  # 16-bit products ignore it


K_MAJOR_CASES = {  # (B, M, K) and (B, K, N) operands of bmm, as (batch, a, b) callables
    "row-major b": lambda lib, a, b: a @ b,
    "transposed a": lambda lib, a, b: a.t() @ b.t(),
    "linear layout (b = w.t())": lambda lib, a, b: a @ b.t(),
    "batched, b broadcast": lambda lib, a, b: a.expand(3, *a.shape) @ b,
    "addmm": lambda lib, a, b: lib.addmm(a[:, :1], a, b, beta=0.5),
}


@pytest.mark.skipif(DEVICE == "cpu", reason="operand staging is the Triton path's")
@pytest.mark.parametrize("setting", ["tf32", "tf32x3"])
@pytest.mark.parametrize("case", list(K_MAJOR_CASES))
def test_tf32_operands_reach_the_kernel_k_major(monkeypatch, setting, case):
    """A TF32 product hands the kernel K-major operands (copying the others first, see
    ``backends/cuda._k_major``): the same numbers as the product on the original layout."""
    from tritensor.backends import cuda as cuda_backend
    from tritensor.backends import cuda_replay
    monkeypatch.setattr(cuda_replay, "ENABLED", False)  # a replay would not pass through the spy
    tritensor.backends.cuda.matmul.fp32_precision = setting
    op = K_MAJOR_CASES[case]
    a, b = tritensor.tensor(data(24, 24), device=DEVICE), tritensor.tensor(data(24, 24), device=DEVICE)
    unstaged = op(tritensor, a, b).cpu().numpy()
    strides = []
    real = cuda_backend.launch

    def spy(kernel, grid, *args, **options):
        if kernel is mm_k.bmm_kernel:
            strides.append((args[10], args[12]))  # A's and B's K strides
        return real(kernel, grid, *args, **options)
    monkeypatch.setattr(cuda_backend, "launch", spy)
    monkeypatch.setattr(cuda_backend, "K_MAJOR_MIN_MACS", 0)
    staged = op(tritensor, a, b).cpu().numpy()
    assert strides == [(1, 1)]
    np.testing.assert_array_equal(staged, unstaged)


@pytest.mark.parametrize("b,r,c", [(1, 300, 257), (3, 17, 70), (2, 1, 5)])
@pytest.mark.parametrize("layout", ["transpose", "same", "from broadcast batch"])
def test_copy_into_another_layout(b, r, c, layout):
    """The K-major staging's copy (tiled on 'cuda' where the layouts differ) over edge sizes."""
    values = data(b, r, c)
    src = tritensor.tensor(values, device=DEVICE)
    if layout == "from broadcast batch":
        values = np.broadcast_to(values[:1], values.shape)
        src = src[:1].expand(b, r, c)
    strides = (r * c, 1, r) if layout != "same" else (r * c, c, 1)
    dst = tritensor.empty_strided((b, r, c), strides, device=DEVICE)
    dst.copy_(src)
    assert dst.stride() == strides
    np.testing.assert_array_equal(dst.cpu().numpy(), values)


def _relative_error(got, a, b):
    """max |got - a@b| relative to max |a@b|, the reference in float64."""
    ref = a.astype(np.float64) @ b.astype(np.float64)
    return np.abs(got.astype(np.float64) - ref).max() / np.abs(ref).max()


@pytest.mark.parametrize("setting", ["highest", "tf32x3"])
@pytest.mark.parametrize("m,k,n", [(64, 512, 48), (33, 1000, 17)])
def test_fp32_accuracy_against_float64(setting, m, k, n):
    """'highest' is IEEE fp32 accuracy; 3xTF32 must reach it too (relative error <= 1e-5)."""
    if setting == "tf32x3":
        tritensor.backends.cuda.matmul.fp32_precision = "tf32x3"
    a, b = data(m, k), data(k, n)
    got = (tritensor.tensor(a, device=DEVICE) @ tritensor.tensor(b, device=DEVICE)).cpu().numpy()
    assert _relative_error(got, a, b) <= 1e-5


# ------------------------------------------------------------------ addmm epilogue
@pytest.mark.parametrize("bias_shape", [(5,), (1, 5), (4, 1), (4, 5), ()])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1), (2, 0)])
def test_addmm_values_and_grads(bias_shape, beta, alpha):
    check(lambda lib, c, a, b: lib.addmm(c, a, b, beta=beta, alpha=alpha),
          A(*bias_shape, grad=True), A(4, 7, grad=True), A(7, 5, grad=True))


@pytest.mark.parametrize("dtype", dtypes("float32", "float64", "float16", "bfloat16", "int64"))
def test_addmm_dtypes(dtype):
    beta, alpha = (2, 3) if dtype == "int64" else (0.3, 0.1)
    check(lambda lib, c, a, b: (lib.addmm(c, a, b, beta=beta, alpha=alpha), lib.addmm(c, a, b)),
          A(6, dtype=dtype), A(5, 9, dtype=dtype), A(9, 6, dtype=dtype))


def test_addmm_beta_zero_ignores_nan_bias():
    c = np.full((3, 2), np.nan, np.float32)
    check(lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), Arg(c), A(3, 4), A(4, 2))


def test_addmm_transposed_operands_and_out():
    c, a = A(6, 5, transpose=True, grad=True), A(6, 8, transpose=True, grad=True)
    assert check(lambda lib, c, a, b: (lib.addmm(c, a, b, alpha=0.5), lib.addmm(c.t(), b.t(), a.t())),
                 c, a, A(8, 5, grad=True)) is not None

    def with_out(lib, c, a, b):
        out = lib.empty(6, 5, device=dev(lib))
        lib.addmm(c, a, b, out=out)
        return out
    check(with_out, A(5), A(6, 8), A(8, 5))


def test_addmm_bias_of_other_dtype_follows_the_general_path():
    check(lambda lib, c, a, b: lib.addmm(c, a, b), A(5, dtype="float64"), A(4, 3), A(3, 5))


# ------------------------------------------------------------------ tile classes and split-K
TILES = [mm_k.Tile("small", 32, 16, 16, 4, 1), mm_k.Tile("small", 32, 16, 16, 4, 3),
         mm_k.Tile("tall", 64, 16, 16, 8, 1), mm_k.Tile("wide", 16, 64, 32, 1, 2),
         mm_k.Tile("large", 64, 64, 32, 8, 1)]


@pytest.mark.parametrize("tile", TILES, ids=lambda t: f"{t.shape_class}-split{t.splits}")
@pytest.mark.parametrize("dtype", dtypes("float32", "bfloat16", "float64", "int64"))
def test_every_tile_and_split_k(tile, dtype):
    with mm_k.force_tile(tile):
        check(lambda lib, a, b: (a @ b, lib.bmm(a.expand(2, 37, 70), b.expand(2, 70, 29))),
              A(37, 70, dtype=dtype), A(70, 29, dtype=dtype))
        a = A(37, 70, dtype=dtype, transpose=True)
        assert check(lambda lib, c, a, b: lib.addmm(c, a, b, beta=2, alpha=3),
                     A(29, dtype=dtype), a, A(70, 29, dtype=dtype)) is not None


@pytest.mark.parametrize("tile", TILES[:2], ids=lambda t: f"split{t.splits}")
def test_split_k_grads(tile):
    with mm_k.force_tile(tile):
        b = A(80, 9, grad=True, transpose=True)
        assert check(lambda lib, c, a, b: lib.addmm(c, a, b, alpha=0.5), A(1, 9, grad=True),
                     A(12, 80, grad=True), b) is not None


#: tile kind -> (dtype, fp32 precision setting) of the products that use it
_KIND_CASES = {"mma": [("float16", None), ("bfloat16", None)], "tf32": [("float32", "tf32")],
               "tf32x3": [("float32", "tf32x3")], "ieee": [("float32", None)], "cores": [("float64", None)]}
#: a real GPU rounds TF32 operands to 10 mantissa bits (2^-11 relative each); the interpreter
#: computes in fp32. Other kinds keep their dtype's tolerance.
_TF32_TOLERANCE = {"rtol": 1e-2, "atol": 1e-2}


@pytest.mark.skipif(DEVICE == "cpu", reason="the Triton path's tiles")
@pytest.mark.parametrize("tile,dtype,setting", [
    pytest.param(tile, dtype, setting, id=f"{cls}-{kind}-{dtype}-{setting or 'default'}")
    for (cls, kind), tile in mm_k._TILES.items() for dtype, setting in _KIND_CASES[kind]])
def test_the_gpu_tiles(tile, dtype, setting):
    """Each tile a real GPU picks (``_TILES``; the interpreter otherwise runs only its own), on
    a product with partial tiles on every side, and, for the large tiles, split-K: run here,
    the launches are recorded and bench/compile_check.py compiles them for sm_90 in CI, where
    a tile over the 227 KiB of shared memory fails (as 128x128x64 fp32 tiles did on the H200)."""
    if setting is not None:
        tritensor.backends.cuda.matmul.fp32_precision = setting
    tolerance = _TF32_TOLERANCE if setting == "tf32" else {}
    m, n, k = tile.block_m + 3, tile.block_n + 1, 2 * tile.block_k + 5
    for splits in (1, 2) if tile.shape_class == "large" else (1,):
        with mm_k.force_tile(tile._replace(splits=splits)):
            check(lambda lib, a, b: a @ b, A(m, k, dtype=dtype), A(k, n, dtype=dtype), **tolerance)


def test_shape_classes_and_split_k_choice():
    sms = 132
    assert mm_k.shape_class(1, 8192, 8192, sms) == "large"
    assert mm_k.shape_class(1, 1024, 1024, sms) == "small"  # 64 tiles of 128x128 < 132 SMs
    assert mm_k.shape_class(1, 1 << 16, 32, sms) == "tall"
    assert mm_k.shape_class(1, 16, 1 << 16, sms) == "wide"
    big = mm_k.choose_tile(1, 8192, 8192, 8192, "mma", sms, False)
    assert (big.block_m, big.block_n, big.splits) == (128, 256, 1)
    deep = mm_k.choose_tile(1, 64, 64, 1 << 16, "mma", sms, False)
    assert deep.shape_class == "small" and 1 < deep.splits <= 16
    assert mm_k.choose_tile(1, 64, 64, 64, "mma", sms, False).splits == 1  # too short to split
    assert mm_k.choose_tile(1, 8192, 8192, 8192, "mma", sms, True) == mm_k.INTERPRETER_TILE
    with mm_k.force_tile(TILES[1]):
        assert mm_k.choose_tile(1, 8192, 8192, 8192, "mma", sms, False) == TILES[1]


# ------------------------------------------------------------------ edge shapes
@pytest.mark.parametrize("m,k,n", [(1, 70, 1), (9, 1, 7), (65, 33, 17), (0, 4, 3), (3, 4, 0), (3, 0, 5),
                                   (130, 3, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_mm_edge_shapes(m, k, n, dtype):
    check(lambda lib, a, b: (lib.mm(a, b), a.t().t() @ b), A(m, k, dtype=dtype), A(k, n, dtype=dtype))
    check(lambda lib, a, b: lib.mm(a.t(), b.t()), A(k, m, dtype=dtype, transpose=True),
          A(n, k, dtype=dtype, transpose=True))


def test_mm_edge_shape_grads():
    check(lambda lib, c, a, b: lib.addmm(c, a, b), A(1, grad=True), A(1, 70, grad=True), A(70, 1, grad=True))
    check(lambda lib, a, b: a @ b, A(9, 1, grad=True), A(1, 7, grad=True))


# ------------------------------------------------------------------ launch path (no GPU needed)
def test_launch_key_separates_what_triton_specialises():
    """Two arguments with the same key must get the same triton specialisation, or the
    cached compiled kernel would be launched with arguments it was not compiled for."""
    native = pytest.importorskip("triton._C.libtriton").native_specialize_impl
    from triton.backends.compiler import BaseBackend
    from tritensor.backends.cuda_memory import KernelPointer
    from tritensor.kernels.triton.launch import spec

    class Storage:
        def __init__(self, ptr):
            self.ptr = ptr

    def specialise(a):
        return native(BaseBackend, a, False, True, True)

    values = [0, 1, 2, 15, 16, 32, -1, -16, 2**31 - 16, 2**31, 2**31 + 1, -2**31, -2**31 - 16, 2**40,
              2**63 - 1, 2**63, True, False, 0.5, 1.0, (1, 16), (16, 3)]
    values += [KernelPointer(Storage(p), off, d) for p in (1 << 20, (1 << 20) + 8) for off in (0, 4, 16)
               for d in ("float32", "bfloat16", "int1")]
    for x in values:
        for y in values:
            if type(x) is type(y) and spec(x) == spec(y):
                assert specialise(x) == specialise(y), (x, y)


def test_warmup_compiles_common_kernels():
    if DEVICE == "cpu":
        pytest.skip("warm-up is for the 'cuda' device")
    assert tritensor.cuda.warmup(dtypes=(tritensor.float32,)) is None


def test_direct_launch_calls_the_compiled_launcher(monkeypatch):
    """The GPU path (run here against a stand-in kernel): one warm-up per specialisation with
    the compile options, then ``compiled.run`` with a 3-D grid, the current stream, int
    pointers and every argument (constexprs included); hooks only when registered."""
    from triton import knobs
    from tritensor.backends.cuda_memory import KernelPointer
    from tritensor.kernels.triton import launch as launch_mod

    class Param:
        def __init__(self, constexpr):
            self.is_constexpr = constexpr

    class Compiled:
        function, packed_metadata = "fn", ("meta",)

        def __init__(self):
            self.calls = []

        def run(self, *args):
            self.calls.append(args)

        def launch_metadata(self, grid, stream, *args):
            return ("launch-metadata", grid)

    class Kernel:
        params = [Param(False), Param(False), Param(True)]

        def __init__(self):
            self.warmups = []
            self.compiled = Compiled()

        def warmup(self, *args, grid, **options):
            self.warmups.append((args, options))
            return self.compiled

    class Storage:
        ptr = 4096

    class Stream:
        cuda_stream = 7

    monkeypatch.setattr(tritensor.cuda, "_current_stream_handle", lambda: Stream.cuda_stream)
    monkeypatch.setattr(launch_mod, "_compiled", {})
    kernel = Kernel()
    ptr = KernelPointer(Storage(), 32, "float32")
    launch_mod._launch_compiled(kernel, (5,), (ptr, 1024, 64), {"num_warps": 8})
    launch_mod._launch_compiled(kernel, (6, 2), (ptr, 1040, 64), {"num_warps": 8})  # same specialisation
    assert [w[1] for w in kernel.warmups] == [{**launch_mod.COMPILE_OPTIONS, "num_warps": 8}]
    assert kernel.compiled.calls == [(5, 1, 1, 7, "fn", ("meta",), None, None, None, 4128, 1024, 64),
                                     (6, 2, 1, 7, "fn", ("meta",), None, None, None, 4128, 1040, 64)]
    launch_mod._launch_compiled(kernel, (1,), (ptr, 1025, 64), {"num_warps": 8})  # not divisible by 16
    launch_mod._launch_compiled(kernel, (1,), (ptr, 1024, 32), {"num_warps": 8})  # another constexpr
    launch_mod._launch_compiled(kernel, (1,), (ptr, 1024, 64), {"num_warps": 4})  # another option
    assert len(kernel.warmups) == 4
    hook = knobs.runtime.launch_enter_hook
    hook.add(print)
    try:
        launch_mod._launch_compiled(kernel, (3,), (ptr, 1024, 64), {"num_warps": 8})
    finally:
        hook.remove(print)
    assert kernel.compiled.calls[-1][6] == ("launch-metadata", (3, 1, 1))
    assert kernel.compiled.calls[-1][7] is hook


def test_interpreter_refuses_numpy_scalars():
    if DEVICE == "cpu" or os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("the interpreter's check, on the emulated 'cuda' device")
    from tritensor.backends import cuda as cuda_backend
    with pytest.raises(TypeError, match="numpy scalar"):
        cuda_backend.launch(mm_k.splitk_kernel, (1,), np.int64(3))
