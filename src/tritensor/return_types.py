"""``torch.return_types``: the named-tuple classes tritensor's ops return, under torch's names.

The (values, indices) ops (max, min, sort, topk, kthvalue, median, nanmedian, mode, cummax,
cummin) share one class here, which prints each result under its own op's name; torch has a
class per op, so ``isinstance(r, return_types.max)`` is also true of a ``sort`` result.
"""
from __future__ import annotations

from .ops.decompositions import (CholeskyExResult as linalg_cholesky_ex, InvExResult as linalg_inv_ex,  # noqa: F401
                                 LuFactorExResult as linalg_lu_factor_ex, LuFactorResult as linalg_lu_factor,
                                 LuResult as linalg_lu, LuUnpackResult as lu_unpack, QrResult as linalg_qr,
                                 SlogdetResult as linalg_slogdet, SolveExResult as linalg_solve_ex)
from .ops.histograms import HistogramddResult as histogramdd, HistogramResult as histogram  # noqa: F401
from .ops.reduction import _MinMax as aminmax, _ValuesIndices  # noqa: F401
from .ops.special import _FrexpResult as frexp  # noqa: F401
from .ops.spectral import (EighResult as linalg_eigh, LstsqResult as linalg_lstsq,  # noqa: F401
                           SvdResult as linalg_svd, TorchSvdResult as svd)

max = min = sort = topk = kthvalue = median = nanmedian = mode = cummax = cummin = _ValuesIndices  # noqa: A001

all_return_types = list(dict.fromkeys(v for k, v in list(globals().items())
                                     if isinstance(v, type) and not k.startswith("_")))
