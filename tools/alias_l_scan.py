"""Scan the aliasing check of fixed-N solves over the kernel's size L: y = g + int K ds on
[0, 1] whose forcing g carries an oscillation of w = 2 pi f (f = 3072: 24 to 192 cycles a step
on N = 128 ... 16, every mesh point at one phase) under a bump b on [a, a + width] (C-infinity,
:func:`tools.alias_scan._bump`), exact y = 1 + (sin(w t) b(t) / w)' = 1 + F', the kernels

* ``lin``: K = -L y (g = y + L (t + F));
* ``cos``: K = -L cos(t - s) y (g = y + L (sin t + F - int_0^t sin(t - s) F ds));
* ``sq``: K = -L y^2 (g = y + L (t + 2 F + int_0^t F'^2 ds)),

the integrals of F taken on 200001 points of the bump (to ~1e-10).  A decaying kernel damps
an error made at s by about exp(-L (t - s)) at t.  Counts *misses* (a success whose error at
the mesh points or between them, the dense output at 2001 points, exceeds 20 times its largest
estimate and 1e-7) and *honest* successes (the others).

Usage, from the worktree root: ``python tools/alias_l_scan.py [--ls 0.01,1] [--ns 16,32]
[--methods a,b] [--kernels lin,cos] [--places 0.6+0.05,0.3+0.15] [--quiet] [--json OUT]``;
``--compare A.json B.json`` compares two runs row by row.
"""
from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from numba import njit

from integrallimits import solve_volterra

LS = [0.01, 0.1, 1.0, 10.0, 50.0, 200.0]
STEPS = [16, 32, 64, 128]
METHODS = ["radau1", "radau2", "radau3", "gauss1", "gauss2", "gauss3", "gregory4"]
KERNELS = ["lin", "cos", "sq"]
PLACES = [(0.6, 0.05)]
F = 3072
MISS, FLOOR = 20.0, 1e-7


@njit(cache=True)
def _lin(t, s, y, L):
    return -L * y


@njit(cache=True)
def _cos(t, s, y, L):
    return -L * np.cos(t - s) * y


@njit(cache=True)
def _sq(t, s, y, L):
    return -L * y * y


def _bump(t, a, width):
    """(b, b') of the bump exp(4 - 1 / (u (1 - u))), u = (t - a) / width (0 outside)."""
    u = (np.asarray(t, dtype=float) - a) / width
    inside = (u > 0.0) & (u < 1.0)
    q = np.where(inside, u * (1.0 - u), 0.25)
    b = np.where(inside, np.exp(4.0 - 1.0 / q), 0.0)
    return b, b * (1.0 - 2.0 * u) / q ** 2 / width


def problem(kernel, L, a, width, f=F):
    """(K, g, exact) of the scan's problem."""
    w = 2.0 * np.pi * f

    def big_f(t):
        return np.sin(w * t) * _bump(t, a, width)[0] / w

    def exact(t):
        b, db = _bump(t, a, width)
        return 1.0 + np.cos(w * t) * b + np.sin(w * t) * db / w

    s = np.linspace(a, a + width, 200001)

    def cumulative(v):
        c = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(s))))
        return lambda t: np.interp(t, s, c)

    if kernel == "lin":
        return _lin, lambda t: exact(t) + L * (t + big_f(t)), exact
    if kernel == "cos":
        cf, sf = cumulative(np.cos(s) * big_f(s)), cumulative(np.sin(s) * big_f(s))
        return _cos, lambda t: exact(t) + L * (np.sin(t) + big_f(t) - np.sin(t) * cf(t)
                                               + np.cos(t) * sf(t)), exact
    q = cumulative((exact(s) - 1.0) ** 2)
    return _sq, lambda t: exact(t) + L * (t + 2.0 * big_f(t) + q(t)), exact


def one(kernel, L, method, n, place):
    K, g, exact = problem(kernel, L, *place)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve_volterra(K, g, (0.0, 1.0), n, method=method, args=(L,))
    t = np.asarray(sol.t)
    mesh = float(np.max(np.abs(np.asarray(sol.y).ravel() - exact(t)))) if t.size else np.nan
    between = np.nan
    if t.size > 1:
        points = np.linspace(t[0], t[-1], 2001)
        between = float(np.max(np.abs(np.asarray(sol(points)).ravel() - exact(points))))
    estimate = float(np.max(sol.error_estimate)) if t.size else np.nan
    return dict(kernel=kernel, L=L, method=method, N=n, place=list(place),
                success=bool(sol.success), mesh=mesh, between=between, estimate=estimate,
                nfev=int(sol.stats.get("nfev", 0)), kept=int(t.size))


def missed(r):
    err = max(r["mesh"], r["between"])
    return r["success"] and err > MISS * r["estimate"] and err > FLOOR


def honest(r):
    return r["success"] and not missed(r)


def label(r):
    return f"{r['kernel']}@{r['place'][0]:g}+{r['place'][1]:g} L={r['L']:g} {r['method']} " \
        f"N={r['N']}"


def summary(rows):
    return f"solves {len(rows)}, misses {sum(map(missed, rows))}, honest successes " \
        f"{sum(map(honest, rows))}, nfev {sum(r['nfev'] for r in rows)}"


def scan(ls, ns, methods, kernels, places, out=None, quiet=False):
    rows = []
    for place in places:
        for kernel in kernels:
            for L in ls:
                for method in methods:
                    for n in ns:
                        r = one(kernel, L, method, n, place)
                        rows.append(r)
                        if not quiet or missed(r):
                            print(f"{label(r):40s} ok={r['success']!s:5s} mesh={r['mesh']:9.3g}"
                                  f" between={r['between']:9.3g} estimate="
                                  f"{r['estimate']:9.3g} {'MISS' if missed(r) else ''}",
                                  flush=True)
    print(summary(rows))
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


def compare(a, b):
    key = lambda r: (r["kernel"], r["L"], r["method"], r["N"], str(r["place"]))  # noqa: E731
    A = {key(r): r for r in json.load(open(a))}
    B = {key(r): r for r in json.load(open(b))}
    common = [k for k in A if k in B]
    print("before:", summary([A[k] for k in common]))
    print("after: ", summary([B[k] for k in common]))
    for k in common:
        ra, rb = A[k], B[k]
        if missed(ra) != missed(rb) or ra["success"] != rb["success"]:
            print(f"{label(ra):40s} {ra['success']!s:5s} -> {rb['success']!s:5s}  errors "
                  f"{max(ra['mesh'], ra['between']):.3g} / estimate {ra['estimate']:.3g} -> "
                  f"{max(rb['mesh'], rb['between']):.3g} / {rb['estimate']:.3g}"
                  f"{'  MISS' if missed(rb) else ''}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--ls")
    p.add_argument("--ns")
    p.add_argument("--methods")
    p.add_argument("--kernels")
    p.add_argument("--places")
    p.add_argument("--quiet", action="store_true", help="print the misses only")
    o = p.parse_args()
    if o.compare:
        compare(*o.compare)
    else:
        def floats(v, d):
            return [float(x) for x in v.split(",")] if v else d
        places = [tuple(float(x) for x in v.split("+")) for v in o.places.split(",")] \
            if o.places else PLACES
        scan(floats(o.ls, LS), [int(x) for x in o.ns.split(",")] if o.ns else STEPS,
             o.methods.split(",") if o.methods else METHODS,
             o.kernels.split(",") if o.kernels else KERNELS, places, o.json, o.quiet)
