"""Benchmark of error-controlled solves: work against the best uniform mesh and against solve_ivp.

Run from the repository root::

    python benchmarks/bench_error_control.py            # tolerances 1e-3 .. 1e-12
    python benchmarks/bench_error_control.py --quick    # 1e-3 .. 1e-9

For each problem with an exact solution and each method, ``solve_volterra(..., rtol=tol,
atol=tol)`` against the *oracle*: the smallest uniform N with which the same method meets the
tolerance (found with the exact solution, so no solver can do it without knowing the answer).
Columns: kernel evaluations of both and their ratio (goal: at most 4 on smooth problems, below 1
on tan t), wall times (best of a few runs after a warm-up), the achieved error over the
tolerance (goal: at most 10) and the estimate's quality (actual / estimated, goal within 20x).
On the ODE-reducible problem y = 1 - int y^2 (y' = -y^2) scipy's solve_ivp (Radau, DOP853)
runs beside it at the same tolerances, timed in the same process.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402

from integrallimits import solve_volterra  # noqa: E402
from integrallimits.studies.error_control import _oracle, _problem, _scaled_error  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    tolerances = [1e-3, 1e-6, 1e-9] if args.quick else [1e-3, 1e-6, 1e-9, 1e-12]
    print("machine:", _common.machine_info(), "load:", _common.load_average())
    header = ("| problem | method | tol | N | nfev | oracle N | oracle nfev | work ratio | time | "
              "oracle time | error/tol | actual/estimate |")
    print(header)
    print("|---" * 12 + "|")
    for problem in ("exp-square", "vector", "tan"):
        prob = _problem(problem)
        for method in ("radau3", "gauss2", "gauss4", "gregory4"):
            solve = lambda tol: solve_volterra(prob.kernel, prob.forcing, prob.t_span,  # noqa: E731
                                               method=method, rtol=tol, atol=tol)
            solve(1e-3)          # compile
            for tol in tolerances:
                sol = solve(tol)
                t_sol = _common.best_of(lambda: solve(tol), 3)[0]
                oracle = _oracle(prob, method, tol, 8192)
                if oracle is None:
                    continue
                n_or, nfev_or = oracle
                t_or = _common.best_of(lambda: solve_volterra(
                    prob.kernel, prob.forcing, prob.t_span, n_or, method=method,
                    error_estimate=False), 3)[0]
                scaled, actual = _scaled_error(sol, prob, tol)
                est = sol.stats["max_error_estimate"]
                print(f"| {problem} | {method} | {tol:.0e} | {len(sol.mesh) - 1} | {sol.nfev} | {n_or} | "
                      f"{nfev_or} | {_common.fmt_ratio(sol.nfev / nfev_or)} | "
                      f"{_common.fmt_time(t_sol)} | {_common.fmt_time(t_or)} | {scaled:.2f} | "
                      f"{actual / est:.2f} |")
    from scipy.integrate import solve_ivp
    prob = _problem("inverse")
    print("\n| tol | ours (radau) time | nfev | error | solve_ivp Radau time | nfev | error | "
          "DOP853 time | nfev | error | ratio to the faster |")
    print("|---" * 11 + "|")
    for tol in tolerances:
        ours = solve_volterra(prob.kernel, prob.forcing, prob.t_span, rtol=tol, atol=tol)
        t_ours = _common.best_of(lambda: solve_volterra(prob.kernel, prob.forcing, prob.t_span,
                                                        rtol=tol, atol=tol), 3)[0]
        row = [f"{tol:.0e}", _common.fmt_time(t_ours), str(ours.nfev),
               f"{np.max(np.abs(ours.y - prob.exact(ours.t))):.1e}"]
        times = []
        for name in ("Radau", "DOP853"):
            run = lambda: solve_ivp(lambda t, y: -y * y, prob.t_span, [1.0], method=name,  # noqa
                                    rtol=tol, atol=tol)
            res = run()
            t = _common.best_of(run, 3)[0]
            times.append(t)
            row += [_common.fmt_time(t), str(res.nfev),
                    f"{np.max(np.abs(res.y[0] - prob.exact(res.t))):.1e}"]
        row.append(_common.fmt_ratio(t_ours / min(times)))
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
