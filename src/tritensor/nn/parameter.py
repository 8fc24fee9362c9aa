"""``Parameter``: a Tensor that a ``Module`` registers as one of its learnable weights."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered when assigned to a Module.

    It shares storage with ``data`` (like torch), so ``Parameter(t)`` is not a copy.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .. import ops
            data = ops.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        p = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype)
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__ (Tensor.__init__ would rebuild the tensor)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self.requires_grad)  # without .grad, as torch's
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module (``nn.Buffer``)."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .. import ops
            data = ops.empty(0)
        b = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype)
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass
