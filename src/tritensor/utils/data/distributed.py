"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a dataset.

The partition follows torch's: indices (shuffled by a generator seeded ``seed + epoch``, or in
order) are padded by repeating from the start to a multiple of ``num_replicas`` (or cut down to
one with ``drop_last``), and replica ``rank`` takes every ``num_replicas``-th index from ``rank``.
The shuffled order is tritensor's ``randperm`` for that seed, which differs from torch's (as for
``RandomSampler``). tritensor has no ``torch.distributed``, so ``num_replicas`` and ``rank``
must be given: without them torch asks its default process group, and this raises the error
torch raises when none is initialised.
"""
from __future__ import annotations

import math

from ... import random as _random
from .sampler import Sampler

_NO_PROCESS_GROUP = ("Default process group has not been initialized, please make sure to call "
                     "init_process_group. (tritensor has no torch.distributed: pass num_replicas and rank)")


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            raise ValueError(_NO_PROCESS_GROUP)
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle, self.seed = shuffle, seed
        size = len(dataset)
        if drop_last and size % num_replicas:
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)  # drop the tail evenly
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def _ordered_indices(self):
        size = len(self.dataset)
        if not self.shuffle:
            return list(range(size))
        generator = _random.Generator()
        generator.manual_seed(self.seed + self.epoch)
        return _random.randperm(size, generator=generator).tolist()

    def __iter__(self):
        indices = self._ordered_indices()
        missing = self.total_size - len(indices)
        if missing > 0 and indices:
            indices += (indices * math.ceil(missing / len(indices)))[:missing]
        indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Reshuffles differently each epoch (the same on every replica, as seeds agree)."""
        self.epoch = epoch
