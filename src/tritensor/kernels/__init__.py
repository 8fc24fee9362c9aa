"""Compute kernels: ``numba/`` for the CPU backend (and ``triton/`` for the GPU backend)."""
