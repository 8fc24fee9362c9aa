"""Profiler results: one ``FunctionEvent`` per recorded op call or ``record_function`` range,
``EventList.key_averages`` grouping them by name (and input shapes), ``table`` printing torch's
layout, and ``export_chrome_trace`` writing Chrome's trace-event JSON."""
from __future__ import annotations

import json
import os
from collections import OrderedDict

_SORT_KEYS = ("cpu_time", "cuda_time", "cpu_time_total", "cuda_time_total", "self_cpu_time_total",
              "self_cuda_time_total", "count", "device_time", "device_time_total", "self_device_time_total",
              "cpu_memory_usage", "self_cpu_memory_usage", "cuda_memory_usage", "self_cuda_memory_usage")


class FunctionEvent:
    """One timed range (times in microseconds, like torch's): an op call or a user range."""

    def __init__(self, name, start_us, thread=0, input_shapes=None, stack=None, device_type="cpu"):
        self.id = None
        self.name = name
        self.key = name
        self.start_us, self.end_us = start_us, start_us
        self.thread = thread
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack or []
        self.device_type = device_type
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1
        self.device_time_total = 0.0
        self.cpu_memory_usage = 0

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def self_device_time_total(self) -> float:
        return self.device_time_total - sum(child.device_time_total for child in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage

    def __repr__(self):
        return (f"<FunctionEvent name={self.name} self_cpu_time_total={self.self_cpu_time_total:.3f}us "
                f"cpu_time_total={self.cpu_time_total:.3f}us input_shapes={self.input_shapes}>")


# torch's older names for the same times
FunctionEvent.cuda_time_total = property(lambda self: self.device_time_total)
FunctionEvent.self_cuda_time_total = FunctionEvent.self_device_time_total
FunctionEvent.cpu_time = FunctionEvent.cpu_time_total


class FunctionEventAvg:
    """The sum of the events sharing a key (name, and input shapes when grouped by them)."""

    def __init__(self, key, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_memory_usage = self.self_device_memory_usage = 0  # memory is not recorded

    def add(self, event):
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.device_time_total += event.device_time_total
        self.self_device_time_total += event.self_device_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def device_time(self) -> float:
        return self.device_time_total / self.count if self.count else 0.0

    cuda_time = device_time
    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
                f"cpu_time={self.cpu_time_total:.3f}us count={self.count}>")


def _format_time(us: float) -> str:
    """torch's unit choice: us below a millisecond, ms below a second, else s."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole > 0 else "0.00%"


class EventList(list):
    """A list of events (``prof.events()``) or of averages (``prof.key_averages()``)."""

    def __init__(self, events=(), use_device=None):
        super().__init__(events)
        self.use_device = use_device

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """Sums events with the same name (and input shapes when asked), in first-seen order."""
        groups = OrderedDict()
        for event in self:
            shapes = str(event.input_shapes) if group_by_input_shape else None
            key = (event.key, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, shapes)
            groups[key].add(event)
        return EventList(groups.values(), use_device=self.use_device)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        """torch's table: one row per entry, sorted descending by ``sort_by`` (e.g. "cpu_time_total")."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"'{type(rows[0]).__name__ if rows else 'FunctionEventAvg'}' object "
                                     f"has no attribute '{sort_by}' (sort_by must be one of {_SORT_KEYS})")
            rows.sort(key=lambda e: getattr(e, sort_by.replace("cuda", "device")), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        return _Table(self, rows, header, max_name_column_width, max_shapes_column_width).render()

    def total_average(self):
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def export_chrome_trace(self, path):
        _write_chrome_trace(self, path)


class _Table:
    """Lays out the rows like torch: right-aligned 12-wide numeric columns, a totals footer."""

    def __init__(self, events, rows, header, max_name_width, max_shapes_width):
        self.rows = rows
        self.header = header
        self.with_device = events.use_device is not None and any(e.device_time_total > 0 for e in events)
        self.with_shapes = any(getattr(e, "input_shapes", None) not in (None, [], "[]") for e in rows)
        self.self_cpu_total = sum(e.self_cpu_time_total for e in events)
        self.self_device_total = sum(e.self_device_time_total for e in events)
        self.name_width = min(max([len(e.key) for e in rows] + [len("Name")]) + 4, max_name_width)
        self.shapes_width = min(max([len(str(e.input_shapes)) for e in rows] + [12]) + 4, max_shapes_width)

    def columns(self):
        """(title, width, value of an entry) in torch's order."""
        cols = [("Name", self.name_width, lambda e: _clip(e.key, self.name_width - 2)),
                ("Self CPU %", 12, lambda e: _percent(e.self_cpu_time_total, self.self_cpu_total)),
                ("Self CPU", 12, lambda e: _format_time(e.self_cpu_time_total)),
                ("CPU total %", 12, lambda e: _percent(e.cpu_time_total, self.self_cpu_total)),
                ("CPU total", 12, lambda e: _format_time(e.cpu_time_total)),
                ("CPU time avg", 12, lambda e: _format_time(e.cpu_time_total / max(e.count, 1)))]
        if self.with_device:
            cols += [("Self CUDA", 12, lambda e: _format_time(e.self_device_time_total)),
                     ("Self CUDA %", 12,
                      lambda e: _percent(e.self_device_time_total, self.self_device_total)),
                     ("CUDA total", 12, lambda e: _format_time(e.device_time_total)),
                     ("CUDA time avg", 12, lambda e: _format_time(e.device_time_total / max(e.count, 1)))]
        cols.append(("# of Calls", 12, lambda e: str(e.count)))
        if self.with_shapes:
            cols.append(("Input Shapes", self.shapes_width,
                         lambda e: _clip(str(e.input_shapes), self.shapes_width - 2)))
        return cols

    def render(self) -> str:
        cols = self.columns()
        rule = "".join("-" * width + "  " for _, width, _ in cols)
        line = lambda cells: "".join(f"{c:>{w}}  " for c, (_, w, _) in zip(cells, cols))  # noqa: E731
        out = [rule]
        if self.header:
            out = [self.header, rule]
        out += [line([title for title, _, _ in cols]), rule]
        out += [line([value(e) for _, _, value in cols]) for e in self.rows]
        out += [rule, f"Self CPU time total: {_format_time(self.self_cpu_total)}"]
        if self.with_device:
            out.append(f"Self CUDA time total: {_format_time(self.self_device_total)}")
        return "\n".join(out) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _write_chrome_trace(events, path):
    """Chrome's trace-event format: complete ("X") events, op ranges on the CPU thread and the
    device time of CUDA ops on a separate "stream" row."""
    pid = os.getpid()
    trace = []
    for event in events:
        record = {"ph": "X", "cat": "cpu_op" if event.name.startswith("aten::") else "user_annotation",
                  "name": event.name, "pid": pid, "tid": event.thread, "ts": event.start_us,
                  "dur": event.cpu_time_total, "args": {}}
        if event.input_shapes:
            record["args"]["Input Dims"] = event.input_shapes
        trace.append(record)
        if event.device_time_total > 0:
            trace.append({"ph": "X", "cat": "kernel", "name": event.name, "pid": pid, "tid": "stream 7",
                          "ts": event.start_us, "dur": event.device_time_total, "args": {}})
    with open(path, "w") as handle:
        json.dump({"schemaVersion": 1, "traceEvents": trace, "displayTimeUnit": "ms"}, handle)
