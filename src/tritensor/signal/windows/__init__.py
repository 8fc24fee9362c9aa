"""``torch.signal.windows``: scipy-style windows of length M, symmetric by default
(``sym=False``: the periodic window, the symmetric one of length M + 1 without its last
point). Each is a formula over the sample indices ``n`` in float32/float64, so it runs on
any device; lengths 0 and 1 give an empty tensor and ``[1.]``."""
from __future__ import annotations

import math

import numpy as np

from ... import dtypes as dt
from ...ops.creation import arange, ones

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _window(name, M, sym, dtype, device, requires_grad, formula):
    """``formula(n, L)`` over n = 0 .. M-1, L the symmetric length minus one (M - 1, or M for
    a periodic window)."""
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    dtype = dtype or dt.get_default_dtype()
    if dtype not in (dt.float32, dt.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    if M <= 1:
        return ones(M, dtype=dtype, device=device, requires_grad=requires_grad)
    n = arange(M, dtype=dt.float64, device=device)
    return formula(n, M - 1 if sym else M).to(dtype).requires_grad_(requires_grad)


def _positive(name, value, allow_zero=False):
    if value < 0 or (value == 0 and not allow_zero):
        requirement = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {requirement}, got: {value} instead.")


def _cosine_sum(coefficients):
    """sum_k (-1)^k a_k cos(2 pi k n / L)."""
    def formula(n, L):
        total = n * 0 + float(coefficients[0])
        for k, a in enumerate(coefficients[1:], 1):
            total = total + (-1) ** k * float(a) * (n * (2 * math.pi * k / L)).cos()
        return total
    return formula


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """exp(-((n - L/2) / std)^2 / 2)."""
    _window_length_first("gaussian", M, dtype)
    _positive("Standard deviation", std)
    return _window("gaussian", M, sym, dtype, device, requires_grad,
                   lambda n, L: (-(((n - L / 2) / std) ** 2) / 2).exp())


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau); the center defaults to the window's middle."""
    _window_length_first("exponential", M, dtype)
    _positive("Tau", tau)
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    return _window("exponential", M, sym, dtype, device, requires_grad,
                   lambda n, L: (-(n - (L / 2 if center is None else center)).abs() / tau).exp())


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / (L + 1))."""
    return _window("cosine", M, sym, dtype, device, requires_grad,
                   lambda n, L: ((n + 0.5) * (math.pi / (L + 1))).sin())


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """I0(beta sqrt(1 - ((n - L/2) / (L/2))^2)) / I0(beta)."""
    _window_length_first("kaiser", M, dtype)
    _positive("beta", beta, allow_zero=True)

    def formula(n, L):
        r = (n - L / 2) / (L / 2)
        return (beta * (1 - r * r).clamp(min=0).sqrt()).i0() / float(np.i0(beta))
    return _window("kaiser", M, sym, dtype, device, requires_grad, formula)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    if not isinstance(a, (list, tuple)):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    return _window("general_cosine", M, sym, dtype, device, requires_grad, _cosine_sum(a))


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, sym=sym, dtype=dtype, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, device=device, requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """1 - |2n / L - 1|."""
    return _window("bartlett", M, sym, dtype, device, requires_grad, lambda n, L: 1 - (n * (2 / L) - 1).abs())


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          device=device, requires_grad=requires_grad)


def _window_length_first(name, M, dtype):
    """torch checks the length and dtype before the window's own parameters."""
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if (dtype or dt.get_default_dtype()) not in (dt.float32, dt.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
