"""``torch.segment_reduce``: reduce consecutive runs ("segments") of ``data`` along ``axis``.

Each element's segment number comes from a (batched) ``searchsorted`` of its position in the
segments' end offsets; the reduction is then one ``index_add`` (sum, mean) or
``scatter_reduce`` (max, min, prod) into a (batch * segments, rest) result, so it runs on
both devices and differentiates through those ops' backward rules.
"""
from __future__ import annotations

from .. import dtypes as dt
from ._registry import export

_REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "amax", "amax": "amax", "min": "amin", "amin": "amin",
               "prod": "prod"}
#: the value of an empty segment without ``initial`` (torch's identities; mean: 0 / 0)
_EMPTY = {"sum": 0.0, "mean": float("nan"), "amax": float("-inf"), "amin": float("inf"), "prod": 1.0}


def _segment_lengths(lengths, offsets, axis, data):
    """The (batch..., segments) lengths, from ``offsets`` when given (torch prefers them)."""
    if offsets is not None:
        _check_index_dtype("offsets", offsets)
        lengths = offsets[..., 1:] - offsets[..., :-1]
    elif lengths is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    else:
        _check_index_dtype("lengths", lengths)
    if axis != lengths.dim() - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got "
                           f"{axis}.")
    if tuple(lengths.shape[:-1]) != tuple(data.shape[:axis]):
        raise RuntimeError(f"segment_reduce(): Expected lengths (shape {list(lengths.shape)}) to match the "
                           f"data's dims before axis {axis} (data shape {list(data.shape)})")
    if lengths.numel() and bool((lengths < 0).any()):
        raise RuntimeError("lengths contains negative value!")
    return lengths


def _check_index_dtype(name, t):
    if t.dtype not in (dt.int64, dt.int32):
        from .elementwise import _torch_name
        raise NotImplementedError(f"\"_segment_reduce_{name}_cpu_kernel1\" not implemented for "
                                  f"'{_torch_name(t.dtype)}'")


def _fold_segments(data, lengths, axis, reduce, initial):
    """(batch * segments, rest) reductions of ``data`` viewed as (batch, S, rest)."""
    from .creation import arange, full
    from .searching import searchsorted
    batch_shape, size = tuple(data.shape[:axis]), data.shape[axis]
    batch = 1
    for s in batch_shape:
        batch *= s
    segments = lengths.shape[-1]
    values = data.reshape(batch, size, -1)
    ends = lengths.reshape(batch, segments).long().cumsum(-1)
    positions = arange(size, device=data.device).expand(batch, size).contiguous()
    segment = searchsorted(ends.contiguous(), positions, right=True)  # (batch, S); == segments: past the end
    flat = (segment + arange(batch, device=data.device).view(batch, 1) * segments)
    keep = (segment < segments).reshape(-1)
    index = flat.reshape(-1)[keep]
    src = values.reshape(batch * size, -1)[keep]
    extreme = reduce in ("amax", "amin")  # ``initial`` joins after, so data ties keep the whole gradient
    start = _EMPTY["sum" if reduce == "mean" else reduce] if initial is None or extreme else initial
    out = full((batch * segments, src.shape[-1]), start, dtype=data.dtype, device=data.device)
    if reduce in ("sum", "mean"):
        out = out.index_add(0, index, src)
        if reduce == "mean":
            counts = lengths.reshape(-1, 1).to(data.dtype)
            empty_value = _EMPTY["mean"] if initial is None else initial
            empty = full((), empty_value, dtype=data.dtype, device=data.device)
            out = (out / counts.clamp(min=1)).where(counts > 0, empty)
    elif reduce == "prod":
        starts = (ends - lengths.reshape(batch, segments).long()).reshape(-1)
        within = positions.reshape(-1)[keep] - starts[index]
        out = out * _segment_products(src, index, within, lengths, batch * segments)
    else:
        expanded = index.view(-1, 1).expand(src.shape)
        out = out.scatter_reduce(0, expanded, src, reduce, include_self=not extreme and initial is not None)
        if extreme and initial is not None:
            out = out.where(out >= initial if reduce == "amax" else out <= initial,
                            full((), initial, dtype=data.dtype, device=data.device))
    return out.reshape(batch_shape + (segments,) + tuple(data.shape[axis + 1:]))


def _segment_products(src, index, within, lengths, rows):
    """Each segment's product: its elements (``within``: their place in the segment) laid out
    in a (rows, longest, rest) block padded with ones, then ``prod`` over the middle dim (a
    plain reduction: it runs on devices without a multiplying scatter, its backward handles
    zeros)."""
    from .creation import ones
    longest = int(lengths.max()) if lengths.numel() else 0
    block = ones((rows, max(longest, 1), src.shape[-1]), dtype=src.dtype, device=src.device)
    return block.index_put((index, within), src).prod(1)


@export(method=False)
def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False,
                   initial=None):
    """Reduce (sum, mean, max/amax, min/amin, prod) each segment of ``data`` along ``axis``;
    ``lengths`` (or ``offsets``) has the data's dims before ``axis`` then one entry per
    segment. An empty segment gives ``initial`` or the reduction's identity (mean: nan)."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if not data.dtype.is_floating_point:
        from .elementwise import _torch_name
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for '{_torch_name(data.dtype)}'")
    axis = axis + data.dim() if axis < 0 else axis
    lengths = _segment_lengths(lengths, offsets, axis, data)
    if not unsafe and lengths.numel() and bool((lengths.sum(-1) != data.shape[axis]).any()):
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           f"data.size(lengths.dim()-1) when !unsafe (data size {data.shape[axis]}, "
                           f"lengths sums {lengths.sum(-1).tolist()}).")
    return _fold_segments(data, lengths, axis, _REDUCTIONS[reduce], initial)
