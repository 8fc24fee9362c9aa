"""``kl_divergence(p, q)`` through a registry of closed forms per (type(p), type(q)) pair."""

from __future__ import annotations

import math

from .. import ops
from .basic import Bernoulli, Categorical, Normal, Uniform
from .continuous import Beta, Cauchy, Dirichlet, Exponential, Gamma, Laplace, LogNormal
from .discrete import Binomial, Geometric, Independent, OneHotCategorical, Poisson, _sum_rightmost
from .exp_family import ExponentialFamily, kl_between_members

_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator: ``fn(p, q)`` computes KL(p || q) for these two distribution types."""

    def register(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return register


def kl_divergence(p, q):
    for cls_p in type(p).__mro__:
        for cls_q in type(q).__mro__:
            fn = _KL_REGISTRY.get((cls_p, cls_q))
            if fn is not None:
                return fn(p, q)
    raise NotImplementedError(
        f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__}"
    )


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """The generic fallback: a Bregman divergence, for two members of one family."""
    return kl_between_members(p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    from ..nn.functional import softplus

    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = t1.masked_fill(q.probs == 0, math.inf).masked_fill(p.probs == 0, 0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = t2.masked_fill(q.probs == 1, math.inf).masked_fill(p.probs == 1, 0)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill((q.probs == 0).expand_as(t), math.inf).masked_fill((p.probs == 0).expand_as(t), 0)
    return t.sum(-1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return result.masked_fill((q.low > p.low) | (q.high < p.high), math.inf)


# ------------------------------------------------------------------ continuous.py and discrete.py
_EULER_GAMMA = 0.57721566490153286060


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    return (-q.concentration * ratio.log() + ratio + q.concentration.lgamma()
            + q.concentration * _EULER_GAMMA - (1 + _EULER_GAMMA))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_gap = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_gap / q.scale + scale_ratio * (-loc_gap / p.scale).exp() - 1


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    numerator = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (numerator / (4 * p.scale * q.scale)).log()


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    total_p, total_q = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = total_p.lgamma() - total_q.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - total_p.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    total_p = p.concentration1 + p.concentration0
    total_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + total_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + total_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    t5 = (total_q - total_p) * total_p.digamma()
    return t1 - t2 + t3 + t4 + t5


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return kl.masked_fill(p.total_count > q.total_count, math.inf)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


# ------------------------------------------------------------------ between families
@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    total = p.concentration1 + p.concentration0
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (q.concentration - 1) * (p.concentration1.digamma() - total.digamma())
    return -p.entropy() + t2 - t3 + q.rate * p.concentration1 / total


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


def _register_infinite(pairs, parameter):
    """Pairs whose q has no mass somewhere p has (torch's infinite KL): a tensor of inf shaped
    like p's ``parameter``."""

    def infinite(p, q):
        return ops.full_like(getattr(p, parameter), math.inf)

    for type_p, type_q in pairs:
        register_kl(type_p, type_q)(infinite)


_register_infinite([(Exponential, Beta), (Exponential, Uniform)], "rate")
_register_infinite([(Gamma, Beta), (Gamma, Uniform)], "concentration")
_register_infinite([(Laplace, Beta), (Laplace, Exponential), (Laplace, Gamma), (Laplace, Uniform)], "loc")
_register_infinite([(Poisson, Bernoulli), (Poisson, Binomial)], "rate")


def _kl_to_normal(p, q):
    """KL(p || Normal) = -H(p) + log(sqrt(2 pi) sigma) + E_p[(x - mu)^2] / (2 sigma^2), with
    E_p[(x - mu)^2] = Var(p) + (E[p] - mu)^2: one form for every p with a finite variance."""
    var_q = q.scale.pow(2)
    second_moment = p.variance + (p.mean - q.loc).pow(2)
    return -p.entropy() + 0.5 * (2 * math.pi * var_q).log() + second_moment / (2 * var_q)


for _family in (Beta, Exponential, Gamma, Laplace, Uniform):
    register_kl(_family, Normal)(_kl_to_normal)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    """E_p|x - m| for x ~ N(mu, s): s sqrt(2/pi) exp(-d^2 / 2s^2) + d erf(d / (s sqrt 2)), d = mu - m."""
    gap = p.loc - q.loc
    mean_abs = (math.sqrt(2 / math.pi) * p.scale * (-0.5 * (gap / p.scale).pow(2)).exp()
                + gap * (gap / (p.scale * math.sqrt(2))).erf())
    return -(p.scale / q.scale).log() + mean_abs / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


def _mean_log_over(low, high):
    """E[log x] for x ~ Uniform(low, high), low >= 0: (h log h - h - l log l + l) / (h - l)."""
    return (ops.xlogy(high, high) - ops.xlogy(low, low) - (high - low)) / (high - low)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    log_norm = q.concentration.lgamma() - q.concentration * q.rate.log()
    result = (-(p.high - p.low).log() + log_norm - (q.concentration - 1) * _mean_log_over(p.low, p.high)
              + q.rate * (p.high + p.low) / 2)
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    a, b = q.concentration1, q.concentration0
    log_beta = a.lgamma() + b.lgamma() - (a + b).lgamma()
    mean_log_one_minus = _mean_log_over(1 - p.high, 1 - p.low)
    result = (-(p.high - p.low).log() + log_beta - (a - 1) * _mean_log_over(p.low, p.high)
              - (b - 1) * mean_log_one_minus)
    return result.masked_fill((p.high > 1) | (p.low < 0), math.inf)


_register_infinite([(Normal, Beta), (Normal, Exponential), (Normal, Gamma), (Normal, Uniform)], "loc")


# ------------------------------------------------------------------ multivariate.py
def _gaussian_scale_tril(d):
    """A lower factor of the covariance, unbroadcast where the family keeps one."""
    from .multivariate import MultivariateNormal

    return d._unbroadcasted_scale_tril if isinstance(d, MultivariateNormal) else d.scale_tril


def _kl_gaussian_gaussian(p, q):
    """KL between two n-dimensional Gaussians from lower factors Lp, Lq of their covariances:
    sum log diag Lq - sum log diag Lp + (|Lq^{-1} Lp|_F^2 + |Lq^{-1}(mu_q - mu_p)|^2 - n) / 2.
    One form for every pair of MultivariateNormal / LowRankMultivariateNormal (torch uses
    Woodbury-based forms for the low-rank pairs; the values agree)."""
    from .multivariate import _half_log_det, _mahalanobis

    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two Multivariate Normals with different event shapes "
                         f"cannot be computed: {tuple(p.event_shape)} vs {tuple(q.event_shape)}")
    n = p.event_shape[0]
    p_tril, q_tril = _gaussian_scale_tril(p), _gaussian_scale_tril(q)
    batch = tuple(ops.broadcast_shapes(tuple(p_tril.shape[:-2]), tuple(q_tril.shape[:-2])))
    from ..linalg import solve_triangular

    ratio = solve_triangular(q_tril.expand(batch + (n, n)), p_tril.expand(batch + (n, n)), upper=False)
    trace_term = ratio.pow(2).sum((-2, -1))
    mean_term = _mahalanobis(q_tril, q.loc - p.loc)
    return _half_log_det(q_tril) - _half_log_det(p_tril) + 0.5 * (trace_term + mean_term - n)


def _register_gaussian_pairs():
    from .multivariate import LowRankMultivariateNormal, MultivariateNormal

    for type_p in (MultivariateNormal, LowRankMultivariateNormal):
        for type_q in (MultivariateNormal, LowRankMultivariateNormal):
            register_kl(type_p, type_q)(_kl_gaussian_gaussian)


_register_gaussian_pairs()


# ------------------------------------------------------------------ transformed_families.py, more.py
def _register_new_families():
    """KL pairs of the families added with the transforms (torch's closed forms); a function
    so that the imports stay local to it (those modules import this one's siblings)."""
    from .more import ContinuousBernoulli
    from .transformed import TransformedDistribution
    from .transformed_families import EULER_GAMMA, Gumbel, HalfNormal, Pareto

    @register_kl(Gumbel, Gumbel)
    def _kl_gumbel_gumbel(p, q):
        scale_ratio, q_loc, p_loc = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
        t3 = (q_loc + (1 + scale_ratio).lgamma() - p_loc).exp()
        return -scale_ratio.log() - q_loc + p_loc + scale_ratio * EULER_GAMMA + t3 - (1 + EULER_GAMMA)

    @register_kl(HalfNormal, HalfNormal)
    def _kl_halfnormal_halfnormal(p, q):
        return _kl_normal_normal(p.base_dist, q.base_dist)

    @register_kl(Pareto, Pareto)
    def _kl_pareto_pareto(p, q):
        alpha_ratio = q.alpha / p.alpha
        result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
        return result.masked_fill(p.scale < q.scale, math.inf)

    @register_kl(ContinuousBernoulli, ContinuousBernoulli)
    def _kl_continuous_bernoulli(p, q):
        return (p.mean * (p.logits - q.logits) + p._cont_bern_log_norm() + (-p.probs).log1p()
                - q._cont_bern_log_norm() - (-q.probs).log1p())

    @register_kl(TransformedDistribution, TransformedDistribution)
    def _kl_transformed_transformed(p, q):
        if p.transforms != q.transforms or p.event_shape != q.event_shape:
            raise NotImplementedError
        return kl_divergence(p.base_dist, q.base_dist)

    def cross_entropy_to_continuous_bernoulli(p, q):
        """-H(p) - E_p[x] logit(q) - log(1 - q) - log C(q), for p on [0, 1]."""
        return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()

    register_kl(Beta, ContinuousBernoulli)(cross_entropy_to_continuous_bernoulli)

    @register_kl(Uniform, ContinuousBernoulli)
    def _kl_uniform_continuous_bernoulli(p, q):
        result = cross_entropy_to_continuous_bernoulli(p, q)
        return result.masked_fill((p.high >= 1) | (p.low <= 0), math.inf)

    @register_kl(ContinuousBernoulli, Exponential)
    def _kl_continuous_bernoulli_exponential(p, q):
        return -p.entropy() - q.rate.log() + q.rate * p.mean

    @register_kl(ContinuousBernoulli, Uniform)
    def _kl_continuous_bernoulli_uniform(p, q):
        result = -p.entropy() + (q.high - q.low).log()
        return result.masked_fill((q.low >= 0) | (q.high <= 1), math.inf)

    for family in (Gumbel, Pareto, ContinuousBernoulli):
        register_kl(family, Normal)(_kl_to_normal)

    @register_kl(Normal, Gumbel)
    def _kl_normal_gumbel(p, q):
        mean_ratio, var_ratio, loc_ratio = p.loc / q.scale, (p.scale / q.scale).pow(2), q.loc / q.scale
        t3 = (-mean_ratio + 0.5 * var_ratio + loc_ratio).exp()
        return -var_ratio.log() * 0.5 + mean_ratio - loc_ratio + t3 - (0.5 * (1 + math.log(2 * math.pi)))

    @register_kl(Exponential, Gumbel)
    def _kl_exponential_gumbel(p, q):
        product, loc_ratio = p.rate * q.scale, q.loc / q.scale
        tail = loc_ratio.exp() * product / (product + 1) + product.reciprocal()
        return product.log() - 1 - loc_ratio + tail

    @register_kl(Gamma, Gumbel)
    def _kl_gamma_gumbel(p, q):
        c, product, loc_ratio = p.concentration, p.rate * q.scale, q.loc / q.scale
        t1 = (c - 1) * c.digamma() - c.lgamma() - c
        t2 = product.log() + c / product
        t3 = loc_ratio.exp() * (1 + product.reciprocal()).pow(-c) - loc_ratio
        return t1 + t2 + t3

    @register_kl(Uniform, Gumbel)
    def _kl_uniform_gumbel(p, q):
        ratio = q.scale / (p.high - p.low)
        high, low = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
        return ratio.log() + 0.5 * (high + low) - ratio * ((-high).exp() - (-low).exp())

    @register_kl(Pareto, Exponential)
    def _kl_pareto_exponential(p, q):
        product = p.scale * q.rate
        result = (p.alpha / product).log() - p.alpha.reciprocal() + p.alpha * product / (p.alpha - 1) - 1
        return result.masked_fill(p.alpha <= 1, math.inf)

    @register_kl(Pareto, Gamma)
    def _kl_pareto_gamma(p, q):
        common = p.scale.log() + p.alpha.reciprocal()
        t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
        t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
        result = p.alpha.log() - common + t2 + (1 - q.concentration) * common + t4 - 1
        return result.masked_fill(p.alpha <= 1, math.inf)

    @register_kl(Uniform, Pareto)
    def _kl_uniform_pareto(p, q):
        width = p.high - p.low
        t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
        result = _mean_log_over(p.low, p.high) * (q.alpha + 1) - t1
        return result.masked_fill(p.low < q.scale, math.inf)

    _register_infinite([(Gumbel, other) for other in (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto,
                                                      Uniform)], "loc")
    _register_infinite([(ContinuousBernoulli, Pareto)], "probs")
    _register_infinite([(Beta, Pareto)], "concentration1")
    _register_infinite([(Exponential, ContinuousBernoulli), (Exponential, Pareto)], "rate")
    _register_infinite([(Gamma, ContinuousBernoulli), (Gamma, Pareto)], "concentration")
    _register_infinite([(Laplace, ContinuousBernoulli), (Laplace, Pareto), (Normal, ContinuousBernoulli),
                        (Normal, Pareto)], "loc")
    _register_infinite([(Pareto, Beta), (Pareto, ContinuousBernoulli), (Pareto, Uniform)], "scale")


_register_new_families()
