"""Autocast's op-level half: per-thread state, torch's per-device op lists, and the cast.

An op on an autocast list starts with::

    if _amp.on:                      # one thread-local attribute read when autocast is off
        return autocast_call("mm", mm, input, mat2)

``autocast_call`` looks the op up in the list of the device type its tensors live on,
casts the eligible inputs (floating, not float64, on that device type) with a
differentiable ``.to()``, and runs the op again with autocast excluded, so the ops it is
built from are not cast a second time (torch's ``ExcludeDispatchKeyGuard``). The context
manager, ``tritensor.autocast``, lives in ``amp/autocast_mode.py``.
"""
from __future__ import annotations

import threading

from .. import dtypes as dt
from ..tensor import Tensor

LOWER = "lower_precision_fp"   # cast to the autocast dtype (fp16 / bf16)
FP32 = "fp32"                  # cast to float32
FP32_OPT = "fp32_set_opt_dtype"  # pass dtype=float32 unless a dtype is given (softmax, sum, norm...)
PROMOTE = "promote"            # cast to the widest floating input type
BANNED = "banned"              # raise: unsafe to autocast

DEFAULT_DTYPES = {"cpu": dt.bfloat16, "cuda": dt.float16}

# torch 2.x ``AutocastCPU`` registrations, for the ops tritensor has (aten/src/ATen/autocast_mode.cpp)
_CPU = {
    **dict.fromkeys(("mm", "bmm", "baddbmm", "addmm", "addbmm", "linear", "matmul", "conv1d", "conv2d",
                     "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), LOWER),
    **dict.fromkeys(("prod", "mse_loss", "nll_loss", "smooth_l1_loss", "cross_entropy", "l1_loss",
                     "huber_loss", "triplet_margin_loss", "kl_div", "binary_cross_entropy",
                     "binary_cross_entropy_with_logits"), FP32),
    **dict.fromkeys(("cat", "stack", "index_copy"), PROMOTE),
}

#: unary elementwise ops on the CUDA fp32 list: ``ops/elementwise.py``'s ``_unary`` checks these only
ELEMENTWISE = frozenset(("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
                         "reciprocal", "rsqrt", "sinh", "tan"))

# torch's ``Autocast`` (CUDA) registrations, for the ops tritensor has
_CUDA = {
    **dict.fromkeys(("mm", "mv", "bmm", "addmm", "addmv", "baddbmm", "addbmm", "linear", "matmul", "conv1d",
                     "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), LOWER),
    **dict.fromkeys(("layer_norm", "cosine_similarity", "nll_loss", "kl_div", "l1_loss", "smooth_l1_loss",
                     "huber_loss", "mse_loss", "triplet_margin_loss", "binary_cross_entropy_with_logits",
                     "logsumexp",
                     # composite in torch: its log_softmax and nll_loss both run in fp32
                     "cross_entropy"), FP32),
    **dict.fromkeys(("prod", "softmax", "log_softmax", "cumprod", "cumsum", "sum", "norm"), FP32_OPT),
    **dict.fromkeys(("dot", "addcmul", "addcdiv", "atan2", "index_put", "scatter_add"), PROMOTE),
    **dict.fromkeys(ELEMENTWISE | {"pow", "softplus"}, FP32),
    "binary_cross_entropy": BANNED,
}

POLICIES = {"cpu": _CPU, "cuda": _CUDA}

_BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")

_ELIGIBLE = (dt.float16, dt.bfloat16, dt.float32)


class _State(threading.local):
    """Autocast state of one thread (torch's is thread-local too)."""

    def __init__(self):
        self.on = False  # some device type is enabled and no autocast op is running
        self.enabled = dict.fromkeys(DEFAULT_DTYPES, False)
        self.dtype = dict(DEFAULT_DTYPES)
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}  # id(fp32 leaf) -> (leaf, its lower-precision copy), while a region is open

    def refresh(self):
        self.on = any(self.enabled.values())


state = _State()


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (t for t in a if isinstance(t, Tensor))


def _device_type(args, kwargs):
    """The autocast key torch dispatches on: a non-CPU device wins over CPU."""
    for t in _tensors((*args, *kwargs.values())):
        kind = t.device.type
        if kind != "cpu":
            return kind
    return "cpu"


def _eligible(t, device_type):
    return isinstance(t, Tensor) and t.dtype in _ELIGIBLE and t.device.type == device_type


def _cast(t, to, device_type, lower):
    """``t.to(to)`` if eligible; fp32 leaves that require grad keep one cached lower-precision
    copy per region (torch's weight cache), so a weight used twice is cast once."""
    if not _eligible(t, device_type) or t.dtype is to:
        return t
    cacheable = (to is lower and t.dtype is dt.float32 and t.requires_grad and t.is_leaf
                 and state.cache_enabled)
    if not cacheable:
        return t.to(to)
    hit = state.cache.get(id(t))
    if hit is None or hit[0] is not t:
        hit = state.cache[id(t)] = (t, t.to(to))
    return hit[1]


def cast_floating(args, to, device_type):
    """``args`` with each floating-point (not float64) tensor of ``device_type`` cast to ``to``,
    also inside list/tuple arguments (``amp.custom_fwd``'s ``cast_inputs``)."""
    return _map(args, lambda t: t.to(to) if _eligible(t, device_type) else t)


def _map(args, fn):
    """``fn`` applied to each tensor of ``args``, also inside list/tuple arguments (cat, stack)."""
    return tuple(_map_one(a, fn) for a in args)


def _map_one(a, fn):
    if isinstance(a, Tensor):
        return fn(a)
    if isinstance(a, (list, tuple)) and any(isinstance(t, Tensor) for t in a):
        return type(a)(fn(t) if isinstance(t, Tensor) else t for t in a)
    return a


def _promote_type(args, device_type, lower):
    """torch's ``promote_type``: float32 if any eligible input is float32, else the autocast dtype."""
    to = lower
    for t in _tensors(args):
        if not _eligible(t, device_type):
            continue
        if t.dtype is dt.float32:
            to = dt.float32
        elif t.dtype is not lower:
            raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return to


def _apply(policy, args, kwargs, device_type):
    lower = state.dtype[device_type]
    if policy is BANNED:
        raise RuntimeError(_BCE_BANNED)
    if policy is FP32_OPT:
        explicit = kwargs.get("dtype") is not None or any(isinstance(a, dt.dtype) for a in args)
        if not explicit and args and _eligible(args[0], device_type):
            kwargs = {**kwargs, "dtype": dt.float32}
        return args, kwargs
    to = lower if policy is LOWER else dt.float32 if policy is FP32 else \
        _promote_type(tuple(args) + tuple(kwargs.values()), device_type, lower)

    def cast(t):
        return _cast(t, to, device_type, lower)
    return _map(args, cast), dict(zip(kwargs, _map(tuple(kwargs.values()), cast)))


def autocast_call(name, op, *args, **kwargs):
    """Run ``op(*args, **kwargs)`` as autocast op ``name``: cast its inputs per the policy of the
    device type they are on (if that device type is enabled), then run it with autocast off."""
    device_type = _device_type(args, kwargs)
    if state.enabled.get(device_type) and kwargs.get("out") is None:  # out= calls are not autocast
        policy = POLICIES[device_type].get(name)
        if policy is not None:
            args, kwargs = _apply(policy, args, kwargs, device_type)
    return run_excluded(op, *args, **kwargs)


def run_excluded(op, *args, **kwargs):
    """``op(*args, **kwargs)`` with autocast off in this thread (torch's ExcludeDispatchKeyGuard)."""
    state.on = False
    try:
        return op(*args, **kwargs)
    finally:
        state.refresh()
