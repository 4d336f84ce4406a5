"""The "orders" study: observed against declared order for every method on the built-in problems."""
from __future__ import annotations

from ..volterra import METHODS
from ..volterra.convergence import observed_order
from ..volterra.problems import PROBLEMS
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["orders"]

_QUICK_PROBLEMS = ("exp-square", "vector")


def _cell(args):
    method, problem_name, max_steps = args
    try:
        res = observed_order(method, PROBLEMS[problem_name], max_steps=max_steps)
    except RuntimeError as exc:
        return {"method": method, "problem": problem_name, "declared_order": METHODS[method].order,
                "observed_order": float("nan"), "fitted_on": "", "finest_error": float("nan"),
                "within_0.2": False, "note": str(exc)}
    return {"method": method, "problem": problem_name, "declared_order": res.declared_order,
            "observed_order": round(res.order, 3),
            "fitted_on": " ".join(map(str, res.fitted_on)),
            "finest_error": res.errors[-1],
            "within_0.2": bool(abs(res.order - res.declared_order) <= 0.2),
            "note": ""}


def _beyond_cell(args):
    """One row for a prefixed method (see :mod:`._beyond`), without its timing column."""
    from ._beyond import _cell as beyond_cell
    row = beyond_cell(args)
    row.pop("seconds", None)
    return row


def orders(quick=False, seed=0, executor=None, cache_dir=None, methods=None, problems=None):
    """Observed orders of every method in ``METHODS`` on problems with exact solutions.

    Also rows for the solvers beyond the second kind ("fredholm:<rule>",
    "first-kind:<method>", "vide:<method>", on their own problems): all of them by
    default, or those named in ``methods``.

    For each (method, problem) the step count is doubled from 4 until the relative
    error drops below 1e-13 (or N exceeds 1024, 256 when ``quick``), and the order
    is minus the slope of log(error) against log(N) over the last three refinements
    above that floor.  ``seed`` is unused (the study is deterministic) but kept for
    the common study signature.  Each (method, problem) pair is one cell of
    :func:`~integrallimits.studies.run_cells` (``executor``, ``cache_dir``); the
    time each took is in the cell files, not in the table, so the table is the same
    on every run.

    Returns
    -------
    StudyResult
        Columns ``method``, ``problem``, ``declared_order``, ``observed_order``,
        ``fitted_on``, ``finest_error``, ``within_0.2``, ``note``.

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
    rows = run_cells("orders", cells, _cell, cache_dir, executor)
    beyond = _beyond_orders(quick, requested)
    if beyond:
        rows += run_cells("orders", beyond, _beyond_cell, cache_dir, executor)
    return StudyResult("orders", rows, params={"quick": quick, "seed": seed,
                                               "methods": methods + [m for m, _ in beyond],
                                               "problems": problems, "max_steps": max_steps},
                       notes="Observed order = -slope of log(max error) vs log(N) over the last three "
                             "doublings above a 1e-13 relative error floor."
                             + (" Rows 'fredholm:', 'first-kind:', 'vide:': see "
                                "integrallimits.studies._beyond." if beyond else ""))


def _beyond_orders(quick, requested):
    """Cells (method, quick) for the Fredholm, first-kind and VIDE methods (names
    "fredholm:<rule>", "first-kind:<method>", "vide:<method>"; see :mod:`._beyond`): all of
    them (a quick subset when ``quick``) if no methods are requested, else the requested
    prefixed names."""
    from ._beyond import _QUICK, BEYOND_METHODS
    if requested is None:
        chosen = list(_QUICK if quick else BEYOND_METHODS)
    else:
        chosen = [m for m in requested if ":" in m]
    unknown = [m for m in chosen if m not in BEYOND_METHODS]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; known: {', '.join(BEYOND_METHODS)}")
    return [(m, quick) for m in chosen]
