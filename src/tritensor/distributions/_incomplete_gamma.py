"""The regularised lower incomplete gamma function P(a, x) (``torch.special.gammainc``), for
Gamma.cdf, in float64 tensor ops on either device.

P comes from its power series where x < a + 1 and from the continued fraction of Q = 1 - P
(modified Lentz) elsewhere, each iterated until every element's next term is below float64's
epsilon (at most ``_MAX_ITERATIONS`` steps). As in torch, the gradient w.r.t. ``x`` is the
Gamma density and the one w.r.t. ``a`` is not implemented.
"""

from __future__ import annotations

from .. import dtypes as _dt, ops
from ..autograd.function import Function

_EPS = 2.0 ** -53
_TINY = 1e-300
_MAX_ITERATIONS = 100000
_CHECK_EVERY = 8


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a))."""
    return a * x.log() - x - a.lgamma()


def _series_p(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)), for x < a + 1."""
    term = ops.ones_like(x)
    total = ops.ones_like(x)
    denominator = a.clone()
    for step in range(_MAX_ITERATIONS):
        denominator = denominator + 1
        term = term * x / denominator
        total = total + term
        if step % _CHECK_EVERY == 0 and not bool((term > total * _EPS).any()):
            break
    return (_log_prefactor(a, x) + total.log() - a.log()).exp()


def _continued_fraction_q(a, x):
    """Q(a, x) by the modified Lentz evaluation of its continued fraction, for x >= a + 1."""
    b = x + 1 - a
    c = ops.full_like(x, 1 / _TINY)
    d = 1 / b
    h = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = ops.where(d.abs() < _TINY, ops.full_like(d, _TINY), d)
        c = b + an / c
        c = ops.where(c.abs() < _TINY, ops.full_like(c, _TINY), c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if i % _CHECK_EVERY == 0 and not bool(((delta - 1).abs() > _EPS).any()):
            break
    return (_log_prefactor(a, x) + h.log()).exp()


def _gammainc(a, x):
    """P(a, x) for float64 tensors of one shape, a > 0 and x >= 0."""
    use_series = x < a + 1
    one = ops.ones_like(x)
    p = ops.zeros_like(x)
    if bool((use_series & (x > 0)).any()):
        safe_x = ops.where(use_series & (x > 0), x, one)
        p = ops.where(use_series, _series_p(a, safe_x), p)
    if bool((~use_series).any()):
        safe_x = ops.where(use_series, a + 1, x)
        p = ops.where(use_series, p, 1 - _continued_fraction_q(a, safe_x))
    p = ops.where(x == 0, ops.zeros_like(p), p)
    return ops.where(x.isinf() & (x > 0), one, p)


class _Igamma(Function):
    node_name = "IgammaBackward0"

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _gammainc(a.to(_dt.float64), x.to(_dt.float64)).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, grad * density


def gammainc(a, x):
    """The regularised lower incomplete gamma function of tensors ``a`` and ``x`` (broadcast
    together; the result has ``x``'s dtype)."""
    a, x = ops.broadcast_tensors(a, x)
    return _Igamma.apply(a, x)
