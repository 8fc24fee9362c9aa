"""Matrix products: mm, mv, dot, bmm, matmul (batch broadcasting), outer, addmm & co.

Every product runs on one backend primitive, ``bmm`` over 3-D operands. The products
are ``_Product`` Functions that differ only in how operands become 3-D and in their
two gradient formulas (``PRODUCTS``); ``addmm``-style ops wrap one product with
``beta * input + alpha * product`` in a single node named like torch's. ``matmul``
follows ATen's ``_matmul_impl`` (folding batch dims into mm/mv when that avoids a copy)
so results, strides and grad_fn names match torch.
"""
from __future__ import annotations

import math

from .. import dtypes as dt
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor, _contiguous_strides
from ._autocast import autocast_call, state as _amp
from ._common import backend, broadcast_shapes, common_device, inplace_by_copy
from ._registry import export, method
from .creation import new_empty, with_out
from .elementwise import _torch_name
from .views import squeeze_inplace_node, unsafe_view


def _alias(t, shape, stride):
    """A transient view of ``t`` for the kernel call (no autograd, no view bookkeeping)."""
    return Tensor._make(t._storage, shape, stride, t._offset, t.dtype)


def _mat3(m):
    return _alias(m, (1,) + m._shape, (0,) + m._stride)


def _col3(v):
    return _alias(v, (1, v._shape[0], 1), (0, v._stride[0], 0))


def _row3(v):
    return _alias(v, (1, 1, v._shape[0]), (0, 0, v._stride[0]))


def _bmm_raw(a, b, out_shape=None):
    """a @ b for 3-D (B, M, K) and (B, K, N) tensors into a new tensor of ``out_shape``
    (default (B, M, N); any shape with the same elements), no autograd."""
    common_device(a, b)
    shape3 = (a._shape[0], a._shape[1], b._shape[2])
    out = new_empty(shape3 if out_shape is None else out_shape, a.dtype, a.device)
    backend(out).bmm(out if out_shape is None else _alias(out, shape3, _contiguous_strides(shape3)), a, b)
    return out


def _column_major(t):
    """True for a matrix whose transpose is contiguous (e.g. ``weight.t()`` in ``linear``)."""
    return t._stride[0] == 1 and t._shape[0] > 1 and t._stride[1] == t._shape[0]


def _transposed(t):
    """``t.t()`` as a transient alias: no autograd node, no view bookkeeping."""
    return _alias(t, t._shape[::-1], t._stride[::-1])


def _tr(t):
    """``t.t()`` inside a backward formula: the plain alias when no graph is being recorded
    (an ordinary backward pass), the differentiable view under create_graph."""
    return t.t() if grad_mode.enabled else _transposed(t)


def _mm_grad(x, y, like):
    """``x @ y``, the gradient of matrix ``like``, computed in ``like``'s layout as torch does.

    A column-major operand (``linear``'s ``weight.t()``) gets ``(y.T @ x.T).T``: the same
    values, and its transpose (the weight's own gradient) comes out contiguous, so the
    optimizer reads it in place instead of copying it every step. Without a graph to
    record, the product runs on the kernel directly, skipping the op layer.
    """
    column_major = _column_major(like)
    if grad_mode.enabled:
        return y.t().mm(x.t()).t() if column_major else x.mm(y)
    if column_major:
        return _transposed(_mm_raw(_transposed(y), _transposed(x)))
    return _mm_raw(x, y)


def _mm_raw(a, b):
    """a @ b for matrices of one dtype and device, into a new contiguous tensor, no autograd:
    the backend's own 2-D product where it has one, else its batched product."""
    common_device(a, b)
    direct = getattr(backend(a), "mm", None)
    out = direct(a, b) if direct is not None else None
    return out if out is not None else _bmm_raw(_mat3(a), _mat3(b), (a._shape[0], b._shape[1]))


def _expand_batch(g, a):
    return g.unsqueeze(0).expand(a._shape[0], *g._shape)


# name -> (node name, forward on raw tensors, grad wrt a, grad wrt b)
PRODUCTS = {
    "mm": ("MmBackward0", _mm_raw,
           lambda g, a, b: _mm_grad(g, _tr(b), a), lambda g, a, b: _mm_grad(_tr(a), g, b)),
    "mv": ("MvBackward0", lambda a, b: _bmm_raw(_mat3(a), _col3(b), (a._shape[0],)),
           lambda g, a, b: g.outer(b), lambda g, a, b: a.t().mv(g)),
    "dot": ("DotBackward0", lambda a, b: _bmm_raw(_row3(a), _col3(b), ()),
            lambda g, a, b: g * b, lambda g, a, b: g * a),
    "bmm": ("BmmBackward0", _bmm_raw,
            lambda g, a, b: g.bmm(b.transpose(1, 2)), lambda g, a, b: a.transpose(1, 2).bmm(g)),
    "addbmm": ("AddbmmBackward0", lambda a, b: _bmm_raw(a, b).sum(0, dtype=a.dtype),  # ints keep theirs
               lambda g, a, b: _expand_batch(g, a).bmm(b.transpose(1, 2)),
               lambda g, a, b: a.transpose(1, 2).bmm(_expand_batch(g, a))),
}


class _Product(Function):
    """``kind`` product of two tensors (see ``PRODUCTS``)."""

    kind = None

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return PRODUCTS[cls.kind][1](a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        _, _, grad_a, grad_b = PRODUCTS[cls.kind]
        return (grad_a(grad, a, b) if ctx.needs_input_grad[0] else None,
                grad_b(grad, a, b) if ctx.needs_input_grad[1] else None)


class _AddProduct(Function):
    """beta * input + alpha * (a ``kind`` b) as one node (addmm, addmv, baddbmm, addbmm)."""

    kind = None

    @classmethod
    def forward(cls, ctx, input, a, b, beta, alpha):
        ctx.save_for_backward(a, b)
        ctx.scales = (beta, alpha)
        return _scaled_product(cls.kind, input, a, b, beta, alpha)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        beta, alpha = ctx.scales
        _, _, grad_a, grad_b = PRODUCTS[cls.kind]
        need = ctx.needs_input_grad
        scaled = grad if alpha == 1 else grad * alpha
        return (None if not need[0] else grad if beta == 1 else grad * beta,
                grad_a(scaled, a, b) if need[1] else None,
                grad_b(scaled, a, b) if need[2] else None, None, None)


def _scaled_product(kind, input, a, b, beta, alpha):
    """beta * input + alpha * (a ``kind`` b), outside the graph."""
    if kind == "mm":
        fused = _fused_addmm(input, a, b, beta, alpha)
        if fused is not None:
            return fused
    dtype = a.dtype
    narrow = dtype in (dt.float16, dt.bfloat16)
    if narrow and kind == "addbmm":
        return _addbmm_per_batch(input, a, b, beta, alpha)
    if narrow:  # torch's 16-bit gemm scales and adds in float32 and rounds once, at the end
        input, a, b = input.float(), a.float(), b.float()
    out = PRODUCTS[kind][1](a, b)
    if alpha != 1:
        out.mul_(alpha)
    if beta != 0:  # torch ignores input entirely when beta is 0 (NaN included)
        out.add_(input if beta == 1 else input * beta)
    return out.to(dtype) if narrow else out


def _addbmm_per_batch(input, a, b, beta, alpha):
    """16-bit addbmm as torch computes it: ``beta * input``, then one addmm per batch, each
    rounded to the dtype (so the rounding errors match torch's, not just its tolerance)."""
    shape = (a._shape[1], b._shape[2])
    out = (input * beta if beta != 0 else input.new_zeros(())).expand(shape).contiguous()
    for k in range(a._shape[0]):
        out = _scaled_product("mm", out, a[k], b[k], 1, alpha)
    return out


def linear_unrecorded(input, weight, bias):
    """``input @ weight.T + bias`` for a 2-d ``input`` in one backend call, where the call
    records nothing (inference, evaluation under no_grad) and the backend has a ``linear``:
    no transposed view, node or generic checks. None where the operands do not plainly fit
    (the general path then computes, or raises torch's error)."""
    if grad_mode.enabled and (input._requires_grad or weight._requires_grad or bias._requires_grad):
        return None
    hook = getattr(backend(input), "linear", None)
    dtype, device = input.dtype, input._storage.device
    if (hook is None or weight.dtype is not dtype or bias.dtype is not dtype or len(weight._shape) != 2
            or len(bias._shape) != 1 or weight._shape[1] != input._shape[1]
            or bias._shape[0] != weight._shape[0] or weight._storage.device != device
            or bias._storage.device != device):
        return None
    return hook(input, weight, bias)


def _fused_addmm(input, a, b, beta, alpha):
    """addmm with the scaling and bias fused into the product where the backend offers it
    (the 'cuda' epilogue, the CPU's one-pass row bias) and the bias matches the result's
    dtype and device; else None. A backend's ``addmm`` returns None to decline a case."""
    hook = getattr(backend(a), "addmm", None)
    if hook is None or input.dtype is not a.dtype or input._storage.device != a._storage.device:
        return None
    common_device(a, b)
    return hook(input, a, b, beta, alpha)


def _product_class(base, kind, node_name):
    return type(node_name.replace("Backward0", ""), (base,), {"kind": kind, "node_name": node_name})


_PRODUCT = {kind: _product_class(_Product, kind, spec[0]) for kind, spec in PRODUCTS.items()}
_ADD_PRODUCT = {kind: _product_class(_AddProduct, kind, name) for kind, name in
                (("mm", "AddmmBackward0"), ("mv", "AddmvBackward0"), ("bmm", "BaddbmmBackward0"),
                 ("addbmm", "AddbmmBackward0"))}


# ------------------------------------------------------------------ argument checks
def _not_bool(kernel, *tensors):
    for t in tensors:
        if t.dtype is dt.bool:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_mm(a, b):
    if len(a._shape) != 2 or len(b._shape) != 2:
        raise RuntimeError(f"{'self' if a.dim() != 2 else 'mat2'} must be a matrix")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} "
                           f"and {b._shape[0]}x{b._shape[1]})")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    _not_bool("addmm_impl_cpu_", a, b)


def _check_mv(a, v):
    if a.dim() != 2 or v.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.dim()}, {v.dim()}")
    if a._shape[1] != v._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), "
                           f"vec ({v._shape[0]})")
    if a.dtype is not v.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {a.dtype} and {v.dtype}")
    _not_bool("addmv_impl_cpu", a, v)


def _check_dot(a, b):
    if a.dim() != 1 or b.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.dim()}D and {b.dim()}D tensors")
    if a._shape[0] != b._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a._shape[0]}] and src "
                           f"[{b._shape[0]}] "
                           f"to have the same number of elements, but got {a._shape[0]} and {b._shape[0]} "
                           "elements respectively")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {a.dtype} and "
                           f"{b.dtype}")
    _not_bool("dot", a, b)


def _check_bmm(a, b):
    if a.dim() != 3 or b.dim() != 3:
        raise RuntimeError(f"batch{1 if a.dim() != 3 else 2} must be a 3D tensor")
    if a._shape[0] != b._shape[0] or a._shape[2] != b._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}].")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype} but found {b.dtype}")
    _not_bool("bmm", a, b)


_CHECKS = {"mm": _check_mm, "mv": _check_mv, "dot": _check_dot, "bmm": _check_bmm, "addbmm": _check_bmm}


def _product(kind, a, b):
    _CHECKS[kind](a, b)
    return _PRODUCT[kind].apply(a, b)


def _input_dtype_error(kind, input, a):
    """torch's message for an ``input`` whose dtype differs from the product's."""
    got, want = _torch_name(input.dtype), _torch_name(a.dtype)
    if kind == "mv":
        return RuntimeError(f"addmv input tensors must have the same dtype, but got {got}, {want}, and "
                            f"{want}")
    if kind == "bmm":
        return RuntimeError(f"Input dtypes must be the same, got: input {input.dtype}, batch1: {a.dtype}, "
                            f"batch2: {a.dtype}")
    return RuntimeError(f"self and mat2 must have the same dtype, but got {got} and {want}")


def _add_product(kind, input, a, b, beta, alpha):
    _CHECKS[kind](a, b)
    common_device(input, a, b)
    if input.dtype is not a.dtype:
        raise _input_dtype_error(kind, input, a)
    shape = (a._shape[0],) if kind == "mv" else (a._shape[-2], b._shape[-1]) if kind != "bmm" else \
        (a._shape[0], a._shape[1], b._shape[2])
    bias = input._shape  # linear's bias (the last dim) and a full-size input need no broadcasting check
    if bias != shape and bias != shape[-1:] and broadcast_shapes(bias, shape) != shape:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1]}) must match the existing size "
                           f"({input._shape[-1]}) at non-singleton dimension {len(shape) - 1}.  "
                           "Target sizes: "
                           f"{list(shape)}.  Tensor sizes: {list(input._shape)}")
    return _ADD_PRODUCT[kind].apply(input, a, b, beta, alpha)


# ------------------------------------------------------------------ public ops
@export
@with_out
def mm(input, mat2):
    if _amp.on:
        return autocast_call("mm", mm, input, mat2)
    return _product("mm", input, mat2)


@export
@with_out
def mv(input, vec):
    if _amp.on:
        return autocast_call("mv", mv, input, vec)
    return _product("mv", input, vec)


@export
@with_out
def dot(input, other):
    if _amp.on:
        return autocast_call("dot", dot, input, other)
    return _product("dot", input, other)


@export
@with_out
def inner(input, other):
    """Sum over the last dims of both (torch computes it as a tensordot, hence the final view)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    k = input._shape[-1]
    if other._shape[-1] != k:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._shape)} and {list(other._shape)}")
    if input.dim() == 1 and other.dim() == 1:
        return dot(input, other).view(())
    rows = math.prod(input._shape[:-1]), math.prod(other._shape[:-1])  # not -1: k may be 0
    prod = mm(input.reshape(rows[0], k), other.reshape(rows[1], k).t())
    return prod.view(input._shape[:-1] + other._shape[:-1])


@export
@with_out
def bmm(input, mat2):
    if _amp.on:
        return autocast_call("bmm", bmm, input, mat2)
    return _product("bmm", input, mat2)


@export(aliases=("ger",))
def outer(input, vec2):
    return input.reshape(-1, 1) * vec2


@export
@with_out
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    if _amp.on:
        return autocast_call("addmm", addmm, input, mat1, mat2, beta=beta, alpha=alpha)
    return _add_product("mm", input, mat1, mat2, beta, alpha)


@export
@with_out
def addmv(input, mat, vec, *, beta=1, alpha=1):
    if _amp.on:
        return autocast_call("addmv", addmv, input, mat, vec, beta=beta, alpha=alpha)
    return _add_product("mv", input, mat, vec, beta, alpha)


@export
@with_out
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if _amp.on:
        return autocast_call("baddbmm", baddbmm, input, batch1, batch2, beta=beta, alpha=alpha)
    return _add_product("bmm", input, batch1, batch2, beta, alpha)


@export
@with_out
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if _amp.on:
        return autocast_call("addbmm", addbmm, input, batch1, batch2, beta=beta, alpha=alpha)
    return _add_product("addbmm", input, batch1, batch2, beta, alpha)


@export
@with_out
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta input + alpha outer(vec1, vec2), input broadcast to the outer product's shape;
    beta = 0 ignores input (its NaNs too), as torch."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.dim()}-D")
    product = outer(vec1, vec2)
    if not dt.result_type(input, product).is_floating_point:
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating "
                                   "point number.")
    product = product if alpha == 1 else product * alpha
    input = input.expand(product.shape)
    if beta == 0:
        return product + input.detach().new_zeros(())
    return product + (input if beta == 1 else input * beta)


for _op in (addmm, addmv, baddbmm, addbmm, addr):  # torch.addmm_ is only a method, torch.addmv_ both
    method(inplace_by_copy(_op, _op.__name__ + "_"))
export(inplace_by_copy(addmv, "addmv_"), method=False)


@export
def matrix_power(input, n):
    """input^n for square (batches of) matrices by repeated squaring; n = 0 is the identity,
    a negative n the power of the inverse (linalg.inv: a singular input raises LinAlgError)."""
    if input.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    rows, cols = input._shape[-2:]
    if rows != cols:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{rows} by {cols} matrices")
    if n < 0:
        from .decompositions import inv
        input, n = inv(input), -n
    if n == 0:  # the identity written over a copy, as torch: a zero gradient for input
        from .creation import eye
        return input.clone().copy_(eye(rows, dtype=input.dtype, device=input.device))
    result, base = None, input
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result.clone() if result is input else result
        base = matmul(base, base)


# ------------------------------------------------------------------ matmul
@export
@with_out
def matmul(input, other):
    """torch.matmul: dot, mv, mm, or (batch-broadcast) bmm, as ATen's _matmul_impl does it."""
    if _amp.on:
        return autocast_call("matmul", matmul, input, other)
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    da, db = input.dim(), other.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return squeeze_inplace_node(mm(input.unsqueeze(0), other), 0)
    if da == 2 and db == 2:
        return mm(input, other)
    if da == 3 and db == 3:
        input, other = _squeeze_unit_batch(input, other)
        if input.dim() == 2 or other.dim() == 2:
            return matmul(input, other)
    if _should_fold(input, other):
        return _matmul_folded(input, other)
    return _matmul_batched(input, other)


def _squeeze_unit_batch(a, b):
    """3-D @ 3-D where only one batch is 1 and that operand requires grad: use it as a matrix.

    torch does this so the operand's gradient comes from one mm, not a sum over the batch.
    """
    if a._shape[0] == 1 and b._shape[0] != 1 and a._requires_grad:
        return a.squeeze(0), b
    if b._shape[0] == 1 and a._shape[0] != 1 and b._requires_grad:
        return a, b.squeeze(0)
    return a, b


def _should_fold(a, b):
    """Fold the batch of the larger operand into an mm/mv when that costs no copy (ATen rule)."""
    t1, dim2, small = (a, b.dim(), b) if a.dim() >= b.dim() else (b.mT, a.dim(), a)
    if not (t1.dim() >= 3 and dim2 <= 2):
        return False
    if small._requires_grad:
        return True  # keeps the small operand's gradient an mm, not a batch sum
    if a.dim() == 2:
        return False
    if t1.numel() == 0:
        return True
    return all(t1._stride[i] == t1._stride[i + 1] * t1._shape[i + 1] for i in range(t1.dim() - 1))


def _matmul_folded(a, b):
    transpose = b.dim() > a.dim()
    t1 = b.mT if transpose else a
    t2 = (a.t() if a.dim() == 2 else a) if transpose else b
    out_shape = t1._shape[:-1]
    folded = 1
    for s in out_shape:
        folded *= s
    t1_folded = t1.reshape(folded, t1._shape[-1])
    if t2.dim() == 2:
        out = unsafe_view(t1_folded.mm(t2), out_shape + (t2._shape[1],))
        return out.mT.contiguous() if transpose else out
    return unsafe_view(t1_folded.mv(t2), out_shape)


def _matmul_batched(a, b):
    n = a._shape[-2] if a.dim() > 1 else 1
    m1 = a._shape[-1]
    m2 = b._shape[-2] if b.dim() > 1 else b._shape[0]
    p = b._shape[-1] if b.dim() > 1 else 1
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype} but found {b.dtype}")
    if m1 != m2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_numel(broadcast_shapes(a._shape[:-2], b._shape[:-2]))}, {m1}] but got: "
                           f"[{_numel(broadcast_shapes(a._shape[:-2], b._shape[:-2]))}, {m2}].")
    batch = broadcast_shapes(a._shape[:max(a.dim() - 2, 0)], b._shape[:max(b.dim() - 2, 0)])
    count = _numel(batch)
    a3 = a.expand(*batch, n, m1).reshape(count, n, m1)
    if b.dim() == 1:
        b3 = b.expand(*batch, m2).reshape(count, m2).unsqueeze(2)
        prod = bmm(a3, b3).squeeze(-1)
    else:
        prod = bmm(a3, b.expand(*batch, m2, p).reshape(count, m2, p))
    out_shape = batch + ((n,) if a.dim() > 1 else ()) + ((p,) if b.dim() > 1 else ())
    return unsafe_view(prod, out_shape)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n
