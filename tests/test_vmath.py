"""The CPU's vectorisable exp, sigmoid, tanh, erf, normal_cdf, normal_pdf and gelu
(kernels/numba/vmath.py), measured in ulps.

The references are computed in extended precision (x86's 80-bit long double), so an error
of the reference itself is far below a float64 ulp; without extended precision the float64
checks compare with numpy's float64 functions and allow one more ulp. Every op is run
through tritensor's own kernels: the contiguous loop, and a strided view for the ufunc path.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math
import platform

import numpy as np
import pytest
import torch

import tritensor
from tritensor.kernels.numba import _specialize

EXTENDED = np.finfo(np.longdouble).nmant >= 63
REF = np.longdouble if EXTENDED else np.float64


def _ulps(got, exact, dtype):
    """|got - exact| in units of the last place of ``exact`` rounded to ``dtype``."""
    rounded = exact.astype(dtype)
    spacing = np.spacing(np.abs(rounded)).astype(REF)
    return np.abs(got.astype(REF) - exact) / spacing


def _op(op):
    return getattr(tritensor.nn.functional if op in ("gelu", "mish") else tritensor, op)


def _run(op, x):
    """``op`` of ``x`` through the contiguous kernel and through a strided view."""
    flat = _op(op)(tritensor.tensor(x)).numpy()
    strided = _op(op)(tritensor.tensor(np.stack([x, x], 1))[:, 0]).numpy()
    np.testing.assert_array_equal(flat, strided)
    return flat


def _sweep(lo, hi, dtype, n=200_001, seed=0):
    """Evenly spaced, uniform and log-spread points (tiny ones near 0, where series take
    over, and huge ones for wide ranges), all within [lo, hi]."""
    rng = np.random.default_rng(seed)
    tiny = rng.uniform(-1, 1, n // 4) * 10.0 ** rng.uniform(-30, 0, n // 4)
    wide = 10.0 ** rng.uniform(-30, np.log10(hi), n // 4) if hi > 100 else tiny
    x = np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n // 4), tiny, wide])
    return x[(x >= lo) & (x <= hi)].astype(dtype)


_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)

EXACT = {
    "exp": lambda x: np.exp(x.astype(REF)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x.astype(REF))),
    "tanh": lambda x: np.tanh(x.astype(REF)),
    "log": lambda x: np.log(x.astype(REF)),
    "log1p": lambda x: np.log1p(x.astype(REF)),
    "expm1": lambda x: np.expm1(x.astype(REF)),
    "sin": lambda x: np.sin(x.astype(REF)),  # long double sinl: its argument reduction is exact
    "cos": lambda x: np.cos(x.astype(REF)),
    "tan": lambda x: np.tan(x.astype(REF)),
    "atan": lambda x: np.arctan(x.astype(REF)),
    "log2": lambda x: np.log2(x.astype(REF)),
    "log10": lambda x: np.log10(x.astype(REF)),
    "mish": lambda x: x.astype(REF) * np.tanh(np.log1p(np.exp(x.astype(REF)))),
    # float64 libm references, ~1 float64 ulp: exact enough for float32 results
    "erf": lambda x: _erf(x.astype(np.float64)).astype(REF),
    "gelu": lambda x: (x.astype(REF) * _erfc(-x.astype(np.float64) / math.sqrt(2)).astype(REF) / 2),
}


@pytest.mark.parametrize("op,dtype,lo,hi,max_ulps", [
    ("exp", np.float32, -104.0, 89.0, 1.3),     # denormal results, overflow to inf
    ("exp", np.float64, -746.0, 710.0, 1.3),
    ("sigmoid", np.float32, -90.0, 90.0, 2.5),
    ("sigmoid", np.float64, -700.0, 700.0, 2.5),
    ("tanh", np.float32, -12.0, 12.0, 1.5),    # Cephes' float32 polynomial below 0.625, exp above
    ("tanh", np.float64, -40.0, 40.0, 1.5),    # Cephes' rational form below 0.625, exp above
    ("log", np.float32, 0.0, 3e38, 0.51),
    ("log", np.float64, 0.0, 1.7e308, 2.1),
    ("log1p", np.float32, -1.0, 1e30, 0.51),
    ("log1p", np.float64, -1.0, 1e300, 3.1),
    ("expm1", np.float32, -20.0, 89.0, 0.51),
    ("expm1", np.float64, -40.0, 709.0, 3.5),
    ("sin", np.float32, -3e38, 3e38, 0.51),    # float64 inside, exact reduction (kernels/numba/vtrig.py)
    ("cos", np.float32, -3e38, 3e38, 0.51),
    ("tan", np.float32, -3e38, 3e38, 0.51),
    ("atan", np.float32, -3e38, 3e38, 0.51),   # float64 inside (Cephes' atan), rounded once
    ("log2", np.float32, 0.0, 3e38, 0.51),
    ("log10", np.float32, 0.0, 3e38, 0.51),
    ("mish", np.float32, -110.0, 80.0, 0.51),
    ("mish", np.float64, -700.0, 700.0, 4.5),  # below, e^x is denormal (torch loses digits too)
    ("erf", np.float32, -6.0, 6.0, 1.0),      # float32 throughout, see test_float32_erf_cdf_pdf_gelu
    ("gelu", np.float32, -14.0, 14.0, 2.0),
])
def test_accuracy_in_ulps(op, dtype, lo, hi, max_ulps):
    with np.errstate(all="ignore"):  # the references' own log(0), overflow
        x = _sweep(lo, hi, dtype)
        got = _run(op, x)
        exact = EXACT[op](x)
        rounded = exact.astype(dtype)
        finite = np.isfinite(rounded)
        normal = finite & (np.abs(rounded) >= np.finfo(dtype).tiny)
        err = _ulps(got[normal], exact[normal], dtype)
    allowed = max_ulps + (0 if EXTENDED or dtype is np.float32 else 1)
    worst = int(np.argmax(err))
    assert err.max() <= allowed, f"{op}({x[normal][worst]!r}) off by {float(err.max()):.2f} ulp"
    assert np.all(np.isinf(got[~finite]))  # where the exact value overflows
    # below the normal range (sigmoid(-88.7) in float32: exp(88.7) is inf there) within a denormal
    tiny = finite & ~normal
    np.testing.assert_allclose(got[tiny].astype(REF), exact[tiny], rtol=0, atol=np.finfo(dtype).tiny)


@pytest.mark.skipif(not EXTENDED, reason="needs long double sin/cos/tan as the reference")
@pytest.mark.parametrize("op", ["sin", "cos", "tan"])
def test_float32_trig_near_multiples_of_half_pi(op):
    """Where the reduced argument cancels most: the float32 values nearest to k pi/2 (and
    their neighbours) for k up to 2^18, and large arguments up to 1e38, within half an ulp."""
    k = np.arange(1, 1 << 18, dtype=REF)
    centers = (k * (REF(np.pi) / 2)).astype(np.float32)
    large = np.random.default_rng(1).uniform(1e3, 1e38, 1 << 16).astype(np.float32)
    x = np.concatenate([centers, np.nextafter(centers, np.float32(np.inf)),
                        np.nextafter(centers, np.float32(0)), large, -large])
    got = _run(op, x)
    exact = getattr(np, op)(x.astype(REF))
    keep = np.abs(exact.astype(np.float32)) >= np.finfo(np.float32).tiny
    err = _ulps(got[keep], exact[keep], np.float32)
    assert err.max() <= 0.51, f"{op}({x[keep][int(np.argmax(err))]!r}) off by {float(err.max()):.3f} ulp"


SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1e-310, 88.7, 89.0, -87.5, -103.9,
            709.78, 709.79, -745.1, -745.2, 1000.0, -1000.0, -1.0, -0.5, -2.0, 1.0, 1e-7, -1e-7]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "log", "log1p", "expm1", "erf", "log2", "log10",
                                "mish", "sin", "cos", "tan", "atan"])
def test_special_values_match_torch(op, dtype):
    """NaN stays NaN, infinities and signed zeros as torch gives them; a denormal result of
    exp and sigmoid is the exact one rounded (torch's may be 0 where its exp flushes)."""
    with np.errstate(over="ignore"):
        x = np.array(SPECIALS, dtype=dtype)
    got = _op(op)(tritensor.tensor(x)).numpy()
    expected = (torch.nn.functional.mish if op == "mish" else getattr(torch, op))(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    keep = ~np.isnan(got) & (np.abs(expected) >= np.finfo(dtype).tiny)
    np.testing.assert_allclose(got[keep], expected[keep], rtol=4 * np.finfo(dtype).eps, atol=0)
    assert np.array_equal(np.signbit(got[keep]), np.signbit(expected[keep]))
    tiny = ~np.isnan(got) & ~keep  # torch rounds to a denormal or flushes to zero there
    np.testing.assert_allclose(got[tiny], expected[tiny], rtol=0, atol=np.finfo(dtype).tiny)


def test_float32_atan2_within_half_an_ulp_and_torchs_special_values():
    """Magnitudes from 1e-30 to 1e30 in every quadrant and octant (ratios near 0.66, where
    the reduction switches, and near 1), within half an ulp of long double atan2; every pair
    of specials (signed zeros, infinities, NaN, denormals) as torch gives them."""
    rng = np.random.default_rng(3)
    n = 1 << 17
    y = rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-30, 30, n)
    x = rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-30, 30, n)
    near = rng.uniform(0.6, 1.1, n // 4)
    y = np.concatenate([y, near, -near, near])
    x = np.concatenate([x, np.ones(n // 4), -np.ones(n // 4), near])
    y, x = y.astype(np.float32), x.astype(np.float32)
    got = tritensor.atan2(tritensor.tensor(y), tritensor.tensor(x)).numpy()
    exact = np.arctan2(y.astype(REF), x.astype(REF))
    keep = np.abs(exact.astype(np.float32)) >= np.finfo(np.float32).tiny
    err = _ulps(got[keep], exact[keep], np.float32)
    allowed = 0.51 if EXTENDED else 1.0
    worst = int(np.argmax(err))
    assert err.max() <= allowed, f"atan2 at {y[keep][worst]!r} off by {float(err.max()):.3f} ulp"
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1.0, -1.0, 3e38, -3e38],
                        np.float32)
    ys, xs = np.meshgrid(specials, specials)
    got = tritensor.atan2(tritensor.tensor(ys), tritensor.tensor(xs)).numpy()
    expected = torch.atan2(torch.tensor(ys), torch.tensor(xs)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = ~np.isnan(got)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=2 * np.finfo(np.float32).eps, atol=0)
    assert np.array_equal(np.signbit(got[finite]), np.signbit(expected[finite]))


_ERFC_HALF = np.frompyfunc(lambda v: math.erfc(-v * math.sqrt(0.5)) / 2, 1, 1)


def _around(points, k=64):
    """Every float32 within ``k`` ulps of each of ``points``, with either sign."""
    bits = np.abs(np.array(points, np.float32)).view(np.int32)[:, None] + np.arange(-k, k + 1, dtype=np.int32)
    x = bits.ravel().view(np.float32)
    return np.concatenate([x, -x])


def _float32_points(switches, hi):
    """A dense sweep of [-hi, hi], tiny and denormal arguments, huge ones up to float32's
    largest, every float32 near ``switches`` (where the formulas change), and the specials."""
    rng = np.random.default_rng(1)
    tiny, huge = 10.0 ** rng.uniform(-45.5, -30, 20_000), 10.0 ** rng.uniform(1, 38.5, 20_000)
    x = np.concatenate([np.linspace(-hi, hi, 1_000_001), rng.uniform(-hi, hi, 200_000), tiny, -tiny,
                        huge, -huge]).astype(np.float32)
    return np.concatenate([x, _around(switches), np.float32([0.0, -0.0, np.inf, -np.inf, np.nan])])


def _vmath_loop(name):
    """A compiled loop over ``vmath.<name>`` (normal_cdf and normal_pdf are no tensor ops)."""
    import numba
    from tritensor.kernels.numba import vmath

    fn = getattr(vmath, name)

    @numba.njit(error_model="numpy")
    def run(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = fn(x[i])
        return out
    return run


@pytest.mark.parametrize("op,switches,max_ulps", [
    # |x| = 1: series to erfc; 4: erfc's clamp (1 - erfc(4) rounds to 1)
    ("erf", [1.0, 4.0, 0.5, 2.0], 1.0),
    # |x| = 0.5: series to tail; 13.0: cdf(-x) leaves the normal range; 14.05: it rounds to 0;
    # 14.5: the tail's clamp; 5.3: 1 - tail rounds to 1
    ("normal_cdf", [0.5, 13.0, 13.05, 14.05, 14.5, 5.3, 1.0], 1.75),
    ("gelu", [0.5, 13.0, 13.15, 14.2, 14.5, 5.3, 1.0], 2.0),  # x cdf(x): an extra rounding
    ("normal_pdf", [0.5, 13.0, 14.2, 14.5], 1.5),
])
def test_float32_erf_cdf_pdf_gelu(op, switches, max_ulps):
    """float32 erf, normal_cdf, normal_pdf and gelu, computed in float32, against float64
    references (errors ~1e-16, far below a float32 ulp): within ``max_ulps``, normal_cdf and
    gelu keeping their relative accuracy far into the negative tail (no 1 + erf cancellation)
    and rounding once into denormals; exact at infinities, zeros (with their signs) and NaN."""
    x = _float32_points(switches, 16.0)
    x64 = x.astype(np.float64)
    if op == "erf":
        got, exact = _run("erf", x), _erf(x64).astype(REF)
    elif op == "normal_cdf":
        got, exact = _vmath_loop(op)(x), _ERFC_HALF(x64).astype(REF)
    elif op == "normal_pdf":
        with np.errstate(over="ignore"):
            got, exact = _vmath_loop(op)(x), np.exp(-x.astype(REF) ** 2 / 2) / np.sqrt(2 * np.pi, dtype=REF)
    else:
        with np.errstate(invalid="ignore"):  # -inf * 0
            got, exact = _run("gelu", x), x.astype(REF) * _ERFC_HALF(x64).astype(REF)
    _assert_float32_within(op, x, got, exact, max_ulps)


def _assert_float32_within(op, x, got, exact, max_ulps):
    """float32 results within ``max_ulps`` of ``exact``, with NaN, infinities and the signs of
    zeros exactly as in ``exact`` rounded."""
    assert got.dtype == np.float32
    with np.errstate(invalid="ignore"):
        rounded = exact.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exact))  # gelu(-inf) = -inf * 0: nan
    finite = np.isfinite(rounded)  # ulps of the denormals' spacing below the normal range
    err = _ulps(got[finite], exact[finite], np.float32)
    worst = int(np.argmax(err))
    assert err.max() <= max_ulps, f"{op}({x[finite][worst]!r}) off by {float(err.max()):.2f} ulp"
    np.testing.assert_array_equal(got[np.isinf(rounded)], rounded[np.isinf(rounded)])
    zero = rounded == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(rounded[zero]))


def test_float32_tanh_near_its_switches():
    """float32 tanh, computed in float32: within 1.5 ulp, including every float32 near the
    switch from the polynomial to exp (0.625) and where the result saturates to +-1 (9.01,
    and 10, where 2|x| is clamped); exact at infinities, signed zeros and NaN. (Measured on
    every third float32 in [2^-30, 12]: 1.34 ulp at most, 0.12 on average.)"""
    x = _float32_points([0.625, 9.010913, 10.0], 20.0)
    _assert_float32_within("tanh", x, _run("tanh", x), np.tanh(x.astype(REF)), 1.5)


def test_gelu_far_negative_keeps_relative_accuracy():
    """gelu(-6) is -6 normal_cdf(-6) ~ -5.9e-9 (torch's 0.5 x (1 + erf(x / sqrt 2)) gives -0.0)."""
    x = np.float32([-6.0, -10.0, -13.0])
    exact = x.astype(REF) * _ERFC_HALF(x.astype(np.float64)).astype(REF)
    assert np.all(_ulps(_run("gelu", x), exact, np.float32) <= 2.0)


def test_float32_gelu_backward():
    """The gelu_backward kernel, g (normal_cdf(x) + x normal_pdf(x)), in float32: within a few
    ulps of its terms' size (they cancel near x = -0.75), far into the negative tail too, where
    the float64 kernel's 1 + erf cancels."""
    from tritensor.kernels.numba import elementwise

    kernel = elementwise.flat_kernel("gelu_backward", 2)
    x = np.float32([*np.linspace(-16, 16, 200_001), np.inf, -np.inf, np.nan, 0.0, -0.0])
    g = np.random.default_rng(2).uniform(0.5, 2, x.size).astype(np.float32)
    got = np.empty_like(x)
    kernel(got, g, x)
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        cdf, x_pdf = _ERFC_HALF(x64).astype(np.float64), x64 * np.exp(-x64 ** 2 / 2) / math.sqrt(2 * math.pi)
        exact, size = g * (cdf + x_pdf), g * (cdf + np.abs(x_pdf))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exact))  # -inf * 0 at x = -inf
    keep = np.isfinite(exact)
    # past |x| = 13 normal_pdf(x) is a denormal, rounded once, then scaled by x
    allowed = (4 * np.spacing(size[keep].astype(np.float32))
               + np.abs(g * x)[keep] * np.finfo(np.float32).smallest_subnormal)
    worst = int(np.argmax(np.abs(got[keep] - exact[keep]) / allowed))
    assert np.abs(got[keep] - exact[keep])[worst] <= allowed[worst], f"gelu_backward at {x[keep][worst]!r}"


def test_softmax_and_cross_entropy_keep_denormal_probabilities():
    """softmax and cross entropy use the same exp: probabilities below float32's normal range
    are kept (as torch's), not flushed to 0."""
    x = torch.tensor([[0.0, -90.0, -100.0, -200.0]])
    np.testing.assert_array_equal(tritensor.softmax(tritensor.tensor(x.numpy()), 1).numpy(),
                                  torch.softmax(x, 1).numpy())


def test_kernel_fingerprint_covers_the_helper_modules(monkeypatch):
    """An edit of vmath.py (which Numba's cache does not see) renames every specialised
    kernel whose scalar function calls into it."""
    from tritensor.kernels.numba import elementwise, vmath
    calls_vmath = {"scalar_op": elementwise.scalar_function("exp")}
    plain = {"scalar_op": elementwise.scalar_function("neg")}  # -x: no helper module
    before = _specialize._fingerprint(calls_vmath), _specialize._fingerprint(plain)
    monkeypatch.setitem(_specialize._SOURCES, vmath.__file__, b"edited")
    assert _specialize._fingerprint(calls_vmath) != before[0]
    assert _specialize._fingerprint(plain) == before[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_max_is_numpys_max_with_nan_anywhere(dtype):
    """The row max (the softmax and cross entropy shift, llvm.maximum lanes) equals numpy's max,
    NaN-propagating, for rows of every length around the vector width, with NaN of either
    sign, infinities and strided rows; equal values of either zero sign are both right."""
    import numba
    from tritensor.kernels.numba.vmath import row_max

    @numba.njit
    def maxima(rows):
        out = np.empty(rows.shape[0], rows.dtype)
        for i in range(rows.shape[0]):
            out[i] = row_max(rows[i])
        return out

    rng = np.random.default_rng(0)
    negative_nan = -np.abs(np.array(np.nan, dtype))
    assert np.signbit(negative_nan)
    for n in range(1, 70):
        rows = rng.standard_normal((40, 2 * n)).astype(dtype)
        specials = np.array([np.nan, negative_nan, np.inf, -np.inf, 0.0, -0.0], dtype)
        picks = rng.random(rows.shape) < 0.05
        rows[picks] = rng.choice(specials, picks.sum())
        rows[0] = -np.inf
        for r in (rows, rows[:, ::2]):  # contiguous and strided rows
            got, expected = maxima(r), np.max(r, axis=1)
            np.testing.assert_array_equal(got, expected)


def test_softmax_and_cross_entropy_rows_with_negative_nan_or_inf():
    """A row holding NaN of either sign or +inf is NaN throughout, as in torch."""
    x = np.array([[1.0, -np.abs(np.nan), 0.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [-np.inf, 0.0, -1.0]], np.float32)
    def same(got, expected):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)

    for fn in ("softmax", "log_softmax"):
        same(getattr(tritensor, fn)(tritensor.tensor(x), 1).numpy(),
             getattr(torch, fn)(torch.tensor(x), 1).numpy())
        columns = np.ascontiguousarray(x.T)  # the same rows as columns: the middle-dim kernel
        same(getattr(tritensor, fn)(tritensor.tensor(columns), 0).numpy(),
             getattr(torch, fn)(torch.tensor(columns), 0).numpy())
    target = np.array([0, 1, 2, 1])
    ours, theirs = (lib.nn.functional.cross_entropy(lib.tensor(x), lib.tensor(target), reduction="none")
                    for lib in (tritensor, torch))
    same(ours.numpy(), theirs.numpy())


_FENV = {"x86_64": (0x10, 0x3F), "AMD64": (0x10, 0x3F)}.get(platform.machine())


def _underflowed(run):
    """Whether ``run()`` raised the floating-point underflow flag on this thread (results
    below the normal range: x86 computes those in microcode, ~100 cycles an instruction)."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    underflow, every = _FENV
    libm.feclearexcept(every)
    run()
    return bool(libm.fetestexcept(underflow))


_FAR = {np.float32: [-np.inf, -1e30, -1e4, -200.0, -104.0],
        np.float64: [-np.inf, -1e300, -1e4, -1000.0, -746.0]}
_DENORMAL_RESULT = {np.float32: -95.0, np.float64: -740.0}  # exp of these is denormal


def _far_cases(dtype):
    """op name -> (a call on a list of arguments, an argument where it computes a denormal exp,
    which must raise the flag: else the check could not see it)."""
    t = tritensor
    F = t.nn.functional
    near = _DENORMAL_RESULT[dtype]

    def far(values):
        return t.tensor(np.array(values * 8, dtype))

    cases = {
        "exp": (lambda v: t.exp(far(v)), near),
        "sigmoid": (lambda v: t.sigmoid(-far(v)), near),
        "softmax": (lambda v: t.softmax(far([0.0] + v), 0), near),
        "log_softmax": (lambda v: t.log_softmax(far([0.0] + v), 0), near),
        "cross_entropy": (lambda v: F.cross_entropy(far([0.0] + v)[None], t.tensor([0])), near),
        "elu": (lambda v: F.elu(far(v)), -740.0),  # float32's expm1 runs in float64
    }
    if dtype == np.float32:  # float64's erf is libm's
        # gelu(x) and normal_pdf(x) are denormal near -13.8
        cases["gelu"] = (lambda v: F.gelu(far(v)), -13.8)
        cases["gelu_backward"] = (lambda v: F.gelu(far(v).requires_grad_()).sum().backward(), -13.8)
    return cases


@pytest.mark.skipif(_FENV is None, reason="the microcode cost of denormals and the flag values are x86's")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_that_round_to_zero_take_no_denormal_steps(dtype):
    """exp below its range (a -inf attention mask, a saturated sigmoid) computes a stand-in
    and selects 0 instead of underflowing through denormals: 9x slower a vector on x86
    (softmax of a causal mask measured 6.7 -> 1.9 ms). Arguments whose exp is itself denormal
    still take that path, which the control checks."""
    far = _FAR[dtype]
    for name, (call, near) in _far_cases(dtype).items():
        call(far)  # compiled before the flag is cleared
        assert not _underflowed(lambda: call(far)), f"{name} underflowed on {far}"
        assert _underflowed(lambda: call([near])), f"{name}: the control did not raise the flag"
