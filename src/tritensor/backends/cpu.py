"""The CPU backend: host memory as numpy buffers, compute in Numba kernels.

Ops hand this module tensors whose shapes and dtypes they already decided; it only moves
bytes and launches kernels. 16-bit floats are widened to float32 for compute and narrowed
on store, as torch does on CPU. Large launches are split across a small thread pool
(the kernels release the GIL); small ones run inline, where a pool would cost more
than the work.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .. import dtypes as dt
from ..device import CPU
from ..kernels.numba import elementwise as ew_kernels
from ..kernels.numba import sort as sort_kernels
from ..kernels.numba import cast as cast_kernels
from ..kernels.numba.cast import bfloat16_bits_to_float32, float32_to_bfloat16_bits
from ..storage import Storage
from . import blas_threads, host_pool
from .cpu_threads import run_chunks  # noqa: F401  (the kernels' thread hand-off; also used by nn)
from ..tensor import Tensor, _contiguous_strides, new_tensor

#: Below this many elements a launch runs on the calling thread. Handing work to the pool
#: and joining costs 20-60 us, so a second thread only pays from about 2^19 float32
#: elements (measured for relu/add on the 2-core machine; docs/performance.md).
PARALLEL_MIN_ELEMENTS = 1 << 19

blas_threads.shorten_openblas_spin()  # numpy's BLAS threads would hold the cores our kernels use

try:
    NUM_THREADS = max(1, len(os.sched_getaffinity(0)))
except AttributeError:  # pragma: no cover - non-Linux
    NUM_THREADS = max(1, os.cpu_count() or 1)



def set_num_threads(n):
    """How many threads the CPU kernels split large launches over (``torch.set_num_threads``)."""
    global NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    NUM_THREADS = n


def get_num_threads():
    return NUM_THREADS


def parallel_chunks(n, minimum=PARALLEL_MIN_ELEMENTS):
    """Split ``range(n)`` into per-thread (start, stop) chunks, or one chunk if small."""
    if n < minimum or NUM_THREADS == 1:
        return [(0, n)]
    k = min(NUM_THREADS, n)
    step = -(-n // k)
    return [(i, min(i + step, n)) for i in range(0, n, step)]


# ------------------------------------------------------------------ memory
def new_storage(n: int, np_dtype: np.dtype) -> Storage:
    """A storage of ``n`` uninitialised elements; big ones recycle pool buffers (host_pool)."""
    nbytes = n * np_dtype.itemsize
    if nbytes >= host_pool.MIN_BYTES:
        return host_pool.new_storage(nbytes, np_dtype, CPU)
    return Storage(np.empty(n, np_dtype), CPU)


def empty(shape, dtype):
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    storage = new_storage(n, dtype.storage_np)
    t = new_tensor(storage, shape, _contiguous_strides(shape), 0, dtype)
    t._flat = storage.data  # the whole storage, in order: what the fast paths read and write
    return t


def adopt(array: np.ndarray, dtype) -> Tensor:
    """A tensor whose storage is ``array``, a fresh C-contiguous array in ``dtype``'s storage
    type that nothing else holds (a factory's result computed on the host): no copy."""
    t = new_tensor(Storage(array.reshape(-1), CPU), array.shape, _contiguous_strides(array.shape), 0, dtype)
    t._flat = t._storage.data
    return t


def wrap_array(array: np.ndarray, dtype=None):
    """A tensor sharing ``array``'s memory (``from_numpy``); strides must be non-negative."""
    dtype = dtype or dt.from_numpy_dtype(array.dtype)
    itemsize = array.itemsize
    if any(s < 0 for s in array.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                         "negative strides are not currently supported. (You can probably work around "
                         "this by making a copy of your array  with array.copy().) ")
    if any(s % itemsize for s in array.strides):
        array = array.copy()
    strides = tuple(s // itemsize for s in array.strides)
    extent = 1 + sum((n - 1) * s for n, s in zip(array.shape, strides)) if array.size else 0
    flat = np.lib.stride_tricks.as_strided(array, shape=(extent,), strides=(itemsize,))
    return Tensor._make(Storage(flat, CPU), tuple(array.shape), strides, 0, dtype)


def ndarray(t: Tensor) -> np.ndarray:
    """The tensor's elements as a numpy view in its storage dtype (bfloat16: raw uint16 bits)."""
    a = t._np
    if a is None:
        flat = t._flat
        if flat is not None and flat is not False:  # contiguous: its flat array, reshaped
            a = t._np = flat.reshape(t._shape)
            return a
        itemsize = t.dtype.itemsize
        if 0 in t._shape:  # an empty view may point past the end of its storage
            a = t._np = np.empty(t._shape, t.dtype.storage_np)
            return a
        a = t._np = np.ndarray(t._shape, t.dtype.storage_np, buffer=t._storage.data,
                               offset=t._offset * itemsize,
                               strides=tuple(s * itemsize for s in t._stride))
    return a


def to_host(t: Tensor) -> np.ndarray:
    """A numpy array of the values (bfloat16 widened to float32)."""
    if t.dtype is dt.bfloat16:
        return bfloat16_bits_to_float32(ndarray(t))
    return ndarray(t)


def read(t: Tensor, compute: np.dtype) -> np.ndarray:
    """The tensor's values in ``compute`` dtype: a view when no conversion is needed. An
    expanded tensor (dims of stride 0) converts each stored element once and stays a
    read-only broadcast view: a (64, 64) mask expanded over a batch of 256 converts 4096
    values, not a million."""
    a = ndarray(t)
    if t.dtype is not dt.bfloat16 and a.dtype == compute:
        return a
    if 0 in a.strides and a.size > 1:
        stored = a[tuple(slice(0, 1) if s == 0 else slice(None) for s in a.strides)]
        return np.broadcast_to(_converted(stored, t.dtype, compute), a.shape)
    return _converted(a, t.dtype, compute)


def _converted(a: np.ndarray, dtype, compute: np.dtype) -> np.ndarray:
    if dtype is dt.bfloat16:
        a = bfloat16_bits_to_float32(a)
    return a if a.dtype == compute else a.astype(compute)


def write(out: Tensor, values) -> None:
    """Store ``values`` (array or scalar, broadcastable) into ``out``, casting like torch."""
    dst = ndarray(out)
    if out.dtype is dt.bfloat16:
        values = np.broadcast_to(np.asarray(values, np.float32), dst.shape)
        np.copyto(dst, float32_to_bfloat16_bits(values).reshape(dst.shape))
        return
    if out.dtype is dt.bool or (np.asarray(values).dtype.kind == "f" and dst.dtype.kind in "iu"):
        values = np.asarray(values)
        into = dst if dst.flags.c_contiguous and dst.shape == values.shape else None
        values = _cast_like_torch(values, dst.dtype, into)
        if values is dst:
            return
    elif type(values) is int and dst.dtype.kind in "iu":
        values = np.asarray(values).astype(dst.dtype)  # wraps like C (uint8 x.fill_(-1) is 255)
    elif dst.dtype == np.float16 and np.asarray(values).dtype == np.float64:
        values = np.asarray(values).astype(np.float32)  # torch rounds double -> float -> half
    with np.errstate(over="ignore"):  # float64 -> float16 saturates to inf, like torch
        np.copyto(dst, values, casting="unsafe")


def _cast_like_torch(values, target, into=None):
    """Float -> int/bool as torch does on x86: truncate toward zero into int32 (int64 for
    int64), out-of-range and NaN becoming the minimum, then keep the low bits. A bool or a
    float32/float64 cast writes straight into ``into`` (C-contiguous, values' shape) if given."""
    if target == np.bool_:
        return values != 0 if into is None else np.not_equal(values, 0, out=into)
    wide = np.dtype(np.int64 if target == np.int64 else np.int32)
    info = np.iinfo(wide)
    if values.dtype == np.float32 or values.dtype == np.float64:
        out = into if into is not None else np.empty(values.shape, target)
        cast_kernels.float_to_int(out, np.ascontiguousarray(values), float(info.min), -float(info.min))
        return out
    with np.errstate(invalid="ignore"):
        whole = np.trunc(values.astype(np.float64, copy=False))
        fits = (whole >= info.min) & (whole < -float(info.min))
    return np.where(fits, whole, info.min).astype(wide).astype(target, copy=False)


def copy_(dst: Tensor, src: Tensor) -> None:
    if src.dtype is dst.dtype and dst.dtype is not dt.bfloat16:
        _copy_array(ndarray(dst), ndarray(src))
    else:
        write(dst, to_host(src))


def _copy_array(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` for arrays of one shape and dtype: numpy's copy, or the Numba loop
    for large ones with short or strided rows."""
    if dst.size < _STRIDED_COPY_MIN or src.flags.c_contiguous or not _copy_strided(dst, src):
        np.copyto(dst, src)


#: From this many elements a strided copy goes to the Numba loop. Measured against numpy's
#: copy: 2.3x faster for im2col's (32, 3, 3, 64, 24, 24) columns, 2x for a 1024^2 transpose,
#: 2.3x for NCHW -> NHWC of (64, 3, 224, 224); below ~1M elements numpy's is as fast or faster
#: (a 512^2 transpose 0.37 against 0.44 ms)
_STRIDED_COPY_MIN = 1 << 20


#: unit-stride rows at least this long numpy copies as fast (a memcpy each, measured: a
#: (64, 16, 8, 32) permute 40 against 78 us); shorter ones, and strided ones (transposes), the loop
_NUMPY_ROW = 32


def _copy_strided(dst: np.ndarray, src: np.ndarray) -> bool:
    """``dst[...] = src`` (one shape) by ``join_kernels.copy_strided``, split across threads
    along the first dim of more than one element when large; False (nothing copied) for
    ranks above its 6 after merging the dims that allow it, for long unit-stride rows
    (numpy's), or for overlapping arrays."""
    if (src.strides[-1] == src.itemsize and src.shape[-1] >= _NUMPY_ROW) or np.may_share_memory(dst, src):
        return False
    shape, (d_strides, s_strides) = _collapse(dst.shape, [[t // dst.itemsize for t in dst.strides],
                                                        [t // src.itemsize for t in src.strides]])
    rank = join_kernels.STRIDED_RANK
    if len(shape) > rank or (s_strides[-1] == 1 and shape[-1] >= _NUMPY_ROW):
        return False
    lead = (1,) * (rank - len(shape))
    shape = lead + shape
    view = np.lib.stride_tricks.as_strided
    d = view(_bits(dst), shape, tuple(t * dst.itemsize for t in (0,) * len(lead) + tuple(d_strides)))
    s = view(_bits(src), shape, tuple(t * src.itemsize for t in (0,) * len(lead) + tuple(s_strides)))
    axis = next((i for i, n in enumerate(shape) if n > 1), 0)
    per_item = dst.size // shape[axis]

    def run(lo, hi):
        part = (slice(None),) * axis + (slice(lo, hi),)
        join_kernels.copy_strided(d[part], s[part])
    run_chunks(run, parallel_chunks(shape[axis], minimum=max(1, PARALLEL_MIN_ELEMENTS // max(1, per_item))))
    return True


def fill_(t: Tensor, value) -> None:
    if (t.dtype is dt.float32 or t.dtype is dt.float64) and type(value) in (float, int) and abs(value) < 1e38:
        flat = flat_of(t)
        if flat is not False:  # contiguous: numpy's own fill (ones_like(loss) in every backward)
            flat.fill(value)
            return
    write(t, value)


# ------------------------------------------------------------------ elementwise
_NARROW = (dt.float16, dt.bfloat16)


def elementwise_lane(name: str, arity: int, dtype, result_dtype):
    """The fast lane of op ``name`` for ``arity`` operands of ``dtype``, or None.

    A lane is the common eager call in one step: the caller checked that the tensor
    operands share ``dtype`` and shape and that nothing is recorded; the lane checks that
    they are contiguous CPU tensors (a Python scalar may stand for the second), allocates
    the output and runs the flat kernel through its compiled entry, with no broadcasting,
    casting or stride logic. It returns None to send a call the general way.

    This is the path of most eager ops, where Python overhead is paid thousands of times
    per epoch: a 1-element add costs ~1.5 us, of which the kernel ~0.25 us. So the lane
    is specialised per op and dtype and written out without helper calls on small inputs.
    """
    if dtype in _NARROW or result_dtype in _NARROW:
        return None
    compute = dtype.compute_np
    out_np = result_dtype.storage_np
    kernel = ew_kernels.flat_kernel(name, arity)
    empty = np.empty

    def nary(*operands):
        """Any arity above two (ternary ops, ops with scalar parameters) and binary calls
        with an expanded operand, through the kernel's dispatcher, which tells tensor
        operands from scalar ones."""
        args = [_lane_operand(t, compute) if isinstance(t, Tensor) else _scalar(t, compute) for t in operands]
        n = -1
        for x in args:
            if x is False:
                return None
            if type(x) is np.ndarray:
                if n >= 0 and len(x) != n:  # a row broadcast (a bias) beside an expanded value
                    return None
                n = len(x)
        if n < 0 or n != math.prod(operands[0]._shape):  # one value each, or the first broadcast
            return None
        if n >= _LANE_THREADED:
            return _threaded_lane_output(kernel, n, operands[0]._shape, result_dtype, args)
        buf = empty(n, out_np)
        kernel(buf, *args)
        return _lane_tensor(buf, operands[0]._shape, result_dtype)

    if arity > 2:
        return nary
    samples = (np.empty(1, out_np),) + (np.empty(1, dtype.storage_np),) * arity
    entry = ew_kernels.flat_entry(name, samples)
    tiled = ew_kernels.tiled_kernel(name, 2) if arity == 2 else None
    scalar_entry = None  # made on first use: the entry with a scalar second operand

    def unary(a):
        x = flat_of(a)
        if x is False:
            return None
        n = len(x)
        if n >= _LANE_THREADED:
            return _threaded_lane_output(kernel, n, a._shape, result_dtype, (x,))
        buf = empty(n, out_np)
        entry(buf, x)
        return _lane_tensor(buf, a._shape, result_dtype)

    def by_rows(a, x, y):
        """``b`` a row repeated along ``a``'s leading dims (a bias; the caller checked the
        shapes): the tiled kernel over ``a`` as (rows, len(y))."""
        cols = len(y)
        if not cols or len(x) % cols:
            return None
        rows = len(x) // cols
        buf = empty((rows, cols), out_np)
        if len(x) >= _LANE_THREADED:
            run_chunks(lambda lo, hi: tiled(buf, lo, hi, x.reshape(rows, cols), y),
                       parallel_chunks(rows, minimum=max(1, PARALLEL_MIN_ELEMENTS // cols)))
        else:
            tiled(buf, 0, rows, x.reshape(rows, cols), y)
        return _lane_tensor(buf.reshape(-1), a._shape, result_dtype)

    def binary(a, b):  # flat_of written out for both operands: the hottest call there is
        nonlocal scalar_entry
        x = a._flat
        if x is None:
            x = flat_array(a)
        if x is False:
            return nary(a, b)
        if isinstance(b, Tensor):
            y = b._flat
            if y is None:
                y = flat_array(b)
            if y is False:
                return nary(a, b)
            if len(y) == len(x):
                run = entry
            elif len(y) != 1:  # b broadcast along a's leading dims
                return by_rows(a, x, y)
            else:  # one value for every element: a scalar operand
                y, run = y[0], None
        else:
            y, run = _scalar(b, compute), None
        if run is None:
            if scalar_entry is None:
                scalar_entry = ew_kernels.flat_entry(name, samples[:2] + (y,))
            run = scalar_entry
        n = len(x)
        if n >= _LANE_THREADED:
            return _threaded_lane_output(kernel, n, a._shape, result_dtype, (x, y))
        buf = empty(n, out_np)
        run(buf, x, y)
        shape = a._shape
        if len(shape) == 1:  # _lane_tensor written out: this is the hottest call there is
            out = new_tensor(Storage(buf, CPU), shape, _UNIT_STRIDE, 0, result_dtype)
            out._np = out._flat = buf
            return out
        return _lane_tensor(buf, shape, result_dtype)

    return binary if arity == 2 else unary


def elementwise_inplace_lane(name: str, arity: int, dtype):
    """The in-place lane (``x.add_(y)``): like ``elementwise_lane``, with the first operand,
    a contiguous CPU tensor, also the output. Returns False to send a call the general way."""
    if dtype in _NARROW:
        return None
    compute = dtype.compute_np
    kernel = ew_kernels.flat_kernel(name, arity)
    entries = {}  # second operand's kind -> compiled entry (skips the dispatcher's type resolution)

    def inplace(operands):
        target = flat_of(operands[0])
        if target is False:
            return False
        args = [target]
        for t in operands[1:]:
            x = _lane_operand(t, compute) if isinstance(t, Tensor) else _scalar(t, compute)
            if x is False:
                return False
            args.append(x)
        if arity != 2 or len(target) >= _LANE_THREADED:
            _run_flat(kernel, target, args)
            return True
        kind = type(args[1])
        entry = entries.get(kind)
        if entry is None:
            entry = entries[kind] = ew_kernels.flat_entry(name, (target[:1], target[:1], args[1]))
        entry(target, *args)
        return True
    return inplace


def flat_of(t):
    """``t._flat``, computed on first use (``flat_array``): an array, or False."""
    x = t._flat
    return flat_array(t) if x is None else x


def _lane_operand(t, compute):
    """A lane's view of tensor operand ``t``: its flat array, its one value for a tensor
    expanded from one element (all strides 0: the gradient of a full reduction), or False."""
    x = t._flat
    if x is None:
        x = flat_array(t)
    if x is False and t._storage.device is CPU and not any(t._stride) and 0 not in t._shape:
        return compute.type(t._storage.data[t._offset])
    return x


def flat_array(t):
    """``t``'s elements as one aligned contiguous 1-D array, or False if they are not laid
    out so (or not in host memory); cached on the tensor as ``t._flat``."""
    flat = False
    if t._storage.device is CPU:
        a = t._np
        if a is None:
            a = ndarray(t)
        flags = a.flags
        if flags.c_contiguous and flags.aligned:
            flat = a if a.ndim == 1 else a.reshape(-1)
    t._flat = flat
    return flat


def _lane_tensor(buf, shape, dtype):
    """A new contiguous tensor of ``shape`` on the flat array ``buf``."""
    if len(shape) == 1:
        out = new_tensor(Storage(buf, CPU), shape, _UNIT_STRIDE, 0, dtype)
        out._np = buf
    else:
        out = new_tensor(Storage(buf, CPU), shape, _contiguous_strides(shape), 0, dtype)
    out._flat = buf
    return out


def _threaded_lane_output(kernel, n, shape, result_dtype, args):
    """A lane's call on ``n`` elements, many: a pooled output, the work split across threads."""
    storage = _new_lane_storage(n, result_dtype)
    _run_flat(kernel, storage.data, args)
    return new_tensor(storage, shape, _contiguous_strides(shape), 0, result_dtype)


def _new_lane_storage(n, dtype):
    out_np = dtype.storage_np
    if n * out_np.itemsize >= host_pool.MIN_BYTES:
        return host_pool.new_storage(n * out_np.itemsize, out_np, CPU)
    return Storage(np.empty(n, out_np), CPU)


#: from here a lane's output may come from the buffer pool and its work be threaded
_LANE_THREADED = min(host_pool.MIN_BYTES // 8, PARALLEL_MIN_ELEMENTS)
_UNIT_STRIDE = (1,)


def elementwise(name: str, out: Tensor, operands, compute: np.dtype) -> None:
    """``out[...] = name(*operands)``; operands are tensors (broadcastable to out) or scalars.

    0-d tensors are passed as scalars, so ``x + zero_dim`` still takes the flat loop;
    the flat loop runs when every other operand is contiguous with out's shape.
    """
    shape = out._shape
    target = flat_of(out)
    if target is not False and len(target) == 0:
        return
    narrow = out.dtype is dt.bfloat16 or out.dtype is dt.float16
    args = _flat_operands(operands, shape, compute) if target is not False else None
    if args is not None:
        kernel = ew_kernels.flat_kernel(name, len(args))
        if narrow:
            result = np.empty(len(target), np.float32)
            _run_flat(kernel, result, args)
            write(out, result.reshape(shape))
        else:
            _run_flat(kernel, target, args)
        return
    if out.numel() == 0:
        return
    if target is not False and 2 <= len(operands) <= 3:
        tiled = _tiled_operands(operands, shape, compute)
        if tiled is not None:
            _run_tiled(name, out, tiled, narrow)
            return
    args = []
    for x in operands:
        if isinstance(x, Tensor):
            a = read(x, compute)
            args.append(a[()] if not x._shape else a)
        else:
            args.append(_scalar(x, compute))
    result = np.empty(shape, np.float32) if narrow else ndarray(out)
    if result.size < ROWS_MIN_ELEMENTS or len(args) > 3 or not _run_rows(name, result, args):
        _run_strided(ew_kernels.ufunc(name), result, args)
    if narrow:
        write(out, result)


#: From this many elements a strided op whose operands are contiguous or one value along the
#: innermost dim (a bias over channels, transposed operands) runs as rows in a Numba kernel:
#: vectorised and threaded, ~3x faster than numpy's ufunc machinery driving Numba's scalar
#: loop (a (64, 32, 676) + (1, 32, 1) float32 add: 358 -> ~120 us). Smaller ops keep the
#: ufunc: a row kernel compiles once per op, operand layout and dtypes.
ROWS_MIN_ELEMENTS = 1 << 15
#: the shortest innermost dim worth a row loop
ROWS_MIN_COLS = 16


def _run_rows(name, out, args):
    """``out = name(*args)`` by rows when the layout allows (see ROWS_MIN_ELEMENTS); False
    when it does not, and nothing was written."""
    out, args = _by_stride(out, args)
    if not out.flags.c_contiguous:
        return False
    arrays = [np.broadcast_to(a, out.shape) for a in args if isinstance(a, np.ndarray) and a.ndim]
    if any(s < 0 or s % a.itemsize for a in arrays for s in a.strides):
        return False
    shape, strides = _collapse(out.shape, [[s // a.itemsize for s in a.strides] for a in [out] + arrays])
    cols = shape[-1]
    if cols < ROWS_MIN_COLS:
        return False
    arrays = iter(strides[1:])
    operands = [_row_operand(a, shape, next(arrays)) if isinstance(a, np.ndarray) and a.ndim else a
                for a in args]
    kernel = ew_kernels.rows_kernel(name, len(operands))
    rows = out.size // cols
    out2 = out.reshape(rows, cols)
    with np.errstate(all="ignore"):
        run_chunks(lambda lo, hi: kernel(out2, lo, hi, *operands),
                   parallel_chunks(rows, minimum=max(1, PARALLEL_MIN_ELEMENTS // cols)))
    return True


def _by_stride(out, args):
    """``out`` and the array arguments (broadcast to it) with out's dims ordered by stride:
    C-contiguous when out is dense (an elementwise result laid out like its operands)."""
    if out.flags.c_contiguous:
        return out, args
    order = sorted(range(out.ndim), key=lambda d: -out.strides[d])
    return out.transpose(order), [np.broadcast_to(a, out.shape).transpose(order)
                                  if isinstance(a, np.ndarray) and a.ndim else a for a in args]


def _collapse(shape, strides):
    """``shape`` with size-1 dims dropped and neighbours merged where every array's strides
    (``strides``, in elements, one list per array) allow; the merged strides alike."""
    dims = [d for d in range(len(shape)) if shape[d] != 1] or [len(shape) - 1]
    merged = [[shape[dims[-1]], [s[dims[-1]] for s in strides]]]
    for d in reversed(dims[:-1]):
        n, inner = merged[-1]
        if all(s[d] == i * n for s, i in zip(strides, inner)):
            merged[-1][0] = shape[d] * n
        else:
            merged.append([shape[d], [s[d] for s in strides]])
    merged.reverse()
    return tuple(n for n, _ in merged), [list(col) for col in zip(*(s for _, s in merged))]


def _row_operand(a, shape, strides):
    """Array ``a`` (any shape broadcasting to the uncollapsed output) as the row kernel's
    (base, offsets), (base, offsets, 0) when its innermost stride is 0, or (base, offsets,
    stride, 0) for another one: each row's start in a flat ``base`` over a's memory, for the
    collapsed ``shape`` and a's ``strides`` there."""
    offsets = np.zeros(shape[:-1], np.int64)
    for d, (n, s) in enumerate(zip(shape[:-1], strides[:-1])):
        if s and n > 1:
            offsets += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - 2 - d))
    offsets = offsets.reshape(-1)
    inner = strides[-1]
    span = int(offsets.max(initial=0)) + (shape[-1] - 1) * inner + 1
    base = np.lib.stride_tricks.as_strided(a, shape=(span,), strides=(a.itemsize,))  # from a's first element
    return (base, offsets) if inner == 1 else (base, offsets, 0) if not inner else (base, offsets, inner, 0)


def _flat_operands(operands, shape, compute):
    """The operands as flat arrays in ``compute`` dtype (0-d tensors and Python numbers as
    scalars) when every tensor among them is contiguous with ``shape``; else None."""
    args = []
    for x in operands:
        if isinstance(x, Tensor):
            if not x._shape:
                args.append(read(x, compute)[()])
                continue
            if x._shape != shape:
                return None
            a = flat_of(x)
            if a is False:
                if any(x._stride):
                    return None
                # one value expanded to the shape (the gradient of a full reduction): a scalar
                args.append(read(x, compute)[(0,) * len(shape)])
                continue
            if x.dtype.storage_np != compute or x.dtype is dt.bfloat16:
                a = read(x, compute).reshape(-1)
            args.append(a)
        else:
            args.append(_scalar(x, compute))
    return args


def _tiled_operands(operands, shape, compute):
    """``(cols, args)`` for the tiled kernels when every tensor operand is contiguous with
    ``shape`` or with its trailing dims (after leading 1s) of one common size ``cols``, the
    common broadcasts of a bias or scale; 0-d tensors and numbers are scalars. Else None."""
    cols, args = None, []
    for x in operands:
        if not isinstance(x, Tensor):
            args.append(_scalar(x, compute))
            continue
        xs = x._shape
        if not xs:
            args.append(read(x, compute)[()])
            continue
        a = flat_of(x)
        if a is False:
            a, xs = _expanded_block(x, compute)
            if a is None:
                return None
        elif x.dtype.storage_np != compute or x.dtype is dt.bfloat16:
            a = read(x, compute).reshape(-1)
        if xs != shape:
            lead = 0
            while lead < len(xs) - 1 and xs[lead] == 1:
                lead += 1
            trailing = xs[lead:]
            if len(trailing) > len(shape) or shape[len(shape) - len(trailing):] != trailing or a.size == 0:
                return None
            if cols is None:
                cols = a.size
            elif cols != a.size:
                return None
        args.append(a)
    if cols is None:  # nothing broadcast: not a tiled case
        return None
    return cols, args


def _expanded_block(x, compute):
    """``(flat block, its shape)`` for an ``expand``-ed tensor (leading dims of stride 0 over
    a contiguous block: a causal mask expanded to the batch), so that the tiled kernels read
    the block like the broadcast operand it came from; ``(None, None)`` for other layouts."""
    shape, strides = x._shape, x._stride
    lead = 0
    while lead < len(shape) - 1 and (strides[lead] == 0 or shape[lead] == 1):
        lead += 1
    if lead == 0 or x.dtype is dt.bfloat16 or x._storage.device is not CPU:
        return None, None
    block = ndarray(x)[(0,) * lead]
    if not block.flags.c_contiguous:
        return None, None
    return block.reshape(-1).astype(compute, copy=False), shape[lead:]


def _run_tiled(name, out, tiled, narrow):
    """``out = name(*args)`` by the tiled kernel, rows split across threads when large."""
    cols, args = tiled
    rows = out.numel() // cols
    result = np.empty((rows, cols), np.float32) if narrow else flat_of(out).reshape(rows, cols)
    args = [a.reshape(rows, cols) if isinstance(a, np.ndarray) and a.size != cols else a for a in args]
    kernel = ew_kernels.tiled_kernel(name, len(args))
    if rows * cols < PARALLEL_MIN_ELEMENTS or NUM_THREADS == 1:
        kernel(result, 0, rows, *args)
    else:
        run_chunks(lambda lo, hi: kernel(result, lo, hi, *args),
                   parallel_chunks(rows, minimum=max(1, PARALLEL_MIN_ELEMENTS // cols)))
    if narrow:
        write(out, result.reshape(out._shape))


def _scalar(x, compute: np.dtype):
    """A Python scalar in the compute dtype; integers wrap like torch (uint8 + -3 -> 253)."""
    try:
        return compute.type(x)
    except OverflowError:
        return np.array(x).astype(compute)[()]


def _run_flat(kernel, out, args):
    n = out.shape[0]
    if n < PARALLEL_MIN_ELEMENTS or NUM_THREADS == 1:
        kernel(out, *args)
        return
    chunks = parallel_chunks(n)

    def run(a, b):
        kernel(out[a:b], *[x[a:b] if isinstance(x, np.ndarray) else x for x in args])
    run_chunks(run, chunks)


def _run_strided(ufunc, out, args):
    """Let numpy's ufunc machinery walk strides and broadcast, with a loop for these exact types.

    Numba's ufunc loops (0.68) can write wrong values into an ``out`` that is not C-contiguous
    when an input is broadcast (a fuzz against numpy's own ufuncs: ~3% of random layouts, never
    with a C-contiguous ``out``), so the call sees ``out`` with its dims ordered by stride (C-
    contiguous when it is dense, as elementwise results laid out like their operands are) or,
    failing that, writes a C-contiguous temporary that numpy copies into ``out``."""
    view, args = _by_stride(out, args)
    if view.flags.c_contiguous:
        _call_ufunc(ufunc, view, args)
    else:
        staged = np.empty(view.shape, out.dtype)
        _call_ufunc(ufunc, staged, args)
        np.copyto(view, staged)


def _call_ufunc(ufunc, out, args):
    types = tuple(a.dtype for a in args)
    with np.errstate(all="ignore"):
        try:
            ufunc.ufunc(*args, out=(out,), casting="unsafe", signature=types + (None,))
        except TypeError:  # no loop compiled yet for exactly these input types
            ew_kernels.compile_loop(ufunc, types)
            ufunc.ufunc(*args, out=(out,), casting="unsafe", signature=types + (None,))


# ------------------------------------------------------------------ reductions
from ..kernels.numba import reduction as red_kernels  # noqa: E402


def _accumulator(op, compute: np.dtype) -> np.dtype:
    if op in ("all", "any"):
        return np.dtype(np.bool_)
    if op in ("max", "min", "max_abs", "min_abs"):
        return compute
    if compute.kind == "f":
        return np.dtype(np.float64)
    return np.dtype(np.int64)


def _identity(op, acc: np.dtype):
    if op in ("sum", "any") or op.startswith("sum_") or op == "count_nonzero":
        return acc.type(0)
    if op in ("prod", "all"):
        return acc.type(1)
    big = np.inf if acc.kind == "f" else (np.iinfo(acc).max if acc.kind in "iu" else True)
    if op in ("max", "max_abs"):
        return acc.type(-big if acc.kind == "f" else (np.iinfo(acc).min if acc.kind in "iu" else False))
    return acc.type(big)


def _as_2d(a: np.ndarray, dims):
    """(kept, reduced) view of ``a`` (a copy only when the dims cannot be merged)."""
    kept = [d for d in range(a.ndim) if d not in dims]
    k = math.prod([a.shape[d] for d in kept])
    r = math.prod([a.shape[d] for d in dims])
    if kept + list(dims) != list(range(a.ndim)):
        a = a.transpose(kept + list(dims))
    return a.reshape(k, r)


#: output dtypes a row-reduction kernel can store its accumulator into directly
_DIRECT_OUT = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int64, np.bool_))
_zero_shifts = {}


def _zero_shift(k, acc: np.dtype) -> np.ndarray:
    """A (read-only, cached for small k) array of k zeros: the "no shift" argument."""
    dtype = acc if acc.kind == "f" else np.dtype(np.float64)
    if k > 4096:
        return np.zeros(k, dtype)
    z = _zero_shifts.get((k, dtype))
    if z is None:
        z = _zero_shifts[k, dtype] = np.zeros(k, dtype)
        z.flags.writeable = False
    return z


def reduce(op: str, out: Tensor, x: Tensor, dims, shift=None) -> None:
    """``out`` (the kept dims, in order) = reduction ``op`` of ``x`` over ``dims``."""
    if _reduce_block(op, out, x, dims, shift):
        return
    compute = x.dtype.compute_np
    a = read(x, compute)
    if _reduce_middle(op, out, a, dims, shift) or _reduce_around(op, out, a, dims, shift):
        return
    v = _as_2d(a, dims)
    k = v.shape[0]
    acc = _accumulator(op, compute)
    if shift is None:
        shift_arr = _zero_shift(k, acc)
    elif isinstance(shift, Tensor):
        shift_arr = np.ascontiguousarray(read(shift, np.dtype(np.float64)).reshape(k))
    else:
        shift_arr = np.full(k, shift, np.float64)
    dst = ndarray(out)
    into = dst.reshape(k) if dst.dtype in _DIRECT_OUT and dst.flags.c_contiguous else None
    result = _reduce_2d(op, v, shift_arr, acc, into)
    if result is not into:
        write(out, result.reshape(out._shape))


def _reduce_middle(op, out, a, dims, shift) -> bool:
    """Leading and trailing dims reduced around a kept middle block of a contiguous array (a
    convolution's bias gradient, batch norm's statistics: (N, C, H, W) over (0, 2, 3)): the
    leading dims first, as whole (kept x trailing) rows added element by element (the column
    sweep, which vectorises), then each kept element's trailing partials, merged. The general
    path would first copy the input transposed. False leaves the call to it."""
    n = a.ndim
    lead = next((i for i in range(n) if i not in dims), n)  # dims 0..lead-1 reduced
    tail = next((i for i in range(n - 1, -1, -1) if i not in dims), -1) + 1  # dims tail.. reduced
    if (lead == 0 or tail == n or len(dims) != lead + n - tail or not a.flags.c_contiguous
            or a.size < PARALLEL_MIN_ELEMENTS // 4):
        return False
    outer, kept = math.prod(a.shape[:lead]), math.prod(a.shape[lead:tail])
    inner = a.size // (outer * kept)
    acc = _accumulator(op, a.dtype)
    if shift is None:
        column_shift = _zero_shift(kept * inner, acc)
    elif isinstance(shift, Tensor):
        column_shift = np.repeat(read(shift, np.dtype(np.float64)).reshape(kept), inner)
    else:
        column_shift = np.full(kept * inner, shift, np.float64)
    columns = _reduce_2d(op, a.reshape(outer, kept * inner).T, column_shift, acc)
    merge = red_kernels.REDUCTIONS[op][2]
    result = np.empty(kept, acc)
    red_kernels.rows_kernel(merge)(result, columns.reshape(kept, inner), _zero_shift(kept, acc),
                                   _identity(op, acc))
    write(out, result.reshape(out._shape))
    return True


def _reduce_around(op, out, a, dims, shift) -> bool:
    """A run of middle dims reduced between kept leading and trailing dims of a contiguous
    array (the heads of (N, heads, L, S) attention weights, dim 1 of any 3-D tensor): viewed
    as (outer, reduced, inner), each outer slice's rows are swept into an (outer, inner)
    accumulator, unit-stride, threads splitting the outer slices. The general path would copy
    the input transposed and reduce rows as short as the reduced dims. False leaves the call
    to it."""
    if not dims:
        return False
    n = a.ndim
    lead, tail = dims[0], dims[-1] + 1
    if (lead == 0 or tail == n or len(dims) != tail - lead or not a.flags.c_contiguous
            or a.size < PARALLEL_MIN_ELEMENTS // 4):
        return False
    outer, inner = math.prod(a.shape[:lead]), math.prod(a.shape[tail:])
    x = a.reshape(outer, a.size // (outer * inner), inner)
    acc = _accumulator(op, a.dtype)
    if shift is None:
        shifts = np.broadcast_to(_zero_shift(1, acc), (outer, inner))
    elif isinstance(shift, Tensor):
        shifts = np.ascontiguousarray(read(shift, np.dtype(np.float64)).reshape(outer, inner))
    else:
        shifts = np.broadcast_to(np.float64(shift), (outer, inner))
    result = np.full((outer, inner), _identity(op, acc), acc)
    kernel = red_kernels.cols_batched_kernel(op, a.dtype)
    run_chunks(lambda s, e: kernel(result[s:e], x[s:e], shifts[s:e]),
               parallel_chunks(outer, max(1, PARALLEL_MIN_ELEMENTS // max(x[0].size, 1))))
    write(out, result.reshape(out._shape))
    return True


def _reduce_block(op, out, x, dims, shift) -> bool:
    """The common case in one kernel call, straight into ``out``: a contiguous input reduced
    over its leading or its trailing dims (a bias gradient, a row softmax, a loss), small
    enough for one thread. False leaves the call to the general path."""
    plan = _REDUCE_PLANS.get((op, x.dtype, out.dtype))
    if plan is None:
        plan = _REDUCE_PLANS[op, x.dtype, out.dtype] = _reduce_plan(op, x.dtype, out.dtype)
    if plan is False or not dims or isinstance(shift, Tensor):
        return False
    a = flat_of(x)
    n = len(a) if a is not False else 0
    if n == 0 or n >= PARALLEL_MIN_ELEMENTS:
        return False
    shape = x._shape
    r = 1
    for d in dims:
        r *= shape[d]
    k = n // r if r else 0
    if k == 0:
        return False
    dst = flat_of(out)
    if dst is False:
        return False
    acc, init, rows, cols = plan
    if dims[-1] == len(shape) - 1 and dims[0] == len(shape) - len(dims):  # trailing: one row each
        s = _zero_shift(k, acc) if shift is None else np.full(k, shift, np.float64)
        rows(dst, a.reshape(k, r), s, init)
    elif dims[0] == 0 and dims[-1] == len(dims) - 1:  # leading: one accumulator per column
        s = _zero_shift(k, acc) if shift is None else np.full(k, shift, np.float64)
        cols(dst, a.reshape(r, k), s, init)
    else:
        return False
    return True


def _reduce_plan(op, dtype, out_dtype):
    """(accumulator dtype, identity, rows kernel, columns kernel) of ``op`` on ``dtype``
    storing into ``out_dtype``, or False where the block path does not apply (16-bit
    storage, or a result of another kind than the accumulator, which ``write`` casts)."""
    if dtype in _NARROW or out_dtype in _NARROW:
        return False
    acc = _accumulator(op, dtype.compute_np)
    if out_dtype.storage_np.kind != acc.kind:
        return False
    return (acc, _identity(op, acc), red_kernels.rows_kernel(op, dtype.compute_np),
            red_kernels.cols_into_kernel(op, dtype.compute_np))


_REDUCE_PLANS = {}


def _reduce_2d(op, v, shift, acc, into=None):
    """The reduction of each row of ``v`` (kept, reduced). Returns ``into`` (a contiguous
    array of the output's dtype, or None) when the kernel could store straight into it."""
    k, r = v.shape
    init = _identity(op, acc)
    if k == 0 or r == 0:
        return np.full(k, init, acc)
    cols = k > 1 and abs(v.strides[0]) < abs(v.strides[1]) and v.strides[0] != 0
    if cols:
        # the kept dim is the contiguous one: sweep whole rows into the accumulator. Threads
        # split the reduced rows (each slice stays unit-stride, so the sweep vectorizes).
        kernel = red_kernels.cols_kernel(op, v.dtype)
        vt = v.T
        result = np.full(k, init, acc)
        chunks = parallel_chunks(r, max(1, PARALLEL_MIN_ELEMENTS // k))
        if len(chunks) == 1:
            kernel(result, vt, shift)
            return result
        partials = np.full((len(chunks), k), init, acc)
        slot = {start: i for i, (start, _) in enumerate(chunks)}
        run_chunks(lambda a, b: kernel(partials[slot[a]], vt[a:b], shift), chunks)
        return _merge_partials(op, result, partials, init)
    kernel = red_kernels.rows_kernel(op, v.dtype)
    result = into if into is not None else np.empty(k, acc)
    if k >= NUM_THREADS and k * r >= PARALLEL_MIN_ELEMENTS:
        run_chunks(lambda a, b: kernel(result[a:b], v[a:b], shift[a:b], init),
                   parallel_chunks(k, 1))
        return result
    chunks = parallel_chunks(r)
    if len(chunks) == 1:
        kernel(result, v, shift, init)
        return result
    result = np.full(k, init, acc)
    # few long rows: reduce slices of each row in parallel, then merge the partials
    partials = np.empty((len(chunks), k), acc)
    slot = {start: i for i, (start, _) in enumerate(chunks)}
    run_chunks(lambda a, b: kernel(partials[slot[a]], v[:, a:b], shift, init), chunks)
    return _merge_partials(op, result, partials, init)


def _merge_partials(op, result, partials, init):
    """Combine per-thread partial results (threads, kept) with the op's merge reduction."""
    merge = red_kernels.REDUCTIONS[op][2]
    k = result.shape[0]
    red_kernels.rows_kernel(merge)(result, np.ascontiguousarray(partials.T), np.zeros(k), init)
    return result


def arg_reduce(op: str, values: Tensor, indices: Tensor, x: Tensor, dim: int) -> None:
    compute = x.dtype.compute_np
    v = _as_2d(read(x, compute), [dim])
    vals = np.empty(v.shape[0], compute)
    idx = np.empty(v.shape[0], np.int64)
    if v.shape[0] > 1 and abs(v.strides[0]) < abs(v.strides[1]):  # kept dim contiguous: sweep rows
        red_kernels.arg_cols_kernel(op)(vals, idx, v.T)
    elif v.shape[0]:
        red_kernels.arg_rows_kernel(op)(vals, idx, v)
    if values is not None:
        write(values, vals.reshape(values._shape))
    write(indices, idx.reshape(indices._shape))


def _rows(a: np.ndarray, dim: int) -> np.ndarray:
    """A (rows, n) view of ``a`` with ``dim`` last (a copy only when ``dim`` is not last)."""
    if dim != a.ndim - 1:
        a = np.moveaxis(a, dim, -1)
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _row_op(out, x: Tensor, dim: int, compute: np.dtype, run, result=None) -> None:
    """``run(result_rows, input_rows)`` along ``dim``, writing into ``out`` in place when its
    memory already has that row layout and the result dtype (else through a temporary);
    results are in ``compute`` dtype unless ``result`` names another. ``out`` may be a tuple
    of tensors of ``x``'s shape (``result`` then a tuple of their dtypes): ``run`` gets a
    tuple of row arrays. The outputs' rows may be shorter than the input's (topk)."""
    several = isinstance(out, tuple)
    outs = out if several else (out,)
    results = result if several else (result or compute,)
    v = _rows(read(x, compute), dim)
    rows = []
    for o, r in zip(outs, results):
        r = np.dtype(r)
        direct = dim == x.dim() - 1 and o.is_contiguous() and o.dtype.storage_np == r
        rows.append((_rows(ndarray(o), dim) if direct else np.empty((v.shape[0], o._shape[dim]), r),
                     direct))
    if v.size:
        run(tuple(res for res, _ in rows) if several else rows[0][0], v)
    for o, (res, direct) in zip(outs, rows):
        if not direct:
            moved = [s for i, s in enumerate(o._shape) if i != dim] + [o._shape[dim]]
            write(o, np.moveaxis(res.reshape(moved), -1, dim))


_NO_INDICES = np.empty((0, 0), np.int64)


def scan(op: str, out: Tensor, x: Tensor, dim: int, acc_np, indices: Tensor | None = None) -> None:
    """Inclusive scan (cumsum, cumprod, logcumsumexp, cummax ...) along ``dim``, accumulating
    in ``acc_np``; floats in float64, as torch's CPU kernels do (a float32 running sum over
    7000 rows drifts by ~5e-4, against ~8e-6 for the float64 one rounded once). cummax and
    cummin also write the index of each value into ``indices``."""
    acc = np.dtype(acc_np)
    floating = acc.kind == "f"
    # float rows are read as they are and accumulate in float64 in the kernel (``zero``),
    # writing the result's dtype: no float64 copies of the input and the output
    compute = (x.dtype.compute_np if x.dtype.is_floating_point else np.dtype(np.float64)) if floating else acc
    result = out.dtype.storage_np if out.dtype.storage_np == out.dtype.compute_np else out.dtype.compute_np
    # the running value's type; its sign as torch's kernels start: a sum from +0 (a leading
    # -0.0 sums to 0.0), a product or extremum from the first element itself
    zero = (np.float64(0.0 if op in ("cumsum", "logcumsumexp") else -0.0)) if floating else acc.type(0)
    if indices is None and x.dtype.storage_np == compute:
        middle = _around((out, x), dim)
        if middle is not None:
            running = np.empty(middle[0].shape[2], np.result_type(compute, zero))
            _by_inner(red_kernels.scan_cols_kernel(op), middle, zero, running)
            return
    kernel = red_kernels.scan_kernel(op)

    def rows(res, v, index_rows=None):
        chunks = parallel_chunks(v.shape[0], max(1, PARALLEL_MIN_ELEMENTS // max(v.shape[1], 1)))
        run_chunks(lambda s, e: kernel(res[s:e], _NO_INDICES if index_rows is None else index_rows[s:e],
                                       v[s:e], zero), chunks)
    if indices is None:
        _row_op(out, x, dim, compute, rows, result)
    else:
        _row_op((out, indices), x, dim, compute, lambda res, v: rows(res[0], v, res[1]), (result, np.int64))


def _in_row_chunks(kernel, *args, along=()):
    """A ``_row_op`` runner calling ``kernel(result_rows, input_rows, *along_rows, *args)`` on
    blocks of rows, on the thread pool when the rows hold enough elements; ``along`` holds
    more row arrays laid out as the input's, split with it."""
    def run(res, v):
        chunks = parallel_chunks(v.shape[0], max(1, PARALLEL_MIN_ELEMENTS // max(v.shape[1], 1)))
        run_chunks(lambda s, e: kernel(res[s:e], v[s:e], *(a[s:e] for a in along), *args), chunks)
    return run


def around_dim(t: Tensor, dim: int):
    """C-contiguous, non-empty ``t`` as an (outer, size along dim, inner) array view, else None."""
    a = ndarray(t)
    if not a.size or not a.flags.c_contiguous:
        return None
    return a.reshape(-1, t._shape[dim], a.size // (math.prod(t._shape[:dim]) * t._shape[dim]))


def _around(tensors, dim):
    """The arrays of ``tensors`` (one shape, a non-16-bit float dtype) as ``around_dim`` views
    for a ``dim`` that is not the last, or None: softmax and scans then run along the middle
    dim, vectorised over the inner one (``softmax_cols``)."""
    first = tensors[0]
    if dim == first.dim() - 1 or first.dtype.storage_np != first.dtype.compute_np:
        return None
    views = [around_dim(t, dim) for t in tensors]
    return None if any(v is None for v in views) else views


def _by_inner(kernel, arrays, *args):
    """``kernel(*arrays, *args, lo, hi)`` over inner positions lo:hi, split across threads."""
    inner = arrays[0].shape[2]
    chunks = parallel_chunks(inner, max(1, PARALLEL_MIN_ELEMENTS // max(1, arrays[0].size // inner)))
    run_chunks(lambda lo, hi: kernel(*arrays, *args, lo, hi), chunks)


def softmax(out: Tensor, x: Tensor, dim: int, log: bool) -> None:
    middle = _around((out, x), dim)
    if middle is not None:
        scratch = [np.empty(middle[0].shape[2], middle[0].dtype) for _ in range(2)]
        _by_inner(red_kernels.softmax_cols, middle, log, *scratch)
        return
    _row_op(out, x, dim, x.dtype.compute_np, _in_row_chunks(red_kernels.softmax_rows, log))


def softmax_backward(out: Tensor, grad: Tensor, y: Tensor, dim: int, log: bool) -> None:
    """``out``: the gradient of (log-)softmax's input, from its output ``y`` and ``grad``."""
    middle = _around((out, y, grad), dim) if grad.dtype is y.dtype else None
    if middle is not None:
        total = np.empty(middle[0].shape[2], middle[0].dtype)
        _by_inner(red_kernels.softmax_backward_cols, middle, log, total)
        return
    compute = y.dtype.compute_np
    grad_rows = _rows(read(grad, compute), dim)
    _row_op(out, y, dim, compute, _in_row_chunks(red_kernels.softmax_backward_rows, log, along=(grad_rows,)))


def argsort(indices: Tensor, x: Tensor, dim: int, descending: bool) -> None:
    """``indices``: the stable sorting order of ``x`` along ``dim`` (NaN sorted as largest):
    long rows by radix sort, short ones by merge sort."""
    compute = _sort_compute(x)
    if x._shape[dim] >= sort_kernels.RADIX_MIN:
        def run(res, v):
            words, *number = sort_kernels.key_words(v)
            _in_row_chunks(sort_kernels.radix_argsort_rows, *number, bool(descending))(res, words)
    else:
        run = _in_row_chunks(sort_kernels.argsort_rows, bool(descending))
    _row_op(indices, x, dim, compute, run, np.int64)


def topk(indices: Tensor, x: Tensor, dim: int, k: int, largest: bool) -> None:
    """``indices``: the first ``k`` of ``argsort(x, dim, descending=largest)``."""
    _row_op(indices, x, dim, _sort_compute(x), _in_row_chunks(sort_kernels.topk_rows, k, bool(largest)),
            np.int64)


def select(indices: Tensor, x: Tensor, dim: int, positions) -> None:
    """``indices`` (x's shape, ``dim`` of size 1): where the element at ``positions`` (an int,
    or an int64 tensor shaped like ``indices``) of the stable ascending order along ``dim`` is."""
    if isinstance(positions, Tensor):
        along = _rows(read(positions, np.dtype(np.int64)), dim)[:, 0]
    else:
        along = np.full(indices.numel(), positions, np.int64)
    _row_op(indices, x, dim, _sort_compute(x), _in_row_chunks(sort_kernels.select_rows, along=(along,)),
            np.int64)


def _sort_compute(x: Tensor) -> np.dtype:
    compute = x.dtype.compute_np
    return np.dtype(np.uint8) if compute == np.bool_ else compute


# ------------------------------------------------------------------ matmul
from ..kernels.numba import matmul as mm_kernels  # noqa: E402


def bmm(out: Tensor, a: Tensor, b: Tensor) -> None:
    """out[i] = a[i] @ b[i] for 3-D tensors (batch dims already broadcast)."""
    compute = out.dtype.compute_np
    narrow = compute != out.dtype.storage_np or out.dtype is dt.bfloat16
    res = np.empty(out._shape, compute) if narrow else ndarray(out)
    if res.size:
        mm_kernels.bmm(res, read(a, compute), read(b, compute))
    if narrow:
        write(out, res)


def mm(a: Tensor, b: Tensor):
    """``a @ b`` for 2-D tensors into a new contiguous tensor: the op layer's direct path for
    plain products (forward and backward of linear); None declines (16-bit floats)."""
    if a.dtype in _NARROW:
        return None
    out = empty((a._shape[0], b._shape[1]), a.dtype)
    if out._flat.size:
        mm_kernels.mm(ndarray(out), ndarray(a), ndarray(b))
    return out


def addmm(bias: Tensor, a: Tensor, b: Tensor, beta, alpha):
    """``bias + a @ b`` for linear's case (a 1-d float32/float64 bias along the rows,
    beta = alpha = 1): the product goes straight into the new output and one pass adds the
    bias. None for any other case, which the op layer composes from mm, mul and add."""
    n = b._shape[1]
    if (beta != 1 or alpha != 1 or a.dtype not in _BIAS_DTYPES or bias.dtype is not a.dtype
            or len(bias._shape) != 1 or bias._shape[0] != n):
        return None
    return _product_plus_row(ndarray(a), ndarray(b), bias, a.dtype)


def linear(x: Tensor, weight: Tensor, bias: Tensor):
    """``x @ weight.T + bias`` for a 2-d float32/float64 ``x`` and checked operands of its
    dtype, the weight read transposed in place (no view tensor): the op layer's path for a
    linear layer whose call records nothing. None declines (other dtypes)."""
    if x.dtype not in _BIAS_DTYPES:
        return None
    return _product_plus_row(ndarray(x), ndarray(weight).T, bias, x.dtype)


def _product_plus_row(a: np.ndarray, b: np.ndarray, bias: Tensor, dtype):
    """A new tensor of ``a @ b``, then ``bias`` added to each row in one pass."""
    out = empty((a.shape[0], b.shape[1]), dtype)
    o = ndarray(out)
    if out._flat.size:
        mm_kernels.mm(o, a, b)
        mm_kernels.add_row_bias(o, ndarray(bias))
    return out


_BIAS_DTYPES = (dt.float32, dt.float64)


# ------------------------------------------------------------------ joining
from ..kernels.numba import join as join_kernels  # noqa: E402


def cat(out: Tensor, tensors, dim: int) -> None:
    """Copy each input into its slice of ``out`` along ``dim`` (inputs cast to out's dtype)."""
    _join(out, [(t, t._shape[dim]) for t in tensors], dim)


def stack(out: Tensor, tensors, dim: int) -> None:
    """Copy each input (all of one shape) into its index of ``out``'s new dim ``dim``: cat of
    the inputs unsqueezed there, without making the views."""
    _join(out, [(t, 1) for t in tensors], dim)


def _join(out: Tensor, parts, dim: int) -> None:
    """Copy each ``(tensor, length)`` of ``parts`` into the next ``length`` positions of
    ``out`` along ``dim``, every input read as (outer, length, inner) like out."""
    outer, total = math.prod(out._shape[:dim]), out._shape[dim]
    inner = math.prod(out._shape[dim + 1:])
    if outer == 1 and out.numel() >= PARALLEL_MIN_ELEMENTS:  # each input one run: threaded copies
        flat, offset = ndarray(out).reshape(-1), 0
        for t, _ in parts:
            n = t.numel()
            if n:
                _copy_run(flat[offset:offset + n], _as_storage_dtype(t, out.dtype))
            offset += n
        return
    dst = _bits(ndarray(out)).reshape(outer, total, inner)
    blocks = [_bits(_as_storage_dtype(t, out.dtype)).reshape(outer, n, inner) for t, n in parts]
    if out.numel() < PARALLEL_MIN_ELEMENTS:
        # one numpy call for all inputs: a batch's collate stacks many small tensors, where a
        # copy per input cost ~3 us of Python each
        np.concatenate(blocks, axis=1, out=dst)
        return
    offset = 0
    for src in blocks:
        n = src.shape[1]
        if src.size:
            region = dst[:, offset:offset + n]
            if _unit_stride_rows(src, inner):
                np.copyto(region, src)  # numpy copies row by row (memcpy), ~10x the loop's speed
            else:  # a transposed input: the loop reads it in place, walking the output in order
                join_kernels.copy_block(region, src)
        offset += n


def _copy_run(dst: np.ndarray, src: np.ndarray) -> None:
    """Copy ``src`` (any shape and strides) into the flat contiguous run ``dst``: a threaded
    flat copy for a large contiguous input, else ``_copy_array``."""
    if dst.shape[0] < PARALLEL_MIN_ELEMENTS or not src.flags.c_contiguous:
        _copy_array(dst.reshape(src.shape), src)
        return
    flat_dst, flat_src = _bits(dst), _bits(src.reshape(-1))
    run_chunks(lambda a, b: join_kernels.copy_flat(flat_dst[a:b], flat_src[a:b]),
               parallel_chunks(dst.shape[0]))


def _unit_stride_rows(src: np.ndarray, inner: int) -> bool:
    """Whether an (outer, along, inner) block's innermost non-trivial axis is unit-stride."""
    axis = 2 if inner > 1 else 1
    return src.shape[axis] <= 1 or src.strides[axis] == src.itemsize


def _as_storage_dtype(t: Tensor, dtype) -> np.ndarray:
    """``t``'s values in ``dtype``'s storage format (a view when the dtype already matches).

    cat only ever widens (its dtype is the promoted one), so a plain numpy cast is exact.
    """
    if t.dtype is dtype:
        return ndarray(t)
    if dtype is dt.bfloat16:
        return float32_to_bfloat16_bits(read(t, np.dtype(np.float32)))
    return read(t, dtype.storage_np)


def _bits(a: np.ndarray) -> np.ndarray:
    """float16 arrays as their uint16 bits: Numba has no float16 type, copies need none."""
    return a.view(np.uint16) if a.dtype == np.float16 else a


# ------------------------------------------------------------------ indexing (gather/scatter/...)
try:
    from .cpu_indexing import *  # noqa: E402,F401,F403
except ImportError:  # pragma: no cover - lands with the indexing kernels
    pass
