"""torch.distributions' Normal, Uniform, Bernoulli and Categorical against torch: densities,
entropies, moments, KL divergences and their gradients, validation messages, sample shapes
and sample statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)


def g(x, dtype=None):
    return Arg(np.asarray(x), dtype=dtype, requires_grad=True)


def D(lib):
    return lib.distributions


def _normal_stats(lib, loc, scale, value):
    n = D(lib).Normal(loc, scale)
    return [n.log_prob(value), n.cdf(value), n.entropy(), n.mean, n.stddev, n.variance, n.mode]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal(dtype):
    loc, scale, value = rng.standard_normal((2, 3)), rng.uniform(0.5, 2, 3), rng.standard_normal((4, 2, 3))
    check(_normal_stats, g(loc, dtype), g(scale, dtype), g(value, dtype), same_node=False)
    check(lambda lib, v: D(lib).Normal(0.5, 2.0).log_prob(v), g(value, dtype), same_node=False)
    gradcheck(
        lambda lib, m, s: (
            D(lib).Normal(m, s).log_prob(lib.tensor([0.3, -1.0], dtype=lib.float64, device=m.device))
        ),
        [0.1, 0.2],
        [1.5, 0.7],
    )


def test_uniform():
    low, high = rng.uniform(-2, 0, 3), rng.uniform(0.5, 2, 3)
    value = np.array([-0.5, 0.25, 0.3])

    def stats(lib, lo, hi, v):
        u = D(lib).Uniform(lo, hi)
        return [u.log_prob(v), u.cdf(v), u.entropy(), u.mean, u.variance, u.stddev, u.icdf(v.abs())]

    check(stats, g(low, "float64"), g(high, "float64"), value, same_node=False)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_bernoulli(param):
    given = rng.uniform(0.05, 0.95, (2, 3)) if param == "probs" else rng.standard_normal((2, 3))
    value = rng.integers(0, 2, (2, 3)).astype(np.float64)

    def stats(lib, p, v):
        b = D(lib).Bernoulli(**{param: p})
        return [b.log_prob(v), b.entropy(), b.mean, b.variance, b.probs, b.logits, b.mode]

    check(stats, g(given, "float64"), value, same_node=False)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical(param):
    given = rng.uniform(0.1, 1, (2, 4)) if param == "probs" else rng.standard_normal((2, 4))
    value = np.array([[3, 0], [1, 2], [0, 0]])  # (sample, batch)

    def stats(lib, p, v):
        c = D(lib).Categorical(**{param: p})
        return [c.log_prob(v), c.entropy(), c.probs, c.logits, c.mode, c.mean, c.variance]

    check(stats, g(given, "float64"), value, same_node=False)
    check(lambda lib, p: list(D(lib).Categorical(**{param: p}).param_shape), given)


def test_kl_divergences():
    def kls(lib, a, b, pa, pb, la, lb):
        n = D(lib).kl_divergence(D(lib).Normal(a, a.abs() + 0.5), D(lib).Normal(b, b.abs() + 0.5))
        u = D(lib).kl_divergence(D(lib).Uniform(a - 2, b + 3), D(lib).Uniform(a - 2.5, b + 3.5))
        u_inf = D(lib).kl_divergence(D(lib).Uniform(a - 3, b + 3), D(lib).Uniform(a - 2, b + 3))
        ber = D(lib).kl_divergence(D(lib).Bernoulli(probs=pa), D(lib).Bernoulli(probs=pb))
        cat = D(lib).kl_divergence(D(lib).Categorical(logits=la), D(lib).Categorical(logits=lb))
        return [n, u, u_inf, ber, cat]

    check(
        kls,
        g(rng.standard_normal(3)),
        g(rng.standard_normal(3)),
        g(rng.uniform(0.1, 0.9, 3)),
        g(rng.uniform(0.1, 0.9, 3)),
        g(rng.standard_normal((3, 4))),
        g(rng.standard_normal((3, 4))),
        same_node=False,
    )
    check(
        lambda lib, p, q: D(lib).kl_divergence(D(lib).Bernoulli(probs=p), D(lib).Bernoulli(probs=q)),
        np.array([0.0, 1.0, 0.5]),
        np.array([0.5, 0.5, 0.0]),
    )
    with pytest.raises(NotImplementedError):
        D(tritensor).kl_divergence(D(tritensor).Normal(0.0, 1.0), D(tritensor).Bernoulli(0.5))


def test_reprs_and_validation_messages():
    def message(lib, build):
        try:
            build(lib)
        except ValueError as e:
            return str(e)
        return None

    cases = [
        lambda lib: D(lib).Normal(lib.tensor([0.0]), lib.tensor([-1.0])),
        lambda lib: (
            D(lib).Normal(lib.tensor([0.0, 1]), lib.tensor([1.0, 2])).log_prob(lib.tensor([float("nan"), 1]))
        ),
        lambda lib: D(lib).Bernoulli(probs=lib.tensor([0.3]), logits=lib.tensor([0.1])),
        lambda lib: D(lib).Bernoulli(probs=lib.tensor([1.3])),
        lambda lib: (
            repr(D(lib).Bernoulli(probs=lib.tensor([0.3]))).__class__
            and D(lib).Bernoulli(probs=lib.tensor([0.3])).log_prob(lib.tensor([0.5]))
        ),
        lambda lib: D(lib).Uniform(0.0, 2.0).log_prob(lib.tensor(3.0)),
        lambda lib: D(lib).Uniform(1.0, 0.0),
        lambda lib: D(lib).Categorical(probs=lib.tensor(0.5)),
        lambda lib: D(lib).Categorical(probs=lib.tensor([0.5, -0.1])),
        lambda lib: D(lib).Categorical(logits=lib.tensor([0.5, 0.1])).log_prob(lib.tensor([2])),
    ]
    for build in cases:
        assert message(tritensor, build) == message(torch, build)
    for build in [
        lambda lib: D(lib).Normal(lib.zeros(2), 1.0),
        lambda lib: D(lib).Uniform(0.0, 2.0),
        lambda lib: D(lib).Categorical(logits=lib.zeros(2, 3)),
        lambda lib: D(lib).Bernoulli(logits=0.2),
    ]:
        assert repr(build(tritensor)) == repr(build(torch))
    d = D(tritensor).Normal(0.0, -1.0, validate_args=False)  # validation off: no error
    assert d.batch_shape == torch.Size([])


def test_sample_shapes_and_statistics():
    tritensor.manual_seed(0)
    loc = tritensor.tensor([0.0, 3.0], device=DEVICE)
    normal = D(tritensor).Normal(loc, tritensor.tensor([1.0, 0.5], device=DEVICE))
    draws = normal.sample((20000,))
    assert tuple(draws.shape) == (20000, 2) and draws.device.type == dev(tritensor).split(":")[0]
    np.testing.assert_allclose(to_numpy(draws.mean(0)), [0.0, 3.0], atol=0.05)
    np.testing.assert_allclose(to_numpy(draws.std(0)), [1.0, 0.5], rtol=0.05)
    uniform = D(tritensor).Uniform(
        tritensor.tensor(-1.0, device=DEVICE), tritensor.tensor(3.0, device=DEVICE)
    )
    u = to_numpy(uniform.sample((20000,)))
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    bern = to_numpy(
        D(tritensor).Bernoulli(probs=tritensor.tensor([0.2, 0.9], device=DEVICE)).sample((20000,))
    )
    np.testing.assert_allclose(bern.mean(0), [0.2, 0.9], atol=0.02)
    cat = D(tritensor).Categorical(probs=tritensor.tensor([[0.1, 0.6, 0.3]], device=DEVICE))
    picks = to_numpy(cat.sample((30000,)))
    assert picks.shape == (30000, 1)
    np.testing.assert_allclose(np.bincount(picks[:, 0], minlength=3) / 30000, [0.1, 0.6, 0.3], atol=0.02)
    # rsample is differentiable in the parameters: d(mean of loc + eps * scale)/d loc = 1
    loc = tritensor.tensor([0.5], device=DEVICE, requires_grad=True)
    D(tritensor).Normal(loc, 1.0).rsample((100,)).mean().backward()
    np.testing.assert_allclose(to_numpy(loc.grad), [1.0], rtol=1e-6)
    assert D(tritensor).Normal(loc, 1.0).sample((3,)).requires_grad is False
