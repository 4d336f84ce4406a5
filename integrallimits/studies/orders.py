"""The "orders" study: observed against declared order for every method on the built-in problems."""
from __future__ import annotations

import time

from ..volterra import METHODS
from ..volterra.convergence import observed_order
from ..volterra.problems import PROBLEMS
from ._result import StudyResult

__all__ = ["orders"]

_QUICK_PROBLEMS = ("exp-square", "vector")


def _cell(args):
    method, problem_name, max_steps = args
    start = time.perf_counter()
    try:
        res = observed_order(method, PROBLEMS[problem_name], max_steps=max_steps)
    except RuntimeError as exc:
        return {"method": method, "problem": problem_name, "declared_order": METHODS[method].order,
                "observed_order": float("nan"), "fitted_on": "", "finest_error": float("nan"),
                "within_0.2": False, "note": str(exc), "seconds": time.perf_counter() - start}
    return {"method": method, "problem": problem_name, "declared_order": res.declared_order,
            "observed_order": round(res.order, 3),
            "fitted_on": " ".join(map(str, res.fitted_on)),
            "finest_error": res.errors[-1],
            "within_0.2": bool(abs(res.order - res.declared_order) <= 0.2),
            "note": "", "seconds": round(time.perf_counter() - start, 4)}


def orders(quick=False, seed=0, executor=None, methods=None, problems=None):
    """Observed orders of every method in ``METHODS`` on problems with exact solutions.

    Also rows for the solvers beyond the second kind ("fredholm:<rule>",
    "first-kind:<method>", "vide:<method>", on their own problems): all of them by
    default, or those named in ``methods``.

    For each (method, problem) the step count is doubled from 4 until the relative
    error drops below 1e-13 (or N exceeds 1024, 256 when ``quick``), and the order
    is minus the slope of log(error) against log(N) over the last three refinements
    above that floor.  ``seed`` is unused (the study is deterministic) but kept for
    the common study signature.

    Returns
    -------
    StudyResult
        Columns ``method``, ``problem``, ``declared_order``, ``observed_order``,
        ``fitted_on``, ``finest_error``, ``within_0.2``, ``note``, ``seconds``.

    Examples
    --------
    >>> res = orders(quick=True, methods=["trapezoid"], problems=["exp-square"])
    >>> row = res.rows[0]
    >>> row["declared_order"], abs(row["observed_order"] - 2) < 0.2
    (2, True)
    """
    requested = list(methods) if methods else None
    methods = [m for m in (requested or METHODS) if ":" not in m]
    problems = list(problems or (_QUICK_PROBLEMS if quick else PROBLEMS))
    max_steps = 256 if quick else 1024
    cells = [(m, p, max_steps) for m in methods for p in problems]
    mapper = executor.map if executor is not None else map
    rows = list(mapper(_cell, cells))
    beyond = _beyond_orders(quick, requested, executor)
    rows += beyond
    return StudyResult("orders", rows, params={"quick": quick, "seed": seed,
                                               "methods": methods + [r["method"] for r in beyond],
                                               "problems": problems, "max_steps": max_steps},
                       notes="Observed order = -slope of log(max error) vs log(N) over the last three "
                             "doublings above a 1e-13 relative error floor."
                             + (" Rows 'fredholm:', 'first-kind:', 'vide:': see "
                                "integrallimits.studies._beyond." if beyond else ""))


def _beyond_orders(quick, requested, executor):
    """Rows for the Fredholm, first-kind and VIDE methods (names "fredholm:<rule>",
    "first-kind:<method>", "vide:<method>"; see :mod:`._beyond`): all of them (a quick
    subset when ``quick``) if no methods are requested, else the requested prefixed names."""
    from ._beyond import beyond_rows
    if requested is None:
        return beyond_rows(quick, None, executor)
    chosen = [m for m in requested if ":" in m]
    return beyond_rows(quick, chosen, executor) if chosen else []
