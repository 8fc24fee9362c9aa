"""Covariance and correlation of variables (rows) over observations (columns): cov and
corrcoef, torch's formulas written with sum, mm and elementwise ops."""
from __future__ import annotations

import warnings

from .. import dtypes as dt
from ._common import raise_if_any
from ._registry import export
from .elementwise import _torch_name
from .linalg import mm


def _check_weights(name, w, n, integral):
    if w.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w.dim()} dimensions")
    if integral and (w.dtype.is_floating_point or w.dtype is dt.bool):
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_torch_name(w.dtype)} dtype")
    if not integral and not w.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{_torch_name(w.dtype)} dtype")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                           f"input but got {w.numel()} != {n}")
    if n:
        raise_if_any((w < 0).any(), RuntimeError, f"cov(): {name} cannot be negative")


@export
def cov(input, *, correction=1, fweights=None, aweights=None):
    """torch.cov: the covariance matrix of the rows of ``input`` (a 1-D input is one
    variable), observations weighted by ``fweights`` (counts) and ``aweights``."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input.dtype is dt.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    n = x._shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n, True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = x.new_full((), n, dtype=dt.int64)
    else:
        w_sum = w.sum()
        raise_if_any(w_sum == 0, RuntimeError, "cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if bool(norm_factor <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number "
                      "of observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0
    centred = x - avg.unsqueeze(1)
    c = mm(centred, (centred if w is None else centred * w).t())
    return c.true_divide(norm_factor).squeeze()


@export
def corrcoef(input):
    """torch.corrcoef: Pearson correlation coefficients of the rows, clipped to [-1, 1]."""
    if input.dim() > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got an input "
                           f"with {input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:  # one variable: nan for a variance of nan, inf or 0, else 1
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    return c.clip(-1, 1)
