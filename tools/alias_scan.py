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
rectangle rules).

``--local``: the oscillation confined to a part of the interval, by a smooth bump b (zero
outside [a, a + width], C-infinity) or a smooth step (0 before a, 1 after a + width), exact
solutions known:

* ``g@``: y = g - int y ds with y = 1 + (sin(w t) b(t) / w)', g = y + t + sin(w t) b(t) / w;
* ``K@``: y = 1 + int c(s) y ds with c = (sin(w s) b(s) / w)', y = exp(sin(w t) b(t) / w);

for f = 256, 1024, 3072 (1024 * 3: the divisions into 3 at one phase too), the places
LOCAL_PLACES, methods LOCAL_METHODS, N = 8 ... 1024 (``--ns``).  ``--offsets``: the global
problems with f = m N for m = 1 ... 48, N = 16 and 64 (cycles a step that may vanish at the
probe's points: m span / (p + 1) an integer).

Usage, from the worktree root: ``python tools/alias_scan.py [--local | --offsets] [--methods
a,b] [--ns 8,16] [--quiet] [--json OUT]`` (prints each solve, or with ``--quiet`` the misses,
and the count of misses); ``--compare A.json B.json`` compares two runs row by row.
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


@njit
def _local_c(t, s, y, w, a, width, step):
    return _c(s, w, a, width, step) * y


@njit
def _bump(t, a, width, step):
    """(b, b') of the bump (``step`` 0) or smooth step (1) on [a, a + width] at t."""
    u = (t - a) / width
    if u <= 0.0:
        return 0.0, 0.0
    if u >= 1.0:
        return (1.0, 0.0) if step else (0.0, 0.0)
    if step:
        e0, e1 = np.exp(-1.0 / u), np.exp(-1.0 / (1.0 - u))
        d0, d1 = e0 / u ** 2, -e1 / (1.0 - u) ** 2
        b = e0 / (e0 + e1)
        return b, (d0 * (e0 + e1) - e0 * (d0 + d1)) / (e0 + e1) ** 2 / width
    q = u * (1.0 - u)
    b = np.exp(4.0 - 1.0 / q)
    return b, b * (1.0 - 2.0 * u) / q ** 2 / width


@njit
def _c(s, w, a, width, step):
    b, db = _bump(s, a, width, step)
    return np.cos(w * s) * b + np.sin(w * s) * db / w


_vbump = np.vectorize(lambda t, a, width, step: _bump(float(t), a, width, step)[0])
_vdbump = np.vectorize(lambda t, a, width, step: _bump(float(t), a, width, step)[1])

#: (a, width, step) of the localized problems: bumps on [0.3, 0.45], [0.6, 0.65],
#: [0.05, 0.1], [0.9, 0.92] and a step from 0.8 to 0.85 (oscillating only after 0.8).
LOCAL_PLACES = [(0.3, 0.15, 0), (0.6, 0.05, 0), (0.05, 0.05, 0), (0.9, 0.02, 0), (0.8, 0.05, 1)]
LOCAL_METHODS = ["trapezoid", "radau1", "radau2", "radau3", "radau4", "gauss2", "gregory4",
                 "gregory6", "gregory8", "rk4"]
LOCAL_FREQUENCIES = [256, 1024, 3072]
LOCAL_STEPS = [8, 16, 32, 64, 128, 256, 512, 1024]


def problem(kind, f, where=None):
    """(K, args, g, exact) of the problem ``kind`` ("g" or "K") at the frequency ``f``, with
    ``where`` (a, width, step) localized by a bump or step (``--local``)."""
    w = 2.0 * np.pi * f
    if where is not None:
        a, width, step = where
        b = lambda t: _vbump(t, a, width, step)            # noqa: E731
        db = lambda t: _vdbump(t, a, width, step)          # noqa: E731
        if kind == "g":
            y = lambda t: 1.0 + np.cos(w * t) * b(t) + np.sin(w * t) * db(t) / w  # noqa: E731
            return (_minus, None, lambda t: y(t) + t + np.sin(w * t) * b(t) / w, y)
        return (_local_c, (w, float(a), float(width), int(step)), lambda t: np.ones_like(t),
                lambda t: np.exp(np.sin(w * t) * b(t) / w))
    if kind == "g":
        return (_minus, None, lambda t: np.sin(w * t) + (1.0 - np.cos(w * t)) / w,
                lambda t: np.sin(w * t))
    return _cos, (w,), lambda t: np.ones_like(t), lambda t: np.exp(np.sin(w * t) / w)


def one(kind, f, method, n, where=None):
    """One solve's row: success, errors at the mesh and between, largest estimate, nfev."""
    K, args, g, exact = problem(kind, f, where)
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
                kept=int(t.size), where=None if where is None else list(where))


def missed(r):
    return r["success"] and max(r["mesh"], r["between"]) > MISS * max(r["estimate"], 1e-13)


def label(r):
    where = r.get("where")
    at = "" if where is None else f"@{where[0]:g}+{where[1]:g}{'s' if where[2] else ''}"
    return f"{r['kind']}{at} f={r['f']} {r['method']} N={r['N']}"


def cases(mode, methods, ns):
    """(kind, f, method, N, where) of the scan ``mode`` ("mesh", "local", "offsets")."""
    for kind in ("g", "K"):
        if mode == "mesh":
            for f in FREQUENCIES:
                for method in methods:
                    for n in ns or STEPS:
                        yield kind, f, method, n, None
        elif mode == "offsets":
            for n in ns or [16, 64]:
                for m in range(1, 49):
                    for method in methods:
                        if n >= METHODS[method].min_steps:
                            yield kind, m * n, method, n, None
        else:
            for where in LOCAL_PLACES:
                for f in LOCAL_FREQUENCIES:
                    for method in methods:
                        for n in ns or LOCAL_STEPS:
                            if n >= METHODS[method].min_steps:
                                yield kind, f, method, n, where


def scan(methods, out=None, mode="mesh", ns=None, quiet=False):
    rows = []
    for kind, f, method, n, where in cases(mode, methods, ns):
        r = one(kind, f, method, n, where)
        rows.append(r)
        if not quiet or missed(r):
            print(f"{label(r):44s} ok={r['success']!s:5s} mesh={r['mesh']:9.3g} "
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
    key = lambda r: (r["kind"], r["f"], r["method"], r["N"], str(r.get("where")))
    A = {key(r): r for r in json.load(open(a))}
    B = {key(r): r for r in json.load(open(b))}
    common = [k for k in A if k in B]
    print(f"misses {sum(missed(A[k]) for k in common)} -> {sum(missed(B[k]) for k in common)} "
          f"({len(common)} rows in both)")
    for k in common:
        ra, rb = A[k], B[k]
        if missed(ra) != missed(rb) or ra["success"] != rb["success"]:
            print(f"{label(ra):44s} {ra['success']!s:5s} -> {rb['success']!s:5s}  errors "
                  f"{max(ra['mesh'], ra['between']):.3g} / estimate {ra['estimate']:.3g} -> "
                  f"{max(rb['mesh'], rb['between']):.3g} / {rb['estimate']:.3g}")
    total = sum(A[k]["nfev"] for k in common)
    if total:
        print(f"nfev total x{sum(B[k]['nfev'] for k in common) / total:.3f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--methods")
    p.add_argument("--ns")
    p.add_argument("--local", action="store_true")
    p.add_argument("--offsets", action="store_true")
    p.add_argument("--quiet", action="store_true", help="print the misses only")
    ns = p.parse_args()
    if ns.compare:
        compare(*ns.compare)
    else:
        mode = "local" if ns.local else "offsets" if ns.offsets else "mesh"
        methods = ns.methods.split(",") if ns.methods else LOCAL_METHODS if mode != "mesh" \
            else [m for m in METHODS if "rectangle" not in m]
        scan(methods, ns.json, mode, [int(v) for v in ns.ns.split(",")] if ns.ns else None,
             ns.quiet)
