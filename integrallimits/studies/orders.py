"""The "orders" study: observed against declared order for every method on the built-in problems."""
from __future__ import annotations

import math

from ..volterra import METHODS
from ..volterra.convergence import observed_order
from ..volterra.problems import PROBLEMS
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["orders", "figures", "COS6"]

_QUICK_PROBLEMS = ("exp-square", "vector")


def _k_cos6(t, s, y):
    return -36.0 * (t - s) * y


def _j_cos6(t, s, y):
    return -36.0 * (t - s)


def _cos6():
    import sympy as sp

    from ..volterra.problems import Problem
    t, s, y = sp.symbols("t s y", real=True)
    return Problem("cos6", "y = 1 - 36 int (t-s) y ds; y = cos 6t", _k_cos6, _j_cos6,
                   -36 * (t - s) * y, sp.cos(6 * t), y, t_span=(0.0, 1.0),
                   tags=frozenset({"linear", "convolution"}))


#: y = 1 - 36 int_0^t (t - s) y(s) ds, y = cos 6t on [0, 1]: oscillatory enough that every
#: method's error stays above rounding through its asymptotic range (gregory8 and gauss4
#: show 8.0), unlike the smooth built-in problems on which gregory6/8 reach rounding first.
COS6 = _cos6()
_PROBLEMS = {**PROBLEMS, COS6.name: COS6}


def _verdict(order, declared, finest_error):
    """How to read an observed order: "asymptotic" (within 0.2 of the declared order),
    "superconvergent" (above it on this problem), "pre-asymptotic" (below it while the error
    reached rounding, 1e-12, before the asymptotic range), "below declared" (below it at
    errors well above rounding: a real shortfall) or "not measured"."""
    if not (isinstance(declared, (int, float)) and math.isfinite(order)):
        return "not measured"
    if abs(order - declared) <= 0.2:
        return "asymptotic"
    if order > declared:
        return "superconvergent"
    return "pre-asymptotic" if finest_error < 1e-12 else "below declared"


def _cell(args):
    method, problem_name, max_steps = args
    try:
        res = observed_order(method, _PROBLEMS[problem_name], max_steps=max_steps)
    except RuntimeError as exc:
        return {"method": method, "problem": problem_name, "declared_order": METHODS[method].order,
                "observed_order": float("nan"), "fitted_on": "", "finest_error": float("nan"),
                "within_0.2": False, "verdict": "not measured", "note": str(exc)}
    verdict = _verdict(res.order, res.declared_order, res.errors[-1])
    note = {"pre-asymptotic": f"error at rounding from N = {res.n_steps[-1]}, before the "
                              f"asymptotic range; see problem cos6",
            "not measured": f"error at rounding from N = {res.n_steps[0]}"}.get(verdict, "")
    return {"method": method, "problem": problem_name, "declared_order": res.declared_order,
            "observed_order": round(res.order, 3),
            "fitted_on": " ".join(map(str, res.fitted_on)),
            "finest_error": res.errors[-1],
            "within_0.2": bool(abs(res.order - res.declared_order) <= 0.2),
            "verdict": verdict, "note": note}


def _beyond_cell(args):
    """One row for a prefixed method (see :mod:`._beyond`), without its timing column."""
    from ._beyond import _cell as beyond_cell
    row = beyond_cell(args)
    row.pop("seconds", None)
    order = row["observed_order"]
    row.setdefault("verdict", "geometric" if row["declared_order"] == "geometric"
                   else _verdict(order, row["declared_order"], row["finest_error"]))
    row["note"] = row.pop("note", "")
    return row


def orders(quick=False, seed=0, executor=None, cache_dir=None, methods=None, problems=None):
    """Observed orders of every method in ``METHODS`` on problems with exact solutions.

    Also rows for the solvers beyond the second kind ("fredholm:<rule>",
    "first-kind:<method>", "vide:<method>", on their own problems): all of them by
    default, or those named in ``methods``.

    The problems are the built-in ones (:data:`integrallimits.volterra.problems.PROBLEMS`)
    and :data:`COS6`, y = cos 6t, on which every method shows its asymptotic order above
    rounding.  For each (method, problem) the step count is doubled from 4 until the relative
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
        ``fitted_on``, ``finest_error``, ``within_0.2``, ``verdict`` (how to read the
        order: "asymptotic", "superconvergent", "pre-asymptotic" when the error reached
        rounding before the asymptotic range, "below declared", "not measured") and
        ``note``.

    Examples
    --------
    >>> res = orders(quick=True, methods=["trapezoid"], problems=["exp-square"])
    >>> row = res.rows[0]
    >>> row["declared_order"], abs(row["observed_order"] - 2) < 0.2
    (2, True)
    """
    requested = list(methods) if methods else None
    methods = [m for m in (requested or METHODS) if ":" not in m]
    problems = list(problems or (_QUICK_PROBLEMS if quick else _PROBLEMS))
    unknown = [p for p in problems if not isinstance(p, str) or p not in PROBLEMS]
    if unknown:   # (was a bare KeyError 'name' from a cell, after the cells before it)
        raise KeyError(f"unknown problem(s) {unknown}; known: {', '.join(PROBLEMS)}")
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
                             "doublings above a 1e-13 relative error floor. 'pre-asymptotic': the "
                             "error reached rounding before the method's asymptotic range (on "
                             "cos6 every method shows its order)."
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


def figures(result):
    """Observed against declared order, one column per method (sorted by declared order),
    one marker per problem; the declared order is a black bar."""
    from ._figures import caption, new_figure
    rows = [r for r in result.rows if isinstance(r.get("declared_order"), (int, float))
            and math.isfinite(r.get("observed_order", float("nan")))]
    if not rows:
        return {}
    declared = {r["method"]: r["declared_order"] for r in rows}
    methods = sorted(declared, key=lambda m: (m.split(":")[0] if ":" in m else "",
                                              declared[m], m))
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    fig, (ax,) = new_figure(1, width=max(6.0, 0.3 * len(methods) + 3.0), height=4.4)
    where = {m: k for k, m in enumerate(methods)}
    for m in methods:
        ax.plot([where[m] - 0.35, where[m] + 0.35], [declared[m]] * 2, color="k", lw=1.5, zorder=1)
    markers = "osD^v<>px*h+"
    for k, problem in enumerate(problems):
        pts = [(where[r["method"]] + 0.5 * (k / max(len(problems) - 1, 1) - 0.5) * 0.6,
                r["observed_order"]) for r in rows if r["problem"] == problem]
        emphasis = dict(s=40, edgecolors="k", linewidths=0.6, zorder=3) if problem == "cos6" \
            else dict(s=16, alpha=0.7, zorder=2)
        ax.scatter(*zip(*pts), marker=markers[k % len(markers)], label=problem, **emphasis)
    ax.plot([], [], color="k", lw=1.5, label="declared order")
    ax.set_xticks(range(len(methods)), methods, rotation=60, ha="right", fontsize="small")
    ax.set_xlabel("method, by declared order (prefixed: Fredholm, first-kind and VIDE solvers)")
    ax.set_ylabel("observed order $p$ (slope of $\\log e_N$ vs $\\log N$)")
    ax.set_xlim(-0.6, len(methods) - 0.4)
    ax.grid(axis="y", color="0.9")
    ax.legend(fontsize="x-small", title="problem", title_fontsize="x-small",
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    caption(fig, "Observed and declared orders of every method",
            "below a bar: the error reached rounding first (pre-asymptotic); on cos6 (large "
            "markers) every method shows its order; above: superconvergence on an ODE (inverse)")
    return {"orders": fig}



