"""Scan :func:`~integrallimits.solve_fredholm` on data with a jump or a kink, at a node of the
rule (a = 1/2: the middle node of odd Gauss-Legendre, Gauss-Lobatto and Clenshaw-Curtis rules,
a node of every even composite rule) and between nodes (a = 0.3 + 1e-3 pi), for the quality of
the error estimate: the ratio of the largest error (at the nodes and at 2001 points of the
Nyström interpolant) to the largest estimate of each success (a *miss* over 20).

The problems on [0, 1] (args (c, a)), each with its exact solution:

* ``jump-s``: K = c (s < a) y, g = 1 - c a, y = 1;
* ``kink-s``: K = c |s - a| y, g = 1 - c (a^2 + (1 - a)^2) / 2, y = 1;
* ``jump-x``: K = c (x < a) y, g = 1 - c (x < a), y = 1;
* ``jump-g``: K = c x s y, g = (x >= a), y = g + c x A, A = (1 - a^2) / 2 / (1 - c / 3);
* ``kink-g``: K = c x s y, g = |x - a|, y = g + c x A, A = (a^3 / 3 - a / 2 + 1 / 3) /
  (1 - c / 3).

Usage: ``PYTHONPATH=<worktree> python tools/fredholm_jump_scan.py [--json OUT]`` (prints the
rows whose ratio exceeds 5 and the counts); ``--compare A.json B.json``: ratios, successes and
nfev of two runs.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings

import numpy as np

from integrallimits import solve_fredholm

RULES = ["gauss-legendre", "clenshaw-curtis", "gauss-lobatto", "trapezoid", "simpson"]
NODES = [5, 8, 11, 16, 17, 32]
PLACES = [0.5, 0.3 + 1e-3 * math.pi]
C = 0.5
MISS, POINTS = 20.0, 2001


def k_jump_s(x, s, y, c, a):
    return c * (s < a) * y


def k_kink_s(x, s, y, c, a):
    return c * abs(s - a) * y


def k_jump_x(x, s, y, c, a):
    return c * (x < a) * y


def k_xs(x, s, y, c, a):
    return c * x * s * y


def _step(x, a):
    return (np.asarray(x, dtype=float) >= a).astype(float)


def cases():
    """(name, K, g, exact(x, c, a))"""
    one = lambda x, c, a: np.ones_like(np.asarray(x, dtype=float))    # noqa: E731
    yield "jump-s", k_jump_s, lambda x, c, a: 1.0 - c * a + 0.0 * x, one
    yield ("kink-s", k_kink_s,
           lambda x, c, a: 1.0 - c * (a * a + (1.0 - a) ** 2) / 2.0 + 0.0 * x, one)
    yield "jump-x", k_jump_x, lambda x, c, a: 1.0 - c * (x < a), one
    yield ("jump-g", k_xs, lambda x, c, a: 1.0 * (x >= a),
           lambda x, c, a: _step(x, a) + c * np.asarray(x) * (1 - a * a) / 2 / (1 - c / 3))
    yield ("kink-g", k_xs, lambda x, c, a: abs(x - a),
           lambda x, c, a: np.abs(np.asarray(x) - a) + c * np.asarray(x) *
           (a ** 3 / 3 - a / 2 + 1 / 3) / (1 - c / 3))


def run():
    rows = []
    for name, K, g, exact in cases():
        for a in PLACES:
            for rule in RULES:
                for n in dict.fromkeys(n + n % 2 if rule == "simpson" else n for n in NODES):
                    c0 = time.process_time()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        sol = solve_fredholm(K, g, (0.0, 1.0), n, rule, args=(C, a))
                    cpu = time.process_time() - c0
                    x = np.asarray(sol.x)
                    mesh = float(np.max(np.abs(np.asarray(sol.y) - exact(x, C, a))))
                    pts = np.linspace(0.0, 1.0, POINTS)
                    between = float(np.max(np.abs(np.asarray(sol(pts)).reshape(-1) -
                                                  exact(pts, C, a))))
                    est = float(sol.stats.get("max_error_estimate", math.nan))
                    err = max(mesh, between)
                    r = dict(problem=name, a=a, rule=rule, n=n, success=bool(sol.success),
                             mesh=mesh, between=between, estimate=est,
                             ratio=err / max(est, 1e-300) if sol.success else math.nan,
                             nfev=int(sol.stats.get("nfev", 0)), cpu=cpu,
                             companion=str(sol.stats.get("error_estimate")))
                    rows.append(r)
                    if sol.success and r["ratio"] > 5.0:
                        print(f"  {name} a={a:.6g} {rule} n={n}: error {mesh:.3g} (between "
                              f"{between:.3g}), estimate {est:.3g}, ratio {r['ratio']:.3g} "
                              f"({r['companion']})", flush=True)
    return rows


def summary(rows):
    ok = [r for r in rows if r["success"]]
    ratios = np.array([r["ratio"] for r in ok])
    return (f"{len(rows)} solves, {len(ok)} successes; ratio error/estimate > 20: "
            f"{int(np.sum(ratios > MISS))}, > 5: {int(np.sum(ratios > 5))}, > 2: "
            f"{int(np.sum(ratios > 2))}; largest {np.max(ratios):.3g}; nfev "
            f"{sum(r['nfev'] for r in rows)}")


def compare(a, b):
    key = lambda r: (r["problem"], r["a"], r["rule"], r["n"])   # noqa: E731
    A, B = {key(r): r for r in a}, {key(r): r for r in b}
    for k in A:
        ra, rb = A[k], B.get(k)
        if rb is None:
            continue
        if ra["success"] != rb["success"] or abs(math.log((ra["ratio"] or 1) /
                                                         (rb["ratio"] or 1))) > 0.1 \
                if ra["success"] and rb["success"] else ra["success"] != rb["success"]:
            print(f"  {k}: success {ra['success']} -> {rb['success']}, ratio "
                  f"{ra['ratio']:.3g} -> {rb['ratio']:.3g}, nfev {ra['nfev']} -> {rb['nfev']} "
                  f"({ra['companion']} -> {rb['companion']})")
    print("A:", summary(a))
    print("B:", summary(b))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    a = p.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as fa, open(a.compare[1]) as fb:
            compare(json.load(fa), json.load(fb))
        return 0
    import integrallimits
    print(integrallimits.__file__, flush=True)
    rows = run()
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
