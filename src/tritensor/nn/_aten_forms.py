"""The ``torch.<name>`` forms of nn ops whose ATen signature differs from ``nn.functional``'s
(``torch.embedding(weight, indices)``, ``torch.dropout(input, p, train)`` ...): thin argument
adapters, so the computation stays in one place."""
from __future__ import annotations

import inspect

from . import functional as F
from ._losses import kl_div_checked


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


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    """Channel dropout of a (N, C, ...) input: one draw per (sample, channel)."""
    return F._channel_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    return F._channel_dropout(input, p, train, True)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def _reduction(name, position, value):
    """ATen's reduction enum as nn.functional's string: 1 is 'mean', 2 'sum', any other int
    'none' (torch's Python default for these forms is 0)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}(): argument 'reduction' (position {position}) must be int, not "
                        f"{type(value).__name__}")
    return {1: "mean", 2: "sum"}.get(value, "none")


def _loss_form(name, *arguments, keyword_only=None, loss=None, **defaults):
    """``torch.<name>``: the functional ``loss`` (``F.<name>``) with ATen's positional arguments
    (``arguments`` required, then ``defaults``) and its integer ``reduction`` last (default 0
    unless listed as required), then ``keyword_only`` ones."""
    positional, keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(a, positional) for a in arguments]
    params += [inspect.Parameter(a, positional, default=v) for a, v in defaults.items()]
    if "reduction" not in arguments:
        params.append(inspect.Parameter("reduction", positional, default=0))
    params += [inspect.Parameter(a, keyword, default=v) for a, v in (keyword_only or {}).items()]
    signature = inspect.Signature(params)
    position = [p.name for p in params].index("reduction") + 1
    loss = loss or getattr(F, name)

    def form(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}(): {error}") from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        values["reduction"] = _reduction(name, position, values["reduction"])
        return loss(**values)

    form.__name__, form.__signature__ = name, signature
    form.__doc__ = f"torch.{name}: nn.functional.{name} with ATen's arguments (reduction 0/1/2)"
    return form


_LOSS_FORMS = [
    _loss_form("binary_cross_entropy_with_logits", "input", "target", weight=None, pos_weight=None),
    _loss_form("kl_div", "input", "target", keyword_only={"log_target": False}, loss=kl_div_checked),
    _loss_form("triplet_margin_loss", "anchor", "positive", "negative", margin=1.0, p=2.0, eps=1e-6,
               swap=False),
    _loss_form("cosine_embedding_loss", "input1", "input2", "target", margin=0.0),
    _loss_form("hinge_embedding_loss", "input", "target", margin=1.0),
    _loss_form("margin_ranking_loss", "input1", "input2", "target", margin=0.0),
    _loss_form("poisson_nll_loss", "input", "target", "log_input", "full", "eps", "reduction"),
]


FORMS = {f.__name__: f for f in [
    dropout, dropout_, embedding, layer_norm, batch_norm, fill, alpha_dropout, alpha_dropout_,
    feature_alpha_dropout, feature_alpha_dropout_, feature_dropout, feature_dropout_, instance_norm,
    *_LOSS_FORMS]}
