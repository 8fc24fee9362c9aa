"""``biject_to`` and ``transform_to`` (``torch.distributions.constraint_registry``): from a
constraint to a transform that maps unconstrained reals onto it. ``biject_to`` returns
bijections (for HMC-style reparametrisation); ``transform_to`` may return cheaper maps that
are not (softmax onto the simplex, positive definite matrices from any square one).

Lookup is by the constraint's exact class, as in torch; ``register`` adds a factory for a
class (or for the class of a constraint object)."""

from __future__ import annotations

import functools
import numbers

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Constraint class -> factory(constraint) -> Transform."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """``register(constraint_or_class, factory)``, or as a decorator without ``factory``."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(
                f"Expected constraint to be either a Constraint subclass or instance, but got {constraint}"
            )
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _register_both(*constraint_types):
    """Register one factory with both registries."""

    def register(factory):
        for constraint in constraint_types:
            biject_to.register(constraint, factory)
            transform_to.register(constraint, factory)
        return factory

    return register


@_register_both(constraints.real)
def _to_real(constraint):
    return transforms.identity_transform


def _register_recursive(constraint_type, build):
    """Constraints made of other constraints: each registry maps the parts with itself
    (``build(registry, constraint)``)."""
    for registry in (biject_to, transform_to):
        registry.register(constraint_type, functools.partial(build, registry))


_register_recursive(
    constraints._IndependentConstraint,
    lambda registry, c: transforms.IndependentTransform(
        registry(c.base_constraint), c.reinterpreted_batch_ndims
    ),
)
_register_recursive(
    constraints._Cat,
    lambda registry, c: transforms.CatTransform([registry(part) for part in c.cseq], c.dim, c.lengths),
)
_register_recursive(
    constraints._Stack,
    lambda registry, c: transforms.StackTransform([registry(part) for part in c.cseq], c.dim),
)


@_register_both(constraints._GreaterThan, constraints._GreaterThanEq)
def _to_greater_than(constraint):
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound, 1)]
    )


@_register_both(constraints._LessThan)
def _to_less_than(constraint):
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound, -1)]
    )


@_register_both(constraints._Interval, constraints._HalfOpenInterval)
def _to_interval(constraint):
    low, high = constraint.lower_bound, constraint.upper_bound
    if isinstance(low, numbers.Number) and low == 0 and isinstance(high, numbers.Number) and high == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform(
        [transforms.SigmoidTransform(), transforms.AffineTransform(low, high - low)]
    )


@_register_both(constraints._CorrCholesky)
def _to_corr_cholesky(constraint):
    return transforms.CorrCholeskyTransform()


biject_to.register(constraints.simplex, lambda constraint: transforms.StickBreakingTransform())
transform_to.register(constraints.simplex, lambda constraint: transforms.SoftmaxTransform())
transform_to.register(constraints.lower_cholesky, lambda constraint: transforms.LowerCholeskyTransform())
for _psd in (constraints.positive_definite, constraints.positive_semidefinite):
    transform_to.register(_psd, lambda constraint: transforms.PositiveDefiniteTransform())
