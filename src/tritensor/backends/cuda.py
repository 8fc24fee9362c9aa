"""The 'cuda' backend: device memory (``cuda_memory``) and tritensor's own Triton kernels.

Same functions and contract as ``backends/cpu.py``: ops hand over tensors whose shapes
and dtypes they already decided; this module describes their memory to a kernel
(pointer, shape and strides, collapsed where dims merge) and launches it. Nothing is
copied to make an input contiguous. With ``TRITON_INTERPRET=1`` the device is emulated:
storage in host memory, and the same kernels run in Triton's interpreter.
"""
from __future__ import annotations

import math

import numpy as np
import triton.language as tl

from .. import dtypes as dt
from ..device import device as _device
from ..kernels.numba.cast import bfloat16_bits_to_float32
from ..kernels.triton import checks as check_k
from ..kernels.triton import elementwise as ew
from ..kernels.triton import indexing as idx_k
from ..kernels.triton import join as join_k
from ..kernels.triton import matmul as mm_k
from ..kernels.triton import random as rnd_k
from ..kernels.triton import reduction as red
from ..kernels.triton import sort as sort_k
from ..kernels.triton.launch import cdiv, compile_kernel, kernel_cache, launch, run_compiled, spec
from .precision import fp32_precision, matmul  # noqa: F401  (tritensor.backends.cuda.matmul)
from ..tensor import Tensor, _contiguous_strides, new_tensor
from . import cpu, cpu_indexing
from . import cuda_errors
from . import cuda_memory as _mem
from .cuda_replay import replayable
from .cuda_memory import KernelPointer, allocate, download, interpreting, upload

if interpreting():  # the emulated device: bfloat16 casts round to nearest even, as on a GPU
    from . import interpreter_rounding
    interpreter_rounding.install()

#: Triton's name of each dtype's storage element (bfloat16 storage is native bf16 here)
_PTR_TYPE = {dt.bool: "int1", dt.uint8: "uint8", dt.int8: "int8", dt.int16: "int16", dt.int32: "int32",
             dt.int64: "int64", dt.float16: "float16", dt.bfloat16: "bfloat16", dt.float32: "float32",
             dt.float64: "float64"}
#: numpy compute dtype -> Triton dtype
_TL = {np.dtype(np.bool_): tl.int1, np.dtype(np.uint8): tl.uint8, np.dtype(np.int8): tl.int8,
       np.dtype(np.int16): tl.int16, np.dtype(np.int32): tl.int32, np.dtype(np.int64): tl.int64,
       np.dtype(np.float32): tl.float32, np.dtype(np.float64): tl.float64}

_I32 = 2**31


def _block(n, gpu_max):
    """Power-of-two block covering ``n`` up to a cap: big under the interpreter (numpy
    vectorises a block; programs are a Python loop), a warp-friendly size on a GPU."""
    cap = 1 << 14 if interpreting() else gpu_max
    return min(cap, max(16, 1 << (n - 1).bit_length()))


def pointer(t: Tensor) -> KernelPointer:
    return KernelPointer(t._storage, t._offset * t.dtype.itemsize, _PTR_TYPE[t.dtype])


def _extent(shape, strides):
    return sum((s - 1) * abs(st) for s, st in zip(shape, strides))


# ------------------------------------------------------------------ memory
def empty(shape, dtype, device=None):
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    device = device if device is not None else _device("cuda", 0)
    storage = allocate(n * dtype.itemsize, device)
    return Tensor._make(storage, shape, _contiguous_strides(shape), 0, dtype)


def ndarray(t: Tensor):
    raise TypeError(f"can't convert {t.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                    "tensor to host memory first.")


def _download_array(t: Tensor) -> np.ndarray:
    """A host copy of the tensor's elements in its storage dtype (any strides)."""
    item = t.dtype.itemsize
    if t.numel() == 0:
        return np.empty(t._shape, t.dtype.storage_np)
    extent = _extent(t._shape, t._stride) + 1
    raw = download(t._storage, t._offset * item, extent * item)
    return np.ndarray(t._shape, t.dtype.storage_np, buffer=raw,
                      strides=tuple(s * item for s in t._stride))


def to_host(t: Tensor) -> np.ndarray:
    """A host numpy copy of the values (bfloat16 widened to float32)."""
    a = _download_array(t)  # already a private copy
    return bfloat16_bits_to_float32(a) if t.dtype is dt.bfloat16 else a


def read(t: Tensor, compute: np.dtype) -> np.ndarray:
    return to_host(t).astype(compute, copy=False)


def write(out: Tensor, values) -> None:
    """Store host ``values`` (array or scalar, broadcastable) into ``out``, cast like torch."""
    staged = cpu.empty(out._shape, out.dtype)
    cpu.write(staged, values)
    if out.is_contiguous():
        upload(out._storage, out._offset * out.dtype.itemsize, cpu.ndarray(staged))
        return
    dense = empty(out._shape, out.dtype, out._storage.device)
    upload(dense._storage, 0, cpu.ndarray(staged))
    copy_(out, dense)


def copy_(dst: Tensor, src: Tensor, non_blocking=False) -> None:
    """``dst[...] = src``; from a host tensor, an upload (asynchronous from pinned memory with
    ``non_blocking``, as in torch)."""
    if src._storage.device.type != "cuda":
        if src.dtype is dst.dtype and src.is_contiguous() and dst.is_contiguous():
            # the host bytes as they are (bfloat16 too): no staging copy, and a page-locked
            # source (pin_memory) reaches the copy engine itself
            upload(dst._storage, dst._offset * dst.dtype.itemsize, cpu.ndarray(src), non_blocking)
        else:
            write(dst, cpu.to_host(src))
        return
    elementwise("identity", dst, (src,), src.dtype.compute_np)


_fill_lanes = {}  # dtype -> _direct_elementwise("identity") of a scalar into that dtype


def fill_(t: Tensor, value) -> None:
    """``t[...] = value``; a contiguous ``t`` (every ``ones_like(loss)`` of a backward) takes
    the direct lane."""
    if t._stride == _contiguous_strides(t._shape):
        direct = _fill_lanes.get(t.dtype)
        if direct is None:
            direct = _fill_lanes[t.dtype] = _direct_elementwise("identity", 1, t.dtype, t.dtype)
        if direct(t, (value,), t.numel()):
            return
    elementwise("identity", t, (value,), t.dtype.compute_np)


# ------------------------------------------------------------------ layout helpers
def _broadcast_strides(t: Tensor, shape):
    """``t``'s strides as a view of the broadcast ``shape`` (stride 0 where broadcast)."""
    lead = len(shape) - len(t._shape)
    return tuple(0 if i < lead or t._shape[i - lead] == 1 else t._stride[i - lead]
                 for i in range(len(shape)))


def _collapse(shape, stride_sets):
    """Drop size-1 dims and merge neighbours that are contiguous in every stride set."""
    dims = [i for i, s in enumerate(shape) if s != 1]
    out_shape, out_sets = [], [[] for _ in stride_sets]
    for i in dims:
        if out_shape and all(st[-1] == s[i] * shape[i] for st, s in zip(out_sets, stride_sets)):
            out_shape[-1] *= shape[i]
            for st, s in zip(out_sets, stride_sets):
                st[-1] = s[i]
            continue
        out_shape.append(shape[i])
        for st, s in zip(out_sets, stride_sets):
            st.append(s[i])
    return tuple(out_shape), [tuple(st) for st in out_sets]


#: tile side of ``elementwise_tile_kernel``: a tile of 8-byte values is 32 KiB of shared memory
_TILE = 64


def _as_tiles(shape, stride_sets):
    """A collapsed layout as a batch of matrices (Z, R, C) for ``elementwise_tile_kernel``, when
    some tensor is contiguous along R and another along C (a transposed operand or a transposing
    copy; an operand broadcast along the other axis does not count: its values repeat, cached),
    else None. The longer matrix axis becomes R, on grid axis 0; the other axes of the grid hold
    65535 at most (beyond, the flat kernel)."""
    if len(shape) == 2:
        shape, stride_sets = (1, *shape), [(0, *s) for s in stride_sets]
    if len(shape) != 3 or not (any(s[1] == 1 and s[2] for s in stride_sets)
                               and any(s[2] == 1 and s[1] for s in stride_sets)):
        return None
    if shape[2] > shape[1]:
        shape, stride_sets = (shape[0], shape[2], shape[1]), [(s[0], s[2], s[1]) for s in stride_sets]
    if shape[0] > 65535 or cdiv(shape[2], _TILE) > 65535:
        return None
    return shape, stride_sets


# ------------------------------------------------------------------ elementwise
def _scalar_arg(x, compute: np.dtype):
    """A scalar operand as Triton receives it: float64 travels as its int64 bits. Python
    numbers are converted once per (type, value, dtype): the same few (1, 0.5, lr, relu's
    threshold 0.0 ...) come back on every step, and the conversion goes through numpy."""
    kind = type(x)
    if kind is int or kind is bool or kind is float:
        # 0.0 == -0.0 as dict keys, though their bits differ: a float zero is keyed by its sign
        key = (kind, x, compute) if kind is not float or x != 0.0 else (compute, math.copysign(1.0, x))
        v = _scalar_args.get(key)
        if v is None:
            if len(_scalar_args) > 4096:
                _scalar_args.clear()
            v = _scalar_args[key] = _convert_scalar(x, compute)
        return v
    # a 0-d CPU tensor joining a cuda op acts as a scalar
    return _convert_scalar(x.item() if isinstance(x, Tensor) else x, compute)


_scalar_args = {}


def _convert_scalar(x, compute: np.dtype):
    with np.errstate(all="ignore"):
        v = np.asarray(x).astype(compute)[()]  # wraps out-of-range integers like torch
    if compute == np.float64:
        return int(np.float64(v).view(np.int64))
    return v.item()


@replayable
def elementwise(name: str, out: Tensor, operands, compute: np.dtype) -> None:
    """``out[...] = name(*operands)``; operands are tensors (broadcastable to out) or scalars."""
    if out.numel() == 0:
        return
    kernel, grid, args = _elementwise_launch(name, out, operands, compute)
    launch(kernel, grid, *args)


def _elementwise_launch(name, out, operands, compute):
    """(kernel, grid, arguments) for ``out[...] = name(*operands)``: ``elementwise_kernel``, or
    its tiled form where tensors are contiguous along different axes (``_as_tiles``)."""
    n = out.numel()
    if len(operands) > 4:
        raise NotImplementedError(f"elementwise op {name!r} with {len(operands)} operands")
    shape = out._shape
    args, kinds, tensors = [], [], []
    contig = out.is_contiguous()
    for x in operands:
        if isinstance(x, Tensor) and x._storage.device.type == "cuda":
            args.append(pointer(x))
            kinds.append(True)
            tensors.append(x)
            if contig and not (x._shape == shape and x.is_contiguous()):
                contig = False
        else:
            args.append(_scalar_arg(x, compute))
            kinds.append(False)
    strides = [out._stride] + [_broadcast_strides(t, shape) for t in tensors]
    tiles = None
    if contig:
        cshape, csets = (n,), [(1,)] * len(strides)
    else:
        cshape, csets = _collapse(shape, strides)
        tiles = _as_tiles(cshape, csets)
        if tiles is not None:
            cshape, csets = tiles
    big = n >= _I32 or any(_extent(cshape, s) >= _I32 for s in csets)
    it = iter(csets[1:])
    op_strides = [next(it) if k else () for k in kinds]
    pad = 4 - len(args)
    args += [0] * pad
    kinds += [False] * pad
    op_strides += [()] * pad
    compute_tl, name = _kernel_compute(compute, name)
    op = (ew.scalar_function(name), len(operands), *kinds, compute_tl, compute == np.float64)
    if tiles is not None:
        Z, R, C = cshape
        args = (pointer(out), *args, R, C, csets[0], *op_strides, *op, big, _TILE, _TILE)
        return ew.elementwise_tile_kernel, (cdiv(R, _TILE), cdiv(C, _TILE), Z), args
    block = _block(n, 1024)
    args = (pointer(out), *args, n, cshape, csets[0], *op_strides, *op, len(cshape), contig, big, block)
    return ew.elementwise_kernel, (cdiv(n, block),), args


def _kernel_compute(compute: np.dtype, name: str):
    """(Triton compute type, op name): bool arithmetic runs in int8 as torch does it (1 + 1
    is nonzero, not 0), where bitwise_not is logical_not."""
    compute_tl = _TL[compute]
    if compute_tl is tl.int1:
        return tl.int8, "logical_not" if name == "bitwise_not" else name
    return compute_tl, name


def elementwise_lane(name: str, arity: int, dtype, result_dtype):
    """The op layer's fast lane (operands of one dtype and shape, nothing to record): a new
    output and one launch, or None (general path) when a tensor is on another device or the
    first is not contiguous (the result follows its layout). On a GPU, contiguous operands
    skip the layout work and go to the compiled kernel directly."""
    compute = dtype.compute_np
    out_item = result_dtype.itemsize
    direct = _direct_elementwise(name, arity, dtype, result_dtype)

    def lane(*operands):
        first = operands[0]
        device = first._storage.device
        for x in operands:
            if isinstance(x, Tensor) and x._storage.device is not device and x._storage.device != device:
                return None
        shape = first._shape
        if first._stride != _contiguous_strides(shape):
            return None  # the result takes first's layout (ops/_layout.py): the general path
        n = 1
        for size in shape:
            n *= size
        out = new_tensor(allocate(n * out_item, device), shape, _contiguous_strides(shape), 0, result_dtype)
        if not direct(out, operands, n):
            elementwise(name, out, operands, compute)
        return out
    return lane


def elementwise_inplace_lane(name: str, arity: int, dtype):
    """The in-place lane (``x.add_(y)``): one launch into the first operand, when it is
    contiguous (the direct launch assumes it; others go the general way) and every tensor
    is on its device."""
    compute = dtype.compute_np
    direct = _direct_elementwise(name, arity, dtype, dtype)

    def inplace(operands):
        out = operands[0]
        device, shape = out._storage.device, out._shape
        if out._stride != _contiguous_strides(shape):
            return False
        for x in operands:
            if isinstance(x, Tensor) and x._storage.device is not device and x._storage.device != device:
                return False
        n = 1
        for size in shape:
            n *= size
        if not direct(out, operands, n):
            elementwise(name, out, operands, compute)
        return True
    return inplace


def _direct_elementwise(name, arity, dtype, result_dtype):
    """The launch ``elementwise`` makes for contiguous operands, with the layout work done
    once per specialisation. A call turns the pointers into ints and looks the compiled
    kernel up by a small key: each pointer's 16-byte alignment (or a scalar operand's
    specialisation), ``n``'s, the block; the arguments after ``n`` are fixed for a key.
    A key seen for the first time goes through ``elementwise`` (which compiles, records and
    launches). Returns False (the caller takes the general path) for strided operands,
    more than 2^31 elements, or on the emulated device (launches there are interpreted)."""
    compute = dtype.compute_np
    compute_tl, kernel_name = _kernel_compute(compute, name)
    in_item, out_item = dtype.itemsize, result_dtype.itemsize
    pad = (0,) * (4 - arity)
    fixed = (ew.scalar_function(kernel_name), arity)
    last = (compute_tl, compute == np.float64, 1, True, False)  # NDIM, CONTIG, INT64
    kernels = kernel_cache({})  # key -> (compiled kernel entry, the arguments after n and (n,))

    def direct(out, operands, n):
        if _mem._INTERPRET:
            return False
        if n == 0:
            return True
        if n >= _I32:
            return False
        strides = out._stride
        ptr = out._storage.ptr + out._offset * out_item
        values, key = [ptr], [ptr & 15 == 0]
        for x in operands:
            if isinstance(x, Tensor):
                if x._stride != strides:
                    return False
                ptr = x._storage.ptr + x._offset * in_item
                values.append(ptr)
                key.append(ptr & 15 == 0)
            else:
                v = _scalar_arg(x, compute)
                values.append(v)
                key.append(spec(v))
        block = 1024 if n > 512 else max(16, 1 << (n - 1).bit_length())
        key.append(n == 1)
        key.append(n & 15 == 0)
        key.append(block)
        key = tuple(key)
        known = kernels.get(key)
        if known is None:
            _, grid, args = _elementwise_launch(name, out, operands, compute)  # contiguous: the flat kernel
            launch(ew.elementwise_kernel, grid, *args)
            tensors = tuple(isinstance(x, Tensor) for x in operands) + (False,) * len(pad)
            after_n = ((1,), *[(1,) if t else () for t in tensors], *fixed, *tensors, *last, block)
            kernels[key] = compile_kernel(ew.elementwise_kernel, grid, args), after_n
            return True
        run_compiled(known[0], -(-n // block), 1, 1, (*values, *pad, n, (n,), *known[1]))
        return True
    return direct


# ------------------------------------------------------------------ reductions
def _accumulator(op, compute: np.dtype):
    """fp32 for 16-bit/fp32 inputs, fp64 for float64, int64 for integer sums."""
    if op in ("all", "any"):
        return np.dtype(np.int32)
    if op in ("max", "min", "max_abs", "min_abs"):
        return compute
    if compute.kind == "f":
        return compute
    return np.dtype(np.int64)


def _identity(kind, acc: np.dtype):
    if kind == "zero":
        return 0.0 if acc.kind == "f" else 0
    if kind == "one":
        return 1.0 if acc.kind == "f" else 1
    if acc.kind == "f":
        return float("-inf") if kind == "lowest" else float("inf")
    if acc.kind == "b":
        return kind != "lowest"
    info = np.iinfo(acc)
    return int(info.min) if kind == "lowest" else int(info.max)


def _split_dims(x: Tensor, dims):
    """(kept shape, kept strides), (reduced shape, reduced strides) of ``x``, collapsed."""
    kept = [d for d in range(x.dim()) if d not in dims]
    kshape, (kstr,) = _collapse([x._shape[d] for d in kept], [[x._stride[d] for d in kept]])
    rshape, (rstr,) = _collapse([x._shape[d] for d in dims], [[x._stride[d] for d in dims]])
    return kshape, kstr, rshape, rstr


def _tiles(kstr, rstr, K, R):
    """(BLOCK_K, BLOCK_R): long rows when the reduced dim is the inner one, else wide columns."""
    budget = 1 << 14 if interpreting() else 4096
    inner_reduced = not kstr or (bool(rstr) and abs(rstr[-1]) <= abs(kstr[-1]))
    if inner_reduced:
        br = _block(R, 1024)
        bk = max(1, min(_block(K, 64), budget // br))
    else:
        bk = _block(K, 256)
        while bk > 64 and cdiv(K, bk) < 8 and not interpreting():  # few columns: more, narrower programs
            bk //= 2
        br = max(1, min(_block(R, 64), budget // bk))
    return bk, br


@replayable
def reduce(op: str, out: Tensor, x: Tensor, dims, shift=None) -> None:
    """``out`` (the kept dims, in order) = reduction ``op`` of ``x`` over ``dims``."""
    compute = x.dtype.compute_np
    acc = _accumulator(op, compute)
    combine, transform, merge, ident = red.REDUCTIONS[op]
    kshape, kstr, rshape, rstr = _split_dims(x, dims)
    K = out.numel()
    R = x.numel() // K if K else 0
    if K == 0:
        return
    if isinstance(shift, Tensor):
        shift_arg, shift_kind = pointer(shift.contiguous()), 1
    elif shift is not None:
        shift_arg, shift_kind = float(shift), 2
    else:
        shift_arg, shift_kind = 0, 0
    bk, br = _tiles(kstr, rstr, K, R)
    big = x.numel() >= _I32 or _extent(x._shape, x._stride) >= _I32
    splits = _splits(K, R, bk, br)
    per_split = cdiv(R, splits) if R else 0
    per_split = cdiv(per_split, br) * br
    splits = cdiv(R, per_split) if R else 1
    target = out if splits == 1 else empty((splits, K), dt.from_numpy_dtype(acc), out._storage.device)
    launch(red.reduce_kernel, (cdiv(K, bk), splits), pointer(target), pointer(x), shift_arg, K, R,
           max(per_split, 1), kshape, kstr, rshape, rstr, combine, transform, _identity(ident, acc),
           _TL[compute], _TL[acc],
           shift_kind, len(kshape), len(rshape), big, bk, br)
    if splits > 1:
        _merge(merge, out, target, acc)


def _splits(K, R, bk, br):
    """How many slices R is cut into so that enough programs run when K is small.

    A split costs a second launch (the merge) and a temporary, which a reduction of up to
    16 tiles per program does not repay: ``sum(0)`` of a 128-row gradient (every bias) runs
    in one launch."""
    programs = cdiv(K, bk)
    # 16 programs per SM keep enough loads in flight to stream HBM (a full sum of 2^28 fp32
    # with 2 per SM reached 1.8 of the H200's 4.3 TB/s, 2026-11-27)
    want = 8 if interpreting() else 16 * _sm_count()
    if programs >= want or R <= 16 * br:
        return 1
    return min(cdiv(want, programs), cdiv(R, 2 * br))


def _merge(op, out, partials, acc):
    combine, _, _, ident = red.REDUCTIONS[op]
    splits, K = partials._shape
    bk, br = _tiles((1,), (K,), K, splits)
    launch(red.reduce_kernel, (cdiv(K, bk), 1), pointer(out), pointer(partials), 0, K, splits, splits,
           (K,), (1,), (splits,), (K,), combine, red.identity, _identity(ident, acc), _TL[acc], _TL[acc],
           0, 1, 1,
           False, bk, br)


def _rows(x: Tensor, dim: int):
    """Kept shape/strides of ``x`` around ``dim`` (collapsed) and the stride along ``dim``."""
    kept = [d for d in range(x.dim()) if d != dim]
    kshape, (kstr,) = _collapse([x._shape[d] for d in kept], [[x._stride[d] for d in kept]])
    return kshape, kstr, (x._stride[dim] if x.dim() else 1)


@replayable
def arg_reduce(op: str, values: Tensor, indices: Tensor, x: Tensor, dim: int) -> None:
    compute = x.dtype.compute_np
    K = indices.numel()
    if K == 0:
        return
    R = x._shape[dim] if x.dim() else 1
    kshape, kstr, rstride = _rows(x, dim)
    combine, ident = red.ARG_COMBINE[op]
    bk, br = _tiles(kstr, (rstride,), K, R)
    big = _extent(x._shape, x._stride) >= _I32 or K >= _I32
    launch(red.arg_reduce_kernel, (cdiv(K, bk),), pointer(values) if values is not None else 0,
           pointer(indices), pointer(x), K, R, kshape, kstr, rstride, combine, _identity(ident, compute),
           _TL[compute], values is not None, len(kshape), big, bk, br)


def _row_launch(kernel, out: Tensor, x, dim: int, *extra):
    """Launch a per-row kernel (scan, softmax) over rows along ``dim`` of ``x``, a tensor or a
    tuple of tensors of one shape. The kernel takes the pointers of ``out`` and the inputs,
    K (rows), R (row length), the kept dims' shape, each input's then out's strides over
    them, each input's then out's stride along ``dim``, then ``extra``."""
    inputs = x if isinstance(x, tuple) else (x,)
    x = inputs[0]
    K = x.numel() // x._shape[dim] if x.dim() and x._shape[dim] else 0
    if x.dim() == 0:
        K = 1
    if K == 0 or x.numel() == 0:
        return
    R = x._shape[dim] if x.dim() else 1
    kept = [d for d in range(x.dim()) if d != dim]
    operands = inputs + (out,)
    kshape, kept_strides = _collapse([x._shape[d] for d in kept],
                                     [[t._stride[d] for d in kept] for t in operands])
    row_strides = [t._stride[dim] if x.dim() else 1 for t in operands]
    bk, br = _tiles(kept_strides[0], (row_strides[0],), K, R)
    big = max(_extent(t._shape, t._stride) for t in operands) >= _I32
    launch(kernel, (cdiv(K, bk),), pointer(out), *(pointer(t) for t in inputs), K, R, kshape,
           *kept_strides, *row_strides, *extra, len(kshape), big, bk, br)


@replayable
def scan(op: str, out: Tensor, x: Tensor, dim: int, acc_np, indices: Tensor | None = None) -> None:
    """Inclusive scan ``op`` along ``dim`` in ``acc_np``; cummax/cummin also write ``indices``
    (laid out as ``out``)."""
    combine, ident, indexed = red.SCANS[op]
    acc = np.dtype(acc_np)
    if indexed:
        assert indices is not None and indices._stride == out._stride
    _row_launch(red.scan_kernel, out, x, dim, pointer(indices) if indexed else 0, combine,
                _identity(ident, acc), _TL[acc], indexed)


@replayable
def softmax(out: Tensor, x: Tensor, dim: int, log: bool) -> None:
    _row_launch(red.softmax_kernel, out, x, dim, bool(log), _TL[x.dtype.compute_np])


@replayable
def softmax_backward(out: Tensor, grad: Tensor, y: Tensor, dim: int, log: bool) -> None:
    """``out``: the gradient of (log-)softmax's input, from its output ``y`` and ``grad``."""
    _row_launch(red.softmax_backward_kernel, out, (y, grad), dim, bool(log), _TL[y.dtype.compute_np])


#: a row's elements a program sorts in registers (longer rows take merge passes); the elements
#: of all its rows together (short rows are sorted many to a program); a merge program's elements
_SORT_BLOCK_LOG = 10
_SORT_TILE = 2048
_MERGE_BLOCK = 1024


@replayable
def argsort(indices: Tensor, x: Tensor, dim: int, descending: bool) -> None:
    """``indices``: the stable sorting order of ``x`` along ``dim`` (NaN sorted as largest).

    Blocks of each row are sorted into scratch rows, then merged pairwise; the buffers
    alternate so that the last pass writes ``indices`` itself when it is contiguous along
    ``dim``, else a scratch copied into it."""
    R = x._shape[dim]
    K = x.numel() // R if R else 0
    if K == 0:
        return
    kshape, kstr, xr = _rows(x, dim)
    compute = x.dtype.compute_np
    wide = compute.itemsize == 8
    key_dtype = dt.int64 if wide else dt.int32
    n_log = max(4, min(_SORT_BLOCK_LOG, (R - 1).bit_length()))
    passes = max(0, (R - 1).bit_length() - n_log)
    direct = dim == x.dim() - 1 and indices.is_contiguous()
    device = x._storage.device
    target = indices if direct else empty((K, R), dt.int64, device)
    spare = empty((K, R), dt.int64, device) if passes else None
    # the block sort writes buffer A; each merge pass A -> B; the last pass must land in target
    idx_a, idx_b = (target, spare) if passes % 2 == 0 else (spare, target)
    keys_a = empty((K, R), key_dtype, device)
    keys_b = empty((K, R), key_dtype, device) if passes else None
    key_tl = tl.int64 if wide else tl.int32
    is_float = x.dtype.is_floating_point
    value_tl = (tl.float64 if wide else tl.float32) if is_float else key_tl
    rows = max(1, _SORT_TILE >> n_log)  # a function of n_log: fewer specialisations to compile
    launch(sort_k.sort_blocks_kernel, (cdiv(K, rows), cdiv(R, 1 << n_log)), pointer(keys_a), pointer(idx_a),
           pointer(x), K, R, kshape, kstr, xr, bool(descending), key_tl, value_tl, is_float, len(kshape),
           rows, n_log)
    run = 1 << n_log
    while run < R:
        launch(sort_k.merge_kernel, (K, cdiv(R, _MERGE_BLOCK)), pointer(keys_a), pointer(idx_a),
               pointer(keys_b), pointer(idx_b), R, run, run.bit_length(), _MERGE_BLOCK)
        keys_a, keys_b, idx_a, idx_b = keys_b, keys_a, idx_b, idx_a
        run *= 2
    if not direct:
        kept = [s for d, s in enumerate(x._shape) if d != dim]
        copy_(indices.movedim(dim, -1), target.view(tuple(kept) + (R,)))


def topk(indices: Tensor, x: Tensor, dim: int, k: int, largest: bool) -> None:
    """``indices``: the first ``k`` of ``argsort(x, dim, descending=largest)`` (the whole
    rows sorted: they are short next to what a GPU sorts in one pass)."""
    order = empty(x._shape, dt.int64, x._storage.device)
    argsort(order, x, dim, largest)
    copy_(indices, order.narrow(dim, 0, k))


# ------------------------------------------------------------------ matmul
#: no 2-D product of its own: linalg's ``getattr(backend, "mm", None)`` falls back to bmm
mm = None


def bmm(out: Tensor, a: Tensor, b: Tensor) -> None:
    """out[i] = a[i] @ b[i] for 3-D tensors (batch dims already broadcast).

    Integer products work too (torch's CUDA build refuses them; its CPU build does not)."""
    _matmul(out, a, b, None, 0, 1)


def addmm(bias: Tensor, a: Tensor, b: Tensor, beta, alpha) -> Tensor:
    """beta * bias + alpha * (a @ b) for matrices, the scaling and the bias add fused
    into the product's epilogue; ``bias`` broadcasts to the result's shape. beta == 0 ignores
    ``bias`` (NaNs included), as torch does."""
    out = empty((a._shape[0], b._shape[1]), a.dtype, a.device)
    shape3 = (1,) + out._shape
    _matmul(Tensor._make(out._storage, shape3, (0,) + out._stride, out._offset, out.dtype),
            Tensor._make(a._storage, shape3[:1] + a._shape, (0,) + a._stride, a._offset, a.dtype),
            Tensor._make(b._storage, shape3[:1] + b._shape, (0,) + b._stride, b._offset, b.dtype),
            bias if beta != 0 else None, beta, alpha)
    return out


def _mm_kind(dtype):
    """Which tile family (see kernels/triton/matmul.py) and ``tl.dot`` precision a dtype uses."""
    if dtype is dt.float32:
        mode = fp32_precision()
        return mode, mode  # 'tf32' tiles: 4-byte operands fill shared memory twice as fast as 'mma's
    if dtype in (dt.float16, dt.bfloat16):
        return "mma", "tf32"  # the precision only matters for fp32 inputs
    return "cores", "ieee"


_sms = None


def _sm_count() -> int:
    """Streaming multiprocessors of the GPU (1 on the emulated device), probed once."""
    global _sms
    if _sms is None:
        _sms = 1
        if not interpreting():
            from . import cuda_memory as mem
            drv = mem._cu()
            mem.context(0)
            attribute = drv.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
            _sms = mem._check(drv.cuDeviceGetAttribute(attribute, mem._check(drv.cuDeviceGet(0))))
    return _sms


#: multiply-adds from which a TF32 product stages an operand that is not K-major (``_k_major``)
K_MAJOR_MIN_MACS = 1 << 30


def _k_major(t: Tensor, k_axis: int) -> Tensor:
    """``t`` (B, rows, cols) with its K axis (2 for A, 1 for B) contiguous, copied if it is not.

    Hopper's TF32 tensor-core instruction (wgmma) reads fp32 operands from shared memory
    K-major only. For another layout, such as B = a row-major (K, N) matrix, Triton fills
    shared memory with 4-byte ``cp.async`` copies that transpose on the way (the compiled PTX
    for sm_90 shows them; 16-byte copies for K-major operands, and for 16-bit types, which
    wgmma reads transposed). The copy (tiled, coalesced on both sides) moves 2 x 64 MiB
    for a 4096^2 fp32 operand, 27 us at an H200's 4.8 TB/s, against a product of 2 * 4096^3
    flops (1.0 ms at the 134 TFLOP/s measured without it); hence only from
    ``K_MAJOR_MIN_MACS``. A batch broadcast with stride 0 is copied once."""
    if t._stride[k_axis] == 1 or t._shape[k_axis] == 1:
        return t
    B, rows, cols = t._shape
    copies = 1 if t._stride[0] == 0 else B
    plane = rows * cols
    strides = (plane, cols, 1) if k_axis == 2 else (plane, 1, rows)
    storage = allocate(copies * plane * t.dtype.itemsize, t._storage.device)
    dense = Tensor._make(storage, (copies, rows, cols), strides, 0, t.dtype)
    source = t if copies == B else Tensor._make(t._storage, dense._shape, t._stride, t._offset, t.dtype)
    elementwise("identity", dense, (source,), t.dtype.compute_np)
    return dense if copies == B else Tensor._make(storage, t._shape, (0,) + strides[1:], 0, t.dtype)


@replayable(state=fp32_precision)
def _matmul(out: Tensor, a: Tensor, b: Tensor, bias, beta, alpha) -> None:
    """out = alpha * (a @ b) + beta * bias over 3-D (B, M, N) operands, one tile config per
    shape class (``mm_k.choose_tile``), split-K partials summed by a second launch."""
    B, M, N = out._shape
    K = a._shape[2]
    if out.numel() == 0:
        return
    floating = out.dtype.is_floating_point
    f64 = out.dtype is dt.float64
    acc = (tl.float64 if f64 else tl.float32) if floating else tl.int64
    use_dot = floating and (not f64 or interpreting())
    kind, precision = _mm_kind(out.dtype) if use_dot else ("cores", "ieee")
    if precision != "ieee" and out.dtype is dt.float32 and B * M * N * K >= K_MAJOR_MIN_MACS:
        a, b = _k_major(a, 2), _k_major(b, 1)
    tile = mm_k.choose_tile(B, M, N, K, kind, _sm_count(), interpreting())
    splits = max(1, min(tile.splits, K // tile.block_k))  # each slice at least one K step
    k_split = cdiv(cdiv(K, splits), tile.block_k) * tile.block_k if K else 1
    splits = cdiv(K, k_split) if K else 1
    has_bias = bias is not None
    if has_bias:
        bias = _on_device(bias, out._storage.device)
        cs = _broadcast_strides(bias, out._shape)
    else:
        bias, cs = out, (0, 0, 0)
    scalar_np = np.dtype(np.float64 if f64 else np.float32 if floating else np.int64)
    scalars = (_scalar_arg(alpha, scalar_np), _scalar_arg(beta, scalar_np))
    big = max(_extent(t._shape, t._stride) for t in (out, a, b, bias)) >= _I32 or splits * out.numel() >= _I32
    flags = (acc, use_dot, precision, interpreting() and out.dtype is dt.bfloat16)
    epilogue = (has_bias, alpha != 1, f64)
    grid_mn = cdiv(M, tile.block_m) * cdiv(N, tile.block_n)
    # the interpreter ignores compile options; a forced GPU tile keeps them for the launch record
    options = {} if tile is mm_k.INTERPRETER_TILE else \
        {"num_warps": tile.num_warps, "num_stages": tile.num_stages}
    if splits == 1:
        launch(mm_k.bmm_kernel, (grid_mn, B, 1), pointer(out), pointer(a), pointer(b), pointer(bias), M, N, K,
               k_split, *a._stride, *b._stride, *out._stride, *cs, *scalars, *flags, *epilogue, False, big,
               tile.block_m, tile.block_n, tile.block_k, tile.group_m, **options)
        return
    partials = empty((splits * B, M, N), dt.float64 if f64 else dt.float32 if floating else dt.int64,
                     out._storage.device)
    launch(mm_k.bmm_kernel, (grid_mn, B, splits), pointer(partials), pointer(a), pointer(b), pointer(out), M,
           N, K, k_split, *a._stride, *b._stride, M * N, N, 1, 0, 0, 0, *scalars, *flags, False, False, False,
           True, big, tile.block_m, tile.block_n, tile.block_k, tile.group_m, **options)
    launch(mm_k.splitk_kernel, (grid_mn, B), pointer(out), pointer(partials), pointer(bias), M, N, splits,
           *out._stride, *cs, *scalars, acc, *epilogue, big, tile.block_m, tile.block_n)


# ------------------------------------------------------------------ joining
def _as_3d(t: Tensor, dim: int):
    """(outer, along, inner) strides of ``t`` if its dims before/after ``dim`` merge, else None."""
    before = _collapse(t._shape[:dim], [t._stride[:dim]])
    after = _collapse(t._shape[dim + 1:], [t._stride[dim + 1:]])
    if len(before[0]) > 1 or len(after[0]) > 1:
        return None
    return (before[1][0][0] if before[0] else 0, t._stride[dim], after[1][0][0] if after[0] else 0)


@replayable
def cat(out: Tensor, tensors, dim: int) -> None:
    """Copy each input into its slice of ``out`` along ``dim``, all inputs in one launch."""
    outer = 1
    for s in out._shape[:dim]:
        outer *= s
    inner = 1
    for s in out._shape[dim + 1:]:
        inner *= s
    parts, start = [], 0
    for t in tensors:
        if t.numel():
            strides = _as_3d(t, dim)
            if strides is None:
                t = t.contiguous()
                strides = _as_3d(t, dim)
            parts.append((t, strides, start))
        start += t._shape[dim]
    big = out.numel() >= _I32
    for i in range(0, len(parts), join_k.MAX_INPUTS):
        group = parts[i:i + join_k.MAX_INPUTS]
        largest = max(t.numel() for t, _, _ in group)
        block = _block(largest, 1024)
        launch(join_k.cat_kernel, (cdiv(largest, block), len(group)), pointer(out),
               tuple(pointer(t) for t, _, _ in group), tuple(s[0] for _, s, _ in group),
               tuple(s[1] for _, s, _ in group), tuple(s[2] for _, s, _ in group),
               tuple(t._shape[dim] for t, _, _ in group), tuple(st for _, _, st in group),
               outer, inner, out._shape[dim], len(group), big, block)


# ------------------------------------------------------------------ indexing
def index_range(index: Tensor):
    """(min, max) of an index tensor, for the op's bounds check; (0, -1) if empty."""
    if index.numel() == 0:
        return 0, -1
    dims = tuple(range(index.dim()))
    lo, hi = empty((), index.dtype, index._storage.device), empty((), index.dtype, index._storage.device)
    reduce("min", lo, index, dims)
    reduce("max", hi, index, dims)
    return int(to_host(lo)), int(to_host(hi))


def _on_device(t: Tensor, device) -> Tensor:
    """``t`` itself if on the cuda device, else a device copy (CPU index tensors are allowed)."""
    if t._storage.device.type == "cuda":
        return t
    copy = empty(t._shape, t.dtype, device)
    write(copy, cpu.to_host(t))
    return copy


def _take(out: Tensor, x: Tensor, xs, index: Tensor, istrides, dim_stride, dim_size):
    n = out.numel()
    if n == 0:
        return
    shape, (so, sx, si) = _collapse(out._shape, [out._stride, xs, istrides])
    big = n >= _I32 or max(_extent(x._shape, x._stride), _extent(shape, so)) >= _I32
    block = _block(n, 1024)
    launch(idx_k.take_kernel, (cdiv(n, block),), pointer(out), pointer(x), pointer(index), n, shape, so, sx,
           si, dim_stride, dim_size, dim_size > 0, len(shape), big, block)


def _zero_dim(strides, dim):
    return tuple(0 if d == dim else s for d, s in enumerate(strides))


@replayable
def gather(out: Tensor, x: Tensor, dim: int, index: Tensor) -> None:
    """out[p] = x[p with dim replaced by index[p]] over index's (= out's) shape."""
    index = _on_device(index, out._storage.device)
    _take(out, x, _zero_dim(x._stride, dim), index, index._stride, x._stride[dim], x._shape[dim])


@replayable
def index_select(out: Tensor, x: Tensor, dim: int, index: Tensor) -> None:
    """out = x with dim picked by the vector ``index`` (0-d or 1-D; negatives count from the end)."""
    index = _on_device(index, out._storage.device)
    istride = index._stride[0] if index.dim() else 0
    along = tuple(istride if d == dim else 0 for d in range(out.dim()))
    _take(out, x, _zero_dim(x._stride, dim), index, along, x._stride[dim], x._shape[dim])


def take(out: Tensor, x: Tensor, index: Tensor) -> None:
    """out = x (1-D) at ``index`` (any shape; negatives count from the end)."""
    index = _on_device(index, out._storage.device)
    _take(out, x, (0,) * out.dim(), index, _broadcast_strides(index, out._shape), x._stride[0], x._shape[0])


def flip(out: Tensor, x: Tensor, dims) -> None:
    """out = x reversed along ``dims``: a copy from x walked with those strides negated."""
    strides = list(x._stride)
    start = x._offset
    for d in dims:
        if x._shape[d]:
            start += (x._shape[d] - 1) * strides[d]
        strides[d] = -strides[d]
    copy_(out, Tensor._make(x._storage, x._shape, tuple(strides), start, x.dtype))


def tri(out: Tensor, x: Tensor, diagonal: int, upper: bool) -> None:
    """out = tril (or triu) of x's last two dims; ``out`` may be ``x`` (in place)."""
    n = out.numel()
    if n == 0:
        return
    rows, cols = out._shape[-2], out._shape[-1]
    block = _block(n, 1024)
    big = n >= _I32 or _extent(x._shape, x._stride) >= _I32 or _extent(out._shape, out._stride) >= _I32
    launch(idx_k.tri_kernel, (cdiv(n, block),), pointer(out), pointer(x), n, rows, cols, out._shape,
           out._stride, x._stride, diagonal, bool(upper), out.dim(), big, block)


#: scatter reductions done with atomics (multiply: a compare-and-swap loop), and the dtypes
#: atomics cannot take (widened first)
_PUT_OPS = {None: 0, "add": 1, "amax": 2, "amin": 3, "multiply": 4}
_WIDEN = {dt.int8: dt.int32, dt.uint8: dt.int32, dt.int16: dt.int32, dt.float16: dt.float32,
          dt.bfloat16: dt.float32}


def _twin(t: Tensor, dtype) -> Tensor:
    """A tensor of ``dtype`` laid out exactly like ``t`` (same strides), holding t's values."""
    extent = _extent(t._shape, t._stride) + 1 if t.numel() else 0
    twin = Tensor._make(allocate(extent * dtype.itemsize, t._storage.device), t._shape, t._stride, 0, dtype)
    copy_(twin, t)
    return twin


def check_put_reduce(reduce) -> None:
    """NotImplementedError for a scatter reduction without a kernel here. The op layer asks
    before its bounds check, whose deferred error would otherwise reach a later call."""
    if reduce not in _PUT_OPS:
        raise NotImplementedError(f"scatter with reduce={reduce!r} has no Triton kernel on device 'cuda' in "
                                  "tritensor yet")


def _put(dst: Tensor, ds, src, src_strides, index: Tensor, istrides, shape, dim_stride, dim_size, reduce):
    """``dst`` at the located elements (op)= src; repeated indices combine atomically."""
    check_put_reduce(reduce)
    if reduce in ("add", "multiply") and dst.dtype.is_floating_point:
        from ..utils import deterministic
        deterministic.alert_not_deterministic(f"an index/scatter {'addition' if reduce == 'add' else 'product'} "
                                              "of floats on 'cuda' (atomics, in no fixed order)")
    n = 1
    for s in shape:
        n *= s
    if n == 0:
        return
    if not isinstance(src, Tensor) or src._storage.device.type != "cuda":
        value = src.item() if isinstance(src, Tensor) else src  # a scalar: one device element
        src = empty((), dst.dtype, dst._storage.device)
        fill_(src, value)
        src_strides = (0,) * len(shape)
    target = _twin(dst, _WIDEN[dst.dtype]) if reduce and dst.dtype in _WIDEN else dst
    cshape, (sd, ss, si) = _collapse(shape, [ds, src_strides, istrides])
    big = n >= _I32 or _extent(dst._shape, dst._stride) >= _I32
    block = _block(n, 1024)
    launch(idx_k.put_kernel, (cdiv(n, block),), pointer(target), pointer(src), pointer(index), n, cshape, sd,
           ss, si, dim_stride, dim_size, dim_size > 0, _PUT_OPS[reduce], len(cshape), big, block)
    if target is not dst:
        copy_(dst, target)


def scatter(out: Tensor, dim: int, index: Tensor, src, reduce=None) -> None:
    """out[p with dim replaced by index[p]] (op)= src[p] over index's shape."""
    index = _on_device(index, out._storage.device)
    _put(out, _zero_dim(out._stride, dim), src, src._stride if isinstance(src, Tensor) else None, index,
         index._stride, index._shape, out._stride[dim], out._shape[dim], reduce)


def index_scatter(out: Tensor, dim: int, index: Tensor, src, reduce=None) -> None:
    """out[..., index[i], ...] (op)= src[..., i, ...] along dim (index_add/copy/fill); src may be a scalar."""
    index = _on_device(index, out._storage.device)
    shape = list(out._shape)
    shape[dim] = index.numel()
    istride = index._stride[0] if index.dim() else 0
    along = tuple(istride if d == dim else 0 for d in range(len(shape)))
    _put(out, _zero_dim(out._stride, dim), src,
         _broadcast_strides(src, tuple(shape)) if isinstance(src, Tensor) else None, index, along,
         tuple(shape), out._stride[dim], out._shape[dim], reduce)


def put(x: Tensor, index: Tensor, src: Tensor, accumulate: bool) -> None:
    """x (1-D) at ``index`` (+)= src (index's shape)."""
    index = _on_device(index, x._storage.device)
    nd = index.dim()
    _put(x, (0,) * nd, src, _broadcast_strides(src, index._shape), index, index._stride, index._shape,
         x._stride[0], x._shape[0], "add" if accumulate else None)


def masked_fill(out: Tensor, mask: Tensor, value) -> None:
    """out[mask] = value in place; ``mask`` is bool and already expanded to out's shape."""
    elementwise("where", out, (mask, value, out), out.dtype.compute_np)


def nonzero(x: Tensor) -> Tensor:
    """(n, x.dim()) int64 multi-indices of the nonzero elements, in row-major order.

    The count decides the output's size, so the host needs it anyway (torch synchronises
    too); the indices are found on the host from the downloaded values."""
    found = np.argwhere(to_host(x) != 0).astype(np.int64)
    out = empty(found.shape, dt.int64, x._storage.device)
    if found.size:
        upload(out._storage, 0, found)
    return out


def index(out: Tensor, x: Tensor, dims, indices, b_start: int) -> None:
    """out = x[indices along dims] (broadcastable); their shape sits at ``b_start`` in out.
    The indices are read on the device: nothing waits for it."""
    if out.numel() == 0:
        return
    _index_take(out, x, dims, [_on_device(i, out._storage.device) for i in indices], b_start)


def index_put(x: Tensor, dims, indices, b_start: int, values: Tensor, accumulate: bool) -> None:
    """x[indices along dims] (+)= values, values of x's dtype expanded to the indexing result's shape."""
    if values.numel() == 0:
        return
    _index_put(x, dims, [_on_device(i, x._storage.device) for i in indices], b_start, values, accumulate)


@replayable
def _index_take(out: Tensor, x: Tensor, dims, indices, b_start: int) -> None:
    index, dim_stride, dim_size = _index_source(x, dims, indices)
    xs, ts = _index_walk(x, dims, index, b_start, out.dim())
    _take(out, x, xs, index, ts, dim_stride, dim_size)


@replayable
def _index_put(x: Tensor, dims, indices, b_start: int, values: Tensor, accumulate: bool) -> None:
    index, dim_stride, dim_size = _index_source(x, dims, indices)
    xs, ts = _index_walk(x, dims, index, b_start, values.dim())
    _put(x, xs, values, values._stride, index, ts, values._shape, dim_stride, dim_size,
         "add" if accumulate else None)


def _index_source(x: Tensor, dims, indices):
    """(index tensor, stride, size) for the take/put kernels: one index tensor is read as it
    is (the kernels wrap a negative one and skip one out of range); several become one table
    of element offsets (``_index_offsets``), read unbounded."""
    if len(indices) == 1:
        return indices[0], x._stride[dims[0]], x._shape[dims[0]]
    return _index_offsets(x, dims, indices), 1, 0


def _index_offsets(x: Tensor, dims, indices) -> Tensor:
    """Element offsets (relative to x) picked by the broadcast ``indices`` along ``dims``,
    on the device: each index modulo its dim's size (a negative one counts from the end; one
    out of range, which the bounds check reports, lands inside x all the same) times the dim's
    stride, summed. Two elementwise launches per index tensor."""
    device = x._storage.device
    shape = tuple(np.broadcast_shapes(*(i._shape for i in indices)))
    table, wrapped = empty(shape, dt.int64, device), empty(shape, dt.int64, device)
    int64 = np.dtype(np.int64)
    for k, (d, idx) in enumerate(zip(dims, indices)):
        elementwise("int_remainder", wrapped, (idx, x._shape[d]), int64)
        if k == 0:
            elementwise("mul", table, (wrapped, x._stride[d]), int64)
        else:
            elementwise("add_alpha", table, (table, wrapped, x._stride[d]), int64)
    return table


def _index_walk(x: Tensor, dims, index: Tensor, b_start: int, result_dims: int):
    """Strides over the indexing result's shape for x (its dims other than ``dims``; the
    index's dims at ``b_start`` contribute nothing) and for the index (its own dims there)."""
    rest = [x._stride[d] for d in range(x.dim()) if d not in dims]
    nb = index.dim()
    xs = tuple(rest[:b_start]) + (0,) * nb + tuple(rest[b_start:])
    ts = (0,) * b_start + index._stride + (0,) * (result_dims - b_start - nb)
    return xs, ts


# ------------------------------------------------------------------ not yet on this device
def __getattr__(name):
    """An indexing function of the CPU backend without a Triton kernel yet raises a clear
    NotImplementedError (optional hooks stay absent, so ``getattr(backend, name, None)`` works)."""
    if name.startswith("__"):  # the import system probes ``__path__`` on every ``from .cuda import``
        raise AttributeError(name)
    if name in cpu_indexing.__all__:
        def not_yet(*args, **kwargs):
            raise NotImplementedError(f"'{name}' has no Triton kernel on device 'cuda' in tritensor yet; "
                                      "move the tensors to the CPU (.cpu()) for this op")
        not_yet.__name__ = name
        return not_yet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ random numbers
#: mantissa digits of each float dtype: a uniform sample is k * 2**-digits, exact in it
_DIGITS = {dt.float64: 53, dt.float32: 24, dt.float16: 11, dt.bfloat16: 8}


def _int64_bits(v: int) -> int:
    """A 64-bit pattern as the signed int a kernel's int64 argument can carry."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def _float64_bits(x) -> int:
    return int(np.float64(x).view(np.int64))


def sample(out: Tensor, dist: str, seed: int, offset: int, a, b) -> None:
    """Fill ``out`` with samples of ``dist`` from Philox counters offset .. offset + numel - 1
    (element i, in row-major order, takes counter offset + i whatever out's strides)."""
    n = out.numel()
    if n == 0:
        return
    if dist == "integer":  # a = low, b = range (2**64 wraps to 0)
        a, b = _int64_bits(a), _int64_bits(b)
    else:
        a, b = _float64_bits(a), _float64_bits(b)
    contig = out.is_contiguous()
    shape, (so,) = ((n,), [(1,)]) if contig else _collapse(out._shape, [out._stride])
    block = _block(n, 1024)
    launch(rnd_k.random_kernel, (cdiv(n, block),), pointer(out), n, shape, so, _int64_bits(seed), offset,
           a, b, rnd_k.DISTRIBUTIONS[dist], tl.float64 if out.dtype is dt.float64 else tl.float32,
           _DIGITS.get(out.dtype, 24), len(shape), contig, block)


def dropout(x: Tensor, p: float, seed: int, offset: int):
    """(x * keep / (1 - p), keep) in one launch: the bool mask ``keep`` (P(keep) = 1 - p)
    comes from Philox counters offset .. offset + numel - 1, like ``sample``."""
    x = x.contiguous()
    device = x._storage.device
    out, keep = empty(x._shape, x.dtype, device), empty(x._shape, dt.bool, device)
    n = x.numel()
    if n:
        block = _block(n, 1024)
        launch(rnd_k.dropout_kernel, (cdiv(n, block),), pointer(out), pointer(keep), pointer(x), n,
               _int64_bits(seed), offset, 1.0 - p, _float64_bits(0.0 if p == 1 else 1.0 / (1.0 - p)),
               tl.float64 if x.dtype is dt.float64 else tl.float32, block)
    return out, keep


# ------------------------------------------------------------------ fused nn kernels
def _register_fused():
    """Offer nn its fused cross entropy, grad-norm, layer- and batch-norm, max-pool,
    interpolation and recurrent-cell kernels for 'cuda' (nn never imports triton)."""
    from ..kernels.triton import cross_entropy as ce_k
    from ..kernels.triton import grad_norm as gn_k
    from ..kernels.triton import normalization as norm_k
    from ..kernels.triton import pool as pool_k
    from ..kernels.triton import recurrent as rnn_k
    from ..kernels.triton import resample as resample_k
    from ..nn import _fused
    _fused.CROSS_ENTROPY["cuda"] = ce_k.CrossEntropy()
    _fused.GRAD_NORM["cuda"] = gn_k.GradNorm()
    _fused.LAYER_NORM["cuda"] = norm_k.LayerNorm()
    _fused.BATCH_NORM["cuda"] = norm_k.BatchNorm()
    _fused.MAX_POOL["cuda"] = pool_k.MaxPool()
    _fused.RESAMPLE["cuda"] = resample_k.Resample()
    _fused.LSTM_CELL["cuda"] = rnn_k.LstmCell()
    _fused.GRU_CELL["cuda"] = rnn_k.GruCell()


_register_fused()


# ------------------------------------------------------------------ input checks
def report_any(bad: Tensor, exc: type, message: str, values=None) -> bool:
    """Have ``exc(message.format(v))`` raised at the next call that waits for the device if any
    element of the bool tensor ``bad`` is set, ``v`` being the flagged element of ``values``
    (an int64 tensor of ``bad``'s shape): one launch and no host read (``cuda_errors``).
    False (nothing launched) when no error code is left: the caller checks on the host."""
    code = cuda_errors.code_for(exc, message)
    if code is None:
        return False
    if bad.numel():
        has_values = values is not None
        _report(bad.contiguous(), values.contiguous() if has_values else bad, cuda_errors.word(bad.device),
                code, has_values)
    return True


def report_out_of_range(values: Tensor, lo: int, hi: int, exc: type, message: str) -> bool:
    """``report_any`` for integer ``values`` outside [lo, hi), in one pass over them (an index
    tensor's bounds: the indexing kernels skip such indices, so nothing reads out of bounds)."""
    code = cuda_errors.code_for(exc, message)
    if code is None:
        return False
    if values.numel():
        _report_range(values.contiguous(), lo, hi, cuda_errors.word(values.device), code)
    return True


@replayable
def _report(bad: Tensor, values: Tensor, word: Tensor, code: int, has_values: bool) -> None:
    n = bad.numel()
    block = _block(n, 1024)
    launch(check_k.report_kernel, (cdiv(n, block),), pointer(bad), pointer(values), n, pointer(word), code,
           has_values, block)


@replayable
def _report_range(values: Tensor, lo: int, hi: int, word: Tensor, code: int) -> None:
    n = values.numel()
    block = _block(n, 1024)
    launch(check_k.range_kernel, (cdiv(n, block),), pointer(values), n, lo, hi, pointer(word), code, block)
