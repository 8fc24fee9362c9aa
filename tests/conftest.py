import os
import sys

import pytest
from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# CI explores the same examples every run (a red run must be reproducible, not luck);
# locally hypothesis keeps searching for new failures. First calls compile Numba kernels,
# so no per-example deadline.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.cpu_only`` tests run only when the test device is the CPU."""
    from harness import DEVICE
    if DEVICE == "cpu":
        return
    skip = pytest.mark.skip(reason=f"cpu_only: inherently CPU-only, test device is {DEVICE}")
    for item in items:
        if "cpu_only" in item.keywords:
            item.add_marker(skip)
