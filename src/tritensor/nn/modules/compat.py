"""Layers torch keeps for compatibility: ``NLLLoss2d`` (a deprecated alias of NLLLoss) and
``SyncBatchNorm`` in a single process (tritensor has no distributed package, so there is no
other process to synchronise the batch statistics with: it is batch norm over any rank)."""
from __future__ import annotations

import warnings

from .loss import NLLLoss
from .normalization import _BatchNorm


class NLLLoss2d(NLLLoss):
    """``NLLLoss`` under its old name for (N, C, H, W) inputs; warns as torch does."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in "
                      "replacement and see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more "
                      "details.",
                      FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over dim 1 of an input of 2 or more dims. A ``process_group`` (several
    processes) is not supported: tritensor has no ``torch.distributed``."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        if process_group is not None:
            raise NotImplementedError("SyncBatchNorm: process_group is not supported (tritensor has no "
                                      "torch.distributed; one process is batch norm)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = None

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*d in it replaced by a SyncBatchNorm holding the same
        parameters, buffers and training mode."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm) and \
                type(module).__name__.startswith("BatchNorm"):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                converted._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted._buffers[name] = module._buffers[name]
            converted.train(module.training)
            return converted
        for name, child in module.named_children():
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
