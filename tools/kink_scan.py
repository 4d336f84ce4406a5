"""Scan solves to a tolerance on data that is not smooth for *misses*: a success whose error
exceeds 10 times the tolerance (``max |y - exact| / (atol + rtol |exact|) > 10``).

The problems (on [0, 1], atol = rtol / 100): a kink of g (``y = |t - a| - int y``), a jump of
K in s (``K = c(s) y``, c = 1 before a and 2 after, g = 1 + t), for a = 0.5, 0.5 + 1e-9,
0.5 + 1e-6, 0.503 and 0.618, and the kink of K in y (``K = -|y - 0.5|``, g = 1 - t, y crosses
0.5 at ln 1.5); rtol 1e-6, 1e-8, 1e-10; methods rk4, radau2, radau3, radau4, gauss2, gauss4:
198 solves.

``--random SEED``: a at 8 places drawn uniformly from (0.05, 0.95) instead (jumps at places
a mesh puts just before a step's first stage, or after its last, which these five do not:
``_adaptive._blind_steps``).

Usage: ``python tools/kink_scan.py [--random SEED] [--json OUT]`` from the worktree root
(prints the misses and the counts); ``--compare A.json B.json`` compares two runs row by row.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from integrallimits import solve_volterra

METHODS = ["rk4", "radau2", "radau3", "radau4", "gauss2", "gauss4"]
RTOLS = [1e-6, 1e-8, 1e-10]
WHERE = [0.5, 0.5 + 1e-9, 0.5 + 1e-6, 0.503, 0.618]
MISS = 10.0


def _jump_kernel(t, s, y, a):
    return (1.0 if s < a else 2.0) * y


def _jump_g(t, a):
    return 1.0 + t


def _jump_exact(t, a):
    t = np.asarray(t, dtype=float)
    ya = -1.0 + 2.0 * math.exp(a)
    return np.where(t <= a, -1.0 + 2.0 * np.exp(t), -0.5 + (ya + 0.5) * np.exp(2.0 * (t - a)))


def _minus(t, s, y, a):
    return -y


def _kink_g(t, a):
    return abs(t - a)


def _kink_exact(t, a):
    t = np.asarray(t, dtype=float)
    ya = (a + 1.0) * math.exp(-a) - 1.0
    return np.where(t <= a, (a + 1.0) * np.exp(-t) - 1.0, 1.0 + (ya - 1.0) * np.exp(-(t - a)))


def _crossing_kernel(t, s, y):
    return -abs(y - 0.5)


def _crossing_g(t):
    return 1.0 - t


def _crossing_exact(t):
    t = np.asarray(t, dtype=float)
    tc = math.log(1.5)
    return 0.5 + np.where(t <= tc, -1.0 + 1.5 * np.exp(-t), 1.0 - np.exp(t - tc))


def cases(where=WHERE):
    for data in ("kink", "jump"):
        for a in where:
            yield data, a
    yield "crossing", None


def one(data, a, method, rtol):
    atol = rtol / 100
    t0 = time.process_time()
    if data == "jump":
        sol = solve_volterra(_jump_kernel, _jump_g, (0.0, 1.0), method=method, rtol=rtol,
                             atol=atol, args=(a,))
        exact = _jump_exact(sol.t, a)
    elif data == "kink":
        sol = solve_volterra(_minus, _kink_g, (0.0, 1.0), method=method, rtol=rtol, atol=atol,
                             args=(a,))
        exact = _kink_exact(sol.t, a)
    else:
        sol = solve_volterra(_crossing_kernel, _crossing_g, (0.0, 1.0), method=method,
                             rtol=rtol, atol=atol)
        exact = _crossing_exact(sol.t)
    cpu = time.process_time() - t0
    y = np.asarray(sol.y, dtype=float)
    ok = np.isfinite(y)
    ratio = (float(np.max(np.abs(y[ok] - exact[ok]) / (atol + rtol * np.abs(exact[ok]))))
             if ok.any() else float("nan"))
    return dict(data=data, a=a, method=method, rtol=rtol, success=bool(sol.success),
                failure=sol.stats.get("failure"), N=int(len(sol.t) - 1), ratio=ratio,
                nfev=int(sol.stats.get("nfev", 0)), cpu=cpu,
                estimate=float(sol.stats.get("max_error_estimate", float("nan"))))


def key(r):
    return (r["data"], r["a"], r["method"], r["rtol"])


def label(r):
    a = "" if r["a"] is None else f"@{r['a']!r}"
    return f"{r['data']}{a} {r['method']} {r['rtol']:g}"


def scan(out=None, where=WHERE):
    rows = []
    for data, a in cases(where):
        for method in METHODS:
            for rtol in RTOLS:
                r = one(data, a, method, rtol)
                rows.append(r)
                flag = "MISS" if r["success"] and r["ratio"] > MISS else ""
                print(f"{label(r):40s} ok={r['success']!s:5s} {str(r['failure']):12s} "
                      f"N={r['N']:6d} ratio={r['ratio']:9.3g} nfev={r['nfev']:9d} "
                      f"cpu={r['cpu']:.2f} {flag}", flush=True)
    misses = [r for r in rows if r["success"] and r["ratio"] > MISS]
    print(f"solves {len(rows)}, successes {sum(r['success'] for r in rows)}, "
          f"misses (success, error > {MISS:g} x tolerance) {len(misses)}; "
          f"failures by kind {_kinds(rows)}; nfev {sum(r['nfev'] for r in rows)}")
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


def _kinds(rows):
    kinds = {}
    for r in rows:
        if not r["success"]:
            kinds[str(r["failure"])] = kinds.get(str(r["failure"]), 0) + 1
    return kinds


def compare(a, b):
    A = {key(r): r for r in json.load(open(a))}
    B = {key(r): r for r in json.load(open(b))}
    miss = lambda r: r["success"] and r["ratio"] > MISS
    print(f"misses {sum(map(miss, A.values()))} -> {sum(map(miss, B.values()))}")
    for k in A:
        ra, rb = A[k], B[k]
        if miss(ra) != miss(rb) or ra["success"] != rb["success"]:
            print(f"{label(ra):40s} {ra['success']!s:5s} {ra['ratio']:9.3g} N={ra['N']:6d} -> "
                  f"{rb['success']!s:5s} {rb['failure']!s:10s} {rb['ratio']:9.3g} N={rb['N']:6d}"
                  f" nfev x{rb['nfev'] / max(ra['nfev'], 1):.2f}")
    ratios = [B[k]["nfev"] / A[k]["nfev"] for k in A if A[k]["nfev"]]
    print(f"nfev ratio {min(ratios):.2f}-{max(ratios):.2f}, total "
          f"{sum(r['nfev'] for r in B.values()) / sum(r['nfev'] for r in A.values()):.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--random", type=int)
    ns = p.parse_args()
    if ns.compare:
        compare(*ns.compare)
    else:
        scan(ns.json, WHERE if ns.random is None else
             np.random.default_rng(ns.random).uniform(0.05, 0.95, 8).tolist())
