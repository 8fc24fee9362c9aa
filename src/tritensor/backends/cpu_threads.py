"""The CPU kernels' threads: one launch split into chunks, the first run by the caller.

A kernel call is a few microseconds of work per 100k elements, so the hand-off must cost
less than that. Each helper thread waits on a lock of its own and is handed one chunk by
releasing it, then reports back through a second lock: ~5 us a launch, where a
``ThreadPoolExecutor``'s futures and queue cost ~20 us (a 2^19-element float32 multiply took
63 us threaded against 40 us on one thread). On a virtual machine whose idle cores halt, the
wake-ups cost 70-90 us instead (docs/performance.md, "Session 22"). The kernels release the
GIL (``nogil``), so the chunks run in parallel.

- One launch at a time: a launch from another thread while one runs (a pin-memory thread,
  a user's thread), or from inside a chunk, runs its chunks itself, one after the other.
- After ``fork`` (DataLoader workers) the helper threads do not exist in the child: it
  forgets them and starts its own on its first launch. (The executor this replaces kept the
  parent's dead threads, so a worker's first threaded op waited forever.)
"""
from __future__ import annotations

import os
import threading


class _Helper:
    """A daemon thread running one ``fn(start, stop)`` each time ``go`` is released."""

    __slots__ = ("go", "done", "task", "error")

    def __init__(self):
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.task = None
        self.error = None
        threading.Thread(target=self._serve, daemon=True, name="tritensor-cpu").start()

    def _serve(self):
        while True:
            self.go.acquire()
            self._run_task()  # its frame, and with it the chunk's arrays, ends before the wait
            self.done.release()

    def _run_task(self):
        fn, start, stop = self.task
        self.task = None
        try:
            fn(start, stop)
        except BaseException as error:  # noqa: BLE001 - re-raised by the launching thread
            self.error = error


_helpers: list = []
_launching = threading.Lock()


def run_chunks(fn, chunks) -> None:
    """Run ``fn(start, stop)`` for each (start, stop) chunk, in parallel when there are several;
    the first error of any chunk is raised once all have finished."""
    if len(chunks) == 1:
        fn(*chunks[0])
        return
    if not _launching.acquire(blocking=False):  # another launch is running: do the work here
        for start, stop in chunks:
            fn(start, stop)
        return
    try:
        handed = chunks[1:]
        while len(_helpers) < len(handed):
            _helpers.append(_Helper())
        helpers = _helpers[:len(handed)]
        for helper, (start, stop) in zip(helpers, handed):
            helper.task = (fn, start, stop)
            helper.go.release()
        error = None
        try:
            fn(*chunks[0])
        except BaseException as own:  # noqa: BLE001 - raised below, after the helpers finish
            error = own
        for helper in helpers:
            helper.done.acquire()
            if helper.error is not None:
                error = error or helper.error
                helper.error = None
        if error is not None:
            raise error
    finally:
        _launching.release()


def _forget_helpers_after_fork():
    global _helpers, _launching
    _helpers = []
    _launching = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers_after_fork)
