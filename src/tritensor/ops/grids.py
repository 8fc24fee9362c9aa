"""Grids of inputs: meshgrid, cartesian_prod and combinations; and unravel_index, a flat
position's coordinates in a grid.

meshgrid's results are expanded views, as torch's; cartesian_prod flattens and stacks them;
combinations masks the grid of positions (i < j < ..., or <= with replacement) and selects the
inputs there, so gradients come from expand, stack and masked_select.
"""
from __future__ import annotations

import warnings

from .. import dtypes as dt
from ._registry import export
from .creation import arange, new_empty
from .joining import _tensor_list, stack


def _grid_inputs(tensors, name):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tensors[0]
    tensors = _tensor_list(tensors, name)
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    return tensors


@export(method=False)
def meshgrid(*tensors, indexing=None):
    """torch.meshgrid: each 0-/1-D input expanded along its own dim of the grid ('ij'), or with
    the first two dims swapped ('xy'); warns when ``indexing`` is omitted, as torch."""
    tensors = _grid_inputs(tensors, "torch.meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: "
                           f"{indexing}")
    for i, t in enumerate(tensors):
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0] + list(range(2, len(tensors))) if swap else list(range(len(tensors)))
    sizes = [tensors[k].numel() for k in order]
    grids = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(i)] = -1
        grids.append(t.reshape(shape).expand(sizes))
    return tuple(grids)


@export(method=False)
def cartesian_prod(*tensors):
    """torch.cartesian_prod: every combination of one element of each 1-D input, one per row
    (a single input is returned as it is)."""
    tensors = _grid_inputs(tensors, "cartesian_prod")
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


@export(method=False)
def combinations(input, r=2, with_replacement=False):
    """torch.combinations: the length-``r`` subsequences of the 1-D ``input`` (with repeats
    when ``with_replacement``), in lexicographic order of positions."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return new_empty((0,), input.dtype, input.device)
    positions = meshgrid(*[arange(input._shape[0], device=input.device)] * r, indexing="ij")
    keep = positions[0].new_ones(positions[0]._shape, dtype=dt.bool)
    for a, b in zip(positions, positions[1:]):
        keep = keep & ((a <= b) if with_replacement else (a < b))
    values = meshgrid(*[input] * r, indexing="ij")
    return stack([v.masked_select(keep) for v in values], 1)



@export(method=False)
def unravel_index(indices, shape):
    """Coordinates in a ``shape`` grid (row-major) of each flat index: one int64 tensor per dim,
    shaped as ``indices``. Indices wrap modulo the grid's size, negative ones too, as torch."""
    from ..tensor import Tensor
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype is dt.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    sizes = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(isinstance(s, bool) or not isinstance(s, int) for s in sizes):
        bad = next(s for s in sizes if isinstance(s, bool) or not isinstance(s, int))
        raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(bad)}")
    if any(s < 0 for s in sizes):
        raise ValueError(f"'shape' cannot have negative values, but got {sizes}")
    if 0 in sizes:
        raise RuntimeError(f"unravel_index: cannot unravel into a shape with no elements, {sizes}")
    flat = indices.long()
    coordinates, stride = [], 1
    for size in reversed(sizes):
        coordinates.append(flat.div(stride, rounding_mode="floor").remainder(size))
        stride *= size
    return tuple(reversed(coordinates))
