"""``Distribution``: batch and event shapes, sampling, argument and sample validation, as torch's."""

from __future__ import annotations

import numbers

from .. import autograd, dtypes as _dt, ops
from ..size import Size
from ..tensor import Tensor
from . import constraints

_validate_default = __debug__


def broadcast_all(*values):
    """Numbers and tensors broadcast to tensors of one shape (numbers take the tensors' dtype and
    device, or the default dtype)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
            "implementing __torch_function__."
        )
    like = tensors[0] if tensors else None
    dtype = like.dtype if like is not None and like.is_floating_point() else _dt.get_default_dtype()
    device = like.device if like is not None else None
    as_tensors = [v if isinstance(v, Tensor) else ops.tensor(v, dtype=dtype, device=device) for v in values]
    return ops.broadcast_tensors(*as_tensors)


class Distribution:
    """Subclasses set ``arg_constraints``, ``support`` and the methods they define; the
    parameters named in ``arg_constraints`` and present on the instance are validated."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        global _validate_default
        if value not in (True, False):
            raise ValueError
        _validate_default = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = _validate_default if validate_args is None else validate_args
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                if name not in self.__dict__ and isinstance(getattr(type(self), name, None), lazy_property):
                    continue  # given the other parametrisation (probs vs logits)
                value = getattr(self, name)
                if not bool(constraint.check(value).all()):
                    raise ValueError(
                        f"Expected parameter {name} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                        f"{constraint!r}, but found invalid values:\n{value}"
                    )

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        with autograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} does not support reparameterized sampling")

    def expand(self, batch_shape, _instance=None):
        """A view of this distribution with a larger batch shape: every batch-shaped tensor (and
        nested distribution) on the instance is ``expand``-ed, nothing is copied; the expanded
        distribution is not re-validated, as in torch."""
        batch_shape = Size(batch_shape)
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        old_batch, ndim = tuple(self._batch_shape), len(self._batch_shape)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and tuple(value.shape[:ndim]) == old_batch:
                new.__dict__[name] = value.expand(tuple(batch_shape) + tuple(value.shape[ndim:]))
            elif isinstance(value, Distribution) and value.batch_shape == self._batch_shape:
                new.__dict__[name] = value.expand(batch_shape)
        new._batch_shape = batch_shape
        return new

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    def _validate_sample(self, value):
        if not self._validate_args:
            return
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        self._validate_sample_shape(Size(value.shape))
        if not bool(self.support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                f"within the support ({self.support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{value}"
            )

    def _validate_sample_shape(self, shape):
        """The value's trailing dims must be the event shape, the rest broadcast with the batch."""
        event = tuple(self._event_shape)
        if tuple(shape[len(shape) - len(event):]) != event:
            raise ValueError(
                f"The right-most size of value must match event_shape: {shape} vs {self._event_shape}.")
        expected = Size(tuple(self._batch_shape) + event)
        for got, want in zip(reversed(tuple(shape)), reversed(tuple(expected))):
            if got != 1 and want != 1 and got != want:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {shape} vs {expected}.")

    def __repr__(self):
        shown = [name for name in self.arg_constraints if name in self.__dict__]
        parts = []
        for name in shown:
            value = self.__dict__[name]
            parts.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(parts)})"


class lazy_property:
    """A parameter computed from the other parametrisation on first use, then kept on the
    instance (so it shows in the repr from then on, as in torch)."""

    def __init__(self, compute):
        self.compute, self.__doc__ = compute, compute.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with autograd.enable_grad():
            value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value


def _batch_of(params, tensors):
    """torch's rule: a batch shape of () when every given parameter is a Python number."""
    return Size() if all(isinstance(p, numbers.Number) for p in params) else tensors[0].size()


class _LocScale(Distribution):
    """Real-valued families with a location and a positive scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_of((loc, scale), (self.loc,)), validate_args=validate_args)

    @property
    def mode(self):
        return self.loc
