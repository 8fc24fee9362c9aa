"""fp32 matmul precision: ``set_float32_matmul_precision`` and the ``backends`` flag objects.

One setting, as in torch: ``tritensor.set_float32_matmul_precision('highest'|'high'|'medium')``
and ``tritensor.backends.cuda.matmul.allow_tf32`` are two views of it. The 'cuda' backend
turns it into ``tl.dot``'s ``input_precision`` for float32 products:

- 'highest' (the default): ``'ieee'``, products as accurate as IEEE fp32;
- 'high' and 'medium' (or ``allow_tf32 = True``): ``'tf32'``, tensor cores with 10-bit
  mantissa inputs, as torch's cuBLAS does;
- ``backends.cuda.matmul.fp32_precision = 'tf32x3'`` (a tritensor extension): three TF32
  products per multiply-add, about fp32 accuracy at tensor-core speed. It reports 'high'.

The CPU ignores all of it, like torch's CPU kernels. 16-bit products always use tensor
cores with fp32 accumulation.
"""
from __future__ import annotations

import warnings

_NAMES = {"highest": "ieee", "high": "tf32", "medium": "tf32"}
_MODES = ("ieee", "tf32", "tf32x3")

#: [float32_matmul_precision name, tl.dot input precision]
_state = ["highest", "ieee"]


def fp32_precision() -> str:
    """The ``tl.dot`` input precision for float32 products: 'ieee', 'tf32' or 'tf32x3'."""
    return _state[1]


def set_float32_matmul_precision(precision) -> None:
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _NAMES:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _state[:] = [precision, _NAMES[precision]]


def get_float32_matmul_precision() -> str:
    return _state[0]


class _Flags:
    """Attribute flags that refuse unknown names (like torch's ``backends`` objects)."""

    _defaults: dict = {}

    def __init__(self):
        object.__setattr__(self, "_values", dict(self._defaults))

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name not in self._defaults:
            raise AttributeError(f"Unknown attribute {name}")
        if not isinstance(value, bool):
            raise RuntimeError(f"{name} expects a bool, but got {type(value).__name__}")
        self._values[name] = value


class MatmulFlags(_Flags):
    """``tritensor.backends.cuda.matmul``: ``allow_tf32`` and ``fp32_precision`` are views of
    the float32 matmul precision; the reduced-precision-reduction flags are accepted (16-bit
    products always accumulate in fp32 here)."""

    _defaults = {"allow_fp16_reduced_precision_reduction": True,
                 "allow_bf16_reduced_precision_reduction": True}

    @property
    def allow_tf32(self) -> bool:
        return _state[1] == "tf32"

    @allow_tf32.setter
    def allow_tf32(self, value):
        if not isinstance(value, bool):
            raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got {type(value).__name__}")
        _state[:] = ["high", "tf32"] if value else ["highest", "ieee"]

    @property
    def fp32_precision(self) -> str:
        return _state[1]

    @fp32_precision.setter
    def fp32_precision(self, value):
        if value not in _MODES:
            raise RuntimeError(f"fp32_precision must be one of {', '.join(map(repr, _MODES))}, got {value!r}")
        _state[:] = ["highest" if value == "ieee" else "high", value]

    def __setattr__(self, name, value):
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


class CudnnFlags(_Flags):
    """``tritensor.backends.cudnn``: accepted for compatibility; tritensor has no cuDNN."""

    _defaults = {"allow_tf32": True, "enabled": True, "benchmark": False, "deterministic": False}

    def is_available(self) -> bool:
        return False


matmul = MatmulFlags()
cudnn = CudnnFlags()
