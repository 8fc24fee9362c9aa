"""Matrix products: mm, mv, bmm, matmul (batch broadcasting), dot, outer, addmm, baddbmm."""
from __future__ import annotations

from .. import dtypes as dt
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import backend, broadcast_shapes, common_device
from ._registry import export
from .creation import new_empty


def _check_dtypes(name, a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}"
                           if name in ("mm", "addmm", "matmul") else
                           f"expected scalar type {_scalar_name(a.dtype)} but found {_scalar_name(b.dtype)}")
    if a.dtype is dt.bool:
        raise RuntimeError(f"\"{name}\" not implemented for 'Bool'")


def _scalar_name(d):
    from .elementwise import _torch_name
    return _torch_name(d)


def _batched(a, b):
    """out = a @ b for 3-D a (B, M, K) and b (B, K, N)."""
    common_device(a, b)
    out = new_empty((a._shape[0], a._shape[1], b._shape[2]), a.dtype, a.device)
    backend(a).bmm(out, a, b)
    return out


class _Mm(Function):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _batched(a.unsqueeze(0), b.unsqueeze(0)).squeeze(0)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad.mm(b.t()) if ctx.needs_input_grad[0] else None,
                a.t().mm(grad) if ctx.needs_input_grad[1] else None)


@export
def mm(input, mat2, *, out=None):
    if input.dim() != 2 or mat2.dim() != 2:
        bad = input if input.dim() != 2 else mat2
        raise RuntimeError(f"{'self' if bad is input else 'mat2'} must be a matrix")
    if input._shape[1] != mat2._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input._shape[0]}x{input._shape[1]} "
                           f"and {mat2._shape[0]}x{mat2._shape[1]})")
    _check_dtypes("mm", input, mat2)
    return _Mm.apply(input, mat2)


class _Bmm(Function):
    node_name = "BmmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _batched(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad.bmm(b.transpose(1, 2)) if ctx.needs_input_grad[0] else None,
                a.transpose(1, 2).bmm(grad) if ctx.needs_input_grad[1] else None)


@export
def bmm(input, mat2, *, out=None):
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if input.dim() != 3 else "batch2 must be a 3D tensor")
    if input._shape[0] != mat2._shape[0] or input._shape[2] != mat2._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._shape[0]}, {input._shape[2]}] but got: [{mat2._shape[0]}, {mat2._shape[1]}].")
    _check_dtypes("bmm", input, mat2)
    return _Bmm.apply(input, mat2)


@export
def mv(input, vec, *, out=None):
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {vec.dim()}")
    if input._shape[1] != vec._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat ({input._shape[0]}x"
                           f"{input._shape[1]}), vec ({vec._shape[0]})")
    _check_dtypes("mv", input, vec)
    return mm(input, vec.unsqueeze(1)).squeeze(1)


@export
def dot(input, other, *, out=None):
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input._shape[0] != other._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and src "
                           f"[{other._shape[0]}] to have the same number of elements, but got "
                           f"{input._shape[0]} and {other._shape[0]} elements respectively")
    _check_dtypes("dot", input, other)
    return mm(input.unsqueeze(0), other.unsqueeze(1)).reshape(())


export(dot, name="inner")


@export(aliases=("ger",))
def outer(input, vec2):
    return input.unsqueeze(1) * vec2.unsqueeze(0)


@export
def matmul(input, other, *, out=None):
    """torch.matmul: dot, mv, mm, or batched mm with broadcast batch dims."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("matmul(): argument 'other' must be Tensor")
    da, db = input.dim(), other.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return mm(input.unsqueeze(0), other).squeeze(0)
    if da == 2 and db == 2:
        return mm(input, other)
    a = input.unsqueeze(0) if da == 1 else input
    b = other.unsqueeze(-1) if db == 1 else other
    if a._shape[-1] != b._shape[-2]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[-2]}x{a._shape[-1]} and "
                           f"{b._shape[-2]}x{b._shape[-1]})")
    batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
    m, k, n = a._shape[-2], a._shape[-1], b._shape[-1]
    if db == 2 and da > 2:
        # fold the batch into M: one big mm
        out = mm(a.reshape(-1, k), b).reshape(*a._shape[:-1], n)
    else:
        a3 = a.expand(*batch, m, k).reshape(-1, m, k)
        b3 = b.expand(*batch, k, n).reshape(-1, k, n)
        out = bmm(a3, b3).reshape(*batch, m, n)
    if da == 1:
        out = out.squeeze(-2)
    if db == 1:
        out = out.squeeze(-1)
    return out


@export
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod  # torch ignores input entirely when beta is 0 (NaN included)
    return prod + (input if beta == 1 else input * beta)


@export
def addmv(input, mat, vec, *, beta=1, alpha=1):
    prod = mv(mat, vec)
    return (prod * alpha if alpha != 1 else prod) + (input if beta == 1 else input * beta)


@export
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return prod + (input if beta == 1 else input * beta)


@export
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    prod = bmm(batch1, batch2).sum(0)
    return (prod * alpha if alpha != 1 else prod) + (input if beta == 1 else input * beta)
