"""Sorting CPU kernel: a stable argsort of each row of a 2-D view.

Numba's merge sort is stable, orders NaN after every number (torch's order) and treats -0.0
and 0.0 as equal. Descending order reuses it on the reversed row: reversing the row and then
the result keeps equal elements in their original order and puts NaN first, as torch does.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def argsort_rows(indices, x, descending):
    """``indices[i]`` = the positions that sort ``x[i]`` (rows of equal length)."""
    n = x.shape[1]
    for i in range(x.shape[0]):
        if descending:
            order = np.argsort(x[i, ::-1], kind="mergesort")
            for j in range(n):
                indices[i, j] = n - 1 - order[n - 1 - j]
        else:
            indices[i] = np.argsort(x[i], kind="mergesort")
