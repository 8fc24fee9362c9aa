"""torch.utils.benchmark: Timer, Measurement (statistics and repr layout) and Compare, against torch's."""
from __future__ import annotations

import re

import pytest
import torch.utils.benchmark as torch_benchmark

import tritensor
import tritensor.utils.benchmark as benchmark
from harness import DEVICE


def _spec(**overrides):
    spec = {"stmt": "x + 1", "setup": "pass", "global_setup": "", "label": None, "sub_label": None,
            "description": None, "env": None, "num_threads": 1}
    spec.update(overrides)
    return spec


def _torch_measurement(times, number=10, **spec):
    task = torch_benchmark.utils.common.TaskSpec(**_spec(**spec))
    return torch_benchmark.utils.common.Measurement(number, times, task)


def _without_address(text):
    return text.split("\n", 1)[1]


@pytest.mark.parametrize("times,spec", [
    ([1e-4], {}),
    ([2e-5, 2.1e-5, 2.2e-5, 2.05e-5, 2.3e-5], {"label": "add", "sub_label": "n10", "description": "plus"}),
    ([1e-3, 3e-3, 1.1e-3, 0.9e-3], {"setup": "y = 1", "num_threads": 2}),          # noisy: a warning
    ([5.0, 5.5, 6.0, 5.2], {"stmt": "a = 1\nb = 2", "sub_label": "two lines", "setup": "a=0\nb=0"}),
    ([3e-8, 3.2e-8], {"label": "tiny"}),
])
def test_measurement_statistics_and_repr_match_torch(times, spec):
    ours = benchmark.Measurement(10, times, _spec(**spec))
    theirs = _torch_measurement(times, **spec)
    assert ours.times == pytest.approx(theirs.times)
    for stat in ("mean", "median", "iqr"):
        assert getattr(ours, stat) == pytest.approx(getattr(theirs, stat), rel=1e-12), stat
    assert ours.title == theirs.title and ours.has_warnings == theirs.has_warnings
    assert ours.meets_confidence() == theirs.meets_confidence()
    assert _without_address(repr(ours)) == _without_address(repr(theirs))
    assert repr(ours).startswith("<tritensor.utils.benchmark.Measurement object at 0x")


def test_timer_timeit_counts_runs_and_uses_globals_and_setup():
    x = tritensor.ones(4, device=DEVICE)
    counter = []
    timer = benchmark.Timer("counter.append(1); y = x + offset", setup="offset = 2",
                            globals={"x": x, "counter": counter}, label="add", sub_label="n4",
                            description="plus")
    measurement = timer.timeit(20)
    assert len(counter) == 20 + 2  # warm-up of max(number // 100, 2) runs, then the measured ones
    assert measurement.number_per_run == 20 and len(measurement.times) == 1 and measurement.median > 0
    assert measurement.label == "add" and measurement.sub_label == "n4" and measurement.description == "plus"
    assert "torch" not in timer._globals or timer._globals["torch"] is tritensor  # stmt can name torch


def test_blocked_and_adaptive_autorange():
    x = tritensor.ones(4, device=DEVICE)
    blocked = benchmark.Timer("x * 2", globals={"x": x}).blocked_autorange(min_run_time=0.02)
    assert sum(blocked.raw_times) >= 0.02 and blocked.number_per_run >= 1
    calls = []
    adaptive = benchmark.Timer("x * 2", globals={"x": x}, num_threads=2).adaptive_autorange(
        max_run_time=0.05, callback=lambda number, seconds: calls.append(number))
    assert len(adaptive.raw_times) == len(calls) >= 1 and adaptive.num_threads == 2
    assert re.search(r"\d+ runs (per measurement,|,) 2 threads", repr(adaptive))


def test_timer_errors_like_torch():
    for lib in (torch_benchmark, benchmark):
        with pytest.raises(ValueError):
            lib.Timer(lambda: 1)
        with pytest.raises(NotImplementedError):
            lib.Timer("pass").repeat()
        with pytest.raises(NotImplementedError):
            lib.Timer("pass").autorange()
    with pytest.raises(NotImplementedError, match="C\\+\\+"):
        benchmark.Timer("pass", language="c++")


def test_compare_table():
    measurements = [benchmark.Measurement(1, [t], _spec(label="add", sub_label=row, description=col,
                                                         num_threads=n))
                    for t, row, col, n in [(2.3e-6, "n10", "plus", 1), (2.1e-6, "n10", "times", 1),
                                           (2.05e-6, "n20", "plus", 2)]]
    table = str(benchmark.Compare(measurements))
    lines = table.splitlines()
    assert lines[0].startswith("[") and " add " in lines[0] and lines[0].endswith("]")
    assert "plus" in lines[1] and "times" in lines[1]
    assert lines[2].startswith("1 threads: ") and lines[4].startswith("2 threads: ")
    assert "n10" in lines[3] and "2.3" in lines[3] and "2.1" in lines[3] and "n20" in lines[5]
    assert "Times are in microseconds (us)." in table
