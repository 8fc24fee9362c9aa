"""Samplers for the Gamma, Poisson and Binomial families, composed of tritensor's tensor ops and
its uniform/normal draws (so they run on either device, from that device's generator).

Rejection samplers run in rounds: each round proposes a value for every element, keeps it
where the element is still pending and the proposal is accepted, and stops once nothing is
pending. The acceptance rates are above 0.9, so a few rounds suffice; after
``_MAX_ROUNDS`` the still-pending elements (probability below 1e-30) take a deterministic
value near the mode so that sampling always terminates.

* Gamma: Marsaglia and Tsang (2000), with the ``u ** (1 / alpha)`` boost for alpha < 1.
  Its reparameterised gradient w.r.t. the concentration is the implicit one,
  ``dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)`` with F the regularised lower
  incomplete gamma function; ``dF/dalpha`` is summed from its power series (float64,
  alpha <= ``_SERIES_MAX_ALPHA``) and from the Wilson-Hilferty cube-root normal
  approximation above that (relative error below 1e-3 there).
* Poisson: inversion by sequential search for rates below 10, Hormann's transformed
  rejection (PTRS, 1993) at and above 10.
* Binomial: inversion by sequential search when ``n * min(p, 1 - p)`` is below 10, Hormann's
  BTRS above, using the symmetry ``Bin(n, p) = n - Bin(n, 1 - p)`` for p > 0.5.
"""

from __future__ import annotations

import math

from .. import autograd, dtypes as _dt, ops
from ..autograd.function import Function
from ..random import rand, randn
from ..type_info import finfo

_MAX_ROUNDS = 40
_SERIES_MAX_ALPHA = 400.0
_SERIES_CHUNK = 1 << 20  # elements x terms per chunk of the power series


def _draw(sampler, like, generator):
    """Float64 draws of ``like``'s shape on its device (float64 keeps the rejection tests and
    the inversion sums exact enough for every parameter dtype)."""
    return sampler(tuple(like.shape), dtype=_dt.float64, device=like.device, generator=generator)


def _accept_reject(propose, fallback):
    """``propose()`` -> (values, accepted) for every element; keeps the first accepted value of
    each element, ``fallback`` for those never accepted."""
    result, pending = None, None
    for _ in range(_MAX_ROUNDS):
        values, accepted = propose()
        if result is None:
            result, pending = values, ~accepted
        else:
            result = ops.where(pending & accepted, values, result)
            pending = pending & ~accepted
        if not bool(pending.any()):
            return result
    return ops.where(pending, fallback, result)


# ------------------------------------------------------------------ Gamma
def _marsaglia_tsang(alpha, generator):
    """Gamma(alpha, 1) draws for alpha >= 1 (float64)."""
    d = alpha - 1.0 / 3.0
    c = (9.0 * d).rsqrt()
    tiny = finfo(alpha.dtype).tiny

    def propose():
        z = _draw(randn, alpha, generator)
        u = _draw(rand, alpha, generator)
        v = (1 + c * z) ** 3
        positive = v > 0
        v = v.clamp(min=tiny)
        accepted = positive & (u.log() < 0.5 * z * z + d - d * v + d * v.log())
        return d * v, accepted

    return _accept_reject(propose, d)


def sample_standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) draws of ``alpha``'s shape and dtype, at least the dtype's smallest
    normal number (as torch clamps them)."""
    a = alpha.detach().to(_dt.float64)
    small = a < 1
    x = _marsaglia_tsang(ops.where(small, a + 1, a), generator)
    boost = _draw(rand, a, generator).pow(a.reciprocal())
    x = ops.where(small, x * boost, x)
    return x.to(alpha.dtype).clamp(min=finfo(alpha.dtype).tiny)


def _series_dx_dalpha(alpha, x):
    """-(dF/dalpha) / f at (alpha, x), float64 1-d tensors, from the power series
    F = sum_n x^(alpha+n) e^(-x) / Gamma(alpha+n+1): term n of the ratio is
    x^(n+1) Gamma(alpha) / Gamma(alpha+n+1) * (log x - digamma(alpha+n+1))."""
    if x.numel() == 0:
        return x
    x_max = float(x.max())
    terms = int(x_max + 12 * math.sqrt(x_max) + 40)
    n = ops.arange(terms, dtype=x.dtype, device=x.device).unsqueeze(0)
    parts = []
    chunk = max(1, _SERIES_CHUNK // terms)
    for start in range(0, x.numel(), chunk):
        a = alpha[start:start + chunk].unsqueeze(1)
        log_x = x[start:start + chunk].unsqueeze(1).log()
        log_ratio = (n + 1) * log_x + a.lgamma() - (a + n + 1).lgamma()
        parts.append(-(log_ratio.exp() * (log_x - (a + n + 1).digamma())).sum(1))
    return ops.cat(parts)


def _wilson_hilferty_dx_dalpha(alpha, x):
    """dx/dalpha with the normal deviate z of the cube-root approximation
    x = alpha * (1 - 1/(9 alpha) + z / (3 sqrt(alpha)))**3 held fixed."""
    w = (x / alpha).pow(1.0 / 3.0)
    z = (w - 1 + 1 / (9 * alpha)) * 3 * alpha.sqrt()
    dw = 1 / (9 * alpha * alpha) - z / (6 * alpha.pow(1.5))
    return w.pow(3) + 3 * alpha * w * w * dw


def standard_gamma_grad(alpha, x):
    """The implicit reparameterisation derivative dx/dalpha of Gamma(alpha, 1) samples x."""
    a, v = alpha.detach().to(_dt.float64).reshape(-1), x.detach().to(_dt.float64).reshape(-1)
    use_series = a <= _SERIES_MAX_ALPHA
    result = _wilson_hilferty_dx_dalpha(a, v)
    if bool(use_series.any()):
        index = use_series.nonzero().reshape(-1)
        series = _series_dx_dalpha(a.index_select(0, index), v.index_select(0, index))
        result = result.index_copy(0, index, series)
    return result.reshape(x.shape).to(x.dtype)


class _StandardGamma(Function):
    """Gamma(alpha, 1) draws; backward multiplies by the implicit derivative dx/dalpha."""

    node_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, generator):
        x = sample_standard_gamma(alpha, generator)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, x), None


def standard_gamma(alpha, generator=None):
    """``torch._standard_gamma``: differentiable in ``alpha``."""
    if alpha.requires_grad and autograd.is_grad_enabled():
        return _StandardGamma.apply(alpha, generator)
    return sample_standard_gamma(alpha, generator)


# ------------------------------------------------------------------ Poisson
_PTRS_MIN_RATE = 10.0


def _sequential_inversion(u, first_pmf, next_ratio, limit=None):
    """The smallest k with u <= F(k), walking the pmf from ``first_pmf`` by
    pmf(k+1) = pmf(k) * next_ratio(k); stops at ``limit`` where given (float64 tensors)."""
    k = ops.zeros_like(u)
    pmf, cdf = first_pmf, first_pmf
    for _ in range(2000):
        going = u > cdf
        if limit is not None:
            going = going & (k < limit)
        if not bool(going.any()):
            break
        pmf = pmf * next_ratio(k)
        k = ops.where(going, k + 1, k)
        cdf = ops.where(going, cdf + pmf, cdf)
    return k


def _poisson_ptrs(rate, generator):
    """Hormann's PTRS for rates >= 10 (float64)."""
    slam, loglam = rate.sqrt(), rate.log()
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_inv_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    vr = 0.9277 - 3.6224 / (b - 2)

    def propose():
        u = _draw(rand, rate, generator) - 0.5
        v = _draw(rand, rate, generator)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + rate + 0.43).floor()
        quick = (us >= 0.07) & (v <= vr)
        valid = (k >= 0) & ~((us < 0.013) & (v > us))
        bound = -rate + k * loglam - (k.clamp(min=0) + 1).lgamma()
        exact = v.log() + log_inv_alpha - (a / (us * us) + b).log() <= bound
        return k, quick | (valid & exact)

    return _accept_reject(propose, rate.floor())


def sample_poisson(rate, generator=None):
    """Poisson(rate) draws of ``rate``'s shape and dtype."""
    lam = rate.detach().to(_dt.float64)
    small = lam < _PTRS_MIN_RATE
    small_lam = ops.where(small, lam, ops.zeros_like(lam))
    u = _draw(rand, lam, generator)
    # below rate 10 a count of 200 has probability < 1e-200: the cap only stops a walk whose
    # rounded cdf never reaches a u within an ulp of 1
    inverted = _sequential_inversion(u, (-small_lam).exp(), lambda k: small_lam / (k + 1), limit=200.0)
    if bool((~small).any()):
        large = _poisson_ptrs(ops.where(small, ops.full_like(lam, _PTRS_MIN_RATE), lam), generator)
        inverted = ops.where(small, inverted, large)
    return inverted.to(rate.dtype)


# ------------------------------------------------------------------ Binomial
_BTRS_MIN_MEAN = 10.0


def _binomial_btrs(n, p, generator):
    """Hormann's BTRS for n * p >= 10, p <= 0.5 (float64)."""
    q = 1 - p
    spq = (n * p * q).sqrt()
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = (p / q).log()
    m = ((n + 1) * p).floor()
    h = (m + 1).lgamma() + (n - m + 1).lgamma()

    def propose():
        u = _draw(rand, n, generator) - 0.5
        v = _draw(rand, n, generator)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + c).floor()
        inside = (k >= 0) & (k <= n)
        quick = (us >= 0.07) & (v <= vr)
        kc = ops.minimum(k.clamp(min=0), n)
        bound = h - (kc + 1).lgamma() - (n - kc + 1).lgamma() + (kc - m) * log_odds
        exact = (v * alpha / (a / (us * us) + b)).log() <= bound
        return k, inside & (quick | exact)

    return _accept_reject(propose, m)


def sample_binomial(total_count, probs, generator=None):
    """Binomial(total_count, probs) draws of their (common) shape, in ``probs``' dtype."""
    n = total_count.detach().to(_dt.float64)
    p_in = probs.detach().to(_dt.float64)
    flip = p_in > 0.5
    p = ops.where(flip, 1 - p_in, p_in)
    small = n * p < _BTRS_MIN_MEAN
    ps = ops.where(small, p, ops.zeros_like(p))
    odds = ps / (1 - ps)
    u = _draw(rand, n, generator)
    k = _sequential_inversion(u, (1 - ps).pow(n), lambda k: (n - k) / (k + 1) * odds, limit=n)
    if bool((~small).any()):
        big_n = ops.where(small, ops.full_like(n, 40.0), n)
        big_p = ops.where(small, ops.full_like(p, 0.5), p)
        k = ops.where(small, k, _binomial_btrs(big_n, big_p, generator))
    k = ops.where(flip, n - k, k)
    return k.to(probs.dtype)
