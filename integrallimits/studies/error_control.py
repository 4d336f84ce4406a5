"""The "error-control" study: solving to a tolerance, checked against exact solutions.

For each problem (exact solution known), method and tolerance tol (atol = rtol = tol), the
error-controlled solve ``solve_volterra(..., rtol=tol, atol=tol)`` is compared with

* the exact solution: ``error_over_tol``, the largest |y_n - y(t_n)| / (tol + tol |y(t_n)|)
  over the mesh (tolerance proportionality: it should stay below 10), and ``estimate_quality``,
  the largest actual error over the largest estimated one (an honest estimate: within a
  factor 20 either way);
* the *oracle*: the smallest uniform N for which the same method meets the tolerance, found
  with the exact solution (bisection between powers of two) -- ``work_ratio`` is the
  tolerance solve's kernel evaluations over the oracle's (at most 4 on smooth problems; below
  1 where the solution has a localised feature, y = tan t on [0, 1.5]);
* on the ODE-reducible problem y = 1 - int y^2 (y' = -y^2), :func:`scipy.integrate.solve_ivp`
  (Radau and DOP853) at the same tolerances, for a work-precision comparison.
"""
from __future__ import annotations

import math

import numpy as np

from ..volterra import METHODS, solve_volterra
from ..volterra.problems import PROBLEMS
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["error_control", "figures", "tan_problem"]


def _tan_kernel(t, s, y):
    return y * y


def _tan_forcing(t):
    return t


class _Tan:
    """y = t + int_0^t y^2 ds, y = tan t on [0, 1.5]: steep near the end (a localised feature)."""

    name = "tan"
    kernel = staticmethod(_tan_kernel)
    forcing = staticmethod(_tan_forcing)
    jacobian = None
    t_span = (0.0, 1.5)

    @staticmethod
    def exact(t):
        return np.tan(t)


tan_problem = _Tan()


def _problem(name):
    return tan_problem if name == "tan" else PROBLEMS[name]


def _scaled_error(sol, prob, tol):
    exact = np.asarray(prob.exact(sol.t), dtype=float).reshape(sol.y.shape)
    err = np.abs(sol.y - exact)
    return float(np.max(err / (tol + tol * np.abs(exact)))), float(np.max(err))


def _oracle(prob, method, tol, n_max):
    """(N, nfev) of the smallest uniform N meeting the tolerance (exact solution), or None."""
    meth = METHODS[method]

    def meets(n):
        sol = solve_volterra(prob.kernel, prob.forcing, prob.t_span, n, method=method,
                             error_estimate=False)
        return sol.success and _scaled_error(sol, prob, tol)[0] <= 1.0, sol.nfev

    n = max(2, meth.min_steps)
    ok, nfev = meets(n)
    while not ok:
        if 2 * n > n_max:
            return None
        lo, n = n, 2 * n
        ok, nfev = meets(n)
    if n == max(2, meth.min_steps):
        return n, nfev
    hi, best = n, nfev
    while hi - lo > 1 and hi - lo > hi // 64:           # to about 1.5%
        mid = (lo + hi) // 2
        ok, nfev = meets(mid)
        if ok:
            hi, best = mid, nfev
        else:
            lo = mid
    return hi, best


def _cell(args):
    """Rows of one (problem, method): every tolerance, with its oracle."""
    problem, method, tolerances, n_max = args
    prob = _problem(problem)
    rows = []
    for tol in tolerances:
        sol = solve_volterra(prob.kernel, prob.forcing, prob.t_span, method=method, rtol=tol, atol=tol)
        row = {"problem": problem, "method": method, "adaptive": METHODS[method].family == "vrk",
               "tol": tol, "success": bool(sol.success), "N": len(sol.mesh) - 1, "nfev": sol.nfev}
        scaled, actual = _scaled_error(sol, prob, tol) if sol.success else (math.nan, math.nan)
        estimate = sol.stats.get("max_error_estimate", math.nan)
        row.update(max_error=actual, error_over_tol=scaled, max_estimate=estimate,
                   estimate_quality=actual / estimate if estimate and estimate > 0 else math.nan)
        oracle = _oracle(prob, method, tol, n_max) if sol.success else None
        row.update(oracle_N=oracle[0] if oracle else math.nan,
                   oracle_nfev=oracle[1] if oracle else math.nan,
                   work_ratio=sol.nfev / oracle[1] if oracle else math.nan)
        rows.append(row)
    return rows


def _ivp_cell(args):
    """solve_ivp on y' = -y^2, y(0) = 1 (the problem 'inverse' as an ODE), and ours."""
    tolerances, = args
    from scipy.integrate import solve_ivp
    prob = PROBLEMS["inverse"]
    rows = []
    for tol in tolerances:
        for solver in ("Radau", "DOP853"):
            res = solve_ivp(lambda t, y: -y * y, prob.t_span, [1.0], method=solver, rtol=tol,
                            atol=tol)
            err = np.abs(res.y[0] - prob.exact(res.t))
            rows.append({"problem": "inverse", "method": f"solve_ivp {solver}", "adaptive": True,
                         "tol": tol, "success": bool(res.success), "N": len(res.t) - 1,
                         "nfev": int(res.nfev),
                         "max_error": float(np.max(err)),
                         "error_over_tol": float(np.max(err / (tol + tol * np.abs(prob.exact(res.t))))),
                         "max_estimate": math.nan, "estimate_quality": math.nan,
                         "oracle_N": math.nan, "oracle_nfev": math.nan, "work_ratio": math.nan})
    return rows


def error_control(quick=False, seed=0, executor=None, cache_dir=None):
    """Tolerance against achieved error and against work, per method and problem.

    Problems: exp-square (scalar, nonlinear convolution), vector (d = 2, nonlinear,
    non-convolution), affine (K(t, s, 0) != 0), inverse (ODE-reducible, with solve_ivp beside
    it) and tan (a localised feature).  Methods: radau3, gauss2, gauss4, rk4 (step-size
    control) and trapezoid, gregory4, gregory8 (uniform refinement); tolerances 1e-3 ... 1e-12
    (quick: fewer problems, methods and tolerances).

    Returns
    -------
    StudyResult
        One row per (problem, method, tol): ``N``, ``nfev``, ``max_error``, ``error_over_tol``,
        ``max_estimate``, ``estimate_quality``, ``oracle_N``, ``oracle_nfev``, ``work_ratio``.

    Examples
    --------
    >>> res = error_control(quick=True)                          # doctest: +SKIP
    >>> max(r["error_over_tol"] for r in res.rows if r["success"]) <= 10   # doctest: +SKIP
    True
    """
    if quick:
        problems = ["exp-square", "vector", "tan"]
        methods = ["radau3", "gauss2", "gregory4"]
        tolerances = [1e-3, 1e-6, 1e-9]
        n_max = 2048
    else:
        problems = ["exp-square", "vector", "affine", "inverse", "tan"]
        methods = ["radau3", "gauss2", "gauss4", "rk4", "trapezoid", "gregory4", "gregory8"]
        tolerances = [1e-3, 1e-6, 1e-9, 1e-12]
        n_max = 8192
    cells = [(p, m, [t for t in tolerances if not (m == "trapezoid" and t < 1e-9)], n_max)
             for p in problems for m in methods]
    rows = [row for part in run_cells("error-control", cells, _cell, cache_dir, executor)
            for row in part]
    rows += run_cells("error-control", [(tolerances,)], _ivp_cell, cache_dir, executor)[0]
    return StudyResult("error-control", rows,
                       params={"quick": quick, "problems": problems, "methods": methods,
                               "tolerances": tolerances},
                       notes="atol = rtol = tol. error_over_tol <= 10 is tolerance proportionality; "
                             "estimate_quality = max actual error / max estimated error; work_ratio "
                             "= kernel evaluations / those of the best uniform mesh (oracle).")


def figures(result):
    """Achieved error against tolerance (the proportionality band), and a work-precision
    diagram (kernel evaluations against achieved error) with the uniform oracle beside."""
    from ._figures import caption, new_figure
    fig, (ax, bx) = new_figure(2, width=4.8, height=4.0)
    rows = [r for r in result.rows if r["success"] and r["max_error"] == r["max_error"]]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    markers = dict(zip(methods, "os^vD<>phx*+"))
    for k, m in enumerate(methods):
        sub = sorted((r for r in rows if r["method"] == m), key=lambda r: r["tol"])
        ax.scatter([r["tol"] for r in sub], [r["error_over_tol"] * r["tol"] for r in sub],
                   s=14, marker=markers[m], color=f"C{k}", label=m)
        for p in dict.fromkeys(r["problem"] for r in sub):
            line = sorted((r for r in sub if r["problem"] == p), key=lambda r: r["max_error"])
            bx.plot([r["max_error"] for r in line], [r["nfev"] for r in line], marker=markers[m],
                    ms=3, lw=0.8, color=f"C{k}", label=m if p == sub[0]["problem"] else None)
            oracle = [r for r in line if r["oracle_nfev"] == r["oracle_nfev"]]
            bx.plot([r["tol"] for r in oracle], [r["oracle_nfev"] for r in oracle], ls=":", lw=0.8,
                    color=f"C{k}")
    tols = sorted({r["tol"] for r in rows})
    if tols:
        ax.plot(tols, tols, color="0.3", lw=0.8)
        ax.fill_between(tols, [t * 1e-3 for t in tols], [10 * t for t in tols], color="0.85",
                        zorder=0)
        ax.text(tols[0], 10 * tols[0], " 10 tol", fontsize="x-small", va="bottom")
    ax.set(xscale="log", yscale="log", xlabel="tolerance (atol = rtol = tol)",
           ylabel=r"achieved error $\max_n |y_n - y(t_n)| / (1 + |y(t_n)|)$")
    bx.set(xscale="log", yscale="log", xlabel=r"achieved error $\max_n |y_n - y(t_n)|$",
           ylabel="kernel evaluations (nfev)")
    ax.legend(fontsize="x-small", ncol=2)
    bx.legend(fontsize="x-small", ncol=2)
    caption(fig, "Solving to a tolerance: the error follows the tolerance, the work follows the "
            "best uniform mesh",
            "left: every problem and tolerance, grey band up to 10 tol; right: solid = tolerance "
            "solve, dotted = smallest uniform N meeting it (oracle)")
    return {"error-control": fig}
