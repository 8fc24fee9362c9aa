"""The torch.distributions families beyond Normal/Uniform/Bernoulli/Categorical (Exponential,
Laplace, Cauchy, LogNormal, Gamma, Chi2, Beta, Dirichlet, Poisson, Geometric, Binomial,
OneHotCategorical, Independent), torch.poisson and the in-place samplers geometric_,
log_normal_ and cauchy_.

Densities, distribution functions, entropies, moments and KL divergences (and their gradients
w.r.t. the parameters) are compared with torch on the same parameters. Random draws differ
from torch's for the same seed, so samples are checked statistically: sample means and
variances within a few standard errors of the analytic values, values in the support, shapes,
reproducibility under manual_seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, to_numpy

rng = np.random.default_rng(0)
#: draws per statistical check (the emulated GPU is slow)
N = 4096 if DEVICE.startswith("cuda") else 40000


def g(x, dtype="float64"):
    return Arg(np.asarray(x, np.float64), dtype=dtype, requires_grad=True)


def D(lib):
    return lib.distributions


def pos(*shape, low=0.5, high=3.0):
    return rng.uniform(low, high, shape)


def unit(*shape):
    return rng.uniform(0.1, 0.9, shape)


# ------------------------------------------------------------------ values against torch
# name -> (builder(lib, *params), parameter arrays, values in the support, extra methods)
FAMILIES = {
    "Exponential": (lambda lib, r: D(lib).Exponential(r), [pos(2, 3)], pos(4, 2, 3), ("cdf", "icdf")),
    "Laplace": (lambda lib, m, s: D(lib).Laplace(m, s), [rng.standard_normal((2, 3)), pos(3)],
                rng.standard_normal((4, 2, 3)), ("cdf", "icdf")),
    "Cauchy": (lambda lib, m, s: D(lib).Cauchy(m, s), [rng.standard_normal((2, 3)), pos(3)],
               rng.standard_normal((4, 2, 3)), ("cdf", "icdf")),
    "LogNormal": (lambda lib, m, s: D(lib).LogNormal(m, s), [rng.standard_normal((2, 3)), pos(3)],
                  pos(4, 2, 3), ("cdf", "icdf")),
    "Gamma": (lambda lib, c, r: D(lib).Gamma(c, r), [pos(2, 3), pos(3)], pos(4, 2, 3), ()),
    "Chi2": (lambda lib, df: D(lib).Chi2(df), [pos(2, 3, high=6)], pos(4, 2, 3), ()),
    "Beta": (lambda lib, a, b: D(lib).Beta(a, b), [pos(2, 3), pos(3)], unit(4, 2, 3), ()),
    "Dirichlet": (lambda lib, c: D(lib).Dirichlet(c), [pos(2, 3)],
                  rng.dirichlet([1.0, 2.0, 3.0], (4, 2)), ()),
    "Poisson": (lambda lib, r: D(lib).Poisson(r), [pos(2, 3)], rng.integers(0, 6, (4, 2, 3)), ()),
    "Geometric": (lambda lib, p: D(lib).Geometric(probs=p), [unit(2, 3)], rng.integers(0, 6, (4, 2, 3)), ()),
    "GeometricLogits": (lambda lib, lg: D(lib).Geometric(logits=lg), [rng.standard_normal((2, 3))],
                        rng.integers(0, 6, (4, 2, 3)), ()),
    "Binomial": (lambda lib, p: D(lib).Binomial(7, probs=p), [unit(2, 3)], rng.integers(0, 8, (4, 2, 3)), ()),
    "BinomialLogits": (lambda lib, lg: D(lib).Binomial(5, logits=lg), [rng.standard_normal((2, 3))],
                       rng.integers(0, 6, (4, 2, 3)), ()),
    "OneHotCategorical": (lambda lib, p: D(lib).OneHotCategorical(probs=p), [pos(2, 3)],
                          np.eye(3)[rng.integers(0, 3, (4, 2))], ()),
    "Independent": (lambda lib, m, s: D(lib).Independent(D(lib).Normal(m, s), 1),
                    [rng.standard_normal((2, 3)), pos(2, 3)], rng.standard_normal((4, 2, 3)), ()),
}
FAMILIES["Normal"] = (lambda lib, m, s: D(lib).Normal(m, s), [rng.standard_normal((2, 3)), pos(3)],
                      rng.standard_normal((4, 2, 3)), ("cdf", "icdf"))
STATS = ("mean", "variance", "stddev", "mode")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_values_and_gradients_match_torch(name):
    build, params, value, extra = FAMILIES[name]

    def stats(lib, *args):
        *ps, v = args
        d = build(lib, *ps)
        out = [d.log_prob(v), d.entropy()] + [getattr(d, s) for s in STATS]
        if "cdf" in extra:
            out.append(d.cdf(v))
        if "icdf" in extra:
            out.append(d.icdf(d.cdf(v).detach()))
        return [o for o in out if o.requires_grad] + [o.detach() for o in out if not o.requires_grad]

    check(stats, *[g(p) for p in params], np.asarray(value, np.float64), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_and_number_parameters(dtype):
    value = pos(5)
    check(lambda lib, c, r, v: D(lib).Gamma(c, r).log_prob(v), g(pos(5), dtype), g(pos(5), dtype),
          Arg(value, dtype), same_node=False)

    def number_parameters(lib, v):
        """Number parameters make CPU tensors of the default dtype (values taken to the CPU)."""
        c = v.cpu()
        out = [D(lib).Gamma(2.0, 3.0).log_prob(c), D(lib).Exponential(2.0).cdf(c),
               D(lib).Beta(2.0, 3.0).log_prob(c / 4), D(lib).Poisson(2.0).log_prob(c.floor())]
        return [o.to(v.device) for o in out]

    check(number_parameters, Arg(value, dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_reduced_precision_parameters(dtype):
    """Values and gradients in each floating dtype (torch computes the same formulas in it)."""
    conc, rate, value = pos(2, 3), pos(2, 3), rng.uniform(0.05, 0.95, (2, 3))

    def stats(lib, c, r, v):
        return [D(lib).Gamma(c, r).log_prob(v), D(lib).Gamma(c, r).entropy(), D(lib).Exponential(r).cdf(v),
                D(lib).Laplace(v, r).entropy(), D(lib).Cauchy(c, r).log_prob(v), D(lib).Beta(c, r).log_prob(v)]

    check(stats, g(conc, dtype), g(rate, dtype), Arg(value, dtype), same_node=False)


def test_non_contiguous_parameters_and_empty_batches():
    check(lambda lib, c, r, v: [D(lib).Gamma(c, r).log_prob(v), D(lib).Dirichlet(c).entropy()],
          Arg(pos(2, 3), "float64", requires_grad=True, transpose=True), g(pos(2, 3)),
          Arg(pos(2, 3), "float64", transpose=False), same_node=False)

    def empty(lib, c):
        gamma, poisson = D(lib).Gamma(c, 1.0), D(lib).Poisson(c)
        return [gamma.sample((3,)).shape, poisson.sample((2,)).shape, gamma.log_prob(c + 1), gamma.entropy()]

    check(empty, np.ones((0, 2)))


def test_edge_parameters_and_enumerate_support():
    def edges(lib, conc, probs, counts):
        dirichlet = D(lib).Dirichlet(conc)  # first row all below 1: the mode is a corner
        geometric = D(lib).Geometric(probs=probs)  # p = 1: all mass on 0
        binomial = D(lib).Binomial(5, probs=probs)
        one_hot = D(lib).OneHotCategorical(probs=conc)
        return [dirichlet.mode, geometric.log_prob(counts), geometric.entropy(), binomial.log_prob(counts),
                binomial.enumerate_support(), binomial.enumerate_support(False), binomial.entropy(),
                one_hot.enumerate_support(), one_hot.mode, D(lib).Poisson(1 - probs).log_prob(counts)]

    check(edges, g([[0.3, 0.5, 0.2], [2.0, 3.0, 1.5]]), np.array([1.0, 0.5, 1.0]),
          np.array([0.0, 2.0, 3.0]), same_node=False)


def test_gamma_and_chi2_cdf():
    """torch.special.gammainc's values; the gradient w.r.t. rate and value (the density), and
    torch's NotImplementedError for the concentration's."""
    conc = np.array([0.05, 0.7, 2.0, 9.0, 150.0])
    value = np.array([[0.01, 0.5, 3.0, 4.0, 140.0], [2.0, 0.001, 0.5, 30.0, 170.0]])
    check(lambda lib, c, r, v: D(lib).Gamma(c, r).cdf(v), conc, g(pos(5)), g(value), same_node=False)
    check(lambda lib, df, v: D(lib).Chi2(df).cdf(v), 2 * conc, g(value), same_node=False)
    check(lambda lib, c, r, v: D(lib).Gamma(c, r).cdf(v), np.array([0.5, 3.0]), np.ones(2),
          np.array([0.0, np.inf]))

    def concentration_grad(lib, c, r, v):
        D(lib).Gamma(c, r).cdf(v).backward()

    check(concentration_grad, g(2.0), np.array(1.0), np.array(1.5))


def test_batch_event_shapes_broadcasting_and_expand():
    def shapes(lib):
        t = lib.ones
        dists = [
            D(lib).Gamma(t(2, 1), t(3)), D(lib).Beta(t(4), 2.0), D(lib).Dirichlet(t(2, 5)),
            D(lib).Binomial(t(3, 1), probs=t(4) / 2), D(lib).OneHotCategorical(logits=t(2, 3)),
            D(lib).Independent(D(lib).Normal(t(2, 3, 4), 1.0), 2), D(lib).Chi2(3.0),
            D(lib).LogNormal(t(2), 1.0), D(lib).Laplace(0.0, t(3)), D(lib).Geometric(logits=t(2)),
        ]
        out = []
        for d in dists:
            out.append((tuple(d.batch_shape), tuple(d.event_shape), tuple(d.sample((2,)).shape)))
            e = d.expand((5,) + tuple(d.batch_shape))
            out.append((tuple(e.batch_shape), tuple(e.event_shape), tuple(e.sample().shape),
                        tuple(e.log_prob(e.sample()).shape), type(e).__name__))
        return out

    assert shapes(tritensor) == shapes(torch)
    check(lambda lib, r, v: D(lib).Exponential(r).expand((4, 3)).log_prob(v), g(pos(3)), pos(4, 3),
          same_node=False)
    check(lambda lib: D(lib).Exponential(lib.ones(2)).expand((3,)))  # RuntimeError in both


INVALID = [
    lambda lib: D(lib).Exponential(lib.tensor([-1.0])),
    lambda lib: D(lib).Gamma(lib.tensor([1.0]), lib.tensor([0.0])),
    lambda lib: D(lib).Chi2(lib.tensor([-2.0])),
    lambda lib: D(lib).Beta(lib.tensor([1.0]), lib.tensor([-1.0])),
    lambda lib: D(lib).Dirichlet(lib.tensor(1.0)),
    lambda lib: D(lib).Dirichlet(lib.tensor([1.0, -1.0])),
    lambda lib: D(lib).Poisson(lib.tensor([-1.0])),
    lambda lib: D(lib).Geometric(probs=lib.tensor([0.0, 0.3])),
    lambda lib: D(lib).Geometric(probs=lib.tensor([0.3]), logits=lib.tensor([0.3])),
    lambda lib: D(lib).Geometric(),
    lambda lib: D(lib).Binomial(2.5, probs=lib.tensor([0.3])),
    lambda lib: D(lib).Binomial(2, probs=lib.tensor([1.3])),
    lambda lib: D(lib).Binomial(2),
    lambda lib: D(lib).Laplace(0.0, -1.0),
    lambda lib: D(lib).Cauchy(lib.tensor([float("nan")]), 1.0),
    lambda lib: D(lib).LogNormal(0.0, lib.tensor([-1.0])),
    lambda lib: D(lib).OneHotCategorical(probs=lib.tensor([0.5, -0.1])),
    lambda lib: D(lib).Independent(D(lib).Normal(lib.zeros(2), 1.0), 2),
    lambda lib: D(lib).Exponential(2.0).log_prob(lib.tensor(-1.0)),
    lambda lib: D(lib).Gamma(2.0, 1.0).log_prob(lib.tensor(-1.0)),
    lambda lib: D(lib).Beta(2.0, 1.0).log_prob(lib.tensor(1.5)),
    lambda lib: D(lib).Poisson(2.0).log_prob(lib.tensor(1.5)),
    lambda lib: D(lib).Binomial(3, probs=lib.tensor(0.5)).log_prob(lib.tensor(4.0)),
    lambda lib: D(lib).Dirichlet(lib.ones(3)).log_prob(lib.tensor([0.5, 0.6, 0.1])),
    lambda lib: D(lib).OneHotCategorical(probs=lib.ones(3)).log_prob(lib.tensor([1.0, 1.0, 0.0])),
    lambda lib: D(lib).Binomial(lib.tensor([2.0, 3.0]), probs=lib.tensor([0.5, 0.5])).entropy(),
    lambda lib: D(lib).Dirichlet(lib.ones(3)).log_prob(lib.tensor([0.5, 0.5])),
    lambda lib: D(lib).Gamma(lib.ones(3), 1.0).log_prob(lib.ones(2)),
]


@pytest.mark.parametrize("case", range(len(INVALID)))
def test_validation_errors_match_torch(case):
    check(INVALID[case])  # torch raises: tritensor must raise the same type


def test_validation_off_and_messages():
    assert D(tritensor).Exponential(-1.0, validate_args=False).batch_shape == torch.Size([])
    for build in INVALID[:3] + INVALID[6:8] + INVALID[10:11] + INVALID[-2:]:
        messages = []
        for lib in (torch, tritensor):
            with pytest.raises(ValueError) as info:
                build(lib)
            messages.append(str(info.value).split(" of distribution")[0])
        assert messages[0] == messages[1]


def test_reprs_and_supports():
    builds = [
        lambda lib: D(lib).Exponential(lib.ones(2)), lambda lib: D(lib).Gamma(2.0, 3.0),
        lambda lib: D(lib).Chi2(2.0), lambda lib: D(lib).Beta(2.0, 3.0),
        lambda lib: D(lib).LogNormal(0.0, 1.0),
        lambda lib: D(lib).Binomial(3, probs=lib.tensor([0.2, 0.3])), lambda lib: D(lib).Poisson(3.0),
        lambda lib: D(lib).Geometric(logits=lib.zeros(3)), lambda lib: D(lib).Dirichlet(lib.ones(2, 3)),
        lambda lib: D(lib).Independent(D(lib).Normal(lib.zeros(2, 3), 1.0), 1),
        lambda lib: D(lib).OneHotCategorical(probs=lib.tensor([0.2, 0.8])),
    ]
    for build in builds:
        ours, ref = build(tritensor), build(torch)
        assert repr(ours) == repr(ref)
        if not isinstance(ref, torch.distributions.Binomial):
            assert repr(ours.support) == repr(ref.support)
        assert ours.has_rsample == ref.has_rsample
        assert set(ours.arg_constraints) == set(ref.arg_constraints)


def test_kl_divergences_match_torch():
    def kls(lib, a, b, c, d, pa, pb):
        K = D(lib).kl_divergence
        return [
            K(D(lib).Exponential(a), D(lib).Exponential(b)),
            K(D(lib).Gamma(a, b), D(lib).Gamma(c, d)),
            K(D(lib).Exponential(a), D(lib).Gamma(c, d)),
            K(D(lib).Gamma(a, b), D(lib).Exponential(d)),
            K(D(lib).Laplace(a, b), D(lib).Laplace(c, d)),
            K(D(lib).Cauchy(a, b), D(lib).Cauchy(c, d)),
            K(D(lib).LogNormal(a, b), D(lib).LogNormal(c, d)),
            K(D(lib).Beta(a, b), D(lib).Beta(c, d)),
            K(D(lib).Dirichlet(lib.stack([a, b], -1)), D(lib).Dirichlet(lib.stack([c, d], -1))),
            K(D(lib).Poisson(a), D(lib).Poisson(c)),
            K(D(lib).Geometric(probs=pa), D(lib).Geometric(probs=pb)),
            K(D(lib).Binomial(5, probs=pa), D(lib).Binomial(5, probs=pb)),
            K(D(lib).OneHotCategorical(probs=lib.stack([pa, pb], -1)),
              D(lib).OneHotCategorical(probs=lib.stack([pb, pa], -1))),
            K(D(lib).Independent(D(lib).Normal(a, b), 1), D(lib).Independent(D(lib).Normal(c, d), 1)),
            K(D(lib).Beta(a, b), D(lib).Exponential(c)),
            K(D(lib).Beta(a, b), D(lib).Gamma(c, d)),
            K(D(lib).Chi2(a), D(lib).Exponential(c)),
            K(D(lib).Bernoulli(probs=pa), D(lib).Poisson(c)),
            K(D(lib).Exponential(a), D(lib).Uniform(c - 5, d)),
            K(D(lib).Gamma(a, b), D(lib).Beta(c, d)),
            K(D(lib).Laplace(a, b), D(lib).Gamma(c, d)),
            K(D(lib).Poisson(a), D(lib).Binomial(5, probs=pb)),
        ]

    check(kls, *[g(pos(3)) for _ in range(4)], g(unit(3)), g(unit(3)), same_node=False)

    def kls_with_normal_and_uniform(lib, a, b, c, d, pa, pb):
        K, N_, U = D(lib).kl_divergence, D(lib).Normal, D(lib).Uniform
        return [
            K(D(lib).Beta(a, b), N_(c, d)), K(D(lib).Exponential(a), N_(c, d)),
            K(D(lib).Gamma(a, b), N_(c, d)), K(D(lib).Laplace(a, b), N_(c, d)),
            K(U(pa - 1, pb + a), N_(c, d)), K(N_(a, b), D(lib).Laplace(c, d)),
            K(D(lib).Beta(a, b), U(pa - 1, pb + 1)), K(D(lib).Beta(a, b), U(pa, pb + 1)),
            K(U(pa, pa + a), D(lib).Exponential(c)), K(U(pa - 1, pb), D(lib).Exponential(c)),
            K(U(pa, pa + a), D(lib).Gamma(c, d)), K(U(pa * 0.5, pa * 0.5 + 0.4), D(lib).Beta(c, d)),
            K(U(pa, pa + 1), D(lib).Beta(c, d)), K(N_(a, b), D(lib).Gamma(c, d)),
        ]

    check(kls_with_normal_and_uniform, *[g(pos(3)) for _ in range(4)], g(unit(3)), g(unit(3)),
          same_node=False)

    def binomials(lib, p_count, p_probs, q_count, q_probs):
        p = D(lib).Binomial(p_count, probs=p_probs)
        return D(lib).kl_divergence(p, D(lib).Binomial(q_count, probs=q_probs))

    check(binomials, np.array([3.0]), np.array([0.5]), np.array([5.0]), np.array([0.5]))
    check(binomials, np.array([5.0, 3.0]), np.array([0.5, 0.4]), np.array([3.0, 3.0]), np.array([0.5, 0.2]))


# ------------------------------------------------------------------ sampling, statistically
def _dev(x):
    return tritensor.tensor(np.asarray(x, np.float64), device=DEVICE)


def _assert_moments(draws, mean, var, sigmas=5.0):
    """Sample mean within ``sigmas`` standard errors of ``mean``; sample variance within
    ``sigmas`` standard errors (of a variance estimate, using the sample fourth moment)."""
    x = to_numpy(draws).astype(np.float64)
    n = x.shape[0]
    mean, var = np.broadcast_to(mean, x.shape[1:]), np.broadcast_to(var, x.shape[1:])
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), sigmas * np.sqrt(var / n) + 1e-12)
    fourth = ((x - x.mean(0)) ** 4).mean(0)
    np.testing.assert_array_less(np.abs(x.var(0) - var), sigmas * np.sqrt((fourth - var ** 2) / n) + 1e-12)


SAMPLED = {
    "Exponential": lambda: D(tritensor).Exponential(_dev([0.5, 2.0])),
    "Laplace": lambda: D(tritensor).Laplace(_dev([0.0, 3.0]), _dev([1.0, 0.5])),
    "LogNormal": lambda: D(tritensor).LogNormal(_dev([0.0, 1.0]), _dev([0.25, 0.5])),
    "Gamma": lambda: D(tritensor).Gamma(_dev([0.3, 1.0, 4.5, 60.0]), _dev([1.0, 2.0, 0.5, 3.0])),
    "Chi2": lambda: D(tritensor).Chi2(_dev([1.0, 7.0])),
    "Beta": lambda: D(tritensor).Beta(_dev([0.5, 2.0, 5.0]), _dev([0.5, 3.0, 1.0])),
    "Dirichlet": lambda: D(tritensor).Dirichlet(_dev([0.5, 2.0, 5.0])),
    "Poisson": lambda: D(tritensor).Poisson(_dev([0.0, 0.7, 4.0, 9.5, 10.0, 80.0])),
    "Geometric": lambda: D(tritensor).Geometric(probs=_dev([0.9, 0.3, 0.05])),
    "Binomial": lambda: D(tritensor).Binomial(_dev([10.0, 10.0, 200.0, 200.0, 0.0]),
                                              probs=_dev([0.3, 0.8, 0.1, 0.9, 0.5])),
    "OneHotCategorical": lambda: D(tritensor).OneHotCategorical(probs=_dev([0.1, 0.6, 0.3])),
    "Independent": lambda: D(tritensor).Independent(D(tritensor).Gamma(_dev([2.0, 3.0]), 1.0), 1),
}


@pytest.mark.parametrize("name", sorted(SAMPLED))
def test_sample_statistics_support_and_reproducibility(name):
    dist = SAMPLED[name]()
    tritensor.manual_seed(3)
    draws = dist.sample((N,))
    assert tuple(draws.shape) == (N,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    assert draws.device.type == DEVICE.split(":")[0]
    assert bool(dist.support.check(draws).all())
    _assert_moments(draws, to_numpy(dist.mean), to_numpy(dist.variance))
    tritensor.manual_seed(3)
    np.testing.assert_array_equal(to_numpy(dist.sample((N,))), to_numpy(draws))


def test_cauchy_samples_quantiles():
    tritensor.manual_seed(0)
    draws = to_numpy(D(tritensor).Cauchy(_dev(1.0), _dev(2.0)).sample((N,)))
    # the median and the quartiles (1 -+ 2) of Cauchy(1, 2), each within 5 standard errors
    for q, expected in [(0.25, -1.0), (0.5, 1.0), (0.75, 3.0)]:
        assert abs(np.mean(draws <= expected) - q) < 5 * math.sqrt(q * (1 - q) / N)


def _per_draw_leaf(values):
    """One copy of the parameters per draw, so that gradients come back per draw."""
    return tritensor.tensor(np.tile(values, (N, 1)), device=DEVICE, requires_grad=True)


def _assert_gradient_estimates(per_draw, expected):
    standard_error = per_draw.std(0) / math.sqrt(N)
    np.testing.assert_array_less(np.abs(per_draw.mean(0) - expected), 5 * standard_error + 1e-12)


def test_gamma_rsample_gradients():
    """Per-draw derivatives of Gamma draws w.r.t. the concentration and the rate: their means
    must estimate the derivatives of the analytic mean c / r (1 / r and -c / r**2) within 5
    standard errors (estimated from the per-draw derivatives themselves)."""
    tritensor.manual_seed(1)
    cv, rv = np.array([0.4, 2.0, 50.0]), np.array([1.0, 2.0, 4.0])
    c, r = _per_draw_leaf(cv), _per_draw_leaf(rv)
    x = D(tritensor).Gamma(c, r).rsample()
    assert type(x.grad_fn).__name__ == "DivBackward0"
    dc, dr = (to_numpy(d) for d in tritensor.autograd.grad(x.sum(), [c, r]))
    _assert_gradient_estimates(dc, 1 / rv)
    _assert_gradient_estimates(dr, -cv / rv ** 2)


def test_standard_gamma_derivative_matches_torch():
    from tritensor.distributions._sampling import standard_gamma_grad
    alpha = np.repeat([0.05, 0.5, 1.0, 3.0, 30.0, 399.0, 500.0, 1e4], 64)
    x = torch._standard_gamma(torch.tensor(alpha))
    expected = torch._standard_gamma_grad(torch.tensor(alpha), x).numpy()
    got = to_numpy(standard_gamma_grad(_dev(alpha), _dev(x.numpy())))
    # torch's own derivative is an approximation (relative error ~1e-4 .. 5e-4)
    np.testing.assert_allclose(got, expected, rtol=2e-3)


def test_beta_and_dirichlet_rsample_gradients():
    """As for Gamma: E[x] = a / (a + b) for Beta, c_0 / sum(c) for Dirichlet's first component."""
    tritensor.manual_seed(2)
    a, b = _per_draw_leaf([2.0, 0.5]), _per_draw_leaf([3.0, 0.7])
    x = D(tritensor).Beta(a, b).rsample()
    da, db = (to_numpy(d) for d in tritensor.autograd.grad(x.sum(), [a, b]))
    av, bv = np.array([2.0, 0.5]), np.array([3.0, 0.7])
    _assert_gradient_estimates(da, bv / (av + bv) ** 2)
    _assert_gradient_estimates(db, -av / (av + bv) ** 2)
    c = _per_draw_leaf([1.0, 2.0, 3.0])
    y = D(tritensor).Dirichlet(c).rsample()
    (dc,) = tritensor.autograd.grad(y[:, 0].sum(), [c])
    _assert_gradient_estimates(to_numpy(dc), np.array([5.0, -1.0, -1.0]) / 36)


# ------------------------------------------------------------------ torch.poisson and in-place samplers
@pytest.mark.parametrize("case", [
    lambda lib: lib.poisson(lib.tensor([-1.0, 2.0])),
    lambda lib: lib.poisson(lib.tensor([float("nan")])),
    lambda lib: lib.poisson(lib.tensor([1, 2])),
    lambda lib: lib.empty(3).geometric_(0),
    lambda lib: lib.empty(3).geometric_(1),
    lambda lib: lib.empty(3, dtype=lib.bool).geometric_(0.5),
    lambda lib: lib.empty(3).log_normal_(1, 0),
    lambda lib: lib.empty(3, dtype=lib.long).log_normal_(),
    lambda lib: lib.empty(3).cauchy_(0, -1),
    lambda lib: lib.empty(3, dtype=lib.long).cauchy_(),
    lambda lib: lib.ones(3, requires_grad=True).cauchy_(),
])
def test_sampler_argument_errors(case):
    check(case)


def test_poisson_function():
    rates = _dev([0.0, 0.5, 3.0, 12.0, 150.0])
    tritensor.manual_seed(5)
    draws = tritensor.poisson(rates.expand(N, 5).contiguous())
    _assert_moments(draws, to_numpy(rates), to_numpy(rates))
    gen = tritensor.Generator(DEVICE).manual_seed(7)
    first = tritensor.poisson(rates, generator=gen)
    gen.manual_seed(7)
    np.testing.assert_array_equal(to_numpy(tritensor.poisson(rates, generator=gen)), to_numpy(first))
    r = tritensor.tensor([1.0, 2.0], device=DEVICE, dtype=tritensor.float32, requires_grad=True)
    out = tritensor.poisson(r)
    assert out.dtype == tritensor.float32 and type(out.grad_fn).__name__ == "PoissonBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(r.grad), [0.0, 0.0])
    assert tritensor.poisson(tritensor.ones(0, device=DEVICE)).shape == (0,)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_geometric_(dtype):
    tritensor.manual_seed(0)
    t = tritensor.empty(N, 2, dtype=getattr(tritensor, dtype), device=DEVICE)
    p = 0.3
    out = t.geometric_(p)
    assert out is t and out.dtype == getattr(tritensor, dtype)
    x = to_numpy(out)
    assert x.min() >= 1 and np.all(x == np.round(x))
    _assert_moments(out, 1 / p, (1 - p) / p ** 2)


def test_log_normal_and_cauchy_():
    tritensor.manual_seed(0)
    x = tritensor.empty(N, 2, dtype=tritensor.float64, device=DEVICE).log_normal_(0.5, 0.25)
    assert float(x.min()) > 0
    _assert_moments(x, math.exp(0.5 + 0.25 ** 2 / 2), math.expm1(0.25 ** 2) * math.exp(1 + 0.25 ** 2))
    c = to_numpy(tritensor.empty(N, dtype=tritensor.float32, device=DEVICE).cauchy_(-1.0, 0.5))
    for q, expected in [(0.25, -1.5), (0.5, -1.0), (0.75, -0.5)]:
        assert abs(np.mean(c <= expected) - q) < 5 * math.sqrt(q * (1 - q) / N)
    half = tritensor.empty(8, dtype=tritensor.float16, device=DEVICE).cauchy_()
    assert half.dtype == tritensor.float16
