"""``torch.distributions.utils``: the helpers distributions are written with, at torch's path."""

from __future__ import annotations

from ..nn import functional as F
from ..type_info import finfo
from .distribution import broadcast_all, lazy_property
from .transforms import _tril_positions, _tril_to_vector, _vector_to_tril

__all__ = [
    "broadcast_all",
    "logits_to_probs",
    "clamp_probs",
    "probs_to_logits",
    "lazy_property",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060


def logits_to_probs(logits, is_binary=False):
    """Log-odds -> probability (binary), or unnormalised log-probabilities along the last dim ->
    probabilities."""
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Into [eps, 1 - eps] for the dtype's eps, so that logs stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """The inverse of ``logits_to_probs`` (on clamped probabilities)."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


def tril_matrix_to_vec(mat, diag=0):
    """The entries of the (..., n, n) ``mat`` on or below diagonal ``diag``, row by row."""
    n = mat.shape[-1]
    if not -n <= diag < n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return _tril_to_vector(mat, diag)


def _side_for_count(count, diag):
    """n with count = number of entries of an n x n matrix on or below ``diag`` (None if no n)."""
    n = 0
    while len(_tril_positions(n, diag)) < count:
        n += 1
    return n if len(_tril_positions(n, diag)) == count else None


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of ``tril_matrix_to_vec``: zeros above diagonal ``diag`` (differentiable)."""
    count = vec.shape[-1]
    n = _side_for_count(count, diag)
    if n is None:
        raise ValueError(
            f"The size of last dimension is {count} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    return _vector_to_tril(vec, diag, n)
