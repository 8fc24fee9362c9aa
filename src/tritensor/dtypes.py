"""dtype objects and torch's type-promotion rules.

A ``dtype`` knows its storage numpy dtype (bfloat16 is stored as raw uint16 bits,
since numpy has no bfloat16) and its compute numpy dtype (16-bit floats compute
in float32, as torch does on CPU).  Promotion follows ``torch.result_type``:
tensors with dimensions outrank 0-d tensors, which outrank Python scalars, and a
lower-ranked operand only matters when its category (bool < int < float) is higher.
"""
from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16",
    "bfloat16", "float32", "float64", "half", "float", "double", "short", "int",
    "long", "promote_types", "result_type", "get_default_dtype", "set_default_dtype",
    "can_cast",
]

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type; compare with ``is`` or ``==`` like torch.dtype."""

    __slots__ = ("name", "itemsize", "category", "is_signed", "storage_np", "compute_np", "_rank")

    def __init__(self, name, itemsize, category, is_signed, storage_np, compute_np, rank):
        self.name = name
        self.itemsize = itemsize
        self.category = category
        self.is_signed = is_signed
        self.storage_np = np.dtype(storage_np)
        self.compute_np = np.dtype(compute_np)
        self._rank = rank

    @property
    def is_floating_point(self):
        return self.category == _FLOAT

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return self.name

    __hash__ = object.__hash__  # dtypes are singletons: identity hashing, done in C


bool = dtype("bool", 1, _BOOL, False, np.bool_, np.bool_, 0)
uint8 = dtype("uint8", 1, _INT, False, np.uint8, np.uint8, 1)
int8 = dtype("int8", 1, _INT, True, np.int8, np.int8, 1)
int16 = dtype("int16", 2, _INT, True, np.int16, np.int16, 2)
int32 = dtype("int32", 4, _INT, True, np.int32, np.int32, 3)
int64 = dtype("int64", 8, _INT, True, np.int64, np.int64, 4)
float16 = dtype("float16", 2, _FLOAT, True, np.float16, np.float32, 1)
bfloat16 = dtype("bfloat16", 2, _FLOAT, True, np.uint16, np.float32, 1)
float32 = dtype("float32", 4, _FLOAT, True, np.float32, np.float32, 2)
float64 = dtype("float64", 8, _FLOAT, True, np.float64, np.float64, 3)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
FLOATING_DTYPES = (float16, bfloat16, float32, float64)
#: the dtypes whose kernels compute in float32 (their storage is narrower)
NARROW_FLOATS = (float16, bfloat16)
INTEGRAL_DTYPES = (uint8, int8, int16, int32, int64)
BY_NAME = {d.name: d for d in ALL_DTYPES}
BY_NAME.update(half=half, float=float, double=double, short=short, int=int, long=long)

_FROM_NUMPY = {np.dtype(np.bool_): bool, np.dtype(np.uint8): uint8, np.dtype(np.int8): int8,
               np.dtype(np.int16): int16, np.dtype(np.int32): int32, np.dtype(np.int64): int64,
               np.dtype(np.float16): float16, np.dtype(np.float32): float32,
               np.dtype(np.float64): float64}


def from_numpy_dtype(np_dtype) -> dtype:
    """The tritensor dtype of a numpy dtype; TypeError for ones torch cannot hold."""
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.") from None


_default_dtype = float32


def get_default_dtype() -> dtype:
    return _default_dtype


def set_default_dtype(d: dtype) -> None:
    global _default_dtype
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a._rank > b._rank else b
    # integers: mixing uint8 with a signed type needs a signed type wider than 8 bits
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank > b._rank else b


_PROMOTION = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both can be cast to without losing category."""
    return _PROMOTION[a, b]


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a Python scalar as an operand ("wrapped number")."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool
    if isinstance(value, builtins.int):
        check_int_argument(value)
        return int64
    if isinstance(value, np.integer):
        return int64
    return _default_dtype


def round_scalar(value, d: dtype) -> builtins.float:
    """The Python number ``value`` as float16/bfloat16 ``d`` holds it (round to nearest even;
    beyond the range, infinity). torch casts a number operand to an op's dtype before
    computing; the narrow dtypes' kernels compute in float32, so it is rounded here first."""
    with np.errstate(over="ignore"):
        single = np.float32(value)
        if d is float16:
            return builtins.float(np.float16(single))
    bits = builtins.int(single.view(np.uint32))
    if single != single:
        return builtins.float(single)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return builtins.float(np.uint32(bits).view(np.float32))


#: the Python ints torch's argument parser takes as a number: int64's, then uint64's range
INT_ARGUMENT_MIN, INT_ARGUMENT_END = -(1 << 63), 1 << 64


def check_int_argument(value: builtins.int) -> None:
    """OverflowError like torch for a Python int that no 64-bit integer holds (``x + 10**40``:
    torch refuses it before looking at dtypes; numpy would round it to inf)."""
    if not INT_ARGUMENT_MIN <= value < INT_ARGUMENT_END:
        raise OverflowError("int too big to convert" if value > 0 else
                            "can't convert negative int to unsigned")


def _combine(higher, lower):
    # c10's combine_categories: a lower-priority operand only lifts the category.
    if higher is None:
        return lower
    if lower is None or higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return _PROMOTION[higher, lower]
    return higher


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars (any number of operands)."""
    common = getattr(operands[0], "dtype", None) if operands else None
    if common.__class__ is dtype:  # fast path: tensors that all share one dtype
        for op in operands:
            if getattr(op, "dtype", None) is not common:
                break
        else:
            return common
    dim_result = zero_result = wrapped_result = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.dim() > 0:
                dim_result = d if dim_result is None else _PROMOTION[dim_result, d]
            else:
                zero_result = d if zero_result is None else _PROMOTION[zero_result, d]
        else:
            d = scalar_dtype(op)
            wrapped_result = d if wrapped_result is None else _PROMOTION[wrapped_result, d]
    return _combine(dim_result, _combine(zero_result, wrapped_result))


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: casting is allowed unless it lowers the category."""
    return from_.category <= to.category
