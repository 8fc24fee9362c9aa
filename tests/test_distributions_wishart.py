"""torch.distributions.Wishart, LKJCholesky, ExponentialFamily (entropy and KL through Bregman
divergences), the ExponentialFamily base of the older families, torch.distributions.utils and
the submodule paths exp_family / wishart / lkj_cholesky / utils.

Values and gradients are compared with torch on the same parameters. Random draws differ from
torch's, so samples are checked for shape, support and moments (within a few standard errors).
"""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)
#: draws per statistical check (the emulated GPU is slow)
N = 2000 if DEVICE.startswith("cuda") else 20000
#: Wishart draws (each is a batch of chi2 draws and a matrix product: slower still when emulated)
N_WISHART = 600 if DEVICE.startswith("cuda") else 20000


def D(lib):
    return lib.distributions


def g(x, dtype="float64"):
    return Arg(np.asarray(x, np.float64), dtype=dtype, requires_grad=True)


def spd(*batch, n=3):
    """Well-conditioned symmetric positive-definite matrices."""
    a = rng.standard_normal(tuple(batch) + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


def correlation_cholesky(*batch, n=3):
    """Cholesky factors of random correlation matrices."""
    s = spd(*batch, n=n)
    d = np.sqrt(np.diagonal(s, axis1=-2, axis2=-1))
    return np.linalg.cholesky(s / (d[..., :, None] * d[..., None, :]))


def _wishart(lib, df, matrix, kind):
    """Wishart given the SPD ``matrix`` as ``kind`` (its Cholesky factor for scale_tril)."""
    if kind == "scale_tril":
        matrix = lib.linalg.cholesky(matrix)
    return D(lib).Wishart(df, **{kind: matrix})


# ------------------------------------------------------------------ Wishart values
@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_values_and_gradients(kind):
    def stats(lib, df, matrix, value):
        w = _wishart(lib, df, matrix, kind)
        return [w.log_prob(value), w.entropy(), D(lib).ExponentialFamily.entropy(w), w.mean, w.variance,
                w.mode, w.covariance_matrix, w.precision_matrix, w.scale_tril]

    check(stats, g(rng.uniform(3.5, 6, (2,))), g(spd(2)), Arg(spd(4, 2)), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wishart_number_df_unbatched_and_non_contiguous(dtype):
    def stats(lib, matrix, value):
        w = D(lib).Wishart(4.0, covariance_matrix=matrix)
        assert w.batch_shape == torch.Size([]) and w.event_shape == torch.Size([3, 3])
        return [w.log_prob(value), w.entropy(), w.mean, w.mode]

    symmetric = spd()
    check(stats, Arg(symmetric, dtype, requires_grad=True, transpose=True), Arg(spd(2), dtype),
          same_node=False)


def test_wishart_low_df_mode_is_nan_and_df_broadcasts():
    def stats(lib, df, matrix):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = D(lib).Wishart(df, scale_tril=matrix)
        assert tuple(w.batch_shape) == (2, 3)
        return [w.mode, w.entropy()]

    check(stats, Arg(np.array([2.5, 3.0, 4.5])), Arg(np.linalg.cholesky(spd(2, 1))))


def test_wishart_gradcheck():
    def log_prob(lib, df, cov, value):
        return D(lib).Wishart(df, covariance_matrix=(cov + cov.mT) / 2).log_prob(value)

    gradcheck(log_prob, rng.uniform(2.5, 4, (1,)), spd(1, n=2), spd(1, n=2))


def test_wishart_kl_uses_the_exponential_family_bregman_divergence():
    def kl(lib, df_p, cov_p, df_q, cov_q):
        p = D(lib).Wishart(df_p, covariance_matrix=cov_p)
        q = D(lib).Wishart(df_q, precision_matrix=cov_q)
        return D(lib).kl_divergence(p, q)

    check(kl, g(rng.uniform(3.5, 6, (2,))), g(spd(2)), g(rng.uniform(3.5, 6, (2,))), g(spd(2)),
          same_node=False)


# ------------------------------------------------------------------ Wishart errors, repr, expand
def _matrix(lib, data):
    return lib.tensor(data, device=dev(lib))


@pytest.mark.parametrize("case", ["none", "two", "vector", "small_df", "small_df_tensor", "not_pd",
                                  "not_lower", "bad_value", "bad_value_shape"])
def test_wishart_errors(case):
    cov, eye = spd(), np.eye(3)

    def build(lib):
        wishart = D(lib).Wishart
        m = _matrix(lib, cov)
        if case == "none":
            return wishart(4.0)
        if case == "two":
            return wishart(4.0, covariance_matrix=m, scale_tril=m)
        if case == "vector":
            return wishart(4.0, covariance_matrix=_matrix(lib, np.ones(3)))
        if case == "small_df":
            return wishart(2.0, covariance_matrix=m)
        if case == "small_df_tensor":
            return wishart(_matrix(lib, np.array([4.0, 1.5])), covariance_matrix=m)
        if case == "not_pd":
            return wishart(4.0, covariance_matrix=_matrix(lib, -eye), validate_args=True)
        if case == "not_lower":
            return wishart(4.0, scale_tril=_matrix(lib, cov), validate_args=True)
        w = wishart(4.0, covariance_matrix=m, validate_args=True)
        if case == "bad_value":
            return w.log_prob(_matrix(lib, -eye))
        return w.log_prob(_matrix(lib, np.eye(2)))

    check(build)


def test_wishart_repr_expand_and_low_df_warning():
    for lib in (torch, tritensor):
        m = _matrix(lib, spd(2))
        assert repr(D(lib).Wishart(_matrix(lib, np.array([4.0, 5.0])), scale_tril=m.tril())) == \
            "Wishart(scale_tril: torch.Size([2, 3, 3]), df: torch.Size([2]))"
        w = D(lib).Wishart(4.0, covariance_matrix=m[0])
        assert repr(w) == "Wishart(covariance_matrix: torch.Size([3, 3]), df: 4.0)"
        with pytest.warns(UserWarning, match="Low df"):
            D(lib).Wishart(2.5, covariance_matrix=m[0])

    def expanded(lib, df, matrix, value):
        w = D(lib).Wishart(df, precision_matrix=matrix).expand((4, 2))
        assert tuple(w.batch_shape) == (4, 2) and tuple(w.df.shape) == (4, 2)
        return [w.log_prob(value), w.entropy(), w.mean, w.scale_tril]

    check(expanded, g(np.array([4.0, 5.5])), g(spd(2)), Arg(spd(4, 2)), same_node=False)


# ------------------------------------------------------------------ Wishart samples
def test_wishart_samples_support_moments_and_gradients():
    tritensor.manual_seed(0)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    df = 5.0
    w = D(tritensor).Wishart(df, covariance_matrix=tritensor.tensor(cov, device=DEVICE))
    samples = w.sample((N_WISHART,))
    assert tuple(samples.shape) == (N_WISHART, 3, 3) and samples.device.type == DEVICE.split(":")[0]
    assert bool(w.support.check(samples).all())
    x = to_numpy(samples)
    variance = df * (cov ** 2 + np.outer(np.diag(cov), np.diag(cov)))
    np.testing.assert_array_less(np.abs(x.mean(0) - df * cov), 5 * np.sqrt(variance / N_WISHART))
    np.testing.assert_array_less(np.abs(x.var(0) - variance) / variance, 0.35)

    scale = tritensor.tensor(np.linalg.cholesky(cov), device=DEVICE, requires_grad=True)
    batched = D(tritensor).Wishart(tritensor.tensor([4.0, 6.0], dtype=tritensor.float64, device=DEVICE),
                                   scale_tril=scale)
    draws = batched.rsample((3,), max_try_correction=2)
    assert tuple(draws.shape) == (3, 2, 3, 3) and draws.requires_grad
    draws.sum().backward()
    assert bool(scale.grad.isfinite().all()) and bool((scale.grad != 0).any())


# ------------------------------------------------------------------ LKJCholesky
def test_lkj_cholesky_log_prob_and_gradients():
    def log_prob(lib, concentration, value):
        return D(lib).LKJCholesky(3, concentration).log_prob(value)

    check(log_prob, g(rng.uniform(0.3, 3, (2,))), Arg(correlation_cholesky(4, 2)), same_node=False)
    check(lambda lib, v: D(lib).LKJCholesky(4, 1.5).log_prob(v.cpu()).to(v.device),
          Arg(correlation_cholesky(3, n=4), "float32"))
    gradcheck(lambda lib, c, v: D(lib).LKJCholesky(2, c, validate_args=False).log_prob(v),
              rng.uniform(0.5, 2, (3,)), correlation_cholesky(3, n=2))


@pytest.mark.parametrize("case", ["dim", "concentration", "value", "value_shape"])
def test_lkj_cholesky_errors(case):
    def build(lib):
        if case == "dim":
            return D(lib).LKJCholesky(1, 1.0)
        if case == "concentration":
            return D(lib).LKJCholesky(3, _matrix(lib, np.array([1.0, -0.5])), validate_args=True)
        lkj = D(lib).LKJCholesky(3, 1.0, validate_args=True)
        if case == "value":
            return lkj.log_prob(lib.eye(3, dtype=lib.float64, device=dev(lib)) * 2)
        return lkj.log_prob(_matrix(lib, correlation_cholesky(n=2)))

    check(build)


def test_lkj_cholesky_repr_expand_and_samples():
    for lib in (torch, tritensor):
        assert repr(D(lib).LKJCholesky(3, 0.5)) == "LKJCholesky(concentration: 0.5)"
        assert repr(D(lib).LKJCholesky(3, _matrix(lib, np.ones(2)))) == \
            "LKJCholesky(concentration: torch.Size([2]))"
        expanded = D(lib).LKJCholesky(3, _matrix(lib, np.array([0.5]))).expand((2, 1))
        assert tuple(expanded.batch_shape) == (2, 1) and tuple(expanded.sample((4,)).shape) == (4, 2, 1, 3, 3)
        assert not D(lib).LKJCholesky.has_rsample

    tritensor.manual_seed(0)
    dim, eta = 4, _matrix(tritensor, np.array([0.5, 3.0]))
    samples = D(tritensor).LKJCholesky(dim, eta).sample((N,))
    assert tuple(samples.shape) == (N, 2, dim, dim)
    assert bool(tritensor.distributions.constraints.corr_cholesky.check(samples).all())
    # r_10 = L_10 has (r + 1) / 2 ~ Beta(a, a), a = eta - 1 + dim / 2: mean 0, var 1 / (2a + 1); the
    # later rows follow torch's onion sampler, compared with torch's own draws
    corr = _correlations(samples)
    expected_var = 1 / (2 * (np.array([0.5, 3.0]) - 1 + dim / 2) + 1)
    np.testing.assert_array_less(np.abs(corr[..., 1, 0].mean(0)), 5 * np.sqrt(expected_var / N))
    np.testing.assert_array_less(np.abs(corr[..., 1, 0].var(0) - expected_var) / expected_var, 0.1)
    torch.manual_seed(0)
    reference = _correlations(torch.distributions.LKJCholesky(dim, torch.tensor([0.5, 3.0])).sample((N,)))
    np.testing.assert_array_less(np.abs(corr.var(0) - reference.var(0)), 0.15 * reference.var(0) + 1e-6)


def _correlations(cholesky_factors):
    x = to_numpy(cholesky_factors).astype(np.float64)
    return x @ np.swapaxes(x, -1, -2)


# ------------------------------------------------------------------ ExponentialFamily
FAMILY_PARAMS = {
    "Normal": (lambda lib, a, b: D(lib).Normal(a - 1, b), 2),
    "Bernoulli": (lambda lib, a, b: D(lib).Bernoulli(a / 4), 1),
    "ContinuousBernoulli": (lambda lib, a, b: D(lib).ContinuousBernoulli(logits=a - 1.5), 1),
    "Exponential": (lambda lib, a, b: D(lib).Exponential(a), 1),
    "Gamma": (lambda lib, a, b: D(lib).Gamma(a, b), 2),
    "Chi2": (lambda lib, a, b: D(lib).Chi2(a), 1),
    "Beta": (lambda lib, a, b: D(lib).Beta(a, b), 2),
    "Dirichlet": (lambda lib, a, b: D(lib).Dirichlet(a), 1),
    "Poisson": (lambda lib, a, b: D(lib).Poisson(a), 1),
}


def test_exponential_family_hierarchy_and_paths():
    for name in dir(torch.distributions):
        theirs = getattr(torch.distributions, name)
        if isinstance(theirs, type) and issubclass(theirs, torch.distributions.Distribution):
            ours = getattr(tritensor.distributions, name, None)
            if ours is not None:
                assert issubclass(ours, tritensor.distributions.ExponentialFamily) == \
                    issubclass(theirs, torch.distributions.ExponentialFamily), name
    for path, name in [("exp_family", "ExponentialFamily"), ("wishart", "Wishart"),
                       ("lkj_cholesky", "LKJCholesky")]:
        module = importlib.import_module(f"tritensor.distributions.{path}")
        assert getattr(module, name) is getattr(tritensor.distributions, name)
    assert tritensor.distributions.kl._kl_expfamily_expfamily is not None


@pytest.mark.parametrize("name", sorted(FAMILY_PARAMS))
def test_exponential_family_entropy_and_kl_match_torch(name):
    build, _ = FAMILY_PARAMS[name]

    def bregman(lib, a, b, c, d):
        p, q = build(lib, a, b), build(lib, c, d)
        out = [D(lib).kl._kl_expfamily_expfamily(p, q)]
        if name not in ("Beta", "Dirichlet", "Poisson"):  # no expected carrier measure in torch
            out.append(D(lib).ExponentialFamily.entropy(p))
        return out

    check(bregman, *[g(rng.uniform(0.5, 3, (2, 3))) for _ in range(4)], same_node=False)


@pytest.mark.parametrize("case", ["poisson_entropy", "different_families", "base_class"])
def test_exponential_family_errors(case):
    def build(lib):
        rate = _matrix(lib, np.array([1.0, 2.0]))
        if case == "poisson_entropy":
            return D(lib).Poisson(rate).entropy()
        if case == "different_families":
            return D(lib).kl._kl_expfamily_expfamily(D(lib).Exponential(rate), D(lib).Poisson(rate))
        return D(lib).ExponentialFamily(torch.Size([2]), validate_args=False).entropy()

    check(build)


# ------------------------------------------------------------------ utils
def test_utils_match_torch():
    def helpers(lib, p, logits, mat):
        u = D(lib).utils
        a, b = u.broadcast_all(p, 2.0)
        return [a, b, u.clamp_probs(p * 0), u.probs_to_logits(p), u.probs_to_logits(p, is_binary=True),
                u.logits_to_probs(logits), u.logits_to_probs(logits, is_binary=True),
                u.tril_matrix_to_vec(mat), u.tril_matrix_to_vec(mat, -1), u.tril_matrix_to_vec(mat, 1),
                u.vec_to_tril_matrix(u.tril_matrix_to_vec(mat, 1), 1),
                u.vec_to_tril_matrix(u.tril_matrix_to_vec(mat, -1), -1), u.vec_to_tril_matrix(logits)]

    check(helpers, g(rng.uniform(0.1, 0.9, (2, 3))), g(rng.standard_normal((2, 6))),
          g(rng.standard_normal((2, 3, 3))), same_node=False)
    assert tritensor.distributions.utils.lazy_property is not None
    assert tritensor.distributions.utils.euler_constant == torch.distributions.utils.euler_constant


@pytest.mark.parametrize("case", ["vec", "diag", "broadcast"])
def test_utils_errors(case):
    def build(lib):
        u = D(lib).utils
        if case == "vec":
            return u.vec_to_tril_matrix(_matrix(lib, np.ones(5)))
        if case == "diag":
            return u.tril_matrix_to_vec(_matrix(lib, np.eye(3)), 3)
        return u.broadcast_all(_matrix(lib, np.ones(2)), "2")

    check(build)


def test_utils_clamp_probs_eps():
    for dtype in ("float32", "float64"):
        ours = to_numpy(D(tritensor).utils.clamp_probs(tritensor.tensor([0.0, 0.5, 1.0], dtype=getattr(
            tritensor, dtype), device=DEVICE)))
        theirs = to_numpy(torch.distributions.utils.clamp_probs(torch.tensor([0.0, 0.5, 1.0],
                                                                             dtype=getattr(torch, dtype))))
        np.testing.assert_array_equal(ours, theirs)
    assert math.isclose(float(theirs[0]), float(np.finfo(np.float64).eps))
