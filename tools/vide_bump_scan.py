"""Scan :func:`~integrallimits.solve_vide` on data with a localized feature (a Gaussian bump)
for misses of the error estimate after it, at fixed N and to tolerances.

The problems (on [0, 1], exact solutions in closed form), b = exp(-((t - c) / w)^2):

* ``scalar``: y' = 0.1 b'(t), y = y(0) + 0.1 (b(t) - b(0));
* ``memory``: y' = 0.1 b'(t) - (z - Z(t)), z = int_0^t y ds (K = y), Z the exact memory (an
  error of y comes back through z);
* ``pair``: (y0, y1)' = (0.1 b'(t), y0 - 1 - 0.1 b(t) + cos t), y = (1 + 0.1 b, sin t).

For every method of ``VIDE_METHODS``, width w (``--widths``), centre c (``--centres``), fixed
N (``--ns``) and tolerance rtol = atol (``--tols``).  Counts, per cell and in all: successes;
*under*: a success whose error exceeds 20 times its estimate at some mesh point (the error
there above 1e-13; the largest ratio is kept); *over-tol*: a success to a tolerance whose
error exceeds 10 times it (atol + rtol |y|) at some point; the work (``nfev`` plus the
answer's ``f_evaluations``: the kernel's are 0 without memory).

Usage: ``PYTHONPATH=<worktree> python tools/vide_bump_scan.py [--json OUT] [--ns 8,16,32,64]
[--tols 1e-3,1e-6,1e-9] [--methods ...] [--problems scalar,memory,pair]``;
``--compare A.json B.json``: misses fixed and new, successes lost and gained, nfev ratio.
"""
import argparse
import json
import math
import time

import numba
import numpy as np

from integrallimits import solve_vide

FACTOR, FLOOR, TOL_FACTOR = 20.0, 1e-13, 10.0
METHODS = "rk4,gauss1,gauss2,gauss3,gauss4,radau1,radau2,radau3,radau4"


@numba.njit(cache=True)
def _slope(t, y, z, c, w):
    u = (t - c) / w
    return 0.1 * (-2.0 * u / w) * np.exp(-u * u)


@numba.njit(cache=True)
def _slope_memory(t, y, z, c, w):
    Z = t + 0.05 * np.sqrt(np.pi) * w * (math.erf((t - c) / w) - math.erf(-c / w))
    return _slope(t, y, z, c, w) - (z - Z)


@numba.njit(cache=True)
def _slope_pair(t, y, z, c, w):
    u = (t - c) / w
    out = np.empty(2)
    out[0] = _slope(t, y, z, c, w)
    out[1] = y[0] - 1.0 - 0.1 * np.exp(-u * u) + np.cos(t)
    return out


@numba.njit(cache=True)
def _memory_kernel(t, s, y, c, w):
    return y


def _exact(problem, x, c, w):
    x = np.asarray(x, dtype=float)
    y = 1.0 + 0.1 * np.exp(-((x - c) / w) ** 2)
    return np.stack([y, np.sin(x)], axis=-1) if problem == "pair" else y[..., None]


PROBLEMS = {"scalar": (_slope, None), "memory": (_slope_memory, _memory_kernel),
            "pair": (_slope_pair, None)}


def run(problem, method, c, w, n=None, tol=None):
    f, K = PROBLEMS[problem]
    y0 = _exact(problem, 0.0, c, w).ravel()
    y0 = y0 if problem == "pair" else float(y0[0])
    kw = dict(n_steps=n) if tol is None else dict(rtol=tol, atol=tol)
    t0 = time.process_time()
    sol = solve_vide(f, K, y0, (0.0, 1.0), method=method, args=(c, w), **kw)
    cpu = time.process_time() - t0
    Y = np.asarray(sol.y).reshape(len(sol.t), -1)
    E = np.asarray(sol.error_estimate).reshape(len(sol.t), -1)
    ex = _exact(problem, sol.t, c, w)
    err = np.abs(Y - ex)
    ratio = np.where(err > FLOOR, err / np.maximum(E, 1e-300), 0.0)
    k = int(np.argmax(np.max(ratio, axis=1))) if len(sol.t) else 0
    worst = float(np.max(ratio)) if ratio.size else 0.0
    over = float(np.max(err / (tol + tol * np.abs(ex)))) if tol is not None and err.size else 0.0
    return dict(problem=problem, method=method, c=c, w=w, n=n, tol=tol,
                success=bool(sol.success), failure=sol.stats.get("failure"),
                steps=len(sol.t) - 1, error=float(np.max(err)) if err.size else math.nan,
                estimate=float(np.max(E)) if E.size else math.nan, ratio=worst,
                t_worst=float(sol.t[k]) if len(sol.t) else math.nan,
                under=bool(sol.success and worst > FACTOR),
                over_tol=bool(sol.success and over > TOL_FACTOR),
                nfev=int(sol.stats.get("nfev", 0)) + int(sol.stats.get("f_evaluations", 0)),
                cpu=cpu)


def _key(r):
    return r["problem"], r["method"], r["c"], r["w"], r["n"], r["tol"]


def compare(a, b):
    B = {_key(r): r for r in json.load(open(b))}
    A = [r for r in json.load(open(a)) if _key(r) in B]
    for what in ("under", "over_tol", "success"):
        print(f"{what}: {sum(r[what] for r in A)} -> {sum(B[_key(r)][what] for r in A)}")
    for r in A:
        s = B[_key(r)]
        if (r["under"], r["over_tol"], r["success"]) != (s["under"], s["over_tol"],
                                                         s["success"]):
            print(f"  {_key(r)}: {r['success']} ratio {r['ratio']:.3g} err {r['error']:.3g} "
                  f"N {r['steps']} -> {s['success']} ratio {s['ratio']:.3g} err "
                  f"{s['error']:.3g} N {s['steps']}")
    for fixed in (True, False):
        sel = [r for r in A if (r["tol"] is None) == fixed]
        if sel:
            ratio = lambda k: (sum(B[_key(r)][k] for r in sel)  # noqa: E731
                               / max(sum(r[k] for r in sel), 1e-300))
            print(f"{'fixed N' if fixed else 'tolerance'}: nfev x{ratio('nfev'):.3f}, "
                  f"cpu x{ratio('cpu'):.3f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--methods", default=METHODS)
    p.add_argument("--problems", default="scalar,memory,pair")
    p.add_argument("--widths", default="0.02,0.04,0.08")
    p.add_argument("--centres", default="0.5,0.37")
    p.add_argument("--ns", default="8,16,32,64")
    p.add_argument("--tols", default="1e-3,1e-6,1e-9")
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    a = p.parse_args()
    if a.compare:
        compare(*a.compare)
        return
    floats = lambda s: [float(x) for x in s.split(",") if x]  # noqa: E731
    sizes = [(int(n), None) for n in floats(a.ns)] + [(None, t) for t in floats(a.tols)]
    rows = []
    for problem in a.problems.split(","):
        for method in a.methods.split(","):
            cell = []
            for w in floats(a.widths):
                for c in floats(a.centres):
                    for n, tol in sizes:
                        r = run(problem, method, c, w, n, tol)
                        cell.append(r)
                        if r["under"] or r["over_tol"]:
                            print(f"  MISS {_key(r)} ratio {r['ratio']:.3g} at t = "
                                  f"{r['t_worst']:.3g}, err {r['error']:.3g} N {r['steps']}",
                                  flush=True)
            rows += cell
            print(f"{problem} {method}: {len(cell)} solves, "
                  f"{sum(r['success'] for r in cell)} successes, "
                  f"{sum(r['under'] for r in cell)} under, "
                  f"{sum(r['over_tol'] for r in cell)} over-tol, "
                  f"nfev {sum(r['nfev'] for r in cell)}", flush=True)
    print(f"all: {len(rows)} solves, {sum(r['success'] for r in rows)} successes, "
          f"{sum(r['under'] for r in rows)} under (error > {FACTOR:g} x estimate), "
          f"{sum(r['over_tol'] for r in rows)} over-tol (> {TOL_FACTOR:g} x tolerance), "
          f"nfev {sum(r['nfev'] for r in rows)}")
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=0)


if __name__ == "__main__":
    main()
