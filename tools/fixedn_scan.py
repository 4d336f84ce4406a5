"""Scan fixed-mesh solves (``n_steps=N``) of data that is not smooth for *misses*: a success
whose largest error exceeds 20 times its largest error estimate (and 1e-13), as
``tools/trust_scan.py`` counts them.

The problems (on [0, 1]), for a = 0.5, 0.5 + 1e-9, 0.503 and 0.618:

* ``jump-s``: a jump of K in s, ``y = 1 + t + int c(s) y``, c = 1 before a and 2 after;
* ``kink-s``: a kink of K in s, the same with c(s) = 1 + |s - a| (reference: an ODE solve);
* ``jump-t``: a jump of K in t (of y), ``y = 1 + c(t) int y``, c = 1 before a and 2 after;
* ``kink-g``: a kink of g, ``y = |t - a| - int y``;

and ``crossing``, a kink of K in y (``K = -|y - 0.5|``, g = 1 - t, y crosses 0.5 at ln 1.5);
methods rk4, radau1-4, gauss2-4, trapezoid, gregory4, gregory6; N = 4, 6, 8, 12, 16, 24, 32,
48, 64, 128 (at least the method's fewest steps).

Usage: ``PYTHONPATH=<worktree> python tools/fixedn_scan.py [--json OUT]`` (prints the misses
and the counts); ``--compare A.json B.json`` compares two runs row by row (misses, successes
lost and gained, estimates changed, kernel evaluations).
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from integrallimits import METHODS, solve_volterra
from kink_scan import _crossing_exact, _crossing_g, _crossing_kernel, _kink_g, _kinds, _minus
from kink_scan import _jump_exact as _jump_s_exact
from kink_scan import _jump_g as _one_plus_t
from kink_scan import _jump_kernel as _jump_s_kernel
from kink_scan import _kink_exact as _kink_g_exact

SCAN_METHODS = ["rk4", "radau1", "radau2", "radau3", "radau4", "gauss2", "gauss3", "gauss4",
                "trapezoid", "gregory4", "gregory6"]
NS = [4, 6, 8, 12, 16, 24, 32, 48, 64, 128]
WHERE = [0.5, 0.5 + 1e-9, 0.503, 0.618]
FACTOR, FLOOR = 20.0, 1e-13


def _kink_s_kernel(t, s, y, a):
    return (1.0 + abs(s - a)) * y


_REFERENCES = {}


def _kink_s_exact(t, a):
    """y' = 1 + (1 + |t - a|) y, y(0) = 1, by an ODE solve in two pieces (split at a)."""
    from scipy.integrate import solve_ivp
    if a not in _REFERENCES:
        f = lambda t, y: 1.0 + (1.0 + abs(t - a)) * y   # noqa: E731
        left = solve_ivp(f, (0.0, a), [1.0], method="DOP853", rtol=1e-13, atol=1e-15,
                         dense_output=True)
        right = solve_ivp(f, (a, 1.0), left.y[:, -1], method="DOP853", rtol=1e-13,
                          atol=1e-15, dense_output=True)
        _REFERENCES[a] = (left.sol, right.sol)
    left, right = _REFERENCES[a]
    t = np.asarray(t, dtype=float)
    return np.where(t <= a, left(np.minimum(t, a))[0], right(np.maximum(t, a))[0])


def _jump_t_kernel(t, s, y, a):
    return (1.0 if t < a else 2.0) * y


def _one(t, a):
    return 1.0


def _jump_t_exact(t, a):
    """y = 1 + c(t) I, I' = y: I = e^t - 1 before a, then I' = 1 + 2 I."""
    t = np.asarray(t, dtype=float)
    ia = math.exp(a) - 1.0
    after = -0.5 + (ia + 0.5) * np.exp(2.0 * (t - a))
    return np.where(t < a, np.exp(t), 1.0 + 2.0 * after)


DATA = {"jump-s": (_jump_s_kernel, _one_plus_t, _jump_s_exact),
        "kink-s": (_kink_s_kernel, _one_plus_t, _kink_s_exact),
        "jump-t": (_jump_t_kernel, _one, _jump_t_exact),
        "kink-g": (_minus, _kink_g, _kink_g_exact)}


def cases():
    for data in DATA:
        for a in WHERE:
            yield data, a
    yield "crossing", None


def one(data, a, method, n):
    t0 = time.process_time()
    if data == "crossing":
        sol = solve_volterra(_crossing_kernel, _crossing_g, (0.0, 1.0), method=method,
                             n_steps=n)
        exact = _crossing_exact(sol.t)
    else:
        K, g, f = DATA[data]
        sol = solve_volterra(K, g, (0.0, 1.0), method=method, n_steps=n, args=(a,))
        exact = f(sol.t, a)
    cpu = time.process_time() - t0
    y = np.asarray(sol.y, dtype=float)
    error = float(np.max(np.abs(y - exact))) if y.size else math.nan
    estimate = float(sol.stats.get("max_error_estimate", math.nan))
    miss = bool(sol.success and not (error <= FACTOR * estimate or error <= FLOOR))
    return dict(data=data, a=a, method=method, n=n, success=bool(sol.success),
                failure=sol.stats.get("failure"), error=error, estimate=estimate, miss=miss,
                order=float(sol.stats.get("estimate_order", math.nan)),
                nfev=int(sol.stats.get("nfev", 0)), cpu=cpu, message=sol.message)


def key(r):
    return (r["data"], r["a"], r["method"], r["n"])


def label(r):
    a = "" if r["a"] is None else f"@{r['a']!r}"
    return f"{r['data']}{a} {r['method']} N={r['n']}"


def scan(out=None, methods=SCAN_METHODS, ns=NS):
    rows = []
    for data, a in cases():
        for method in methods:
            for n in ns:
                if n < METHODS[method].min_steps:
                    continue
                r = one(data, a, method, n)
                rows.append(r)
                if r["miss"]:
                    print(f"MISS {label(r):36s} error {r['error']:.3g} estimate "
                          f"{r['estimate']:.3g} ratio {r['error'] / r['estimate']:.3g} "
                          f"order {r['order']:.3g}", flush=True)
    print(summary(rows))
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


def summary(rows):
    out = []
    for data in dict.fromkeys(r["data"] for r in rows):
        sel = [r for r in rows if r["data"] == data]
        out.append(f"{data}: {len(sel)} solves, {sum(r['success'] for r in sel)} successes, "
                   f"{sum(r['miss'] for r in sel)} misses; failures by kind {_kinds(sel)}; "
                   f"nfev {sum(r['nfev'] for r in sel)}, cpu {sum(r['cpu'] for r in sel):.1f} s")
    out.append(f"all: {len(rows)} solves, {sum(r['success'] for r in rows)} successes, "
               f"{sum(r['miss'] for r in rows)} misses")
    return "\n".join(out)


def compare(a, b):
    A = {key(r): r for r in json.load(open(a))}
    B = {key(r): r for r in json.load(open(b))}
    print(f"misses {sum(r['miss'] for r in A.values())} -> "
          f"{sum(r['miss'] for r in B.values() if key(r) in A)}")
    raised = []
    for k, ra in A.items():
        rb = B.get(k)
        if rb is None:
            continue
        what = None
        if ra["miss"] != rb["miss"]:
            what = "MISS" if rb["miss"] else "fixed"
        elif ra["success"] != rb["success"]:
            what = "lost" if ra["success"] else "gained"
        elif ra["success"] and ra["estimate"] != rb["estimate"]:
            raised.append(rb["estimate"] / ra["estimate"])
            what = "estimate"
        if what:
            print(f"{what:8s} {label(ra):36s} {ra['success']!s:5s} err {ra['error']:.3g} "
                  f"est {ra['estimate']:.3g} -> {rb['success']!s:5s} {rb['failure']!s:10s} "
                  f"err {rb['error']:.3g} est {rb['estimate']:.3g} "
                  f"nfev x{rb['nfev'] / max(ra['nfev'], 1):.2f}")
    both = [(ra, B[k]) for k, ra in A.items() if k in B]
    lost = sum(ra["success"] and not rb["success"] for ra, rb in both)
    lost_right = sum(ra["success"] and not ra["miss"] and not rb["success"] for ra, rb in both)
    gained = sum(rb["success"] and not ra["success"] for ra, rb in both)
    print(f"successes lost {lost} ({lost_right} of them right: error within 20 x the "
          f"estimate), gained {gained}; estimates changed {len(raised)}"
          + (f" (x{min(raised):.3g}-{max(raised):.3g})" if raised else ""))
    ratios = [B[k]["nfev"] / A[k]["nfev"] for k in A if k in B and A[k]["nfev"]]
    print(f"nfev ratio {min(ratios):.2f}-{max(ratios):.2f}, total "
          f"{sum(B[k]['nfev'] for k in A if k in B) / sum(r['nfev'] for r in A.values()):.3f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--methods", default=",".join(SCAN_METHODS))
    p.add_argument("--ns", default=",".join(map(str, NS)))
    ns = p.parse_args()
    if ns.compare:
        compare(*ns.compare)
    else:
        scan(ns.json, ns.methods.split(","), [int(v) for v in ns.ns.split(",")])
