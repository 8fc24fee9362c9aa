"""torch's CPU random stream: a Mersenne Twister (MT19937) seeded as torch seeds it, read
through torch's transforms, so that after ``manual_seed(s)`` the CPU draws equal torch's.

torch's CPU generator is ``at::mt19937`` initialised with the low 32 bits of the seed by the
reference ``init_genrand`` (numpy's legacy ``MT19937`` seeding is the same), and its samplers
consume 32-bit outputs (``random()``) or pairs of them (``random64()``: first << 32 | second)
element by element in memory order. Bit for bit (tests/test_random_torch_stream.py):

- uniform (``rand``, ``uniform_``, so ``nn.Linear``'s and ``Conv``'s initialisation): the
  low ``digits`` bits of one output (64-bit for float64) times 2**-digits, scaled as
  ``x * (to - from) + from`` with ``to - from`` in the dtype and the rest in float64;
- integers (``randint``, ``random_``): ``output % span + low``, 64-bit outputs when the span
  is 2**32 or more;
- ``randperm``: Fisher-Yates, swapping i with i + ``random() % (n - i)``;
- ``bernoulli_(p)`` (so dropout's masks): a 53-bit uniform below p; ``bernoulli(probs)``:
  a uniform in the probabilities' type (24 or 53 bits) below each;
- ``exponential_``: (-1 / lambda) * log1p(-u) of a 53-bit uniform;
- normal (``randn``, ``normal_``) of float64 tensors; float32 tensors of 16 or more elements
  agree to 2 ulp (torch computes their Box-Muller with AVX2 approximations of log and sincos).

The other samplers (multinomial, the distributions' own) draw from the same stream through
numpy's ``Generator``: reproducible under ``manual_seed``, not torch's values.
"""
from __future__ import annotations

import math

import numpy as np

_MASK32 = (1 << 32) - 1
#: torch's ``CPUGeneratorImplState``: the legacy THGeneratorState (initial seed, left, seeded,
#: next, 624 state words as uint64, normal_x/y/rho, normal_is_valid) then the float normal cache
_STATE_BYTES = 5056


class TorchCPUStream:
    """One CPU generator's stream (``tritensor.Generator`` on the CPU owns one)."""

    def __init__(self, seed: int):
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.initial_seed = seed
        self.bits = np.random.MT19937()
        self.bits._legacy_seeding(seed & _MASK32)  # init_genrand, as at::mt19937's constructor
        #: numpy's samplers over the same stream, for the draws torch's values are not matched on
        self.numpy = np.random.Generator(self.bits)
        self.next_double_normal = None  # torch caches Box-Muller's second value (n < 16 path)

    # ------------------------------------------------------------------ raw outputs
    def random32(self, n: int) -> np.ndarray:
        """n 32-bit outputs (as uint64)."""
        return self.bits.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        pairs = self.bits.random_raw(2 * n).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def _bits(self, n: int, digits: int) -> np.ndarray:
        return self.random64(n) if digits > 32 else self.random32(n)

    # ------------------------------------------------------------------ torch's transforms
    def unit(self, n: int, digits: int, dtype=np.float64) -> np.ndarray:
        """n uniforms k * 2**-digits in [0, 1) (k from 64-bit outputs for float64), exact in
        ``dtype``."""
        k = (self._bits(n, digits) & np.uint64((1 << digits) - 1)).astype(dtype)
        k *= dtype(2.0 ** -digits)
        return k

    def uniform(self, n: int, low: float, high: float, digits: int) -> np.ndarray:
        """``uniform_(low, high)`` of n elements of the float dtype with ``digits`` mantissa
        bits: float64 or float32 values, which the caller stores in the dtype."""
        from .kernels.numba.random_host import uniform_from_bits
        drawn = max(digits, 24)  # torch draws float16/bfloat16 as float32, then rounds
        rounding = np.float64 if digits == 53 else np.float32
        values = np.empty(n, np.float32 if digits == 24 else np.float64)
        uniform_from_bits(values, self._bits(n, drawn), np.uint64((1 << drawn) - 1), 2.0 ** -drawn,
                          float(rounding(rounding(high) - rounding(low))), float(rounding(low)))
        if digits < 24:  # a value that rounds up to ``high`` becomes ``low``: [low, high) again
            values, bounds = round_to(values, digits), round_to(np.array([low, high]), digits)
            values[values == bounds[1]] = bounds[0]
        return values

    def bernoulli(self, n: int, p: float) -> np.ndarray:
        """``bernoulli_(p)`` (dropout's masks): a 53-bit uniform below ``p``, per element."""
        return self.unit(n, 53) < p

    def exponential(self, n: int, lambd: float) -> np.ndarray:
        """``exponential_(lambd)``: (-1 / lambd) * log1p(-u) from 53-bit uniforms, in float64."""
        from .kernels.numba.random_host import exponential_from_bits
        out = np.empty(n, np.float64)
        exponential_from_bits(out, self.random64(n), np.uint64((1 << 53) - 1), 2.0 ** -53, -1.0 / lambd)
        return out

    def integers(self, n: int, low: int, span: int) -> np.ndarray:
        """``random_(low, low + span)``: int64 values (wrapping as the kernels do past 2**63)."""
        raw = self.random64(n) if span >= 1 << 32 else self.random32(n)
        drawn = raw % np.uint64(span & ((1 << 64) - 1)) if span < 1 << 64 else raw
        return (drawn + np.uint64(low & ((1 << 64) - 1))).view(np.int64)

    def permutation(self, n: int) -> np.ndarray:
        from .kernels.numba.random_host import fisher_yates
        perm = np.arange(n, dtype=np.int64)
        if n > 1:
            draws = self.random64(n - 1) if n >= 1 << 32 else self.random32(n - 1)
            fisher_yates(perm, (draws % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64))
        return perm

    def normal(self, n: int, digits: int, mean: float, std: float, contiguous: bool = True) -> np.ndarray:
        """``normal_(mean, std)`` of n elements: torch's ``normal_fill`` (uniforms, then
        Box-Muller on blocks of 16, the last block redrawn) for 16 or more contiguous ones,
        else its double-precision sampler one element at a time."""
        if n >= 16 and contiguous:
            return self._normal_fill(n, digits, mean, std)
        return np.array([self._double_normal() * std + mean for _ in range(n)], np.float64)

    def _double_normal(self) -> float:
        if self.next_double_normal is not None:
            value, self.next_double_normal = self.next_double_normal, None
            return value
        u1, u2 = self.unit(2, 53)
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.next_double_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def _normal_fill(self, n, digits, mean, std):
        u = self._fill_uniforms(n, digits)
        out = np.empty(n, u.dtype)
        whole = n - n % 16
        _box_muller_16(out[:whole], u[:whole], mean, std)
        if n % 16:  # torch redraws the last 16 values and transforms them again
            _box_muller_16(out[n - 16:], self._fill_uniforms(16, digits), mean, std)
        return out

    def _fill_uniforms(self, n, digits):
        """normal_fill's uniforms, stored in the tensor's dtype (16-bit: drawn as float32)."""
        if digits == 53:
            return self.unit(n, 53)
        u = self.unit(n, 24, np.float32)
        if digits < 24:  # as uniform_: a draw that rounds up to 1 becomes 0
            u = round_to(u.astype(np.float64), digits).astype(np.float32)
            u[u == 1.0] = 0.0
        return u

    # ------------------------------------------------------------------ torch's state layout
    def state_bytes(self) -> np.ndarray:
        state = self.bits.state["state"]
        position = int(state["pos"])
        raw = np.zeros(_STATE_BYTES, np.uint8)
        head = np.array([self.initial_seed & ((1 << 64) - 1)], np.uint64).view(np.uint8)
        raw[0:8] = head
        raw[8:16] = np.array([625 - position, 1], np.int32).view(np.uint8)  # left, seeded
        raw[16:24] = np.array([position], np.uint64).view(np.uint8)  # next
        raw[24:24 + 624 * 8] = state["key"].astype(np.uint64).view(np.uint8)
        doubles = 24 + 624 * 8
        if self.next_double_normal is not None:
            raw[doubles + 8:doubles + 16] = np.array([self.next_double_normal], np.float64).view(np.uint8)
            raw[doubles + 24:doubles + 28] = np.array([1], np.int32).view(np.uint8)
        return raw

    def set_state_bytes(self, raw: np.ndarray) -> None:
        seed = int(raw[0:8].view(np.uint64)[0])
        left = int(raw[8:12].view(np.int32)[0])
        key = raw[24:24 + 624 * 8].view(np.uint64).astype(np.uint32)
        doubles = 24 + 624 * 8
        self.initial_seed = seed
        self.bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": 625 - left}}
        valid = int(raw[doubles + 24:doubles + 28].view(np.int32)[0])
        self.next_double_normal = float(raw[doubles + 8:doubles + 16].view(np.float64)[0]) if valid else None


def _box_muller_16(out, u, mean, std):
    """torch's ``normal_fill_16`` on the blocks of 16 in ``u``. float64: the C library's log,
    sin and cos as torch's scalar kernel calls them (bit for bit); float32: numpy's vectorised
    ones, since torch's AVX2 kernel uses approximations of its own anyway (within 2 ulp)."""
    if u.dtype == np.float64:
        from .kernels.numba.random_host import box_muller_16
        box_muller_16(out, u, mean, std)
        return
    blocks, lanes = u.reshape(-1, 16), out.reshape(-1, 16)
    radius = np.sqrt(np.float32(-2) * np.log(np.float32(1) - blocks[:, :8]))
    theta = np.float32(2 * math.pi) * blocks[:, 8:]
    np.multiply(radius, np.cos(theta), out=lanes[:, :8])
    np.multiply(radius, np.sin(theta), out=lanes[:, 8:])
    if std != 1 or mean != 0:
        lanes *= np.float32(std)
        lanes += np.float32(mean)


def round_to(values: np.ndarray, digits: int) -> np.ndarray:
    """float64 ``values`` rounded as torch stores them in the float dtype with ``digits``
    mantissa bits (through float32 for the 16-bit ones), as float64."""
    if digits == 53:
        return values
    single = values.astype(np.float32)
    if digits == 24:
        return single.astype(np.float64)
    if digits == 11:
        return single.astype(np.float16).astype(np.float64)
    from .kernels.numba.cast import bfloat16_bits_to_float32, float32_to_bfloat16_bits
    return bfloat16_bits_to_float32(float32_to_bfloat16_bits(single)).astype(np.float64)
