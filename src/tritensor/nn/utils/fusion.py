"""``tritensor.nn.utils.fusion``: fold an eval-mode BatchNorm into the preceding conv or linear.

In eval mode BatchNorm is the affine map ``y = (x - mean) * w / sqrt(var + eps) + b``, so it
can be absorbed into the previous layer's weight (scaled per output channel) and bias.
"""
from __future__ import annotations

import copy

from ... import ops
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _bn_scale_and_shift(bias, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The per-channel factor ``w / sqrt(var + eps)`` and the fused bias ``(bias - mean) * factor + b``
    (missing bias, weight or shift count as 0, 1 and 0)."""
    bias = ops.zeros_like(bn_rm) if bias is None else bias
    bn_w = ops.ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = ops.zeros_like(bn_rm) if bn_b is None else bn_b
    scale = bn_w * ops.rsqrt(bn_rv + bn_eps)
    return scale, (bias - bn_rm) * scale + bn_b


def _as_parameters(weight, bias, like_weight, like_bias):
    """Fused tensors as parameters with the original dtypes and requires_grad flags."""
    bias_dtype = like_weight.dtype if like_bias is None else like_bias.dtype
    bias_requires_grad = False if like_bias is None else like_bias.requires_grad
    return (Parameter(weight.to(like_weight.dtype), like_weight.requires_grad),
            Parameter(bias.to(bias_dtype), bias_requires_grad))


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The weight and bias of a conv that computes ``bn(conv(x))``; ``transpose`` for
    transposed convs (output channels in dim 1 of the weight)."""
    scale, fused_b = _bn_scale_and_shift(conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    spatial = [1] * (conv_w.dim() - 2)
    shape = [1, -1] + spatial if transpose else [-1, 1] + spatial
    return _as_parameters(conv_w * scale.reshape(shape), fused_b, conv_w, conv_b)


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias of a linear layer that computes ``bn(linear(x))``."""
    scale, fused_b = _bn_scale_and_shift(linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    return _as_parameters(linear_w * scale.unsqueeze(-1).to(linear_w.dtype), fused_b, linear_w, linear_b)


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("Fusion needs the BatchNorm's running statistics (track_running_stats=True)")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` computing ``bn(conv(x))`` (both in eval mode)."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` computing ``bn(linear(x))`` (both in eval mode); the BatchNorm's
    features must match the linear outputs or be 1, so the fused weight keeps its shape."""
    _check_eval(linear, bn)
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1 "
                             f"(got out_features={linear.out_features}, num_features={bn.num_features})")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
