"""Small dense linear algebra for the compiled Newton iterations.

``numpy.linalg.solve`` inside Numba links LAPACK and costs seconds of compilation;
the systems here are small (d or m d unknowns), so Gaussian elimination with
partial pivoting is written out.
"""
from __future__ import annotations

import numpy as np
from ._numba import njit

__all__ = ["solve_inplace"]


@njit(cache=True, nogil=True, error_model="numpy")
def solve_inplace(A, b):
    """Solve A x = b by Gaussian elimination with partial pivoting; x overwrites b.

    A is overwritten by its factors.  Returns False if a pivot is zero or not finite.
    """
    n = b.shape[0]
    for k in range(n):
        p = k
        big = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > big:
                big = abs(A[i, k])
                p = i
        if not (big > 0.0) or not np.isfinite(big):
            return False
        if p != k:
            for c in range(n):
                tmp = A[k, c]
                A[k, c] = A[p, c]
                A[p, c] = tmp
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
        pivot = A[k, k]
        for i in range(k + 1, n):
            f = A[i, k] / pivot
            if f != 0.0:
                for c in range(k + 1, n):
                    A[i, c] -= f * A[k, c]
                b[i] -= f * b[k]
    for i in range(n - 1, -1, -1):
        acc = b[i]
        for c in range(i + 1, n):
            acc -= A[i, c] * b[c]
        b[i] = acc / A[i, i]
    return True
