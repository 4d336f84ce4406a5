"""Scan the entry points other than second-kind ``solve_volterra`` for trust (issue 13: a
reported success is right; its error_estimate is within a factor 20 of the actual error
whenever that error is above 1e-13; the actual max error is at most 10 times the tolerance):
:func:`~integrallimits.solve_vide` (``vide``), ``solve_volterra(..., kind=1)`` (``first``) and
:func:`~integrallimits.solve_fredholm` (``fredholm``), each to rtol = atol = TOL for TOL in
1e-3, 1e-6, 1e-9, 1e-12 (every method the entry point accepts, and ``None``, its default,
where it has one) and on a few fixed sizes N (``n_steps`` / ``n_nodes``).

The problems are manufactured from an exact solution y (scalar and vector, linear and
nonlinear, K(t, t) != 0, y(0) != 0, convolution and not, moderately oscillatory): the forcing
(h(t) = y' - F(y, z) of the VIDE y' = F(y, z) + h(t), g of the integral equations) is computed
with mpmath at 30 digits (the integral by mpmath.quad, y' symbolically) on 65 Chebyshev points
and used as its Chebyshev interpolant, checked against 30 digits at 7 other points (relative
error below 1e-14, else the problem is not used); no closed form is evaluated in floats.  For
the VIDEs the interpolant's coefficients are passed through ``args`` to a compiled f.

Counts, per row (a solve):

* *miss*: a success with an error above 10 times the tolerance at some point (atol + rtol |y|,
  y exact), for solves to a tolerance; for fixed N, a success whose max error exceeds 20 times
  its max error estimate (and 1e-13): a wrong success (``tools/trust_scan.py``'s);
* *quality violation* (separately): a success with a max error above 1e-13 and a max estimate
  outside a factor 20 of it (``under``: error > 20 x estimate, ``over``: estimate > 20 x
  error); at fixed N only ``over`` (``under`` is the miss);
* *refusal*: a solve that is not a success (or raised), with its failure kind.

Usage: ``PYTHONPATH=<worktree> python tools/other_tolerance_scan.py [SET ...] [--json OUT]
[--fixed-only | --tolerance-only] [--problems WORD,...] [--progress] [--every-pair]``
(default: all sets);
``--compare A.json B.json``: successes lost and gained, misses and quality violations new
and fixed, nfev ratios.  Cost: the refusals of the low-order methods at the tight tolerances
take most of it (gauss1/radau1 VIDEs, trapezoid/rectangle Fredholm rules: up to 30 s of CPU
each; the first kind's e^-(t-s) problem with radau4 at 1e-12 several minutes): run the sets
one at a time (``vide --fixed-only`` took 21 s of CPU).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import mpmath
import numba
import numpy as np
import sympy as sp

from first_kind_scan import nfev_by_set   # (tools/ is on sys.path: the script's folder)

TOLS = [1e-3, 1e-6, 1e-9, 1e-12]
NS = [4, 8, 16, 32, 64]
FRED_NS = [4, 8, 16, 32]
FACTOR, FLOOR, TOL_FACTOR = 20.0, 1e-13, 10.0
DEGREE, DIGITS, CHECK = 64, 30, 1e-14

VIDE_METHODS = ["rk4", "gauss1", "gauss2", "gauss3", "gauss4", "radau1", "radau2", "radau3",
                "radau4"]
FIRST_METHODS = ["midpoint", "radau1", "radau2", "radau3", "radau4"]
#: First-kind orders (``None``: "radau2" to a tolerance); a first-kind solve to TOL is run only
#: where TOL >= 10^(-3 p) (about 1000 steps of size 1/1000 for an error constant of 1), unless
#: ``--every-pair``: an order-p method needs ~TOL^(-1/p) steps and the first-kind solves that
#: cannot get there take minutes to refuse (radau2 to 1e-9: 27 s of CPU for a success).
FIRST_ORDERS = {"midpoint": 2, "radau1": 1, "radau2": 2, "radau3": 3, "radau4": 4, "None": 2}
RULES = ["gauss-legendre", "gauss-radau", "gauss-lobatto", "clenshaw-curtis", "trapezoid",
         "simpson", "rectangle"]

t, s, z = sp.symbols("t s z", real=True)
Y = sp.symbols("y0:2", real=True)


# -- the forcing: a Chebyshev interpolant of 30-digit values -----------------------------------

class Forcing:
    """A function on [a, b] from its values at the Chebyshev points (computed with mpmath):
    ``coef[k]`` (per component), callable on floats/arrays (NumPy), ``coef`` also for the
    compiled :func:`_clenshaw`."""

    def __init__(self, values_of, a, b, dim, name):
        with mpmath.workdps(DIGITS):
            n = DEGREE
            xs = [mpmath.cos(mpmath.pi * k / n) for k in range(n + 1)]
            ts = [(a + b) / mpmath.mpf(2) + (b - a) / mpmath.mpf(2) * x for x in xs]
            vals = [values_of(tt) for tt in ts]
            coef = np.zeros((dim, n + 1))
            for c in range(dim):
                for j in range(n + 1):
                    acc = mpmath.mpf(0)
                    for k in range(n + 1):
                        w = mpmath.mpf(0.5) if k in (0, n) else 1
                        acc += w * vals[k][c] * mpmath.cos(mpmath.pi * j * k / n)
                    acc *= mpmath.mpf(2) / n
                    if j in (0, n):
                        acc /= 2
                    coef[c, j] = float(acc)
        self.coef = [np.ascontiguousarray(coef[c]) for c in range(dim)]
        self.a, self.b, self.dim = float(a), float(b), dim
        # check at 7 points that are no Chebyshev points
        worst = 0.0
        with mpmath.workdps(DIGITS):
            for u in (0.013, 0.137, 0.291, 0.5077, 0.683, 0.8419, 0.977):
                tt = a + (b - a) * mpmath.mpf(u)
                exact = values_of(tt)
                got = self(float(tt))
                got = np.atleast_1d(got)
                for c in range(dim):
                    ref = float(exact[c])
                    worst = max(worst, abs(got[c] - ref) / max(1.0, abs(ref)))
        if not worst < CHECK:
            raise ValueError(f"{name}: the Chebyshev forcing is off its 30-digit values by "
                             f"{worst:.3g}")
        self.check = worst

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        out = np.stack([_clenshaw_np(c, self.a, self.b, x) for c in self.coef], axis=-1)
        if self.dim == 1:
            out = out[..., 0]
        return float(out) if out.ndim == 0 else out


def _clenshaw_np(c, a, b, x):
    u = (2.0 * x - (a + b)) / (b - a)
    b1 = np.zeros_like(u)
    b2 = np.zeros_like(u)
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2.0 * u * b1 - b2 + c[k], b1
    return u * b1 - b2 + c[0]


@numba.njit(cache=True)
def _clenshaw(c, a, b, x):
    u = (2.0 * x - (a + b)) / (b - a)
    b1 = 0.0
    b2 = 0.0
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2.0 * u * b1 - b2 + c[k], b1
    return u * b1 - b2 + c[0]


def _mp(expr, *symbols):
    return sp.lambdify(symbols, expr, "mpmath")


def _np(expr):
    f = sp.lambdify(t, expr, "numpy")
    return lambda x: f(np.asarray(x, dtype=float)) + 0.0 * np.asarray(x, dtype=float)


def _exact(exprs):
    """y(t) in floats from SymPy expressions (a list for a vector)."""
    if isinstance(exprs, list):
        fs = [_np(e) for e in exprs]
        return lambda x: np.stack([f(x) for f in fs], axis=-1)
    return _np(exprs)


# -- VIDEs: y' = F(y, z) + h(t), z = int_0^t K(t, s, y(s)) ds ----------------------------------
# f(t, y, z, c, a, b, p, q): F with parameters p, q, plus h from its Chebyshev coefficients c
# on [a, b]; the kernels take (and ignore) the same arguments.

def f_lin(t, y, z, c, a, b, p, q):
    return p * y + q * z + _clenshaw(c, a, b, t)


def f_square(t, y, z, c, a, b, p, q):
    return p * y * y + q * z + _clenshaw(c, a, b, t)


def f_sinz(t, y, z, c, a, b, p, q):
    return p * y + q * np.sin(z) + _clenshaw(c, a, b, t)


def f_vec(t, y, z, c0, c1, a, b, p, q):
    return np.array([-y[1] + p * z[0] + _clenshaw(c0, a, b, t),
                     q * y[0] * y[1] - z[1] + _clenshaw(c1, a, b, t)])


def k_poly(t, s, y, c, a, b, p, q):
    return (1.0 + t * s) * y


def k_sin(t, s, y, c, a, b, p, q):
    return np.exp(s - t) * np.sin(y)


def k_cos(t, s, y, c, a, b, p, q):
    return np.cos(2.0 * (t - s)) * y


def k_decay(t, s, y, c, a, b, p, q):
    return np.exp(-(t - s)) * (1.0 + s) * y


def k_lin2(t, s, c, a, b, p, q):              # the linear memory int e^(-t s) y ds
    return np.exp(-t * s)


def k_mat(t, s, y, c0, c1, a, b, p, q):
    return np.array([y[0] + (t - s) * y[1], s * y[0] + y[1] * y[1] / 2.0])


def _vide_problems():
    """(name, f, K, F(y, z) SymPy, K(t, s, y) SymPy, y exact SymPy, T, (p, q))."""
    yy = Y[0]
    return [
        ("lin (1+ts)y y=2+sin", f_lin, k_poly, lambda y, z: -y[0] + z[0],
         [(1 + t * s) * yy], [2 + sp.sin(t)], 1.0, (-1.0, 1.0)),
        ("-y^2 e^(s-t)sin y y=cos+t/2", f_square, k_sin, lambda y, z: -y[0] ** 2 + z[0],
         [sp.exp(s - t) * sp.sin(yy)], [sp.cos(t) + t / 2], 1.0, (-1.0, 1.0)),
        ("osc cos2(t-s)y y=1/2+cos6t", f_lin, k_cos, lambda y, z: -y[0] + z[0],
         [sp.cos(2 * (t - s)) * yy], [sp.Rational(1, 2) + sp.cos(6 * t)], 2.0, (-1.0, 1.0)),
        ("-20y+2z decay y=e^-t+cos3t", f_lin, k_decay, lambda y, z: -20 * y[0] + 2 * z[0],
         [sp.exp(-(t - s)) * (1 + s) * yy], [sp.exp(-t) + sp.cos(3 * t)], 1.0, (-20.0, 2.0)),
        ("sin z, e^(-ts) linear y=1+te^-t", f_sinz, k_lin2,
         lambda y, z: 0.5 * y[0] + sp.sin(z[0]),
         [sp.exp(-t * s) * yy], [1 + t * sp.exp(-t)], 1.5, (0.5, 1.0)),
        ("vector y=(cos t,1+e^-t)", f_vec, k_mat,
         lambda y, z: [-y[1] + sp.Rational(1, 2) * z[0], sp.Rational(1, 5) * y[0] * y[1] - z[1]],
         [Y[0] + (t - s) * Y[1], s * Y[0] + Y[1] ** 2 / 2], [sp.cos(t), 1 + sp.exp(-t)], 1.0,
         (0.5, 0.2)),
    ]


def _vide_forcing(name, F, kern, exact, T):
    d = len(exact)
    ys = [e for e in exact]
    dys = [_mp(sp.diff(e, t), t) for e in ys]
    yf = [_mp(e, t) for e in ys]
    integrand = [_mp(k.subs({Y[i]: ys[i].subs(t, s) for i in range(d)}), t, s) for k in kern]
    zs = sp.symbols(f"z0:{d}", real=True)
    Fexpr = F(list(Y[:d]), list(zs))
    Fexpr = Fexpr if isinstance(Fexpr, list) else [Fexpr]
    Ff = [_mp(e, *Y[:d], *zs) for e in Fexpr]

    def values(tt):
        zv = [mpmath.quad(lambda ss, k=k: k(tt, ss), [0, tt]) if tt > 0 else mpmath.mpf(0)
              for k in integrand]
        yv = [f(tt) for f in yf]
        return [dys[i](tt) - Ff[i](*yv, *zv) for i in range(d)]

    return Forcing(values, 0.0, T, d, name)


def vide_cases():
    for name, f, K, F, kern, exact, T, (p, q) in _vide_problems():
        h = _vide_forcing(name, F, kern, exact, T)
        y0 = [float(e.subs(t, 0)) for e in exact]
        args = (*h.coef, 0.0, T, p, q)
        yield (name, f, K, y0[0] if len(y0) == 1 else np.array(y0), T, args,
               _exact(exact if len(exact) > 1 else exact[0]), h.check)


# -- first kind: g(t) = int_0^t K(t, s) y(s) ds ----------------------------------------------

def fk_poly(t, s):
    return 2.0 + t * s


def fk_cos(t, s):
    return 3.0 + np.cos(t - s)


def fk_decay(t, s):
    return np.exp(-(t - s))


def fk_matrix(t, s):
    return np.array([[2.0, t - s], [s, 1.0 + t]])


def _first_problems():
    return [("2+ts y=cos2t+t", fk_poly, [[2 + t * s]], [sp.cos(2 * t) + t], 1.0),
            ("3+cos(t-s) y=e^-t(1+t)", fk_cos, [[3 + sp.cos(t - s)]],
             [sp.exp(-t) * (1 + t)], 1.0),
            ("e^-(t-s) y=1/2+cos6t", fk_decay, [[sp.exp(-(t - s))]],
             [sp.Rational(1, 2) + sp.cos(6 * t)], 2.0),
            ("matrix y=(cos t,e^-t)", fk_matrix, [[2, t - s], [s, 1 + t]],
             [sp.cos(t), sp.exp(-t)], 1.0)]


def first_cases():
    for name, K, kern, exact, T in _first_problems():
        d = len(exact)
        parts = [[_mp(kern[i][j] * exact[j].subs(t, s), t, s) for j in range(d)]
                 for i in range(d)]

        def values(tt, parts=parts, d=d):
            if tt == 0:
                return [mpmath.mpf(0)] * d
            return [sum(mpmath.quad(lambda ss, f=f: f(tt, ss), [0, tt]) for f in parts[i])
                    for i in range(d)]

        g = Forcing(values, 0.0, T, d, name)
        yield name, K, g, T, _exact(exact if d > 1 else exact[0]), g.check


# -- Fredholm: y = g + int_a^b K(x, s, y(s)) ds ---------------------------------------------

def fr_lin(x, s, y):
    return 0.5 * (1.0 + x * s) * y


def fr_lin2(x, s):
    return 0.5 * (1.0 + x * s)


def fr_square(x, s, y):
    return 0.25 * np.exp(x - s) * y * y


def fr_osc(x, s, y):
    return 0.3 * np.cos(x - s) * y


def fr_urysohn(x, s, y):
    return 0.2 * np.sin(x * s + y)


def fr_vec(x, s, y):
    return np.array([0.3 * y[0] + 0.2 * x * s * y[1], 0.1 * (x + s) * y[0] + 0.4 * y[1]])


def _fredholm_problems():
    yy = Y[0]
    return [("lin 0.5(1+xs)y y=cos x+x", fr_lin, [sp.Rational(1, 2) * (1 + t * s) * yy],
             [sp.cos(t) + t], (0.0, 1.0)),
            ("lin K(x,s) y=cos x+x", fr_lin2, [sp.Rational(1, 2) * (1 + t * s) * yy],
             [sp.cos(t) + t], (0.0, 1.0)),
            ("e^(x-s)y^2/4 y=e^-x", fr_square, [sp.exp(t - s) * yy ** 2 / 4], [sp.exp(-t)],
             (0.0, 1.0)),
            ("osc 0.3cos(x-s)y y=1+cos8x", fr_osc, [sp.Rational(3, 10) * sp.cos(t - s) * yy],
             [1 + sp.cos(8 * t)], (-1.0, 2.0)),
            ("urysohn sin(xs+y)/5 y=1+x^2", fr_urysohn, [sp.sin(t * s + yy) / 5], [1 + t ** 2],
             (0.0, 1.0)),
            ("vector y=(1+sin x,e^x)", fr_vec,
             [sp.Rational(3, 10) * Y[0] + sp.Rational(1, 5) * t * s * Y[1],
              sp.Rational(1, 10) * (t + s) * Y[0] + sp.Rational(2, 5) * Y[1]],
             [1 + sp.sin(t), sp.exp(t)], (0.0, 1.0))]


def fredholm_cases():
    for name, K, kern, exact, (a, b) in _fredholm_problems():
        d = len(exact)
        yf = [_mp(e, t) for e in exact]
        integrand = [_mp(k.subs({Y[i]: exact[i].subs(t, s) for i in range(d)}), t, s)
                     for k in kern]

        def values(x, yf=yf, integrand=integrand, a=a, b=b):
            return [yf[i](x) - mpmath.quad(lambda ss, k=integrand[i]: k(x, ss), [a, b])
                    for i in range(len(yf))]

        g = Forcing(values, a, b, d, name)
        yield name, K, g, (a, b), _exact(exact if d > 1 else exact[0]), g.check


# -- the scan -------------------------------------------------------------------------------

def _row(kind, name, method, size, tolerance, sol, x, y, exact, cpu):
    y = np.asarray(y, dtype=float)
    y = y if y.ndim > 1 else y[:, None]
    ex = np.asarray(exact(x), dtype=float).reshape(y.shape)
    err = np.abs(y - ex)
    est = np.asarray(sol.error_estimate, dtype=float).reshape(y.shape)
    top = float(np.max(err)) if err.size else math.nan
    largest = float(np.nanmax(est)) if np.any(np.isfinite(est)) else math.nan
    ok = bool(sol.success)
    under = ok and top > FLOOR and not top <= FACTOR * largest
    over = ok and top > FLOOR and largest > FACTOR * top
    if tolerance:
        worst = float(np.max(err / (size + size * np.abs(ex)))) if err.size else math.nan
        miss = ok and not worst <= TOL_FACTOR
        quality = under or over
    else:
        worst = math.nan
        miss = under
        quality = over
    return dict(set=kind, problem=name, method=str(method), n=size, tolerance=tolerance,
                success=ok, failure=sol.stats.get("failure"), error=top, estimate=largest,
                ratio=worst, miss=bool(miss), quality=bool(quality), under=bool(under),
                over=bool(over), nfev=int(sol.stats.get("nfev", 0)), cpu=cpu,
                steps=len(np.asarray(x)) - 1, message=str(sol.message)[:300])


def _raised(kind, name, method, size, tolerance, exc):
    return dict(set=kind, problem=name, method=str(method), n=size, tolerance=tolerance,
                success=False, failure=f"raised {type(exc).__name__}: {str(exc)[:200]}",
                error=math.nan, estimate=math.nan, ratio=math.nan, miss=False, quality=False,
                under=False, over=False, nfev=0, cpu=0.0, steps=0, message="")


def _solves(sets, modes, problems, every_pair=False):
    """(set, name, method, size, tolerance, call() -> (sol, x, y), exact)."""
    from integrallimits import solve_fredholm, solve_volterra, solve_vide

    def wanted(name):
        return not problems or any(w in name for w in problems)

    if "vide" in sets:
        for name, f, K, y0, T, args, exact, _ in vide_cases():
            if not wanted(name):
                continue
            for tol_mode in modes:
                for m in VIDE_METHODS + (["None"] if tol_mode else []):
                    for size in (TOLS if tol_mode else NS):
                        meth = None if m == "None" else m
                        kw = dict(rtol=size, atol=size) if tol_mode else dict(n_steps=size)

                        def call(f=f, K=K, y0=y0, T=T, args=args, meth=meth, kw=kw):
                            sol = solve_vide(f, K, y0, (0.0, T), method=meth, args=args, **kw)
                            return sol, sol.t, sol.y
                        yield "vide", name, m, size, tol_mode, call, exact
    if "first" in sets:
        for name, K, g, T, exact, _ in first_cases():
            if not wanted(name):
                continue
            for tol_mode in modes:
                for m in FIRST_METHODS + (["None"] if tol_mode else []):
                    for size in (TOLS if tol_mode else NS):
                        if tol_mode and not every_pair and size < 10.0 ** (-3 * FIRST_ORDERS[m]):
                            continue
                        meth = None if m == "None" else m
                        kw = dict(rtol=size, atol=size) if tol_mode else dict(n_steps=size)

                        def call(K=K, g=g, T=T, meth=meth, kw=kw):
                            sol = solve_volterra(K, g, (0.0, T), method=meth, kind=1, **kw)
                            return sol, sol.t, sol.y
                        yield "first", name, m, size, tol_mode, call, exact
    if "fredholm" in sets:
        for name, K, g, span, exact, _ in fredholm_cases():
            if not wanted(name):
                continue
            for tol_mode in modes:
                for rule in RULES:
                    for size in (TOLS if tol_mode else FRED_NS):
                        kw = dict(rtol=size, atol=size) if tol_mode else dict(n_nodes=size)

                        def call(K=K, g=g, span=span, rule=rule, kw=kw):
                            sol = solve_fredholm(K, g, span, rule=rule, **kw)
                            return sol, sol.x, sol.y
                        yield "fredholm", name, rule, size, tol_mode, call, exact


def run(sets, modes=(True, False), problems=None, progress=False, every_pair=False):
    rows = []
    for kind, name, m, size, tol_mode, call, exact in _solves(sets, modes, problems, every_pair):
        c0 = time.process_time()
        try:
            sol, x, y = call()
        except Exception as exc:  # noqa: BLE001 (a refusal: recorded)
            rows.append(_raised(kind, name, m, size, tol_mode, exc))
        else:
            rows.append(_row(kind, name, m, size, tol_mode, sol, x, y, exact,
                             time.process_time() - c0))
        if progress:
            r = rows[-1]
            print(f"{r['set']:8s} {r['problem'][:28]:28s} {r['method']:15s} "
                  f"{'tol' if tol_mode else 'N'}={size:<6g} ok={r['success']!s:5s} "
                  f"err {r['error']:.2e} est {r['estimate']:.2e} miss={r['miss']} "
                  f"q={r['quality']} cpu {r['cpu']:.2f} {r['failure'] or ''}", file=sys.stderr,
                  flush=True)
    return rows


def _line(r):
    what = "MISS" if r["miss"] else "QUALITY" if r["quality"] else "REFUSED"
    side = " under" if r["under"] else " over" if r["over"] else ""
    size = f"tol={r['n']:g}" if r["tolerance"] else f"N={r['n']}"
    return (f"   {what}{side:6s} {r['set']:8s} {r['problem'][:30]:30s} {r['method']:15s} "
            f"{size:10s} error {r['error']:.3g} estimate {r['estimate']:.3g} "
            f"err/tol {r['ratio']:.3g} steps {r['steps']} {r['failure'] or ''}")


def summary(rows):
    out = []
    groups = dict.fromkeys((r["set"], r["tolerance"]) for r in rows)
    for kind, tol_mode in groups:
        sel = [r for r in rows if r["set"] == kind and r["tolerance"] == tol_mode]
        succ = [r for r in sel if r["success"]]
        out.append(f"{kind} {'tolerance' if tol_mode else 'fixed N'}: {len(sel)} rows, "
                   f"{len(succ)} successes, {sum(r['miss'] for r in sel)} misses, "
                   f"{sum(r['quality'] for r in sel)} quality violations "
                   f"({sum(r['under'] for r in sel)} under, {sum(r['over'] for r in sel)} over), "
                   f"{len(sel) - len(succ)} refusals "
                   f"({sum(str(r['failure']).startswith('raised') for r in sel)} raised); "
                   f"nfev {sum(r['nfev'] for r in sel)}, cpu {sum(r['cpu'] for r in sel):.1f} s")
        for r in sel:
            if r["miss"] or r["quality"]:
                out.append(_line(r))
        for r in sel:
            if not r["success"]:
                out.append(_line(r))
    out.append(f"all: {len(rows)} rows, {sum(r['success'] for r in rows)} successes, "
               f"{sum(r['miss'] for r in rows)} misses, "
               f"{sum(r['quality'] for r in rows)} quality violations, "
               f"{sum(not r['success'] for r in rows)} refusals")
    return "\n".join(out)


def compare(a, b):
    key = lambda r: (r["set"], r["problem"], r["method"], r["n"], r["tolerance"])  # noqa: E731
    A = {key(r): r for r in a}
    B = {key(r): r for r in b}
    lines, counts = [], dict(lost=0, gained=0, new_miss=0, fixed_miss=0, new_quality=0,
                             fixed_quality=0, estimate_changed=0)
    for k, ra in A.items():
        rb = B.get(k)
        if rb is None:
            continue
        for what, flag in (("miss", "miss"), ("quality", "quality")):
            if rb[flag] and not ra[flag]:
                counts[f"new_{what}"] += 1
                lines.append(f"NEW {what.upper():8s} {k} err {rb['error']:.3g} "
                             f"est {rb['estimate']:.3g}")
            if ra[flag] and not rb[flag]:
                counts[f"fixed_{what}"] += 1
                lines.append(f"fixed {what:8s} {k} err {ra['error']:.3g} est {ra['estimate']:.3g}"
                             f" -> success={rb['success']} err {rb['error']:.3g} "
                             f"est {rb['estimate']:.3g} {rb['failure'] or ''}")
        if ra["success"] and not rb["success"]:
            counts["lost"] += 1
            lines.append(f"lost     {k} (was miss={ra['miss']} quality={ra['quality']}) -> "
                         f"{rb['failure']}")
        if rb["success"] and not ra["success"]:
            counts["gained"] += 1
            lines.append(f"gained   {k} miss={rb['miss']} quality={rb['quality']}")
        if ra["success"] and rb["success"] and ra["estimate"] != rb["estimate"]:
            counts["estimate_changed"] += 1
    lines += nfev_by_set(a, B, key)
    lines.append(str(counts))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("sets", nargs="*", default=["vide", "first", "fredholm"])
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--fixed-only", action="store_true")
    p.add_argument("--tolerance-only", action="store_true")
    p.add_argument("--problems", default=None, help="comma-separated parts of problem names")
    p.add_argument("--progress", action="store_true", help="print each row to stderr")
    p.add_argument("--every-pair", action="store_true",
                   help="first kind: every method at every tolerance (slow)")
    a = p.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as fa, open(a.compare[1]) as fb:
            print(compare(json.load(fa), json.load(fb)))
        return 0
    modes = [True] * (not a.fixed_only) + [False] * (not a.tolerance_only)
    import integrallimits
    print(integrallimits.__file__)
    rows = run(set(a.sets), modes, a.problems.split(",") if a.problems else None, a.progress,
               a.every_pair)
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
