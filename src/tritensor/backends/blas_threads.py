"""numpy's OpenBLAS threads: asleep soon after each product, so tritensor's threads get the cores.

tritensor's CPU matmuls are numpy's (OpenBLAS). OpenBLAS's pthreads server keeps every
worker busy-waiting for 2^28 TSC cycles (~0.1 s, its ``OPENBLAS_THREAD_TIMEOUT`` default)
after each threaded product, and in a training step the next product always comes sooner:
the workers never leave the other cores, and the Numba kernels between the products (im2col,
pooling, col2im, elementwise) share those cores with them. Measured on the 2-core machine:
the MNIST CNN step 80 -> 63 ms with the workers sleeping after 2^20 cycles (~0.4 ms); the
MLP and LSTM steps, whose products follow each other closely, unchanged
(docs/performance.md, "Session 20").

OpenBLAS reads the setting when it starts its workers, so :func:`shorten_openblas_spin`
sets it and stops the idle workers; OpenBLAS starts them again at its next threaded call,
as it does after a ``fork``. A user's own ``OPENBLAS_THREAD_TIMEOUT`` is left as it is.
"""
from __future__ import annotations

import ctypes
import os

#: the workers' busy-wait before sleeping: 2^20 TSC cycles (~0.4 ms at 2.5 GHz)
SPIN_CYCLES_LOG2 = 20
_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"


def loaded_openblas():
    """The OpenBLAS library this process has loaded (numpy's), or None: another BLAS, or no
    ``/proc/self/maps`` (not Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)  # the loaded copy: dlopen of a loaded path returns it
        except OSError:
            continue
        if hasattr(lib, "openblas_read_env") and hasattr(lib, "blas_thread_shutdown_"):
            return lib
    return None


def shorten_openblas_spin() -> bool:
    """Make numpy's OpenBLAS workers sleep after ``2**SPIN_CYCLES_LOG2`` cycles without work;
    False where the user set ``OPENBLAS_THREAD_TIMEOUT`` or no OpenBLAS is loaded."""
    if _VARIABLE in os.environ:
        return False
    lib = loaded_openblas()
    if lib is None:
        return False
    os.environ[_VARIABLE] = str(SPIN_CYCLES_LOG2)
    try:
        lib.openblas_read_env()  # OpenBLAS keeps what it reads; the environment is left as it was
    finally:
        del os.environ[_VARIABLE]
    lib.blas_thread_shutdown_()  # idle workers stop; the next threaded product starts them anew
    return True
