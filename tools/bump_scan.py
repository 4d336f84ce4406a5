"""Scan fixed-mesh solves (``n_steps=N``) of data with a narrow feature between mesh points
for *misses* (a success whose largest error exceeds 20 times its largest error estimate, and
1e-13), as ``tools/fixedn_scan.py`` counts them.

The problems (on [0, 1], exact solutions in closed form), a feature on [c, c + 2 w] (a box on
[c, c + w]), w a number of steps (``--widths``, 3, 1, 0.5, 0.2 h), c at ``--places`` points
drawn from (0.05, 0.9) (seed 54) for each N:

* ``g-box``, ``g-tent``: y = g - int y, g = 1 + a box (a jump up and down) or a tent (kinks);
* ``K-box``, ``K-tent``: y = 1 + int c(s) y, c = 1 + a box or a tent.

Usage: ``PYTHONPATH=<worktree> python tools/bump_scan.py [--ns 1024,2048] [--methods ...]
[--json OUT]``; ``--compare A.json B.json`` compares two runs (misses, successes lost and
gained, estimates changed, evaluations).  Before ``_missed_integrals`` (stop 54), 36 misses of
6400 solves of gregory4/6/8 and trapezoid at N = 1024, 2048; after, 22: boxes of 0.2 h that
no point of the data check falls in (trapezoid; every method that samples the data misses
them), and a tent of K that fills one step symmetrically (its differences vanish at the
check's points, so no step is rough).
"""
import sys, json, math, time
import numpy as np
from integrallimits import solve_volterra

FACTOR, FLOOR = 20.0, 1e-13

# g box: y = g - int y, g = 1 + A*1[c, c+w]
def g_box(t, c, w, A):
    return 1.0 + (A if c <= t < c + w else 0.0)
def k_minus(t, s, y, c, w, A):
    return -y
def ex_g_box(t, c, w, A):
    t = np.asarray(t, float)
    I = np.exp(t) - 1.0 + A * np.clip(np.exp(np.minimum(t, c + w)) - math.exp(c), 0, None)
    g = 1.0 + np.where((t >= c) & (t < c + w), A, 0.0)
    return g - np.exp(-t) * I

# g tent (kink): g = 1 + A*max(0, 1-|t-m|/w) centred at m = c + w
def g_tent(t, c, w, A):
    m = c + w
    return 1.0 + A * max(0.0, 1.0 - abs(t - m) / w)
def _F(s, a, sgn, w):   # int e^s (1 + sgn*(s-a)/w) ds antiderivative
    return np.exp(s) * (1.0 + sgn * (s - a - 1.0) / w)
def ex_g_tent(t, c, w, A):
    t = np.asarray(t, float)
    m = c + w
    lo, hi = c, c + 2 * w
    # tent(s) = 1 - |s-m|/w : on [lo,m]: 1 + (s-m)/w ; on [m,hi]: 1 - (s-m)/w
    t1 = np.clip(t, lo, m); t2 = np.clip(t, m, hi)
    I = np.exp(t) - 1.0 + A * ((_F(t1, m, 1, w) - _F(lo, m, 1, w))
                               + (_F(t2, m, -1, w) - _F(m, m, -1, w)))
    g = 1.0 + A * np.maximum(0.0, 1.0 - np.abs(t - m) / w)
    return g - np.exp(-t) * I

# K box in s: y = 1 + int c(s) y, c = 1 + A*1[c, c+w]
def one(t, c, w, A):
    return 1.0
def k_box(t, s, y, c, w, A):
    return (1.0 + (A if c <= s < c + w else 0.0)) * y
def ex_k_box(t, c, w, A):
    t = np.asarray(t, float)
    return np.exp(t + A * np.clip(np.minimum(t, c + w) - c, 0, None))

# K tent in s
def k_tent(t, s, y, c, w, A):
    return (1.0 + A * max(0.0, 1.0 - abs(s - c - w) / w)) * y
def ex_k_tent(t, c, w, A):
    t = np.asarray(t, float)
    m = c + w
    t1 = np.clip(t, c, m); t2 = np.clip(t, m, c + 2 * w)
    # int_c^t1 (1 + (s-m)/w) ds = (t1-c) + ((t1-m)^2 - w^2)/(2w)
    C1 = (t1 - c) + ((t1 - m) ** 2 - w * w) / (2 * w)
    C2 = (t2 - m) - ((t2 - m) ** 2) / (2 * w)
    return np.exp(t + A * (C1 + C2))

DATA = {"g-box": (k_minus, g_box, ex_g_box), "g-tent": (k_minus, g_tent, ex_g_tent),
        "K-box": (k_box, one, ex_k_box), "K-tent": (k_tent, one, ex_k_tent)}

def run(data, method, n, c, w, A=1.0):
    K, g, f = DATA[data]
    t0 = time.process_time()
    sol = solve_volterra(K, g, (0.0, 1.0), method=method, n_steps=n, args=(c, w, A))
    cpu = time.process_time() - t0
    y = np.asarray(sol.y, float).reshape(-1)
    err = float(np.max(np.abs(y - f(sol.t, c, w, A)))) if y.size else math.nan
    est = float(sol.stats.get("max_error_estimate", math.nan))
    miss = bool(sol.success and not (err <= FACTOR * est or err <= FLOOR))
    return dict(data=data, method=method, n=n, c=c, w=w, success=bool(sol.success),
                failure=sol.stats.get("failure"), error=err, estimate=est, miss=miss,
                nfev=int(sol.stats.get("nfev", 0)), cpu=cpu, message=sol.message)

def compare(a, b):
    key = lambda r: (r["data"], r["method"], r["n"], r["c"], r["wsteps"])   # noqa: E731
    B = {key(r): r for r in json.load(open(b))}
    A = [r for r in json.load(open(a)) if key(r) in B]
    print(f"{len(A)} solves; misses {sum(r['miss'] for r in A)} -> "
          f"{sum(B[key(r)]['miss'] for r in A)}; successes {sum(r['success'] for r in A)} -> "
          f"{sum(B[key(r)]['success'] for r in A)}")
    lost = [r for r in A if r["success"] and not B[key(r)]["success"]]
    gained = [r for r in A if not r["success"] and B[key(r)]["success"]]
    print(f"successes lost {len(lost)} ({sum(not r['miss'] for r in lost)} of them right), "
          f"gained {len(gained)}")
    for r in A:
        s = B[key(r)]
        if r["miss"] != s["miss"] or r["success"] != s["success"]:
            print(f"{'fixed' if r['miss'] else 'changed':8s} {key(r)} err {r['error']:.3g} "
                  f"est {r['estimate']:.3g} {r['success']} -> est {s['estimate']:.3g} "
                  f"{s['success']}")
    raised = [B[key(r)]["estimate"] / r["estimate"] for r in A
              if r["success"] and B[key(r)]["success"] and B[key(r)]["estimate"] != r["estimate"]]
    print(f"estimates changed {len(raised)}" +
          (f" (x{min(raised):.3g}-{max(raised):.3g})" if raised else ""))
    print(f"nfev total x{sum(B[key(r)]['nfev'] for r in A) / sum(r['nfev'] for r in A):.4f}")


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--methods", default="gregory4,gregory6,gregory8,trapezoid,rk4")
    p.add_argument("--ns", default="1024,2048")
    p.add_argument("--data", default="g-box,g-tent,K-box,K-tent")
    p.add_argument("--widths", default="3,1,0.5,0.3")   # in steps
    p.add_argument("--places", type=int, default=50)
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    a = p.parse_args()
    if a.compare:
        compare(*a.compare)
        raise SystemExit
    rows = []
    rng = np.random.default_rng(54)
    for n in map(int, a.ns.split(",")):
        h = 1.0 / n
        starts = rng.uniform(0.05, 0.9, a.places)
        for data in a.data.split(","):
            for wsteps in map(float, a.widths.split(",")):
                for method in a.methods.split(","):
                    for c in starts:
                        r = run(data, method, n, float(c), wsteps * h)
                        r["wsteps"] = wsteps
                        rows.append(r)
                        if r["miss"]:
                            print(f"MISS {data} w={wsteps}h {method} N={n} c={c:.6f} "
                                  f"err {r['error']:.3g} est {r['estimate']:.3g}", flush=True)
                    sel = [r for r in rows if (r["data"], r["method"], r["n"], r["wsteps"])
                           == (data, method, n, wsteps)]
                    print(f"{data} w={wsteps}h {method} N={n}: {len(sel)} solves "
                          f"{sum(r['success'] for r in sel)} succ {sum(r['miss'] for r in sel)} "
                          f"miss nfev {sum(r['nfev'] for r in sel)} "
                          f"cpu {sum(r['cpu'] for r in sel):.1f}", flush=True)
    print(f"all: {len(rows)} solves, {sum(r['success'] for r in rows)} successes, "
          f"{sum(r['miss'] for r in rows)} misses")
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=0)
