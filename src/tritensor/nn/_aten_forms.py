"""The ``torch.<name>`` forms of nn ops whose ATen signature differs from ``nn.functional``'s
(``torch.embedding(weight, indices)``, ``torch.dropout(input, p, train)`` ...): thin argument
adapters, so the computation stays in one place."""
from __future__ import annotations

from . import functional as F


def dropout(input, p, train):
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    return F.dropout(input, p, train, inplace=True)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """ATen's order (weight first); its padding_idx -1 means none."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def fill(input, value):
    """A copy of ``input`` filled with ``value`` (torch.fill, the functional fill_)."""
    return input.clone().fill_(value)


FORMS = {f.__name__: f for f in (dropout, dropout_, embedding, layer_norm, batch_norm, fill)}
