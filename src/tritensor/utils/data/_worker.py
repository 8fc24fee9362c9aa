"""The DataLoader worker process: fetch the batches the main process asks for.

Protocol (one index queue per worker, one shared result queue):
  main -> worker: ``(task_id, indices)`` to fetch; ``_RESUME`` to restart an iterable
  dataset for a new epoch (persistent workers); ``None`` to exit.
  worker -> main: ``(task_id, batch)``, ``(task_id, ExceptionWrapper)``,
  ``(task_id, _IterableEnd(worker_id))`` when its iterable dataset is exhausted, and
  ``(None, _Resumed(worker_id))`` to acknowledge a resume.
"""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

from .collate import default_collate

_RESUME = "__resume__"
_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """In a worker process, its ``WorkerInfo`` (id, num_workers, seed, dataset); else None."""
    return _worker_info


@dataclass(frozen=True)
class _IterableEnd:
    worker_id: int


@dataclass(frozen=True)
class _Resumed:
    worker_id: int


class ExceptionWrapper:
    """Carries an exception with its formatted traceback across the process boundary."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001 - exception types whose constructor needs other args
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError quotes its message with repr; keep the traceback readable."""

    def __repr__(self):
        return self


def worker_seed_state(base_seed, worker_id):
    """A numpy seed distinct per (base seed, worker), like torch's ``_generate_state``."""
    import numpy as np
    return np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32]).generate_state(4)


def _seed_everything(seed, base_seed, worker_id):
    import numpy as np

    from ... import random as tt_random
    random.seed(seed)
    tt_random.manual_seed(seed)
    np.random.seed(worker_seed_state(base_seed, worker_id))


class _Fetcher:
    """Map-style: ``collate([dataset[i] for i in indices])``; iterable: the next batch of items."""

    def __init__(self, dataset, is_iterable, auto_collation, collate_fn, drop_last):
        self.dataset, self.is_iterable = dataset, is_iterable
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.iterator = iter(dataset) if is_iterable else None
        self.ended = False

    def fetch(self, indices):
        if self.is_iterable:
            return self._fetch_iterable(indices)
        if self.auto_collation:
            if self.collate_fn is default_collate:  # a dataset that can gather a whole batch at once
                collated = getattr(self.dataset, "_collated", None)
                batch = collated(indices) if collated is not None else None
                if batch is not None:
                    return batch
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(indices) if getitems else [self.dataset[i] for i in indices]
        else:
            data = self.dataset[indices]
        return self.collate_fn(data)

    def _fetch_iterable(self, indices):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in indices:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(indices)):
            raise StopIteration
        return self.collate_fn(data)


def worker_loop(dataset, is_iterable, index_queue, result_queue, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers, parent_pid):
    """Runs in the child: seed, call ``worker_init_fn``, then serve fetch requests until told to stop."""
    global _worker_info
    seed = base_seed + worker_id
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        _seed_everything(seed, base_seed, worker_id)
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _Fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last)
    except Exception:  # noqa: BLE001 - reported to the main process with the next request
        init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
    while True:
        try:
            task = index_queue.get(timeout=5.0)
        except queue.Empty:
            if done_event.is_set() or os.getppid() != parent_pid:
                return
            continue
        if task is None:
            return
        if task == _RESUME:
            fetcher = _Fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last)
            result_queue.put((None, _Resumed(worker_id)))
            continue
        task_id, indices = task
        if init_error is not None:
            result_queue.put((task_id, init_error))
            init_error = None
            continue
        try:
            data = fetcher.fetch(indices)
        except StopIteration:
            data = _IterableEnd(worker_id)
        except Exception:  # noqa: BLE001 - every dataset error goes to the main process
            data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        result_queue.put((task_id, data))
        del data
