"""``tritensor.nn.init``: in-place weight initialisers (``torch.nn.init``), all under no_grad.

Each takes an optional ``generator``; the draws come from tritensor's RNG, so values are
reproducible under a seed but not bit-identical to torch's.
"""
from __future__ import annotations

import math
import warnings

from .. import autograd, ops


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity`` (torch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with autograd.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with autograd.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    with autograd.no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with autograd.no_grad():
        return tensor.zero_()


def eye_(tensor):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with autograd.no_grad():
        return tensor.copy_(ops.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std) restricted to [a, b], by redrawing the samples that fall outside."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
                      "values may be incorrect.", stacklevel=2)
    with autograd.no_grad():
        tensor.normal_(mean, std, generator=generator)
        for _ in range(1000):
            outside = ((tensor < a) | (tensor > b)).to(tensor.dtype)
            if not bool(outside.any()):
                break
            fresh = ops.empty_like(tensor).normal_(mean, std, generator=generator)
            tensor.copy_(tensor * (1 - outside) + fresh * outside)
        return tensor.clamp_(a, b)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal draw, as torch does.

    The QR step runs on the host (numpy): initialisation is off the hot path.
    """
    import numpy as np
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = ops.empty((rows, cols), dtype=tensor.dtype, device="cpu")
    flat.normal_(0, 1, generator=generator)
    a = np.asarray(flat.double().numpy())
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with autograd.no_grad():
        tensor.view_as(tensor).copy_(ops.tensor(q.reshape(tuple(tensor.shape)) * gain, dtype=tensor.dtype,
                                                device=tensor.device))
    return tensor


def dirac_(tensor, groups=1):
    """The identity convolution kernel: each of the first ``min(out, in)`` output channels of
    each group passes its input channel through at the kernel's centre."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    import numpy as np
    out_per_group = tensor.shape[0] // groups
    kernel = np.zeros(tuple(tensor.shape), np.float64)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            kernel[(g * out_per_group + d, d) + centre] = 1
    with autograd.no_grad():
        return tensor.copy_(ops.tensor(kernel, dtype=tensor.dtype, device=tensor.device))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std) values with ``ceil(sparsity * rows)`` zeros at random rows of every column."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    from ..random import randperm
    rows, cols = tensor.shape
    zeros_per_column = int(math.ceil(sparsity * rows))
    with autograd.no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            picked = randperm(rows, generator=generator, device=tensor.device)[:zeros_per_column]
            tensor[picked, col] = 0
    return tensor


def _deprecated_alias(initializer):
    """``nn.init.<name>``: torch's deprecated spelling of ``<name>_``, warning like torch."""
    new_name = initializer.__name__
    old_name = new_name[:-1]

    def alias(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return initializer(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"{old_name}(...): deprecated in favor of :func:`tritensor.nn.init.{new_name}`."
    return alias


uniform, normal, constant = map(_deprecated_alias, (uniform_, normal_, constant_))
eye, dirac, orthogonal, sparse = map(_deprecated_alias, (eye_, dirac_, orthogonal_, sparse_))
xavier_uniform, xavier_normal = map(_deprecated_alias, (xavier_uniform_, xavier_normal_))
kaiming_uniform, kaiming_normal = map(_deprecated_alias, (kaiming_uniform_, kaiming_normal_))
