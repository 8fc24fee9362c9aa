"""Margin and embedding losses (``torch.nn.functional``'s ranking, hinge and multi-label forms).

Each is composed of core ops as torch composes (or specifies) it, so autograd, both devices
and double backward come from the ops; the checks and messages are torch's.
"""
from __future__ import annotations

from .. import dtypes as _dt
from .. import ops
from ._losses import _check_reduction, _reduce, legacy_reduction, pairwise_distance
from ..ops.elementwise import _torch_name, not_implemented_for


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` (+1/-1) says which should rank higher."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not input1.dim() == input2.dim() == target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1 (other target
    values take both terms, as torch's formula does)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not input.is_floating_point():  # torch computes integer inputs in their own dtype
        margin = int(margin)
    zero = ops.zeros_like(input)
    loss = ops.where(target != 1, (margin - input).clamp_min(0), zero) + ops.where(target != -1, input, zero)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``, the two-class logistic loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not input.is_floating_point():
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{_torch_name(input.dtype)}")
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the mean over classes of each class's logistic loss (independent labels)."""
    from .functional import logsigmoid
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    dim = target.dim()
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != dim + 1 or input2.dim() != dim + 1:
        raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    epsilon = 1e-12  # torch's: keeps a zero vector's cosine finite
    norms = ((input1 * input1).sum(dim) + epsilon) * ((input2 * input2).sum(dim) + epsilon)
    cos = (input1 * input2).sum(dim) / norms.sqrt()
    zero = ops.zeros_like(cos)
    loss = ops.where(target == 1, 1 - cos, zero) + ops.where(target == -1, (cos - margin).clamp_min(0), zero)
    return _reduce(loss, reduction)


def _class_target(input, target, name):
    """(input as (N, C), target as (N,)) for the multi-class margin losses, with torch's checks."""
    if target.dtype is not _dt.int64:
        raise RuntimeError(f"expected scalar type Long but found {_torch_name(target.dtype)}")
    if input.dim() > 2 or (input.dim() == 1 and input.numel() == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    rows = input.reshape(-1, input.shape[-1] if input.dim() else 1)
    if target.dim() > 1 or target.numel() != rows.shape[0]:
        raise RuntimeError(f"{name}: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{rows.shape[0]}], but got "
                           f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    return rows, target.reshape(-1)


def _in_range(target, classes, message):
    if target.numel() and bool(((target < 0) | (target >= classes)).any()):
        raise RuntimeError(message)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Per sample, the mean over the other classes ``i`` of ``max(0, margin - x[y] + x[i])^p``
    (times ``weight[y]``): the multi-class hinge loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_reduction(reduction)
    if not input.is_floating_point() or input.dtype in (_dt.float16, _dt.bfloat16):
        raise not_implemented_for(f"multi_margin_loss_{input.device.type}_kernel", input.dtype)
    rows, labels = _class_target(input, target, "multi_margin_loss")
    classes = rows.shape[1]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    _in_range(labels, classes, "target out of range")
    picked = rows.gather(1, labels.unsqueeze(1))
    hinge = (margin - picked + rows).clamp_min(0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.index_select(0, labels).unsqueeze(1)
    others = labels.unsqueeze(1) != ops.arange(classes, device=labels.device)
    loss = (hinge * others).sum(1) / classes
    if reduction == "none" and target.dim() == 0:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, ``sum over its labels j and non-labels i of max(0, 1 - (x[j] - x[i])) / C``;
    ``target`` lists the labels' indices, ended by the first -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.dtype is not _dt.int64:
        raise RuntimeError(f"expected scalar type Long but found {_torch_name(target.dtype)}")
    if input.dim() > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    classes = input.shape[-1] if input.dim() else 1
    rows, labels = input.reshape(-1, classes), target.reshape(-1, classes)
    _in_range(labels + 1, classes + 1, "argument #2 'target' is out of range")
    listed = (labels != -1).long().cumprod(1).bool()  # the entries before the first -1
    safe = labels.clamp_min(0)
    counts = ops.zeros(rows.shape, dtype=_dt.int64, device=rows.device).scatter_add(1, safe, listed.long())
    is_label = counts > 0
    pair = (1 - rows.gather(1, safe).unsqueeze(2) + rows.unsqueeze(1)).clamp_min(0)  # [n, entry j, class i]
    pair = pair * (listed.unsqueeze(2) & ~is_label.unsqueeze(1))
    loss = pair.sum((1, 2)) / classes
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for any distance ``d``."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number "
                           f"of dimensions, but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and "
                           f"negative {negative.dim()}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    to_positive, to_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        to_negative = ops.minimum(to_negative, distance(positive, negative))
    return _reduce((margin + to_positive - to_negative).clamp_min(0), reduction)
