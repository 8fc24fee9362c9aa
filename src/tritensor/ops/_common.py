"""Shared op-layer helpers: dims, broadcasting, devices, backends, scalar operands."""
from __future__ import annotations

import functools
import operator

from .. import dtypes as dt
from ..autograd import grad_mode
from ..backends import backend_for
from ..tensor import Tensor


def wrap_dim(dim, ndim: int) -> int:
    """Normalise a possibly negative ``dim``; IndexError naming the valid range like torch."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        if isinstance(dim, bool) or not hasattr(dim, "__index__"):
            raise TypeError(f"a dim must be an int, not {type(dim).__name__}")
        dim = dim.__index__()
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim: int):
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int) or not isinstance(dims, (tuple, list)) and hasattr(dims, "__index__"):
        dims = (dims,)  # one dim: an int, or a numpy integer
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return out


def is_int(value) -> bool:
    """An int or any integer type (``__index__``: numpy integers, integer tensors), but not a
    bool: what torch's argument parser takes as an int."""
    try:
        operator.index(value)
    except TypeError:
        return False
    return not isinstance(value, bool)


def require_int(function: str, argument: str, position: int, value) -> int:
    """``value`` as an int, or torch's argument-parser TypeError (a float or bool where an int
    is required; numpy integers pass, as in torch)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be int, not "
                        f"{type(value).__name__}")
    return value.__index__()


@functools.lru_cache(maxsize=1024)
def broadcast_shapes(*shapes):
    """torch.broadcast_shapes of tuples; RuntimeError naming the mismatching sizes. Cached:
    every broadcasting op asks, for the few shape pairs a model has (0.9 -> 0.1 us)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        offset = ndim - len(s)
        for i, n in enumerate(s):
            j = offset + i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(
                    f"The size of tensor a ({out[j]}) must match the size of tensor b ({n}) at "
                    f"non-singleton dimension {i}")
    return tuple(out)


def common_device(*operands):
    """The device all tensor operands share; RuntimeError like torch if they differ.

    A 0-d CPU tensor may join a CUDA op, as in torch (it acts as a scalar).
    """
    device = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x._storage.device
            if device is None or device is d or device == d:
                device = d
            elif x.dim() == 0 and d.type == "cpu":
                continue
            elif device.type == "cpu" and _zero_dim_cpu(operands, device):
                device = d
            else:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{device} and {d}!")
    return device


def _zero_dim_cpu(operands, device):
    return all(not isinstance(x, Tensor) or x._storage.device != device or x.dim() == 0
               for x in operands)


def is_scalar(x) -> bool:
    return isinstance(x, (int, float, bool)) or (not isinstance(x, Tensor) and hasattr(x, "__index__")) \
        or type(x).__module__ == "numpy"


def backend(t: Tensor):
    return backend_for(t._storage.device)


def raise_if_any(bad: Tensor, exc: type, message: str, values: Tensor = None) -> None:
    """Raise ``exc(message.format(v))`` if any element of the bool tensor ``bad`` is set, ``v``
    the first flagged element of ``values`` (same shape). A backend that checks on its device
    (``report_any``: 'cuda') records it there instead, raised by the next call that waits for
    the device, as torch's CUDA build reports a device-side assert: no host sync per call."""
    report = getattr(backend(bad), "report_any", None)
    if report is not None and report(bad, exc, message, values):
        return
    if bool(bad.any()):
        first = bad.reshape(-1).tolist().index(True)
        raise exc(message.format(values.reshape(-1)[first].item() if values is not None else None))


def float_result(d):
    """dtype of ops that always produce floats (exp, div, mean ...): ints become the default."""
    return d if d.category == dt._FLOAT else dt.get_default_dtype()


def inplace_by_copy(op, name):
    """``name``, the in-place form of ``op`` (``op(self, ...)`` computed out of place, then
    copied into self), for ops torch does not broadcast into self: the result must keep self's
    shape and dtype, else torch's "Bad in-place call". While autograd records, ``op`` reads a
    clone, so what it saves for backward is not the tensor the copy overwrites."""
    def op_(self, *args, **kwargs):
        source = self.clone() if self._requires_grad and grad_mode.enabled else self
        result = op(source, *args, **kwargs)
        if result.shape != self.shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(self.shape)} and output tensor "
                               f"size {list(result.shape)} should match")
        if result.dtype is not self.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {self.dtype} and output tensor dtype "
                               f"{result.dtype} should match")
        return self.copy_(result)
    op_.__name__ = op_.__qualname__ = name
    op_.__doc__ = f"In-place ``{name[:-1]}`` (Tensor.{name})."
    return op_
