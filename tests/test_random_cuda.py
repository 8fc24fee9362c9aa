"""Random numbers drawn on the device by tritensor's Triton Philox kernels.

Run with ``TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda`` (the emulated device). The
statistical, dropout and torch-comparison tests run on any DEVICE; the tests of the
device generator's design (exact Philox-4x32-10 values, (seed, offset) state, counters
independent of layout) skip on the CPU, whose generator is numpy's host Philox.

Statistical bounds are 5 sigma (or a KS bound at p ~ 1e-6) with fixed seeds, so they fail
for a wrong distribution, not by chance.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import tritensor
from harness import DEVICE, FLOAT_DTYPES, TT_DTYPES, check, dev, to_numpy

F = tritensor.nn.functional
ON_CUDA = DEVICE.startswith("cuda")
cuda_only = pytest.mark.skipif(not ON_CUDA, reason="tests the 'cuda' Philox generator; run with "
                               "TRITON_INTERPRET=1 TRITENSOR_TEST_DEVICE=cuda (CPU draws come from numpy)")
N = 1 << 14
M32 = 0xFFFFFFFF


# ------------------------------------------------------------------ a host reference of the device stream
def philox_ref(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 in numpy (uint64 arrays holding 32-bit words)."""
    c0, c1, c2, c3 = (np.asarray(c, np.uint64) for c in (c0, c1, c2, c3))
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = c0 * np.uint64(0xD2511F53)
        p1 = c2 * np.uint64(0xCD9E8D57)
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & np.uint64(M32),
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & np.uint64(M32))
        k0 = (k0 + np.uint64(0x9E3779B9)) & np.uint64(M32)
        k1 = (k1 + np.uint64(0xBB67AE85)) & np.uint64(M32)
    return c0, c1, c2, c3


def stream_words(seed, offset, n):
    """The four words of elements 0..n-1 of a draw at (seed, offset): counter offset + i."""
    ctr = np.arange(n, dtype=np.uint64) + np.uint64(offset)
    zero = np.zeros(n, np.uint64)
    return philox_ref(ctr & np.uint64(M32), ctr >> np.uint64(32), zero, zero, seed & M32, seed >> 32)


try:
    import triton
    import triton.language as tl
    from tritensor.kernels.triton.random import philox
except ImportError:  # no triton: the cuda-only tests skip anyway
    triton = None

if triton is not None:
    @triton.jit
    def _philox_words(out, c0, c1, c2, c3, k0, k1):
        lane = tl.arange(0, 4)
        z = (lane * 0).to(tl.uint32)
        r = philox(z + c0.to(tl.uint32), z + c1.to(tl.uint32), z + c2.to(tl.uint32), z + c3.to(tl.uint32),
                   z + k0.to(tl.uint32), z + k1.to(tl.uint32))
        for i in tl.static_range(4):
            tl.store(out + i + lane * 0, r[i].to(tl.int64), mask=lane == 0)


def test_reference_philox_known_answers():
    """The reference against Random123's published Philox-4x32-10 test vectors."""
    vectors = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
               ((M32,) * 4, (M32, M32), (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
               ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
                (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
    for ctr, key, expected in vectors:
        assert tuple(int(w) for w in philox_ref(*ctr, *key)) == expected


@cuda_only
def test_kernel_philox_known_answers():
    from tritensor.backends.cuda import pointer
    from tritensor.kernels.triton.launch import launch
    ctr, key = (0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0)
    out = tritensor.zeros(4, dtype=tritensor.int64, device=DEVICE)
    launch(_philox_words, (1,), pointer(out), *ctr, *key)
    assert out.tolist() == [int(w) for w in philox_ref(*ctr, *key)]


@cuda_only
@pytest.mark.parametrize("n", [1, 1000, 20000])  # 20000: more than one program under the interpreter
def test_rand_is_the_documented_function_of_the_counters(n):
    seed = 0x1234_5678_9ABC_DEF0
    g = tritensor.Generator(DEVICE).manual_seed(seed)
    g.set_offset(77)
    r0, r1, _, _ = stream_words(seed, 77, n)
    f64 = ((r0 << np.uint64(32) | r1) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    drawn = tritensor.rand(n, generator=g, dtype=tritensor.float64, device=DEVICE)
    assert np.array_equal(to_numpy(drawn), f64)
    assert g.get_offset() == 77 + n
    r0, _, _, _ = stream_words(seed, 77 + n, n)
    f32 = (r0 >> np.uint64(8)).astype(np.float64) * 2.0 ** -24
    assert np.array_equal(to_numpy(tritensor.rand(n, generator=g, device=DEVICE)), f32.astype(np.float32))


@cuda_only
@pytest.mark.parametrize("low,high", [(0, 10), (-7, 3), (-2**63, 2**63 - 1), (5, 5 + 3 * 2**61)])
def test_randint_is_the_documented_function_of_the_counters(low, high):
    """low + floor(x * range / 2**128) for the 128-bit x of the four words."""
    seed, n = 99, 64
    g = tritensor.Generator(DEVICE).manual_seed(seed)
    words = stream_words(seed, 0, n)
    xs = [sum(int(w[i]) << (96 - 32 * j) for j, w in enumerate(words)) for i in range(n)]
    expected = [low + (x * (high - low) >> 128) for x in xs]
    assert tritensor.randint(low, high, (n,), generator=g, device=DEVICE).tolist() == expected


# ------------------------------------------------------------------ reproducibility and generator state
def _draws(**kw):
    d = DEVICE
    return [tritensor.rand(5, device=d, **kw), tritensor.randn(2, 3, device=d, **kw),
            tritensor.randint(-3, 100, (4,), device=d, **kw), tritensor.normal(2.0, 3.0, (3,), device=d, **kw),
            tritensor.empty(3, device=d).uniform_(-1, 1, **kw),
            tritensor.empty(4, device=d).normal_(5, 2, **kw),
            tritensor.empty(4, device=d).exponential_(3.0, **kw),
            tritensor.empty(6, device=d).bernoulli_(0.3, **kw),
            tritensor.empty(6, dtype=tritensor.int16, device=d).random_(**kw),
            tritensor.rand_like(tritensor.zeros(2, 2, device=d), **kw),
            tritensor.randn_like(tritensor.zeros(2, dtype=tritensor.float64, device=d), **kw),
            tritensor.randint_like(tritensor.zeros(3, device=d), 10, **kw)]


def _same(a, b):
    return all(x.tolist() == y.tolist() for x, y in zip(a, b))


def test_manual_seed_reproduces_every_sampler():
    tritensor.manual_seed(2024)
    first = _draws()
    second = _draws()
    tritensor.manual_seed(2024)
    assert _same(first, _draws())
    assert not any(x.tolist() == y.tolist() for x, y in zip(first[:8], second[:8]))  # the stream moved on


def test_generators_reproduce_and_are_independent():
    g1 = tritensor.Generator(DEVICE).manual_seed(7)
    g2 = tritensor.Generator(DEVICE)
    g2.manual_seed(7)
    a = _draws(generator=g1)
    tritensor.manual_seed(0)
    tritensor.rand(100, device=DEVICE)  # the default generator does not disturb g2
    assert _same(a, _draws(generator=g2))
    g2.manual_seed(8)
    assert tritensor.rand(4, generator=g1, device=DEVICE).tolist() != \
        tritensor.rand(4, generator=g2, device=DEVICE).tolist()
    assert g1.initial_seed() == 7 and g2.initial_seed() == 8


@cuda_only
def test_cuda_seeding_functions():
    tritensor.manual_seed(11)  # seeds the CPU and the CUDA generators, like torch
    a = tritensor.rand(4, device=DEVICE)
    assert tritensor.cuda.initial_seed() == 11 and tritensor.initial_seed() == 11
    tritensor.cuda.manual_seed(11)
    assert tritensor.rand(4, device=DEVICE).tolist() == a.tolist()
    tritensor.cuda.manual_seed_all(11)
    assert tritensor.rand(4, device=DEVICE).tolist() == a.tolist()
    tritensor.cuda.manual_seed(12)
    assert tritensor.rand(4, device=DEVICE).tolist() != a.tolist()
    assert tritensor.cuda.default_generators[0].initial_seed() == 12
    tritensor.cuda.seed()
    assert tritensor.cuda.initial_seed() != 12
    tritensor.cuda.seed_all()
    cpu = tritensor.manual_seed(11).get_state()
    tritensor.cuda.manual_seed(5)  # CUDA seeding leaves the CPU generator alone
    assert tritensor.get_rng_state().tolist() == cpu.tolist()


@cuda_only
def test_cuda_rng_state_round_trip():
    tritensor.cuda.manual_seed(3)
    tritensor.rand(10, device=DEVICE)
    state = tritensor.cuda.get_rng_state()
    assert state.dtype is tritensor.uint8 and state.shape == (16,) and state.device.type == "cpu"
    assert np.frombuffer(bytes(state.tolist()), np.uint64).tolist() == [3, 10]  # seed, offset
    x = [tritensor.randn(5, device=DEVICE), tritensor.randint(0, 9, (5,), device=DEVICE)]
    tritensor.cuda.set_rng_state(state)
    assert _same(x, [tritensor.randn(5, device=DEVICE), tritensor.randint(0, 9, (5,), device=DEVICE)])
    states = tritensor.cuda.get_rng_state_all()
    y = tritensor.rand(3, device=DEVICE)
    tritensor.cuda.set_rng_state_all(states)
    assert tritensor.rand(3, device=DEVICE).tolist() == y.tolist()
    g = tritensor.Generator(DEVICE)
    g.set_state(tritensor.cuda.get_rng_state())
    assert g.initial_seed() == 3 and g.get_offset() == tritensor.cuda.default_generators[0].get_offset()
    with pytest.raises(RuntimeError, match="wrong size"):
        g.set_state(tritensor.zeros(8, dtype=tritensor.uint8))
    with pytest.raises(TypeError):
        g.set_state(tritensor.zeros(16))


def test_fork_rng_restores_both_generators():
    tritensor.manual_seed(8)
    with tritensor.random.fork_rng():
        inside = [tritensor.rand(3), tritensor.rand(3, device=DEVICE)]
    after = [tritensor.rand(3), tritensor.rand(3, device=DEVICE)]
    assert _same(inside, after)
    with tritensor.random.fork_rng(enabled=False):
        tritensor.rand(3, device=DEVICE)
    assert tritensor.rand(3, device=DEVICE).tolist() != after[1].tolist()


@cuda_only
def test_offset_advances_and_consecutive_draws_concatenate():
    """A draw of n elements takes counters offset .. offset + n - 1 and moves the offset by n,
    so consecutive draws are the pieces of one bigger draw (a documented property)."""
    g = tritensor.Generator(DEVICE).manual_seed(42)
    a, b = tritensor.rand(3, generator=g, device=DEVICE), tritensor.rand(1000, generator=g, device=DEVICE)
    assert g.get_offset() == 1003
    assert a.tolist() != b[:3].tolist()
    whole = tritensor.rand(1003, generator=g.manual_seed(42), device=DEVICE)
    assert whole.tolist() == a.tolist() + b.tolist()


@cuda_only
def test_in_place_draws_do_not_depend_on_the_layout():
    """Element i in row-major order takes counter offset + i, whatever the strides."""
    g = tritensor.Generator(DEVICE).manual_seed(5)
    dense = tritensor.empty(4, 6, device=DEVICE).normal_(generator=g)
    strided = tritensor.zeros(6, 4, device=DEVICE).t().normal_(generator=g.manual_seed(5))
    assert not strided.is_contiguous() and strided.tolist() == dense.tolist()
    part = tritensor.zeros(4, 12, dtype=tritensor.int64, device=DEVICE)[:, ::2]
    part.random_(0, 1000, generator=g.manual_seed(5))
    fresh = tritensor.randint(0, 1000, (4, 6), generator=g.manual_seed(5), device=DEVICE)
    assert part.tolist() == fresh.tolist()


def test_generator_device_and_errors():
    g = tritensor.Generator(DEVICE)
    assert g.device.type == DEVICE.split(":")[0]
    other = tritensor.Generator("cpu" if ON_CUDA else DEVICE)
    if ON_CUDA:
        assert g.device == tritensor.device("cuda", 0)
        with pytest.raises(RuntimeError, match="device type for generator"):
            tritensor.rand(2, device=DEVICE, generator=other)
        with pytest.raises(RuntimeError, match="device type for generator"):
            tritensor.rand(2, generator=g)
    else:
        with pytest.raises(RuntimeError, match="offset"):
            other.get_offset()


# ------------------------------------------------------------------ distributions (5 sigma, fixed seeds)
def _within(value, expected, sigma, what):
    assert abs(value - expected) <= 5 * sigma, f"{what}: {value} vs {expected} +- 5 * {sigma}"


def _ks(samples, cdf):
    """The Kolmogorov-Smirnov distance of the samples' empirical CDF to ``cdf``."""
    x = np.sort(samples)
    f = cdf(x)
    n = len(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


KS_BOUND = 2.7 / math.sqrt(N)  # P(D > bound) ~ 1e-6 for a correct distribution
_normal_cdf = np.vectorize(lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2))))


def _draw(fn, dtype):
    tritensor.manual_seed(1234)
    t = fn(TT_DTYPES[dtype])
    assert t.dtype is TT_DTYPES[dtype] and t.device.type == DEVICE.split(":")[0]
    return to_numpy(t).astype(np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_uniform_statistics(dtype):
    u = _draw(lambda d: tritensor.rand(N, dtype=d, device=DEVICE), dtype)
    assert u.min() >= 0.0 and u.max() < 1.0  # also after rounding to 16 bits
    _within(u.mean(), 0.5, math.sqrt(1 / 12 / N), "mean")
    _within(u.var(), 1 / 12, math.sqrt((1 / 80 - 1 / 144) / N), "variance")
    assert _ks(u, lambda x: x) < KS_BOUND + 2.0 ** -8  # plus the 16-bit dtypes' quantisation
    w = _draw(lambda d: tritensor.empty(N, dtype=d, device=DEVICE).uniform_(-2, 6), dtype)
    assert w.min() >= -2 and w.max() <= 6
    _within(w.mean(), 2, 8 * math.sqrt(1 / 12 / N), "uniform_ mean")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_normal_statistics(dtype):
    z = _draw(lambda d: tritensor.randn(N, dtype=d, device=DEVICE), dtype)
    _within(z.mean(), 0, math.sqrt(1 / N), "mean")
    _within(z.var(), 1, math.sqrt(2 / N), "variance")
    p = math.erfc(2 / math.sqrt(2))  # P(|z| > 2): the tails are there
    _within(np.mean(np.abs(z) > 2), p, math.sqrt(p * (1 - p) / N), "tail mass")
    assert _ks(z, _normal_cdf) < KS_BOUND + 2.0 ** -8
    v = _draw(lambda d: tritensor.empty(N, dtype=d, device=DEVICE).normal_(10, 0.5), dtype)
    _within(v.mean(), 10, 0.5 / math.sqrt(N) + 10 * 2.0 ** -9, "normal_ mean")  # + bf16 rounding at 10
    means = tritensor.tensor([0.0, 100.0], device=DEVICE).expand(N, 2)
    m = _draw(lambda d: tritensor.normal(means.to(d), 2.0), dtype)
    _within(m[:, 0].mean(), 0, 2 / math.sqrt(N), "normal(tensor) mean")
    _within(m[:, 1].mean(), 100, 2 / math.sqrt(N) + 100 * 2.0 ** -9, "normal(tensor) mean")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_exponential_and_bernoulli_statistics(dtype):
    e = _draw(lambda d: tritensor.empty(N, dtype=d, device=DEVICE).exponential_(4.0), dtype)
    assert e.min() > 0  # never 0, as torch guarantees
    _within(e.mean(), 0.25, 0.25 / math.sqrt(N), "mean")
    assert _ks(e, lambda x: 1 - np.exp(-4 * x)) < KS_BOUND + 2.0 ** -8
    b = _draw(lambda d: tritensor.empty(N, dtype=d, device=DEVICE).bernoulli_(0.3), dtype)
    assert set(np.unique(b)) == {0.0, 1.0}
    _within(b.mean(), 0.3, math.sqrt(0.21 / N), "bernoulli_ mean")
    probs = tritensor.tensor([0.0, 0.9, 1.0], device=DEVICE, dtype=TT_DTYPES[dtype]).expand(N // 4, 3)
    c = to_numpy(tritensor.bernoulli(probs)).reshape(-1, 3)
    assert np.all(c[:, 0] == 0) and np.all(c[:, 2] == 1)
    _within(c[:, 1].mean(), 0.9, math.sqrt(0.09 / (N // 4)), "bernoulli(tensor) mean")


def test_integer_statistics_and_bounds():
    tritensor.manual_seed(77)
    r = to_numpy(tritensor.randint(3, 9, (N,), device=DEVICE))
    counts = np.bincount(r - 3, minlength=6)
    assert r.min() == 3 and r.max() == 8 and len(counts) == 6
    for c in counts:
        _within(c / N, 1 / 6, math.sqrt(5 / 36 / N), "randint bin")
    neg = to_numpy(tritensor.randint(-10, -3, (N,), device=DEVICE))
    assert neg.min() == -10 and neg.max() == -4
    big = to_numpy(tritensor.randint(-2**63, 2**63 - 1, (N,), device=DEVICE)).astype(np.float64) / 2.0**63
    _within(big.mean(), 0, math.sqrt(1 / 3 / N), "full int64 range mean")
    assert big.min() < -0.99 and big.max() > 0.99
    wide = to_numpy(tritensor.randint(0, 3 * 2**61, (N,), device=DEVICE)).astype(np.float64) / (3 * 2.0**61)
    assert wide.max() < 1
    # a range that is no power of two: the device kernel has no modulo bias (each third 1/3);
    # the CPU is torch's stream, whose 64-bit x % range gives the first two thirds 3/8 each
    thirds = [1 / 3] * 3 if DEVICE == "cuda" else [3 / 8, 3 / 8, 1 / 4]
    for k, p in enumerate(thirds):
        _within(np.mean((wide >= k / 3) & (wide < (k + 1) / 3)), p, math.sqrt(p * (1 - p) / N), "third")
    as_float = to_numpy(tritensor.randint(-4, 4, (64,), dtype=tritensor.float16, device=DEVICE))
    assert np.all(as_float == np.round(as_float)) and as_float.min() >= -4 and as_float.max() <= 3


@pytest.mark.parametrize("dtype,lo,hi", [("bool", 0, 1), ("uint8", 0, 255), ("int8", 0, 127),
                                         ("int32", 0, 2**31 - 1), ("float16", 0, 2048),
                                         ("bfloat16", 0, 256)])
def test_random_default_ranges(dtype, lo, hi):
    """``random_()`` draws from [0, max] (max: 2**digits for floats), like torch."""
    tritensor.manual_seed(3)
    v = to_numpy(tritensor.empty(N, dtype=TT_DTYPES[dtype], device=DEVICE).random_()).astype(np.float64)
    assert v.min() >= lo and v.max() <= hi and np.all(v == np.round(v))
    _within(v.mean(), (lo + hi) / 2, (hi - lo) / math.sqrt(12 * N) + 1, "mean")


def test_random_overloads():
    tritensor.manual_seed(4)
    d = DEVICE
    assert set(to_numpy(tritensor.empty(N, dtype=tritensor.int64, device=d).random_(5))) == set(range(5))
    small = to_numpy(tritensor.empty(N, dtype=tritensor.int8, device=d).random_(-3, 2))
    assert set(small) == set(range(-3, 2))
    top = to_numpy(tritensor.empty(N, dtype=tritensor.int8, device=d).random_(120, None))
    assert set(top) == set(range(120, 128))
    full = to_numpy(tritensor.empty(N, dtype=tritensor.int64, device=d).random_(-2**63, None))
    assert full.min() < -2**62 and full.max() > 2**62


# ------------------------------------------------------------------ results and errors against torch
def test_dtypes_shapes_and_flags_match_torch():
    def meta(lib, t):
        return tuple(t.shape), str(t.dtype), t.requires_grad, t.device.type == dev(lib).split(":")[0]

    check(lambda lib: [meta(lib, t) for t in (
        lib.rand(2, 3, device=dev(lib)), lib.randn((4,), dtype=lib.float64, device=dev(lib)),
        lib.rand((), dtype=lib.float16, device=dev(lib)), lib.randn(2, dtype=lib.bfloat16, device=dev(lib)),
        lib.rand(2, requires_grad=True, device=dev(lib)), lib.randint(5, (3,), device=dev(lib)),
        lib.randint(2, 5, (3, 1), dtype=lib.float32, device=dev(lib)),
        lib.randint(0, 2, (2,), dtype=lib.bool, device=dev(lib)), lib.randperm(5, device=dev(lib)),
        lib.normal(0.0, 1.0, (2, 3), device=dev(lib)),
        lib.normal(lib.zeros(2, 1, device=dev(lib)), lib.ones(3, device=dev(lib))),
        lib.rand_like(lib.zeros(2, 2, dtype=lib.float64, device=dev(lib))),
        lib.randn_like(lib.zeros(3, device=dev(lib)), dtype=lib.float16),
        lib.randint_like(lib.zeros(3, dtype=lib.int32, device=dev(lib)), 4, 9),
        lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64, device=dev(lib))),
        lib.zeros(2, 2, dtype=lib.int16, device=dev(lib)).random_(0, 10),
        lib.zeros(5, device=dev(lib)).uniform_(), lib.rand(0, 3, device=dev(lib)),
        lib.multinomial(lib.ones(2, 4, device=dev(lib)), 3),
        lib.rand(3, out=lib.empty(1, dtype=lib.float64, device=dev(lib))),
        lib.native_dropout(lib.ones(4, device=dev(lib)), 0.5, True)[1])])


@pytest.mark.parametrize("case", [
    lambda lib, d: lib.rand(2, dtype=lib.int32, device=d),
    lambda lib, d: lib.randn(2, dtype=lib.int64, device=d),
    lambda lib, d: lib.randint(5, 3, (2,), device=d),
    lambda lib, d: lib.randint(0, 300, (2,), dtype=lib.uint8, device=d),
    lambda lib, d: lib.randint(-1, 2, (2,), dtype=lib.bool, device=d),
    lambda lib, d: lib.normal(0.0, -1.0, (2,), device=d),
    lambda lib, d: lib.normal(lib.zeros(3, device=d), -1.0),
    lambda lib, d: lib.zeros(3, device=d).uniform_(2, 1),
    lambda lib, d: lib.zeros(3, dtype=lib.int64, device=d).normal_(),
    lambda lib, d: lib.zeros(3, device=d).exponential_(0.0),
    lambda lib, d: lib.zeros(3, dtype=lib.int64, device=d).exponential_(),
    lambda lib, d: lib.zeros(3, device=d).bernoulli_(1.5),
    lambda lib, d: lib.bernoulli(lib.full((3,), 1.5, device=d)),
    lambda lib, d: lib.zeros(3, dtype=lib.int8, device=d).random_(200, None),
    lambda lib, d: lib.zeros(3, requires_grad=True, device=d).uniform_(),
    lambda lib, d: lib.nn.functional.dropout(lib.ones(3, device=d), 1.5),
    lambda lib, d: lib.nn.functional.dropout(lib.ones(3, device=d), -0.1),
    lambda lib, d: lib.nn.Dropout(2.0),
])
def test_errors_match_torch(case):
    check(lambda lib: case(lib, dev(lib)))


# ------------------------------------------------------------------ dropout
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.75])
def test_dropout_scale_mask_and_gradient(dtype, p):
    tritensor.manual_seed(9)
    data = np.random.default_rng(0).uniform(0.5, 2.0, N)
    x = tritensor.tensor(data, dtype=TT_DTYPES[dtype], device=DEVICE, requires_grad=True)
    y = F.dropout(x, p)
    assert y.dtype is x.dtype and y.shape == x.shape
    xs, ys = to_numpy(x), to_numpy(y)
    kept = ys != 0
    _within(kept.mean(), 1 - p, math.sqrt(p * (1 - p) / N), "kept fraction")
    rtol = {"float64": 5e-16, "float32": 3e-7}.get(dtype, 1e-2)  # two roundings
    np.testing.assert_allclose(ys[kept], xs[kept] / (1 - p), rtol=rtol)
    y.backward(tritensor.ones_like(y))
    np.testing.assert_allclose(to_numpy(x.grad), kept / (1 - p), rtol=rtol)
    expected = "NativeDropoutBackward0" if ON_CUDA else "MulBackward0"  # torch's names per device
    assert type(y.grad_fn).__name__ == expected


def test_dropout_edge_probabilities_and_modes():
    x = tritensor.randn(64, device=DEVICE, requires_grad=True)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    zero = F.dropout(x, 1.0)
    assert not to_numpy(zero).any()
    zero.sum().backward()
    assert not to_numpy(x.grad).any()
    drop = tritensor.nn.Dropout(0.5)
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert (to_numpy(drop(x)) == 0).any()
    h = tritensor.ones(N, device=DEVICE)
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h and set(np.unique(to_numpy(h))) == {0.0, 2.0}


def test_dropout_is_reproducible_and_advances_the_stream():
    x = tritensor.ones(1000, device=DEVICE)
    tritensor.manual_seed(21)
    a, b = F.dropout(x, 0.5), F.dropout(x, 0.5)
    tritensor.manual_seed(21)
    assert F.dropout(x, 0.5).tolist() == a.tolist() and a.tolist() != b.tolist()


def test_native_dropout_matches_torch_semantics():
    x = tritensor.tensor([1.0, -2.0, 3.0, float("nan")], device=DEVICE, requires_grad=True)
    out, mask = tritensor.native_dropout(x, 0.5, True)
    assert mask.dtype is tritensor.bool and not mask.requires_grad
    m = to_numpy(mask)
    np.testing.assert_array_equal(to_numpy(out)[m], to_numpy(x)[m] * 2)
    assert not np.any(to_numpy(out)[:3][~m[:3]])  # dropped: 0 (a dropped NaN stays NaN, as in torch)
    out, mask = tritensor.native_dropout(x, 0.5, False)
    assert to_numpy(mask).all() and type(out.grad_fn).__name__ == "NativeDropoutBackward0"
    np.testing.assert_array_equal(to_numpy(out), to_numpy(x))
