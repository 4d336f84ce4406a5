"""The one place that configures Numba for the package.

Every compiled kernel of the package goes through :func:`jit` so that the
options (on-disk cache, no GIL, NumPy error model) are set once.  Compilation
is always lazy: importing :mod:`integrallimits` compiles nothing.
"""
from __future__ import annotations

import numba

__all__ = ["jit", "JIT_OPTIONS", "types"]

types = numba.types

#: Options shared by all compiled package code.  ``error_model="numpy"`` makes
#: division by zero give inf/nan (which the solvers detect and report) instead of
#: raising inside compiled code.
JIT_OPTIONS = dict(nopython=True, cache=True, nogil=True, error_model="numpy")


def jit(*args, **kwargs):
    """``numba.njit`` with the package options (keywords override them)."""
    options = {**JIT_OPTIONS, **kwargs}
    return numba.jit(*args, **options)
