"""Observed orders of convergence on problems with exact solutions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._methods import METHODS
from ._solve import solve_volterra

__all__ = ["ConvergenceResult", "observed_order", "fit_order"]


@dataclass
class ConvergenceResult:
    """Errors on a refinement sequence and the fitted order.

    ``order`` is minus the least-squares slope of log(error) against log(N) over
    the last three refinements whose error is above the rounding floor (nan if
    fewer than two such points exist).
    """

    method: str
    problem: str
    declared_order: int
    n_steps: list
    errors: list
    order: float
    fitted_on: list


def fit_order(n_steps, errors, floor=1e-13, points=3):
    """Minus the slope of log(error) vs log(N) over the last ``points`` errors above ``floor``."""
    pairs = [(n, e) for n, e in zip(n_steps, errors) if e > floor and np.isfinite(e)]
    pairs = pairs[-points:]
    if len(pairs) < 2:
        return float("nan"), [n for n, _ in pairs]
    n, e = np.array(pairs, dtype=float).T
    slope = np.polyfit(np.log(n), np.log(e), 1)[0]
    return float(-slope), [int(x) for x in n]


def observed_order(method, prob, *, n_start=4, max_steps=1024, floor=1e-13, t_span=None,
                   use_jacobian=True):
    """Refine N = n_start, 2 n_start, ... until the error is below ``floor`` (relative to
    max(1, |y|)) or N exceeds ``max_steps``; fit the order (see :func:`fit_order`).

    Raises
    ------
    RuntimeError
        If a solve fails (an order cannot be measured on a failed solve).
    """
    meth = METHODS[method]
    t_span = t_span or prob.t_span
    n = max(n_start, meth.min_steps)
    ns, errors = [], []
    while n <= max_steps:
        # the error is measured against the exact solution: no companion estimate needed
        sol = solve_volterra(prob.kernel, prob.forcing, t_span, n, method=method,
                             jacobian=prob.jacobian if use_jacobian else None,
                             error_estimate=False)
        if not sol.success:
            raise RuntimeError(f"{method} failed on {prob.name} with N = {n}: {sol.message}")
        exact = prob.exact(sol.t)
        err = float(np.max(np.abs(sol.y - exact)) / max(1.0, float(np.max(np.abs(exact)))))
        ns.append(n)
        errors.append(err)
        if err < floor:
            break
        n *= 2
    order, used = fit_order(ns, errors, floor)
    return ConvergenceResult(method, prob.name, meth.order, ns, errors, order, used)
