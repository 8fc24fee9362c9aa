"""Deterministic-algorithms mode: torch's flags and debug modes, ``empty`` filled with NaN /
the largest integer, and the atomic float additions on 'cuda' refused (or warned about)."""
from __future__ import annotations

import warnings

import pytest
import torch

import tritensor
from harness import DEVICE, check, dev


@pytest.fixture(autouse=True)
def _mode_off_afterwards():
    yield
    for lib in (torch, tritensor):
        lib.use_deterministic_algorithms(False)
        lib.utils.deterministic.fill_uninitialized_memory = True


def _flags(lib):
    return (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled(),
            lib.get_deterministic_debug_mode())


@pytest.mark.parametrize("mode", [0, 1, 2, "default", "warn", "error"])
def test_debug_modes_match_torch(mode):
    def fn(lib):
        lib.set_deterministic_debug_mode(mode)
        return _flags(lib)
    check(fn)


@pytest.mark.parametrize("mode,warn_only", [(True, False), (True, True), (False, True)])
def test_use_deterministic_algorithms_matches_torch(mode, warn_only):
    def fn(lib):
        lib.use_deterministic_algorithms(mode, warn_only=warn_only)
        return _flags(lib)
    check(fn)


@pytest.mark.parametrize("call", [lambda lib: lib.set_deterministic_debug_mode("loud"),
                                  lambda lib: lib.set_deterministic_debug_mode(3),
                                  lambda lib: lib.set_deterministic_debug_mode(1.5),
                                  lambda lib: lib.use_deterministic_algorithms("yes")])
def test_bad_arguments_raise_torchs_errors(call):
    check(call)


@pytest.mark.parametrize("fill", [True, False])
def test_empty_factories_are_filled_like_torchs(fill):
    def fn(lib):
        lib.use_deterministic_algorithms(True)
        lib.utils.deterministic.fill_uninitialized_memory = fill
        device = dev(lib)
        made = (lib.empty(3, device=device), lib.empty(2, dtype=lib.int32, device=device),
                lib.empty(2, dtype=lib.bool, device=device), lib.empty(2, dtype=lib.uint8, device=device),
                lib.empty_like(lib.ones(2, device=device)), lib.ones(2, device=device).new_empty(2),
                lib.empty_strided((2, 2), (1, 2), device=device), lib.empty(0, device=device))
        return made if fill else tuple(t.shape for t in made)
    check(fn)


def _index_add(lib, dtype):
    device = dev(lib)
    target = lib.zeros(3, dtype=dtype, device=device)
    return target.index_add_(0, lib.tensor([0, 0, 2], device=device), lib.ones(3, dtype=dtype, device=device))


@pytest.mark.skipif(DEVICE != "cuda", reason="the atomic additions are the 'cuda' backend's")
def test_atomic_float_additions_on_cuda_are_refused_or_warned():
    tritensor.use_deterministic_algorithms(True)
    with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
        _index_add(tritensor, tritensor.float32)
    assert _index_add(tritensor, tritensor.int64).tolist() == [2, 0, 1]  # integer adds: exact in any order
    tritensor.use_deterministic_algorithms(True, warn_only=True)
    with pytest.warns(UserWarning, match="warn_only=True"):
        assert _index_add(tritensor, tritensor.float32).tolist() == [2, 0, 1]
    tritensor.use_deterministic_algorithms(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _index_add(tritensor, tritensor.float32)


@pytest.mark.skipif(DEVICE != "cpu", reason="the CPU kernels are deterministic")
def test_cpu_kernels_run_in_deterministic_mode():
    def fn(lib):
        lib.use_deterministic_algorithms(True)
        return _index_add(lib, lib.float32), lib.zeros(4, device=dev(lib)).scatter_add_(
            0, lib.tensor([1, 1, 3], device=dev(lib)), lib.ones(3, device=dev(lib)))
    check(fn)


@pytest.mark.skipif(DEVICE != "cuda", reason="the atomic products are the 'cuda' backend's")
def test_atomic_float_products_on_cuda_are_refused():
    def product(dtype):
        target = tritensor.ones(3, dtype=dtype, device=DEVICE)
        return target.scatter_reduce_(0, tritensor.tensor([0, 0, 2], device=DEVICE),
                                      tritensor.full((3,), 2, dtype=dtype, device=DEVICE), "prod")
    tritensor.use_deterministic_algorithms(True)
    try:
        with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
            product(tritensor.float32)
        assert product(tritensor.int64).tolist() == [4, 1, 2]  # integer products: exact in any order
    finally:
        tritensor.use_deterministic_algorithms(False)
