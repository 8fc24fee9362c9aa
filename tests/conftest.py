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
    """``@pytest.mark.cpu_only`` tests run only when the test device is the CPU.
    ``TRITENSOR_TEST_SHARD=k/n`` keeps every n-th test from the k-th (k = 0 .. n-1), so that
    bench/gpu_check.py can run one big file in n processes at once."""
    shard = os.environ.get("TRITENSOR_TEST_SHARD")
    if shard:
        k, n = (int(x) for x in shard.split("/"))
        config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if i % n != k])
        items[:] = [item for i, item in enumerate(items) if i % n == k]
    from harness import DEVICE
    if DEVICE == "cpu":
        return
    skip = pytest.mark.skip(reason=f"cpu_only: inherently CPU-only, test device is {DEVICE}")
    for item in items:
        if "cpu_only" in item.keywords:
            item.add_marker(skip)


import zlib  # noqa: E402

import numpy as np  # noqa: E402


@pytest.fixture(autouse=True)
def _data_seeded_by_test(request):
    """Give each test its own data stream, seeded by its id.

    Test modules draw inputs from a module-level ``rng``; under pytest-xdist the tests a
    worker runs (and so the draws each one sees) change from run to run. Reseeding per test
    makes every test's data the same in every run, whatever the distribution.
    """
    module = request.module
    if isinstance(getattr(module, "rng", None), np.random.Generator):
        module.rng = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
    yield


@pytest.fixture(autouse=True)
def _no_device_error_left_over():
    """A kernel's finding that no test waited for would surface in the next test: fail the
    test that left it (``backends/cuda_errors.py``)."""
    yield
    from tritensor.backends import cuda_memory
    if cuda_memory.raise_device_errors is not None:
        cuda_memory.raise_device_errors()
