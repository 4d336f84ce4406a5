"""Scan solves on data that oscillate at the mesh's period (aliasing) for *misses*: a success
whose error, at the mesh points or between them (the dense output at 2001 points), exceeds 20
times its largest error estimate (and 1e-13).

The problems, on [0, 1], w = 2 pi f for f = 8, 64, 256, 1024:

* ``g``: y = g - int y ds, exact sin(w t), g = sin(w t) + (1 - cos(w t)) / w: the nested
  meshes of 2^k steps sample the zeros of sin, so every mesh value is exact while the values
  between them are not (the trapezoid rule at rtol 1e-6 was a success on 8 steps with its
  dense output 5e-3 off);
* ``K``: y = 1 + int cos(w s) y ds, exact exp(sin(w t) / w): every mesh point samples cos = 1
  and the solve computes e^t (gregory6 on 256 steps at f = 256, an error of 1.72 for an
  estimate of 7.8e-3).

Each on N = 8, 16, 64, 256 steps with ``--methods`` (default: all of METHODS but the
rectangle rules).  Usage, from the worktree root: ``python tools/alias_scan.py [--methods
a,b] [--json OUT]`` (prints each solve and the count of misses); ``--compare A.json B.json``
compares two runs row by row.
"""
from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from numba import njit

from integrallimits import METHODS, solve_volterra

FREQUENCIES = [8, 64, 256, 1024]
STEPS = [8, 16, 64, 256]
MISS = 20.0


@njit
def _minus(t, s, y):
    return -y


@njit
def _cos(t, s, y, w):
    return np.cos(w * s) * y


def problem(kind, f):
    """(K, args, g, exact) of the problem ``kind`` ("g" or "K") at the frequency ``f``."""
    w = 2.0 * np.pi * f
    if kind == "g":
        return (_minus, None, lambda t: np.sin(w * t) + (1.0 - np.cos(w * t)) / w,
                lambda t: np.sin(w * t))
    return _cos, (w,), lambda t: np.ones_like(t), lambda t: np.exp(np.sin(w * t) / w)


def one(kind, f, method, n):
    """One solve's row: success, errors at the mesh and between, largest estimate, nfev."""
    K, args, g, exact = problem(kind, f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve_volterra(K, g, (0.0, 1.0), n, method=method, args=args)
    t = np.asarray(sol.t)
    mesh = float(np.max(np.abs(np.asarray(sol.y).ravel() - exact(t)))) if t.size else np.nan
    between = np.nan
    if t.size > 1:
        points = np.linspace(t[0], t[-1], 2001)
        between = float(np.max(np.abs(np.asarray(sol(points)).ravel() - exact(points))))
    estimate = float(np.max(sol.error_estimate)) if t.size else np.nan
    return dict(kind=kind, f=f, method=method, N=n, success=bool(sol.success), mesh=mesh,
                between=between, estimate=estimate, nfev=int(sol.stats.get("nfev", 0)),
                kept=int(t.size))


def missed(r):
    return r["success"] and max(r["mesh"], r["between"]) > MISS * max(r["estimate"], 1e-13)


def label(r):
    return f"{r['kind']} f={r['f']} {r['method']} N={r['N']}"


def scan(methods, out=None):
    rows = []
    for kind in ("g", "K"):
        for f in FREQUENCIES:
            for method in methods:
                for n in STEPS:
                    r = one(kind, f, method, n)
                    rows.append(r)
                    print(f"{label(r):34s} ok={r['success']!s:5s} mesh={r['mesh']:9.3g} "
                          f"between={r['between']:9.3g} estimate={r['estimate']:9.3g} "
                          f"nfev={r['nfev']:9d} {'MISS' if missed(r) else ''}", flush=True)
    print(f"solves {len(rows)}, successes {sum(r['success'] for r in rows)}, misses (success, "
          f"error over {MISS:g} x the estimate) {sum(map(missed, rows))}; nfev "
          f"{sum(r['nfev'] for r in rows)}")
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


def compare(a, b):
    key = lambda r: (r["kind"], r["f"], r["method"], r["N"])
    A = {key(r): r for r in json.load(open(a))}
    B = {key(r): r for r in json.load(open(b))}
    common = [k for k in A if k in B]
    print(f"misses {sum(missed(A[k]) for k in common)} -> {sum(missed(B[k]) for k in common)} "
          f"({len(common)} rows in both)")
    for k in common:
        ra, rb = A[k], B[k]
        if missed(ra) != missed(rb) or ra["success"] != rb["success"]:
            print(f"{label(ra):34s} {ra['success']!s:5s} -> {rb['success']!s:5s}  errors "
                  f"{max(ra['mesh'], ra['between']):.3g} / estimate {ra['estimate']:.3g} -> "
                  f"{max(rb['mesh'], rb['between']):.3g} / {rb['estimate']:.3g}")
    total = sum(A[k]["nfev"] for k in common)
    if total:
        print(f"nfev total x{sum(B[k]['nfev'] for k in common) / total:.3f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--methods", default=",".join(m for m in METHODS if "rectangle" not in m))
    ns = p.parse_args()
    if ns.compare:
        compare(*ns.compare)
    else:
        scan(ns.methods.split(","), ns.json)
