"""torch.distributions.transforms, biject_to / transform_to, TransformedDistribution,
MultivariateNormal / LowRankMultivariateNormal and the further families against torch.

Forward maps, inverses and log-det-Jacobians (with their gradients) are compared with torch on
the same inputs, and elementwise log-det-Jacobians with finite differences. Random draws differ
from torch's for a seed, so samplers are checked by shape, dtype, support, moments and
reproducibility under manual_seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)
#: draws per statistical check (the emulated GPU is slow)
N = 2048 if DEVICE.startswith("cuda") else 20000


def g(x, dtype="float64"):
    return Arg(np.asarray(x, np.float64), dtype=dtype, requires_grad=True)


def D(lib):
    return lib.distributions


def T(lib):
    return lib.distributions.transforms


def _dev(x, dtype=None):
    return tritensor.tensor(np.asarray(x, np.float64), device=DEVICE, dtype=dtype)


def pos(*shape, low=0.5, high=3.0):
    return rng.uniform(low, high, shape)


def lower_tril(n, batch=()):
    """Random lower-triangular matrices with a diagonal in (0.5, 1.5)."""
    m = np.tril(rng.standard_normal(batch + (n, n)) * 0.5, -1)
    return m + np.eye(n) * rng.uniform(0.5, 1.5, batch + (n,))[..., None, :]


# ------------------------------------------------------------------ transforms against torch
# name -> (builder(lib, *params), parameter arrays, input x in the domain)
TRANSFORMS = {
    "Exp": (lambda lib: T(lib).ExpTransform(), [], rng.standard_normal((2, 3))),
    "AffineTensor": (
        lambda lib, m, s: T(lib).AffineTransform(m, s),
        [rng.standard_normal(3), -pos(3)],
        rng.standard_normal((2, 3)),
    ),
    "AffineNumber": (lambda lib: T(lib).AffineTransform(1.5, -2.0), [], rng.standard_normal((2, 3))),
    "AffineEvent": (
        lambda lib, m, s: T(lib).AffineTransform(m, s, event_dim=1),
        [rng.standard_normal(3), pos(3)],
        rng.standard_normal((2, 3)),
    ),
    "Sigmoid": (lambda lib: T(lib).SigmoidTransform(), [], rng.standard_normal((2, 3))),
    "Tanh": (lambda lib: T(lib).TanhTransform(), [], rng.standard_normal((2, 3))),
    "Softplus": (lambda lib: T(lib).SoftplusTransform(), [], rng.standard_normal((2, 3))),
    "Power": (lambda lib, e: T(lib).PowerTransform(e), [pos(3)], pos(2, 3)),
    "StickBreaking": (lambda lib: T(lib).StickBreakingTransform(), [], rng.standard_normal((2, 3))),
    "CorrCholesky": (lambda lib: T(lib).CorrCholeskyTransform(), [], rng.standard_normal((2, 6))),
    "Reshape": (lambda lib: T(lib).ReshapeTransform((2, 3), (3, 2)), [], rng.standard_normal((4, 2, 3))),
    "Independent": (
        lambda lib, s: T(lib).IndependentTransform(T(lib).AffineTransform(0.5, s), 1),
        [pos(3)],
        rng.standard_normal((2, 3)),
    ),
    "Compose": (
        lambda lib, s: T(lib).ComposeTransform(
            [T(lib).AffineTransform(0.0, s), T(lib).ExpTransform(), T(lib).AffineTransform(1.0, -2.0)]
        ),
        [pos(3)],
        rng.standard_normal((2, 3)),
    ),
    "ComposeEventDims": (
        lambda lib: T(lib).ComposeTransform(
            [T(lib).ExpTransform(), T(lib).AffineTransform(0.0, 2.0), T(lib).StickBreakingTransform()]
        ),
        [],
        rng.standard_normal((2, 3)),
    ),
    "Cat": (
        lambda lib: T(lib).CatTransform(
            [T(lib).ExpTransform(), T(lib).TanhTransform()], dim=1, lengths=[2, 3]
        ),
        [],
        rng.standard_normal((2, 5)),
    ),
    "CatEvent": (
        lambda lib: T(lib).CatTransform(
            [T(lib).StickBreakingTransform(), T(lib).IndependentTransform(T(lib).ExpTransform(), 1)],
            dim=0,
            lengths=[2, 1],
        ),
        [],
        rng.standard_normal((3, 2)),
    ),
    "Stack": (
        lambda lib: T(lib).StackTransform([T(lib).ExpTransform(), T(lib).SigmoidTransform()], dim=-1),
        [],
        rng.standard_normal((3, 2)),
    ),
    "CDF": (
        lambda lib, m, s: T(lib).CumulativeDistributionTransform(D(lib).Normal(m, s)),
        [rng.standard_normal(3), pos(3)],
        rng.standard_normal((2, 3)),
    ),
    "InverseSigmoid": (lambda lib: T(lib).SigmoidTransform().inv, [], rng.uniform(0.1, 0.9, (2, 3))),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_values_and_gradients(name):
    build, params, x = TRANSFORMS[name]

    def run(lib, *args):
        *ps, x = args
        t = build(lib, *ps)
        y = t(x)
        return [y, t.inv(y), t.log_abs_det_jacobian(x, y)]

    check(run, *[g(p) for p in params], g(x), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_transform_dtypes(dtype):
    def run(lib, x):
        out = []
        for t in (
            T(lib).ExpTransform(),
            T(lib).SigmoidTransform(),
            T(lib).TanhTransform(),
            T(lib).SoftplusTransform(),
            T(lib).AffineTransform(0.5, 2.0),
        ):
            y = t(x)
            out += [y, t.log_abs_det_jacobian(x, y)]
        return out

    check(run, g(rng.uniform(-1, 1, (2, 3)), dtype), same_node=False)


def test_non_elementwise_transforms_and_empty_batches():
    def run(lib, x, m):
        out = []
        for t in (T(lib).SoftmaxTransform(), T(lib).AbsTransform()):
            out += [t(x), t.inv(t(x))]
        lower, pd = T(lib).LowerCholeskyTransform(), T(lib).PositiveDefiniteTransform()
        out += [lower(m), lower.inv(lower(m)), pd(m), pd.inv(pd(m))]
        return out

    check(
        run,
        Arg(rng.standard_normal((3, 2)), "float64", requires_grad=True, transpose=True),
        g(rng.standard_normal((2, 3, 3))),
        same_node=False,
    )

    def empty(lib, x):
        out = []
        for t in (
            T(lib).ExpTransform(),
            T(lib).StickBreakingTransform(),
            T(lib).AffineTransform(0.0, 2.0, 1),
        ):
            y = t(x)
            out += [y, t.inv(y), t.log_abs_det_jacobian(x, y)]
        return out

    check(empty, np.zeros((0, 3)))


ELEMENTWISE = ["Exp", "Sigmoid", "Tanh", "Softplus", "Power", "AffineTensor", "CDF"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_log_det_jacobian_is_log_abs_derivative(name):
    """log|dy/dx| against a central difference of the forward map, in float64."""
    build, params, x = TRANSFORMS[name]
    t = build(tritensor, *[_dev(p) for p in params])
    h = 1e-6
    xs = _dev(x)
    slope = (to_numpy(t(xs + h)) - to_numpy(t(xs - h))) / (2 * h)
    np.testing.assert_allclose(
        to_numpy(t.log_abs_det_jacobian(xs, t(xs))), np.log(np.abs(slope)), rtol=1e-6, atol=1e-6
    )


def test_stick_breaking_log_det_jacobian_by_finite_differences():
    """The simplex map drops one coordinate (the last is 1 - sum): log|det| of the Jacobian of
    the first K outputs w.r.t. the K inputs."""
    t = tritensor.distributions.StickBreakingTransform()
    x = rng.standard_normal(3)
    h = 1e-6
    jac = np.stack(
        [(to_numpy(t(_dev(x + h * e))) - to_numpy(t(_dev(x - h * e))))[:-1] / (2 * h) for e in np.eye(3)], 1
    )
    expected = np.log(abs(np.linalg.det(jac)))
    np.testing.assert_allclose(to_numpy(t.log_abs_det_jacobian(_dev(x), t(_dev(x)))), expected, rtol=1e-6)
    gradcheck(
        lambda lib, x: (
            T(lib).StickBreakingTransform().log_abs_det_jacobian(x, T(lib).StickBreakingTransform()(x))
        ),
        x,
    )


def test_transform_properties():
    def props(lib):
        ts = [
            build(lib, *[lib.ones(np.shape(p), dtype=lib.float64) for p in params])
            for build, params, _ in TRANSFORMS.values()
        ]
        ts += [
            T(lib).SoftmaxTransform(),
            T(lib).AbsTransform(),
            T(lib).LowerCholeskyTransform(),
            T(lib).PositiveDefiniteTransform(),
            T(lib).identity_transform,
            T(lib).ExpTransform().inv,
        ]
        out = []
        for t in ts:
            out.append(
                (
                    repr(t),
                    repr(t.domain),
                    repr(t.codomain),
                    t.bijective,
                    t.domain.event_dim,
                    t.codomain.event_dim,
                    repr(t.inv),
                    t.inv.inv is t,
                )
            )
            try:
                out.append(t.sign if isinstance(t.sign, int) else t.sign.tolist())
            except NotImplementedError:
                out.append("no sign")
            try:
                out.append(t.event_dim)
            except ValueError as e:
                out.append(str(e))
        return out

    assert props(tritensor) == props(torch)


SHAPES = [
    (lambda lib: T(lib).StickBreakingTransform(), (2, 3)),
    (lambda lib: T(lib).CorrCholeskyTransform(), (2, 6)),
    (lambda lib: T(lib).ReshapeTransform((2, 3), (6,)), (4, 2, 3)),
    (lambda lib: T(lib).AffineTransform(lib.zeros(3, 1), lib.ones(4)), (2, 1, 1, 1)),
    (lambda lib: T(lib).PowerTransform(lib.ones(3)), (2, 1)),
    (
        lambda lib: T(lib).ComposeTransform(
            [T(lib).StickBreakingTransform(), T(lib).ReshapeTransform((4,), (2, 2))]
        ),
        (5, 3),
    ),
    (lambda lib: T(lib).SoftmaxTransform(), (4,)),
]


@pytest.mark.parametrize("case", range(len(SHAPES)))
def test_forward_and_inverse_shapes(case):
    build, shape = SHAPES[case]

    def shapes(lib):
        t = build(lib)
        forward = t.forward_shape(lib.Size(shape))
        return [tuple(forward), tuple(t.inverse_shape(forward)), tuple(t.inv.forward_shape(forward))]

    assert shapes(tritensor) == shapes(torch)


TRANSFORM_ERRORS = [
    lambda lib: T(lib).ExpTransform(cache_size=2),
    lambda lib: T(lib).ReshapeTransform((2, 3), (5,)),
    lambda lib: T(lib).ReshapeTransform((2, 3), (6,)).forward_shape(lib.Size((3, 2))),
    lambda lib: T(lib).ReshapeTransform((2, 3), (6,)).forward_shape(lib.Size((3,))),
    lambda lib: T(lib).CorrCholeskyTransform().forward_shape(lib.Size((4,))),
    lambda lib: T(lib).CorrCholeskyTransform().inverse_shape(lib.Size((2, 3))),
    lambda lib: T(lib).StickBreakingTransform().forward_shape(lib.Size(())),
    lambda lib: T(lib).IndependentTransform(T(lib).ExpTransform(), 2)(lib.ones(3)),
    lambda lib: T(lib).StickBreakingTransform().event_dim and T(lib).CorrCholeskyTransform().event_dim,
    lambda lib: T(lib).ExpTransform().sign and T(lib).AbsTransform().sign,
    lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], lengths=[1, 2]),
    lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], dim=0, lengths=[2])(lib.ones(3)),
    lambda lib: T(lib).StackTransform([T(lib).ExpTransform(), 1]),
    lambda lib: T(lib).SoftmaxTransform().log_abs_det_jacobian(lib.ones(2), lib.ones(2)),
    lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0.0, 1.0), "exp"),
    lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0.0, 1.0), [T(lib).ExpTransform(), 1]),
    lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0.0, 1.0), T(lib).StickBreakingTransform()),
    lambda lib: D(lib).biject_to(D(lib).constraints.positive_definite),
    lambda lib: D(lib).transform_to(D(lib).constraints.boolean),
    lambda lib: (
        D(lib)
        .TransformedDistribution(D(lib).Normal(lib.zeros(2), 1.0), T(lib).ExpTransform())
        .log_prob(lib.tensor([-1.0, 1.0]))
    ),
]


@pytest.mark.parametrize("case", range(len(TRANSFORM_ERRORS)))
def test_transform_errors_match_torch(case):
    check(TRANSFORM_ERRORS[case])


def test_error_messages():
    for build in TRANSFORM_ERRORS[:3] + TRANSFORM_ERRORS[14:19]:
        messages = []
        for lib in (torch, tritensor):
            with pytest.raises(Exception) as info:
                build(lib)
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_caching_equality_and_with_cache():
    for lib in (tritensor,):
        exp = T(lib).ExpTransform(cache_size=1)
        x = _dev([0.5, 1.0])
        y = exp(x)
        assert exp(x) is y and exp.inv(y) is x
        uncached = T(lib).ExpTransform()
        assert uncached(x) is not uncached(x)
        assert uncached.with_cache(1)._cache_size == 1 and uncached.with_cache(0) is uncached
        compose = T(lib).ComposeTransform([T(lib).AffineTransform(0.0, 2.0), T(lib).ExpTransform()])
        cached = compose.with_cache(1)
        assert all(p._cache_size == 1 for p in cached.parts) and cached(x) is cached(x)
        assert compose.inv.inv is compose and compose.inv == compose.inv
        assert T(lib).SigmoidTransform().inv.with_cache(1)._cache_size == 1
        assert (
            T(lib).ExpTransform() == T(lib).ExpTransform() and T(lib).ExpTransform() != T(lib).TanhTransform()
        )
        assert T(lib).AffineTransform(1.0, 2.0) == T(lib).AffineTransform(1.0, 2.0)
        assert T(lib).AffineTransform(1.0, 2.0) != T(lib).AffineTransform(1.0, 3.0)
        assert T(lib).AffineTransform(x, 2.0) == T(lib).AffineTransform(x.clone(), 2.0)
        assert T(lib).PowerTransform(2.0) == T(lib).PowerTransform(2.0)
        assert T(lib).ExpTransform().inv == T(lib).ExpTransform().inv
        assert compose == T(lib).ComposeTransform([T(lib).AffineTransform(0.0, 2.0), T(lib).ExpTransform()])
        assert T(lib).identity_transform(x) is x
        for t in (
            T(lib).AffineTransform(1.0, 2.0),
            T(lib).PowerTransform(2.0),
            T(lib).ReshapeTransform((2,), (2,)),
            T(lib).IndependentTransform(T(lib).ExpTransform(), 1),
            T(lib).CatTransform([exp]),
            T(lib).StackTransform([exp]),
            T(lib).CumulativeDistributionTransform(D(lib).Normal(0.0, 1.0)),
        ):
            assert type(t.with_cache(1)) is type(t) and t.with_cache(1)._cache_size == 1


# ------------------------------------------------------------------ biject_to / transform_to
CONSTRAINTS = [
    ("real", None),
    ("positive", None),
    ("nonnegative", None),
    ("unit_interval", None),
    ("simplex", 3),
    ("real_vector", 3),
    ("corr_cholesky", 3),
    ("lower_cholesky", None),
    ("positive_definite", None),
    ("positive_semidefinite", None),
]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry(registry):
    def run(lib, x, m, v):
        C = D(lib).constraints
        cons = [getattr(C, name) for name, _ in CONSTRAINTS] + [
            C.greater_than(1.5),
            C.greater_than_eq(-1.0),
            C.less_than(2.0),
            C.interval(-1.0, 3.0),
            C.half_open_interval(0.0, 2.0),
            C.independent(C.positive, 1),
            C.interval(x[0] * 0, x[0] * 0 + 2),
            C.cat([C.real, C.positive], 1, [1, 2]),
            C.stack([C.positive, C.unit_interval, C.real], -1),
        ]
        out = []
        for c in cons:
            try:
                t = getattr(D(lib), registry)(c)
            except NotImplementedError as e:
                out.append(str(e))
                continue
            arg = m if c.event_dim == 2 else (v if isinstance(t, T(lib).CorrCholeskyTransform) else x)
            y = t(arg)
            out += [repr(t), y, bool(c.check(y).all())]
        return out

    check(
        run,
        g(rng.standard_normal((2, 3))),
        g(rng.standard_normal((3, 3))),
        g(rng.standard_normal(3)),
        same_node=False,
    )

    class Mine(tritensor.distributions.constraints.Constraint):
        pass

    registry_fn = getattr(tritensor.distributions, registry)
    registry_fn.register(Mine, lambda c: T(tritensor).ExpTransform())
    assert isinstance(registry_fn(Mine()), T(tritensor).ExpTransform)
    with pytest.raises(TypeError):
        registry_fn.register(int, lambda c: None)


def test_new_constraints():
    def run(lib, a, b):
        C = D(lib).constraints
        spd = a @ a.mT + lib.eye(3, dtype=a.dtype, device=a.device)
        corr = T(lib).CorrCholeskyTransform()(b)
        out = [
            C.positive_definite.check(spd),
            C.positive_definite.check(-spd),
            C.positive_semidefinite.check(spd),
            C.positive_semidefinite.check(-spd),
            C.symmetric.check(a),
            C.symmetric.check(spd),
            C.square.check(a[..., :2]),
            C.lower_triangular.check(a.tril()),
            C.lower_triangular.check(a),
            C.lower_cholesky.check(a.tril()),
            C.corr_cholesky.check(corr),
            C.corr_cholesky.check(a.tril()),
            C.multinomial(5).check(lib.tensor([[1.0, 2.0], [4.0, 3.0]], device=a.device)),
            C.positive_integer.check(a),
            C.cat([C.real, C.positive], 0, [1, 1]).check(a[0, :2]),
            C.stack([C.positive, C.real], 1).check(a[:, 1:]),
        ]
        out += [repr(c) for c in (C.positive_definite, C.corr_cholesky, C.multinomial(3), C.positive_integer)]
        out += [
            C.is_dependent(C.dependent),
            C.is_dependent(C.real),
            C.dependent(event_dim=1).event_dim,
            C.stack([C.real_vector], -1).event_dim,
            C.cat([C.real, C.real_vector]).event_dim,
        ]
        return out

    check(run, rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3)))
    with pytest.raises(NotImplementedError):
        D(tritensor).constraints.dependent.event_dim
    with pytest.raises(ValueError):
        D(tritensor).constraints.dependent.check(_dev([1.0]))


# ------------------------------------------------------------------ TransformedDistribution
def _transformed(lib, m, s):
    """exp(Normal) pushed through an affine map: increasing, and a decreasing variant."""
    base = D(lib).Normal(m, s)
    return [
        D(lib).TransformedDistribution(base, [T(lib).ExpTransform(), T(lib).AffineTransform(1.0, 2.0)]),
        D(lib).TransformedDistribution(base, T(lib).AffineTransform(-1.0, -3.0)),
    ]


def test_transformed_distribution_values():
    def run(lib, m, s, v):
        out = []
        for d in _transformed(lib, m, s):
            value = d.icdf(v)
            out += [
                d.log_prob(value),
                d.cdf(value),
                value,
                tuple(d.batch_shape),
                tuple(d.event_shape),
                repr(d),
                repr(d.support),
                d.has_rsample,
            ]
        return out

    check(run, g(rng.standard_normal(3)), g(pos(3)), rng.uniform(0.1, 0.9, (2, 3)), same_node=False)


def test_transformed_distribution_event_shapes_and_expand():
    def shapes(lib):
        t = T(lib)
        dists = [
            D(lib).TransformedDistribution(D(lib).Normal(lib.zeros(2, 3), 1.0), t.StickBreakingTransform()),
            D(lib).TransformedDistribution(
                D(lib).Normal(lib.zeros(4, 6), 1.0), t.ReshapeTransform((6,), (2, 3))
            ),
            D(lib).TransformedDistribution(
                D(lib).Normal(lib.zeros(3), 1.0), t.AffineTransform(0.0, lib.ones(2, 3))
            ),
            D(lib).TransformedDistribution(D(lib).Normal(lib.zeros(5, 3), 1.0), t.CorrCholeskyTransform()),
            D(lib).TransformedDistribution(D(lib).Normal(lib.zeros(3), 1.0), []),
        ]
        out = []
        for d in dists:
            e = d.expand((2,) + tuple(d.batch_shape))
            for x in (d, e):
                s = x.sample((2,))
                out.append(
                    (
                        tuple(x.batch_shape),
                        tuple(x.event_shape),
                        tuple(s.shape),
                        tuple(x.log_prob(s).shape),
                        tuple(x.base_dist.batch_shape),
                        type(x.base_dist).__name__,
                        repr(x.support),
                    )
                )
        return out

    assert shapes(tritensor) == shapes(torch)

    def stick_log_prob(lib, m, v):
        d = D(lib).TransformedDistribution(D(lib).Normal(m, 1.0), T(lib).StickBreakingTransform())
        return d.log_prob(v)

    check(
        stick_log_prob,
        g(rng.standard_normal((2, 3))),
        rng.dirichlet([1.0, 2.0, 3.0, 1.0], 2),
        same_node=False,
    )


def test_transformed_distribution_sampling():
    base = D(tritensor).Normal(_dev([0.0, 1.0]), _dev([0.25, 0.5]))
    d = D(tritensor).TransformedDistribution(base, T(tritensor).ExpTransform())
    tritensor.manual_seed(4)
    draws = d.sample((N,))
    assert draws.shape == (N, 2) and bool(d.support.check(draws).all()) and not draws.requires_grad
    mean = np.exp(np.array([0.0, 1.0]) + np.array([0.25, 0.5]) ** 2 / 2)
    assert np.all(np.abs(to_numpy(draws).mean(0) - mean) < 5 * to_numpy(draws).std(0) / math.sqrt(N))
    tritensor.manual_seed(4)
    np.testing.assert_array_equal(to_numpy(d.sample((N,))), to_numpy(draws))
    loc = _dev([0.3]).requires_grad_()
    sample = (
        D(tritensor)
        .TransformedDistribution(D(tritensor).Normal(loc, 1.0), T(tritensor).ExpTransform(cache_size=1))
        .rsample((5,))
    )
    (grad,) = tritensor.autograd.grad(sample.sum(), [loc])
    np.testing.assert_allclose(to_numpy(grad), to_numpy(sample.sum(0)), rtol=1e-12)


# ------------------------------------------------------------------ MultivariateNormal
def spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


MVN_PARAMETRISATIONS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _mvn(lib, loc, name, matrix):
    """``matrix`` is made valid for ``name`` inside the graph (so gradients reach it)."""
    if name == "scale_tril":
        matrix = matrix.tril(-1) + matrix.diagonal(dim1=-2, dim2=-1).abs().diag_embed()
    else:
        matrix = (matrix + matrix.mT) / 2
    return D(lib).MultivariateNormal(loc, **{name: matrix})


@pytest.mark.parametrize("name", MVN_PARAMETRISATIONS)
def test_multivariate_normal_values(name):
    matrix = lower_tril(3, (2,)) if name == "scale_tril" else spd(3, (2,))

    def run(lib, loc, m, v):
        d = _mvn(lib, loc, name, m)
        return [
            d.log_prob(v),
            d.entropy(),
            d.mean,
            d.mode,
            d.variance,
            d.stddev,
            d.scale_tril,
            d.covariance_matrix,
            d.precision_matrix,
            tuple(d.batch_shape),
            tuple(d.event_shape),
            repr(d),
        ]

    check(run, g(rng.standard_normal(3)), g(matrix), rng.standard_normal((4, 2, 3)), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multivariate_normal_dtypes_and_non_contiguous(dtype):
    def run(lib, loc, m, v):
        d = D(lib).MultivariateNormal(loc, scale_tril=m.tril())
        return [d.log_prob(v), d.entropy(), d.variance]

    check(
        run,
        g(rng.standard_normal((2, 3)), dtype),
        Arg(np.swapaxes(lower_tril(3), -1, -2), dtype, requires_grad=True, transpose=True),
        Arg(rng.standard_normal((2, 3)), dtype),
        same_node=False,
    )


def test_low_rank_multivariate_normal_values():
    def run(lib, loc, w, d, v):
        dist = D(lib).LowRankMultivariateNormal(loc, w, d)
        return [
            dist.log_prob(v),
            dist.entropy(),
            dist.mean,
            dist.variance,
            dist.scale_tril,
            dist.covariance_matrix,
            dist.precision_matrix,
            tuple(dist.batch_shape),
            repr(dist),
        ]

    check(
        run,
        g(rng.standard_normal(3)),
        g(rng.standard_normal((2, 3, 2))),
        g(pos(3)),
        rng.standard_normal((4, 2, 3)),
        same_node=False,
    )


def test_gaussian_kl_divergences():
    def run(lib, loc_p, loc_q, a, b, w, d):
        mvn = [
            D(lib).MultivariateNormal(
                loc_p, covariance_matrix=(a @ a.mT + lib.eye(3, dtype=a.dtype, device=a.device))
            ),
            D(lib).MultivariateNormal(
                loc_q, scale_tril=b.tril(-1) + b.diagonal(dim1=-2, dim2=-1).exp().diag_embed()
            ),
        ]
        low = [
            D(lib).LowRankMultivariateNormal(loc_q, w, d),
            D(lib).LowRankMultivariateNormal(loc_p, w * 0.5, d + 1),
        ]
        K = D(lib).kl_divergence
        return [K(mvn[0], mvn[1]), K(mvn[1], mvn[0]), K(low[0], low[1]), K(low[0], mvn[0]), K(mvn[1], low[1])]

    check(
        run,
        g(rng.standard_normal(3)),
        g(rng.standard_normal((2, 3))),
        g(rng.standard_normal((3, 3))),
        g(rng.standard_normal((2, 3, 3)) * 0.3),
        g(rng.standard_normal((3, 2))),
        g(pos(3)),
        same_node=False,
    )


def test_multivariate_normal_expand_and_gradcheck():
    def shapes(lib):
        dists = [
            D(lib).MultivariateNormal(lib.zeros(3), lib.eye(3)),
            D(lib).MultivariateNormal(lib.zeros(2, 1, 3), scale_tril=lib.eye(3).expand(4, 3, 3)),
            D(lib).LowRankMultivariateNormal(lib.zeros(2, 3), lib.ones(3, 1), lib.ones(3)),
        ]
        out = []
        for d in dists:
            e = d.expand((5,) + tuple(d.batch_shape))
            for x in (d, e):
                s = x.sample((2,))
                out.append(
                    (
                        tuple(x.batch_shape),
                        tuple(x.event_shape),
                        tuple(s.shape),
                        tuple(x.log_prob(s).shape),
                        tuple(x.entropy().shape),
                        tuple(x.covariance_matrix.shape),
                    )
                )
        return out

    assert shapes(tritensor) == shapes(torch)
    value = rng.standard_normal(3)
    gradcheck(
        lambda lib, loc, m: (
            D(lib).MultivariateNormal(loc, scale_tril=m.tril()).log_prob(lib.tensor(value, device=loc.device))
        ),
        rng.standard_normal(3),
        lower_tril(3),
    )
    check(
        lambda lib: (
            D(lib)
            .MultivariateNormal(lib.zeros(0, 2, device=dev(lib)), lib.eye(2, device=dev(lib)))
            .log_prob(lib.zeros(0, 2, device=dev(lib)))
        )
    )


MVN_ERRORS = [
    lambda lib: D(lib).MultivariateNormal(lib.tensor(0.0), lib.eye(1)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.ones(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), -lib.eye(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2, 2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 2.0], [0.0, 1.0]])),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2, 2), lib.eye(2).expand(3, 2, 2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
    lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(2), lib.ones(2), lib.ones(2)),
    lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(2), lib.ones(3, 1), lib.ones(2)),
    lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(3)),
    lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(2, 2), lib.ones(3, 2, 1), lib.ones(2)),
    lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1) / 10, lib.tensor([-0.1, 1.0])),
    lambda lib: D(lib).kl_divergence(
        D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)),
        D(lib).MultivariateNormal(lib.zeros(3), lib.eye(3)),
    ),
]


@pytest.mark.parametrize("case", range(len(MVN_ERRORS)))
def test_multivariate_errors_match_torch(case):
    check(MVN_ERRORS[case])


def test_multivariate_normal_sampling():
    cov = spd(3)
    d = D(tritensor).MultivariateNormal(_dev([1.0, -1.0, 0.5]), _dev(cov))
    tritensor.manual_seed(5)
    draws = to_numpy(d.sample((N,)))
    assert draws.shape == (N, 3)
    tolerance = 5 * np.sqrt(np.diag(cov) / N)
    assert np.all(np.abs(draws.mean(0) - [1.0, -1.0, 0.5]) < tolerance)
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=10 * np.sqrt(2.0 / N) * cov.max())
    tritensor.manual_seed(5)
    np.testing.assert_array_equal(to_numpy(d.sample((N,))), draws)
    low = D(tritensor).LowRankMultivariateNormal(_dev([0.0, 1.0]), _dev([[1.0], [0.5]]), _dev([0.5, 0.2]))
    low_draws = to_numpy(low.sample((N,)))
    np.testing.assert_allclose(
        np.cov(low_draws.T), [[1.5, 0.5], [0.5, 0.45]], atol=10 * np.sqrt(2.0 / N) * 1.5
    )
    loc = _dev([0.2, 0.3]).requires_grad_()
    (grad,) = tritensor.autograd.grad(
        D(tritensor).MultivariateNormal(loc, _dev(np.eye(2))).rsample((7,)).sum(), [loc]
    )
    np.testing.assert_allclose(to_numpy(grad), [7.0, 7.0])


# ------------------------------------------------------------------ further families
def unit(*shape):
    return rng.uniform(0.1, 0.9, shape)


def _std(*shape):
    return rng.standard_normal(shape)


#: name -> (builder(lib, *params), parameter arrays, values in the support, methods besides log_prob)
MOMENTS = ("mean", "variance", "stddev", "mode")
FULL = ("entropy", "cdf", "icdf") + MOMENTS
FAMILIES = {
    "Gumbel": (lambda lib, m, s: D(lib).Gumbel(m, s), [_std(2, 3), pos(3)], _std(4, 2, 3), FULL),
    "HalfNormal": (lambda lib, s: D(lib).HalfNormal(s), [pos(2, 3)], pos(4, 2, 3), FULL),
    "HalfCauchy": (lambda lib, s: D(lib).HalfCauchy(s), [pos(2, 3)], pos(4, 2, 3), FULL),
    "Weibull": (
        lambda lib, s, c: D(lib).Weibull(s, c),
        [pos(2, 3), pos(3, low=1.2)],
        pos(4, 2, 3),
        ("entropy", "cdf", "icdf") + MOMENTS,
    ),
    "Pareto": (
        lambda lib, s, a: D(lib).Pareto(s, a),
        [pos(2, 3, high=1.0), pos(3, low=2.5, high=4)],
        pos(4, 2, 3, low=1.1, high=3),
        FULL,
    ),
    "Kumaraswamy": (
        lambda lib, a, b: D(lib).Kumaraswamy(a, b),
        [pos(2, 3, low=1.1), pos(3, low=1.1)],
        unit(4, 2, 3),
        FULL,
    ),
    "LogisticNormal": (
        lambda lib, m, s: D(lib).LogisticNormal(m, s),
        [_std(2, 3), pos(3)],
        rng.dirichlet([1.0, 2.0, 3.0, 1.5], (4, 2)),
        (),
    ),
    "InverseGamma": (
        lambda lib, c, r: D(lib).InverseGamma(c, r),
        [pos(2, 3, low=2.5, high=4), pos(3)],
        pos(4, 2, 3),
        ("entropy",) + MOMENTS,
    ),
    "StudentT": (
        lambda lib, df, m, s: D(lib).StudentT(df, m, s),
        [pos(2, 3, low=2.5, high=6), _std(3), pos(3)],
        _std(4, 2, 3),
        ("entropy",) + MOMENTS,
    ),
    "FisherSnedecor": (
        lambda lib, a, b: D(lib).FisherSnedecor(a, b),
        [pos(2, 3, low=3, high=6), pos(3, low=5, high=8)],
        pos(4, 2, 3),
        MOMENTS,
    ),
    "ContinuousBernoulli": (
        lambda lib, p: D(lib).ContinuousBernoulli(probs=p),
        [np.array([[0.2, 0.4995, 0.8]])],
        unit(4, 1, 3),
        FULL,
    ),
    "ContinuousBernoulliLogits": (
        lambda lib, lg: D(lib).ContinuousBernoulli(logits=lg),
        [_std(2, 3)],
        unit(4, 2, 3),
        FULL,
    ),
    "VonMises": (
        lambda lib, m, k: D(lib).VonMises(m, k),
        [_std(2, 3), np.array([0.5, 2.0, 7.0])],
        rng.uniform(-3, 3, (4, 2, 3)),
        ("mean", "mode", "variance"),
    ),
    "RelaxedBernoulli": (
        lambda lib, p: D(lib).RelaxedBernoulli(lib.tensor(0.7, dtype=p.dtype, device=p.device), probs=p),
        [unit(2, 3)],
        unit(4, 2, 3),
        (),
    ),
    "RelaxedOneHotCategorical": (
        lambda lib, lg: D(lib).RelaxedOneHotCategorical(
            lib.tensor(0.6, dtype=lg.dtype, device=lg.device), logits=lg
        ),
        [_std(2, 3)],
        rng.dirichlet([1.0, 2.0, 3.0], (4, 2)),
        (),
    ),
    "NegativeBinomial": (
        lambda lib, n, p: D(lib).NegativeBinomial(n, probs=p),
        [pos(2, 3), unit(3)],
        rng.integers(0, 6, (4, 2, 3)),
        MOMENTS,
    ),
    "NegativeBinomialLogits": (
        lambda lib, lg: D(lib).NegativeBinomial(3.0, logits=lg),
        [_std(2, 3)],
        rng.integers(0, 6, (4, 2, 3)),
        MOMENTS,
    ),
    "Multinomial": (
        lambda lib, p: D(lib).Multinomial(4, probs=p),
        [pos(2, 3)],
        rng.multinomial(4, [0.2, 0.3, 0.5], (4, 2)),
        ("entropy", "mean", "variance"),
    ),
    "MixtureSameFamily": (
        lambda lib, w, m, s: D(lib).MixtureSameFamily(D(lib).Categorical(logits=w), D(lib).Normal(m, s)),
        [_std(2, 3), _std(2, 3), pos(2, 3)],
        _std(4, 2),
        ("cdf", "mean", "variance"),
    ),
    "MixtureOfMultivariate": (
        lambda lib, w, m: D(lib).MixtureSameFamily(
            D(lib).Categorical(logits=w), D(lib).Independent(D(lib).Normal(m, 1.0), 1)
        ),
        [_std(3), _std(3, 2)],
        _std(4, 2),
        ("mean", "variance"),
    ),
    "OneHotCategoricalStraightThrough": (
        lambda lib, p: D(lib).OneHotCategoricalStraightThrough(probs=p),
        [pos(2, 3)],
        np.eye(3)[rng.integers(0, 3, (4, 2))],
        ("entropy", "mean"),
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_values_and_gradients(name):
    build, params, value, methods = FAMILIES[name]

    def stats(lib, *args):
        *ps, v = args
        d = build(lib, *ps)
        out = [d.log_prob(v)]
        for method in methods:
            if method == "entropy":
                out.append(d.entropy())
            elif method == "cdf":
                out.append(d.cdf(v))
            elif method == "icdf":
                out.append(d.icdf(d.cdf(v).detach()))
            else:
                out.append(getattr(d, method))
        support = d.support  # (bounds that are tensors print with their grad_fn: compared by value above)
        out += [
            repr(d),
            type(support).__name__,
            support.event_dim,
            tuple(d.batch_shape),
            tuple(d.event_shape),
            d.has_rsample,
        ]
        return [o for o in out if getattr(o, "requires_grad", False)] + [
            o.detach() if hasattr(o, "detach") else o for o in out if not getattr(o, "requires_grad", False)
        ]

    check(stats, *[g(p) for p in params], np.asarray(value, np.float64), same_node=False)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_family_dtypes(dtype):
    def stats(lib, m, s, v):
        return [
            D(lib).Gumbel(m, s).log_prob(v),
            D(lib).HalfNormal(s).log_prob(v.abs()),
            D(lib).StudentT(s + 2).entropy(),
            D(lib).Weibull(s, s + 1).mean,
            D(lib).Kumaraswamy(s, s + 1).entropy(),
        ]

    check(
        stats,
        g(rng.uniform(-1, 1, 3), dtype),
        g(pos(3), dtype),
        Arg(rng.uniform(-1, 1, 3), dtype),
        same_node=False,
    )


def test_generalized_pareto():
    """torch's GeneralizedPareto compares the concentration with a float32 zero, so its
    float64 calls fail: compared in float32 (tritensor also takes float64)."""

    def stats(lib, m, s, c, v):
        d = D(lib).GeneralizedPareto(m, s, c)
        value = m + v
        return [
            d.log_prob(value),
            d.cdf(value),
            d.icdf(d.cdf(value).detach()),
            d.entropy(),
            d.mean,
            d.variance,
            d.mode,
            d.log_survival_function(value),
            d.support.lower_bound.detach(),
            d.support.upper_bound,
        ]

    check(
        stats,
        g(_std(3), "float32"),
        g(pos(3), "float32"),
        g([0.3, 0.0, -0.2], "float32"),
        Arg(unit(2, 3), "float32"),
        same_node=False,
    )
    d = D(tritensor).GeneralizedPareto(_dev(0.0), _dev(1.0), _dev(0.1))
    assert d.log_prob(_dev(0.5)).dtype == tritensor.float64


def test_family_kl_divergences():
    def kls(lib, a, b, c, d):
        K, G, P, CB = D(lib).kl_divergence, D(lib).Gumbel, D(lib).Pareto, D(lib).ContinuousBernoulli
        N, E, Ga, U = D(lib).Normal, D(lib).Exponential, D(lib).Gamma, D(lib).Uniform
        return [
            K(G(a, b), G(c, d)),
            K(D(lib).HalfNormal(a), D(lib).HalfNormal(b)),
            K(P(a, d), P(c, b)),
            K(CB(probs=a / 4), CB(probs=c / 4)),
            K(D(lib).Beta(a, b), CB(probs=a / 4)),
            K(U(a / 4, c / 4 + 0.2), CB(probs=a / 4)),
            K(CB(probs=a / 4), E(b)),
            K(CB(probs=a / 4), U(a - 2, b)),
            K(G(a, b), N(c, d)),
            K(P(a, d), N(c, d)),
            K(CB(probs=a / 4), N(c, d)),
            K(N(a, b), G(c, d)),
            K(E(a), G(c, d)),
            K(Ga(a, b), G(c, d)),
            K(U(a, a + b), G(c, d)),
            K(P(a, d), E(c)),
            K(P(a, d), Ga(c, b)),
            K(U(a + 1, a + 2), P(a, d)),
            K(G(a, b), E(c)),
            K(N(a, b), P(c, d)),
            K(P(a, b), U(a, b)),
            K(D(lib).Weibull(a, b), D(lib).Weibull(a, b)),
            K(D(lib).Kumaraswamy(a, b), D(lib).Kumaraswamy(a, b)),
        ]

    check(
        kls, g(pos(3)), g(pos(3, low=2.5, high=3.5)), g(pos(3)), g(pos(3, low=2.5, high=3.5)), same_node=False
    )

    def transformed_mismatch(lib):
        return D(lib).kl_divergence(D(lib).Weibull(1.0, 2.0), D(lib).Weibull(1.0, 3.0))

    check(transformed_mismatch)


FAMILY_ERRORS = [
    lambda lib: D(lib).Gumbel(0.0, -1.0),
    lambda lib: D(lib).HalfNormal(lib.tensor([-1.0])),
    lambda lib: D(lib).HalfNormal(lib.tensor([1.0])).log_prob(lib.tensor([-1.0])),
    lambda lib: D(lib).Weibull(lib.tensor([1.0]), lib.tensor([0.0])),
    lambda lib: D(lib).Pareto(lib.tensor([1.0]), lib.tensor([2.0])).log_prob(lib.tensor([0.5])),
    lambda lib: D(lib).Kumaraswamy(lib.tensor([1.0]), lib.tensor([2.0])).log_prob(lib.tensor([1.5])),
    lambda lib: D(lib).LogisticNormal(lib.zeros(2), lib.ones(2)).log_prob(lib.tensor([0.5, 0.6, 0.1])),
    lambda lib: D(lib).InverseGamma(lib.tensor([-1.0]), lib.tensor([1.0])),
    lambda lib: D(lib).StudentT(lib.tensor([0.0])),
    lambda lib: D(lib).FisherSnedecor(lib.tensor([1.0]), lib.tensor([-1.0])),
    lambda lib: D(lib).ContinuousBernoulli(probs=lib.tensor([1.5]), validate_args=True),
    lambda lib: D(lib).ContinuousBernoulli(),
    lambda lib: D(lib).VonMises(lib.tensor([0.0]), lib.tensor([-1.0])),
    lambda lib: D(lib).RelaxedBernoulli(lib.tensor(0.5), probs=lib.tensor([1.5])),
    lambda lib: D(lib).RelaxedOneHotCategorical(lib.tensor(0.5), probs=lib.tensor([0.5, -0.1])),
    lambda lib: D(lib).NegativeBinomial(lib.tensor([-1.0]), probs=lib.tensor([0.5])),
    lambda lib: D(lib).NegativeBinomial(lib.tensor([2.0]), probs=lib.tensor([1.0])),
    lambda lib: D(lib).NegativeBinomial(2.0, probs=lib.tensor([0.5])).log_prob(lib.tensor([1.5])),
    lambda lib: D(lib).Multinomial(2.5, probs=lib.tensor([0.5, 0.5])),
    lambda lib: D(lib).Multinomial(2, probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([2.0, 1.0])),
    lambda lib: D(lib).MixtureSameFamily(D(lib).Normal(0.0, 1.0), D(lib).Normal(lib.zeros(2), 1.0)),
    lambda lib: D(lib).MixtureSameFamily(D(lib).Categorical(lib.ones(2)), lib.ones(2)),
    lambda lib: D(lib).MixtureSameFamily(D(lib).Categorical(lib.ones(3)), D(lib).Normal(lib.zeros(2), 1.0)),
    lambda lib: D(lib).MixtureSameFamily(
        D(lib).Categorical(lib.ones(4, 2)), D(lib).Normal(lib.zeros(3, 2), 1.0)
    ),
    lambda lib: D(lib).GeneralizedPareto(0.0, -1.0, 0.5),
]


@pytest.mark.parametrize("case", range(len(FAMILY_ERRORS)))
def test_family_errors_match_torch(case):
    check(FAMILY_ERRORS[case])


def test_family_error_messages():
    for build in FAMILY_ERRORS[18:24] + FAMILY_ERRORS[10:12]:
        messages = []
        for lib in (torch, tritensor):
            with pytest.raises(Exception) as info:
                build(lib)
            messages.append(str(info.value).split(" of distribution")[0])
        assert messages[0] == messages[1]


def test_family_shapes_and_expand():
    def shapes(lib):
        t = lib.ones
        dists = [
            D(lib).Gumbel(t(2, 1), t(3)),
            D(lib).HalfNormal(t(3)),
            D(lib).HalfCauchy(2.0),
            D(lib).Weibull(t(3), 2.0),
            D(lib).Pareto(1.0, t(2, 3)),
            D(lib).Kumaraswamy(t(3), t(2, 1)),
            D(lib).LogisticNormal(t(2, 3), 1.0),
            D(lib).LogisticNormal(0.0, 1.0),
            D(lib).InverseGamma(t(3), 2.0),
            D(lib).StudentT(t(3)),
            D(lib).FisherSnedecor(t(2), 3.0),
            D(lib).ContinuousBernoulli(logits=t(3)),
            D(lib).VonMises(t(3), 1.0),
            D(lib).RelaxedBernoulli(lib.tensor(0.5), probs=t(3) / 2),
            D(lib).RelaxedOneHotCategorical(lib.tensor(0.5), probs=t(2, 3)),
            D(lib).NegativeBinomial(t(3), probs=t(3) / 2),
            D(lib).Multinomial(3, probs=t(2, 3)),
            D(lib).MixtureSameFamily(D(lib).Categorical(t(2, 3)), D(lib).Normal(lib.zeros(2, 3), 1.0)),
            D(lib).MixtureSameFamily(
                D(lib).Categorical(t(3)), D(lib).Independent(D(lib).Normal(lib.zeros(3, 2), 1.0), 1)
            ),
            D(lib).OneHotCategoricalStraightThrough(probs=t(2, 3)),
        ]
        out = []
        for d in dists:
            e = d.expand((4,) + tuple(d.batch_shape))
            for x in (d, e):
                s = x.sample((2,))
                out.append(
                    (
                        type(x).__name__,
                        tuple(x.batch_shape),
                        tuple(x.event_shape),
                        tuple(s.shape),
                        tuple(x.log_prob(s).shape),
                        str(s.dtype),
                        repr(x),
                    )
                )
            if isinstance(d, D(lib).Multinomial):  # (torch's expanded Multinomial has no entropy)
                out.append(tuple(d.entropy().shape))
        return out

    assert shapes(tritensor) == shapes(torch)


SAMPLED = {
    "Gumbel": lambda: D(tritensor).Gumbel(_dev([0.0, 2.0]), _dev([1.0, 0.5])),
    "HalfNormal": lambda: D(tritensor).HalfNormal(_dev([1.0, 2.0])),
    "Weibull": lambda: D(tritensor).Weibull(_dev([1.0, 2.0]), _dev([1.5, 3.0])),
    "Pareto": lambda: D(tritensor).Pareto(_dev([1.0, 2.0]), _dev([5.0, 6.0])),
    "Kumaraswamy": lambda: D(tritensor).Kumaraswamy(_dev([2.0, 0.7]), _dev([3.0, 1.5])),
    "InverseGamma": lambda: D(tritensor).InverseGamma(_dev([5.0, 7.0]), _dev([1.0, 2.0])),
    "StudentT": lambda: D(tritensor).StudentT(_dev([6.0, 9.0]), _dev([0.0, 1.0]), _dev([1.0, 0.5])),
    "FisherSnedecor": lambda: D(tritensor).FisherSnedecor(_dev([5.0, 8.0]), _dev([10.0, 12.0])),
    "GeneralizedPareto": lambda: D(tritensor).GeneralizedPareto(
        _dev([0.0, 1.0]), _dev([1.0, 2.0]), _dev([0.1, 0.0])
    ),
    "ContinuousBernoulli": lambda: D(tritensor).ContinuousBernoulli(probs=_dev([0.2, 0.5, 0.9])),
    "VonMises": lambda: D(tritensor).VonMises(_dev([0.0, 1.0]), _dev([2.0, 8.0])),
    "NegativeBinomial": lambda: D(tritensor).NegativeBinomial(_dev([3.0, 10.0]), probs=_dev([0.3, 0.6])),
    "Multinomial": lambda: D(tritensor).Multinomial(5, probs=_dev([0.2, 0.3, 0.5])),
    "MixtureSameFamily": lambda: D(tritensor).MixtureSameFamily(
        D(tritensor).Categorical(probs=_dev([0.3, 0.7])),
        D(tritensor).Normal(_dev([-2.0, 2.0]), _dev([1.0, 0.5])),
    ),
    "RelaxedBernoulli": lambda: D(tritensor).RelaxedBernoulli(_dev(0.5), probs=_dev([0.3, 0.6])),
}


def _assert_moments(draws, mean, var, sigmas=5.0):
    """Sample mean within ``sigmas`` standard errors; sample variance within ``sigmas``
    standard errors of a variance estimate (from the sample fourth moment)."""
    x = to_numpy(draws).astype(np.float64)
    n = x.shape[0]
    mean, var = np.broadcast_to(mean, x.shape[1:]), np.broadcast_to(var, x.shape[1:])
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), sigmas * np.sqrt(var / n) + 1e-12)
    fourth = ((x - x.mean(0)) ** 4).mean(0)
    np.testing.assert_array_less(np.abs(x.var(0) - var), sigmas * np.sqrt((fourth - var**2) / n) + 1e-12)


@pytest.mark.parametrize("name", sorted(SAMPLED))
def test_family_sample_statistics(name):
    dist = SAMPLED[name]()
    tritensor.manual_seed(6)
    draws = dist.sample((N,))
    assert tuple(draws.shape) == (N,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    assert bool(dist.support.check(draws).all())
    if name == "RelaxedBernoulli":  # no closed-form moments: P(x > 1/2) is the Bernoulli probability
        np.testing.assert_allclose((to_numpy(draws) > 0.5).mean(0), [0.3, 0.6], atol=5 * 0.5 / math.sqrt(N))
    elif name == "VonMises":  # its variance is the circular one: E[cos(x - loc)] = 1 - variance
        cosines = np.cos(to_numpy(draws) - to_numpy(dist.loc))
        _assert_moments(np.sin(to_numpy(draws) - to_numpy(dist.loc)), 0.0, (1 - cosines**2).mean(0))
        assert np.all(
            np.abs(cosines.mean(0) - (1 - to_numpy(dist.variance))) < 5 * cosines.std(0) / math.sqrt(N)
        )
    else:
        _assert_moments(draws, to_numpy(dist.mean), to_numpy(dist.variance))
    tritensor.manual_seed(6)
    np.testing.assert_array_equal(to_numpy(dist.sample((N,))), to_numpy(draws))


def test_reparametrised_family_gradients():
    """d E[x] / d loc = 1 for the location families; the straight-through estimator passes
    the probabilities' gradient."""
    loc = _dev([0.3, -0.2]).requires_grad_()
    for build in (lambda m: D(tritensor).Gumbel(m, 1.0), lambda m: D(tritensor).StudentT(5.0, m, 1.0)):
        draws = build(loc).rsample((64,))
        (grad,) = tritensor.autograd.grad(draws.mean(), [loc])
        np.testing.assert_allclose(to_numpy(grad), [0.5, 0.5], rtol=1e-12)
    probs = _dev([0.2, 0.8]).requires_grad_()
    sample = D(tritensor).OneHotCategoricalStraightThrough(probs=probs).rsample()
    (grad,) = tritensor.autograd.grad((sample * _dev([1.0, 3.0])).sum(), [probs])
    assert np.all(np.isfinite(to_numpy(grad))) and sample.requires_grad
    relaxed = D(tritensor).RelaxedOneHotCategorical(_dev(0.5), probs=probs).rsample((3,))
    np.testing.assert_allclose(to_numpy(relaxed.sum(-1)), np.ones(3), rtol=1e-12)
