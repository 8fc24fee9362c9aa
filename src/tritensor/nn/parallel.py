"""``torch.nn.parallel``: DataParallel and data_parallel on at most one device.

torch's DataParallel replicates a module over several GPUs, splits the batch among them and
gathers the outputs. On a machine without a GPU it calls the module as it is, and on one GPU
it moves the inputs there and calls it: code written for many GPUs (pytorch/examples'
dcgan, a checkpoint's ``module.`` prefixed keys) runs on the machines tritensor serves.
Several devices raise NotImplementedError.
"""
from __future__ import annotations

from .. import cuda
from ..device import device as _device
from ..tensor import Tensor
from .modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _device_ids(device_ids):
    """torch's default: every GPU; none where there is none."""
    if not cuda.is_available():
        return []
    if device_ids is None:
        return list(range(cuda.device_count()))
    return [_device(d).index if not isinstance(d, int) else d for d in device_ids]


def _to(value, target):
    """``value`` with every tensor in it (tuples, lists, dicts) moved to ``target``."""
    if isinstance(value, Tensor):
        return value.to(target)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, target) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, target) for k, v in value.items()}
    return value


def _run(module, device_ids, inputs, kwargs):
    if not device_ids:
        return module(*inputs, **kwargs)
    if len(device_ids) > 1:
        raise NotImplementedError(
            f"DataParallel over {len(device_ids)} devices ({device_ids}) is not supported: tritensor "
            "runs a module on one device; pass device_ids=[0] (or one device) or use the module directly")
    target = _device("cuda", device_ids[0])
    for t in (*module.parameters(), *module.buffers()):
        if t.device != target:
            raise RuntimeError(f"module must have its parameters and buffers on device {target} "
                               f"(device_ids[0]) but found one of them on device: {t.device}")
    return module(*_to(tuple(inputs), target), **_to(kwargs, target))


class DataParallel(Module):
    """Runs ``module`` on its one device (see the module docstring); keeps it as
    ``self.module``, so state_dict keys carry torch's ``module.`` prefix."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = _device_ids(device_ids)
        if not self.device_ids:  # torch keeps nothing else without a GPU
            return
        self.dim = dim
        self.output_device = self.device_ids[0] if output_device is None else output_device

    def forward(self, *inputs, **kwargs):
        return _run(self.module, self.device_ids, inputs, kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form: ``module(*inputs)`` on its one device."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return _run(module, _device_ids(device_ids), inputs, module_kwargs or {})
