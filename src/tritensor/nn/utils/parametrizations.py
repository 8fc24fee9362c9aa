"""``tritensor.nn.utils.parametrizations``: orthogonal, spectral_norm and weight_norm as
parametrizations (``parametrize.register_parametrization``), the successors of the hook forms.

Not supported: ``orthogonal(..., orthogonal_map="householder", use_trivialization=False)``
(its right inverse needs ``geqrf``, which tritensor lacks) raises NotImplementedError.
"""
from __future__ import annotations

from enum import Enum, auto

from ... import autograd, linalg, ops, random
from ...type_info import finfo
from ...tensor import Tensor
from ..functional import normalize
from ..modules.module import Module
from . import parametrize
from .spectral_norm import (check_power_iterations, default_dim, divide_by_sigma, power_iteration,
                            random_unit_vector, weight_to_matrix)
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _make_orthogonal(a):
    """The Q of ``a = QR`` with ``diag(R) >= 0`` (so Q is unique when ``a`` has full rank)."""
    q, r = linalg.qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _is_orthogonal(q):
    n, k = q.shape[-2], q.shape[-1]
    eye = ops.eye(k, dtype=q.dtype, device=q.device)
    eps = 10.0 * n * finfo(q.dtype).eps
    return bool(ops.allclose(q.mT @ q, eye, atol=eps))


def _tall(x):
    """``x`` with at least as many rows as columns, and whether it was transposed for that."""
    transposed = x.shape[-2] < x.shape[-1]
    return (x.mT if transposed else x), transposed


class _Orthogonal(Module):
    """Maps an unconstrained (batch of) matrix to an orthogonal one; with ``use_trivialization``
    the result is ``base @ map(X)``, ``base`` being refreshed on every assignment."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def _skew_to_orthogonal(self, x, n, k):
        """``exp(A)`` or the Cayley map of ``A = L - L^T`` (``L`` the lower triangle padded to n x n)."""
        x = x.tril()
        if n != k:
            x = ops.cat([x, x.new_zeros(n, n - k).expand(*x.shape[:-2], -1, -1)], dim=-1)
        a = x - x.mT
        if self.orthogonal_map == _OrthMaps.matrix_exp:
            q = linalg.matrix_exp(a)
        else:
            eye = ops.eye(n, dtype=a.dtype, device=a.device)
            q = linalg.solve(eye - 0.5 * a, eye + 0.5 * a)
        return q[..., :k] if n != k else q

    def forward(self, x):
        x, transposed = _tall(x)
        n, k = x.shape[-2], x.shape[-1]
        if self.orthogonal_map == _OrthMaps.householder:
            reflectors = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
            q = linalg.householder_product(reflectors, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            q = self._skew_to_orthogonal(x, n, k)
        if "base" in self._buffers:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q):
        with autograd.no_grad():
            if tuple(q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. "
                                 f"Got a tensor of shape {tuple(q.shape)}.")
            q_init = q
            q, _ = _tall(q)
            n, k = q.shape[-2], q.shape[-1]
            if "base" not in self._buffers:
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                          "Cayley parametrizations when use_trivialization=False.")
            if n == k:
                q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
            else:
                fill = random.randn(*q.shape[:-2], n, n - k, dtype=q.dtype, device=q.device)
                q = _make_orthogonal(ops.cat([q, fill], dim=-1))
            self.base = q
            minus_identity = ops.zeros_like(q_init)
            minus_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return minus_identity


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal/unitary."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    if orth_enum == _OrthMaps.householder and not use_trivialization:
        raise NotImplementedError("orthogonal(orthogonal_map='householder', use_trivialization=False) is not "
                                  "supported by tritensor: initializing it needs torch.geqrf, which "
                                  "tritensor does not have (docs/api-coverage.md)")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    """``(g, v) -> g * v / ||v||`` with the norm over every dim but ``dim``."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def _load_legacy_weight_norm_keys(name):
    """A load pre-hook that renames the hook form's ``<name>_g``/``<name>_v`` checkpoint keys."""
    def hook(module, state_dict, prefix, *args):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
    return hook


def weight_norm(module, name="weight", dim=0):
    """``module.<name> = g * v / ||v||`` with ``original0 = g`` and ``original1 = v``; ``dim=None``
    normalizes over the whole tensor. Old ``<name>_g``/``<name>_v`` checkpoints still load."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module.register_load_state_dict_pre_hook(_load_legacy_weight_norm_keys(name))
    return module


class _SpectralNorm(Module):
    """``W -> W / sigma(W)``, ``sigma`` from power iteration on the buffers ``_u``/``_v``
    (one more step per call in training mode); 1-D weights are just normalized."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] "
                             f"but got {dim})")
        check_power_iterations(n_power_iterations)
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = weight_to_matrix(weight, self.dim)
            height, width = weight_mat.shape
            with autograd.no_grad():
                self.register_buffer("_u", random_unit_vector(weight_mat, height, eps))
                self.register_buffer("_v", random_unit_vector(weight_mat, width, eps))
            power_iteration(weight_mat, self._u, self._v, 15, eps, u_first=True)

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = weight_to_matrix(weight, self.dim)
        if self.training:
            power_iteration(weight_mat, self._u, self._v, self.n_power_iterations, self.eps, u_first=True)
        return divide_by_sigma(weight, weight_mat, self._u, self._v)

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (estimated by power iteration)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
