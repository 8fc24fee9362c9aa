"""``torch.utils.benchmark``: ``Timer`` measures a statement (with its setup and globals) and
returns a ``Measurement`` (median, mean, IQR, a repr laid out like torch's); ``Compare`` prints
measurements as a table. Only Python statements are timed (``language="c++"`` raises
NotImplementedError); 'cuda' work is synchronised before each clock read, as torch does."""
from __future__ import annotations

import enum
import math
import statistics
import textwrap
import timeit as _timeit

__all__ = ["Timer", "Measurement", "Compare", "Language", "select_unit"]

_IQR_WARN = 0.1        # relative IQR above which a measurement may be noisy
_IQR_GROSS_WARN = 0.5  # ... and above which it surely is


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def select_unit(seconds: float):
    """(unit, seconds per unit) giving a value between 1 and 1000."""
    exponent = math.floor(math.log10(seconds) / 3) if seconds > 0 else -3
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(exponent, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def _quantile(sorted_values, q: float) -> float:
    """Linear interpolation between closest ranks (torch.quantile's default)."""
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


class Measurement:
    """``number_per_run`` executions per raw time; ``times`` are per execution, in seconds."""

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    def __getattr__(self, name):
        spec = self.__dict__.get("task_spec")
        if spec is not None and name in spec:
            return spec[name]
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def _sorted(self):
        return sorted(self.times)

    @property
    def median(self) -> float:
        return _quantile(self._sorted, 0.5)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def iqr(self) -> float:
        ordered = self._sorted
        return _quantile(ordered, 0.75) - _quantile(ordered, 0.25)

    def meets_confidence(self, threshold: float = _IQR_WARN) -> bool:
        return self.iqr / self.median < threshold

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings())

    @property
    def significant_figures(self) -> int:
        """How many digits the noise allows (1 to 4), from the IQR relative to the median."""
        if len(self.times) < 2 or self.iqr == 0:
            return 4
        spread = self.iqr / math.sqrt(len(self.times)) / self.median
        return max(1, min(4, int(-math.floor(math.log10(spread))) if spread > 0 else 4))

    @property
    def title(self) -> str:
        spec = self.task_spec
        suffix = f": {spec['sub_label']}" if spec["sub_label"] else ""
        if spec["label"] is not None:
            return spec["label"] + suffix
        if "\n" not in spec["stmt"]:
            return spec["stmt"] + suffix
        sub_label = f" ({spec['sub_label']})" if spec["sub_label"] else ""
        return f"stmt:{sub_label}\n" + textwrap.indent(spec["stmt"], "  ")

    @property
    def env(self) -> str:
        return self.task_spec["env"] or "Unspecified env"

    @property
    def as_row_name(self) -> str:
        return self.task_spec["sub_label"] or self.task_spec["stmt"] or "[Unknown]"

    def _warnings(self):
        if len(self.times) < 2 or self.median == 0 or self.meets_confidence(_IQR_WARN):
            return []
        gross = not self.meets_confidence(_IQR_GROSS_WARN)
        why = ("This suggests significant environmental influence." if gross
               else "This could indicate system fluctuation.")
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the median "
                f"measurement.\n           {why}"]

    def _summary_lines(self):
        setup = self.task_spec["setup"]
        if setup in ("pass", ""):
            setup_text = ""
        else:
            setup_text = f"setup:\n{textwrap.indent(setup, '  ')}" if "\n" in setup else f"setup: {setup}"
        sections = [self.title, self.task_spec["description"] or "", setup_text]
        return [s + "\n" if "\n" in s else s for s in sections if s]

    def __repr__(self):
        count, threads = len(self.times), self.task_spec["num_threads"]
        unit, scale = select_unit(self.median)
        lines = [object.__repr__(self)]
        lines += self._summary_lines()
        lines.append(f"  {'Median: ' if count > 1 else ''}{self.median / scale:.2f} {unit}")
        if count >= 4:
            low, high = _quantile(self._sorted, 0.25) / scale, _quantile(self._sorted, 0.75) / scale
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({low:.2f} to {high:.2f})")
        runs = "per measurement," if count > 1 else ","
        lines.append(f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} runs "
                     f"{runs} {threads} thread{'s' if threads > 1 else ''}")
        lines += self._warnings()
        return "\n".join("\n".join(lines).strip().splitlines())

    __str__ = __repr__

    @staticmethod
    def merge(measurements):
        """Replicates of one task merged into a Measurement of per-execution times."""
        groups = {}
        for m in measurements:
            key = tuple(sorted((k, str(v)) for k, v in m.task_spec.items()))
            groups.setdefault(key, (m.task_spec, []))[1].extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.values()]


def _synchronize_cuda():
    """Waits for queued 'cuda' work (if tritensor has a cuda device) so clock reads include it."""
    from ... import cuda
    if cuda.is_available():
        cuda.synchronize()


class Timer:
    """``Timer(stmt, setup, global_setup, timer, globals, label, sub_label, description, env,
    num_threads, language)``: times ``stmt`` after running ``setup`` once, in a copy of ``globals``."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=_timeit.default_timer, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("tritensor's benchmark Timer times Python statements only (no C++)")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        self._globals = dict(globals or {})
        self._globals.setdefault("torch", __import__("tritensor"))
        stmt, setup = textwrap.dedent(stmt).strip() or "pass", textwrap.dedent(setup).strip() or "pass"
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=self._synchronised(timer),
                                    globals=self._globals)
        self.task_spec = {"stmt": stmt, "setup": setup, "global_setup": global_setup, "label": label,
                          "sub_label": sub_label, "description": description, "env": env,
                          "num_threads": num_threads}

    @staticmethod
    def _synchronised(timer):
        """The clock, read after the device has finished its queued work."""
        def read():
            _synchronize_cuda()
            return timer()
        return read

    def _time(self, number: int) -> float:
        from ...backends.cpu import get_num_threads, set_num_threads
        previous = get_num_threads()
        set_num_threads(self.task_spec["num_threads"])
        try:
            return self._timer.timeit(number)
        finally:
            set_num_threads(previous)

    def _measurement(self, number, times):
        return Measurement(number, times, dict(self.task_spec))

    def timeit(self, number: int = 1000000) -> Measurement:
        """One measurement of ``number`` runs, after a warm-up of ``number // 100`` (at least 2) runs."""
        self._time(max(number // 100, 2))
        return self._measurement(number, [self._time(number)])

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: grown tenfold until the clock's own overhead is negligible (or the block
        alone takes ``min_run_time``); doubles as the warm-up."""
        overhead = statistics.median(self._time(0) for _ in range(5))
        number = 1
        while number * 10 <= 2**31 - 1:
            taken = self._time(number)
            if taken > min_run_time or (overhead <= 1e-4 * taken and taken >= min_run_time / 1000):
                break
            number *= 10
        return number

    def _measure_blocks(self, number, enough, min_run_time, max_run_time=None, callback=None):
        """Blocks of ``number`` runs until ``min_run_time`` is spent and ``enough(times)`` holds."""
        times, total = [], 0.0
        while True:
            taken = self._time(number)
            times.append(taken)
            total += taken
            if callback is not None:
                callback(number, taken)
            if total >= min_run_time and enough(times):
                break
            if max_run_time is not None and total > max_run_time:
                break
        return times

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of an automatically chosen size until ``min_run_time`` seconds are measured."""
        number = self._block_size(min_run_time)
        return self._measurement(number, self._measure_blocks(number, lambda times: True, min_run_time,
                                                              callback=callback))

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback=None) -> Measurement:
        """Blocks until the IQR is below ``threshold`` of the median (at least 4 blocks and
        ``min_run_time``) or ``max_run_time`` is spent."""
        number = self._block_size(min_run_time=0.05)

        def settled(times):
            return len(times) > 3 and self._measurement(number, times).meets_confidence(threshold)
        return self._measurement(number, self._measure_blocks(number, settled, min_run_time, max_run_time,
                                                              callback))


class Compare:
    """A table of measurements: one block per label, one row per sub_label (grouped by thread
    count), one column per description; times share one unit and are trimmed to significant figures."""

    def __init__(self, results):
        self._results = list(results)
        self._trim = False
        self._colorize = False

    def trim_significant_figures(self):
        self._trim = True

    def colorize(self, rowwise=False):
        self._colorize = True  # accepted; the plain-text table has no colours

    def extend_results(self, results):
        self._results.extend(results)

    def highlight_warnings(self):
        """Accepted (torch marks noisy cells with '!'); nothing to change in this table."""

    def __str__(self):
        labels = {}
        for m in Measurement.merge(self._results):
            labels.setdefault(m.task_spec["label"], []).append(m)
        return "\n".join(self._render(label, group) for label, group in labels.items())

    def print(self):
        print(str(self))

    @staticmethod
    def _render(label, group) -> str:
        columns = list(dict.fromkeys(m.task_spec["description"] or "" for m in group))
        unit, scale = select_unit(min(m.median for m in group))
        cell = {(m.task_spec["num_threads"], m.as_row_name, m.task_spec["description"] or ""):
                f"{m.median / scale:.{max(0, 2 - int(math.floor(math.log10(m.median / scale))))}f}"
                for m in group}
        rows = list(dict.fromkeys((m.task_spec["num_threads"], m.as_row_name) for m in group))
        name_width = max(len(name) for _, name in rows) + 6
        widths = [max(len(c), *(len(cell.get((t, n, c), "")) for t, n in rows)) + 2 for c in columns]
        body = [" " * name_width + "|" + "|".join(f"{c:^{w}}" for c, w in zip(columns, widths))]
        for threads in dict.fromkeys(t for t, _ in rows):
            heading = f"{threads} threads: "
            body.append(heading + "-" * max(0, name_width + sum(widths) + len(widths) - len(heading)))
            for _, name in (r for r in rows if r[0] == threads):
                cells = (f"{cell.get((threads, name, c), ''):^{w}}" for c, w in zip(columns, widths))
                body.append(f"{name:>{name_width - 1}} |" + "|".join(cells))
        width = max(len(line) for line in body)
        title = f" {label} " if label else ""
        top = "[" + title.center(width - 2, "-") + "]"
        names = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
        return "\n".join([top, *body, "", f"Times are in {names[unit]} ({unit}).", ""])
