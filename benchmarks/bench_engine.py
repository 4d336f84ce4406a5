"""Benchmark of the integrallimits engine against a plain NumPy baseline.

Run from the repository root::

    python benchmarks/bench_engine.py            # full run (a few minutes)
    python benchmarks/bench_engine.py --quick    # smaller N, fewer repetitions (< 1 minute)
    python benchmarks/bench_engine.py --json results.json

It measures, with the NumPy baseline run in the same process:

1. speed at equal work: ``method="trapezoid"`` at N = 4096 against a NumPy
   trapezoid loop (history sum vectorised per step, Newton with the analytic
   Jacobian per step) on the 'nonconvolution' (scalar) and 'vector' (d = 2)
   problems; the two answers are checked to agree to 1e-10;
2. time to reach a max error <= 1e-8 against the exact solution: the best of
   the package's high-order methods against the NumPy trapezoid loop
   (extrapolated with the measured growth when it would take too long);
3. start-up: ``import integrallimits`` and the first solve in a fresh process
   with an empty Numba cache (NUMBA_CACHE_DIR = a new temporary directory),
   then again in a fresh process that reuses that on-disk cache.

and prints a Markdown report (machine first).
"""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from _common import best_of, best_of_budget, fmt_ratio, fmt_time, met  # noqa: E402

import sympy as sp  # noqa: E402

from integrallimits import METHODS, solve_volterra  # noqa: E402
from integrallimits.volterra.problems import PROBLEMS  # noqa: E402

TOL = 1e-8
HIGH_ORDER = ("gregory6", "gregory8", "gauss3", "gauss4", "radau3", "rk4")
CASES = ("nonconvolution", "vector")
GOALS = {"speed": 2.5, "accuracy": 1000.0, "first_call": 3.0, "cached_call": 0.5}


# -- the machine -------------------------------------------------------------------------------

def machine_info():
    return _common.machine_info(sympy=sp.__version__)


# -- the NumPy baseline ------------------------------------------------------------------------
# The kernels below are the problems' kernels written by hand for arrays: t is a float,
# s an (n,) array and y an (n,) array (scalar problem) or an (n, d) array (vector problem);
# the same functions also take a single point (floats, or y of shape (d,)).

def nonconv_kernel(t, s, y):
    return (t + s + 1.0) * y * y


def nonconv_jacobian(t, s, y):
    return 2.0 * (t + s + 1.0) * y


def vector_kernel(t, s, y):
    y0 = y[..., 0]
    y1 = y[..., 1]
    return np.stack([(1.0 + t - s) * y0 * y1,
                     np.exp(s - t) * y0 - 0.5 * t * s * y1 * y1], axis=-1)


def vector_jacobian(t, s, y):
    return np.array([[(1.0 + t - s) * y[1], (1.0 + t - s) * y[0]],
                     [math.exp(s - t), -t * s * y[1]]])


BASELINE_KERNELS = {"nonconvolution": (nonconv_kernel, nonconv_jacobian),
                    "vector": (vector_kernel, vector_jacobian)}


# The package's 'vector' problem with its kernel written to return a tuple instead of
# ``np.array([...])``: the compiled solver then allocates nothing per kernel call.
def vector_tuple_kernel(t, s, y):
    """The package's 'vector' kernel returning a tuple instead of ``np.array([...])``: the
    compiled solver then allocates nothing per kernel call."""
    return ((1.0 + t - s) * y[0] * y[1], np.exp(s - t) * y[0] - 0.5 * t * s * y[1] ** 2)


def baseline_forcing(problem):
    """g on a whole mesh at once (vectorised), from the problem's SymPy forcing."""
    t = sp.Symbol("t", real=True)
    expr = problem.forcing_expr
    free = expr.free_symbols if problem.dim is None else set().union(*(e.free_symbols for e in expr))
    if free:
        t = next(iter(free))
    f = sp.lambdify(t, expr, modules="numpy")
    if problem.dim is None:
        return lambda ts: np.asarray(f(ts), dtype=float) + 0.0 * ts
    return lambda ts: np.stack(np.broadcast_arrays(*f(ts)), axis=-1).astype(float)


def check_baseline_kernels(name, problem, rng):
    """The hand-written kernels equal the problem's kernel and Jacobian (pointwise and on arrays)."""
    K, J = BASELINE_KERNELS[name]
    d = problem.dim
    for _ in range(20):
        t, s = sorted(rng.uniform(0.0, 1.0, 2))[::-1]
        y = rng.uniform(0.5, 1.5) if d is None else rng.uniform(0.5, 1.5, d)
        np.testing.assert_allclose(K(t, s, y), problem.kernel(t, s, y), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(J(t, s, y), problem.jacobian(t, s, y), rtol=1e-14, atol=1e-15)
    s = rng.uniform(0.0, 1.0, 7)
    ys = rng.uniform(0.5, 1.5, 7 if d is None else (7, d))
    rows = np.array([problem.kernel(0.9, si, yi) for si, yi in zip(s, ys)])
    np.testing.assert_allclose(K(0.9, s, ys), rows, rtol=1e-14, atol=1e-15)


def baseline_trapezoid(K, J, g_mesh, t_span, N, dim, tol=1e-12, maxiter=50):
    """y_n = g_n + h [K(t_n,t_0,y_0)/2 + sum_{0<j<n} K(t_n,t_j,y_j) + K(t_n,t_n,y_n)/2].

    The history sum is one vectorised kernel evaluation per step; y_n is found by Newton
    with the analytic Jacobian, from y_{n-1}, until |update| <= tol (1 + |y_n|).
    """
    t0, T = t_span
    t = t0 + (T - t0) * np.arange(N + 1) / N
    t[-1] = T
    h = (T - t0) / N
    hw = 0.5 * h
    G = g_mesh(t)
    y = np.empty_like(G)
    y[0] = G[0]
    if dim is None:  # scalar y: Newton in Python floats
        yn = float(y[0])
        for n in range(1, N + 1):
            tn = float(t[n])
            k = K(tn, t[:n], y[:n])
            c = float(G[n]) + h * (float(k.sum()) - 0.5 * float(k[0]))
            for _ in range(maxiter):
                step = (yn - c - hw * K(tn, tn, yn)) / (1.0 - hw * J(tn, tn, yn))
                yn -= step
                if abs(step) <= tol * (1.0 + abs(yn)):
                    break
            else:
                raise RuntimeError(f"baseline Newton failed at t = {tn}")
            y[n] = yn
    else:  # vector y: Newton with a d x d solve
        eye = np.eye(dim)
        yn = y[0].copy()
        for n in range(1, N + 1):
            tn = float(t[n])
            k = K(tn, t[:n], y[:n])
            c = G[n] + h * (k.sum(axis=0) - 0.5 * k[0])
            for _ in range(maxiter):
                step = np.linalg.solve(eye - hw * J(tn, tn, yn), yn - c - hw * K(tn, tn, yn))
                yn -= step
                if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(yn))):
                    break
            else:
                raise RuntimeError(f"baseline Newton failed at t = {tn}")
            y[n] = yn
    return t, y


# -- helpers ---------------------------------------------------------------------------------

def max_error(problem, t, y):
    return float(np.max(np.abs(np.asarray(y) - problem.exact(t))))


# -- the benchmarks ----------------------------------------------------------------------------

class Bench:
    def __init__(self, quick, log):
        self.quick = quick
        self.log = log
        self.problems = {name: PROBLEMS[name] for name in CASES}
        self.g_mesh = {name: baseline_forcing(p) for name, p in self.problems.items()}
        self.baseline_cache = {}  # (name, N) -> record
        self.base_reps = 2 if quick else 3
        self.base_budget = 2.0 if quick else 10.0
        # time to accuracy, baseline: measure the next N if predicted within measure_limit s,
        # or if it should reach the tolerance and is predicted within target_limit s
        self.measure_limit, self.target_limit = (2.0, 5.0) if quick else (20.0, 60.0)

    # the baseline, run once per (problem, N) and kept
    def baseline(self, name, N):
        key = (name, N)
        if key not in self.baseline_cache:
            p = self.problems[name]
            K, J = BASELINE_KERNELS[name]
            seconds, (t, y), reps = best_of_budget(
                lambda: baseline_trapezoid(K, J, self.g_mesh[name], p.t_span, N, p.dim),
                self.base_reps, self.base_budget)
            self.baseline_cache[key] = {"N": N, "seconds": seconds, "reps": reps,
                                        "error": max_error(p, t, y), "y": y}
            self.log(f"  baseline {name} N={N}: {fmt_time(seconds)} (best of {reps}), "
                     f"error {self.baseline_cache[key]['error']:.2e}")
        return self.baseline_cache[key]

    def package(self, name, N, method, kernel=None):
        p = self.problems[name]
        return solve_volterra(p.kernel if kernel is None else kernel, p.forcing, p.t_span, N,
                              method=method, jacobian=p.jacobian)

    # 1-2. equal work: trapezoid at N (optionally another user kernel for the same problem)
    def speed(self, name, N, kernel=None, label=None):
        p = self.problems[name]
        self.package(name, 16, "trapezoid", kernel)  # compile / load the kernel and the loop
        reps = 2 if self.quick else 3
        seconds, sol = best_of(lambda: self.package(name, N, "trapezoid", kernel), reps)
        assert sol.success, sol.message
        base = self.baseline(name, N)
        diff = float(np.max(np.abs(np.asarray(sol.y) - base["y"])))
        assert diff <= 1e-10, f"baseline and package trapezoid differ by {diff:.3e} on {name}"
        self.log(f"  package  {name} N={N}: {fmt_time(seconds)} (best of {reps}); "
                 f"|baseline - package| = {diff:.1e}")
        return {"problem": label or name, "N": N, "package_seconds": seconds, "package_reps": reps,
                "baseline_seconds": base["seconds"], "baseline_reps": base["reps"],
                "ratio": base["seconds"] / seconds, "max_difference": diff,
                "error": max_error(p, sol.t, sol.y)}

    # 3. time to accuracy, the package
    def package_to_accuracy(self, name):
        p = self.problems[name]
        reps = 3 if self.quick else 5
        rows = []
        for method in HIGH_ORDER:
            meth = METHODS[method]
            N, found = 4, None
            while N < meth.min_steps:
                N *= 2
            while N <= 16384:
                sol = self.package(name, N, method)  # the first of these also compiles
                err = max_error(p, sol.t, sol.y) if sol.success else math.inf
                if err <= TOL:
                    found = (N, err)
                    break
                N *= 2
            if found is None:
                rows.append({"method": method, "order": meth.order, "N": None, "error": None,
                             "seconds": math.inf})
                continue
            N, err = found
            self.package(name, N, method)  # warm-up
            seconds, _ = best_of(lambda: self.package(name, N, method), reps)
            rows.append({"method": method, "order": meth.order, "N": N, "error": err,
                         "seconds": seconds, "reps": reps})
            self.log(f"  package  {name} {method}: N={N}, error {err:.2e}, {fmt_time(seconds)}")
        return rows

    # 3. time to accuracy, the baseline (doubling; extrapolated past the time limits)
    def baseline_to_accuracy(self, name):
        measure_limit, target_limit = self.measure_limit, self.target_limit
        N = 256 if self.quick else 512
        runs = [self.baseline(name, N)]
        while runs[-1]["error"] > TOL:
            last = runs[-1]
            if len(runs) >= 2:
                prev = runs[-2]
                p_time = math.log2(last["seconds"] / prev["seconds"])
                q_err = max(math.log2(prev["error"] / last["error"]), 0.5)
            else:
                p_time, q_err = 2.0, 2.0
            predicted_time = last["seconds"] * 2.0 ** p_time
            predicted_error = last["error"] / 2.0 ** q_err
            final = predicted_error <= TOL
            if predicted_time <= measure_limit or (final and predicted_time <= target_limit):
                runs.append(self.baseline(name, 2 * last["N"]))
                continue
            # extrapolate: doubling until the predicted error reaches TOL
            k = 1
            while last["error"] / 2.0 ** (q_err * k) > TOL:
                k += 1
            N_target = last["N"] * 2 ** k
            return {"N": N_target, "seconds": last["seconds"] * 2.0 ** (p_time * k),
                    "error": last["error"] / 2.0 ** (q_err * k), "extrapolated": True,
                    "time_exponent": p_time, "error_order": q_err,
                    "from_N": last["N"], "runs": [_strip(r) for r in runs]}
        last = runs[-1]
        exponent = (math.log2(last["seconds"] / runs[-2]["seconds"]) if len(runs) >= 2 else None)
        return {"N": last["N"], "seconds": last["seconds"], "error": last["error"],
                "extrapolated": False, "time_exponent": exponent, "error_order": None,
                "from_N": None, "runs": [_strip(r) for r in runs]}

    def accuracy(self, name):
        rows = self.package_to_accuracy(name)
        best = min(rows, key=lambda r: r["seconds"])
        base = self.baseline_to_accuracy(name)
        return {"problem": name, "tolerance": TOL, "methods": rows, "best": best,
                "baseline": base, "ratio": base["seconds"] / best["seconds"]}


def _strip(run):
    return {k: v for k, v in run.items() if k != "y"}


# -- 4. start-up, in fresh processes -----------------------------------------------------------

_IMPORT_SCRIPT = """
import time
start = time.perf_counter()
import integrallimits
print(time.perf_counter() - start)
"""

_FIRST_CALL_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import integrallimits
from integrallimits import solve_volterra
imported = time.perf_counter()
sys.path.insert(0, {here!r})
import _kernels
import numpy as np
a = time.perf_counter()
sol = solve_volterra(_kernels.kernel, _kernels.forcing, (0.0, 1.0), 64, method="trapezoid",
                     jacobian=_kernels.jacobian)
first = time.perf_counter() - a
a = time.perf_counter()
sol = solve_volterra(_kernels.kernel, _kernels.forcing, (0.0, 1.0), 64, method="trapezoid",
                     jacobian=_kernels.jacobian)
second = time.perf_counter() - a
error = float(np.max(np.abs(sol.y - _kernels.exact(sol.t))))
print(json.dumps({{"import": imported - start, "first_call": first, "second_call": second,
                  "status": sol.status, "error": error}}))
"""


def _child_env(cache_dir=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ of _kernels behind
    env.pop("NUMBA_DISABLE_JIT", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def _run_child(script, env):
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"child process failed:\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1]


def _cache_files(directory):
    n = 0
    for _, _, files in os.walk(directory):
        n += sum(f.endswith((".nbi", ".nbc")) for f in files)
    return n


def import_breakdown():
    """Cumulative import time (s) of the heavy top-level packages, from ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import integrallimits"],
                          env=_child_env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
    cumulative = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            cum = int(parts[1].strip())
        except ValueError:
            continue
        module = parts[2].strip()
        if module in ("integrallimits", "numpy", "numba", "sympy", "scipy"):
            cumulative[module] = max(cumulative.get(module, 0), cum) / 1e6
    return cumulative


def startup(quick):
    reps = 3
    imports = [float(_run_child(_IMPORT_SCRIPT, _child_env())) for _ in range(reps)]
    with tempfile.TemporaryDirectory(prefix="integrallimits-numba-cache-") as cache_dir:
        env = _child_env(cache_dir)
        script = _FIRST_CALL_SCRIPT.format(here=HERE)
        assert _cache_files(cache_dir) == 0
        cold = json.loads(_run_child(script, env))
        files_cold = _cache_files(cache_dir)
        warm = json.loads(_run_child(script, env))
        files_warm = _cache_files(cache_dir)
    return {"import_median": statistics.median(imports), "import_runs": imports,
            "import_breakdown": import_breakdown(), "cold": cold, "cached": warm,
            "cache_files_after_cold": files_cold, "cache_files_after_cached": files_warm}


# -- the report --------------------------------------------------------------------------------

def report(machine, speed, accuracy, start, quick, total_seconds):
    out = []
    w = out.append
    w("# integrallimits engine benchmark" + (" (--quick)" if quick else ""))
    w("")
    w(f"- Machine: {machine['platform']}; CPU: {machine['cpu']}; {machine['cores']} cores "
      f"({machine['usable_cores']} usable)")
    w(f"- Python {machine['python']}, NumPy {machine['numpy']}, Numba {machine['numba']}, "
      f"SymPy {machine['sympy']}")
    w("- Baseline: NumPy trapezoid loop, history sum vectorised per step, Newton per step "
      "with the analytic Jacobian; run in this process.")
    w("")
    w("| Measurement | Problem | integrallimits | NumPy baseline | Ratio | Goal | Met |")
    w("|---|---|---|---|---|---|---|")
    for r in speed:
        w(f"| trapezoid, N = {r['N']} | {r['problem']} | {fmt_time(r['package_seconds'])} "
          f"(best of {r['package_reps']}) | {fmt_time(r['baseline_seconds'])} "
          f"(best of {r['baseline_reps']}) | {fmt_ratio(r['ratio'])} | >= {GOALS['speed']}x "
          f"| {met(r['ratio'] >= GOALS['speed'])} |")
    for a in accuracy:
        b, base = a["best"], a["baseline"]
        how = (f"extrapolated from N = {base['from_N']} (time ~ N^{base['time_exponent']:.2f}, "
               f"error ~ N^-{base['error_order']:.2f})" if base["extrapolated"] else "measured")
        w(f"| time to max error <= {TOL:g} | {a['problem']} | {fmt_time(b['seconds'])} "
          f"({b['method']}, N = {b['N']}, error {b['error']:.1e}) | {fmt_time(base['seconds'])} "
          f"(trapezoid, N = {base['N']}, error {base['error']:.1e}, {how}) | "
          f"{fmt_ratio(a['ratio'])} | >= {GOALS['accuracy']:,.0f}x "
          f"| {met(a['ratio'] >= GOALS['accuracy'])} |")
    c, k = start["cold"], start["cached"]
    w(f"| `import integrallimits` (fresh process, median of 3) | - | {fmt_time(start['import_median'])}"
      f" | - | - | - | - |")
    w(f"| first call, empty Numba cache (fresh process; import {fmt_time(c['import'])} not "
      f"included) | nonconvolution, N = 64 | {fmt_time(c['first_call'])} | - | - | "
      f"< {GOALS['first_call']:g} s | {met(c['first_call'] < GOALS['first_call'])} |")
    w(f"| first call, on-disk Numba cache (fresh process; import {fmt_time(k['import'])} not "
      f"included) | nonconvolution, N = 64 | {fmt_time(k['first_call'])} | - | - | "
      f"< {GOALS['cached_call']:g} s | {met(k['first_call'] < GOALS['cached_call'])} |")
    w("")
    w(f"Time to max error <= {TOL:g}, package methods (best of "
      f"{accuracy[0]['methods'][0].get('reps', '-')} after warm-up; smallest N in a doubling "
      f"sequence):")
    w("")
    w("| Problem | Method | Order | N | Max error | Time |")
    w("|---|---|---|---|---|---|")
    for a in accuracy:
        for r in a["methods"]:
            err = f"{r['error']:.1e}" if r["error"] is not None else "not reached"
            w(f"| {a['problem']} | {r['method']} | {r['order']} | {r['N']} | {err} | "
              f"{fmt_time(r['seconds'])} |")
    w("")
    w("NumPy baseline trapezoid runs (doubling N):")
    w("")
    w("| Problem | N | Max error | Time | Runs |")
    w("|---|---|---|---|---|")
    for a in accuracy:
        for r in a["baseline"]["runs"]:
            w(f"| {a['problem']} | {r['N']} | {r['error']:.2e} | {fmt_time(r['seconds'])} "
              f"| best of {r['reps']} |")
    w("")
    bd = ", ".join(f"{m} {fmt_time(s)}" for m, s in sorted(start["import_breakdown"].items(),
                                                           key=lambda kv: -kv[1]))
    w(f"Start-up details: import cumulative times (`-X importtime`, one run): {bd}. "
      f"Numba cache files after the cold run: {start['cache_files_after_cold']}, after the "
      f"cached run: {start['cache_files_after_cached']}. Second call in the same process: "
      f"{fmt_time(c['second_call'])} (cold run), {fmt_time(k['second_call'])} (cached run).")
    w("")
    w(f"Total benchmark time: {total_seconds:.0f} s.")
    return "\n".join(out)


def main(argv=None):
    parser = _common.arg_parser(__doc__, "smaller N, fewer repetitions")
    args = parser.parse_args(argv)

    log = _common.progress(args.verbose)

    begin = time.perf_counter()
    machine = machine_info()
    bench = Bench(args.quick, log)
    rng = np.random.default_rng(0)
    for name in CASES:
        check_baseline_kernels(name, bench.problems[name], rng)
    N = 1024 if args.quick else 4096
    log("equal work (trapezoid):")
    speed = [bench.speed(name, N) for name in CASES]
    speed.append(bench.speed("vector", N, kernel=vector_tuple_kernel,
                             label="vector, kernel returning a tuple"))
    log("time to accuracy:")
    accuracy = [bench.accuracy(name) for name in CASES]
    log("start-up:")
    start = startup(args.quick)
    total = time.perf_counter() - begin
    print(report(machine, speed, accuracy, start, args.quick, total))
    if args.json:
        results = {"machine": machine, "quick": args.quick, "goals": GOALS, "speed": speed,
                   "accuracy": accuracy, "startup": start, "total_seconds": total}
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
