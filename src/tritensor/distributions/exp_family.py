"""``ExponentialFamily``: densities of the form exp(<t(x), theta> - F(theta) + k(x)).

A family gives its natural parameters theta, its log normaliser F and the expected carrier
measure E[k(x)]; the entropy and the KL divergence between two members of one family then follow
from the Bregman divergence of F, whose gradient (the mean of t(x)) autograd supplies. Families
with closed forms override ``entropy`` and register their own KL, as in torch.
"""

from __future__ import annotations

from .. import autograd
from .distribution import Distribution


def _log_normalizer_and_gradients(dist):
    """F(theta) at ``dist``'s natural parameters, the parameters as fresh leaves, and dF/dtheta
    (kept differentiable, so the entropy and KL built from them have gradients)."""
    leaves = [theta.detach().requires_grad_() for theta in dist._natural_params]
    with autograd.enable_grad():
        log_normalizer = dist._log_normalizer(*leaves)
        gradients = autograd.grad(log_normalizer.sum(), leaves, create_graph=True)
    return leaves, log_normalizer, gradients


def _flat_sum(value, leading_shape):
    """Sum of everything after ``leading_shape`` (a parameter's event part)."""
    return value.reshape(tuple(leading_shape) + (-1,)).sum(-1)


class ExponentialFamily(Distribution):
    """Abstract: subclasses define ``_natural_params``, ``_log_normalizer`` and
    ``_mean_carrier_measure``."""

    @property
    def _natural_params(self):
        raise NotImplementedError(f"{type(self).__name__} does not define its natural parameters")

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError(f"{type(self).__name__} does not define its log normalizer")

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError(f"{type(self).__name__} does not define its expected carrier measure")

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)]."""
        carrier = self._mean_carrier_measure
        leaves, log_normalizer, gradients = _log_normalizer_and_gradients(self)
        result = log_normalizer - carrier
        for theta, grad in zip(leaves, gradients):
            result = result - _flat_sum(theta * grad, self._batch_shape)
        return result


def kl_between_members(p, q):
    """KL(p || q) = F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)> for two
    members of the same exponential family."""
    if type(p) is not type(q):
        raise NotImplementedError(
            f"The KL divergence between different exponential families ({type(p).__name__} and "
            f"{type(q).__name__}) cannot be computed with Bregman divergences"
        )
    leaves, log_normalizer, gradients = _log_normalizer_and_gradients(p)
    q_params = q._natural_params
    result = q._log_normalizer(*q_params) - log_normalizer
    event_dims = len(q.event_shape)
    for theta_p, theta_q, grad in zip(leaves, q_params, gradients):
        term = (theta_q - theta_p) * grad
        result = result - (_flat_sum(term, term.shape[: term.dim() - event_dims]) if event_dims else term)
    return result
