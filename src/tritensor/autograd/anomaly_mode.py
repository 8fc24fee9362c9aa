"""Anomaly detection: with it on, backward raises as soon as a node returns NaN."""
from __future__ import annotations

enabled = False
check_nan = True


def is_anomaly_enabled() -> bool:
    return enabled


def is_anomaly_check_nan_enabled() -> bool:
    return enabled and check_nan


class set_detect_anomaly:  # noqa: N801 - torch's spelling
    """Turn anomaly detection on/off now; as a context manager, restore it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        global enabled
        self._prev = (enabled, globals()["check_nan"])
        enabled = bool(mode)
        globals()["check_nan"] = bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global enabled
        enabled, globals()["check_nan"] = self._prev
        return False


class detect_anomaly(set_detect_anomaly):  # noqa: N801
    """Context manager (and decorator) enabling anomaly detection inside its block."""

    def __init__(self, check_nan: bool = True):
        self._check_nan = check_nan
        self._prev = None

    def __enter__(self):
        set_detect_anomaly.__init__(self, True, self._check_nan)
        return self

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._check_nan):
                return fn(*args, **kwargs)
        return wrapper


def check_outputs(node, outputs):
    """Raise like torch if ``node`` returned NaN (called by the engine in anomaly mode)."""
    for i, g in enumerate(outputs):
        if g is not None and g.dtype.is_floating_point and bool(g.isnan().any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
