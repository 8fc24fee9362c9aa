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


@export(method=False)
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """torch.gradient: derivative estimates along ``dim`` (every dim by default), one tensor
    per dim. Central differences inside (second-order accurate, also for unevenly spaced
    coordinates), one-sided ones of order ``edge_order`` at the ends (numpy.gradient's
    formulas). ``spacing``: a number, one number per dim, or one 1-D coordinate tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _gradient_dims(input, dim)
    spacings = _gradient_spacings(input, spacing, dim, dims)
    for d in dims:
        if input._shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    return tuple(_gradient_along(input, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_dims(input, dim):
    if dim is None:
        return list(range(input.dim()))
    dims = [wrap_dim(d, input.dim()) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims


def _gradient_spacings(input, spacing, dim, dims):
    """One spacing per dim: a number, or a coordinate tensor shaped to broadcast along it."""
    if isinstance(spacing, Tensor):
        raise TypeError("gradient(): argument 'spacing' must be a number or a tuple of numbers or of 1-D "
                        "tensors, not Tensor")
    if not isinstance(spacing, (tuple, list)):
        return [spacing] * len(dims)
    if len(spacing) == 1 and len(dims) != 1 and not isinstance(spacing[0], Tensor):
        return list(spacing) * len(dims)
    if len(spacing) != len(dims):
        if dim is None:
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {input.dim()}', since dim argument was not given, but "
                               f"got a list of length {len(spacing)}")
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacing)} and a dim argument of length {len(dims)}.")
    out = []
    for d, h in zip(dims, spacing):
        if isinstance(h, Tensor):
            if h.dim() != 1 or h._shape[0] != input._shape[d]:
                raise RuntimeError(f"torch.gradient expected the coordinates of dim {d} to be a 1-D tensor of "
                                   f"its size {input._shape[d]}, but got shape {list(h.shape)}")
        out.append(h)
    return out


def _gradient_along(f, d, h, edge_order):
    """The derivative estimate of ``f`` along dim ``d``; ``h`` a number or 1-D coordinates."""
    n = f._shape[d]

    def part(start, stop):  # f[start:stop] along d, negative ends counting from n
        start, stop = start + n if start < 0 else start, stop + n if stop < 0 else stop
        return f.narrow(d, start, stop - start)

    if isinstance(h, Tensor):
        def along(v):  # a 1-D coefficient, shaped to broadcast along d
            return v.reshape((-1,) + (1,) * (f.dim() - 1 - d))
        dx = h[1:] - h[:-1]
        left, right = along(dx[:-1]), along(dx[1:])
        inner = (part(0, -2) * (-right / (left * (left + right))) + part(1, -1) * ((right - left) / (left * right))
                 + part(2, n) * (left / (right * (left + right))))
        # the ends' coefficients are 0-d, so they compute in f's dtype (as torch's do)
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / dx[0]
            last = (part(-1, n) - part(-2, -1)) / dx[-1]
        else:
            a, b = dx[0], dx[1]
            first = (part(0, 1) * (-(2 * a + b) / (a * (a + b))) + part(1, 2) * ((a + b) / (a * b))
                     + part(2, 3) * (-a / (b * (a + b))))
            a, b = dx[-2], dx[-1]
            last = (part(-3, -2) * (b / (a * (a + b))) + part(-2, -1) * (-(a + b) / (a * b))
                    + part(-1, n) * ((2 * b + a) / (b * (a + b))))
    else:
        inner = (part(2, n) - part(0, -2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / h
            last = (part(-1, n) - part(-2, -1)) / h
        else:
            first = (part(0, 1) * -1.5 + part(1, 2) * 2 - part(2, 3) * 0.5) / h
            last = (part(-3, -2) * 0.5 - part(-2, -1) * 2 + part(-1, n) * 1.5) / h
    return cat([first, inner, last], d)
