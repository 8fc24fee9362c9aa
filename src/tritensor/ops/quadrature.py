"""The trapezoidal rule along a dim: ``trapezoid`` / ``trapz`` and ``cumulative_trapezoid``, with
torch's formulas (a constant spacing is applied once to the sum, as torch does)."""

from __future__ import annotations

from .. import dtypes as dt
from . import views
from ._common import wrap_dim
from ._registry import export


def _check(y, x, dx, name):
    if y.dtype is dt.bool:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    if x is not None and dx is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments: pass either the sample points "
            "`x` or the spacing `dx`, not both"
        )
    if x is not None and x.dtype is dt.bool:
        raise RuntimeError(f"{name}: received a bool input for `x`, but bool is not supported")


def _ends(y, dim):
    """(y without its last sample, y without its first) along ``dim``."""
    n = y.shape[dim]
    return views.narrow(y, dim, 0, n - 1), views.narrow(y, dim, 1, n - 1)


def _spacings(y, x, dim, name):
    """The gaps between sample points, broadcastable against ``_ends(y)``."""
    n = y.shape[dim]
    if x.dim() == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        gaps = x[1:] - x[:-1]
        return gaps.view((n - 1,) + (1,) * (y.dim() - 1 - dim))
    left, right = _ends(x, wrap_dim(dim - y.dim(), x.dim()))
    return right - left


@export(method=False)
def trapezoid(y, x=None, *, dx=None, dim=-1):
    _check(y, x, dx, "trapezoid")
    dim = wrap_dim(dim, y.dim())
    if y.shape[dim] == 0:
        from .creation import zeros

        shape = tuple(s for i, s in enumerate(y.shape) if i != dim)
        return zeros(shape, dtype=y.dtype, device=y.device)  # torch keeps an integer y's dtype here
    if x is not None:
        left, right = _ends(y, dim)
        return (_spacings(y, x, dim, "trapezoid") * (left + right)).sum(dim) / 2.0
    spacing = 1 if dx is None else dx
    return (y.sum(dim) - (views.select(y, dim, 0) + views.select(y, dim, -1)) * 0.5) * spacing


@export(method=False)
def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


@export(method=False)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    _check(y, x, dx, "cumulative_trapezoid")
    dim = wrap_dim(dim, y.dim())
    if y.shape[dim] == 0:
        return y.float() if not y.is_floating_point() else y.clone()
    left, right = _ends(y, dim)
    if x is not None:
        return (_spacings(y, x, dim, "cumulative_trapezoid") * (left + right)).cumsum(dim) / 2.0
    spacing = 1 if dx is None else dx
    return (spacing / 2.0 * (left + right)).cumsum(dim)
