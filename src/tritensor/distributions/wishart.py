"""``Wishart(df, covariance_matrix | precision_matrix | scale_tril)``: the distribution of
sum_k x_k x_k^T for df Gaussian vectors x_k ~ N(0, Sigma), extended to real df > p - 1.

Everything is computed from the lower factor L of Sigma (as MultivariateNormal). Samples use the
Bartlett decomposition: Sigma^{1/2} A A^T Sigma^{1/2} with A lower triangular, sqrt(chi2(df - i))
on the diagonal and standard normals below it, so ``rsample`` is differentiable.
"""

from __future__ import annotations

import math
import numbers
import warnings

from .. import ops
from ..linalg import slogdet
from ..size import Size
from ..type_info import finfo
from . import constraints
from .continuous import Chi2
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .multivariate import _half_log_det, _lower_factor, _one_matrix, _ScaleTrilMatrices
from .transforms import _vector_to_tril

_LOG_2 = math.log(2)


def _multivariate_digamma(x, p):
    """d/dx log Gamma_p(x) = sum_{i<p} digamma(x - i/2)."""
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError(f"Wrong domain for multivariate digamma function: x must exceed {(p - 1) / 2}.")
    halves = ops.arange(p, dtype=x.dtype, device=x.device) / 2
    return (x.unsqueeze(-1) - halves).digamma().sum(-1)


class Wishart(_ScaleTrilMatrices, ExponentialFamily):
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self._event_shape[-1] - 1),
        }

    def __init__(
        self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ):
        # torch raises AssertionError (not ValueError as MultivariateNormal) for this one
        name, matrix = _one_matrix(
            AssertionError, covariance_matrix=covariance_matrix, precision_matrix=precision_matrix,
            scale_tril=scale_tril,
        )
        if matrix.dim() < 2:
            raise ValueError(
                f"{name} must be at least two-dimensional, with optional leading batch dimensions "
                f"(got shape {tuple(matrix.shape)})"
            )
        p = matrix.shape[-1]
        if isinstance(df, numbers.Number):
            batch = Size(matrix.shape[:-2])
            self.df = ops.tensor(df, dtype=matrix.dtype, device=matrix.device)
        else:
            batch = Size(ops.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(tuple(batch))
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        self.__dict__[name] = matrix.expand(tuple(batch) + (-1, -1))
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for "
                "ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch, Size(matrix.shape[-2:]), validate_args=validate_args)
        self._unbroadcasted_scale_tril = _lower_factor(name, matrix)

    def expand(self, batch_shape, _instance=None):
        """df and the given matrix become expanded views; the lower factor is shared."""
        new = Distribution.expand(self, batch_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _df_matrix(self):
        """df shaped (batch..., 1, 1), to scale the batch's matrices."""
        return self.df.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        """(df - p - 1) Sigma, NaN where df <= p + 1 (no interior mode)."""
        factor = self.df - self._event_shape[-1] - 1
        factor = factor.masked_fill(factor <= 0, math.nan)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        """Var X_ij = df (Sigma_ij^2 + Sigma_ii Sigma_jj)."""
        cov = self.covariance_matrix
        diag = cov.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (cov.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett_sample(self, sample_shape):
        p = self._event_shape[-1]
        dtype, device = self._unbroadcasted_scale_tril.dtype, self._unbroadcasted_scale_tril.device
        chi2 = Chi2(self.df.unsqueeze(-1) - ops.arange(p, dtype=dtype, device=device), validate_args=False)
        diagonal = chi2.rsample(sample_shape).sqrt().clamp(min=finfo(dtype).eps)
        below = ops.empty(
            tuple(sample_shape) + tuple(self._batch_shape) + (p * (p - 1) // 2,), dtype=dtype, device=device
        ).normal_()
        factor = self._unbroadcasted_scale_tril @ (diagonal.diag_embed() + _vector_to_tril(below, -1))
        return factor @ factor.mT

    def _singular(self, samples):
        """Per draw: is any matrix of the batch not positive definite?"""
        bad = ~self.support.check(samples)
        batch_dims = tuple(range(bad.dim() - len(self._batch_shape), bad.dim()))
        return bad.amax(batch_dims) if batch_dims else bad

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """Bartlett draws; draws with a singular matrix are redrawn up to ``max_try_correction``
        (default 10) times, with a warning. (torch 2.13 inverts this test, redrawing the
        non-singular ones and warning whenever any draw is fine.)"""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = Size(sample_shape)
        samples = self._bartlett_sample(sample_shape)
        singular = self._singular(samples)
        if not bool(singular.any()):
            return samples
        warnings.warn("Singular sample detected.", stacklevel=2)
        for _ in range(max_try_correction):
            redrawn = self._bartlett_sample(sample_shape)
            mask = singular.reshape(tuple(singular.shape) + (1,) * (samples.dim() - singular.dim()))
            samples = ops.where(mask, redrawn, samples)
            singular = self._singular(samples)
            if not bool(singular.any()):
                break
        return samples

    def _half_p_log2_plus_log_det(self):
        """p log(2) / 2 + log det(L): the per-df term of log|2 Sigma|^{1/2}."""
        return self._event_shape[-1] * _LOG_2 / 2 + _half_log_det(self._unbroadcasted_scale_tril)

    def log_prob(self, value):
        self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = ops.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * self._half_p_log2_plus_log_det()
            - ops.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        return (
            (p + 1) * self._half_p_log2_plus_log_det()
            + ops.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _multivariate_digamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self):
        return -self.precision_matrix / 2, (self.df - self._event_shape[-1] - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        shifted = y + (p + 1) / 2
        return shifted * (p * _LOG_2 - slogdet(-2 * x).logabsdet) + ops.mvlgamma(shifted, p)
