"""Turning a list of samples into a batch: ``default_collate`` and ``default_convert``."""
from __future__ import annotations

import collections.abc

import numpy as np

from ... import dtypes as _dt, ops
from ...tensor import Tensor

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numeric_array(x):
    return x.dtype.kind in "biufc"


def default_convert(data):
    """Numpy arrays become tensors, recursively through dicts/sequences (batch_size=None path)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and _is_numeric_array(data):
        return ops.as_tensor(data)
    if isinstance(data, np.generic) and _is_numeric_array(np.asarray(data)):
        return ops.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping_type(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence_type(data, [default_convert(d) for d in data])
    return data


def _same_mapping_type(template, values):
    try:
        out = type(template)(values)
        return out
    except TypeError:
        return values


def _same_sequence_type(template, values):
    try:
        return type(template)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Stack tensors/arrays/numbers along a new first dim, recursing into dicts and sequences."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return ops.stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if not _is_numeric_array(elem):
            raise TypeError(_ERROR.format(elem.dtype))
        return ops.stack([ops.as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic):
        return ops.as_tensor(np.asarray(batch))
    if isinstance(elem, int):  # bools too: tensor() infers torch.bool for them
        return ops.tensor(batch)
    if isinstance(elem, float):
        return ops.tensor(batch, dtype=_dt.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping_type(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(samples) for samples in zip(*batch)]
        return transposed if isinstance(elem, tuple) else _same_sequence_type(elem, transposed)
    raise TypeError(_ERROR.format(type(elem)))
