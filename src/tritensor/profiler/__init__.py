"""``torch.profiler``: times tritensor's ops and ``record_function`` ranges.

Op events are named like torch's (``aten::add``, ``aten::matmul``, ``aten::linear`` ...): each
public op entry point is recorded under ``aten::<its name>``, so names match torch's wherever the
op has the same name; ops that torch decomposes differently show tritensor's structure (for
example torch's ``aten::mm`` inside ``aten::matmul`` may not appear). While no profiler records,
the op path is untouched (see ``_recorder``). On 'cuda', with ``ProfilerActivity.CUDA``, each op's
device time is measured with timing cuda Events and a synchronisation at its end.
Memory (``profile_memory``), stacks (``with_stack``), FLOPs and modules are accepted and not
recorded: the corresponding fields stay 0 / empty.
"""
from __future__ import annotations

import enum
import functools
import os
import socket
import time

from ._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from ._recorder import RECORDER

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities():
    """CPU always; CUDA when tritensor has a 'cuda' device (real or emulated)."""
    from .. import cuda
    return {ProfilerActivity.CPU} | ({ProfilerActivity.CUDA} if cuda.is_available() else set())


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """torch's step schedule: after ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup``
    steps and ``active`` recorded steps (the last one saves the trace), ``repeat`` times (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"profiler step must be non-negative, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    if warmup == 0:
        import warnings
        warnings.warn("Profiler won't be using warmup, this can skew profiler results")
    return action


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:  # noqa: N801  (torch's name)
    """``torch.profiler.profile``: a context manager; call ``step()`` once per iteration when a
    ``schedule`` is given. ``on_trace_ready(prof)`` runs when a cycle's last active step ends (or
    at exit while recording)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 use_cuda=None, custom_trace_id_callback=None):
        activities = set(activities) if activities is not None else supported_activities()
        if use_cuda:
            activities.add(ProfilerActivity.CUDA)
        self.activities = activities
        self.schedule = schedule or _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory, self.with_stack = profile_memory, with_stack
        self.with_flops, self.with_modules = with_flops, with_modules
        self.acc_events = acc_events
        self.time_device = ProfilerActivity.CUDA in activities
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._collecting = []      # events of the trace being recorded
        self._finished = []        # events of the last finished trace
        self._step_event = None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.step_num = 0
        self._enter_action(self.schedule(self.step_num))

    def stop(self):
        self._close_step_range()
        if self.current_action in _RECORDING:
            self._finish_trace()
        elif self.current_action is ProfilerAction.WARMUP:
            RECORDER.stop(self)
        self.current_action = ProfilerAction.NONE

    def step(self):
        """Ends one iteration: moves to the schedule's next action, saving a finished cycle."""
        self._close_step_range()
        previous = self.current_action
        self.step_num += 1
        action = self.schedule(self.step_num)
        if previous is ProfilerAction.RECORD_AND_SAVE:
            self._finish_trace()
            previous = ProfilerAction.NONE
        self.current_action = previous
        self._enter_action(action)

    def _enter_action(self, action):
        was_running = self.current_action in _RECORDING + (ProfilerAction.WARMUP,)
        if action in _RECORDING + (ProfilerAction.WARMUP,) and not was_running:
            RECORDER.start(self)
        elif action is ProfilerAction.NONE and was_running:
            RECORDER.stop(self)
            self._collecting = []
        if action in _RECORDING and self.current_action not in _RECORDING:
            self._collecting = []
        self.current_action = action
        if action in _RECORDING and self.schedule is not _always_record:
            self._step_event = RECORDER.open(f"ProfilerStep#{self.step_num}")
            if self._step_event is not None:
                self._step_event.key = "ProfilerStep*"  # torch groups all steps under one key

    def _close_step_range(self):
        if self._step_event is not None:
            RECORDER.close(self._step_event)
            self._step_event = None

    def _finish_trace(self):
        RECORDER.stop(self)
        self._finished = self._collecting if not self.acc_events else self._finished + self._collecting
        self._collecting = []
        self.current_action = ProfilerAction.NONE
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def add_event(self, event):
        """Called by the recorder for each closed event; warm-up steps run the recorder but keep nothing."""
        if self.current_action in _RECORDING:
            self._collecting.append(event)

    # ------------------------------------------------------------ results
    def events(self) -> EventList:
        """The events of the last finished trace, in start order."""
        events = sorted(self._finished, key=lambda e: e.start_us)
        for index, event in enumerate(events):
            event.id = index
        return EventList(events, use_device="cuda" if self.time_device else None)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path):
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("tritensor's profiler does not record stacks (with_stack is accepted "
                                  "and ignored), so export_stacks has nothing to write")

    def export_memory_timeline(self, path, device=None):
        raise NotImplementedError("tritensor's profiler does not record memory (profile_memory is "
                                  "accepted and ignored)")


class record_function:  # noqa: N801  (torch's name)
    """A named range in the profile: ``with record_function("name"):`` or ``@record_function("name")``.
    Costs one check when no profiler records."""

    def __init__(self, name: str, args=None):
        self.name = name
        self.args = args
        self._event = None

    def __enter__(self):
        self._event = RECORDER.open(self.name)
        return self

    def __exit__(self, *exc):
        RECORDER.close(self._event)
        self._event = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped


def tensorboard_trace_handler(dir_name: str, worker_name=None, use_gzip: bool = False):
    """An ``on_trace_ready`` that writes each finished trace into ``dir_name`` as
    ``<worker>.<time in ms>.pt.trace.json`` (``.gz`` when ``use_gzip``), like torch's."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json")
        if use_gzip:
            import gzip
            import shutil
            prof.export_chrome_trace(path)
            with open(path, "rb") as source, gzip.open(path + ".gz", "wb") as target:
                shutil.copyfileobj(source, target)
            os.remove(path)
        else:
            prof.export_chrome_trace(path)
    return handler
