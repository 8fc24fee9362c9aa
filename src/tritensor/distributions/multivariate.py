"""MultivariateNormal and LowRankMultivariateNormal (``torch.distributions``), both carried by
a lower-triangular factor so that densities need only triangular solves.

* MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril): the factor L
  with L L^T = covariance; the other two parametrisations are computed on first use.
* LowRankMultivariateNormal(loc, cov_factor W, cov_diag d): covariance W W^T + diag(d); its
  densities use the m x m "capacitance" I + W^T diag(1/d) W (Woodbury and the matrix
  determinant lemma), never the n x n covariance.
"""

from __future__ import annotations

import math

from .. import ops
from ..linalg import cholesky, solve_triangular
from ..size import Size
from . import constraints
from .distribution import Distribution, lazy_property


def _matrix_vector(matrix, vector):
    """(..., n, m) @ (..., m) -> (..., n), with the batch dims broadcast. An unbatched matrix
    (the common case of many draws from one distribution) is one matrix product."""
    if matrix.dim() == 2:
        return vector @ matrix.mT
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def _mahalanobis(lower, x):
    """|L^{-1} x|^2 for the lower-triangular (..., n, n) ``lower`` and (..., n) ``x``, batch
    dims broadcast between the two."""
    batch = ops.broadcast_shapes(tuple(lower.shape[:-2]), tuple(x.shape[:-1]))
    n = x.shape[-1]
    solved = solve_triangular(
        lower.expand(tuple(batch) + (n, n)), x.expand(tuple(batch) + (n,)).unsqueeze(-1), upper=False
    )
    return solved.squeeze(-1).pow(2).sum(-1)


def _half_log_det(lower):
    """log sqrt(det(L L^T)) = sum of log diag(L)."""
    return lower.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _identity(n, like):
    return ops.eye(n, dtype=like.dtype, device=like.device)


def _precision_to_scale_tril(precision):
    """A lower factor L of P^{-1}: with the flipped Cholesky factor U (P = U^T U upper-lower
    reversed), L = U^{-1} is lower triangular and L L^T = P^{-1}; no full inverse is formed."""
    flipped = cholesky(precision.flip((-2, -1)))
    upper_inverse_factor = flipped.flip((-2, -1)).mT
    return solve_triangular(upper_inverse_factor, _identity(precision.shape[-1], precision), upper=False)


def _one_matrix(error_type, **given):
    """The one (name, matrix) among covariance_matrix / precision_matrix / scale_tril given."""
    given = {name: value for name, value in given.items() if value is not None}
    if len(given) != 1:
        raise error_type(
            "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
        )
    ((name, matrix),) = given.items()
    return name, matrix


def _lower_factor(name, matrix):
    """The lower Cholesky factor of the covariance, from whichever matrix was given."""
    if name == "scale_tril":
        return matrix
    if name == "covariance_matrix":
        return cholesky(matrix)
    return _precision_to_scale_tril(matrix)


class _ScaleTrilMatrices:
    """The three matrix parametrisations, computed on first use from the unbroadcasted lower
    factor and expanded over the batch (MultivariateNormal and Wishart)."""

    def _full_matrix(self, matrix):
        return matrix.expand(tuple(self._batch_shape) + tuple(matrix.shape[-2:]))

    @lazy_property
    def scale_tril(self):
        return self._full_matrix(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return self._full_matrix(lower @ lower.mT)

    @lazy_property
    def precision_matrix(self):
        return self._full_matrix(ops.cholesky_inverse(self._unbroadcasted_scale_tril))


def _check_matrix(name, value):
    if value.dim() < 2:
        raise ValueError(f"{name} must be at least two-dimensional, with optional leading batch dimensions")


class _GaussianBase(Distribution):
    """What the two Gaussians share: mean, mode and the reparametrised sampler's support."""

    support = constraints.real_vector
    has_rsample = True

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def _entropy_from_log_det(self, log_det):
        """0.5 (n (1 + log 2 pi) + log det Sigma), expanded over the batch."""
        entropy = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return entropy.expand(tuple(self._batch_shape)) if len(self._batch_shape) else entropy

    def _normal_draws(self, shape):
        return ops.empty(tuple(shape), dtype=self.loc.dtype, device=self.loc.device).normal_()


class MultivariateNormal(_ScaleTrilMatrices, _GaussianBase):
    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }

    def __init__(
        self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, matrix = _one_matrix(
            ValueError, covariance_matrix=covariance_matrix, precision_matrix=precision_matrix,
            scale_tril=scale_tril,
        )
        _check_matrix("scale_tril matrix" if name == "scale_tril" else name, matrix)
        batch = Size(ops.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        self.__dict__[name] = matrix.expand(tuple(batch) + (-1, -1))
        self.loc = loc.expand(tuple(batch) + (-1,))
        super().__init__(batch, self.loc.shape[-1:], validate_args=validate_args)
        self._unbroadcasted_scale_tril = _lower_factor(name, matrix)

    def expand(self, batch_shape, _instance=None):
        """The unbroadcasted factor is shared; the batch-shaped tensors are expanded views."""
        new = Distribution.expand(self, batch_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    @property
    def variance(self):
        variance = self._unbroadcasted_scale_tril.pow(2).sum(-1)
        return variance.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        eps = self._normal_draws(self._extended_shape(sample_shape))
        return self.loc + _matrix_vector(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        self._validate_sample(value)
        lower = self._unbroadcasted_scale_tril
        mahalanobis = _mahalanobis(lower, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis) - _half_log_det(lower)

    def entropy(self):
        return self._entropy_from_log_det(2 * _half_log_det(self._unbroadcasted_scale_tril))


def _capacitance_tril(cov_factor, cov_diag):
    """Cholesky factor of I + W^T diag(1/d) W (m x m)."""
    weighted = cov_factor.mT / cov_diag.unsqueeze(-2)
    return cholesky(weighted @ cov_factor + _identity(cov_factor.shape[-1], cov_factor))


class LowRankMultivariateNormal(_GaussianBase):
    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = Size(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != tuple(event_shape):
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != tuple(event_shape):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_column, self.cov_factor, diag_column = ops.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1)
            )
        except RuntimeError as e:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, "
                f"cov_diag {cov_diag.shape}"
            ) from e
        self.loc, self.cov_diag = loc_column[..., 0], diag_column[..., 0]
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = Distribution.expand(self, batch_shape)
        for name in ("_unbroadcasted_cov_factor", "_unbroadcasted_cov_diag", "_capacitance_tril"):
            setattr(new, name, getattr(self, name))
        return new

    def _full(self, value, event_dims):
        return value.expand(tuple(self._batch_shape) + tuple(self._event_shape) * event_dims)

    @lazy_property
    def variance(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full(w.pow(2).sum(-1) + d, 1)

    @lazy_property
    def scale_tril(self):
        """sqrt(d) * chol(I + (W / sqrt d)(W / sqrt d)^T): a lower factor of W W^T + diag(d)."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        root = d.sqrt().unsqueeze(-1)
        scaled = w / root
        inner = scaled @ scaled.mT + _identity(self._event_shape[0], w)
        return self._full(root * cholesky(inner), 2)

    @lazy_property
    def covariance_matrix(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full(w @ w.mT + d.diag_embed(), 2)

    @lazy_property
    def precision_matrix(self):
        """Woodbury: diag(1/d) - A^T A with A = C^{-1} W^T diag(1/d), C the capacitance factor."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        weighted = w.mT / d.unsqueeze(-2)
        a = solve_triangular(self._capacitance_tril, weighted, upper=False)
        return self._full(d.reciprocal().diag_embed() - a.mT @ a, 2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        w = self._unbroadcasted_cov_factor
        eps_factor = self._normal_draws(tuple(shape[:-1]) + tuple(w.shape[-1:]))
        eps_diag = self._normal_draws(shape)
        return self.loc + _matrix_vector(w, eps_factor) + self._unbroadcasted_cov_diag.sqrt() * eps_diag

    def _log_det(self):
        """Matrix determinant lemma: log det(W W^T + D) = log det C C^T + sum log d."""
        return 2 * _half_log_det(self._capacitance_tril) + self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        diff = value - self.loc
        projected = _matrix_vector(w.mT / d.unsqueeze(-2), diff)
        mahalanobis = (diff.pow(2) / d).sum(-1) - _mahalanobis(self._capacitance_tril, projected)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self):
        return self._entropy_from_log_det(self._log_det())
