"""Benchmark of the solvers beyond the second kind: first-kind VIEs, VIDEs, Fredholm equations.

Run from the repository root::

    python benchmarks/bench_beyond.py            # full run
    python benchmarks/bench_beyond.py --quick    # fewer targets and sizes, fewer repetitions
    python benchmarks/bench_beyond.py --json results.json

It measures, in one process (every solver is called once before it is timed, so
Numba compilation is excluded; times are the best of several runs):

1. **first-kind VIE**, voles' illustration problem int_0^t e^{t - s} y(s) ds = sin t on
   [0, 2] (y = cos t - sin t): time to reach a max error <= target for
   ``voles.solve_VIE_1`` (default collocation setting and the 4-point one, product
   quadrature, sampled kernel) and ``integrallimits`` first-kind methods; each
   solver's grid is doubled until the target is met;
2. **VIDE**, y' = -y + int_0^t e^{-(t - s)} y(s) ds, y(0) = 1 on [0, 2]
   (y = (1 + e^{-2t}) / 2) in voles' form (a = -1, g = 0, K(u) = e^{-u}): the same
   for ``voles.solve_VIDE`` and ``integrallimits`` VIDE methods;
3. **Fredholm**, a linear problem (K = e^{-xs}/2 + x/4, y = cos 2x) and a nonlinear
   one (K = cos(10 (x - s)) y^2 / 2, y = e^{-x}) on [0, 1] with g derived by SymPy:
   ``solve_fredholm`` (Gauss-Legendre) against a dense Nyström solve written by hand
   in NumPy (``np.linalg.solve``; Newton with the analytic Jacobian), at equal M.

BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` unless set).  The report is a
Markdown table (machine first).  ``ratio`` is the time over the
fastest solver of the same row group.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import lru_cache

# One BLAS thread for every dense solve (the hand-written NumPy baseline and LAPACK in
# solve_fredholm alike): small systems only lose to threading overhead, and runs stay comparable.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

import sympy as sp  # noqa: E402

from integrallimits.fredholm import solve_fredholm  # noqa: E402
from integrallimits.volterra._first_kind import solve_first_kind  # noqa: E402
from integrallimits.volterra._vide import solve_vide  # noqa: E402

try:
    import voles
except ImportError:  # pragma: no cover - the bench extra
    voles = None

T_END = 2.0


def machine_info():
    return _common.machine_info(voles=getattr(voles, "__version__", "not installed"))


def best_time(func, repeats):
    func()                                   # warm-up (compilation, caches)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


# -- 1. first-kind VIE ------------------------------------------------------------------------------

def k_first(t, s):
    return np.exp(t - s)


def exact_first(t):
    return np.cos(t) - np.sin(t)


def voles_vie1(samples, coll_divs=None):
    h = T_END / (samples - 1)
    times = np.linspace(0.0, T_END, samples)
    options = {} if coll_divs is None else {"coll_divs": coll_divs}

    def run():
        return voles.solve_VIE_1(kernel_values=np.exp(times), g_values=np.sin(times), time_step=h,
                                 **options)
    return run, lambda y: float(np.max(np.abs(y - exact_first(times))))


def ours_vie1(steps, method):
    def run():
        return solve_first_kind(k_first, np.sin, (0.0, T_END), steps, method)
    return run, lambda sol: float(np.max(np.abs(sol.y - exact_first(sol.t))))


# -- 2. VIDE ----------------------------------------------------------------------------------------

def f_vide(t, y, z):
    return -y + z


def k_vide(t, s, y):
    return np.exp(s - t) * y


def exact_vide(t):
    return (1.0 + np.exp(-2.0 * t)) / 2.0


def voles_vide(samples):
    h = T_END / (samples - 1)
    times = np.linspace(0.0, T_END, samples)

    def run():
        return voles.solve_VIDE(kernel_values=np.exp(-times), a_values=-np.ones(samples),
                                g_values=np.zeros(samples), soln_init_value=1.0, time_step=h)
    return run, lambda y: float(np.max(np.abs(y - exact_vide(times))))


def ours_vide(steps, method):
    def run():
        return solve_vide(f_vide, k_vide, 1.0, (0.0, T_END), steps, method)
    return run, lambda sol: float(np.max(np.abs(sol.y - exact_vide(sol.t))))


def time_to_accuracy(factory, target, repeats, start, limit):
    """Double the grid from ``start`` until the error is <= target; time that run."""
    n = start
    while n <= limit:
        run, error = factory(n)
        err = error(run())
        if err <= target:
            return n, err, best_time(run, repeats)
        n *= 2
    return None, err, float("nan")


# -- 3. Fredholm ------------------------------------------------------------------------------------

_x, _s = sp.symbols("x s", real=True)
_G_LIN = sp.lambdify(_x, sp.cos(2 * _x) - sp.integrate(sp.expand((sp.exp(-_x * _s) / 2 + _x / 4)
                                                                   * sp.cos(2 * _s)), (_s, 0, 1)),
                     "numpy")
_G_WAVE = sp.lambdify(_x, sp.exp(-_x) - sp.integrate(sp.expand(sp.cos(10 * (_x - _s)) * sp.exp(-2 * _s) / 2),
                                                      (_s, 0, 1)), "numpy")


def g_lin(x):
    return _G_LIN(x)


def g_wave(x):
    return _G_WAVE(x)


def k_lin(x, s):
    return 0.5 * np.exp(-x * s) + 0.25 * x


def k_wave(x, s, y):
    return 0.5 * np.cos(10.0 * (x - s)) * y * y


def k_wave_jacobian(x, s, y):
    return np.cos(10.0 * (x - s)) * y


@lru_cache(maxsize=None)
def gauss_legendre_01(M):
    """NumPy's Gauss-Legendre rule mapped to [0, 1], computed once per M (solve_fredholm
    caches its rules too, so neither side pays for the rule in the timings)."""
    t, w = np.polynomial.legendre.leggauss(M)
    return (t + 1) / 2, w / 2


def numpy_nystrom_linear(M):
    """Hand-written dense Nyström solve (Gauss-Legendre on [0, 1])."""
    x, w = gauss_legendre_01(M)
    A = np.eye(M) - k_lin(x[:, None], x[None, :]) * w[None, :]
    return x, np.linalg.solve(A, g_lin(x))


def numpy_nystrom_newton(M, tol=1e-12, maxiter=50, y0=None):
    """Hand-written Newton for the nonlinear Nyström system, analytic Jacobian, from y = g
    (or from the node values ``y0``)."""
    x, w = gauss_legendre_01(M)
    C = 0.5 * np.cos(10.0 * (x[:, None] - x[None, :])) * w[None, :]
    g = g_wave(x)
    y = g.copy() if y0 is None else np.array(y0, dtype=float)
    for _ in range(maxiter):
        F = y - g - C @ (y * y)
        J = np.eye(M) - C * (2.0 * y)[None, :]
        delta = np.linalg.solve(J, F)
        y -= delta
        if np.max(np.abs(delta)) <= tol * max(1.0, np.max(np.abs(y))):
            break
    return x, y


def fredholm_rows(sizes, repeats):
    rows = []
    for M in sizes:
        for problem, exact, ours, numpy_solve in (
                ("fredholm-linear", lambda x: np.cos(2 * x),
                 lambda: solve_fredholm(k_lin, g_lin, (0.0, 1.0), M), lambda: numpy_nystrom_linear(M)),
                ("fredholm-nonlinear", lambda x: np.exp(-x),
                 lambda: solve_fredholm(k_wave, g_wave, (0.0, 1.0), M, jacobian=k_wave_jacobian),
                 lambda: numpy_nystrom_newton(M))):
            sol = ours()
            err_ours = float(np.max(np.abs(sol.y - exact(sol.x))))
            x, y = numpy_solve()
            err_np = float(np.max(np.abs(y - exact(x))))
            t_ours = best_time(ours, repeats)
            t_np = best_time(numpy_solve, repeats)
            fastest = min(t_ours, t_np)
            rows.append({"problem": problem, "target": "-", "solver": "integrallimits",
                         "setting": "solve_fredholm, gauss-legendre, exact Jacobian"
                         if "non" in problem else "solve_fredholm, gauss-legendre (direct)",
                         "N": M, "max_error": err_ours, "ms": 1e3 * t_ours, "ratio": t_ours / fastest})
            rows.append({"problem": problem, "target": "-", "solver": "NumPy by hand",
                         "setting": "Newton, np.linalg.solve" if "non" in problem
                         else "np.linalg.solve", "N": M, "max_error": err_np, "ms": 1e3 * t_np,
                         "ratio": t_np / fastest})
    return rows


def volterra_rows(quick, repeats):
    rows = []
    vie1_targets = [1e-6] if quick else [1e-6, 1e-9]
    vide_targets = [1e-8] if quick else [1e-8, 1e-11]
    cases = []
    for target in vie1_targets:
        group = []
        if voles is not None:
            group.append(("voles", "solve_VIE_1 default (3 nodes, product)", 36, 2 ** 16,
                          lambda n: voles_vie1(n + 1)))
            group.append(("voles", "solve_VIE_1 coll_divs=4 (product)", 36, 2 ** 16,
                          lambda n: voles_vie1(n + 1, coll_divs=4)))
        for method in ("midpoint", "radau3", "radau4"):
            group.append(("integrallimits", f"first kind, {method}", 8, 2 ** 14,
                          lambda n, m=method: ours_vie1(n, m)))
        cases.append(("VIE-1 (voles illustration)", target, group))
    for target in vide_targets:
        group = []
        if voles is not None:
            group.append(("voles", "solve_VIDE default (3 nodes, product)", 16, 2 ** 16,
                          lambda n: voles_vide(n + 1)))
        for method in ("rk4", "gauss2", "gauss3", "radau3"):
            group.append(("integrallimits", f"VIDE, {method}", 4, 2 ** 14,
                          lambda n, m=method: ours_vide(n, m)))
        cases.append(("VIDE (y' = -y + e^{-(t-s)} memory)", target, group))
    for problem, target, group in cases:
        results = []
        for solver, setting, start, limit, factory in group:
            n, err, seconds = time_to_accuracy(factory, target, repeats, start, limit)
            results.append({"problem": problem, "target": f"{target:.0e}", "solver": solver,
                            "setting": setting, "N": n if n is not None else f"> {limit}",
                            "max_error": err, "ms": 1e3 * seconds})
        fastest = min(r["ms"] for r in results if np.isfinite(r["ms"]))
        for r in results:
            r["ratio"] = r["ms"] / fastest
        rows += results
    return rows


def to_markdown(rows):
    cols = ["problem", "target", "solver", "setting", "N", "max_error", "ms", "ratio"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            if c == "max_error":
                cells.append(f"{v:.2e}")
            elif c in ("ms", "ratio"):
                cells.append("nan" if not np.isfinite(v) else f"{v:.3g}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer targets and sizes")
    parser.add_argument("--json", help="also write the rows as JSON to this path")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    info = machine_info()
    print("## Beyond the second kind: benchmark\n")
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + "\n")
    if voles is None:
        print("(voles is not installed: the voles rows are skipped)\n")
    rows = volterra_rows(args.quick, repeats)
    rows += fredholm_rows([32, 128] if args.quick else [32, 128, 512], repeats)
    print("N: steps (integrallimits VIE/VIDE), sample intervals (voles), nodes M (Fredholm). "
          "Times: best of %d runs after a warm-up, in ms.\n" % repeats)
    print(to_markdown(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "rows": rows}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
