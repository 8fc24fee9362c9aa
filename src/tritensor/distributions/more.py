"""StudentT, FisherSnedecor, GeneralizedPareto, ContinuousBernoulli and VonMises, with torch's
formulas for densities, moments and entropies in tensor ops.

Samplers: StudentT and FisherSnedecor from Gamma/Chi2 draws (reparametrised), GeneralizedPareto
and ContinuousBernoulli by inversion of a uniform draw, VonMises by Best and Fisher's rejection
sampler (float64, not reparametrised) -- the same methods as torch, with tritensor's generator,
so draws differ from torch's for a seed.
"""

from __future__ import annotations

import math
import numbers

from .. import autograd, dtypes as _dt, ops
from ..nn import functional as F
from ..random import rand
from ..size import Size
from ..type_info import finfo
from . import constraints
from .basic import _BinaryProbsLogits, _check_one_of, _clamped_probs
from .continuous import Chi2, Gamma
from .distribution import Distribution, _batch_of, broadcast_all, lazy_property
from .exp_family import ExponentialFamily


def _uniform_draws(like, shape):
    return rand(tuple(shape), dtype=like.dtype, device=like.device)


class StudentT(Distribution):
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) above 2, inf on (1, 2], nan at or below 1."""
        above_two = self.df > 2
        safe_df = ops.where(above_two, self.df, ops.full_like(self.df, 3.0))
        finite = self.scale.pow(2) * safe_df / (safe_df - 2)
        undefined = ops.where(self.df > 1, ops.full_like(self.df, math.inf), ops.full_like(self.df, math.nan))
        return ops.where(above_two, finite, undefined)

    def rsample(self, sample_shape=Size()):
        normal = ops.empty(
            tuple(self._extended_shape(sample_shape)), dtype=self.df.dtype, device=self.df.device
        ).normal_()
        chi2 = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * normal * (chi2 / self.df).rsqrt()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        df = self.df
        normaliser = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + (0.5 * df).lgamma()
            - (0.5 * (df + 1.0)).lgamma()
        )
        return -0.5 * (df + 1.0) * (y**2.0 / df).log1p() - normaliser

    def entropy(self):
        df = self.df
        log_beta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (
            self.scale.log()
            + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
            + 0.5 * df.log()
            + log_beta
        )


class FisherSnedecor(Distribution):
    """(X1 / df1) / (X2 / df2) for chi-square X1, X2, drawn as a ratio of Gamma draws."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(_batch_of((df1, df2), (self.df1,)), validate_args=validate_args)

    @property
    def mean(self):
        df2 = self.df2.masked_fill(self.df2 <= 2, math.nan)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return mode.masked_fill(self.df1 <= 2, math.nan)

    @property
    def variance(self):
        df2 = self.df2.masked_fill(self.df2 <= 4, math.nan)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        x1 = self._gamma1.rsample(sample_shape).view(shape)
        x2 = self._gamma2.rsample(sample_shape).view(shape)
        tiny = finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        half1, half2, ratio = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (half1 + half2).lgamma() - half1.lgamma() - half2.lgamma()
        t2 = half1 * ratio.log() + (half1 - 1) * value.log()
        t3 = (half1 + half2) * (ratio * value).log1p()
        return t1 + t2 - t3


class GeneralizedPareto(Distribution):
    """Concentration 0 is the exponential limit (detected with isclose, as torch)."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(_batch_of((loc, scale, concentration), (self.loc,)), validate_args=validate_args)

    def _safe_concentration(self):
        """(where the concentration is ~0, the concentration with 1 there)."""
        c = self.concentration
        near_zero = c.isclose(ops.zeros_like(c))
        return near_zero, ops.where(near_zero, ops.ones_like(c), c)

    def rsample(self, sample_shape=Size()):
        return self.icdf(_uniform_draws(self.loc, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        near_zero, c = self._safe_concentration()
        y = 1 / c + ops.ones_like(z)
        nonzero = ops.where(y == 0, y, y * (c * z).log1p())
        return -self.scale.log() - ops.where(near_zero, z, nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        near_zero, c = self._safe_concentration()
        return ops.where(near_zero, -z, -(c * z).log1p() / c)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        near_zero, c = self._safe_concentration()
        log_u = (-value).log1p()
        return ops.where(
            near_zero, self.loc - self.scale * log_u, self.loc + self.scale / c * (-c * log_u).expm1()
        )

    @property
    def mean(self):
        valid = self.concentration < 1
        c = ops.where(valid, self.concentration, ops.full_like(self.concentration, 0.5))
        return ops.where(valid, self.loc + self.scale / (1 - c), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        c = ops.where(valid, self.concentration, ops.full_like(self.concentration, 0.25))
        return ops.where(valid, self.scale**2 / ((1 - c) ** 2 * (1 - 2 * c)), math.nan)

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).broadcast_to(tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @property
    def support(self):
        upper = ops.where(self.concentration < 0, self.loc - self.scale / self.concentration, math.inf)
        return constraints.interval(self.loc, upper)


class ContinuousBernoulli(_BinaryProbsLogits, ExponentialFamily):
    """Density proportional to p^x (1 - p)^(1 - x) on [0, 1]. Near p = 1/2 (inside ``lims``)
    the normaliser, mean and variance use Taylor expansions, as torch, because the closed
    forms cancel there."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _check_one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(param).all()):
                raise ValueError("The parameter probs has invalid values")
            param = _clamped_probs(param)
        self.__dict__["probs" if probs is not None else "logits"] = self._param = param
        self._lims = lims
        batch = Size() if isinstance(given, numbers.Number) else param.size()
        super().__init__(batch, validate_args=validate_args)

    @lazy_property
    def probs(self):
        return _clamped_probs(self.logits.sigmoid())

    @property
    def param_shape(self):
        return self._param.size()

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log((e^x - 1) / x); a Taylor polynomial where x is inside ``lims`` - 1/2 (torch
        compares the natural parameter with the shifted probability limits)."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = ops.where(outside, x, (self._lims[0] - 0.5) * ops.ones_like(x))
        closed_form = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return ops.where(outside, closed_form, taylor)

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return ops.where(
            self._outside_unstable_region(), self.probs, self._lims[0] * ops.ones_like(self.probs)
        )

    def _cont_bern_log_norm(self):
        """log C(p), C(p) = 2 atanh(1 - 2p) / (1 - 2p); 2 log 2 + Taylor terms near p = 1/2."""
        cut = self._cut_probs()
        below_half = ops.where(cut <= 0.5, cut, ops.zeros_like(cut))
        above_half = ops.where(cut >= 0.5, cut, ops.ones_like(cut))
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - ops.where(
            cut <= 0.5, (-2.0 * below_half).log1p(), (2.0 * above_half - 1.0).log()
        )
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ops.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        closed = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return ops.where(self._outside_unstable_region(), closed, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut = self._cut_probs()
        closed = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / ((-cut).log1p() - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ops.where(self._outside_unstable_region(), closed, taylor)

    def sample(self, sample_shape=Size()):
        with autograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        return self.icdf(_uniform_draws(self.probs, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (
            -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        closed = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = ops.where(self._outside_unstable_region(), closed, value)
        return ops.where(
            value <= 0.0, ops.zeros_like(value), ops.where(value >= 1.0, ops.ones_like(value), inside)
        )

    def icdf(self, value):
        cut = self._cut_probs()
        closed = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return ops.where(self._outside_unstable_region(), closed, value)

    def entropy(self):
        log_probs0, log_probs1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0


# Abramowitz and Stegun 9.8.1-9.8.4: polynomial approximations of I0, I1 (small x) and of
# sqrt(x) exp(-x) I0, I1 (large x), as torch's VonMises uses
_BESSEL_SMALL = (
    [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2],
    [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3],
)
_BESSEL_LARGE = (
    [
        0.39894228,
        0.1328592e-1,
        0.225319e-2,
        -0.157565e-2,
        0.916281e-2,
        -0.2057706e-1,
        0.2635537e-1,
        -0.1647633e-1,
        0.392377e-2,
    ],
    [
        0.39894228,
        -0.3988024e-1,
        -0.362018e-2,
        0.163801e-2,
        -0.1031555e-1,
        0.2282967e-1,
        -0.2895312e-1,
        0.1787654e-1,
        -0.420059e-2,
    ],
)


def _polynomial(y, coefficients):
    """Horner's rule, lowest coefficient first."""
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = c + y * result
    return result


def _log_bessel(x, order):
    """log I_order(x), order 0 or 1, for x > 0."""
    small = _polynomial((x / 3.75).pow(2), _BESSEL_SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _polynomial(3.75 / x, _BESSEL_LARGE[order]).log()
    return ops.where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    """The circular normal on [-pi, pi): density exp(k cos(x - loc)) / (2 pi I0(k))."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (
            self.concentration * (value - self.loc).cos()
            - math.log(2 * math.pi)
            - _log_bessel(self.concentration, 0)
        )

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.double()
        tau = 1 + (1 + 4 * kappa**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        return ops.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))

    def sample(self, sample_shape=Size()):
        """Best and Fisher (1979): wrapped-Cauchy proposals, accepted in rounds until every
        element has one, in float64."""
        with autograd.no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            loc = self.loc.double()
            kappa, r = self.concentration.double(), self._proposal_r.double()
            x = ops.zeros(shape, dtype=loc.dtype, device=loc.device)
            done = ops.zeros(shape, dtype=_dt.bool, device=loc.device)
            while not bool(done.all()):
                u1, u2, u3 = rand((3,) + shape, dtype=loc.dtype, device=loc.device).unbind()
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                x = ops.where(accept & ~done, (u3 - 0.5).sign() * f.acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return 1 - (_log_bessel(self.concentration, 1) - _log_bessel(self.concentration, 0)).exp()
