"""Smooth solves to a tolerance outside the error-control study, as a guard on the cost of
checks for non-smooth data: the library problems, the renewal equation on [0, 100] and
y = tan t; six methods at rtol = atol = 1e-3, 1e-6, 1e-9 (180 solves).  Prints and writes
(JSON, the first argument) success, N, nfev and error/tolerance per solve; compare two runs
(before/after) row by row.

Usage: ``PYTHONPATH=<worktree> python tools/smooth_tolerance_scan.py OUT.json``
"""
import json, sys, numpy as np
from integrallimits import solve_volterra
from integrallimits.volterra.problems import PROBLEMS
rows = []
def renewal(t, s, y): return (t - s) * np.exp(-(t - s)) * y
def one(t): return 1.0
def square(t, s, y): return y * y
def logistic(t, s, y): return y * (1.0 - y)
def tenth(t): return 0.1
extra = {
    'renewal': (renewal, one, (0.0, 100.0), lambda t: (2 * t + 3 + np.exp(-2 * t)) / 4),
    'tan': (square, lambda t: t, (0.0, 1.5), np.tan),
}
for name, p in list(PROBLEMS.items()) + list(extra.items()):
    for m in ['rk4', 'radau2', 'radau3', 'radau4', 'gauss2', 'gauss4']:
        for tol in [1e-3, 1e-6, 1e-9]:
            if isinstance(p, tuple):
                K, g, span, ex = p
            else:
                K, g, span, ex = p.kernel, p.forcing, p.t_span, p.exact
            try:
                sol = solve_volterra(K, g, span, method=m, rtol=tol, atol=tol)
                y = np.asarray(sol.y).reshape(len(sol.t), -1)
                e = np.asarray(ex(sol.t)).reshape(y.shape) if not isinstance(p, tuple) else np.asarray(ex(sol.t)).reshape(y.shape)
                err = float(np.max(np.abs(y - e) / (tol + tol * np.abs(e))))
                rows.append(dict(k=f"{name} {m} {tol:g}", ok=bool(sol.success), N=len(sol.t) - 1, nfev=int(sol.nfev), err=err))
            except Exception as exc:
                rows.append(dict(k=f"{name} {m} {tol:g}", ok=False, N=-1, nfev=0, err=float('nan'), exc=repr(exc)[:80]))
            print(rows[-1], flush=True)
json.dump(rows, open(sys.argv[1], 'w'))
