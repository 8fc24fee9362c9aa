"""Invertible transforms with log-det-Jacobians (``torch.distributions.transforms``): the building
blocks of ``TransformedDistribution`` and of ``biject_to`` / ``transform_to``.

A transform maps ``x`` in ``domain`` to ``y`` in ``codomain``; ``log_abs_det_jacobian(x, y)``
is ``log |dy/dx|`` summed over nothing (``event_dim`` 0) or over the event dims the transform
acts on jointly. Everything is written in tensor ops, so it runs on either device and
differentiates.
"""

from __future__ import annotations

import math
import numbers
import weakref

from .. import ops
from ..nn import functional as F
from ..size import Size
from ..type_info import finfo
from . import constraints
from .distribution import broadcast_all

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "TanhTransform",
    "SoftmaxTransform",
    "StackTransform",
    "StickBreakingTransform",
    "Transform",
    "identity_transform",
]


def _sum_rightmost(value, dims):
    """``value`` summed over its last ``dims`` dims (none when ``dims`` is 0)."""
    return value.reshape(tuple(value.shape[: value.dim() - dims]) + (-1,)).sum(-1) if dims > 0 else value


def _too_few_dims(shape, needed):
    if len(shape) < needed:
        raise ValueError("Too few dimensions on input")


class Transform:
    """Subclasses define ``_call`` (forward), ``_inverse`` and ``log_abs_det_jacobian``, and
    set ``domain``, ``codomain``, ``bijective`` and ``sign`` (for monotone scalar maps).

    ``cache_size=1`` remembers the last (x, y) pair: calling the forward on the same x object
    (or the inverse on the same y object) returns the remembered value, which is how
    ``TransformedDistribution.log_prob`` of its own samples avoids an inexact inverse.
    Parametrised subclasses list their constructor arguments in ``_init_args`` so that
    ``with_cache`` can rebuild them."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached_x_y = None, None
        self._inv = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_inv"] = None
        return state

    @property
    def event_dim(self):
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform; one object per transform, held weakly (as torch) so the two
        do not keep each other alive."""
        inverse = self._inv() if self._inv is not None else None
        if inverse is None:
            inverse = _InverseTransform(self)
            self._inv = weakref.ref(inverse)
        return inverse

    @property
    def sign(self):
        raise NotImplementedError

    def _init_args(self):
        """The constructor's arguments (before ``cache_size``) for ``with_cache``."""
        if type(self).__init__ is not Transform.__init__:
            raise NotImplementedError(f"{type(self)}.with_cache is not implemented")
        return ()

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return type(self)(*self._init_args(), cache_size=cache_size)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x):
        if not self._cache_size:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y):
        if not self._cache_size:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__ + "()"

    def forward_shape(self, shape):
        """The output shape for an input of ``shape``."""
        return shape

    def inverse_shape(self, shape):
        """The input shape for an output of ``shape``."""
        return shape


class _InverseTransform(Transform):
    """``transform.inv``: the same map run backwards (use the ``inv`` property)."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    domain = property(lambda self: self._inv.codomain)
    codomain = property(lambda self: self._inv.domain)
    bijective = property(lambda self: self._inv.bijective)
    sign = property(lambda self: self._inv.sign)

    @property
    def inv(self):
        return self._inv

    def with_cache(self, cache_size=1):
        return self.inv.with_cache(cache_size).inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self):
        return f"{type(self).__name__}({self._inv!r})"

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)

    def __getstate__(self):
        return self.__dict__.copy()


class _Stateless(Transform):
    """Transforms without parameters: all instances of a class are equal."""

    def __eq__(self, other):
        return isinstance(other, type(self))

    __hash__ = None


class ComposeTransform(Transform):
    """``parts`` applied in order; the log-det-Jacobians add up, each first summed over the
    event dims it does not itself cover."""

    def __init__(self, parts, cache_size=0):
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def _init_args(self):
        return (self.parts,)

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = None

    def _event_dim_through(self, parts, start, end, first):
        """The event dim the whole chain needs at one end: walk ``parts`` from the other end,
        adding each part's change of event dim and never going below what a part needs."""
        event_dim = first
        for part in parts:
            event_dim += getattr(part, start).event_dim - getattr(part, end).event_dim
            event_dim = max(event_dim, getattr(part, start).event_dim)
        return event_dim

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self._event_dim_through(
            reversed(self.parts), "domain", "codomain", self.parts[-1].codomain.event_dim
        )
        return _widened(domain, event_dim)

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self._event_dim_through(self.parts, "codomain", "domain", self.parts[0].domain.event_dim)
        return _widened(codomain, event_dim)

    @property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        sign = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    @property
    def inv(self):
        inverse = self._inv() if self._inv is not None else None
        if inverse is None:
            inverse = ComposeTransform([p.inv for p in reversed(self.parts)])
            self._inv = weakref.ref(inverse)
            inverse._inv = weakref.ref(self)
        return inverse

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return ops.zeros_like(x)
        values = [x]
        for part in self.parts[:-1]:
            values.append(part(values[-1]))
        values.append(y)
        total, event_dim = 0, self.domain.event_dim
        for part, x_i, y_i in zip(self.parts, values[:-1], values[1:]):
            term = part.log_abs_det_jacobian(x_i, y_i)
            total = total + _sum_rightmost(term, event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self):
        return type(self).__name__ + "(\n    " + ",\n    ".join(repr(p) for p in self.parts) + "\n)"


def _widened(constraint, event_dim):
    """``constraint`` read jointly over ``event_dim`` dims (at least its own)."""
    if event_dim < constraint.event_dim:
        raise AssertionError("transform's event_dim is below its constraint's")
    if event_dim > constraint.event_dim:
        return constraints.independent(constraint, event_dim - constraint.event_dim)
    return constraint


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """``base_transform`` with its last ``reinterpreted_batch_ndims`` batch dims read as event
    dims: the log-det-Jacobian is summed over them."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def _init_args(self):
        return self.base_transform, self.reinterpreted_batch_ndims

    @property
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    bijective = property(lambda self: self.base_transform.bijective)
    sign = property(lambda self: self.base_transform.sign)

    def _call(self, x):
        _too_few_dims(x.shape, self.domain.event_dim)
        return self.base_transform(x)

    def _inverse(self, y):
        _too_few_dims(y.shape, self.codomain.event_dim)
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class ReshapeTransform(Transform):
    """Reshapes the rightmost ``in_shape`` dims to ``out_shape`` (volume preserving)."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape, self.out_shape = Size(in_shape), Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    def _init_args(self):
        return self.in_shape, self.out_shape

    domain = property(lambda self: constraints.independent(constraints.real, len(self.in_shape)))
    codomain = property(lambda self: constraints.independent(constraints.real, len(self.out_shape)))

    @staticmethod
    def _batch(shape, event):
        return tuple(shape[: len(shape) - len(event)])

    def _call(self, x):
        return x.reshape(self._batch(x.shape, self.in_shape) + tuple(self.out_shape))

    def _inverse(self, y):
        return y.reshape(self._batch(y.shape, self.out_shape) + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(self._batch(x.shape, self.in_shape))

    @staticmethod
    def _swap_event(shape, old, new):
        _too_few_dims(shape, len(old))
        cut = len(shape) - len(old)
        if tuple(shape[cut:]) != tuple(old):
            raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {old}")
        return Size(tuple(shape[:cut]) + tuple(new))

    def forward_shape(self, shape):
        return self._swap_event(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._swap_event(shape, self.out_shape, self.in_shape)


class ExpTransform(_Stateless):
    """y = exp(x)."""

    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def _init_args(self):
        return (self.exponent,)

    @property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool(self.exponent.eq(other.exponent).all())

    __hash__ = None

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return ops.broadcast_shapes(shape, tuple(self.exponent.shape))

    inverse_shape = forward_shape


def _clipped_sigmoid(x):
    """sigmoid(x) kept inside (0, 1), so that its logit stays finite."""
    info = finfo(x.dtype)
    return x.sigmoid().clamp(min=info.tiny, max=1.0 - info.eps)


class SigmoidTransform(_Stateless):
    """y = sigmoid(x), x = logit(y)."""

    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x) - F.softplus(x)


class SoftplusTransform(_Stateless):
    """y = log(1 + exp(x)); the inverse is x = log(1 - exp(-y)) + y."""

    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x)


class TanhTransform(_Stateless):
    """y = tanh(x); log|dy/dx| = 2 (log 2 - x - softplus(-2x)), stable for large |x|."""

    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AbsTransform(_Stateless):
    """y = |x|; not bijective, the "inverse" returns the positive root."""

    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


def _same_parameter(a, b):
    """torch's AffineTransform equality: numbers compare as numbers, tensors elementwise."""
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    return bool((a == b).all())


class AffineTransform(Transform):
    """y = loc + scale * x, elementwise; with ``event_dim`` > 0 the log-det-Jacobian is summed
    over the last ``event_dim`` dims."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    def _init_args(self):
        return self.loc, self.scale, self._event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def domain(self):
        return (
            constraints.real
            if self._event_dim == 0
            else constraints.independent(constraints.real, self._event_dim)
        )

    codomain = domain

    def __eq__(self, other):
        return (
            isinstance(other, AffineTransform)
            and _same_parameter(self.loc, other.loc)
            and _same_parameter(self.scale, other.scale)
        )

    __hash__ = None

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = ops.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = _sum_rightmost(result, self._event_dim)
            shape = shape[: len(shape) - self._event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return ops.broadcast_shapes(
            shape, tuple(getattr(self.loc, "shape", ())), tuple(getattr(self.scale, "shape", ()))
        )

    inverse_shape = forward_shape


def _tril_positions(n, diagonal):
    """Flat (row-major) positions of the entries of an n x n matrix on or below ``diagonal``,
    in torch.tril_indices order."""
    return [i * n + j for i in range(n) for j in range(n) if j - i <= diagonal]


def _vector_to_tril(vector, diagonal, n=None):
    """(..., m) -> (..., n, n) with the vector's entries below ``diagonal`` (row-major) and
    zeros elsewhere, by one gather (so gradients flow). n is derived from m for diagonal <= 0."""
    m = vector.shape[-1]
    if n is None:
        n = round((0.25 + 2 * m) ** 0.5 - 0.5 - diagonal)
    source = [m] * (n * n)  # index m is a zero appended to the vector
    for k, flat in enumerate(_tril_positions(n, diagonal)):
        source[flat] = k
    padded = ops.cat([vector, vector.new_zeros(tuple(vector.shape[:-1]) + (1,))], -1)
    index = ops.tensor(source, device=vector.device)
    return padded.index_select(-1, index).reshape(tuple(vector.shape[:-1]) + (n, n))


def _tril_to_vector(matrix, diagonal):
    """The entries of the (..., n, n) ``matrix`` below ``diagonal``, row-major."""
    n = matrix.shape[-1]
    index = ops.tensor(_tril_positions(n, diagonal), device=matrix.device)
    return matrix.reshape(tuple(matrix.shape[:-2]) + (n * n,)).index_select(-1, index)


class CorrCholeskyTransform(_Stateless):
    """A vector of n (n - 1) / 2 reals -> the Cholesky factor of an n x n correlation matrix:
    tanh of each entry, then stick-breaking along each row so that rows have unit norm.
    The log-det-Jacobian is that of x and the flattened strict lower triangle of y."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = finfo(x.dtype).eps
        r = _vector_to_tril(x.tanh().clamp(min=-1 + eps, max=1 - eps), diagonal=-1)
        remaining = (1 - r.pow(2)).sqrt().cumprod(-1)
        r = r + ops.eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * F.pad(remaining[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        left = F.pad((1 - (y * y).cumsum(-1))[..., :-1], [1, 0], value=1)
        t = _tril_to_vector(y, diagonal=-1) / _tril_to_vector(left, diagonal=-1).sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        left = _tril_to_vector(1 - (y * y).cumsum(-1), diagonal=-2)
        stick_breaking = 0.5 * left.log().sum(-1)
        tanh = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking + tanh

    def forward_shape(self, shape):
        _too_few_dims(shape, 1)
        m = shape[-1]
        n = round((0.25 + 2 * m) ** 0.5 + 0.5)
        if n * (n - 1) // 2 != m:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return Size(tuple(shape[:-1]) + (n, n))

    def inverse_shape(self, shape):
        _too_few_dims(shape, 2)
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        n = shape[-1]
        return Size(tuple(shape[:-2]) + (n * (n - 1) // 2,))


def _check_vector_shape(shape):
    _too_few_dims(shape, 1)
    return shape


class SoftmaxTransform(_Stateless):
    """Unconstrained vectors -> the simplex by exp and normalisation; not bijective (the
    inverse is the log, one of many preimages), and has no log-det-Jacobian."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    forward_shape = staticmethod(_check_vector_shape)
    inverse_shape = staticmethod(_check_vector_shape)


def _stick_offsets(k, like):
    """log(k), log(k - 1), ..., log(1): the shifts that make x = 0 map to the simplex centre."""
    return (k + 1 - like.new_ones(k).cumsum(-1)).log()


class StickBreakingTransform(_Stateless):
    """R^k -> the (k + 1)-simplex, bijectively: each sigmoid breaks off a fraction of what is
    left of the stick."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        z = _clipped_sigmoid(x - _stick_offsets(x.shape[-1], x))
        left = (1 - z).cumprod(-1)
        return F.pad(z, [0, 1], value=1) * F.pad(left, [1, 0], value=1)

    def _inverse(self, y):
        pieces = y[..., :-1]
        left = (1 - pieces.cumsum(-1)).clamp(min=finfo(y.dtype).tiny)
        return pieces.log() - left.log() + _stick_offsets(y.shape[-1] - 1, y)

    def log_abs_det_jacobian(self, x, y):
        shifted = x - _stick_offsets(x.shape[-1], x)
        return (-shifted + F.logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _too_few_dims(shape, 1)
        return Size(tuple(shape[:-1]) + (shape[-1] + 1,))

    def inverse_shape(self, shape):
        _too_few_dims(shape, 1)
        return Size(tuple(shape[:-1]) + (shape[-1] - 1,))


class LowerCholeskyTransform(_Stateless):
    """Square matrices -> lower-triangular with a positive (exponentiated) diagonal; the upper
    triangle is discarded, so it is not bijective and has no log-det-Jacobian."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_Stateless):
    """Square matrices -> positive definite ones, as L L^T of their LowerCholeskyTransform."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        from ..linalg import cholesky

        return LowerCholeskyTransform().inv(cholesky(y))


def _check_transforms(tseq):
    if not all(isinstance(t, Transform) for t in tseq):
        raise AssertionError("All elements of tseq must be Transform instances")


def _check_along(dim, value, expected, what):
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for tensor with {value.dim()} dimensions")
    if value.size(dim) != expected:
        raise AssertionError(
            f"size {value.size(dim)} along dim {dim} does not match the {expected} {what} of the transforms"
        )


class _Blockwise(Transform):
    """Transforms each applied to its own block of the input along ``dim``: ``_blocks`` splits
    a tensor, ``_join`` puts the pieces back (CatTransform: blocks of ``lengths``;
    StackTransform: single slices)."""

    def __init__(self, tseq, dim, cache_size):
        _check_transforms(tseq)
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = list(tseq), dim

    bijective = property(lambda self: all(t.bijective for t in self.transforms))

    def _map(self, value, method):
        pieces = self._blocks(value)
        return self._join([method(t)(piece) for t, piece in zip(self.transforms, pieces)])

    def _call(self, x):
        return self._map(x, lambda t: t)

    def _inverse(self, y):
        return self._map(y, lambda t: t.inv)


class CatTransform(_Blockwise):
    """``tseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim``, as torch.cat."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        super().__init__(tseq, dim, cache_size)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(
                f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})"
            )

    def _init_args(self):
        return self.transforms, self.dim, self.lengths

    @property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        return sum(self.lengths)

    def _blocks(self, value):
        _check_along(self.dim, value, self.length, "total length")
        starts = [sum(self.lengths[:i]) for i in range(len(self.lengths))]
        return [value.narrow(self.dim, s, n) for s, n in zip(starts, self.lengths)]

    def _join(self, pieces):
        return ops.cat(pieces, self.dim)

    def log_abs_det_jacobian(self, x, y):
        terms = []
        for t, x_i, y_i in zip(self.transforms, self._blocks(x), self._blocks(y)):
            terms.append(_sum_rightmost(t.log_abs_det_jacobian(x_i, y_i), self.event_dim - t.event_dim))
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        if dim < 0:
            return ops.cat(terms, dim)
        return sum(terms[1:], terms[0])

    @property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(_Blockwise):
    """``tseq[i]`` on the i-th slice along ``dim``, as torch.stack."""

    def __init__(self, tseq, dim=0, cache_size=0):
        super().__init__(tseq, dim, cache_size)

    def _init_args(self):
        return self.transforms, self.dim

    def _blocks(self, value):
        _check_along(self.dim, value, len(self.transforms), "number")
        return [value.select(self.dim, i) for i in range(value.size(self.dim))]

    def _join(self, pieces):
        return ops.stack(pieces, self.dim)

    def log_abs_det_jacobian(self, x, y):
        terms = [
            t.log_abs_det_jacobian(x_i, y_i)
            for t, x_i, y_i in zip(self.transforms, self._blocks(x), self._blocks(y))
        ]
        return ops.stack(terms, self.dim)

    @property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """x -> distribution.cdf(x) (to the unit interval); its log-det-Jacobian is the density."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    def _init_args(self):
        return (self.distribution,)

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
