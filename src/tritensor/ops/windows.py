"""Signal windows (torch.hann_window ...): torch's formulas over ``arange``, in the requested
floating dtype, on any device. A periodic window of length N is the symmetric one of length
N + 1 without its last point (the form spectral analysis wants)."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as dt
from ..device import as_device
from ._common import require_int
from ._registry import export
from .creation import arange, full_like, ones


def _window(name, window_length, periodic, dtype, device, requires_grad, formula):
    """``formula(n, m)`` of the sample indices ``n`` (0 .. m) of the symmetric window, m its
    length minus one."""
    window_length = require_int(name, "window_length", 1, window_length)
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    device = as_device(device)
    if window_length <= 1:
        result = ones(window_length, dtype=dtype, device=device)
    else:
        m = window_length if periodic else window_length - 1
        result = formula(arange(window_length, dtype=dtype, device=device), m)
    return result.requires_grad_(requires_grad)


def _cosine_sum(*coefficients):
    """sum_k (-1)^k a_k cos(2 pi k n / m): the Hann, Hamming and Blackman family."""
    def formula(n, m):
        result = full_like(n, coefficients[0])
        for k, a in enumerate(coefficients[1:], 1):
            result = result + (-1) ** k * a * (n * (2 * math.pi * k / m)).cos()
        return result
    return formula


@export(method=False)
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None,
                   device=None, pin_memory=False, requires_grad=False):
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(alpha, beta))


@export(method=False)
def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.5, 0.5))


@export(method=False)
def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.42, 0.5, 0.08))


@export(method=False)
def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 1 - (n * (2 / m) - 1).abs())


@export(method=False)
def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((n - m/2) / (m/2))^2)) / I0(beta)."""
    def formula(n, m):
        r = (n - m / 2) * (2 / m)
        return (beta * (1 - r * r).clamp(min=0).sqrt()).i0() / float(np.i0(beta))
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, formula)
