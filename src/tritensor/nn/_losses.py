"""Loss functions (the ``nn.functional`` forms); ``nn.modules.loss`` wraps them as modules.

Losses whose torch grad_fn is a single fused node (``MseLossBackward0``, ``NllLossBackward0``,
``BinaryCrossEntropyBackward0`` ...) are ``Function`` subclasses here: the forward computes
the reduced loss in one go and the backward writes the closed-form gradient in tensor
ops (so double backward still works). Losses that torch itself composes (l1, kl_div,
triplet, label smoothing, probability targets) are composed here the same way.
"""
from __future__ import annotations

import math
import warnings

from .. import dtypes as _dt
from .. import ops
from . import _fused
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops._autocast import autocast_call, state as _amp
from ..ops import elementwise as ew
from ..ops._common import common_device, raise_if_any
from ..ops.elementwise import _torch_name, not_implemented_for

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction):
    """Map the deprecated ``size_average``/``reduce`` flags to a reduction string, like torch."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='{}' instead."
                  .format("mean" if size_average in (None, True) and reduce in (None, True) else
                          "sum" if reduce in (None, True) else "none"), stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _unreduce(grad, shape, count, reduction):
    """Gradient of ``_reduce`` w.r.t. its elementwise input: broadcast (and scale for mean)."""
    if reduction == "none":
        return grad
    if reduction == "mean":
        grad = grad / count
    return grad.expand(shape)


def _warn_size(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


# ---------------------------------------------------------------------------- pointwise losses
class _DifferenceLoss(Function):
    """A loss ``f(input - target)`` elementwise, then reduced. Subclasses name torch's kernels
    (``kernels``: the pointwise loss and its gradient, one pass each, ``kernels/*/elementwise.py``)
    and give ``f'`` in tensor ops for a differentiable backward (create_graph)."""

    kernels = ("", "")  # (pointwise loss, its gradient times the loss's) elementwise kernel names
    #: torch's kernel writes the loss in the input's dtype and its backward takes only a target
    #: of that dtype (huber_loss), instead of promoting the two
    input_dtype = False

    @staticmethod
    def derivative(d, param):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, input, target, reduction, param):
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.param = reduction, param
        params = () if param is None else (param,)
        loss = ew.compute(cls.kernels[0], (input, target) + params, ew.Rule.PROMOTE)
        return _reduce(loss.to(input.dtype) if cls.input_dtype else loss, reduction)

    @classmethod
    def backward(cls, ctx, grad):
        input, target = ctx.saved_tensors
        if cls.input_dtype and target.dtype is not input.dtype:
            found, expected = _torch_name(target.dtype), _torch_name(input.dtype)
            raise RuntimeError(f"Found dtype {found} but expected {expected} (the backward of "
                               f"{cls.node_name[:-len('Backward0')]} takes a target of the input's dtype)")
        if grad_mode.is_grad_enabled():
            # create_graph: the difference again, recorded, so that the gradient is
            # differentiable in input and target
            d = input - target
            g = _unreduce(grad, d.shape, d.numel(), ctx.reduction) * cls.derivative(d, ctx.param)
            return g, -g, None, None
        if ctx.reduction == "mean":
            grad = grad / input.numel()
        params = () if ctx.param is None else (ctx.param,)
        g = ew.compute(cls.kernels[1], (input, target, grad) + params, ew.Rule.PROMOTE)
        return g, (-g if ctx.needs_input_grad[1] else None), None, None


class _MseLoss(_DifferenceLoss):
    node_name = "MseLossBackward0"
    kernels = ("squared_error", "squared_error_backward")

    @staticmethod
    def derivative(d, param):
        return 2 * d


class _HuberLoss(_DifferenceLoss):
    node_name = "HuberLossBackward0"
    kernels = ("huber", "huber_backward")
    input_dtype = True

    @staticmethod
    def derivative(d, delta):
        return d.clamp(-delta, delta)


class _SmoothL1Loss(_DifferenceLoss):
    node_name = "SmoothL1LossBackward0"
    kernels = ("smooth_l1", "smooth_l1_backward")

    @staticmethod
    def derivative(d, beta):
        return (d / beta).clamp(-1, 1)


def _difference_loss(cls, input, target, reduction, param, name):
    _check_reduction(reduction)
    if not input.dtype.is_floating_point:  # torch's kernels are for floats only
        raise not_implemented_for(f"{name.replace('_loss', '')}_{input.device.type}", input.dtype)
    _warn_size(input, target, name)
    if input._shape != target._shape:
        input, target = ops.broadcast_tensors(input, target)
    return cls.apply(input, target, reduction, param)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if _amp.on:
        return autocast_call("mse_loss", mse_loss, input, target, size_average, reduce, reduction, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        raise NotImplementedError("mse_loss(weight=...) is not supported yet")
    return _difference_loss(_MseLoss, input, target, reduction, None, "mse_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if _amp.on:
        return autocast_call("huber_loss", huber_loss, input, target, reduction, delta, weight)
    if weight is not None:
        raise NotImplementedError("huber_loss(weight=...) is not supported yet")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    return _difference_loss(_HuberLoss, input, target, reduction, float(delta), "huber_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if _amp.on:
        return autocast_call("smooth_l1_loss", smooth_l1_loss, input, target, size_average, reduce, reduction,
                             beta)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:  # torch falls back to l1_loss
        return l1_loss(input, target, reduction=reduction)
    return _difference_loss(_SmoothL1Loss, input, target, reduction, float(beta), "smooth_l1_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if _amp.on:
        return autocast_call("l1_loss", l1_loss, input, target, size_average, reduce, reduction, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if weight is not None:
        raise NotImplementedError("l1_loss(weight=...) is not supported yet")
    _warn_size(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


# ---------------------------------------------------------------------------- binary cross entropy
def _check_same_size(input, target, message):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(message.format(target=target.shape, input=input.shape))


def _expand_weight(weight, shape):
    return None if weight is None else weight.expand(ops.broadcast_shapes(tuple(weight.shape), tuple(shape)))


class _BinaryCrossEntropy(Function):
    """``-w (y log x + (1 - y) log(1 - x))`` with logs clamped at -100, as in torch."""

    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        raise_if_any(~((input >= 0) & (input <= 1)), RuntimeError,
                     "all elements of input should be between 0 and 1")  # on 'cuda': at the next wait
        raise_if_any(~((target >= 0) & (target <= 1)), RuntimeError,
                     "all elements of target should be between 0 and 1")
        log_x = input.log().clamp_min(-100)
        log_1mx = (1 - input).log().clamp_min(-100)
        loss = -(target * log_x + (1 - target) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.saved = (input, target, weight, log_x, log_1mx)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, log_x, log_1mx = ctx.saved
        g = _unreduce(grad, input.shape, input.numel(), ctx.reduction)
        if weight is not None:
            g = g * weight
        grad_input = g * (input - target) / ((1 - input) * input).clamp_min(1e-12)
        grad_target = g * (log_1mx - log_x) if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    if _amp.on:
        return autocast_call("binary_cross_entropy", binary_cross_entropy, input, target, weight,
                             size_average, reduce, reduction)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_constant("binary_cross_entropy", weight=weight)
    _check_same_size(input, target, "Using a target size ({target}) that is different to the input size "
                                    "({input}) is deprecated. Please ensure they have the same size.")
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_torch_name(target.dtype)} but expected {_torch_name(input.dtype)}")
    return _BinaryCrossEntropy.apply(input, target, _expand_weight(weight, target.shape), reduction)


class _BinaryCrossEntropyWithLogits(Function):
    """``(1 - y) x + (1 + (pw - 1) y) softplus(-x)``, computed stably; times weight. Inputs of
    one dtype take one kernel pass each way (``bce_with_logits``; a missing pos_weight is 1,
    which leaves the terms it scales exact). Mixed dtypes take tensor ops, as torch's composite
    does (softplus in the input's dtype, the rest promoted), and so does create_graph."""

    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        fused = target.dtype is input.dtype and (pos_weight is None or pos_weight.dtype is input.dtype)
        if fused:
            loss = ew.compute("bce_with_logits", (input, target, 1.0 if pos_weight is None else pos_weight),
                              ew.Rule.PROMOTE)
        else:  # torch's composite: log_sigmoid in the input's dtype, the loss in the target's
            log_sigmoid = -ops.softplus(-input)
            if pos_weight is not None:
                log_sigmoid = (log_sigmoid * ((pos_weight - 1) * target + 1)).to(input.dtype)
            loss = (((1 - target) * input).to(target.dtype) - log_sigmoid).to(target.dtype)
        if weight is not None:
            loss = loss * weight
        ctx.saved = (input, target, weight, pos_weight)
        ctx.reduction, ctx.fused = reduction, fused
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, pos_weight = ctx.saved
        g = _unreduce(grad, input.shape, input.numel(), ctx.reduction)
        if weight is not None:
            g = g * weight
        if ctx.fused and not grad_mode.is_grad_enabled():
            weights = 1.0 if pos_weight is None else pos_weight
            grad_input = ew.compute("bce_with_logits_backward", (input, target, weights, g), ew.Rule.PROMOTE)
        else:  # recorded under create_graph
            s = input.sigmoid()
            grad_input = g * (s - target) if pos_weight is None else \
                g * (((pos_weight - 1) * target + 1) * s - pos_weight * target)
        if not ctx.needs_input_grad[1]:
            grad_target = None
        elif pos_weight is None:
            grad_target = -g * input
        else:
            grad_target = g * ((pos_weight - 1) * _softplus_neg(input) - input)
        return grad_input, grad_target, None, None, None


def _softplus_neg(x):
    """softplus(-x) = max(-x, 0) + log1p(exp(-|x|)), which never overflows."""
    return (-x).clamp_min(0) + (-x.abs()).exp().log1p()


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    if _amp.on:
        return autocast_call("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits, input,
                             target, weight, size_average, reduce, reduction, pos_weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_constant("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    _check_same_size(input, target, "Target size ({target}) must be the same as input size ({input})")
    if not target.dtype.is_floating_point:  # torch computes into a tensor of target's dtype
        raise RuntimeError(f"result type {_torch_name(input.dtype)} can't be cast to the desired output type "
                           f"{_torch_name(target.dtype)}")
    return _BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


# ---------------------------------------------------------------------------- nll / cross entropy
def _class_view(t, ndim):
    """A (C,) per-class tensor viewed to broadcast along dim 1 of an ``ndim``-d input."""
    return t.view((1, -1) + (1,) * (ndim - 2))


def _check_constant(function, **arguments):
    """torch's losses do not differentiate their weights: a weight requiring grad is an error."""
    if grad_mode.enabled:
        for name, t in arguments.items():
            if t is not None and t.requires_grad:
                raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                                   f"argument '{name}'. This input cannot have requires_grad True.")


def _check_nll_args(input, target, weight, kernel="nll_loss_out_frame"):
    _check_constant("nll_loss_forward", weight=weight)
    common_device(input, target, weight)  # labels left on the CPU: torch's device error
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if not input.dtype.is_floating_point:
        raise not_implemented_for(kernel, input.dtype)
    if target.dtype is not _dt.int64:
        raise RuntimeError(f"expected scalar type Long but found {_torch_name(target.dtype)}")
    batched = input.dim() > 1
    if batched and target.dim() + 1 != input.dim() and not (input.dim() == 2 and target.dim() <= 1):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got "
                           f"{list(target.shape)}")
    if input.dim() == 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not batched and target.dim() != 0:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if batched and input.shape[0] != (target.shape[0] if target.dim() else 1):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 1}).")
    if batched and input.dim() > 2 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, target: {list(target.shape)})")
    n_classes = input.shape[1] if batched else input.shape[0]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(input.dtype)} but found {_torch_name(weight.dtype)}")



def _target_mask(input, target, weight, ignore_index):
    """(N, C, ...) float mask: the target class's weight at each position, 0 elsewhere/ignored.

    Out-of-range targets (other than ``ignore_index``) raise IndexError, like torch on the CPU
    (on 'cuda' at the next call that waits for the device, like its device-side assert).
    """
    n_classes = input.shape[1]
    valid = target != ignore_index
    if target.numel():
        bad = valid & ((target < 0) | (target >= n_classes))
        raise_if_any(bad, IndexError, "Target {} is out of bounds.", target)
    classes = _class_view(ops.arange(n_classes, device=input.device), input.dim())
    mask = ((target.unsqueeze(1) == classes) & valid.unsqueeze(1)).to(input.dtype)
    return mask if weight is None else mask * _class_view(weight.to(input.dtype), input.dim())


class _NllLoss(Function):
    """``-sum_c w[c] [target == c] input[:, c]``, reduced (mean divides by the total weight)."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        t = target.reshape(1) if unbatched else target
        wmask = _target_mask(x, t, weight, ignore_index)
        loss = -(x.masked_fill(wmask == 0, 0) * wmask).sum(1)  # -inf (masked) logits elsewhere stay out
        total = wmask.sum()
        ctx.saved = (wmask, total, loss.shape, unbatched, reduction)
        if reduction == "mean":
            return loss.sum() / total
        if reduction == "sum":
            return loss.sum()
        return loss.squeeze(0) if unbatched else loss

    @staticmethod
    def backward(ctx, grad):
        wmask, total, loss_shape, unbatched, reduction = ctx.saved
        if reduction == "none":
            g = grad.reshape(loss_shape)
        else:
            if reduction == "mean":  # all targets ignored: total and the mask are 0; keep grads 0 like torch
                grad = grad / (total + (total == 0).to(total.dtype))
            g = grad.expand(loss_shape)
        grad_input = -wmask * g.unsqueeze(1)
        return (grad_input.squeeze(0) if unbatched else grad_input), None, None, None, None


class _NllLoss2D(_NllLoss):
    node_name = "NllLoss2DBackward0"


def _nll(input, target, weight, ignore_index, reduction):
    """Dispatch like torch's nll_loss_nd, so grad_fn names match: (N, C) and (C,) inputs use
    NllLoss, 4-d inputs NllLoss2d, other ranks NllLoss2d on an (N, C, 1, -1) view."""
    if input.dim() <= 2:
        return _NllLoss.apply(input, target, weight, ignore_index, reduction)
    if input.dim() == 4:
        return _NllLoss2D.apply(input, target, weight, ignore_index, reduction)
    n, c = input.shape[0], input.shape[1]
    out = _NllLoss2D.apply(input.reshape(n, c, 1, -1), target.reshape(n, 1, -1), weight, ignore_index,
                           reduction)
    return out.view(target.shape) if reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    if _amp.on:
        return autocast_call("nll_loss", nll_loss, input, target, weight, size_average, ignore_index, reduce,
                             reduction)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_nll_args(input, target, weight)
    return _nll(input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 for unbatched input) followed by nll_loss;
    ``target`` holds class indices (int64) or class probabilities (same shape, float)."""
    if _amp.on:
        return autocast_call("cross_entropy", cross_entropy, input, target, weight, size_average,
                             ignore_index, reduce, reduction, label_smoothing)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    if target.is_floating_point():
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim)
    if tuple(target.shape) == tuple(input.shape) and input.dim() > 1:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_torch_name(target.dtype)}")
    _check_nll_args(input, target, weight, "log_softmax_lastdim_kernel_impl")
    kernel = _fused.CROSS_ENTROPY.get(input.device.type)
    if kernel is not None and input.dim() == 2:
        cls = _FusedCrossEntropy if label_smoothing == 0 else _FusedCrossEntropySmoothed
        return cls.apply(input, target, weight, ignore_index, reduction, float(label_smoothing), kernel)
    logp = ops.log_softmax(input, class_dim)
    nll = _nll(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    return _label_smoothing(logp, target, weight, ignore_index, reduction, label_smoothing, class_dim, nll)


class _FusedCrossEntropy(Function):
    """Cross entropy over class indices of a 2-d input in one fused kernel pass each way
    (see ``kernels/numba/cross_entropy.py``). Named like the node torch returns on top."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, eps, kernel):
        x = input if input.dtype in kernel.dtypes else input.float()  # fp32 accumulation
        w = None if weight is None else weight.to(x.dtype).contiguous()
        loss, total, lse = kernel.forward(x, target, w, ignore_index, eps, reduction)
        ctx.saved = (x, target, w, lse, total, ignore_index, reduction, eps, kernel)
        return loss if loss.dtype is input.dtype else loss.to(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, target, w, lse, total, ignore_index, reduction, eps, kernel = ctx.saved
        n, n_classes = x._shape
        g = grad if grad.dtype is x.dtype else grad.to(x.dtype)  # per row for 'none', else one value
        if grad_mode.is_grad_enabled():  # create_graph: the same formula in differentiable tensor ops
            g = g / total if reduction == "mean" else g
            g = g if reduction == "none" else g.expand(n)
            return _cross_entropy_grad(x, target, w, ignore_index, eps, g), None, None, None, None, None, None
        # W only matters with label smoothing: no device read otherwise
        total_weight = float(w.sum()) if w is not None and eps else float(n_classes)
        grad_x = kernel.backward(x, target, w, ignore_index, eps, lse, g, total_weight, total)
        return grad_x, None, None, None, None, None, None


class _FusedCrossEntropySmoothed(_FusedCrossEntropy):
    node_name = "AddBackward0"  # torch composes label smoothing and returns the final add


def _cross_entropy_grad(x, target, weight, ignore_index, eps, g):
    """d(loss)/dx = g * ((1 - eps) (w_t p - w_t onehot) + eps / C (W p - w)) on non-ignored rows."""
    n_classes = x.shape[1]
    p = ops.softmax(x, 1)
    wmask = _target_mask(x, target, weight, ignore_index)
    w_t = wmask.sum(1, keepdim=True)
    out = (1 - eps) * (p * w_t - wmask)
    if eps:
        keep = (target != ignore_index).to(x.dtype).unsqueeze(1)
        w = ops.ones(n_classes, dtype=x.dtype, device=x.device) if weight is None else weight
        out = out + (eps / n_classes) * (p * w.sum() - w) * keep
    return out * g.unsqueeze(1)


def _label_smoothing(logp, target, weight, ignore_index, reduction, eps, class_dim, nll):
    """torch's formula: (1 - eps) * nll + eps / C * (uniform-target loss), ignoring ignore_index."""
    n_classes = logp.shape[class_dim]
    keep = (target != ignore_index).to(logp.dtype)
    if weight is not None:
        wview = weight.view([-1 if d == class_dim else 1 for d in range(logp.dim())])
        smooth = -(logp * wview).sum(class_dim) * keep
    else:
        smooth = -logp.sum(class_dim) * keep
    if reduction == "mean":
        if weight is not None:
            safe = (target * (target != ignore_index).to(target.dtype))
            denom = (_class_weights(weight, safe, logp.dtype) * keep).sum()
        else:
            denom = keep.sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - eps) * nll + smooth * (eps / n_classes)


def _class_weights(weight, target, dtype):
    """weight[target] elementwise, via a one-hot product (no gather needed)."""
    classes = ops.arange(weight.numel(), device=target.device)
    onehot = (target.unsqueeze(-1) == classes).to(dtype)
    return (onehot * weight.to(dtype)).sum(-1)


def _cross_entropy_probs(input, target, weight, reduction, eps, class_dim):
    if tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                           f"({target.shape[0] if target.dim() else 1}).")
    n_classes = input.shape[class_dim]
    logp = ops.log_softmax(input, class_dim)
    if eps > 0:
        target = target * (1 - eps) + eps / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * weight.view([-1 if d == class_dim else 1 for d in range(input.dim())])
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    return _DivScalar.apply(-prod.sum(), input.numel() / n_classes)


class _DivScalar(Function):
    """Division by a Python number as torch's C++ code does it (grad_fn ``DivBackward1``)."""

    node_name = "DivBackward1"

    @staticmethod
    def forward(ctx, input, other):
        ctx.other = other
        return input / other

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.other, None


# ---------------------------------------------------------------------------- kl / triplet
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    return kl_div_checked(input, target, reduction, log_target)


def kl_div_checked(input, target, reduction, log_target):
    """kl_div of a checked reduction, without the functional's warning (torch.kl_div has none)."""
    if _amp.on:
        return autocast_call("kl_div", kl_div_checked, input, target, reduction, log_target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = ops.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    dim = max(x1.dim(), x2.dim()) - 1
    return ops.norm(x1 - x2 + eps, p, dim, keepdim)


class _Pdist(Function):
    """Distances of the row pairs (i, j), i < j; the gradient is torch's: each pair's norm
    derivative, zero where a difference or a distance is zero, every tied maximum of p = inf
    taking the whole gradient (where the norm's own backward would share it)."""

    node_name = "PdistBackward0"

    @staticmethod
    def _differences(input):
        first, second = ops.triu_indices(input.shape[0], input.shape[0], 1, device=input.device)
        return first, second, input.index_select(0, first) - input.index_select(0, second)

    @staticmethod
    def forward(ctx, input, p):
        ctx.save_for_backward(input)
        ctx.p = p
        return ops.norm(_Pdist._differences(input)[2], p, 1)

    @staticmethod
    def backward(ctx, grad):
        input, = ctx.saved_tensors
        p = ctx.p
        first, second, diff = _Pdist._differences(input)
        dist = ops.norm(diff, p, 1, keepdim=True)
        if p == 0:
            slope = ops.zeros_like(diff)
        elif p == 1:
            slope = diff.sign()
        elif p == math.inf:
            slope = diff.sign() * (diff.abs() == dist).to(diff.dtype)
        else:
            slope = diff.sign() * (diff.abs() / dist) ** (p - 1)
            slope = ops.where((diff == 0) | (dist == 0), 0.0, slope)
        pair_grad = slope * grad.unsqueeze(1)
        return ops.zeros_like(input).index_add(0, first, pair_grad).index_add(0, second, -pair_grad), None


def pdist(input, p=2.0):
    """The p-norm distances between the rows of an (N, M) input, pairs (i, j) with i < j in row
    order: the upper triangle of ``cdist(input, input)`` as a vector of N (N - 1) / 2."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return _Pdist.apply(input, p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    if _amp.on:
        return autocast_call("triplet_margin_loss", triplet_margin_loss, anchor, positive, negative, margin,
                             p, eps, swap, size_average, reduce, reduction)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number "
                           f"of dimensions, but got: anchor {a}D, positive {pos}D, and negative {neg}D "
                           "inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = ops.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    if _amp.on:
        return autocast_call("cosine_similarity", cosine_similarity, x1, x2, dim, eps)
    # each side over its norm clamped at eps, as torch: a zero vector gets a finite gradient
    # (a product of norms, or the square root of a sum of squares, differentiates to nan there)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy", "kl_div", "pairwise_distance",
           "triplet_margin_loss", "cosine_similarity"]
