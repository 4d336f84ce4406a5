"""Scan fixed-mesh solves for *wrong successes*: a success whose largest error exceeds 20
times its largest error estimate (and 1e-13); a kept value at or past a blow-up counts as an
infinite error.  (Also counted, as information: successes with a point whose error exceeds
20 times that point's own estimate, and successes *without a digit*: a point whose error or
estimate exceeds half the solution's largest size so far, the solver's own bound.)

Usage: ``PYTHONPATH=<worktree> python tools/trust_scan.py [SET ...] [--json OUT]`` with SET
among ``oscillatory``, ``blowup``, ``stiff``, ``library`` (default: all).  Prints, per set,
the number of solves, successes, wrong successes (listed), and the kernel evaluations; with
``--json`` writes every row (problem, method, N, success, failure, error, estimate, nfev,
cpu seconds) so that two runs (before/after a change) can be compared row by row
(``--compare A.json B.json``: successes lost and gained, wrong successes, nfev ratios).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from integrallimits import METHODS, solve_volterra
from integrallimits.volterra.problems import PROBLEMS

NS = [1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256]
FACTOR, FLOOR = 20.0, 1e-13
#: A success has no digit where its error or its estimate exceeds this times the solution's
#: largest size so far (the solver's own bound, ``_estimate.UNRESOLVED``).
NO_DIGIT = 0.5


def _osc(t, s, y, w):
    return -w * w * (t - s) * y


def _one(t, w):
    return 1.0


def _cube(t, s, y):
    return 2.0 * y ** 3


def _square(t, s, y):
    return y * y


def _one0(t):
    return 1.0


def _linear(t, s, y, lam):
    return lam * y


def _logistic(t, s, y):
    return y * (1.0 - y)


def _tenth(t):
    return 0.1


def _nonlinear(t, s, y):
    return -y * y


def _past(f, t_star):
    """The exact solution ``f`` before the blow-up at ``t_star``, inf from it on (a value kept
    there is wrong)."""
    def exact(t):
        t = np.asarray(t, dtype=float)
        with np.errstate(all="ignore"):
            return np.where(t < t_star, f(np.where(t < t_star, t, 0.0)), np.inf)
    return exact


def _cases(sets):
    """(set, name, K, g, t_span, args, exact)"""
    if "oscillatory" in sets:
        for w in (1.0, 3.0, 10.0, 30.0):
            yield ("oscillatory", f"cos w={w:g}", _osc, _one, (0.0, 2.0), (w,),
                   lambda t, w=w: np.cos(w * t))
    if "blowup" in sets:
        yield ("blowup", "2y^3 [0,0.5]", _cube, _one0, (0.0, 0.5), (),
               _past(lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t), 0.25))
        yield ("blowup", "2y^3 [0,0.24]", _cube, _one0, (0.0, 0.24), (),
               _past(lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t), 0.25))
        yield ("blowup", "y^2 [0,2]", _square, _one0, (0.0, 2.0), (),
               _past(lambda t: 1.0 / (1.0 - t), 1.0))
        yield ("blowup", "y^2 [0,0.875]", _square, _one0, (0.0, 0.875), (),
               _past(lambda t: 1.0 / (1.0 - t), 1.0))
    if "stiff" in sets:
        for lam in (-1.0, -10.0, -100.0, -1e3, -1e4, -1e5, -1e6):
            yield ("stiff", f"linear lam={lam:g}", _linear, _one, (0.0, 1.0), (lam,),
                   lambda t, lam=lam: np.exp(lam * t))
        yield ("stiff", "logistic", _logistic, _tenth, (0.0, 4.0), (),
               lambda t: 1.0 / (1.0 + 9.0 * np.exp(-t)))
        yield ("stiff", "-y^2", _nonlinear, _one0, (0.0, 2.0), (),
               lambda t: 1.0 / (1.0 + t))
    if "library" in sets:
        for name, p in PROBLEMS.items():
            yield ("library", name, p.kernel, p.forcing, p.t_span, (), p.exact)


def run(sets, methods, ns):
    rows = []
    for case in _cases(sets):
        kind, name, K, g, span, args, exact = case
        for m in methods:
            for n in ns:
                if n < getattr(METHODS[m], "min_steps", 1):
                    continue
                c0 = time.process_time()
                try:
                    sol = solve_volterra(K, g, span, n_steps=n, method=m, args=args)
                except Exception as exc:  # noqa: BLE001 (a refusal: recorded)
                    rows.append(dict(set=kind, problem=name, method=m, n=n, success=False,
                                     failure=f"raised {type(exc).__name__}", error=math.nan,
                                     estimate=math.nan, wrong=False, pointwise=False,
                                     nodigit=False, nfev=0, cpu=0.0))
                    continue
                cpu = time.process_time() - c0
                y = sol.y if sol.y.ndim > 1 else sol.y[:, None]
                ex = np.asarray(exact(sol.t), dtype=float).reshape(y.shape)
                err = np.abs(y - ex)
                est = np.asarray(sol.error_estimate, dtype=float).reshape(y.shape)
                bad = (err > FACTOR * est) & (err > FLOOR)
                pointwise = bool(sol.success and np.any(bad | ~np.isfinite(est)))
                top = float(np.max(err)) if err.size else math.nan
                largest = float(np.nanmax(est)) if np.any(np.isfinite(est)) else math.nan
                wrong = bool(sol.success and not (top <= FACTOR * largest or top <= FLOOR))
                # no digit: an error (or an estimate) above half the solution's size so far
                size = np.maximum.accumulate(np.max(np.abs(y), axis=1))[:, None] if y.size else y
                nodigit = bool(sol.success and (np.any(~(err <= NO_DIGIT * size)) or
                                                np.any(est > NO_DIGIT * size)))
                rows.append(dict(set=kind, problem=name, method=m, n=n, success=bool(sol.success),
                                 failure=sol.stats.get("failure"),
                                 error=float(np.max(err)) if err.size else math.nan,
                                 estimate=float(np.nanmax(est)) if np.any(np.isfinite(est)) else math.nan,
                                 wrong=wrong, pointwise=pointwise, nodigit=nodigit,
                                 nfev=int(sol.stats.get("nfev", 0)), cpu=cpu))
    return rows


def summary(rows):
    out = []
    for kind in dict.fromkeys(r["set"] for r in rows):
        sel = [r for r in rows if r["set"] == kind]
        succ = [r for r in sel if r["success"]]
        wrong = [r for r in sel if r["wrong"]]
        pointwise = [r for r in sel if r["pointwise"]]
        nodigit = [r for r in sel if r.get("nodigit")]
        out.append(f"{kind}: {len(sel)} solves, {len(succ)} successes, {len(wrong)} wrong "
                   f"({len(pointwise)} with a point off 20 times its own estimate), "
                   f"{len(nodigit)} without a digit, "
                   f"nfev {sum(r['nfev'] for r in sel)}, cpu {sum(r['cpu'] for r in sel):.1f} s")
        for r in wrong:
            out.append(f"   WRONG {r['problem']:16s} {r['method']:18s} N={r['n']:4d} "
                       f"error {r['error']:.3g} estimate {r['estimate']:.3g}")
        for r in nodigit:
            if not r["wrong"]:
                out.append(f"   NO DIGIT {r['problem']:13s} {r['method']:18s} N={r['n']:4d} "
                           f"error {r['error']:.3g} estimate {r['estimate']:.3g}")
    return "\n".join(out)


def compare(a, b):
    key = lambda r: (r["set"], r["problem"], r["method"], r["n"])  # noqa: E731
    A = {key(r): r for r in a}
    B = {key(r): r for r in b}
    lines = []
    for k in A:
        if k not in B:
            continue
        ra, rb = A[k], B[k]
        if ra["success"] and not rb["success"]:
            lost = "correct" if not ra["wrong"] else "WAS WRONG"
            lines.append(f"lost    {k} ({lost}; error {ra['error']:.3g} est {ra['estimate']:.3g}) "
                         f"-> {rb['failure']}")
        if rb["success"] and not ra["success"]:
            lines.append(f"gained  {k} wrong={rb['wrong']}")
        if rb["wrong"] and not ra["wrong"]:
            lines.append(f"NEW WRONG {k}")
        if ra["success"] and rb["success"] and (ra["estimate"] != rb["estimate"]):
            lines.append(f"estimate {k} {ra['estimate']:.3g} -> {rb['estimate']:.3g}")
    for kind in dict.fromkeys(r["set"] for r in a):
        na = sum(r["nfev"] for r in a if r["set"] == kind)
        nb = sum(B[key(r)]["nfev"] for r in a if r["set"] == kind and key(r) in B)
        lines.append(f"{kind}: nfev {na} -> {nb} ({nb / max(na, 1):.3f}x)")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("sets", nargs="*", default=["oscillatory", "blowup", "stiff", "library"])
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--ns", default=",".join(map(str, NS)))
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    a = p.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as fa, open(a.compare[1]) as fb:
            print(compare(json.load(fa), json.load(fb)))
        return 0
    rows = run(set(a.sets), a.methods.split(","), [int(v) for v in a.ns.split(",")])
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
