"""torch's second names for ops defined elsewhere (``arccos`` for ``acos``, ``divide_`` for
``div_``) and the ``torch.x`` function forms of methods (``torch.clamp_``), in one table: an
alias is the same function object, never a second implementation. Imported after every op
module, so each target exists."""
from __future__ import annotations

from ..tensor import Tensor
from ._registry import FUNCTIONS, METHODS

# alias: (target, where torch offers it: "function" torch.alias, "method" Tensor.alias)
_BOTH, _METHOD, _FUNCTION = ("function", "method"), ("method",), ("function",)
ALIASES = {
    "arccos": ("acos", _BOTH), "arccos_": ("acos_", _BOTH),
    "arcsin": ("asin", _BOTH), "arcsin_": ("asin_", _BOTH),
    "arctan": ("atan", _BOTH), "arctan_": ("atan_", _BOTH),
    "arccosh": ("acosh", _BOTH), "arccosh_": ("acosh_", _BOTH),
    "arcsinh": ("asinh", _BOTH), "arcsinh_": ("asinh_", _BOTH),
    "arctanh": ("atanh", _BOTH), "arctanh_": ("atanh_", _BOTH),
    "arctan2_": ("atan2_", _METHOD),
    "absolute_": ("abs_", _METHOD),
    "negative_": ("neg_", _BOTH),
    "sgn_": ("sign_", _METHOD),
    "fix_": ("trunc_", _BOTH),
    "true_divide_": ("div_", _METHOD), "divide_": ("div_", _METHOD),
    "multiply_": ("mul_", _METHOD), "subtract_": ("sub_", _METHOD),
    "greater_": ("gt_", _METHOD), "greater_equal_": ("ge_", _METHOD),
    "less_": ("lt_", _METHOD), "less_equal_": ("le_", _METHOD), "not_equal_": ("ne_", _METHOD),
    "swapaxes_": ("transpose_", _METHOD), "swapdims_": ("transpose_", _METHOD),
    "vdot": ("dot", _BOTH),  # of real vectors, no conjugation
    # function forms of methods
    "clamp_": ("clamp_", _FUNCTION), "clip_": ("clamp_", _FUNCTION),
    "clamp_min_": ("clamp_min_", _FUNCTION), "clamp_max_": ("clamp_max_", _FUNCTION),
    "fill_": ("fill_", _FUNCTION), "zero_": ("zero_", _FUNCTION), "round_": ("round_", _FUNCTION),
    "nan_to_num_": ("nan_to_num_", _FUNCTION), "index_put_": ("index_put_", _FUNCTION),
    "detach": ("detach", _FUNCTION), "detach_": ("detach_", _FUNCTION),
    "get_device": ("get_device", _FUNCTION), "is_signed": ("is_signed", _FUNCTION),
}


def _target(name):
    """An op registered as a method (or function), else one defined on the Tensor class."""
    return METHODS.get(name) or FUNCTIONS.get(name) or getattr(Tensor, name)


for _alias, (_name, _where) in ALIASES.items():
    _fn = _target(_name)
    if "function" in _where:
        FUNCTIONS[_alias] = _fn
    if "method" in _where:
        METHODS[_alias] = _fn
del _alias, _name, _where, _fn
