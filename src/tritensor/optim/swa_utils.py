"""``torch.optim.swa_utils``: weight averaging (SWA, EMA) and the SWA learning-rate schedule.

``AveragedModel`` keeps a deep copy of a model whose parameters (and, with ``use_buffers``,
buffers) are a running average of the model's: the first ``update_parameters`` copies, the
later ones apply an averaging function (an equal-weight running mean unless ``avg_fn`` or
``multi_avg_fn`` says otherwise). ``SWALR`` anneals each group's lr to its ``swa_lr``;
``update_bn`` recomputes batch-norm statistics for the averaged weights with one pass over
the data. The formulas and their rounding are torch's (``lerp`` for the floating averages).
"""
from __future__ import annotations

import copy
import itertools
import math

from .. import dtypes as dt, ops
from ..autograd import grad_mode
from ..nn.modules.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step

__all__ = ["AveragedModel", "SWALR", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]


def get_ema_multi_avg_fn(decay=0.999):
    """Exponential moving average over lists: ``ema += (1 - decay) (model - ema)``."""
    @grad_mode.no_grad()
    def ema_update(ema_params, current_params, _num_averaged):
        if ema_params[0].is_floating_point():
            for ema, current in zip(ema_params, current_params):
                ema.lerp_(current, 1 - decay)
        else:  # lerp is for floating types only
            for ema, current in zip(ema_params, current_params):
                ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """Equal-weight running mean over lists: ``avg += (model - avg) / (n + 1)``."""
    @grad_mode.no_grad()
    def swa_update(averaged_params, current_params, num_averaged):
        if averaged_params[0].is_floating_point():
            weight = 1 / (num_averaged + 1)
            for averaged, current in zip(averaged_params, current_params):
                averaged.lerp_(current, weight)
            return
        for averaged, current in zip(averaged_params, current_params):
            diff = current - averaged
            if isinstance(num_averaged, Tensor):
                averaged.addcdiv_(diff, num_averaged + 1)
            else:
                averaged.add_(diff, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """Exponential moving average of one tensor: ``decay ema + (1 - decay) model``."""
    @grad_mode.no_grad()
    def ema_update(ema_param, current_param, _num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """Equal-weight running mean of one tensor."""
    @grad_mode.no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _by_device_and_dtype(averaged, current):
    """Pairs grouped by the averaged tensor's (device, dtype), in first-seen order: a
    ``multi_avg_fn`` gets lists of one kind, as torch's grouping hands them over."""
    groups = {}
    for a, c in zip(averaged, current):
        lists = groups.setdefault((str(a.device), a.dtype), ([], [], a.device))
        lists[0].append(a)
        lists[1].append(c)
    return groups.values()


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters average the model's over
    ``update_parameters`` calls; calling it runs the copy."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ops.tensor(0, dtype=dt.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged(self, model):
        if self.use_buffers:
            return (itertools.chain(self.module.parameters(), self.module.buffers()),
                    itertools.chain(model.parameters(), model.buffers()))
        return self.parameters(), model.parameters()

    def _average_group(self, averaged, current, n_averaged):
        """One (device, dtype) group: ``multi_avg_fn``, or by default the running mean as torch
        computes it there (its multi-tensor ``lerp`` on 'cuda', ``a + (c - a) / (n + 1)`` per
        tensor elsewhere: the roundings differ)."""
        if self.multi_avg_fn is not None or n_averaged.device.type == "cuda":
            (self.multi_avg_fn or get_swa_multi_avg_fn())(averaged, current, n_averaged)
            return
        average = get_swa_avg_fn()
        for a, c in zip(averaged, current):
            a.copy_(average(a, c, n_averaged))

    def update_parameters(self, model):
        """Copy ``model``'s parameters on the first call, average them in on later ones; buffers
        follow the model unless ``use_buffers`` averages them too."""
        mine, theirs = self._averaged(model)
        averaged, current = [], []
        first = int(self.n_averaged.item()) == 0
        for a, c in zip(mine, theirs):
            a, c = a.detach(), c.detach().to(a.device)
            averaged.append(a)
            current.append(c)
            if first:
                a.copy_(c)
        if not first:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for group_averaged, group_current, device in _by_device_and_dtype(averaged, current):
                    self._average_group(group_averaged, group_current, self.n_averaged.to(device))
            else:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c, self.n_averaged.to(a.device)))
        if not self.use_buffers:  # buffers not averaged: kept in sync with the model's
            for b_mine, b_model in zip(self.module.buffers(), model.buffers()):
                b_mine.detach().copy_(b_model.detach().to(b_mine.device))
        with grad_mode.no_grad():
            self.n_averaged += 1


@grad_mode.no_grad()
def update_bn(loader, model, device=None):
    """Recompute every batch norm's running statistics as the plain mean over one pass of
    ``loader`` (batches are tensors, or lists/tuples whose first element is the input)."""
    from ..nn.modules.normalization import _BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the batches
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its value to ``swa_lr`` over ``anneal_epochs`` steps
    ('cos' or 'linear'), then holds it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for value, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr the schedule started from, recovered from the current one at ``alpha``."""
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        starts = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                  for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, starts)]

    def state_dict(self):
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
