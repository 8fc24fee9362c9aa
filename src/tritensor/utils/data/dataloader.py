"""``DataLoader``: batches from a dataset, in-process or from worker processes.

With ``num_workers > 0`` each worker is a real process (``fork`` where available, as torch
does on Linux) seeded with ``base_seed + worker_id``; the main process hands out index
batches round-robin, keeps ``prefetch_factor * num_workers`` in flight, and yields results
in sampler order. A worker's exception is re-raised here with the worker's traceback; a
worker that dies is reported as an error instead of blocking forever.
"""
from __future__ import annotations

import itertools
import multiprocessing
import queue

from ... import dtypes as _dt, ops
from . import _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_POLL_INTERVAL = 0.5  # seconds between liveness checks while waiting for a worker


class _InfiniteConstantSampler(Sampler):
    """Index source for iterable datasets: the workers ignore the indices."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``)."""

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                             "None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.in_order = in_order
        self._is_iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None and batch_size == 1 and not drop_last:
            batch_size = None  # a user batch sampler decides the batches (errors for conflicts below)
        sampler, batch_sampler = self._samplers(dataset, batch_size, shuffle, sampler, batch_sampler,
                                                drop_last, generator)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.__initialized = True

    def _samplers(self, dataset, batch_size, shuffle, sampler, batch_sampler, drop_last, generator):
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but "
                                 f"got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but "
                                 f"got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                                 f"option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size is not None or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        return sampler, batch_sampler

    def __setattr__(self, name, value):
        if self.__dict__.get("_DataLoader__initialized") and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(first=False)
        return self._iterator

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def _fetcher(self):
        return _worker._Fetcher(self.dataset, self._is_iterable, self._auto_collation, self.collate_fn,
                                self.drop_last)


def _pin(data):
    """Page-lock tensors when a GPU is present (``pin_memory=True``); a no-op on CPU-only hosts."""
    from ... import cuda
    if not cuda.is_available():
        return data
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, dict):
        return type(data)({k: _pin(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*map(_pin, data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pin(v) for v in data)
    return data


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._num_yielded = 0
        # drawn before the sampler runs, with or without workers, as torch does: the sample
        # order under a generator is the same for any num_workers
        self._base_seed = _base_seed(loader.generator)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _finish(self, data):
        self._num_yielded += 1
        return _pin(data) if self._loader.pin_memory else data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = loader._fetcher()

    def __next__(self):
        index = next(self._sampler_iter)
        return self._finish(self._fetcher.fetch(index))


def _base_seed(generator):
    return int(ops.empty((), dtype=_dt.int64).random_(generator=generator).item())


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        n = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                              else None)
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._timeout = loader.timeout
        self._prefetch = loader.prefetch_factor * n
        self._persistent = loader.persistent_workers
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        import os
        for worker_id in range(n):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=_worker.worker_loop, daemon=True,
                            args=(loader.dataset, loader._is_iterable, index_queue, self._result_queue,
                                  self._done_event, loader._auto_collation, loader.collate_fn,
                                  loader.drop_last, self._base_seed, loader.worker_init_fn, worker_id, n,
                                  os.getpid()))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._shutdown = False
        self._reset(first=True)

    def _reset(self, first):
        self._sampler_iter = iter(self._loader._index_sampler)
        self._num_yielded = 0
        self._send_idx = self._rcvd_idx = 0
        self._task_worker = {}   # task id -> worker id, while the task is outstanding
        self._results = {}       # task id -> data that arrived before its turn
        self._active = [True] * len(self._workers)
        self._worker_cycle = itertools.cycle(range(len(self._workers)))
        if not first:
            self._resume_workers()
        for _ in range(self._prefetch):
            self._try_put_index()

    def _resume_workers(self):
        """Persistent workers: restart their datasets and drop anything left from the last epoch."""
        for q in self._index_queues:
            q.put(_worker._RESUME)
        pending = set(range(len(self._workers)))
        while pending:
            _, data = self._get_data()
            if isinstance(data, _worker._Resumed):
                pending.discard(data.worker_id)

    def _try_put_index(self):
        if self._send_idx - self._rcvd_idx >= self._prefetch or not any(self._active):
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            worker_id = next(self._worker_cycle)
            if self._active[worker_id]:
                break
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._send_idx += 1

    def _get_data(self):
        """Next message from any worker; raise if the timeout passes or a worker died."""
        waited = 0.0
        while True:
            wait = _POLL_INTERVAL if not self._timeout else min(_POLL_INTERVAL, self._timeout - waited)
            try:
                return self._result_queue.get(timeout=max(wait, 1e-3))
            except queue.Empty:
                waited += wait
            dead = [w for w in self._workers if not w.is_alive()]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from None
            if self._timeout and waited >= self._timeout:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def __next__(self):
        if self._shutdown:
            raise StopIteration
        while True:
            while (self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._task_worker
                   and self._rcvd_idx not in self._results):
                self._rcvd_idx += 1  # a task answered by an exhausted iterable worker
            if self._rcvd_idx in self._results:
                data = self._results.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                self._try_put_index()
                if isinstance(data, _worker.ExceptionWrapper):
                    self._shutdown_workers()
                    data.reraise()
                return self._finish(data)
            if self._rcvd_idx >= self._send_idx:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            task_id, data = self._get_data()
            if task_id is None or task_id not in self._task_worker:
                continue  # stale message from an earlier epoch
            del self._task_worker[task_id]
            if isinstance(data, _worker._IterableEnd):
                self._active[data.worker_id] = False
                self._try_put_index()
                continue
            self._results[task_id] = data

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self._workers:
            w.join(timeout=2.0)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in self._index_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # noqa: BLE001 - interpreter teardown
            pass


def get_worker_info():
    return _worker.get_worker_info()
