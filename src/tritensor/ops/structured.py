"""Structured matrices built from other ops: block_diag, tril_indices, triu_indices, vander."""
from __future__ import annotations

from .. import dtypes as dt
from ._common import common_device, require_int
from ._registry import export
from .creation import arange, ones, zeros
from .elementwise import not_implemented_for
from .joining import _tensor_list, cat


@export(method=False)
def block_diag(*tensors):
    """torch.block_diag: the 0-/1-/2-D inputs (as 1x1, 1xn, mxn blocks) along the diagonal of
    a zero matrix, in the promoted dtype; each block row is a cat of zeros and the block."""
    tensors = _tensor_list(tensors, "block_diag")
    blocks = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                               f"has {t.dim()} dimensions")
        blocks.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    device = common_device(*tensors) if tensors else None
    dtype = tensors[0].dtype if tensors else dt.get_default_dtype()
    for t in tensors[1:]:
        dtype = dt.promote_types(dtype, t.dtype)
    width = sum(b._shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        m, n = b._shape
        rows.append(cat([zeros(m, left, dtype=dtype, device=device), b.to(dtype),
                         zeros(m, width - left - n, dtype=dtype, device=device)], 1))
        left += n
    if not rows:
        return zeros(1, 0, dtype=dtype)
    return cat(rows, 0)


def _tri_indices(name, row, col, offset, dtype, device, keep):
    row, col, offset = (require_int(name, arg, k + 1, v) for k, (arg, v) in
                        enumerate((("row", row), ("col", col), ("offset", offset))))
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, "
                           f"got{col}")
    if dtype not in (dt.int32, dt.int64):
        raise not_implemented_for(name, dtype)
    r = arange(row, device=device).reshape(-1, 1)
    c = arange(col, device=device).reshape(1, -1)
    return keep(c - r, offset).nonzero().t().to(dtype)


@export(method=False)
def tril_indices(row, col, offset=0, *, dtype=dt.int64, device=None, layout=None):
    """torch.tril_indices: the (row, col) indices, row-major, of the lower triangle of a
    ``row`` x ``col`` matrix below diagonal ``offset``."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device, lambda d, k: d <= k)


@export(method=False)
def triu_indices(row, col, offset=0, *, dtype=dt.int64, device=None, layout=None):
    """torch.triu_indices: the upper triangle's indices, from diagonal ``offset`` up."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device, lambda d, k: d >= k)


@export(method=False)
def vander(x, N=None, increasing=False):
    """torch.vander: columns of powers of the 1-D ``x`` (decreasing unless ``increasing``),
    by a cumulative product as torch (integers computed in int64)."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = dt.promote_types(x.dtype, dt.int64)
    columns = [ones(x._shape[0], min(n, 1), dtype=dtype, device=x.device)]
    if n > 1:
        columns.append(x.to(dtype).unsqueeze(1).expand(x._shape[0], n - 1).cumprod(1))
    result = cat(columns, 1)
    return result if increasing else result.flip(1)
