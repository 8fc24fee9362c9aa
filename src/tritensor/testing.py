"""``torch.testing.assert_close``: tensors, numbers and nested sequences/mappings of them compared
within per-dtype tolerances, with torch's defaults and failure messages."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor

__all__ = ["assert_close"]

#: torch's default (rtol, atol) by dtype; integers and bool compare exactly
_DEFAULT_TOLERANCES = {
    _dt.float16: (1e-3, 1e-5),
    _dt.bfloat16: (1.6e-2, 1e-5),
    _dt.float32: (1.3e-6, 1e-5),
    _dt.float64: (1e-7, 1e-7),
}


_MESSAGE_NP = {_dt.float64: np.float64, _dt.float16: np.float16}


class _Mismatch(AssertionError):
    pass


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (``|a - e| <= atol + rtol * |e|``
    elementwise; NaN equal only with ``equal_nan``), with the same shape, dtype and device."""
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}."
        )
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride, "")
    except _Mismatch as failure:
        message = str(failure)
        if msg is not None:
            message = msg(message) if callable(msg) else msg
        raise AssertionError(message) from None


def _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride, where):
    if isinstance(actual, Tensor) or isinstance(expected, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            raise TypeError(
                f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
            )
        return _compare_tensors(
            actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride, where
        )
    if isinstance(actual, (bool, int, float, complex)) and isinstance(expected, (bool, int, float, complex)):
        return _compare_numbers(actual, expected, rtol, atol, equal_nan, where)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise _Mismatch(
                f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                f"{sorted(set(expected) - set(actual), key=repr)}\nAdditional keys in the actual "
                f"mapping: {sorted(set(actual) - set(expected), key=repr)}{where}"
            )
        for key in expected:
            _compare(
                actual[key],
                expected[key],
                rtol,
                atol,
                equal_nan,
                check_device,
                check_dtype,
                check_stride,
                _item(where, key),
            )
        return
    if (
        isinstance(actual, Sequence)
        and isinstance(expected, Sequence)
        and not isinstance(actual, str)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}{where}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_device, check_dtype, check_stride, _item(where, i))
        return
    if actual != expected:
        raise _Mismatch(f"{actual!r} != {expected!r}{where}")


def _item(where, key):
    index = f"[{key!r}]"
    return f"{where[:-1]}{index}" if where else f"\n\nThe failure occurred for item {index}"


def _compare_numbers(actual, expected, rtol, atol, equal_nan, where):
    if rtol is None:
        rtol, atol = (1e-7, 1e-7) if isinstance(expected, float) or isinstance(actual, float) else (0.0, 0.0)
    if _close(np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol, atol, equal_nan).all():
        return
    raise _scalar_mismatch(actual, expected, rtol, atol, where)


def _scalar_mismatch(actual, expected, rtol, atol, where):
    """torch's message for two numbers (or 0-d tensors) that differ."""
    diff = abs(actual - expected)
    rel = diff / abs(expected) if expected else math.inf
    kind = "close" if rtol or atol else "equal"
    return _Mismatch(
        f"Scalars are not {kind}!\n\nExpected {expected} but got {actual}.\nAbsolute difference: "
        f"{diff}{_allowed(atol, kind)}\nRelative difference: {rel}{_allowed(rtol, kind)}{where}"
    )


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride, where):
    checks = [("shape", actual.shape, expected.shape)]
    if check_device:
        checks.append(("device", actual.device, expected.device))
    if check_dtype:
        checks.append(("dtype", actual.dtype, expected.dtype))
    if check_stride:
        checks.append(("stride()", actual.stride(), expected.stride()))
    for name, a, e in checks:
        if a != e:
            raise _Mismatch(f"The values for attribute '{name}' do not match: {a} != {e}.{where}")
    if rtol is None:
        rtol, atol = (
            max(_DEFAULT_TOLERANCES.get(d, (0.0, 0.0))[k] for d in (actual.dtype, expected.dtype))
            for k in (0, 1)
        )
    a = _as_float64(actual)
    e = _as_float64(expected)
    bad = ~_close(a, e, rtol, atol, equal_nan)
    if not bad.any():
        return
    if a.ndim == 0:
        raise _scalar_mismatch(a.item(), e.item(), rtol, atol, where)
    kind = "close" if rtol or atol else "equal"
    # torch reports the differences in the compared dtype (integers as float32)
    a, e = (x.astype(_MESSAGE_NP.get(actual.dtype, np.float32)) for x in (a, e))
    abs_diff = np.abs(a - e)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = abs_diff / np.abs(e)
    lines = [
        f"Tensor-likes are not {kind}!",
        "",
        f"Mismatched elements: {int(bad.sum())} / {bad.size} ({100 * bad.sum() / bad.size:.1f}%)",
    ]
    for label, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        ranked = np.where(bad, np.nan_to_num(diff, nan=np.inf), -np.inf)  # NaN is the greatest, as in torch
        index = np.unravel_index(int(np.argmax(ranked)), bad.shape)
        value = float(diff[index])
        shown = int(value) if kind == "equal" and label == "absolute" else value
        lines.append(
            f"Greatest {label} difference: {shown} at index {tuple(int(i) for i in index)}"
            f"{_allowed(tol, kind)}"
        )
    raise _Mismatch("\n".join(lines) + where)


def _as_float64(t):
    return np.asarray(
        t.detach().cpu().double().numpy() if t.dtype is not _dt.bool else t.detach().cpu().numpy(), np.float64
    )


def _close(a, e, rtol, atol, equal_nan):
    with np.errstate(invalid="ignore"):
        close = (a == e) | (np.abs(a - e) <= atol + rtol * np.abs(e))
    return close | (np.isnan(a) & np.isnan(e)) if equal_nan else close


def _allowed(tolerance, kind):
    return f" (up to {tolerance} allowed)" if kind == "close" else ""
