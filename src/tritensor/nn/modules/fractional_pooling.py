"""``FractionalMaxPool2d`` / ``3d``: fractional max pooling (``nn/_fractional_pool.py``)."""
from __future__ import annotations

from .. import _fractional_pool as P
from .module import Module


class _FractionalMaxPoolNd(Module):
    """Options checked as torch's: an output size or an output ratio in (0, 1) per dim.
    ``_random_samples`` (a buffer, as torch's) fixes the windows, for reproducible tests."""

    _n = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        n = self._n
        self.kernel_size, self.return_indices = kernel_size, return_indices
        self.output_size = output_size
        self.register_buffer("_random_samples", _random_samples)
        self.output_ratio = None
        if output_ratio is not None:
            self.output_ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else \
                (output_ratio,) * n
        if output_size is None and output_ratio is None:
            raise ValueError(f"FractionalMaxPool{n}d requires specifying either an output size, or a "
                             "pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        pool = P.fractional_max_pool3d if self._n == 3 else P.fractional_max_pool2d
        return pool(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                    _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    _n = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    _n = 3
