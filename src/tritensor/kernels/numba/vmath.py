"""Vectorisable exp, the functions built on it, and a row max, for the CPU kernels.

LLVM vectorises a loop only when every call in it has a vector form. llvmlite ships no
vector math library, so a loop calling ``np.exp`` or ``np.tanh`` makes one scalar libm call
per element: about 1 ns for exp and 7 ns for tanh on the project's machine, where a float32
op's memory floor is ~0.1 ns per element (torch's SLEEF kernels come close to it). The
functions here use multiplies, adds, compares and exponent-bit arithmetic only, with no
branches, so loops over them compile to AVX2 / AVX-512 code. (Compiled with error_model
'numpy': Python's ZeroDivisionError check in a division would be a branch.)

``exp`` works in its argument's width. The argument is reduced as ``x = n ln2 + r``
(|r| <= ln2 / 2; ln2 in two parts, so ``n ln2`` is exact), ``exp(r)`` is its Taylor
polynomial (degree 13 in float64, truncation error < 5e-18; degree 7 in float32, < 6e-9),
and ``2^n`` is applied as two halves built from their exponent bits, so results below the
normal range round once into denormals and results past the largest value become inf.
Measured against long-double references: within 1.2 ulp in either width
(tests/test_vmath.py).

Numba's disk cache checks only a kernel's own source file: kernels specialised through
``_specialize`` fingerprint this module's source; the plain ``@njit(cache=True)`` kernels that
call it (softmax, cross entropy) need their ``__pycache__`` cleared after an edit here.

``tanh`` of float32 goes through float64 (where ``(1 - e) / (1 + e)`` has bits to spare for
its cancellation near 0) and is rounded once; float64 keeps libm's ``tanh``.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

inline = numba.njit(cache=True, nogil=True, inline="always")


def _bitcast(source, target):
    """An intrinsic reinterpreting a ``source`` scalar's bits as a ``target`` (an LLVM
    bitcast, which vectorises like any integer op)."""
    @intrinsic
    def reinterpret(typingctx, value):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))
        return target(source), codegen
    return reinterpret


_bits_to_float32 = _bitcast(types.int32, types.float32)
_bits_to_float64 = _bitcast(types.int64, types.float64)
_float32_bits = _bitcast(types.float32, types.int32)
_float64_bits = _bitcast(types.float64, types.int64)


#: ln2 in two parts (fdlibm's split): n * _LN2_HI is exact for |n| < 2^20
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.44269504088896338700
_F32 = np.float32
#: the float32 split: 0.693359375 has 9 significant bits, so n * _LN2_HI_32 is exact
_LN2_HI_32, _LN2_LO_32, _LOG2E_32 = _F32(0.693359375), _F32(-2.12194440e-4), _F32(_LOG2E)
_C32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(8))
#: just outside the arguments where exp overflows to inf or rounds to 0: clamping there
#: keeps n and its exponent arithmetic in range (NaN is put back at the end)
_EXP_RANGE_64 = (-746.0, 710.0)
_EXP_RANGE_32 = (_F32(-104.0), _F32(89.0))


@inline
def _pow2_64(n):
    """2.0 ** n for an int64 n in [-1022, 1023], from its exponent bits."""
    return _bits_to_float64((n + 1023) << 52)


@inline
def _pow2_32(n):
    """2.0 ** n as a float32, for an int32 n in [-126, 127]."""
    return _bits_to_float32((n + np.int32(127)) << np.int32(23))


@inline
def _exp64_clamped(c):
    """exp(c) for c in [-746, 710]."""
    n = np.floor(c * _LOG2E + 0.5)
    r = (c - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600 + r * (1 / 6227020800)))))))))))))
    k = np.int64(n)
    half = k >> 1  # 2^n as 2^half * 2^(n - half): both factors are normal for every n here
    return p * _pow2_64(half) * _pow2_64(k - half)


@inline
def _exp32_clamped(c):
    """exp(c) for c in [-104, 89]."""
    n = np.floor(c * _LOG2E_32 + _F32(0.5))
    r = (c - n * _LN2_HI_32) - n * _LN2_LO_32
    p = _C32[0] + r * (_C32[1] + r * (_C32[2] + r * (_C32[3] + r * (_C32[4] + r * (
        _C32[5] + r * (_C32[6] + r * _C32[7]))))))
    k = np.int32(n)
    half = k >> np.int32(1)
    return p * _pow2_32(half) * _pow2_32(k - half)


@inline
def _exp64(x):
    lo, hi = _EXP_RANGE_64
    c = x if x > lo else lo  # NaN compares false: clamped here, restored below
    c = c if c < hi else hi
    return _exp64_clamped(c) if x == x else x


@inline
def _exp32(x):
    lo, hi = _EXP_RANGE_32
    c = x if x > lo else lo
    c = c if c < hi else hi
    return _exp32_clamped(c) if x == x else x


@inline
def _exp64_nonpositive(x):
    lo = _EXP_RANGE_64[0]
    return _exp64_clamped(x if x > lo else lo)


@inline
def _exp32_nonpositive(x):
    lo = _EXP_RANGE_32[0]
    return _exp32_clamped(x if x > lo else lo)


def exp(x):
    """exp(x) in the argument's width, vectorisable (see the module docstring)."""
    return math.exp(x)


@overload(exp)
def _exp_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _exp32(x)
    return lambda x: _exp64(x)


def exp_nonpositive(x):
    """``exp`` for arguments known to be <= 0 or -inf, never NaN (logits minus their row's
    max): no overflow or NaN to handle, a few instructions less per element."""
    return math.exp(x)


@overload(exp_nonpositive)
def _exp_nonpositive_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _exp32_nonpositive(x)
    return lambda x: _exp64_nonpositive(x)


def sigmoid(x):
    """1 / (1 + exp(-x)) in the argument's width: nothing cancels, so the error is exp's
    plus two roundings."""
    return 1.0 / (1.0 + math.exp(-x))


@overload(sigmoid)
def _sigmoid_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        one = _F32(1.0)
        return lambda x: one / (one + _exp32(-x))
    return lambda x: 1.0 / (1.0 + _exp64(-x))


@inline
def _tanh_for_float32(x):
    """tanh of a float64 that will be rounded to float32. (1 - e) / (1 + e), e = exp(-2|x|),
    loses log2(1 / |x|) bits near 0; below 2^-12 it is x (1 - x^2 / 3), which keeps -0.0."""
    e = _exp64(-2.0 * abs(x))
    t = (1.0 - e) / (1.0 + e)
    t = t if x > 0.0 else -t
    return x * (1.0 - x * x * (1 / 3)) if abs(x) < 0.000244140625 else t


def tanh(x):
    """tanh(x): vectorised for float32, libm's for float64 (see the module docstring)."""
    return math.tanh(x)


@overload(tanh, inline="always")
def _tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _F32(_tanh_for_float32(np.float64(x)))
    return lambda x: np.tanh(x)


@inline
def _ordered32(bits):
    """Sign-magnitude float bits <-> integers in the floats' order (the map is its own inverse)."""
    return bits ^ ((bits >> np.int32(31)) & np.int32(0x7FFFFFFF))


@inline
def _ordered64(bits):
    return bits ^ ((bits >> 63) & 0x7FFFFFFFFFFFFFFF)


@inline
def _row_max32(row):
    top = _ordered32(_float32_bits(row[0]))
    nans = 0
    for c in range(row.shape[0]):
        v = row[c]
        key = _ordered32(_float32_bits(v))
        top = key if key > top else top
        nans += v != v
    return _bits_to_float32(_ordered32(top)) if nans == 0 else _F32(np.nan)


@inline
def _row_max64(row):
    top = _ordered64(_float64_bits(row[0]))
    nans = 0
    for c in range(row.shape[0]):
        v = row[c]
        key = _ordered64(_float64_bits(v))
        top = key if key > top else top
        nans += v != v
    return _bits_to_float64(_ordered64(top)) if nans == 0 else np.nan


def row_max(row):
    """The largest value of a non-empty 1-D float array, NaN if it holds one: the shift of a
    softmax row. LLVM vectorises a float max reduction only under no-NaN fast-math, so the
    values are compared as integers in the floats' order (an integer max vectorises), with
    the NaNs counted alongside; -0.0 ranks below 0.0. ~7x the scalar loop here."""
    return max(row)


@overload(row_max)
def _row_max_impl(row):
    if isinstance(row.dtype, types.Float) and row.dtype.bitwidth == 32:
        return lambda row: _row_max32(row)
    return lambda row: _row_max64(row)


def like(value, sample):
    """``value`` in ``sample``'s float type, so a float32 row's arithmetic stays in float32
    lanes (twice as many per vector as float64)."""
    return float(value)


@overload(like, inline="always")
def _like_impl(value, sample):
    if isinstance(sample, types.Float) and sample.bitwidth == 32:
        return lambda value, sample: np.float32(value)
    return lambda value, sample: np.float64(value)
