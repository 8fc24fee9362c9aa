"""``embedding_bag``: sums, means or maxima of bags of embedding rows without materialising
each bag's rows as a tensor of its own.

A bag is a run of indices (a row of a 2-D input, or ``input[offsets[b]:offsets[b + 1]]``).
Each index's row is looked up by ``embedding`` (which brings max_norm, scale_grad_by_freq and
the gradient into ``weight``), then one ``index_add`` (sum, mean) or ``scatter_reduce``
(max) folds the rows into their bags by bag number. Indices equal to ``padding_idx`` belong
to no bag; empty bags are zeros.
"""
from __future__ import annotations

import warnings

from .. import dtypes as _dt, ops
from . import functional as F

_MODES = ("sum", "mean", "max")


def _bag_numbers(offsets, length, include_last_offset):
    """The bag of each of ``length`` indices, and the number of bags, from 1-D ``offsets``."""
    starts = offsets[:-1] if include_last_offset else offsets
    count = starts.shape[0]
    if offsets.numel():
        first, last = int(offsets[0]), int(offsets[-1])
        if first != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                               f"start from position 0. However, got {first}")
        if last > length:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but got "
                               f"offsets[-1] of {last}")
        if offsets.numel() > 1 and bool((offsets[1:] < offsets[:-1]).any()):
            raise RuntimeError(f"offsets must be non-decreasing, but got {offsets.tolist()}")
    positions = ops.arange(length, device=offsets.device, dtype=offsets.dtype)
    # bag b holds positions starts[b] <= i < starts[b + 1]: the last start at or before i
    return ops.searchsorted(starts, positions, right=True) - 1, count


def _check_arguments(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq, sparse):
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
                         f"then it must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2 and offsets is not None:
        raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                         f"of fixed length sequences. However, found offsets of type {type(offsets)}")
    if input.dim() == 1 and (offsets is None or offsets.dim() != 1):
        raise ValueError("offsets has to be a 1D Tensor" + (" but got None" if offsets is None else ""))
    if input.dim() not in (1, 2):
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if sparse:
        raise ValueError("max mode does not support sparse weights") if mode == "max" else \
            NotImplementedError("embedding_bag: sparse gradients are not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is "
                                  f"only supported for mode='sum' (got mode='{mode}'). Please open a feature "
                                  "request on GitHub.")
    if not weight.is_floating_point():
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the following scalar "
                           f"types: Half, BFloat16, Float, Double; but got {weight.type()} instead (while "
                           "checking arguments for embedding_bag)")


def _check_indices(indices, rows):
    if indices.numel():
        low, high = int(indices.min()), int(indices.max())
        bad = low if low < 0 else high if high >= rows else None
        if bad is not None:
            position = int(ops.nonzero((indices == bad).int())[0, 0])
            raise RuntimeError(f"Index {position} of input takes value {bad} which is not in the valid range "
                               f"[0, {rows})")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Per bag, the sum, mean or max of the ``weight`` rows its indices select (``sum`` scaled
    by ``per_sample_weights`` when given). Returns (bags, embedding_dim)."""
    if weight.dtype in (_dt.int64, _dt.int32) and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    _check_arguments(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq, sparse)
    if input.is_floating_point() or input.dtype is _dt.bool:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
                           "embedding_bag)")
    keep = None  # which indices belong to a bag, when not all do
    if input.dim() == 2:  # fixed-length bags, one per row
        bags, length = input.shape
        bag = ops.arange(bags, device=input.device).view(bags, 1).expand(bags, length).reshape(-1)
        input = input.reshape(-1)
        per_sample_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    else:
        bag, bags = _bag_numbers(offsets, input.shape[0], include_last_offset)
        if include_last_offset or bags == 0:  # indices past the last offset, or no bags at all
            keep = (bag >= 0) & (bag < bags)
    _check_indices(input, weight.shape[0])
    padding_idx = F._padding_index(padding_idx, weight.shape[0])
    if padding_idx is not None:
        keep = input != padding_idx if keep is None else keep & (input != padding_idx)
    if keep is not None:
        input, bag = input[keep], bag[keep]
        per_sample_weights = None if per_sample_weights is None else per_sample_weights[keep]
    rows = F.embedding(input, weight, max_norm=max_norm, norm_type=norm_type,
                       scale_grad_by_freq=scale_grad_by_freq)
    out = ops.zeros((bags, weight.shape[1]), dtype=weight.dtype, device=weight.device)
    if mode == "max":
        return out.scatter_reduce(0, bag.unsqueeze(1).expand(rows.shape), rows, "amax", include_self=False)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    out = out.index_add(0, bag, rows)
    if mode == "mean":
        counts = ops.zeros(bags, dtype=weight.dtype, device=weight.device).index_add(
            0, bag, ops.ones(bag.shape, dtype=weight.dtype, device=weight.device))
        out = out / counts.clamp_min(1).unsqueeze(1)
    return out
