"""Op recording for the profiler, installed only while a profiler records.

No profiler active means no cost on the op path: nothing is wrapped. When the first profiler
starts recording, the autograd engine reports each backward node (``evaluate_function``
events, as torch's) and every public op entry point (``tritensor.<name>``, ``tritensor.ops.<name>``
which the Tensor operators call, ``Tensor.<name>`` methods, the Tensor operators and
``nn.functional``) is replaced by a wrapper that times the call as an ``aten::<name>`` event;
when the last one stops, the originals are put back. Nested calls nest as events (an op's
"CPU total" includes the ops it calls, its "Self CPU" does not), like torch's.
"""
from __future__ import annotations

import functools
import threading
import time

from ._events import FunctionEvent

#: Tensor operators -> torch's op names
_OPERATOR_NAMES = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__rsub__": "rsub",
    "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__truediv__": "div",
    "__rtruediv__": "div", "__itruediv__": "div_", "__matmul__": "matmul", "__rmatmul__": "matmul",
    "__neg__": "neg", "__pow__": "pow", "__rpow__": "pow", "__mod__": "remainder",
    "__floordiv__": "floor_divide", "__abs__": "abs", "__and__": "bitwise_and", "__or__": "bitwise_or",
    "__xor__": "bitwise_xor", "__invert__": "bitwise_not", "__eq__": "eq", "__ne__": "ne", "__lt__": "lt",
    "__le__": "le", "__gt__": "gt", "__ge__": "ge",
}

#: metadata queries torch does not record as ops (and that the recorder itself may use)
_NOT_OPS = frozenset({"size", "dim", "ndimension", "numel", "nelement", "stride", "is_contiguous",
                      "is_floating_point", "is_complex", "is_signed", "element_size", "data_ptr",
                      "get_device",
                      "storage_offset", "type", "untyped_storage", "storage", "tolist", "numpy", "is_nonzero",
                      "is_same_size", "is_set_to", "is_shared", "is_pinned", "is_inference", "is_conj",
                      "is_neg", "dim_order", "has_names", "__repr__", "__format__"})


class _Recorder:
    """The active sessions, the per-thread stack of open events, and the installed wrappers."""

    def __init__(self):
        self.sessions = []
        self.local = threading.local()
        self.saved = []  # (owner, attribute, original or _MISSING)

    # ------------------------------------------------------------ sessions
    def start(self, session):
        if not self.sessions:
            self._install()
        self.sessions.append(session)

    def stop(self, session):
        if session in self.sessions:
            self.sessions.remove(session)
            if not self.sessions:
                self._uninstall()

    # ------------------------------------------------------------ events
    def _stack(self):
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack

    def open(self, name, args=()):
        """Starts an event (or returns None when nothing records, e.g. a stopped session)."""
        if not self.sessions:
            return None
        record_shapes = any(s.record_shapes for s in self.sessions)
        shapes = [_shape_of(a) for a in args] if record_shapes else []
        event = FunctionEvent(name, time.perf_counter_ns() / 1e3, threading.get_ident(), shapes)
        event.device_timer = _DeviceTimer.start(args) if any(s.time_device for s in self.sessions) else None
        stack = self._stack()
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        return event

    def forwards_to(self, name) -> bool:
        """True when the innermost open event is already ``name``: an entry point calling another
        entry point of the same op records one event, like torch's single dispatch."""
        stack = self._stack()
        return bool(stack) and stack[-1].name == name

    def close(self, event):
        if event is None:
            return
        if event.device_timer is not None:
            event.device_time_total = event.device_timer.stop()
        event.device_timer = None
        event.end_us = time.perf_counter_ns() / 1e3
        stack = self._stack()
        if stack and stack[-1] is event:
            stack.pop()
        for session in self.sessions:
            session.add_event(event)

    # ------------------------------------------------------------ wrapping
    def _wrap(self, fn, name):
        recorder = self

        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            if recorder.forwards_to(name):  # e.g. Tensor.__matmul__ -> ops.matmul: one event, not two
                return fn(*args, **kwargs)
            event = recorder.open(name, args)
            try:
                return fn(*args, **kwargs)
            finally:
                recorder.close(event)
        return recorded

    def _replace(self, owner, attribute, name, in_class=False):
        original = owner.__dict__.get(attribute, _MISSING) if in_class else getattr(owner, attribute)
        current = getattr(owner, attribute)
        self.saved.append((owner, attribute, original))
        setattr(owner, attribute, self._wrap(current, "aten::" + name))

    def _observe_node(self, name, work):
        """One backward node as torch records it: ``autograd::engine::evaluate_function: <node>``
        around an event named as the node, around the ops the node's backward calls."""
        outer = self.open("autograd::engine::evaluate_function: " + name)
        try:
            inner = self.open(name)
            try:
                return work()
            finally:
                self.close(inner)
        finally:
            self.close(outer)

    def _install(self):
        import tritensor
        from tritensor.autograd import engine
        engine.observe = self._observe_node
        from tritensor import ops
        from tritensor.nn import functional
        from tritensor.ops._registry import FUNCTIONS, METHODS
        tensor_class = tritensor.Tensor
        for name, fn in FUNCTIONS.items():
            for module in (tritensor, ops):
                if module.__dict__.get(name) is fn and not name.startswith("_") and name not in _NOT_OPS:
                    self._replace(module, name, name)
        for name, fn in METHODS.items():
            if tensor_class.__dict__.get(name) is fn and name not in _NOT_OPS:
                self._replace(tensor_class, name, name, in_class=True)
        for attribute, name in _OPERATOR_NAMES.items():
            if hasattr(tensor_class, attribute):
                self._replace(tensor_class, attribute, name, in_class=True)
        for name, fn in list(vars(functional).items()):
            defined_here = getattr(fn, "__module__", "").startswith("tritensor")
            if callable(fn) and not name.startswith("_") and defined_here and not isinstance(fn, type):
                self._replace(functional, name, name)

    def _uninstall(self):
        from tritensor.autograd import engine
        engine.observe = None
        for owner, attribute, original in reversed(self.saved):
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self.saved.clear()
        self.local.stack = []


_MISSING = object()


def _shape_of(value):
    shape = getattr(value, "shape", None)
    return list(shape) if shape is not None and not isinstance(value, type) else []


class _DeviceTimer:
    """Device time of one op on 'cuda': a pair of timing cuda Events around it, synchronised at the
    end so the time includes the kernels' work (under the emulator the events read the host clock)."""

    def __init__(self, begin):
        self.begin = begin

    @classmethod
    def start(cls, args):
        if not any(getattr(getattr(a, "device", None), "type", None) == "cuda" for a in args):
            return None
        from tritensor import cuda
        begin = cuda.Event(enable_timing=True)
        begin.record()
        return cls(begin)

    def stop(self) -> float:
        """Elapsed device time in microseconds."""
        from tritensor import cuda
        end = cuda.Event(enable_timing=True)
        end.record()
        end.synchronize()
        return self.begin.elapsed_time(end) * 1e3


RECORDER = _Recorder()
