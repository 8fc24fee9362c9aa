"""CPU indexing: gather/scatter family, advanced index/index_put, masks, nonzero, flip, tril.

Ops hand these functions tensors whose shapes, dtypes and index ranges they already
checked. Each call becomes one strided walk (``kernels/numba/indexing.py``) over an
iteration shape with three operands given as (flat storage, start offset, strides per
iteration dim): reading and writing tensors in place through their strides, so inputs
are never copied (16-bit floats are widened to float32 only where values are added or
multiplied). Pure data movement reads the storage as raw bits of the element's size,
so one compiled kernel serves every dtype of that size.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as dt
from ..kernels.numba import indexing as ix_kernels
from ..tensor import Tensor, _contiguous_strides, new_tensor
from .cpu import (PARALLEL_MIN_ELEMENTS, around_dim, elementwise, empty, ndarray, parallel_chunks, read,
                  run_chunks, write)

__all__ = ["index_range", "gather", "index_select", "scatter", "index_scatter", "bincount", "histc",
           "masked_fill", "nonzero", "index", "index_put", "take", "put", "flip", "tri"]

_RAW = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_WIDENED = (dt.float16, dt.bfloat16)


# ------------------------------------------------------------------ operands
def _raw(t: Tensor, strides=None):
    """``t`` as an operand of raw element bits, walked with ``strides`` (default: its own)."""
    buf = t._storage.data
    return buf.view(_RAW[buf.itemsize]), t._offset, t._stride if strides is None else strides


def _native(t: Tensor, strides=None):
    """``t`` as an operand of its storage dtype (indices, masks, values being combined)."""
    return t._storage.data, t._offset, t._stride if strides is None else strides


def _unused(nd):
    return np.ones(1, np.bool_), 0, (0,) * nd


def _scalar(value, dtype, nd):
    """A Python scalar as an operand of ``dtype``'s raw bits, the same at every position."""
    t = empty((), dtype)
    write(t, value)
    return _raw(t, (0,) * nd)


def _along(nd, dim, stride):
    """Strides that move only along ``dim`` (an index vector broadcast over the other dims)."""
    return tuple(stride if d == dim else 0 for d in range(nd))


def _launch(name, shape, a, b, c, p0=0, p1=0, parallel=False):
    """Run kernel ``name`` over ``shape``; ``parallel`` only when each output is written once."""
    total = 1
    for s in shape:
        total *= s
    if total == 0:
        return
    nd = len(shape)
    strides = np.array([a[2], b[2], c[2]], np.int64).reshape(3, nd)
    base = np.array([a[1], b[1], c[1]], np.int64)
    dims = np.array(shape, np.int64)
    fn = ix_kernels.kernel(name)
    run_chunks(lambda s, e: fn(a[0], b[0], c[0], dims, strides, base, p0, p1, s, e),
               parallel_chunks(total) if parallel else [(0, total)])


class _Arithmetic:
    """``t`` in a dtype Numba can add/multiply: itself, or a float32 copy for 16-bit floats."""

    def __init__(self, t: Tensor):
        self.target = t
        self.work = t
        if t.dtype in _WIDENED:
            self.work = empty(t._shape, dt.float32)
            write(self.work, read(t, np.dtype(np.float32)))

    def finish(self):
        if self.work is not self.target:
            write(self.target, ndarray(self.work))


def _source(src, dtype, nd, strides=None, arithmetic=False):
    """The values operand of a scatter: a tensor (already of ``dtype``) or a Python scalar."""
    if not isinstance(src, Tensor):
        if not arithmetic:
            return _scalar(src, dtype, nd)
        t = empty((), dt.float32 if dtype in _WIDENED else dtype)
        write(t, src)
        return _native(t, (0,) * nd)
    if not arithmetic:
        return _raw(src, strides)
    if src.dtype in _WIDENED:
        return _native(_Arithmetic(src).work)  # a contiguous float32 copy of src's shape
    return _native(src, strides)


def _combine_name(reduce, dtype):
    if reduce is None:
        return "put_assign"
    return f"put_bool_{reduce}" if dtype is dt.bool else f"put_{reduce}"


# ------------------------------------------------------------------ gather family
def index_range(index: Tensor):
    """(min, max) of an index tensor, for the op's bounds check; (0, -1) if empty."""
    a = ndarray(index)
    if a.size == 0:
        return 0, -1
    if a.flags.c_contiguous:
        lo, hi = ix_kernels.span(a.reshape(-1))
        return int(lo), int(hi)
    return int(a.min()), int(a.max())


def _gather_around(out: Tensor, x: Tensor, dim: int, index: Tensor) -> bool:
    """gather as one loop over (outer, n, inner) views (``gather_around``, raw element bits)
    where ``x``, ``index`` and ``out`` are contiguous and ``index`` matches ``x`` in every
    other dim (the common case: cross entropy's target picks, top-k follow-ups); the walk
    recomputes every operand's offset per element. False (nothing done) otherwise."""
    if not x.dim() or any(index._shape[d] != x._shape[d] for d in range(x.dim()) if d != dim):
        return False
    xa, ia, oa = around_dim(x, dim), around_dim(index, dim), around_dim(out, dim)
    if xa is None or ia is None or oa is None:
        return False
    raw = _RAW[xa.itemsize]
    xa, oa = xa.view(raw), oa.view(raw)
    minimum = max(1, PARALLEL_MIN_ELEMENTS // (ia.shape[1] * ia.shape[2]))
    run_chunks(lambda lo, hi: ix_kernels.gather_around(oa, xa, ia, lo, hi),
               parallel_chunks(ia.shape[0], minimum=minimum))
    return True


def gather(out: Tensor, x: Tensor, dim: int, index: Tensor) -> None:
    """out[p] = x[p with dim replaced by index[p]] over index's (= out's) shape."""
    if _gather_around(out, x, dim, index):
        return
    xs = tuple(0 if d == dim else s for d, s in enumerate(x._stride))
    _launch("take", out._shape, _raw(out), _raw(x, xs), _native(index), x._stride[dim], x._shape[dim],
            parallel=True)


#: runs shorter than this stay in the walk (a row's loop setup outweighs the copy)
_ROW_MIN = 8


def _as_rows(t: Tensor, dim: int):
    """``around_dim(t, dim)`` (t not 0-d) where its runs hold at least ``_ROW_MIN`` elements of
    a dtype the row kernels add, or None."""
    if math.prod(t._shape[dim + 1:]) < _ROW_MIN or t.dtype in _WIDENED or t.dtype is dt.bool:
        return None
    return around_dim(t, dim)


def _take_rows(out: Tensor, x: Tensor, dim: int, index: Tensor) -> bool:
    """index_select by whole runs of the trailing dims (``take_rows``) where they are long and
    back to back; False (nothing done) otherwise."""
    rows = _as_rows(x, dim) if x.dim() and index.dim() == 1 else None
    if rows is None:
        return False
    picked = ndarray(out).reshape(rows.shape[0], index.numel(), rows.shape[2])
    idx = ndarray(index)
    minimum = max(1, PARALLEL_MIN_ELEMENTS // rows.shape[2])
    run_chunks(lambda lo, hi: ix_kernels.take_rows(picked, rows, idx, rows.shape[1], lo, hi),
               parallel_chunks(picked.shape[0] * picked.shape[1], minimum=minimum))
    return True


def index_select(out: Tensor, x: Tensor, dim: int, index: Tensor) -> None:
    """out = x with dim picked by the vector ``index`` (0-d or 1-D; negatives count from the end)."""
    if _take_rows(out, x, dim, index):
        return
    xs = tuple(0 if d == dim else s for d, s in enumerate(x._stride))
    istride = index._stride[0] if index.dim() else 0
    _launch("take", out._shape, _raw(out), _raw(x, xs), _native(index, _along(out.dim(), dim, istride)),
            x._stride[dim], x._shape[dim], parallel=True)


def scatter(out: Tensor, dim: int, index: Tensor, src, reduce=None) -> None:
    """out[p with dim replaced by index[p]] (op)= src[p] over index's shape, in index order."""
    if _scatter_around(out, dim, index, src, reduce):
        return
    _scatter(out, dim, index, index._stride, index._shape, src, reduce,
             src._stride if isinstance(src, Tensor) else None)


def _scatter_around(out: Tensor, dim: int, index: Tensor, src, reduce) -> bool:
    """scatter / scatter_add of a tensor as one loop over (outer, n, inner) views
    (``scatter_around``) where out, index and src are contiguous, src shaped as index, and
    index alike out in every other dim; assignments move raw element bits, additions need a
    dtype the kernels add. False (nothing done) otherwise."""
    add = reduce == "add"
    if (reduce not in (None, "add") or not isinstance(src, Tensor) or not out.dim()
            or src._shape != index._shape
            or any(index._shape[d] != out._shape[d] for d in range(out.dim()) if d != dim)
            or add and (src.dtype is not out.dtype or out.dtype in _WIDENED or out.dtype is dt.bool)):
        return False
    oa, ia, sa = around_dim(out, dim), around_dim(index, dim), around_dim(src, dim)
    if oa is None or ia is None or sa is None:
        return False
    if not add:
        raw = _RAW[oa.itemsize]
        oa, sa = oa.view(raw), sa.view(raw)
    minimum = max(1, PARALLEL_MIN_ELEMENTS // (ia.shape[1] * ia.shape[2]))
    run_chunks(lambda lo, hi: ix_kernels.scatter_around(oa, sa, ia, add, lo, hi),
               parallel_chunks(ia.shape[0], minimum=minimum))
    return True


def _put_rows(out: Tensor, dim: int, index: Tensor, src: Tensor, add: bool) -> bool:
    """out[..., index[i], ...] (+)= src[..., i, ...] by whole runs of the trailing dims
    (``put_rows``) where out's are long and back to back and ``index`` is 1-D; src is read as
    its (outer, n, inner) array (a broadcast src reshaped, copied only where numpy must).
    False (nothing done) otherwise."""
    rows = _as_rows(out, dim) if out.dim() and index.dim() == 1 and src.dtype is out.dtype else None
    if rows is None:
        return False
    runs = ndarray(src).reshape(rows.shape[0], index.numel(), rows.shape[2])
    idx = ndarray(index)
    cols = rows.shape[2]
    minimum = max(_ROW_MIN, PARALLEL_MIN_ELEMENTS // max(1, runs.size // cols))
    run_chunks(lambda lo, hi: ix_kernels.put_rows(rows, runs, idx, rows.shape[1], add, lo, hi),
               parallel_chunks(cols, minimum=minimum))
    return True


def index_scatter(out: Tensor, dim: int, index: Tensor, src, reduce=None) -> None:
    """out[..., index[i], ...] (op)= src[..., i, ...] along dim (index_add/copy/fill); src may be a scalar."""
    by_rows = reduce in (None, "add") and isinstance(src, Tensor)
    if by_rows and _put_rows(out, dim, index, src, reduce == "add"):
        return
    shape = list(out._shape)
    shape[dim] = index.numel()
    istride = index._stride[0] if index.dim() else 0
    _scatter(out, dim, index, _along(len(shape), dim, istride), tuple(shape), src, reduce,
             src._stride if isinstance(src, Tensor) else None)


def _scatter(out, dim, index, index_strides, shape, src, reduce, src_strides):
    def locate(dst):
        ds = tuple(0 if d == dim else s for d, s in enumerate(dst._stride))
        return ds, _native(index, index_strides), dst._stride[dim], dst._shape[dim]
    _put(out, shape, src, src_strides, reduce, locate)


def _put(out, shape, src, src_strides, reduce, locate):
    """Walk ``shape`` writing ``src`` (or combining it, ``reduce``) into ``out`` where ``locate`` says.

    ``locate(dst)`` gives dst's walk strides, the index operand, the step one index moves in
    dst and the size negative indices wrap by; dst is out, or a float32 copy of a 16-bit out
    when values are combined.
    """
    target = _Arithmetic(out) if reduce else None
    dst = target.work if target else out
    dst_strides, index, step, size = locate(dst)
    values = _source(src, out.dtype, len(shape), src_strides, arithmetic=reduce is not None)
    _launch(_combine_name(reduce, out.dtype), shape, (_native if reduce else _raw)(dst, dst_strides), values,
            index, step, size)
    if target:
        target.finish()


# ------------------------------------------------------------------ histograms
def bincount(counts: Tensor, values: Tensor, weights) -> None:
    """counts[v] += weight (1 without ``weights``, which are of counts' dtype) for each of the
    1-D ``values``, already checked to lie in range."""
    added = np.empty(0, ndarray(counts).dtype) if weights is None else np.ascontiguousarray(ndarray(weights))
    ix_kernels.count_values(ndarray(counts), np.ascontiguousarray(ndarray(values)), added)


def histc(counts: Tensor, x: Tensor, low: float, high: float) -> bool:
    """``counts`` (bins, x's float32/float64 dtype) of x's elements in equal bins over [low,
    high] in one pass, threads counting separate slices; False (nothing done) for other
    dtypes, which the op composes."""
    if x.dtype not in (dt.float32, dt.float64):
        return False
    values = np.ascontiguousarray(ndarray(x)).reshape(-1)
    kind = values.dtype.type
    bins = counts.numel()
    chunks = parallel_chunks(values.shape[0])
    partial = np.zeros((len(chunks), bins), values.dtype)
    slot = {lo: i for i, (lo, _) in enumerate(chunks)}
    run_chunks(lambda lo, hi: ix_kernels.count_bins(partial[slot[lo]], values[lo:hi], kind(low), kind(high),
                                                    bins), chunks)
    write(counts, partial.sum(0) if len(chunks) > 1 else partial[0])
    return True


# ------------------------------------------------------------------ masks
def masked_fill(out: Tensor, mask: Tensor, value) -> None:
    """out[mask] = value in place; ``mask`` is bool and already expanded to out's shape.

    ``out = where(mask, value, out)`` through the elementwise kernels, which read a broadcast
    mask in vector loops; the indexing walk took 12 ns an element (a (256, 64, 64) fill with
    a (64, 64) causal mask: 13 ms, against torch's 0.6)."""
    elementwise("where", out, (mask, value, out), out.dtype.compute_np)


def _truth(x: Tensor):
    """``x`` as an operand whose elements test true where x is nonzero (-0.0 included as zero)."""
    if x.dtype in _WIDENED:
        values = np.ascontiguousarray(read(x, np.dtype(np.float32)))
        return values.reshape(-1), 0, _contiguous_strides(x._shape)
    return _native(x)


def nonzero(x: Tensor) -> Tensor:
    """(n, x.dim()) int64 multi-indices of the nonzero elements, in row-major order."""
    count = int(np.count_nonzero(read(x, x.dtype.compute_np))) if x.numel() else 0
    if not count:
        return empty((0, x.dim()), dt.int64)
    rows = empty((count + 1, x.dim()), dt.int64)  # the kernel's spare row last (see its body)
    nd = x.dim()
    _launch("nonzero", x._shape, (ndarray(rows), 0, (0,) * nd), (np.zeros(1, np.int64), 0, (0,) * nd),
            _truth(x))
    return new_tensor(rows._storage, (count, nd), rows._stride, 0, dt.int64)  # the rows before the spare


# ------------------------------------------------------------------ advanced indexing
def _offsets(x: Tensor, dims, indices):
    """Storage offsets (relative to x) that the broadcast ``indices`` pick along ``dims``,
    summed in place in one table (a mask's 500k nonzero rows: 5 -> ~1 ms); negative indices
    take a pass of their own only where there are some."""
    total = np.zeros(np.broadcast_shapes(*(idx._shape for idx in indices)), np.int64)
    scaled = None
    for d, idx in zip(dims, indices):
        a = ndarray(idx)
        if a.size and a.min() < 0:
            a = np.where(a < 0, a + x._shape[d], a)
        stride = x._stride[d]
        if stride == 1:
            np.add(total, a, out=total)
        elif stride:
            if scaled is None:
                scaled = np.empty_like(total)
            np.multiply(a, stride, out=scaled, dtype=np.int64)
            np.add(total, scaled, out=total)
    return total


def _index_operands(x: Tensor, dims, indices, b_start):
    """Walk strides over the result shape for x (its other dims) and the offsets table (the B dims)."""
    off = _offsets(x, dims, indices)
    rest = [x._stride[d] for d in range(x.dim()) if d not in dims]
    nb = off.ndim
    xs = tuple(rest[:b_start]) + (0,) * nb + tuple(rest[b_start:])
    os_ = (0,) * b_start + _contiguous_strides(off.shape) + (0,) * (len(rest) - b_start)
    return xs, (off.reshape(-1), 0, os_)


def index(out: Tensor, x: Tensor, dims, indices, b_start: int) -> None:
    """out = x[indices along dims] (in-range, broadcastable); their shape sits at ``b_start`` in out."""
    if out.numel() == 0:
        return
    # one 1-D index in place of its dim: index_select's layout
    if len(dims) == 1 and b_start == dims[0] and _take_rows(out, x, dims[0], indices[0]):
        return
    if len(dims) == 1 and out.numel() < PARALLEL_MIN_ELEMENTS:
        # one indexed dim (``x[idx]``, ``x[:, idx]``): numpy's take, a few us less than the
        # offsets table and the kernel launch for the small gathers eager code makes often
        np.take(ndarray(x), ndarray(indices[0]), axis=dims[0], out=ndarray(out))
        return
    xs, offsets = _index_operands(x, dims, indices, b_start)
    _launch("take", out._shape, _raw(out), _raw(x, xs), offsets, 1, 0, parallel=True)


def index_put(x: Tensor, dims, indices, b_start: int, values: Tensor, accumulate: bool) -> None:
    """x[indices along dims] (+)= values, values of x's dtype expanded to the indexing result's shape."""
    if values.numel() == 0:
        return
    # one 1-D index in place of its dim: index_copy_'s (index_add_'s) layout, by whole rows
    if len(dims) == 1 and b_start == dims[0] and _put_rows(x, dims[0], indices[0], values, accumulate):
        return

    def locate(dst):
        xs, offsets = _index_operands(dst, dims, indices, b_start)
        return xs, offsets, 1, 0
    _put(x, values._shape, values, values._stride, "add" if accumulate else None, locate)


def take(out: Tensor, x: Tensor, index: Tensor) -> None:
    """out = x (1-D) at ``index`` (any shape; negatives count from the end)."""
    _launch("take", out._shape, _raw(out), _raw(x, (0,) * out.dim()), _native(index), x._stride[0],
            x._shape[0], parallel=True)


def put(x: Tensor, index: Tensor, src: Tensor, accumulate: bool) -> None:
    """x (1-D) at ``index`` (+)= src (index's shape), in index order."""
    def locate(dst):
        return (0,) * index.dim(), _native(index), dst._stride[0], dst._shape[0]
    _put(x, index._shape, src, src._stride, "add" if accumulate else None, locate)


# ------------------------------------------------------------------ layout
def flip(out: Tensor, x: Tensor, dims) -> None:
    """out = x reversed along ``dims``: numpy's copy of the negatively strided view (a
    (1024, 1024) flip 0.5 ms; the indexing walk took 14)."""
    np.copyto(ndarray(out), np.flip(ndarray(x), tuple(dims)))


def tri(out: Tensor, x: Tensor, diagonal: int, upper: bool) -> None:
    """out = tril (or triu) of x's last two dims; ``out`` may be ``x`` (in place)."""
    _launch("tri", out._shape, _raw(out), _raw(x), _unused(out.dim()), diagonal, int(upper), parallel=True)
