"""Exponential, Laplace, Cauchy, LogNormal, Gamma, Chi2, Beta and Dirichlet, with torch's
formulas for densities, distribution functions, entropies and moments written in tensor ops
(gradients flow through them and through ``rsample``)."""

from __future__ import annotations

import math

from .. import ops
from ..nn import functional as F
from ..size import Size
from ..tensor import Tensor
from ..type_info import finfo
from . import constraints
from ._incomplete_gamma import gammainc
from ._sampling import standard_gamma
from .basic import Normal
from .distribution import Distribution, _batch_of, _LocScale, broadcast_all
from .exp_family import ExponentialFamily


def _new_draws(like, shape, fill):
    """A tensor of ``shape`` in ``like``'s dtype and device, filled by the in-place sampler
    ``fill`` (e.g. ``lambda t: t.exponential_()``)."""
    return fill(ops.empty(tuple(shape), dtype=like.dtype, device=like.device))


def _full(dist, like, value):
    return ops.full(tuple(dist._extended_shape()), value, dtype=like.dtype, device=like.device)



class Exponential(ExponentialFamily):
    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(_batch_of((rate,), (self.rate,)), validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return ops.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        draws = _new_draws(self.rate, self._extended_shape(sample_shape), lambda t: t.exponential_())
        return draws / self.rate

    def log_prob(self, value):
        self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(_LocScale):
    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=Size()):
        eps = finfo(self.loc.dtype).eps
        u = _new_draws(self.loc, self._extended_shape(sample_shape), lambda t: t.uniform_(eps - 1, 1))
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        self._validate_sample(value)
        centred = value - self.loc
        return 0.5 - 0.5 * centred.sign() * (-centred.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()


class Cauchy(_LocScale):
    @property
    def mean(self):
        return _full(self, self.loc, math.nan)

    @property
    def variance(self):
        return _full(self, self.loc, math.inf)

    def rsample(self, sample_shape=Size()):
        eps = _new_draws(self.loc, self._extended_shape(sample_shape), lambda t: t.cauchy_())
        return self.loc + eps * self.scale

    def log_prob(self, value):
        self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class LogNormal(Distribution):
    """exp(Normal(loc, scale)); a direct class with the values of torch's
    TransformedDistribution(Normal, ExpTransform). ``loc`` and ``scale`` live on the base
    Normal, so the repr is ``LogNormal()`` as in torch."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def rsample(self, sample_shape=Size()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        self._validate_sample(value)
        log_value = value.log()
        return self.base_dist.log_prob(log_value) - log_value

    def cdf(self, value):
        self._validate_sample(value)
        return self.base_dist.cdf(value.log())

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


class Gamma(ExponentialFamily):
    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    """``rsample`` is reparameterised in both parameters: the concentration through the
    implicit derivative of the standard Gamma draws (see _sampling.py)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch = _batch_of((concentration, rate), (self.concentration,))
        super().__init__(batch, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value):
        # torch converts the value to the parameters' dtype first (as_tensor)
        if isinstance(value, Tensor):
            value = value.to(dtype=self.rate.dtype, device=self.rate.device)
        else:
            value = ops.tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        self._validate_sample(value)
        return (ops.xlogy(self.concentration, self.rate) + ops.xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value):
        self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


class Chi2(Gamma):
    """Gamma(df / 2, 1 / 2); ``df`` is derived from the concentration, so the repr is
    ``Chi2()`` as in torch."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2


class Dirichlet(ExponentialFamily):
    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()

    """``rsample`` normalises independent Gamma draws; its gradients are those of the
    implicit Gamma derivatives through the normalisation (torch uses a dedicated Dirichlet
    derivative; both are unbiased reparameterisations, per-draw values differ)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=Size()):
        gammas = standard_gamma(self.concentration.expand(tuple(self._extended_shape(sample_shape))))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value):
        self._validate_sample(value)
        c = self.concentration
        return ops.xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        c = self.concentration
        above_one = (c - 1).clamp(min=0.0)
        mode = above_one / above_one.sum(-1, True)
        all_below_one = (c < 1).all(-1, keepdim=True)
        corner = F.one_hot(mode.argmax(-1), c.shape[-1]).to(mode.dtype)
        return ops.where(all_below_one, corner, mode)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def entropy(self):
        c = self.concentration
        k, total = c.size(-1), c.sum(-1)
        return (c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))


class Beta(ExponentialFamily):
    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return x.lgamma() + y.lgamma() - (x + y).lgamma()

    """Samples x = g1 / (g1 + g0) of two Gamma draws (torch: a two-class Dirichlet, the same
    thing). The concentrations are kept as a (..., 2) tensor, so the repr is ``Beta()`` as in
    torch."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._concentrations = ops.stack([c1, c0], -1)
        batch = _batch_of((concentration1, concentration0), (c1,))
        super().__init__(batch, validate_args=validate_args)

    @property
    def concentration1(self):
        return self._concentrations[..., 0]

    @property
    def concentration0(self):
        return self._concentrations[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return Dirichlet(self._concentrations, validate_args=False).mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        return Dirichlet(self._concentrations, validate_args=False).rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        self._validate_sample(value)
        heads_tails = ops.stack([value, 1.0 - value], -1)
        return Dirichlet(self._concentrations, validate_args=False).log_prob(heads_tails)

    def entropy(self):
        return Dirichlet(self._concentrations, validate_args=False).entropy()
