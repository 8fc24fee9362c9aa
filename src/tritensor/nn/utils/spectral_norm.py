"""Spectral normalization ``w / sigma(w)``, sigma estimated by power iteration: the shared
helpers and the legacy hook form ``torch.nn.utils.spectral_norm``.

The hook form keeps ``<name>_orig`` (parameter) and ``<name>_u``/``<name>_v`` (buffers) and
recomputes ``<name>`` in a forward pre-hook, iterating only in training mode. Its state_dict
records ``spectral_norm: {"<name>.version": 1}`` in the module's metadata, which loading uses
to convert checkpoints of the pre-1 format (which stored ``<name>`` and no ``<name>_v``).
"""
from __future__ import annotations

from ... import autograd, linalg, ops
from ..functional import normalize
from ..parameter import Parameter
from .weight_norm import _find_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


def weight_to_matrix(weight, dim):
    """``weight`` as a matrix whose rows run along ``dim``."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.dim()) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def power_iteration(weight_mat, u, v, iterations, eps, u_first):
    """Refine the singular vector estimates ``u``, ``v`` in place (they are buffers the module
    keeps between calls); the parametrization updates ``u`` first, the legacy hook ``v`` first."""
    with autograd.no_grad():
        for _ in range(iterations):
            if u_first:
                u.copy_(normalize(ops.mv(weight_mat, v), dim=0, eps=eps))
                v.copy_(normalize(ops.mv(weight_mat.t(), u), dim=0, eps=eps))
            else:
                v.copy_(normalize(ops.mv(weight_mat.t(), u), dim=0, eps=eps))
                u.copy_(normalize(ops.mv(weight_mat, v), dim=0, eps=eps))


def random_unit_vector(like, size, eps):
    return normalize(like.new_empty(size).normal_(0, 1), dim=0, eps=eps)


def divide_by_sigma(weight, weight_mat, u, v):
    """``weight / (u . W v)``; ``u`` and ``v`` are cloned so later in-place updates of the
    buffers do not disturb the graph of this weight."""
    u, v = u.clone(), v.clone()
    return weight / ops.dot(u, ops.mv(weight_mat, v))


def check_power_iterations(n_power_iterations):
    if n_power_iterations <= 0:
        raise ValueError("Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")


def default_dim(module):
    """Transposed convolutions keep output channels in dim 1."""
    from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name> = <name>_orig / sigma``."""

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        check_power_iterations(n_power_iterations)
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        return weight_to_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            power_iteration(weight_mat, u, v, self.n_power_iterations, self.eps, u_first=False)
        return divide_by_sigma(weight, weight_mat, u, v)

    def remove(self, module):
        with autograd.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        """The ``v`` with ``u = W v / ||W v||`` and ``u . W v = target_sigma`` (old checkpoints)."""
        v = linalg.multi_dot([weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(),
                                  u.unsqueeze(1)]).squeeze(1)
        return v * (target_sigma / ops.dot(u, ops.mv(weight_mat, v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        if _find_hook(module, SpectralNorm, name)[1] is not None:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with autograd.no_grad():
            height, width = fn.reshape_weight_to_matrix(weight).shape
            u, v = random_unit_vector(weight, height, fn.eps), random_unit_vector(weight, width, fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module.register_state_dict_hook(SpectralNormStateDictHook(fn))
        module.register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormStateDictHook:
    """Records the format version in the module's state_dict metadata."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


class SpectralNormLoadStateDictPreHook:
    """Converts a checkpoint of the pre-1 format (``<name>`` stored, no ``<name>_v``)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs):
        version = local_metadata.get("spectral_norm", {}).get(self.fn.name + ".version")
        if version is not None and version >= 1:
            return
        weight_key = prefix + self.fn.name
        if version is None and weight_key not in state_dict and \
                all(weight_key + s in state_dict for s in ("_orig", "_u", "_v")):
            return  # the current format saved without metadata
        missing = [weight_key + s for s in ("_orig", "", "_u") if weight_key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        with autograd.no_grad():
            weight_orig = state_dict[weight_key + "_orig"]
            weight = state_dict.pop(weight_key)
            sigma = (weight_orig / weight).mean()
            weight_mat = self.fn.reshape_weight_to_matrix(weight_orig)
            u = state_dict[weight_key + "_u"]
            state_dict[weight_key + "_v"] = self.fn._solve_v_and_rescale(weight_mat, u, sigma)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Deprecated hook form of spectral normalization (``torch.nn.utils.spectral_norm``)."""
    SpectralNorm.apply(module, name, n_power_iterations, default_dim(module) if dim is None else dim, eps)
    return module


def _drop_hooks_of(hooks, hook_type, name):
    for key, hook in list(hooks.items()):
        if isinstance(hook, hook_type) and hook.fn.name == name:
            del hooks[key]
            return


def remove_spectral_norm(module, name="weight"):
    """Fold ``<name>_orig / sigma`` back into one parameter ``<name>`` and drop the hooks."""
    key, hook = _find_hook(module, SpectralNorm, name)
    if hook is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hook.remove(module)
    del module._forward_pre_hooks[key]
    _drop_hooks_of(module._state_dict_hooks, SpectralNormStateDictHook, name)
    _drop_hooks_of(module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook, name)
    return module

