"""Multinomial, NegativeBinomial, MixtureSameFamily and OneHotCategoricalStraightThrough, with
torch's formulas in tensor ops."""

from __future__ import annotations

import math

from .. import autograd, ops
from ..nn import functional as F
from ..random import poisson
from ..size import Size
from . import constraints
from .basic import Categorical, _BinaryProbsLogits, _check_one_of
from .continuous import Gamma
from .discrete import Binomial, OneHotCategorical
from .distribution import Distribution, broadcast_all, lazy_property


class Multinomial(Distribution):
    """Counts of ``total_count`` Categorical draws over the last dim of probs / logits."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(
            self._categorical.batch_shape, self._categorical.param_shape[-1:], validate_args=validate_args
        )

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def expand(self, batch_shape, _instance=None):
        new = Distribution.expand(self, batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new.probs, validate_args=False)
        return new

    def sample(self, sample_shape=Size()):
        """One-hot codes of total_count Categorical draws, summed."""
        draws = self._categorical.sample(Size((self.total_count,) + tuple(sample_shape)))
        with autograd.no_grad():
            counts = F.one_hot(draws, self._categorical._num_events).sum(0)
        return counts.reshape(tuple(self._extended_shape(sample_shape))).type_as(self.probs)

    def entropy(self):
        """n H(Categorical) - log n! + sum_i E[log x_i!], with x_i ~ Binomial(n, p_i)."""
        n = ops.tensor(float(self.total_count), dtype=self.probs.dtype, device=self.probs.device)
        counts = self._binomial.enumerate_support(expand=False)[1:]
        weights = (counts + 1).lgamma()
        expected_log_factorials = (self._binomial.log_prob(counts).exp() * weights).sum([0, -1])
        return n * self._categorical.entropy() - (n + 1).lgamma() + expected_log_factorials

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.masked_fill((value == 0) & (logits == -math.inf), 0)
        return (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1) + (logits * value).sum(-1)


class NegativeBinomial(_BinaryProbsLogits, Distribution):
    """Successes before ``total_count`` failures, each trial succeeding with ``probs``; drawn as
    Poisson(Gamma(total_count, exp(-logits))), as torch."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _check_one_of(probs, logits)
        total, param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total.type_as(param)
        self.__dict__["probs" if probs is not None else "logits"] = self._param = param
        super().__init__(param.size(), validate_args=validate_args)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(), validate_args=False)

    def sample(self, sample_shape=Size()):
        with autograd.no_grad():
            return poisson(self._gamma.sample(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalised = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normaliser = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        return unnormalised - normaliser.masked_fill(n + value == 0.0, 0.0)


class MixtureSameFamily(Distribution):
    """A Categorical mixture over the rightmost batch dim of ``component_distribution``."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                " The Mixture distribution needs to be an  instance of torch.distributions.Categorical"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The Component distribution needs to be an instance of torch.distributions.Distribution"
            )
        self._mixture_distribution, self._component_distribution = (
            mixture_distribution,
            component_distribution,
        )
        mixture_batch = mixture_distribution.batch_shape
        component_batch = component_distribution.batch_shape[:-1]
        for a, b in zip(reversed(tuple(mixture_batch)), reversed(tuple(component_batch))):
            if a != 1 and b != 1 and a != b:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible with "
                    f"`component_distribution.batch_shape`({component_batch})"
                )
        k_mixture = mixture_distribution.logits.shape[-1]
        k_component = component_distribution.batch_shape[-1]
        if k_mixture != k_component:
            raise ValueError(
                f"`mixture_distribution component` ({k_mixture}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({k_component})"
            )
        self._num_component = k_mixture
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        batch_shape = Size(batch_shape)
        new._component_distribution = self._component_distribution.expand(
            tuple(batch_shape) + (self._num_component,)
        )
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        Distribution.__init__(new, batch_shape, new._component_distribution.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    def _pad(self, x):
        """Insert the component dim in front of the event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        """Mixture weights (mixture batch, k) shaped to broadcast with the components' values."""
        dist_ndims, cat_ndims = len(self.batch_shape), len(self.mixture_distribution.batch_shape)
        pad = 0 if cat_ndims == 1 else dist_ndims - cat_ndims
        shape = tuple(x.shape)
        return x.reshape(shape[:-1] + (1,) * pad + shape[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        """Law of total variance: E[Var | component] + Var[E | component]."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        within = (probs * self.component_distribution.variance).sum(-1 - self._event_ndims)
        between = (probs * (self.component_distribution.mean - self._pad(self.mean)).pow(2.0)).sum(
            -1 - self._event_ndims
        )
        return within + between

    def cdf(self, x):
        return (self.component_distribution.cdf(self._pad(x)) * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))
        log_mix = self.mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix).logsumexp(-1)

    def sample(self, sample_shape=Size()):
        """Draw every component and a component index, and pick along the component dim."""
        with autograd.no_grad():
            sample_shape = tuple(sample_shape)
            batch, event = tuple(self.batch_shape), tuple(self.event_shape)
            picks = self.mixture_distribution.sample(sample_shape)
            mix_batch = tuple(picks.shape[len(sample_shape) :])
            picks = picks.reshape(sample_shape + (1,) * (len(batch) - len(mix_batch)) + mix_batch)
            index = picks.reshape(tuple(picks.shape) + (1,) * (len(event) + 1))
            index = index.expand(sample_shape + batch + (1,) + event)
            draws = self.component_distribution.sample(sample_shape)
            return draws.gather(len(sample_shape) + len(batch), index).squeeze(len(sample_shape) + len(batch))

    def __repr__(self):
        return f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """rsample is the one-hot draw in the forward pass with the gradient of the probabilities
    (straight-through estimator)."""

    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
