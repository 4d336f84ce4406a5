"""The "fast-convolution" study: blocked-FFT history against the direct O(N^2) history."""
from __future__ import annotations

import time

import numpy as np

from ..kernels import convolution
from ..volterra import solve_volterra
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["fast_convolution"]


def _exp_kernel(u):
    return np.exp(-u)


def _square(s, y):
    return y * y


def _square_jacobian(s, y):
    return 2.0 * y


def _forcing(t):
    return np.exp(-2.0 * t)


def _timed(kernel, n, method, fast, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solve_volterra(kernel, _forcing, (0.0, 1.0), n, method=method, fast_history=fast,
                             error_estimate=False)
        best = min(best, time.perf_counter() - start)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol, best


def _method_rows(args):
    """The rows of one method (a cell): compile both paths, then time N = 2^e for each e."""
    method, exponents = args
    kernel = convolution(_exp_kernel, _square, phi_jacobian=_square_jacobian)
    _timed(kernel, 64, method, True, 1)  # compile both paths first
    _timed(kernel, 64, method, False, 1)
    rows, previous = [], None
    for e in exponents:
        n = 2 ** e
        repeats = 3 if n <= 4096 else 1
        fast, t_fast = _timed(kernel, n, method, True, repeats)
        direct, t_direct = _timed(kernel, n, method, False, repeats)
        rows.append({"method": method, "N": n, "direct_seconds": t_direct, "fast_seconds": t_fast,
                     "speedup": t_direct / t_fast,
                     "max_abs_difference": float(np.max(np.abs(fast.y - direct.y))),
                     "error": float(np.max(np.abs(fast.y - np.exp(-fast.t)))),
                     "growth": float("nan") if previous is None else t_fast / previous})
        previous = t_fast
    return rows


def fast_convolution(quick=False, seed=0, executor=None, cache_dir=None,
                     methods=("trapezoid", "gregory6", "gauss2")):
    """Time and agreement of the fast (FFT) and direct histories on a nonlinear convolution VIE.

    y(t) = e^{-2t} + int_0^t e^{-(t-s)} y(s)^2 ds (exact y = e^{-t}) on [0, 1],
    N = 2^8 ... 2^12 (quick) or 2^10 ... 2^15.  Both runs are compiled first; the
    time is the best of a few runs.  Each method is one cell of
    :func:`~integrallimits.studies.run_cells` (``executor``, ``cache_dir``); the
    timing columns are measured where the cell runs, so they vary between runs and
    cells that share a machine slow each other down (time with the serial executor).

    Returns
    -------
    StudyResult
        Columns ``method``, ``N``, ``direct_seconds``, ``fast_seconds``, ``speedup``,
        ``max_abs_difference`` (fast vs direct), ``error`` (fast vs exact) and
        ``growth`` (fast time ratio to the previous N, expected about 2-2.5 for
        O(N log^2 N) against 4 for O(N^2)).

    Examples
    --------
    >>> res = fast_convolution(quick=True, methods=("trapezoid",))
    >>> all(row["max_abs_difference"] < 1e-12 for row in res.rows)
    True
    """
    exponents = list(range(8, 13) if quick else range(10, 16))
    cells = [(method, exponents) for method in methods]
    rows = [row for rows in run_cells("fast-convolution", cells, _method_rows, cache_dir, executor)
            for row in rows]
    return StudyResult("fast-convolution", rows, params={"quick": quick, "methods": list(methods)},
                       notes="Nonlinear convolution VIE; the fast history must equal the direct one to "
                             "rounding while its time grows like N log^2 N.")
