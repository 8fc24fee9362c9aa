"""The op layer: every tensor operation, its dtype/shape rules and its backward rule.

Importing this package registers all ops; ``FUNCTIONS`` feeds ``tritensor.<name>`` and
``METHODS`` is attached to ``Tensor``.
"""
from __future__ import annotations

from . import (conversion, creation, decompositions, differences, einsum, elementwise, grids, histograms,  # noqa: F401
               index_reduce, ldl, legacy_linalg, lowrank,
               indexing, joining, linalg, norms, quadrature, quantiles, reduction, searching, sorting,
               special, spectral, statistics, structured, view_copies, view_scatter, views, windows)
from ._common import broadcast_shapes, wrap_dim  # noqa: F401
from ._registry import FUNCTIONS, METHODS, attach_methods  # noqa: F401
from .conversion import as_ndarray, to_host_array  # noqa: F401
from .creation import scalar_tensor_like  # noqa: F401


def _load_optional():
    from . import advanced_indexing  # noqa: F401


try:
    _load_optional()
except ImportError:  # pragma: no cover - advanced indexing lands with its own module
    pass

from . import aliases  # noqa: E402,F401  (last: every target is registered)

globals().update(FUNCTIONS)
