"""Numba CPU kernels. Each module compiles lazily on first use and caches to disk."""
