"""Scan the entry points other than second-kind ``solve_volterra`` for *misses* on
oscillating (aliased), rough, stiff and near-singular data: a success whose largest error, at
the mesh points (nodes) or between them (the dense output / Nyström interpolant at 2001
points), exceeds 20 times its largest error estimate (and 1e-13), or a success to a
tolerance with an error over 10 times atol + rtol |y|.  ``nodigit`` counts the misses whose
error exceeds half the solution's size.

Every problem has an exact solution in closed form (w = 2 pi f, f in FREQUENCIES):

* ``vide`` (:func:`~integrallimits.solve_vide`, spans [0, 1], [0, 2], [1, 3]):

  - ``fK-cos``: y' = cos(w t) (1 + z), z = int cos(w s) y ds, y = exp((sin w t - sin w t0) / w)
    (f and K oscillate; the mesh points of 2^k steps sample cos = 1);
  - ``h-sin``: y' = -z + h(t), z = int y, y = 1 + sin(w (t - t0)) / w;
  - ``K-conv``: y' = -z, z = int cos(w (t - s)) y ds, y = (w^2 + cos(sqrt(w^2 + 1)(t - t0)))
    / (w^2 + 1);
  - ``kink-f`` / ``jump-f``: y' = -z + h(t), z = int y, h with a kink / jump at
    a = t0 + 0.3 + 1e-3 pi (y = 1 + int |s - a| ds, y = 1 + max(t - a, 0));
  - ``stiff``: y' = -lam y + z + h(t), z = int y, y = cos t, lam = 1e3, 1e6;

* ``first`` (``solve_volterra(..., kind=1)``, on [0, 1] and [1, 3]):

  - ``g-osc``: K = 1, y = 1 + cos(w (t - t0));
  - ``K-osc``: K = 2 + cos(w s), y = 1;
  - ``K-conv``: K = cos(w (t - s)), y = 1;
  - ``g0``: K = 1, g = 1 + t (g(t0) != 0: no solution; a success is a miss);

* ``fredholm`` (:func:`~integrallimits.solve_fredholm` on [0, 1]):

  - ``eig3xs l``: K = 3 l x s, y = 1 + x (l = 1 is an eigenvalue), l = 1 - 1e-6, 1 - 1e-9,
    1 + 1e-4;
  - ``cos-K f``: K = 0.5 cos(w (x - s)), y = e^x;
  - ``cos-g f``: K = 0.5 x s, g = cos(w x) (the integral of s cos(w s) aliased by the nodes);
  - ``kink-exp`` / ``kink-min``: K = 0.5 e^-|x - s|, K = 0.5 min(x, s), y = 1;
  - ``two-roots e``: K = y^2, g = 1/4 - e (the two solutions (1 -+ 2 sqrt e) / 2: the error
    is to the nearer), e = 1e-2, 1e-6, 1e-10.

Usage: ``PYTHONPATH=<worktree> python tools/other_entry_scan.py [vide] [first] [fredholm]
[--tolerance-only | --fixed-only] [--json OUT]`` (prints each miss and the counts);
``--compare A.json B.json``: misses, successes lost and gained, nfev ratio.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings

import numpy as np

from integrallimits import solve_fredholm, solve_vide, solve_volterra

FREQUENCIES = [48, 256, 1024]
VIDE_STEPS = [8, 64, 256, 1024]
VIDE_METHODS = ["rk4", "gauss1", "gauss2", "radau2", "radau3"]
FIRST_STEPS = [8, 16, 64, 256]
FIRST_METHODS = ["midpoint", "radau1", "radau2", "radau3", "radau4"]
FRED_NODES = [4, 8, 16, 32, 64]
FRED_RULES = ["gauss-legendre", "trapezoid", "simpson", "clenshaw-curtis"]
TOLS = [1e-3, 1e-6, 1e-9]
SPANS = [(0.0, 1.0), (0.0, 2.0), (1.0, 3.0)]
MISS, FLOOR, TOL_FACTOR = 20.0, 1e-13, 10.0
POINTS = 2001


# ---------------------------------------------------------------- VIDE data (args: w, t0, a)
def f_fk(t, y, z, w, t0, a):
    return np.cos(w * t) * (1.0 + z)


def k_coss(t, s, w, t0, a):
    return np.cos(w * s)


def f_hsin(t, y, z, w, t0, a):
    u = t - t0
    return -z + np.cos(w * u) + u + (1.0 - np.cos(w * u)) / (w * w)


def k_one(t, s, w, t0, a):
    return 1.0


def f_minus(t, y, z, w, t0, a):
    return -z


def k_conv(t, s, w, t0, a):
    return np.cos(w * (t - s))


def f_kink(t, y, z, w, t0, a):
    c = (a - t0) ** 2 / 2.0
    if t < a:
        zz = c * (t - t0) + ((a - t) ** 3 - (a - t0) ** 3) / 6.0
    else:
        zz = c * (t - t0) - (a - t0) ** 3 / 6.0 + (t - a) ** 3 / 6.0
    return -z + abs(t - a) + (t - t0) + zz


def f_jump(t, y, z, w, t0, a):
    r = max(t - a, 0.0)
    return -z + (1.0 if t > a else 0.0) + (t - t0) + r * r / 2.0


def f_stiff(t, y, z, w, t0, a):           # (w: lam)
    return -w * y + z - np.sin(t) + w * np.cos(t) - (np.sin(t) - np.sin(t0))


def _kink_exact(t, t0, a):
    t = np.asarray(t, dtype=float)
    c = (a - t0) ** 2 / 2.0
    return 1.0 + np.where(t < a, c - (a - t) ** 2 / 2.0, c + (t - a) ** 2 / 2.0)


def vide_cases():
    """(name, f, K, y0, span, args, exact)"""
    for span in SPANS:
        t0 = span[0]
        a = t0 + 0.3 + 1e-3 * math.pi
        for fq in FREQUENCIES:
            w = 2.0 * math.pi * fq
            yield (f"fK-cos f={fq}", f_fk, k_coss, 1.0, span, (w, t0, a),
                   lambda t, w=w, t0=t0: np.exp((np.sin(w * t) - math.sin(w * t0)) / w))
            yield (f"h-sin f={fq}", f_hsin, k_one, 1.0, span, (w, t0, a),
                   lambda t, w=w, t0=t0: 1.0 + np.sin(w * (t - t0)) / w)
            r = math.sqrt(w * w + 1.0)
            yield (f"K-conv f={fq}", f_minus, k_conv, 1.0, span, (w, t0, a),
                   lambda t, w=w, t0=t0, r=r: (w * w + np.cos(r * (t - t0))) / (w * w + 1.0))
        yield ("kink-f", f_kink, k_one, 1.0, span, (0.0, t0, a),
               lambda t, t0=t0, a=a: _kink_exact(t, t0, a))
        yield ("jump-f", f_jump, k_one, 1.0, span, (0.0, t0, a),
               lambda t, a=a: 1.0 + np.maximum(np.asarray(t, dtype=float) - a, 0.0))
        for lam in (1e3, 1e6):
            yield (f"stiff lam={lam:g}", f_stiff, k_one, math.cos(t0), span, (lam, t0, a),
                   lambda t: np.cos(t))


# ---------------------------------------------------------------- first kind (args: w, t0)
def k1_one(t, s, w, t0):
    return 1.0


def k1_osc(t, s, w, t0):
    return 2.0 + np.cos(w * s)


def k1_conv(t, s, w, t0):
    return np.cos(w * (t - s))


def first_cases():
    """(name, K, g, span, args, exact)"""
    for span in [(0.0, 1.0), (1.0, 3.0)]:
        t0 = span[0]
        for fq in FREQUENCIES:
            w = 2.0 * math.pi * fq
            yield (f"g-osc f={fq}", k1_one,
                   lambda t, w=w, t0=t0: (t - t0) + np.sin(w * (t - t0)) / w, span, (w, t0),
                   lambda t, w=w, t0=t0: 1.0 + np.cos(w * (np.asarray(t) - t0)))
            yield (f"K-osc f={fq}", k1_osc,
                   lambda t, w=w, t0=t0: 2.0 * (t - t0) + (np.sin(w * t) - math.sin(w * t0)) / w,
                   span, (w, t0), lambda t: 1.0 + 0.0 * np.asarray(t))
            yield (f"K-conv f={fq}", k1_conv,
                   lambda t, w=w, t0=t0: np.sin(w * (t - t0)) / w, span, (w, t0),
                   lambda t: 1.0 + 0.0 * np.asarray(t))
        yield ("g0", k1_one, lambda t: 1.0 + t, span, (0.0, t0),
               lambda t: np.full_like(np.asarray(t, dtype=float), np.nan))


# ---------------------------------------------------------------- Fredholm (args: c, w)
def r_xs(x, s, c, w):
    return c * 3.0 * x * s


def r_cos(x, s, c, w):
    return c * np.cos(w * (x - s))


def r_xs_plain(x, s, c, w):
    return c * x * s


def r_exp(x, s, c, w):
    return c * np.exp(-abs(x - s))


def r_min(x, s, c, w):
    return c * min(x, s)


def r_square(x, s, y, c, w):
    return c * y * y


def _cos_k_integral(x, w):
    """int_0^1 cos(w (x - s)) e^s ds."""
    x = np.asarray(x, dtype=float)
    return np.real(np.exp(1j * w * x) * (np.exp(1.0 - 1j * w) - 1.0) / (1.0 - 1j * w))


def fredholm_cases():
    """(name, K, g, args, exact)"""
    for lam in (1.0 - 1e-6, 1.0 - 1e-9, 1.0 + 1e-4):
        yield (f"eig3xs l=1{lam - 1:+.0e}", r_xs, lambda x, c, w: 1.0 + x - 2.5 * c * x,
               (lam, 0.0), lambda x: 1.0 + np.asarray(x))
    for fq in FREQUENCIES:
        w = 2.0 * math.pi * fq
        yield (f"cos-K f={fq}", r_cos, lambda x, c, w: np.exp(x) - c * _cos_k_integral(x, w),
               (0.5, w), np.exp)
        # y = cos(w x) + c x A, A = int s y = I + c A / 3, I = int_0^1 s cos(w s) ds
        I = (math.cos(w) - 1.0) / w ** 2 + math.sin(w) / w
        A = I / (1.0 - 0.5 / 3.0)
        yield (f"cos-g f={fq}", r_xs_plain, lambda x, c, w: np.cos(w * x), (0.5, w),
               lambda x, w=w, A=A: np.cos(w * np.asarray(x)) + 0.5 * np.asarray(x) * A)
    yield ("kink-exp", r_exp,
           lambda x, c, w: 1.0 - c * (2.0 - np.exp(-x) - np.exp(x - 1.0)), (0.5, 0.0),
           lambda x: 1.0 + 0.0 * np.asarray(x))
    yield ("kink-min", r_min, lambda x, c, w: 1.0 - c * (x - x * x / 2.0), (0.5, 0.0),
           lambda x: 1.0 + 0.0 * np.asarray(x))
    for e in (1e-2, 1e-6, 1e-10):
        lo, hi = (1.0 - 2.0 * math.sqrt(e)) / 2.0, (1.0 + 2.0 * math.sqrt(e)) / 2.0
        yield (f"two-roots e={e:g}", r_square, lambda x, c, w, e=e: 0.25 - e + 0.0 * x,
               (1.0, 0.0), ("roots", lo, hi))


# ---------------------------------------------------------------- rows
def _errors(sol, exact, between=True):
    """(error at the mesh, error between, largest estimate, size) of a solve."""
    t = np.asarray(sol.t if hasattr(sol, "t") else sol.x)
    y = np.asarray(sol.y, dtype=float)
    if not t.size:
        return math.nan, math.nan, math.nan, math.nan
    if isinstance(exact, tuple):        # two roots: the error to the nearer
        ex = np.where(np.abs(y - exact[1]) < np.abs(y - exact[2]), exact[1], exact[2])
        mesh = float(np.max(np.abs(y - ex)))
        return mesh, math.nan, float(np.nanmax(sol.error_estimate)), float(np.max(np.abs(ex)))
    ex = np.asarray(exact(t), dtype=float).reshape(y.shape)
    mesh = float(np.max(np.abs(y - ex)))
    inner = math.nan
    if between and t.size > 1:
        pts = np.linspace(t[0], t[-1], POINTS)
        inner = float(np.max(np.abs(np.asarray(sol(pts), dtype=float).reshape(-1)
                                    - np.asarray(exact(pts), dtype=float).reshape(-1))))
    est = np.asarray(sol.error_estimate, dtype=float)
    top = float(np.nanmax(est)) if np.any(np.isfinite(est)) else math.nan
    return mesh, inner, top, float(np.max(np.abs(ex)))


def _row(entry, name, method, n, tol, sol, exact, cpu, between=True):
    if sol is None:
        return dict(entry=entry, problem=name, method=method, n=n, tol=tol, success=False,
                    mesh=math.nan, between=math.nan, estimate=math.nan, size=math.nan,
                    nfev=0, cpu=cpu, failure="raised", overtol=False)
    mesh, inner, est, size = _errors(sol, exact, between)
    overtol = False
    if tol is not None and sol.success and not isinstance(exact, tuple):
        t = np.asarray(sol.t if hasattr(sol, "t") else sol.x)
        ex = np.asarray(exact(t), dtype=float).reshape(np.shape(sol.y))
        overtol = bool(np.any(np.abs(np.asarray(sol.y) - ex) >
                              TOL_FACTOR * tol * (1.0 + np.abs(ex))))
    return dict(entry=entry, problem=name, method=method, n=n, tol=tol,
                success=bool(sol.success), mesh=mesh, between=inner, estimate=est, size=size,
                nfev=int(sol.stats.get("nfev", 0)), cpu=cpu, overtol=overtol,
                failure=str(sol.stats.get("failure")))


def missed(r):
    if not r["success"]:
        return False
    err = np.nanmax([r["mesh"], r["between"]]) if not (
        math.isnan(r["mesh"]) and math.isnan(r["between"])) else math.nan
    if math.isnan(err):          # (no exact solution: g0, which has none)
        return True
    return bool(err > MISS * max(r["estimate"], FLOOR) or r["overtol"] or
                not err <= MISS * max(r["estimate"], FLOOR))


def nodigit(r):
    err = np.nanmax([r["mesh"], r["between"]])
    return missed(r) and not err <= 0.5 * r["size"]


def _timed(call):
    c0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sol = call()
        except Exception as exc:  # noqa: BLE001 (a refusal: recorded)
            sol = None
            print(f"      raised {type(exc).__name__}: {str(exc)[:100]}")
    return sol, time.process_time() - c0


def run_vide(fixed, tolerance, rows):
    for name, f, K, y0, span, args, exact in vide_cases():
        label = f"{name} [{span[0]:g},{span[1]:g}]"
        if fixed:
            for m in VIDE_METHODS:
                for n in VIDE_STEPS:
                    sol, cpu = _timed(lambda: solve_vide(f, K, y0, span, n, m, args=args))
                    rows.append(_row("vide", label, m, n, None, sol, exact, cpu))
                    _print(rows[-1])
        if tolerance:
            for m in (None, "rk4", "gauss2"):
                for tol in TOLS:
                    sol, cpu = _timed(lambda: solve_vide(f, K, y0, span, method=m, args=args,
                                                         rtol=tol, atol=tol))
                    rows.append(_row("vide", label, str(m), 0, tol, sol, exact, cpu))
                    _print(rows[-1])


def run_first(fixed, tolerance, rows):
    for name, K, g, span, args, exact in first_cases():
        label = f"{name} [{span[0]:g},{span[1]:g}]"
        if fixed:
            for m in FIRST_METHODS:
                for n in FIRST_STEPS:
                    sol, cpu = _timed(lambda: solve_volterra(K, g, span, n, m, kind=1, args=args))
                    rows.append(_row("first", label, m, n, None, sol, exact, cpu))
                    _print(rows[-1])
        if tolerance:
            for m in (None, "radau3"):
                for tol in TOLS:
                    sol, cpu = _timed(lambda: solve_volterra(K, g, span, method=m, kind=1,
                                                             args=args, rtol=tol, atol=tol))
                    rows.append(_row("first", label, str(m), 0, tol, sol, exact, cpu))
                    _print(rows[-1])


def run_fredholm(fixed, tolerance, rows):
    for name, K, g, args, exact in fredholm_cases():
        if fixed:
            for rule in FRED_RULES:
                for n in FRED_NODES:
                    sol, cpu = _timed(lambda: solve_fredholm(K, g, (0.0, 1.0), n, rule,
                                                             args=args))
                    rows.append(_row("fredholm", name, rule, n, None, sol, exact, cpu))
                    _print(rows[-1])
        if tolerance:
            for rule in ("gauss-legendre", "simpson"):
                for tol in TOLS:
                    sol, cpu = _timed(lambda: solve_fredholm(K, g, (0.0, 1.0), rule=rule,
                                                             args=args, rtol=tol, atol=tol))
                    rows.append(_row("fredholm", name, rule, 0, tol, sol, exact, cpu))
                    _print(rows[-1])


def _print(r, always=False):
    if always or missed(r):
        print(f"  {'MISS' if missed(r) else '    '}{' NODIGIT' if nodigit(r) else ''} "
              f"{r['entry']:8s} {r['problem']:26s} {r['method']:15s} N={r['n']:<5d} "
              f"tol={r['tol']!s:6s} mesh={r['mesh']:9.3g} between={r['between']:9.3g} "
              f"estimate={r['estimate']:9.3g} nfev={r['nfev']}", flush=True)


def summary(rows):
    out = []
    for entry in dict.fromkeys(r["entry"] for r in rows):
        for what, sel in (("fixed", [r for r in rows if r["entry"] == entry and not r["tol"]]),
                          ("tolerance", [r for r in rows if r["entry"] == entry and r["tol"]])):
            if not sel:
                continue
            out.append(f"{entry} {what}: {len(sel)} solves, {sum(r['success'] for r in sel)} "
                       f"successes, {sum(map(missed, sel))} misses ({sum(map(nodigit, sel))} "
                       f"with no digit), raised {sum(r['failure'] == 'raised' for r in sel)}, "
                       f"nfev {sum(r['nfev'] for r in sel)}, cpu "
                       f"{sum(r['cpu'] for r in sel):.1f} s")
    return "\n".join(out)


def key(r):
    return (r["entry"], r["problem"], r["method"], r["n"], r["tol"])


def compare(a, b):
    A = {key(r): r for r in a}
    B = {key(r): r for r in b}
    common = [k for k in A if k in B]
    print(f"misses {sum(missed(A[k]) for k in common)} -> {sum(missed(B[k]) for k in common)}, "
          f"successes {sum(A[k]['success'] for k in common)} -> "
          f"{sum(B[k]['success'] for k in common)} ({len(common)} rows in both)")
    lost = gained = 0
    for k in common:
        ra, rb = A[k], B[k]
        if missed(ra) != missed(rb) or ra["success"] != rb["success"]:
            lost += ra["success"] and not rb["success"]
            gained += rb["success"] and not ra["success"]
            print(f"  {k}: success {ra['success']} -> {rb['success']}, miss {missed(ra)} -> "
                  f"{missed(rb)}; error {np.nanmax([ra['mesh'], ra['between']]):.3g} / "
                  f"estimate {ra['estimate']:.3g} -> "
                  f"{np.nanmax([rb['mesh'], rb['between']]):.3g} / {rb['estimate']:.3g}")
    print(f"successes lost {lost}, gained {gained}")
    for entry in dict.fromkeys(k[0] for k in common):
        na = sum(A[k]["nfev"] for k in common if k[0] == entry)
        nb = sum(B[k]["nfev"] for k in common if k[0] == entry)
        print(f"{entry}: nfev {na} -> {nb} ({nb / max(na, 1):.3f}x)")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("entries", nargs="*", default=["vide", "first", "fredholm"])
    p.add_argument("--fixed-only", action="store_true")
    p.add_argument("--tolerance-only", action="store_true")
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    a = p.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as fa, open(a.compare[1]) as fb:
            compare(json.load(fa), json.load(fb))
        return 0
    import integrallimits
    print(integrallimits.__file__, flush=True)
    fixed, tolerance = not a.tolerance_only, not a.fixed_only
    rows = []
    runners = dict(vide=run_vide, first=run_first, fredholm=run_fredholm)
    for entry in a.entries:
        runners[entry](fixed, tolerance, rows)
        print(summary([r for r in rows if r["entry"] == entry]), flush=True)
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
