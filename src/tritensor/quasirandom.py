"""``torch.quasirandom.SobolEngine``: Sobol' low-discrepancy sequences.

Point i is the XOR of the direction numbers selected by the bits of i's Gray code (the
Antonov-Saleev order torch and scipy use), so any run of points is computed directly from
its indices on the host. The direction numbers are Joe and Kuo's (new-joe-kuo-6.21201);
the first 1111 dimensions ship with tritensor, larger dimensions use scipy's copy of the
same table when scipy is installed. Scrambling (a random linear matrix scramble of the
direction numbers plus a random digital shift, seeded by ``seed``) is tritensor's own draw:
scrambled points are valid Sobol' points but not torch's exact numbers.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from . import dtypes as dt
from .ops.creation import tensor as _tensor

__all__ = ["SobolEngine"]

_BUNDLED = os.path.join(os.path.dirname(__file__), "_sobol_directions_1111.npz")


@functools.lru_cache(maxsize=2)
def _table(dimension):
    """(poly, vinit) of Joe and Kuo's table with at least ``dimension`` rows."""
    with np.load(_BUNDLED) as bundled:
        if dimension <= len(bundled["poly"]):
            return bundled["poly"].astype(np.int64), bundled["vinit"].astype(np.int64)
    try:
        import scipy
    except ImportError:
        raise NotImplementedError(f"SobolEngine: tritensor ships direction numbers for 1111 dimensions; "
                                  f"dimension={dimension} needs scipy installed (for its copy of the "
                                  "table)") from None
    with np.load(os.path.join(scipy.__path__[0], "stats", "_sobol_direction_numbers.npz")) as full:
        return full["poly"].astype(np.int64), full["vinit"].astype(np.int64)


def _direction_numbers(dimension, maxbit):
    """(dimension, maxbit) int64: v[d, k] = m_k << (maxbit - 1 - k), m from the primitive
    polynomial's recurrence seeded by the table's initial numbers (all ones for dim 0)."""
    poly, vinit = _table(dimension)
    v = np.ones((dimension, maxbit), dtype=np.int64)
    for d in range(1, dimension):
        p = int(poly[d])
        degree = p.bit_length() - 1
        m = [int(x) for x in vinit[d, :degree]]
        for k in range(degree, maxbit):
            new = m[k - degree] ^ (m[k - degree] << degree)
            for j in range(1, degree):
                if (p >> (degree - j)) & 1:
                    new ^= m[k - j] << j
            m.append(new)
        v[d] = m[:maxbit]
    return v << (maxbit - 1 - np.arange(maxbit, dtype=np.int64))


def _scramble(v, maxbit, rng):
    """Random lower-triangular (unit diagonal) binary matrices applied to every direction
    number's bits, most significant first; returns the new numbers and a random shift."""
    dimension = v.shape[0]
    lower = np.tril(rng.integers(0, 2, size=(dimension, maxbit, maxbit), dtype=np.int64), -1)
    lower += np.eye(maxbit, dtype=np.int64)
    weights = np.int64(1) << (maxbit - 1 - np.arange(maxbit, dtype=np.int64))
    bits = (v[:, :, None] & weights) != 0  # (dim, k, bit)
    mixed = np.einsum("dij,dkj->dki", lower, bits.astype(np.int64)) % 2
    shift = (rng.integers(0, 2, size=(dimension, maxbit), dtype=np.int64) * weights).sum(-1)
    return (mixed * weights).sum(-1), shift


class SobolEngine:
    """Draws points of a (scrambled) Sobol' sequence in [0, 1)^dimension."""

    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.seed, self.scramble, self.dimension = seed, scramble, dimension
        self._directions = _direction_numbers(dimension, self.MAXBIT)
        self._shift = np.zeros(dimension, dtype=np.int64)
        if scramble:
            if seed is None:
                from .random import randint
                seed = int(randint(0, 2 ** 62, (1,)).item())
            self._directions, self._shift = _scramble(self._directions, self.MAXBIT,
                                                      np.random.default_rng(seed))
        self.num_generated = 0

    def _points(self, start, n):
        """Points ``start .. start + n - 1`` as (n, dimension) integers of MAXBIT bits."""
        index = np.arange(start, start + n, dtype=np.int64)
        gray = index ^ (index >> 1)
        points = np.broadcast_to(self._shift, (n, self.dimension)).copy()
        for k in range(self.MAXBIT):
            chosen = ((gray >> k) & 1).astype(bool)
            points[chosen] ^= self._directions[:, k]
        return points

    def draw(self, n=1, out=None, dtype=None):
        """The next ``n`` points, shape (n, dimension), in ``dtype`` (default: the default dtype)."""
        values = self._points(self.num_generated, n) * (2.0 ** -self.MAXBIT)
        self.num_generated += n
        result = _tensor(values, dtype=dtype or dt.get_default_dtype())
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next 2**m points; the total drawn must stay a power of 2 (balance properties)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if total_n & (total_n - 1):
            raise ValueError("The balance properties of Sobol' points require n to be a power of 2. "
                             f"{self.num_generated} points have been previously generated, then: "
                             f"n={self.num_generated}+2**{m}={total_n}. If you still want to do this, "
                             "please use 'SobolEngine.draw()' instead.")
        return self.draw(n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point."""
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip the next ``n`` points."""
        self.num_generated += n
        return self

    def __repr__(self):
        parts = [f"dimension={self.dimension}"]
        if self.scramble:
            parts.append("scramble=True")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return f"SobolEngine({', '.join(parts)})"
