"""p-norms of differences and of slices: dist, cdist and renorm, composites of
``linalg.vector_norm`` (whose backward is zero where the norm is zero, as torch's)."""
from __future__ import annotations

from ._common import broadcast_shapes, wrap_dim
from ._registry import export, method
from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import _torch_name, not_implemented_for, where
from .reduction import vector_norm


@export
def dist(input, other, p=2):
    """torch.dist: the p-norm of ``input - other`` (broadcast)."""
    for x in (input, other):
        if isinstance(x, Tensor) and not x.dtype.is_floating_point:
            raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                               f"{_torch_name(x.dtype)} instead.")
    return vector_norm(input - other, p)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


@export(method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """torch.cdist: the p-norm distance between each row of ``x1`` (..., P, M) and each row of
    ``x2`` (..., R, M), batch dims broadcast. For p=2 with more than 25 rows on either side (or
    ``compute_mode="use_mm_for_euclid_dist"``) one matmul, as torch: O(P*R) memory instead of
    the O(P*R*M) difference, at the cost of accuracy for near-equal rows."""
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_torch_name(x.dtype)}")
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(x1.dtype)} but found {_torch_name(x2.dtype)}")
    if x1.dtype in (dt.float16, dt.bfloat16):
        raise not_implemented_for("cdist", x1.dtype)
    if x1._shape[-1] != x2._shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._shape[-1]} X2: "
                           f"{x2._shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    rows1, rows2 = x1._shape[-2], x2._shape[-2]
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                   compute_mode == _CDIST_MODES[0] and (rows1 > 25 or rows2 > 25)):
        batch = broadcast_shapes(x1._shape[:-2], x2._shape[:-2])
        return _EuclideanDist.apply(x1.expand(*batch, *x1._shape[-2:]), x2.expand(*batch, *x2._shape[-2:]))
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


class _EuclideanDist(Function):
    """``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))`` for every row pair as one matmul of the rows
    extended by their squared norms and ones (torch's _euclidean_dist)."""
    node_name = "EuclideanDistBackward0"

    @staticmethod
    def forward(ctx, x1, x2):
        from .joining import cat
        from .linalg import matmul
        from .reduction import sum as reduce_sum
        norm1 = reduce_sum(x1 * x1, -1, keepdim=True)
        norm2 = reduce_sum(x2 * x2, -1, keepdim=True)
        ones1, ones2 = norm1.new_ones(norm1._shape), norm2.new_ones(norm2._shape)
        extended1 = cat([x1 * -2, norm1, ones1], -1)
        extended2 = cat([x2, ones2, norm2], -1)
        result = matmul(extended1, extended2.mT).clamp_min_(0).sqrt_()
        ctx.save_for_backward(x1, x2, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x1, x2, result = ctx.saved_tensors
        ratio = (grad / result).masked_fill(result == 0, 0)  # subgradient 0 at zero distance
        grad1 = x1 * ratio.sum(-1, keepdim=True) - ratio @ x2
        grad2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1
        return grad1, grad2


def _renorm(input, p, dim, maxnorm):
    if not input.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_name(input.dtype)}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    d = wrap_dim(dim, input.dim())
    others = tuple(i for i in range(input.dim()) if i != d)
    norms = vector_norm(input, p, others, True)
    return input * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0).to(input.dtype)


@export
def renorm(input, p, dim, maxnorm, *, out=None):
    """torch.renorm: each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to
    it (``maxnorm / (norm + 1e-7)``, as torch)."""
    from .reduction import _into
    return _into(out, _renorm(input, p, dim, maxnorm))


@method
def renorm_(self, p, dim, maxnorm):
    return self.copy_(_renorm(self, p, dim, maxnorm))
