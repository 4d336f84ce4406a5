"""Record what a grid of solves returns, bit for bit, so that a refactoring can be shown to
change nothing.

Every method of :data:`integrallimits.METHODS` on every problem of
:mod:`integrallimits.volterra.problems` at fixed N (with the error estimate) and to three
tolerances (two looser ones for methods of order <= 2); the VIDE methods on a damped
oscillator at fixed N and to a tolerance;
:func:`~integrallimits.solve_fredholm` with every rule, linear and nonlinear. Each row keeps
the values, the estimates (as hexadecimal floats), ``success``, ``failure`` and the numeric
stats but timings.

Usage: ``PYTHONPATH=<worktree> python tools/identity.py OUT.json`` prints the number of rows
and a digest of them; ``--compare A.json B.json`` lists the rows that differ (and which
fields).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time

import numpy as np

from integrallimits import METHODS, solve_fredholm, solve_vide, solve_volterra
from integrallimits.quadrature import INTERVAL_RULES as RULES
from integrallimits.volterra import VIDE_METHODS
from integrallimits.volterra.problems import PROBLEMS

NS = [4, 16, 64]
TOLS = [1e-3, 1e-6, 1e-9]
LOW_ORDER_TOLS = [1e-3, 1e-4]      # (order <= 2: 1e-6 takes up to 40 s a solve)


def _hex(a):
    if a is None:
        return None
    return [float(v).hex() for v in np.ravel(np.asarray(a, dtype=float))]


def _stats(stats):
    out = {}
    for key, value in sorted(stats.items()):
        if "seconds" in key:      # (timings: never identical)
            continue
        if isinstance(value, (bool, int, float, str, np.integer, np.floating)):
            value = value.item() if hasattr(value, "item") else value
            out[key] = value.hex() if isinstance(value, float) else value
    return out


def _row(name, call):
    start = time.perf_counter()
    try:
        sol = call()
    except Exception as exc:      # a refusal by exception is a result too
        return {"case": name, "raised": type(exc).__name__ + ": " + str(exc)[:200]}
    finally:
        if time.perf_counter() - start > 5.0:
            print(f"  ({name}: {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return {"case": name, "success": bool(sol.success),
            "failure": sol.stats.get("failure"), "y": _hex(sol.y),
            "estimate": _hex(getattr(sol, "error_estimate", None)),
            "stats": _stats(sol.stats)}


def _damped(t, s, y):
    return -4.0 * y - 0.5 * math.cos(t - s) * y


def _vide_f(t, y, z):
    return z


def _fred_k(x, s, y):
    return 0.5 * math.cos(x - s) * y


def _fred_k_nonlinear(x, s, y):
    return 0.2 * math.sin(x * s) * y * y


def _one(x):
    return 1.0


def cases():
    rows = []
    for pname, prob in PROBLEMS.items():
        g = prob.forcing
        for method in METHODS:
            for n in NS:
                rows.append(_row(f"{pname} {method} N={n}", lambda: solve_volterra(
                    prob.kernel, g, prob.t_span, n, method)))
            for tol in TOLS if METHODS[method].order > 2 else LOW_ORDER_TOLS:
                rows.append(_row(f"{pname} {method} tol={tol:g}", lambda: solve_volterra(
                    prob.kernel, g, prob.t_span, method=method, rtol=tol, atol=tol)))
    for method in VIDE_METHODS:
        for n in NS:
            rows.append(_row(f"vide {method} N={n}", lambda: solve_vide(
                _vide_f, _damped, 1.0, (0.0, 2.0), n, method)))
        rows.append(_row(f"vide {method} tol=1e-6", lambda: solve_vide(
            _vide_f, _damped, 1.0, (0.0, 2.0), method=method, rtol=1e-6, atol=1e-6)))
    for rule in RULES:
        for m in (8, 16):
            rows.append(_row(f"fred {rule} M={m}", lambda: solve_fredholm(
                _fred_k, _one, (0.0, 1.0), m, rule)))
            rows.append(_row(f"fred nonlinear {rule} M={m}", lambda: solve_fredholm(
                _fred_k_nonlinear, _one, (0.0, 1.0), m, rule)))
    return rows


def digest(rows):
    return hashlib.sha1(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def compare(a_path, b_path):
    with open(a_path) as fa, open(b_path) as fb:
        a = {r["case"]: r for r in json.load(fa)}
        b = {r["case"]: r for r in json.load(fb)}
    differ = 0
    for case in sorted(set(a) | set(b)):
        ra, rb = a.get(case), b.get(case)
        if ra != rb:
            differ += 1
            keys = sorted(k for k in set(ra or {}) | set(rb or {})
                          if (ra or {}).get(k) != (rb or {}).get(k))
            print(f"{case}: {', '.join(keys)}")
    print(f"{differ} of {len(set(a) | set(b))} rows differ")
    return differ


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"))
    ns = parser.parse_args(argv)
    if ns.compare:
        return 1 if compare(*ns.compare) else 0
    if not ns.out:
        parser.error("give OUT.json or --compare A B")
    rows = cases()
    with open(ns.out, "w") as f:
        json.dump(rows, f, sort_keys=True)
    print(f"{len(rows)} rows, digest {digest(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
