"""``torch.nn.utils.rnn``: padding and packing variable-length sequences.

A ``PackedSequence`` holds the sequences of a batch sorted by decreasing length, interleaved
time step by time step (``data``), with how many are still running at each step
(``batch_sizes``). Packing and unpacking are one ``index_select`` / ``index_copy`` each, so
gradients flow through them on both devices.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import dtypes as _dt
from ... import ops
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


class PackedSequence(
    namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()


def invert_permutation(permutation):
    if permutation is None:
        return None
    inverse = ops.empty_like(permutation)
    inverse.scatter_(0, permutation, ops.arange(permutation.numel(), device=permutation.device))
    return inverse


def _packed_rows(batch_sizes, batch):
    """For each packed row, its row in the (time * batch) flattening of the padded tensor."""
    return (
        np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)])
        if len(batch_sizes)
        else np.zeros(0, np.int64)
    )


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"lengths must be a 1D tensor, but got {lengths.dim()}D")
        return [int(v) for v in lengths.cpu().tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (time, batch, *) batch (``batch_first``: (batch, time, *)) of sequences of
    ``lengths``."""
    length_list = _lengths_list(lengths)
    if enforce_sorted:
        if any(a < b for a, b in zip(length_list, length_list[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                "to sidestep this requirement if you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        order = np.argsort(-np.asarray(length_list, np.int64), kind="stable")
        sorted_indices = ops.tensor(order, dtype=_dt.int64, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
        length_list = [length_list[i] for i in order]
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if len(length_list) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(length_list)} "
            f"(batch_size={batch})"
        )
    if batch and min(length_list) <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if batch and max(length_list) > steps:
        raise RuntimeError(f"Expected sequence length to be at most {steps}, but got {max(length_list)}")
    counts = np.asarray(length_list, np.int64)
    batch_sizes = [int((counts > t).sum()) for t in range(int(counts.max()) if batch else 0)]
    rows = ops.tensor(_packed_rows(batch_sizes, batch), dtype=_dt.int64, device=input.device)
    data = input.reshape((steps * batch,) + tuple(input.shape[2:])).index_select(0, rows)
    return PackedSequence(data, ops.tensor(batch_sizes, dtype=_dt.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch of a ``PackedSequence`` and the sequences' lengths (in the original order)."""
    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    steps, batch = len(batch_sizes), (batch_sizes[0] if batch_sizes else 0)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    rows = ops.tensor(_packed_rows(batch_sizes, batch), dtype=_dt.int64, device=data.device)
    padded = ops.full(
        (steps * batch,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device
    )
    padded = padded.index_copy(0, rows, data).view((steps, batch) + tuple(data.shape[1:]))
    lengths = ops.tensor([sum(1 for b in batch_sizes if b > i) for i in range(batch)], dtype=_dt.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices.cpu())
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of different lengths (each (length, *)) into (max_length, batch, *)."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        gap = longest - s.shape[0]
        if gap:
            filler = ops.full((gap,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = ops.cat([s, filler] if padding_side == "right" else [filler, s])
        padded.append(s)
    return ops.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length (the argument is left as it is;
    torch's transposes it in place)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences, _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
