"""``GradScaler``: dynamic loss scaling for mixed-precision training (torch.amp.GradScaler).

``scale(loss)`` multiplies by the scale; ``step(optimizer)`` first unscales the grads with
one fused launch per device and dtype that also flags any inf/NaN (the CPU kernel is
``tritensor.kernels.numba.optim.unscale_kernel``, the 'cuda' one
``tritensor.kernels.triton.optim.unscale_kernel``: no per-tensor host sync), skips the
step if one was found, and ``update()`` backs the scale off or grows it, as torch does.
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from enum import Enum

import numpy as np

from .. import dtypes as _dt
from .. import ops as _ops
from ..autograd import grad_mode
from ..backends import cpu
from ..kernels.numba import optim as kernels
from ..optim import _multi_tensor
from ..tensor import Tensor

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _device_available(device: str) -> bool:
    if device != "cuda":
        return True
    from .. import cuda
    return cuda.is_available()


class GradScaler:
    """Scales the loss so small fp16 gradients survive, unscaling before the optimizer step."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _device_available(device):
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # ------------------------------------------------------------------ scaling
    def _check_scale_growth_tracker(self, funcname):
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier in the "
               "iteration.")
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev):
        self._scale = _ops.full((), self._init_scale, dtype=_dt.float32, device=dev)
        self._growth_tracker = _ops.full((), self._init_growth_tracker, dtype=_dt.int32, device=dev)

    def scale(self, outputs):
        """``outputs * scale`` for a tensor or a (nested) list/tuple/iterable of tensors."""
        if not self._enabled:
            return outputs

        def apply(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                return val * self._scale.to(device=val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply(v) for v in val)
            if hasattr(val, "__iter__"):
                return map(apply, val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def _unscale_grads_(self, optimizer, inv_scale: float, allow_fp16: bool):
        """Unscale every grad; return {device: 0-d float32 tensor, 1.0 if any inf/NaN was seen}."""
        buckets = defaultdict(list)
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if not allow_fp16 and param.grad.dtype is _dt.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                buckets[(param.grad.device, param.grad.dtype)].append(param.grad)
        found = {}
        with grad_mode.no_grad():
            for (device, dtype), grads in buckets.items():
                if device not in found:
                    found[device] = _ops.zeros((), dtype=_dt.float32, device=device)
                _unscale_bucket(grads, dtype, inv_scale, found[device])
        return found

    def unscale_(self, optimizer):
        """Divide the optimizer's grads by the scale (once per step), recording inf/NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last "
                               "update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = float(np.float32(1.0 / np.float64(self._scale.item())))
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and run ``optimizer.step`` unless a grad was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Back off the scale after an inf/NaN step, or grow it after ``growth_interval`` good ones."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device or new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                scale.copy_(new_scale)
        else:
            found = [f for state in self._per_optimizer_states.values()
                     for f in state["found_inf_per_device"].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(scale, tracker, sum(f.item() for f in found))
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, scale, tracker, found_inf):
        """torch's ``_amp_update_scale_`` (float32 scale, int32 growth tracker)."""
        current = np.float32(scale.item())
        if found_inf:
            scale.fill_(float(np.float32(np.float64(current) * self._backoff_factor)))
            tracker.fill_(0)
            return
        successful = int(tracker.item()) + 1
        if successful == self._growth_interval:
            grown = np.float32(np.float64(current) * self._growth_factor)
            if np.isfinite(grown):
                scale.fill_(float(grown))
            tracker.fill_(0)
        else:
            tracker.fill_(successful)

    # ------------------------------------------------------------------ accessors / state
    def get_scale(self):
        if self._enabled:
            return self._init_scale if self._scale is None else self._scale.item()
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            tracker = self._growth_tracker
            return self._init_growth_tracker if tracker is None else int(tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a "
                               "disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning of an "
                                     "iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


def _unscale_bucket(grads, dtype, inv_scale, found_inf):
    """grads *= inv_scale; found_inf = 1 if any grad has an inf/NaN. One launch on CPU
    (float32/64) and 'cuda' (any float dtype); tensor ops elsewhere."""
    device = found_inf.device.type
    if not (dtype in _multi_tensor.KERNEL_DTYPES if device == "cpu" else device == "cuda"):
        for g in grads:
            if not bool(_ops.isfinite(g).all()):
                found_inf.fill_(1.0)
            g.mul_(inv_scale)
        return
    table = _multi_tensor.Table(len(grads), dtype, rows=1)
    for i, g in enumerate(grads):
        table.sizes[i] = g.numel()
        table.addrs[0, i] = table.address(g, g._shape, True, "gradient")
    if device == "cpu":
        np_dtype = _multi_tensor.KERNEL_DTYPES[dtype]
        _multi_tensor.run_launch(kernels.unscale_kernel(), table.addrs, table.sizes, np.float32(inv_scale),
                                 cpu.ndarray(found_inf).reshape(1), _multi_tensor.LIKE[np_dtype])
    else:
        from ..kernels.triton import optim as triton_kernels  # triton is imported only when used
        work = _multi_tensor._work_blocks(table.sizes, triton_kernels.chunk())
        triton_kernels.multi_tensor_unscale(table.addrs, work, inv_scale, found_inf, dtype)
    table.write_back()
    for g in grads:
        g._bump_version()


def deprecated_alias(device_type):
    """``torch.<device_type>.amp.GradScaler``: GradScaler for ``device_type``, warning as torch's."""
    class DeprecatedGradScaler(GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            warnings.warn(f"`torch.{device_type}.amp.GradScaler(args...)` is deprecated. Please use "
                          f"`torch.amp.GradScaler('{device_type}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device_type, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)
    DeprecatedGradScaler.__name__ = DeprecatedGradScaler.__qualname__ = "GradScaler"
    return DeprecatedGradScaler
