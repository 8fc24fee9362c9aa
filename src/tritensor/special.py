"""torch.special: the special functions under torch's names.

Most are aliases of the ops (``gammaln`` is ``lgamma``, ``expit`` is ``sigmoid``, ``psi`` is
``digamma``), recorded under the same grad_fn names as torch's; ``i1``, ``i0e``, ``i1e``,
``xlog1py`` and ``entr`` exist only here, as in torch; ``ndtr`` is torch's composite
``(1 + erf(x / sqrt 2)) / 2``.
"""
from __future__ import annotations

import math

from .ops import elementwise as _ew
from .ops import reduction as _reduction
from .ops import special as _special
from .ops.creation import write_out

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc",
           "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax",
           "xlog1py", "xlogy", "zeta", *_special.SPECIAL_WITHOUT_AUTOGRAD]

digamma = psi = _special.digamma
gammaln = _special.lgamma
polygamma = _special.polygamma
multigammaln = _special.mvlgamma
erf = _ew.erf
erfc = _special.erfc
erfinv = _special.erfinv
erfcx = _special.special_erfcx
log_ndtr = _special.special_log_ndtr
ndtri = _special.special_ndtri
i0 = _special.i0
i1 = _special.special_i1
i0e = _special.special_i0e
i1e = _special.special_i1e
sinc = _special.sinc
entr = _special.special_entr
xlog1py = _special.special_xlog1py
zeta = _special.special_zeta
xlogy = _ew.xlogy
expit = _ew.sigmoid
logit = _ew.logit
exp2 = _ew.exp2
expm1 = _ew.expm1
log1p = _ew.log1p
logsumexp = _reduction.logsumexp
gammainc = _special.igamma
gammaincc = _special.igammac
# Bessel, Airy and orthogonal polynomial functions (no autograd, as torch)
globals().update(_special.SPECIAL_WITHOUT_AUTOGRAD)

# torch's composite, recorded as its Scalar overloads of add and mul
_AddScalar = _ew._renamed(_ew._Add, "AddBackward1")
_MulScalar = _ew._renamed(_ew._Mul, "MulBackward1")


def ndtr(input, *, out=None):
    """The standard normal distribution function, (1 + erf(x / sqrt(2))) / 2."""
    if not isinstance(input, _ew.Tensor):
        raise TypeError(f"special_ndtr(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    result = _MulScalar.apply(_AddScalar.apply(_MulScalar.apply(input, math.sqrt(0.5)).erf(), 1), 0.5)
    return result if out is None else write_out(out, result, "special_ndtr", "castable")


def softmax(input, dim, *, dtype=None):
    return _reduction.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _reduction.log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals=0, out=None):
    """torch.round's ``decimals`` overload, recorded as RoundBackward1 even for decimals=0."""
    if not input.dtype.is_floating_point:
        return _ew.round(input, out=out)
    return _ew._round_decimals.apply(input, out=out, scale=10.0 ** decimals)
