"""masked_fill and nonzero/argwhere (masked_select/masked_scatter index through a plan, in
``advanced_indexing``)."""
from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from ._common import backend, broadcast_shapes
from ._indexing_common import _Mutating, _check_mask, _columns, _expand_raw, _run
from ._registry import export, method
from .creation import check_fill_value, with_out, zeros


# ------------------------------------------------------------------ masked_fill
class _MaskedFill(_Mutating):
    node_name = "MaskedFillBackward0"
    refuses_expanded = refuses_shared_arguments = False  # torch checks neither here

    @staticmethod
    def write(ctx, out, mask, value):
        backend(out).masked_fill(out, _expand_raw(mask, out._shape),
                                 value.item() if isinstance(value, Tensor) else value)
        ctx.save_for_backward(mask)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad.masked_fill(mask, 0), None, None


class _MaskedFillTensor(_MaskedFill):
    node_name = "MaskedFillBackward1"

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad.masked_fill(mask, 0), None, grad.masked_select(mask).sum()


def _masked_fill_entry(self, mask, value, inplace):
    _check_mask(mask, "masked_fill_ only supports boolean masks, but got mask with dtype {c}")
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.dim()} dimension(s).")
    shape = broadcast_shapes(self._shape, mask._shape)
    if inplace and shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    if not inplace and shape != self._shape:
        self = self.expand(shape)
    check_fill_value(value.item() if isinstance(value, Tensor) else value, self.dtype)
    cls = _MaskedFillTensor if isinstance(value, Tensor) else _MaskedFill
    return _run(cls, self, mask, value, inplace=inplace)


@export
def masked_fill(input, mask, value):
    return _masked_fill_entry(input, mask, value, False)


@method
def masked_fill_(self, mask, value):
    return _masked_fill_entry(self, mask, value, True)


# ------------------------------------------------------------------ nonzero
@export
@with_out
def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements: (n, ndim) int64, or one 1-D tensor per dim (as_tuple)."""
    idx = backend(input).nonzero(input)
    if not as_tuple:
        return idx
    if input.dim() == 0:
        return (zeros(idx._shape[0], dtype=dt.int64, device=input.device),)
    return _columns(idx)


@export
def argwhere(input):
    return nonzero(input)
