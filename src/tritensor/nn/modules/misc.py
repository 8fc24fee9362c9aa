"""Shape and regularisation modules: ``Flatten``, ``Unflatten``, the stateless wrappers of
one functional (``PixelShuffle``, ``ChannelShuffle``, ``Fold`` ...), the dropouts, ``Embedding``."""
from __future__ import annotations

import inspect

from ... import autograd, ops
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise NotImplementedError("Unflatten with a named dim is not supported")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be tuple of ints, but found type {}".format(
                type(unflattened_size).__name__))
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _signature(*required, **optional):
    """The ``__init__`` signature of a ``_Stateless`` module (its arguments, in order)."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(name, kind) for name in required]
                             + [inspect.Parameter(name, kind, default=v) for name, v in optional.items()])


class _Stateless(Module):
    """A module over one functional with fixed arguments: ``__init__`` takes ``_signature``,
    ``forward(input)`` is ``_fn(input, *those values)``, and the repr shows them as
    ``name=value``, as torch's modules do."""

    _fn = None
    _signature = _signature()

    def __init__(self, *args, **kwargs):
        super().__init__()
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}.__init__(): {error}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)

    def forward(self, input):
        return type(self)._fn(input, *(getattr(self, name) for name in self._signature.parameters))

    def extra_repr(self):
        return ", ".join(f"{name}={getattr(self, name)}" for name in self._signature.parameters)


class PixelShuffle(_Stateless):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    _fn, _signature = staticmethod(F.pixel_shuffle), _signature("upscale_factor")


class PixelUnshuffle(_Stateless):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    _fn, _signature = staticmethod(F.pixel_unshuffle), _signature("downscale_factor")


class ChannelShuffle(_Stateless):
    """Interleaves the channels of ``groups`` groups."""
    _fn, _signature = staticmethod(F.channel_shuffle), _signature("groups")


class Fold(_Stateless):
    """Sums sliding-block columns back into an image (the adjoint of ``Unfold``)."""
    _fn = staticmethod(F.fold)
    _signature = _signature("output_size", "kernel_size", dilation=1, padding=0, stride=1)


class Unfold(_Stateless):
    """Extracts sliding blocks of an image as columns."""
    _fn, _signature = staticmethod(F.unfold), _signature("kernel_size", dilation=1, padding=0, stride=1)


class LocalResponseNorm(_Stateless):
    """Normalises each element over ``size`` neighbouring channels (AlexNet's local response norm)."""
    _fn = staticmethod(F.local_response_norm)
    _signature = _signature("size", alpha=1e-4, beta=0.75, k=1.0)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Dropout(Module):
    """Randomly zeroes elements with probability ``p`` in training mode; identity in eval. The
    variants below differ only in their functional (``_fn``)."""

    _fn = staticmethod(F.dropout)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zeroes whole channels of (N, C, L) / (C, L) inputs in training mode."""
    _fn = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) inputs in training mode."""
    _fn = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """Zeroes whole channels of (N, C, D, H, W) inputs in training mode."""
    _fn = staticmethod(F.dropout3d)


class AlphaDropout(Dropout):
    """Dropout that keeps the mean and variance of SELU activations, in training mode."""
    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels, in training mode."""
    _fn = staticmethod(F.feature_alpha_dropout)


class _Table(Module):
    """A ``weight`` table of ``num_embeddings`` rows of size ``embedding_dim`` (init N(0, 1);
    the ``padding_idx`` row starts at zero), shared by Embedding and EmbeddingBag."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                 sparse, _weight, _freeze, device, dtype):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = F._padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(ops.empty((num_embeddings, embedding_dim), device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with autograd.no_grad():
                self.weight[self.padding_idx].fill_(0)

    @staticmethod
    def _pretrained_shape(embeddings):
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        return embeddings.shape


class Embedding(_Table):
    """A lookup table of ``num_embeddings`` rows of size ``embedding_dim``; the ``padding_idx``
    row receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, _freeze, device, dtype)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        rows, cols = cls._pretrained_shape(embeddings)
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)


class EmbeddingBag(_Table):
    """Sums, means or maxima of bags of embedding rows (``F.embedding_bag``); indices equal to
    ``padding_idx`` belong to no bag."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, False, device, dtype)
        self.mode, self.include_last_offset = mode, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        rows, cols = cls._pretrained_shape(embeddings)
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
