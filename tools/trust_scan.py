"""Scan fixed-mesh solves for *wrong successes*: a success whose largest error exceeds 20
times its largest error estimate (and 1e-13); a kept value at or past a blow-up counts as an
infinite error.  (Also counted, as information: successes with a point whose error exceeds
20 times that point's own estimate, and successes *without a digit*: a point whose error or
estimate exceeds half the solution's largest size so far, the solver's own bound.)

``--tolerance`` scans solves to a tolerance instead (``rtol = atol = TOL`` for TOL in
``--tols``, no ``n_steps``; every method and ``method=None``, the solver's default): a
success is *dishonest* when it is wrong as above, has no digit, or misses the tolerance: an
error above ``TOL_FACTOR`` times atol + rtol |y| (|y| exact) at some point (*over the
tolerance*, as in ``tools/first_kind_scan.py --tolerance``).

Sets: ``oscillatory``, ``blowup``, ``stiff``, ``library`` (the problems of
``integrallimits.volterra.problems``), ``renewal`` (on [0, 100]) and ``vide``
(:func:`~integrallimits.volterra.solve_vide`: stiff, blow-up and oscillatory equations, its own
methods; not in the default).

Usage: ``PYTHONPATH=<worktree> python tools/trust_scan.py [SET ...] [--tolerance] [--json OUT]
[--progress]``
(default: all sets but ``vide``).  Prints, per set, the number of solves, successes, wrong
(dishonest) successes (listed), and the kernel evaluations; with ``--json`` writes every row
(problem, method, N or TOL, success, failure, error, estimate, nfev, cpu seconds, steps) so
that two runs (before/after a change) can be compared row by row (``--compare A.json B.json``:
successes lost and gained, wrong successes, nfev ratios).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time

import numpy as np

# (tools/ is on sys.path: the script's folder)
from first_kind_scan import TOL_FACTOR, TOLS, nfev_by_set
from integrallimits import METHODS, solve_volterra, solve_vide
from integrallimits.volterra import VIDE_METHODS
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


def _renewal(t, s, y):
    return (t - s) * np.exp(-(t - s)) * y


def _vide_linear(t, y, z, lam, mu):
    return lam * y + mu * z


def _vide_memory(t, s, y, lam, mu):
    return y


def _vide_cube(t, y, z):           # y' = (1 + int_0^t y^2 ds)^2: y = 1 / (1 - t)
    return (1.0 + z) ** 2


def _vide_square(t, s, y):
    return y * y


def _vide_ode(t, y, z):            # y' = y^2 (no memory): y = 1 / (1 - t)
    return y * y


def _vide_osc(t, y, z, w):         # y' = int_0^t -w^2 y ds: y = cos(w t)
    return z


def _vide_osc_memory(t, s, y, w):
    return -w * w * y


def _vide_linear_exact(lam, mu):
    """y of y' = lam y + mu int_0^t y ds, y(0) = 1: (r1 e^(r1 t) - r2 e^(r2 t)) / (r1 - r2)
    with r1 r2 = -mu, r1 + r2 = lam (r1 from r2, without cancellation, for lam << 0)."""
    r2 = (lam - math.sqrt(lam * lam + 4.0 * mu)) / 2.0
    r1 = -mu / r2
    return lambda t: (r1 * np.exp(r1 * t) - r2 * np.exp(r2 * t)) / (r1 - r2)


def _cases(sets):
    """(set, name, K, g, t_span, args, exact); for the set ``vide``, K is (f, K) and g is y0."""
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
    if "renewal" in sets:
        yield ("renewal", "renewal [0,100]", _renewal, _one0, (0.0, 100.0), (),
               lambda t: (2.0 * t + 3.0 + np.exp(-2.0 * t)) / 4.0)
    if "vide" in sets:
        for lam in (-1.0, -1e3, -1e6):
            yield ("vide", f"linear lam={lam:g}", (_vide_linear, _vide_memory), 1.0, (0.0, 1.0),
                   (lam, -0.2), _vide_linear_exact(lam, -0.2))
        blow = _past(lambda t: 1.0 / (1.0 - t), 1.0)
        yield ("vide", "(1+int y^2)^2 [0,2]", (_vide_cube, _vide_square), 1.0, (0.0, 2.0), (),
               blow)
        yield ("vide", "(1+int y^2)^2 [0,.875]", (_vide_cube, _vide_square), 1.0, (0.0, 0.875),
               (), blow)
        yield ("vide", "y^2 ODE [0,2]", (_vide_ode, None), 1.0, (0.0, 2.0), (), blow)
        for w in (1.0, 30.0):
            yield ("vide", f"cos w={w:g}", (_vide_osc, _vide_osc_memory), 1.0, (0.0, 2.0), (w,),
                   lambda t, w=w: np.cos(w * t))


def _methods(kind, methods):
    """The methods scanned on a set: the VIDE methods among ``methods`` for ``vide`` (and
    "None", the solver's choice)."""
    if kind == "vide":
        return [m for m in methods if m in VIDE_METHODS or m == "None"]
    return methods


def _solve(kind, K, g, span, args, m, n, tolerance):
    """One solve: on ``n`` steps, or to rtol = atol = ``n`` with ``tolerance``."""
    size = dict(rtol=n, atol=n) if tolerance else dict(n_steps=n)
    method = None if m == "None" else m
    if kind == "vide":
        f, memory = K
        return solve_vide(f, memory, g, span, method=method, args=args, **size)
    return solve_volterra(K, g, span, method=method, args=args, **size)


def _hash(a):
    return hashlib.sha1(np.ascontiguousarray(a, dtype=float).tobytes()).hexdigest()[:16]


def run(sets, methods, ns, tolerance=False, progress=False):
    """The rows of the scan: ``ns`` are the N of fixed-mesh solves, or the tolerances
    (``progress``: each row printed to stderr as it is made)."""
    rows = []
    for case in _cases(sets):
        kind, name, K, g, span, args, exact = case
        for m in _methods(kind, methods):
            for n in ns:
                if not tolerance and n < getattr(METHODS.get(m), "min_steps", 1):
                    continue
                c0 = time.process_time()
                try:
                    sol = _solve(kind, K, g, span, args, m, n, tolerance)
                except Exception as exc:  # noqa: BLE001 (a refusal: recorded)
                    rows.append(dict(set=kind, problem=name, method=m, n=n, success=False,
                                     failure=f"raised {type(exc).__name__}", error=math.nan,
                                     estimate=math.nan, wrong=False, pointwise=False,
                                     nodigit=False, overtol=False, nfev=0, cpu=0.0, steps=0,
                                     hash=""))
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
                # over the tolerance (|y| exact; past a blow-up the error is inf: wrong)
                with np.errstate(invalid="ignore"):
                    scale = np.where(np.isfinite(ex), np.abs(ex), 0.0)
                overtol = bool(tolerance and sol.success and
                               np.any(~(err <= TOL_FACTOR * (n + n * scale))))
                rows.append(dict(set=kind, problem=name, method=m, n=n, success=bool(sol.success),
                                 failure=sol.stats.get("failure"), error=top, estimate=largest,
                                 wrong=wrong, pointwise=pointwise, nodigit=nodigit,
                                 overtol=overtol, nfev=int(sol.stats.get("nfev", 0)), cpu=cpu,
                                 steps=len(sol.mesh) - 1, hash=_hash(sol.y)))
                if progress:
                    print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _dishonest(r):
    """A success that is wrong, has no digit or is over the tolerance."""
    return r["wrong"] or r.get("nodigit", False) or r.get("overtol", False)


def summary(rows):
    out = []
    for kind in dict.fromkeys(r["set"] for r in rows):
        sel = [r for r in rows if r["set"] == kind]
        succ = [r for r in sel if r["success"]]
        wrong = [r for r in sel if r["wrong"]]
        pointwise = [r for r in sel if r["pointwise"]]
        nodigit = [r for r in sel if r.get("nodigit")]
        overtol = [r for r in sel if r.get("overtol")]
        dishonest = [r for r in sel if _dishonest(r)]
        out.append(f"{kind}: {len(sel)} solves, {len(succ)} successes, {len(wrong)} wrong "
                   f"({len(pointwise)} with a point off 20 times its own estimate), "
                   f"{len(nodigit)} without a digit, {len(overtol)} over {TOL_FACTOR:g} x the "
                   f"tolerance, {len(dishonest)} dishonest; "
                   f"raised {sum(str(r['failure']).startswith('raised') for r in sel)}; "
                   f"nfev {sum(r['nfev'] for r in sel)}, cpu {sum(r['cpu'] for r in sel):.1f} s")
        for r in dishonest:
            what = " ".join(w for w, on in (("WRONG", r["wrong"]), ("NO DIGIT", r["nodigit"]),
                                            ("OVER TOL", r.get("overtol"))) if on)
            out.append(f"   {what:9s} {r['problem']:16s} {r['method']:18s} N={r['n']:<6g} "
                       f"error {r['error']:.3g} estimate {r['estimate']:.3g} "
                       f"steps {r.get('steps', 0)} nfev {r['nfev']}")
    return "\n".join(out)


def compare(a, b):
    key = lambda r: (r["set"], r["problem"], r["method"], r["n"])  # noqa: E731
    A = {key(r): r for r in a}
    B = {key(r): r for r in b}
    lines = []
    counts = dict(lost_right=0, lost_dishonest=0, gained=0, new_dishonest=0, kept_right=0,
                  y_changed=0)
    for k in A:
        if k not in B:
            continue
        ra, rb = A[k], B[k]
        right = ra["success"] and not _dishonest(ra)
        if ra["success"] and not rb["success"]:
            counts["lost_right" if right else "lost_dishonest"] += 1
            lost = "right" if right else "WAS DISHONEST"
            lines.append(f"lost    {k} ({lost}; error {ra['error']:.3g} est {ra['estimate']:.3g}) "
                         f"-> {rb['failure']}")
        if rb["success"] and not ra["success"]:
            counts["gained"] += 1
            lines.append(f"gained  {k} dishonest={_dishonest(rb)}")
        if rb["success"] and _dishonest(rb) and not (ra["success"] and _dishonest(ra)):
            counts["new_dishonest"] += 1
            lines.append(f"NEW DISHONEST {k}")
        if right and rb["success"]:
            counts["kept_right"] += 1
            if ra.get("hash") != rb.get("hash"):
                counts["y_changed"] += 1
        if ra["success"] and rb["success"] and (ra["estimate"] != rb["estimate"]):
            lines.append(f"estimate {k} {ra['estimate']:.3g} -> {rb['estimate']:.3g}")
    lines += nfev_by_set(a, B, key)
    lines.append(str(counts))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("sets", nargs="*",
                   default=["oscillatory", "blowup", "stiff", "library", "renewal"])
    p.add_argument("--methods", default=None,
                   help="comma-separated; default all (with --tolerance also None)")
    p.add_argument("--ns", default=",".join(map(str, NS)))
    p.add_argument("--tolerance", action="store_true")
    p.add_argument("--tols", default=",".join(map(str, TOLS)))
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--progress", action="store_true", help="print each row to stderr")
    a = p.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as fa, open(a.compare[1]) as fb:
            print(compare(json.load(fa), json.load(fb)))
        return 0
    methods = a.methods.split(",") if a.methods else list(METHODS) + ["None"] * a.tolerance
    sizes = [float(v) for v in a.tols.split(",")] if a.tolerance else \
        [int(v) for v in a.ns.split(",")]
    import integrallimits
    print(integrallimits.__file__)
    rows = run(set(a.sets), methods, sizes, a.tolerance, a.progress)
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
