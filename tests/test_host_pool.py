"""The CPU host-buffer pool: big temporaries reuse memory, and nothing still referenced is reused."""
import gc

import numpy as np
import pytest

import tritensor
from tritensor.backends import host_pool

pytestmark = pytest.mark.cpu_only

N = host_pool.MIN_BYTES // 4 * 3  # float32 elements: 3 MiB, above the pool's threshold


@pytest.fixture(autouse=True)
def _fresh_pool():
    host_pool.empty_cache()
    yield
    host_pool.empty_cache()


def _address(t):
    return t.data_ptr()


def test_dead_temporary_buffer_is_reused():
    a = tritensor.ones(N)
    first = a + a
    address = _address(first)
    del first
    assert host_pool.held_bytes() == host_pool.size_class(N * 4)
    second = a * 3
    assert _address(second) == address
    assert host_pool.held_bytes() == 0
    np.testing.assert_array_equal(second.numpy()[:4], 3)


def test_small_tensors_bypass_the_pool():
    a = tritensor.ones(16)
    del a
    assert host_pool.held_bytes() == 0


def test_buffer_with_a_live_numpy_view_is_not_reused():
    a = tritensor.ones(N)
    c = a + a
    view = c.numpy()
    address = _address(c)
    del c
    d = a * 5  # must get other memory: ``view`` still shows c's values
    assert _address(d) != address
    np.testing.assert_array_equal(view[:4], 2)
    del view, d
    gc.collect()
    size = host_pool.size_class(N * 4)
    assert host_pool.held_bytes() == 2 * size
    e, f = a - a, a * 0  # both buffers are free again: c's is reused once its view is gone
    assert host_pool.held_bytes() == 0
    assert address in (_address(e), _address(f))
    np.testing.assert_array_equal(e.numpy()[:4], 0)


def test_tensor_view_keeps_storage_out_of_the_pool():
    a = tritensor.arange(N, dtype=tritensor.float32)
    c = a + 1
    tail = c[N - 4:]
    del c
    assert host_pool.held_bytes() == 0  # the storage lives on in ``tail``
    other = a * 0
    np.testing.assert_array_equal(tail.numpy(), np.arange(N - 4, N, dtype=np.float32) + 1)
    assert _address(other) != tail.data_ptr() - (N - 4) * 4


def test_limit_and_empty_cache(monkeypatch):
    monkeypatch.setattr(host_pool.POOL, "limit", host_pool.size_class(N * 4))
    a = tritensor.ones(N)
    b, c = a + a, a + a
    del b, c
    assert host_pool.held_bytes() == host_pool.size_class(N * 4)  # the second one was freed
    host_pool.empty_cache()
    assert host_pool.held_bytes() == 0


def test_values_survive_a_training_like_loop():
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(N).astype(np.float32)
    x = tritensor.tensor(x_np)
    expected = x_np.copy()
    for _ in range(5):
        x = (x * 0.5 + 1.0).relu()
        expected = np.maximum(expected * np.float32(0.5) + np.float32(1.0), 0)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
