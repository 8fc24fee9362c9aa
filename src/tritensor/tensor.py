"""``Tensor``: the user surface: data model, attributes, Python operators, conversions.

A tensor is a strided view (shape, stride, storage offset, dtype) of a ``Storage``.
Computation lives in ``tritensor.ops``; the op functions that torch also exposes as
methods are attached to this class when ``tritensor.ops`` is imported (see
``ops/_registry.py``), so this file holds only what is specific to the tensor object.
"""
from __future__ import annotations

import functools

from . import dtypes as _dt
from . import autograd as _autograd
from .autograd import grad_mode
from .device import device as _device_type
from .size import Size

_new_object = object.__new__
_as_size = tuple.__new__  # a tensor's own shape needs no checking: ``Size(shape)`` without it
ops = None  # ``tritensor.ops``, bound at the end of package import (it imports this module)


@functools.lru_cache(maxsize=4096)
def _contiguous_strides(shape):
    """Row-major strides of ``shape`` (cached: every new tensor asks for them)."""
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


class Tensor:
    # _np: the CPU backend's numpy view of the elements, _flat: the same as one flat contiguous
    # array (False if the view is not contiguous); both built on first use, reset with the view
    __slots__ = ("_storage", "_shape", "_stride", "_offset", "dtype", "_requires_grad", "_grad",
                 "_grad_fn", "_np", "_flat", "__weakref__", "__dict__")
    # Autograd fields most tensors never set: class-level defaults, so creating a tensor
    # (on every op) writes only the slots above; a tensor that sets one keeps it in __dict__.
    _output_nr = 0
    _base = None
    _accumulator = None
    _leaf_hooks = None
    _retains_grad = False
    _view_fn = None
    #: set on what ``.data`` returns: its writes (and its views') leave the version alone
    _untracked = False
    #: made inside inference_mode (set by ``new_tensor``); see ``is_inference``
    _inference = False

    # ------------------------------------------------------------------ construction
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, device=None, dtype=None):
        """``Tensor(2, 3)`` is uninitialised of that shape; ``Tensor([2, 3])`` holds the data."""
        if getattr(self, "_storage", None) is not None:
            return  # built by _make
        dt = dtype or _dt.get_default_dtype()
        if len(args) == 1 and isinstance(args[0], Size):
            src = ops.empty(args[0], dtype=dt, device=device)
        elif len(args) == 1 and not isinstance(args[0], int):
            src = ops.tensor(args[0], dtype=dt, device=device)
        elif all(isinstance(a, int) for a in args):
            src = ops.empty(args if args else (0,), dtype=dt, device=device)
        else:
            raise TypeError(f"Tensor(): invalid arguments {args!r}")
        _init_from(self, src._storage, src._shape, src._stride, src._offset, src.dtype)

    @classmethod
    def _make(cls, storage, shape, stride, offset, dtype):
        if cls is Tensor:
            return new_tensor(storage, shape, stride, offset, dtype)
        t = _new_object(cls)  # a subclass (Parameter): rare, so the generic re-pointing
        _init_from(t, storage, shape, stride, offset, dtype)
        return t

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return _as_size(Size, self._shape)

    def size(self, dim=None):
        if dim is None:
            return _as_size(Size, self._shape)
        return self._shape[ops.wrap_dim(dim, len(self._shape))]

    def dim(self) -> int:
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        n = 1
        for s in self._shape:
            n *= s
        return n

    nelement = numel

    def stride(self, dim=None):
        if dim is None:
            return self._stride
        return self._stride[ops.wrap_dim(dim, len(self._shape))]

    def storage_offset(self) -> int:
        return self._offset

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        if self._stride == _contiguous_strides(self._shape):
            return True
        expected = 1
        for size, stride in zip(reversed(self._shape), reversed(self._stride)):
            if size == 1:
                continue
            if stride != expected:
                return size == 0 or self.numel() == 0
            expected *= size
        return True

    def data_ptr(self) -> int:
        return self._storage.data_ptr() + self._offset * self.dtype.itemsize

    def untyped_storage(self):
        return self._storage

    @property
    def device(self) -> _device_type:
        return self._storage.device

    @property
    def is_cuda(self) -> bool:
        return self._storage.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._storage.device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    # Backends and layouts tritensor does not have: every tensor is a dense strided one.
    is_meta = is_sparse = is_sparse_csr = is_quantized = is_nested = is_mkldnn = property(lambda self: False)
    is_xpu = is_mps = is_ipu = is_xla = is_vulkan = is_mtia = is_maia = property(lambda self: False)

    @property
    def output_nr(self) -> int:
        return self._output_nr

    def to_dense(self, dtype=None, *, masked_grad=None):
        """A strided tensor is already dense: itself (a cast when ``dtype`` differs)."""
        return self if dtype is None or dtype is self.dtype else self.to(dtype)

    def is_inference(self) -> bool:
        """Made inside ``inference_mode`` (a view shares its base's answer)."""
        return (self if self._base is None else self._base)._inference

    def is_floating_point(self) -> bool:
        return self.dtype.category == _dt._FLOAT

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    @property
    def _version(self) -> int:
        return self._storage.version

    def _bump_version(self):
        """Count an in-place write, for autograd's check of saved tensors. torch gives ``.data``
        a version counter of its own, so writes through it (``w.data.mul_(10)``) and through its
        views go unseen by autograd; here the count lives on the storage, so they skip it."""
        if self._untracked or self._base is not None and self._base._untracked:
            return
        self._check_writable()  # a backstop: the in-place ops check before they write
        self._storage.version += 1

    def _check_writable(self):
        """Refuse an in-place write to an inference tensor outside inference_mode (torch's rule);
        called before the write so a refused call leaves the data as it was."""
        if (self._inference or self._base is not None and self._base._inference) and not grad_mode.inference:
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed. You "
                               "can make a clone to get a normal tensor before doing inplace update.")

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def _is_view(self) -> bool:
        return self._base is not None

    def _is_view_fn(self):
        return self._base is not None

    is_view = property(_is_view_fn)

    # ------------------------------------------------------------------ autograd surface
    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves). A view whose base was modified
        in place since gets a fresh ``AsStridedBackward0`` of the base (like torch)."""
        fn = self._grad_fn
        if fn is not None and fn._view_version is not None and fn._view_version != self._storage.version:
            from .autograd.copy_slices import regenerate_view_grad_fn
            fn = regenerate_view_grad_fn(self)
        return fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and not self.is_floating_point():
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        """The accumulated gradient (leaves, and non-leaves that called ``retain_grad()``)."""
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                                   f"tensor of size '{list(self.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor "
                                   f"with dtype '{self.dtype}'")
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    def detach(self):
        """The same data (storage and version counter shared) cut out of the graph."""
        out = Tensor._make(self._storage, self._shape, self._stride, self._offset, self.dtype)
        out._np, out._flat = self._np, self._flat  # the same elements: keep the cached arrays
        return out

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The same data cut out of the graph, its writes hidden from autograd (``_bump_version``)."""
        out = self.detach()
        out._untracked = True
        return out

    @data.setter
    def data(self, other):
        _init_from(self, other._storage, other._shape, other._stride, other._offset, other.dtype,
                   keep_autograd=True)

    def retain_grad(self):
        """Make backward fill ``.grad`` of this non-leaf too (after its other hooks ran)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self.grad_fn._has_hooks = True
        self.grad_fn.__dict__.setdefault("_retained", {})[self._output_nr] = self

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import _add_hook, gradient_edge, tensor_hooks
        node, nr = gradient_edge(self)
        return _add_hook(tensor_hooks(node, nr), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward accumulated into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.graph import _add_hook
        if self._leaf_hooks is None:
            self._leaf_hooks = []
        return _add_hook(self._leaf_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' ``.grad`` (torch semantics)."""
        _autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs)

    # ------------------------------------------------------------------ conversions
    def numpy(self, *, force=False):
        # torch's order: the device first, then a gradient (only while grad mode records one)
        if self.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self.device.type}:{self.device.index or 0} device type "
                                "tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.")
            return self.detach().cpu().numpy()
        if self._requires_grad and grad_mode.enabled and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self.dtype is _dt.bfloat16:
            raise TypeError("Got unsupported ScalarType BFloat16")
        return ops.as_ndarray(self)

    #: above numpy's arrays and scalars: ``np.float32(2) + t`` calls ``t.__radd__`` (a tensor,
    #: recorded for autograd), not numpy's ufunc on ``t.__array__()``
    __array_priority__ = 1000

    def __array__(self, dtype=None, copy=None):
        """numpy's view of the tensor, with numpy() rules (torch's): no grad, CPU, no bfloat16."""
        arr = self.numpy()
        if dtype is not None and arr.dtype != dtype:
            if copy is False:
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def tolist(self):
        return ops.to_host_array(self).tolist()

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return ops.to_host_array(self).reshape(()).item()

    def __float__(self):
        return float(self._one_element())

    def __int__(self):
        return int(self._one_element())

    def _one_element(self):
        """``item()`` for Python's number conversions, which torch refuses with a ValueError."""
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self):
        if self.dtype.category != _dt._INT or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'more than one value' if n else 'no values'} "
                               "is ambiguous")
        return bool(self.item())

    def __complex__(self):
        return complex(self._one_element())

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        """A 0-d tensor formats as its number (``f"loss {loss}"`` prints ``loss 0.5``), any
        other as its repr; a format spec on those is a TypeError, as in torch."""
        if self.dim() == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        from ._dlpack import to_dlpack
        return to_dlpack(self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        return (1, 0) if self.device.type == "cpu" else (2, self.device.index or 0)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (ops.to_host_array(self).copy(), self.dtype.name, str(self.device),
                           self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.")
        out = self.detach().clone()
        out._requires_grad = self._requires_grad
        if self.grad is not None:
            out.grad = self.grad.detach().clone()
        memo[id(self)] = out
        return out

    # ------------------------------------------------------------------ operators
    # (+, -, * and / with their fast lane are set by ops/elementwise.py)
    def __iadd__(self, other): return self.add_(other)
    def __rsub__(self, other): return ops.rsub(self, other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __rtruediv__(self, other): return ops.mul(ops.reciprocal(self), other)  # torch's formula
    def __itruediv__(self, other): return self.div_(other)
    def __floordiv__(self, other): return ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def __ifloordiv__(self, other): return self.floor_divide_(other)
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)
    def __imod__(self, other): return self.remainder_(other)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __ipow__(self, other): return self.pow_(other)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __invert__(self):
        if self.dtype.is_floating_point:
            raise TypeError("bad operand type for unary ~: 'Tensor' (bitwise_not is only defined for "
                            f"integer and bool tensors, got {self.dtype})")
        return ops.bitwise_not(self)
    def __and__(self, other): return ops.bitwise_and(self, other)
    def __rand__(self, other): return ops.bitwise_and(self, other)
    def __iand__(self, other): return self.bitwise_and_(other)
    def __or__(self, other): return ops.bitwise_or(self, other)
    def __ror__(self, other): return ops.bitwise_or(self, other)
    def __ior__(self, other): return self.bitwise_or_(other)
    def __xor__(self, other): return ops.bitwise_xor(self, other)
    def __rxor__(self, other): return ops.bitwise_xor(self, other)
    def __ixor__(self, other): return self.bitwise_xor_(other)
    def __lshift__(self, other): return ops.bitwise_left_shift(self, other)
    def __rshift__(self, other): return ops.bitwise_right_shift(self, other)
    def __rlshift__(self, other): return ops.bitwise_left_shift(ops.scalar_tensor_like(other, self), self)
    def __rrshift__(self, other): return ops.bitwise_right_shift(ops.scalar_tensor_like(other, self), self)
    def __eq__(self, other): return ops.eq(self, other)
    def __ne__(self, other): return ops.ne(self, other)
    def __lt__(self, other): return ops.lt(self, other)
    def __le__(self, other): return ops.le(self, other)
    def __gt__(self, other): return ops.gt(self, other)
    def __ge__(self, other): return ops.ge(self, other)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __setitem__(self, index, value): ops.setitem(self, index, value)

    @property
    def T(self):
        return ops.permute(self, tuple(range(self.dim() - 1, -1, -1)))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        return self.mT

    @property
    def real(self):
        return self

    # ------------------------------------------------------------------ device / dtype moves
    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            prefix = "torch.cuda." if self.is_cuda else "torch."
            return prefix + _LEGACY_NAMES[self.dtype]
        if isinstance(dtype, str):
            return self.to(_dtype_from_type_string(dtype))
        if isinstance(dtype, type) and hasattr(dtype, "_legacy_dtype"):
            return self.to(dtype._legacy_dtype, device=dtype._legacy_device)
        return self.to(dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else (device if not isinstance(device, int)
                                                      else f"cuda:{device}"), non_blocking=non_blocking)

    def get_device(self) -> int:
        return -1 if self.device.type == "cpu" else (self.device.index or 0)


def new_tensor(storage, shape, stride, offset, dtype):
    """A new ``Tensor`` viewing ``storage``: every op's output, so every field is written here
    directly (no helper call); the other ways to point a tensor at a view go through it."""
    t = _new_object(Tensor)
    t._storage = storage
    t._shape = shape
    t._stride = stride
    t._offset = offset
    t.dtype = dtype
    t._np = None
    t._flat = None
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    if grad_mode.inference:
        t._inference = True
    return t


_VIEW_FIELDS = ("_storage", "_shape", "_stride", "_offset", "dtype", "_np", "_flat")
_AUTOGRAD_FIELDS = ("_requires_grad", "_grad", "_grad_fn")


def _init_from(t, storage, shape, stride, offset, dtype, keep_autograd=False):
    """Point the existing tensor ``t`` at a storage view (``Tensor(...)``, ``.data =``);
    ``keep_autograd`` leaves its requires_grad, grad and grad_fn as they are."""
    src = new_tensor(storage, shape, stride, offset, dtype)
    for name in _VIEW_FIELDS + (() if keep_autograd else _AUTOGRAD_FIELDS):
        setattr(t, name, getattr(src, name))


_LEGACY_NAMES = {_dt.float32: "FloatTensor", _dt.float64: "DoubleTensor", _dt.float16: "HalfTensor",
                 _dt.bfloat16: "BFloat16Tensor", _dt.int64: "LongTensor", _dt.int32: "IntTensor",
                 _dt.int16: "ShortTensor", _dt.int8: "CharTensor", _dt.uint8: "ByteTensor",
                 _dt.bool: "BoolTensor"}


def _dtype_from_type_string(name):
    short = name.rsplit(".", 1)[-1]
    for d, legacy in _LEGACY_NAMES.items():
        if legacy == short:
            return d
    if short in _dt.BY_NAME:
        return _dt.BY_NAME[short]
    raise ValueError(f"invalid type: '{name}'")


def _rebuild(array, dtype_name, device, requires_grad):
    t = ops.tensor(array, dtype=_dt.BY_NAME[dtype_name], device=device)
    t._requires_grad = requires_grad
    return t


def _make_legacy_type(dtype, device_type):
    """A class like ``FloatTensor``: calling it builds a tensor; ``isinstance`` checks dtype."""

    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj.dtype is dtype and obj.device.type == device_type

    def _new(cls, *args, **kwargs):
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            return ops.tensor(args[0], dtype=dtype, device=device_type)
        return ops.empty(*(args or (0,)), dtype=dtype, device=device_type)

    name = _LEGACY_NAMES[dtype]
    return _Meta(name, (), {"__new__": _new, "_legacy_dtype": dtype, "_legacy_device": device_type,
                            "dtype": dtype, "is_cuda": device_type == "cuda"})


LEGACY_TYPES = {name: _make_legacy_type(d, "cpu") for d, name in _LEGACY_NAMES.items()}
CUDA_LEGACY_TYPES = {name: _make_legacy_type(d, "cuda") for d, name in _LEGACY_NAMES.items()}
