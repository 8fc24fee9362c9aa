"""Gradient clipping over a model's parameters (``torch.nn.utils.clip_grad_*``)."""
from __future__ import annotations

import math

from ... import autograd, ops
from ...tensor import Tensor
from .. import _fused


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _fused_kernel(tensors):
    """The device's multi-tensor kernel when it can take all ``tensors`` in one pass, else None."""
    kernel = _fused.GRAD_NORM.get(tensors[0].device.type)
    return kernel if kernel is not None and kernel.accepts(tensors) else None


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` taken together (as if concatenated)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t.detach() for t in tensors]
    norm_type = float(norm_type)
    if not tensors:
        return ops.tensor(0.0)
    _check_not_empty(tensors, norm_type)
    kernel = _fused_kernel(tensors)
    if kernel is not None and norm_type > 0:
        total = kernel.total_norm(tensors, norm_type)
    else:
        with autograd.no_grad():
            device = tensors[0].device
            norms = [ops.norm(t, norm_type).to(device) for t in tensors]
            stacked = ops.stack(norms)
            total = stacked.max() if math.isinf(norm_type) and norm_type > 0 else ops.norm(stacked, norm_type)
    _check_finite(total, norm_type, error_if_nonfinite)
    return total


def _check_not_empty(tensors, norm_type):
    if math.isinf(norm_type) and any(t.numel() == 0 for t in tensors):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {norm_type} norm on an empty tensor "
                           "because the operation does not have an identity")


def _check_finite(total, norm_type, error_if_nonfinite):
    if error_if_nonfinite and not bool(ops.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the "
                           "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    with autograd.no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp_max(1.0)
        kernel = _fused_kernel(grads)
        if kernel is not None and coef.dtype is grads[0].dtype and coef.device == grads[0].device:
            kernel.scale_(grads, coef)  # a 0-d tensor: no device read on 'cuda'
            return
        for g in grads:
            g.mul_(coef.to(g.dtype).to(g.device))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients' joint norm to ``max_norm`` in place; return the norm before clipping.

    With the device's fused kernel the whole call is three launches: the partial norms, the
    total (which also writes the clip coefficient), the scaling."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    norm_type = float(norm_type)
    kernel = _fused_kernel(grads) if grads and norm_type > 0 else None
    if kernel is None:
        total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
        clip_grads_with_norm_(parameters, max_norm, total, foreach)
        return total
    _check_not_empty(grads, norm_type)
    total, coef = kernel.total_norm(grads, norm_type, float(max_norm))
    _check_finite(total, norm_type, error_if_nonfinite)
    kernel.scale_(grads, coef)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient elementwise to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with autograd.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
