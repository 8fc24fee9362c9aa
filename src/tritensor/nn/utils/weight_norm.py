"""Weight normalization ``w = g * v / ||v||``: the norm helpers (``torch.norm_except_dim``,
``torch._weight_norm``) and the legacy hook form ``torch.nn.utils.weight_norm``.

The hook form keeps ``<name>_g`` and ``<name>_v`` as parameters and recomputes ``<name>`` (a
plain attribute) in a forward pre-hook; ``parametrizations.weight_norm`` is its successor.
"""
from __future__ import annotations

import warnings

from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v``
    (size 1 except along ``dim``); ``dim=-1`` means over every dim (a 0-d tensor), as in torch."""
    if dim == -1:
        return v.norm(pow)
    ndim = v.dim()
    if dim == 0:
        return v.contiguous().view(v.shape[0], -1).norm(pow, dim=1).view(v.shape[0], *([1] * (ndim - 1)))
    if dim == ndim - 1:
        return v.contiguous().view(-1, v.shape[-1]).norm(pow, dim=0).view(*([1] * (ndim - 1)), v.shape[-1])
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _weight_norm(v, g, dim=0):
    """``v * (g / norm_except_dim(v, 2, dim))`` (``torch._weight_norm``)."""
    if v.device != g.device:
        raise RuntimeError(f"_weight_norm: expected g and v on the same device, got {g.device} and "
                           f"{v.device}")
    return v * (g / norm_except_dim(v, 2, dim))


def _refuse_uninitialized(weight, what):
    """A lazy module's weight has no values to normalize until its first forward."""
    from ..modules.lazy import UninitializedParameter
    if isinstance(weight, UninitializedParameter):
        raise ValueError(f"The module passed to `{what}` can't have uninitialized parameters. Make sure to "
                         "run the dummy forward before applying weight normalization")


def _find_hook(module, hook_type, name):
    """The key and hook of ``module``'s forward pre-hook of ``hook_type`` acting on ``name``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            return key, hook
    return None, None


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        if _find_hook(module, WeightNorm, name)[1] is not None:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        _refuse_uninitialized(weight, "torch.nn.utils.weight_norm")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Deprecated hook form of weight normalization (``torch.nn.utils.weight_norm``)."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold ``<name>_g``/``<name>_v`` back into one parameter ``<name>``."""
    key, hook = _find_hook(module, WeightNorm, name)
    if hook is None:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module
