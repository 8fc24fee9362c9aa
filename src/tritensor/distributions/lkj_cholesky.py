"""``LKJCholesky(dim, concentration)``: the Cholesky factor L of a correlation matrix L L^T whose
density is proportional to det(L L^T)^(concentration - 1).

Sampling is the onion method (Lewandowski, Kurowicka and Joe 2009, section 3), as torch: row i
of L is sqrt(y_i) times a uniform direction in its first i coordinates, y_i ~ Beta(i/2,
concentration + (dim - 2 - i) / 2) (row 0 is e_0), and the diagonal entry completes the row to
unit length. Samples carry no gradient (``has_rsample`` is False).
"""

from __future__ import annotations

import math

from .. import autograd, ops
from ..size import Size
from ..type_info import finfo
from . import constraints
from .continuous import Beta
from .distribution import Distribution, broadcast_all


class LKJCholesky(Distribution):
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        self._beta = self._row_radius_distribution()
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args=validate_args)

    def _row_radius_distribution(self):
        """Beta laws of the squared off-diagonal length y_i of each row (batch..., dim)."""
        offsets = ops.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offsets = ops.cat([offsets.new_zeros((1,)), offsets])
        marginal = self.concentration + 0.5 * (self.dim - 2)
        return Beta(offsets + 0.5, marginal.unsqueeze(-1) - 0.5 * offsets, validate_args=False)

    def expand(self, batch_shape, _instance=None):
        new = Distribution.expand(self, batch_shape)
        new._beta = self._beta.expand(tuple(Size(batch_shape)) + (self.dim,))
        return new

    def sample(self, sample_shape=Size()):
        with autograd.no_grad():
            radius2 = self._beta.sample(sample_shape).unsqueeze(-1)
            normal = ops.empty(
                tuple(self._extended_shape(sample_shape)), dtype=radius2.dtype, device=radius2.device
            ).normal_().tril(-1)
            norm = normal.norm(dim=-1, keepdim=True)
            # row 0 has no off-diagonal entries: its direction is zero, not 0 / 0
            direction = normal / ops.where(norm > 0, norm, ops.ones_like(norm))
            off_diagonal = radius2.sqrt() * direction
            diagonal = (1 - off_diagonal.pow(2).sum(-1)).clamp(min=finfo(off_diagonal.dtype).tiny).sqrt()
            return off_diagonal + diagonal.diag_embed()

    def log_prob(self, value):
        """sum_i (2 (eta - 1) + dim - i) log L_ii over rows i = 2..dim, minus the log normaliser."""
        self._validate_sample(value)
        diagonal = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        row = ops.arange(2, self.dim + 1, device=self.concentration.device)
        exponent = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - row
        unnormalized = (exponent * diagonal.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        log_normalizer = 0.5 * dm1 * math.log(math.pi) + ops.mvlgamma(alpha - 0.5, dm1) - alpha.lgamma() * dm1
        return unnormalized - log_normalizer
