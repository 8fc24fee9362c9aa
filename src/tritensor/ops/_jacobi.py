"""The Jacobi loops behind ops/spectral.py (no autograd): the symmetric eigendecomposition
by two-sided rotations and the SVD by one-sided (Hestenes) rotations.

Both rotate n/2 disjoint index pairs at once. The pairs of a round come from the
round-robin ("circle") schedule, in which every pair meets once in n - 1 rounds (a sweep).
The matrix is kept in a layout where the round's pairs are (i, i + n/2), so the rotation
angles come from views of its two halves; the round's rotations and the permutation to the
next round's layout form one matrix J, applied by matmul. A round is ~20 batched launches
whatever the batch, a sweep O(n) of them, and the loops converge quadratically (~5-8
sweeps); convergence is read on the host once per sweep. An odd n gets a zero row/column
(its pair's rotation is exactly the identity) that is dropped at the end.
"""
from __future__ import annotations

import functools

from .. import dtypes as dt
from ..type_info import finfo
from .creation import eye, tensor, zeros
from .elementwise import where
from .joining import cat

#: a safeguard: the sweeps converge quadratically, far sooner (NaN inputs stop at once)
MAX_SWEEPS = 30


@functools.lru_cache(maxsize=64)
def _round_robin_host(m):
    """For an even ``m``: the first round's layout (its pairs (P[i], Q[i]) as [P, Q]) and,
    for each following round (the last one leading back to the first), the positions in
    the previous layout of the next layout's indices."""
    players = list(range(m))
    layouts = []
    for _ in range(m - 1):
        half = m // 2
        layouts.append(players[:half] + players[half:][::-1])
        players = [players[0], players[-1]] + players[1:-1]  # the circle turns, player 0 stays
    steps = []
    for previous, current in zip(layouts, layouts[1:] + layouts[:1]):
        where_was = {index: position for position, index in enumerate(previous)}
        steps.append([where_was[index] for index in current])
    return layouts[0], steps


class _Schedule:
    """The round-robin schedule of ``m`` (even) indices as tensors on ``device``: the first
    layout, its inverse, each round's permutation to the next layout, the flat positions of
    a round's rotation entries in J (after that permutation) and, for the two-sided loop,
    the mask that zeroes the diagonal and the round's rotated pairs in the next layout."""

    def __init__(self, m, device, dtype):
        first, steps = _round_robin_host(m)
        h = m // 2
        self.first = tensor(first, dtype=dt.int64, device=device)
        self.back = tensor(sorted(range(m), key=first.__getitem__), dtype=dt.int64, device=device)
        self.rounds = []
        for step in steps:
            new_position = {old: new for new, old in enumerate(step)}
            # J[p, p] = c, J[q, q] = c, J[p, q] = s, J[q, p] = -s (p = i, q = i + h), columns permuted
            rows = list(range(h)) + list(range(h, m)) + list(range(h)) + list(range(h, m))
            cols = list(range(h)) + list(range(h, m)) + list(range(h, m)) + list(range(h))
            flat = [r * m + new_position[c] for r, c in zip(rows, cols)]
            kept = [[0.0 if i == j or {step[i], step[j]} in self._pairs(h) else 1.0 for j in range(m)]
                    for i in range(m)]
            self.rounds.append((tensor(flat, dtype=dt.int64, device=device),
                                tensor(kept, dtype=dtype, device=device),
                                tensor(step, dtype=dt.int64, device=device)))

    @staticmethod
    def _pairs(h):
        return [{i, i + h} for i in range(h)]


def _rotation(alpha, beta, gamma):
    """(c, s, t) of the plane rotation [[c, s], [-s, c]] that zeroes the off-diagonal of the
    symmetric 2x2 [[alpha, gamma], [gamma, beta]]: t = s / c = tan of the smaller angle,
    2 gamma / (d + sign(d) sqrt(d^2 + 4 gamma^2)) with d = beta - alpha (sign(0) = 1); the
    identity where gamma is 0."""
    d = beta - alpha
    twice = 2 * gamma
    denominator = d.abs() + d.hypot(twice)
    t = where(denominator > 0, twice / where(denominator > 0, denominator, 1), 0)
    t = where(d < 0, -t, t)
    c = (t * t + 1).rsqrt()
    return c, t * c, t


def _rotations_matrix(c, s, index, m):
    """The round's rotations followed by the permutation to the next layout, as a batched
    (m, m) matrix (its 4 m / 2 nonzero entries scattered to their flat ``index``)."""
    batch = tuple(c.shape[:-1])
    values = cat([c, c, s, -s], -1)
    J = zeros(batch + (m * m,), dtype=c.dtype, device=c.device)
    return J.scatter_(-1, index.expand(batch + (index.shape[-1],)), values).view(batch + (m, m))


def _pad_even(X, rows, cols):
    """X with a zero row and/or column appended (``rows``/``cols``: whether to)."""
    if rows:
        X = cat([X, X.new_zeros(tuple(X.shape[:-2]) + (1, X.shape[-1]))], -2)
    if cols:
        X = cat([X, X.new_zeros(tuple(X.shape[:-1]) + (1,))], -1)
    return X


def _converged(measure, tolerance):
    """Whether the largest ``measure`` of all batch elements is within ``tolerance`` (a host
    read); NaN counts as converged (nothing to gain from more sweeps)."""
    worst = measure.amax().item() if measure.numel() else 0.0
    return not worst > tolerance


def _start(A, m):
    """The identity (V) and the schedule of the loops, A's dims permuted to the first layout."""
    batch = tuple(A.shape[:-2])
    schedule = _Schedule(m, A.device, A.dtype)
    V = eye(m, dtype=A.dtype, device=A.device).expand(batch + (m, m)).index_select(-1, schedule.first)
    return V, schedule


def symmetric_eigen(A):
    """(w, V) with A = V diag(w) V^T for symmetric (*, n, n) ``A`` (both triangles read),
    eigenvalues ascending, V orthogonal. Two-sided cyclic Jacobi; the rotated pairs' entries
    are set to what exact arithmetic gives: a zero off-diagonal (rounding would leave
    eps-sized noise there that the convergence test would chase) and the diagonal
    (alpha - t gamma, beta + t gamma), more accurate for small eigenvalues beside large ones."""
    n = A.shape[-1]
    batch = tuple(A.shape[:-2])
    if n == 0 or A.numel() == 0:
        return A.new_zeros(batch + (n,)), A.new_zeros(tuple(A.shape))
    m = n + n % 2
    V, schedule = _start(A, m)
    M = _pad_even(A.contiguous(), n % 2, n % 2)
    M = M.index_select(-2, schedule.first).index_select(-1, schedule.first)
    off_diagonal = 1 - eye(m, dtype=A.dtype, device=A.device)
    h = m // 2
    for _ in range(MAX_SWEEPS):
        off = (M * off_diagonal).pow(2).sum((-2, -1)).sqrt()
        if _converged(off - finfo(A.dtype).eps * M.pow(2).sum((-2, -1)).sqrt(), 0):
            break
        for index, kept, step in schedule.rounds:
            d = M.diagonal(0, -2, -1)
            alpha, beta, gamma = d[..., :h], d[..., h:], M[..., :h, h:].diagonal(0, -2, -1)
            c, s, t = _rotation(alpha, beta, gamma)
            J = _rotations_matrix(c, s, index, m)
            shift = t * gamma
            diagonal = cat([alpha - shift, beta + shift], -1).index_select(-1, step)
            M = (J.mT @ M @ J) * kept + diagonal.diag_embed()
            V = V @ J
    w = M.diagonal(0, -2, -1).index_select(-1, schedule.back)[..., :n]
    V = V.index_select(-1, schedule.back)[..., :n, :n]
    w, order = w.sort(-1)
    return w.contiguous(), V.gather(-1, order[..., None, :].expand(tuple(V.shape))).contiguous()


def singular_decomposition(A):
    """(W, S, V) for (*, m, n) ``A`` with m >= n: A V = W, the columns of W orthogonal with
    norms S (descending, W's columns in that order), V (*, n, n) orthogonal. One-sided
    Jacobi: rotate column pairs of A until every pair is orthogonal to working precision
    (accurate also for small singular values, unlike an eigendecomposition of A^T A)."""
    rows, n = A.shape[-2:]
    batch = tuple(A.shape[:-2])
    if n == 0 or A.numel() == 0:
        return A.new_zeros(tuple(A.shape)), A.new_zeros(batch + (n,)), A.new_zeros(batch + (n, n))
    m = n + n % 2
    V, schedule = _start(A, m)
    W = _pad_even(A.contiguous(), False, n % 2).index_select(-1, schedule.first)
    tolerance = finfo(A.dtype).eps * max(rows, 1)
    off_diagonal = 1 - eye(m, dtype=A.dtype, device=A.device)
    h = m // 2
    for _ in range(MAX_SWEEPS):
        gram = W.mT @ W
        norms = gram.diagonal(0, -2, -1).sqrt()
        scale = norms[..., :, None] * norms[..., None, :]
        cosines = (gram * off_diagonal).abs() / where(scale > 0, scale, 1)
        if _converged(cosines, tolerance):
            break
        for index, _, _ in schedule.rounds:
            gram = W.mT @ W
            d = gram.diagonal(0, -2, -1)
            c, s, _ = _rotation(d[..., :h], d[..., h:], gram[..., :h, h:].diagonal(0, -2, -1))
            J = _rotations_matrix(c, s, index, m)
            W = W @ J
            V = V @ J
    W = W.index_select(-1, schedule.back)[..., :n]
    V = V.index_select(-1, schedule.back)[..., :n, :n]
    S = W.pow(2).sum(-2).sqrt()
    S, order = S.sort(-1, descending=True)
    W = W.gather(-1, order[..., None, :].expand(tuple(W.shape)))
    V = V.gather(-1, order[..., None, :].expand(tuple(V.shape)))
    return W.contiguous(), S.contiguous(), V.contiguous()
