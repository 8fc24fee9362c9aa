"""Normalisation as autograd Functions: layer_norm and batch_norm share one mechanism.

Both compute ``xhat = (x - mean) * rstd`` over some "statistics" dims and then an affine
``xhat * w + b`` whose parameters broadcast along the other dims. When the statistics are
computed from ``x`` (layer norm; batch norm in training) the backward also flows through
them; when given (batch norm in eval) it does not. 16-bit inputs compute in float32.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops._autocast import autocast_call, state as _amp
from . import _fused

_LOW_PRECISION = (_dt.float16, _dt.bfloat16)


def _trailing(dims, rank):
    """Whether ``dims`` are the last ``len(dims)`` dims of a rank-``rank`` tensor, in order."""
    return bool(dims) and tuple(dims) == tuple(range(rank - len(dims), rank))


def _sum_to(t, dims, shape):
    return t.sum(dims).reshape(shape) if dims else t.reshape(shape)


class _Normalize(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stat_dims, affine_shape, eps, mean=None, var=None, batch_stats=None):
        """Normalise ``x`` over ``stat_dims``; ``mean``/``var`` given means use them as constants.
        A ``batch_stats`` list receives the computed (mean, biased var), one value a channel
        (batch norm's running statistics)."""
        out_dtype = x.dtype
        ctx.save_for_backward(x)
        if out_dtype in _LOW_PRECISION:
            x = x.float()
        computed = mean is None
        fused = _fused_kernels(x, stat_dims) if computed else None
        if fused is not None and fused.accepts(x, weight, bias):
            if fused is _fused.BATCH_NORM.get(x.device.type):
                y, xhat, rstd, mean, var = fused.forward(x, weight, bias, eps)
                if batch_stats is not None:
                    batch_stats.append((mean, var))
            else:
                y, xhat, rstd = fused.forward(x, weight, bias, eps, len(stat_dims))
            param_shape = next((p.shape for p in (weight, bias) if p is not None), None)
            ctx.saved = (xhat if y is not xhat else xhat.detach(), rstd, weight, param_shape, stat_dims,
                         affine_shape, computed, out_dtype)
            ctx.stats = (None, None, eps)
            ctx.fused = fused
            return y.to(out_dtype)
        if computed:
            mean = x.mean(stat_dims, keepdim=True)
            var = ((x - mean) ** 2).mean(stat_dims, keepdim=True)
            if batch_stats is not None:
                batch_stats.append((mean.reshape(-1), var.reshape(-1)))
        else:
            mean, var = mean.to(x.dtype).view(affine_shape), var.to(x.dtype).view(affine_shape)
        rstd = (var + eps).rsqrt()
        xhat = (x - mean) * rstd
        y = xhat
        if weight is not None:
            y = y * weight.to(x.dtype).view(affine_shape)
        if bias is not None:
            y = y + bias.to(x.dtype).view(affine_shape)
        param_shape = next((p.shape for p in (weight, bias) if p is not None), None)
        # xhat is the output itself without weight and bias: keep a detached alias, else the
        # output would hold its node holding it (a cycle only the garbage collector frees)
        ctx.saved = (xhat.detach(), rstd, weight, param_shape, stat_dims, affine_shape, computed, out_dtype)
        ctx.stats = (mean, var, eps)
        ctx.fused = None
        return y.to(out_dtype)

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight, param_shape, stat_dims, affine_shape, computed, out_dtype = ctx.saved
        if grad_mode.is_grad_enabled():  # create_graph: the gradient must be differentiable in x
            xhat, rstd = _standardized(ctx, stat_dims, computed)
        elif ctx.fused is not None:  # the forward's kernel has its backward: one pass, no graph
            gx, gw, gb = ctx.fused.backward(grad.to(xhat.dtype), xhat, rstd, weight)
            return (gx.to(out_dtype), gw.view(param_shape) if ctx.needs_input_grad[1] else None,
                    gb.view(param_shape) if ctx.needs_input_grad[2] else None, None, None, None, None, None,
                    None)
        g = grad.to(xhat.dtype)
        param_dims = tuple(d for d in range(g.dim()) if affine_shape[d] == 1)
        gxhat = g if weight is None else g * weight.to(g.dtype).view(affine_shape)
        if computed:
            gx = rstd * (gxhat - gxhat.mean(stat_dims, keepdim=True)
                         - xhat * (gxhat * xhat).mean(stat_dims, keepdim=True))
        else:
            gx = gxhat * rstd
        gw = _sum_to(g * xhat, param_dims, param_shape) if ctx.needs_input_grad[1] else None
        gb = _sum_to(g, param_dims, param_shape) if ctx.needs_input_grad[2] else None
        return gx.to(out_dtype), gw, gb, None, None, None, None, None, None


def _fused_kernels(x, stat_dims):
    """The device's one-kernel layer norm (statistics over trailing dims) or batch norm (over
    every dim but 1) for this layout, or None (composed of tensor ops)."""
    if _trailing(stat_dims, x.dim()):
        return _fused.LAYER_NORM.get(x.device.type)
    if x.dim() >= 2 and stat_dims == (0,) + tuple(range(2, x.dim())):
        return _fused.BATCH_NORM.get(x.device.type)
    return None


def _standardized(ctx, stat_dims, computed):
    """(xhat, rstd) of the forward, recomputed from the saved input and recorded: forward's
    ran with grad mode off, so theirs carry no graph back to x."""
    (x,) = ctx.saved_tensors
    x = x.float() if x.dtype in _LOW_PRECISION else x
    mean, var, eps = ctx.stats
    if computed:
        mean = x.mean(stat_dims, keepdim=True)
        var = ((x - mean) ** 2).mean(stat_dims, keepdim=True)
    rstd = (var + eps).rsqrt()
    return (x - mean) * rstd, rstd


class _LayerNorm(_Normalize):
    node_name = "NativeLayerNormBackward0"


class _BatchNorm(_Normalize):
    node_name = "NativeBatchNormBackward0"


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if _amp.on:
        return autocast_call("layer_norm", layer_norm, input, normalized_shape, weight, bias, eps)
    if isinstance(normalized_shape, int):  # nn.LayerNorm takes an int; the function does not
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                        "not int")
    shape = tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != shape or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                               f"shape {list(p.shape)} and normalized_shape = {list(shape)}")
    if input.device.type == "cpu":  # torch's CPU kernel: parameters of the input's dtype (float32 for 16-bit)
        for p in (weight, bias):
            if p is not None and p.dtype is not input.dtype and not (input.dtype in _LOW_PRECISION
                                                                      and p.dtype is _dt.float32):
                raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    stat_dims = tuple(range(input.dim() - k, input.dim()))
    affine_shape = (1,) * (input.dim() - k) + shape
    return _LayerNorm.apply(input, weight, bias, stat_dims, affine_shape, eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalise over every dim but 1. In training, update the running stats in place
    (``running = (1 - momentum) * running + momentum * batch``, unbiased variance)."""
    if input.dim() < 2:
        raise ValueError(f"Expected 2D or more input (got {input.dim()}D input)")
    n_channels = input.shape[1]
    stat_dims = (0,) + tuple(range(2, input.dim()))
    count = input.numel() // max(n_channels, 1)
    if training and count <= 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{input.shape}")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != n_channels:
            raise RuntimeError(f"{name} should contain {n_channels} elements not {t.numel()}")
    affine_shape = (1, n_channels) + (1,) * (input.dim() - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        return _BatchNorm.apply(input, weight, bias, stat_dims, affine_shape, eps, running_mean, running_var)
    batch_stats = []
    out = _BatchNorm.apply(input, weight, bias, stat_dims, affine_shape, eps, None, None, batch_stats)
    if running_mean is not None or running_var is not None:
        _update_running_stats(*batch_stats[0], count, running_mean, running_var, momentum)
    return out


def _update_running_stats(mean, biased_var, count, running_mean, running_var, momentum):
    """running = (1 - momentum) * running + momentum * batch, the variance unbiased; from the
    normalisation's own statistics."""
    from .. import autograd
    with autograd.no_grad():
        mean, var = mean.detach(), biased_var.detach() * (count / (count - 1))
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(var.to(running_var.dtype) * momentum)


def _check_channel_vector(name, t, channels, input):
    if t is not None and (t.dim() != 1 or t.numel() != channels):
        raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                           f"input, but got {name} of shape {list(t.shape)} and input of shape "
                           f"{list(input.shape)}")


def _channel_affine(y, weight, bias):
    """``y * weight + bias`` with one value per channel (dim 1)."""
    shape = (1, y.shape[1]) + (1,) * (y.dim() - 2)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of ``num_groups`` consecutive channels (and all the
    other dims), then a per-channel affine: layer_norm's mechanism on an (N, groups, rest) view."""
    if _amp.on:
        return autocast_call("group_norm", group_norm, input, num_groups, weight, bias, eps)
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(input.shape)} and num_groups={num_groups}")
    _check_channel_vector("weight", weight, channels, input)
    _check_channel_vector("bias", bias, channels, input)
    per_group = [n * channels // num_groups, num_groups] + list(input.shape[2:])
    if input.numel() // num_groups == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {per_group}")
    grouped = input.reshape(n, num_groups, input.numel() // max(n * num_groups, 1))
    y = _LayerNorm.apply(grouped, None, None, (2,), (1, 1, 1), eps).view(input.shape)
    return _channel_affine(y, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last dims, in the input's dtype; 16-bit
    inputs compute in float32 and ``eps`` defaults to the machine epsilon of that compute dtype,
    as in torch."""
    if _amp.on:
        return autocast_call("rms_norm", rms_norm, input, normalized_shape, weight, eps)
    if isinstance(normalized_shape, int):  # nn.RMSNorm takes an int; the function does not
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    shape = tuple(normalized_shape)
    k = len(shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError("Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {list(weight.shape)} and normalized_shape = {list(shape)}")
    x = input.float() if input.dtype in _LOW_PRECISION else input
    if eps is None:
        from ..type_info import finfo
        eps = finfo(x.dtype).eps
    dims = tuple(range(input.dim() - k, input.dim()))
    y = x * (x * x).mean(dims, keepdim=True).add(eps).rsqrt()
    return (y * weight if weight is not None else y).to(input.dtype)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Batch norm of each (sample, channel) pair over its own spatial dims: batch_norm on the
    input seen as one sample of N * C channels; running stats are averaged over the batch."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or more input (got {input.dim()}D input)")
    n, channels = input.shape[0], input.shape[1]
    stats = tuple(None if t is None else t.repeat(n) for t in (running_mean, running_var))
    folded = input.reshape((1, n * channels) + tuple(input.shape[2:]))
    y = batch_norm(folded, *stats, None, None, use_input_stats, momentum, eps).view(input.shape)
    if use_input_stats:
        from .. import autograd
        with autograd.no_grad():
            for running, batch in zip((running_mean, running_var), stats):
                if running is not None:
                    running.copy_(batch.view(n, channels).mean(0))
    return _channel_affine(y, weight, bias)
