"""torch.diff: the n-th forward difference along a dim, repeated subtraction of neighbouring
narrowed views (``!=`` for bool, as torch), so autograd and both devices come from sub."""
from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from ._common import wrap_dim
from ._registry import export
from .joining import cat
from .reduction import _into


@export
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """torch.diff: ``input[1:] - input[:-1]`` along ``dim``, ``n`` times, after joining
    ``prepend`` and ``append`` (same number of dims) to its ends."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for name, other in (("prepend", prepend), ("append", append)):
        if other is not None and not isinstance(other, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(other).__name__}")
        if other is not None and other.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    d = wrap_dim(dim, input.dim())
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        k = x._shape[d]
        if k == 0:
            break
        later, earlier = x.narrow(d, 1, k - 1), x.narrow(d, 0, k - 1)
        x = later != earlier if x.dtype is dt.bool else later - earlier
    return _into(out, x)
