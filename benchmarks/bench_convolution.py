"""Benchmark of the fast convolution history and the collocation methods.

Run from the repository root::

    python benchmarks/bench_convolution.py            # full run (a few minutes)
    python benchmarks/bench_convolution.py --quick    # smaller N, fewer repetitions (< 1 minute)
    python benchmarks/bench_convolution.py --json results.json

It measures, with every baseline run in the same process:

1. against **voles** (``solve_VIE_2``, array input, blocked-FFT history in a compiled D
   extension) on its quick-start problem y(t) = g(t) + int_0^t e^{-(t-s)} y(s) ds,
   y = sin t, g(t) = sin t - (sin t - cos t + e^{-t}) / 2 on [0, 2]:

   a. the time to reach a max error <= 1e-12 on the returned samples: voles' defaults
      and a few of its collocation settings, with 2^k + 1 samples (k doubling the
      resolution), against gregory6/8, gauss3/4 and radau3 with
      ``kernels.convolution`` (fast history), N doubling;
   b. the time at equal N (2^14, 2^16, 2^18; --quick: 2^14, 2^16): voles with N kernel
      samples in each of its settings, against gregory6 (with the error estimate, on by
      default, and without) and trapezoid with N steps (fast history), all interleaved
      (each round runs every solve once, best of the rounds), with the errors; goal:
      gregory6 <= 1x voles' fastest setting at that N and <= 1x the fastest setting at
      gregory6's accuracy (max error at most twice gregory6's);

   voles' times include sampling K and g on its grid (integrallimits samples the
   callables itself); goal (a.): integrallimits within 1.5x of voles' time at equal accuracy;
2. a nonlinear convolution problem, y = g + int_0^t e^{-(t-s)} y(s)^2 ds with y = e^{-t},
   g = e^{-2t}, on [0, 1]: trapezoid and gauss2 with the fast history at N = 2^12 ... 2^18,
   the growth time(2N)/time(N) and time(4N)/time(N) (goal: <= 5 at large N), against the
   direct O(N^2) history (measured while it takes < ~20 s, beyond that extrapolated with
   N^2) and max |fast - direct| where both ran;
3. the time to reach a max error <= 1e-10 on the engine's nonlinear benchmark problems
   ('nonconvolution', 'vector'): collocation (gauss2/3/4, radau3) against the direct
   quadrature methods (trapezoid, gregory4/6/8); smallest N in a doubling sequence,
   best of 5 timings after a warm-up (extrapolated when the next doubling would take
   too long);

4. one FFT block of the history (L sources padded to 2L, product with the kernel's transform,
   L targets), L = 2^5 ... 2^15: the package's real FFTs against rocket-fft (pocketfft, the
   numpy.fft of Numba code; in the `bench` extra) doing the same with numpy.fft.rfft/irfft,
   best of several runs of many blocks (skipped without rocket-fft);

and prints a Markdown report (machine first).
"""
from __future__ import annotations

import faulthandler
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from _common import (best_of, best_of_budget, best_of_interleaved, fmt_ratio, fmt_time,  # noqa: E402
                     load_average, met, timed)  # noqa: E402

import scipy  # noqa: E402

from integrallimits import METHODS, solve_volterra  # noqa: E402
from integrallimits.kernels import convolution  # noqa: E402
from integrallimits.volterra.problems import PROBLEMS  # noqa: E402

try:
    import voles
    from voles import solve_VIE_2
except ImportError:  # the `bench` extra is not installed
    voles = None

VOLES_T = 2.0          # voles' quick start samples [0, 2] (its np.arange grid stops at 2.05)
VOLES_TOL = 1e-12
EQUAL_N = (2 ** 14, 2 ** 16, 2 ** 18)          # --quick: the first two
EQUAL_N_SOLVES = (("gregory6", True), ("gregory6", False), ("trapezoid", True))  # (method, estimate)
EQUAL_ACCURACY = 2.0   # voles at gregory6's accuracy: max error at most this times gregory6's
VOLES_SETTINGS = (  # (label, keyword arguments of solve_VIE_2); defaults first
    ("defaults (coll_divs=2, nodes [0,1,2], product)", {}),
    ("coll_divs=3, product", {"coll_divs": 3}),
    ("coll_divs=4, product", {"coll_divs": 4}),
    ("coll_divs=2, collocation", {"coll_divs": 2, "quadrature": "collocation"}),
    ("coll_divs=3, collocation", {"coll_divs": 3, "quadrature": "collocation"}),
    ("coll_divs=4, collocation", {"coll_divs": 4, "quadrature": "collocation"}),
)
VOLES_METHODS = ("gregory6", "gregory8", "gauss3", "gauss4", "radau3")
NONLINEAR_METHODS = ("trapezoid", "gauss2")
COLLOCATION = ("gauss2", "gauss3", "gauss4", "radau3")
QUADRATURE = ("trapezoid", "gregory4", "gregory6", "gregory8")
ACCURACY_CASES = ("nonconvolution", "vector")
ACCURACY_TOL = 1e-10
GOALS = {"voles_ratio": 1.5, "equal_n_ratio": 1.0, "growth_4N": 5.0}


# -- the machine -------------------------------------------------------------------------------

def machine_info():
    return _common.machine_info(scipy=scipy.__version__,
                                 voles=getattr(voles, "__version__", None) if voles is not None else None,
                                 load_average=load_average())


# -- helpers ---------------------------------------------------------------------------------

def fmt_err(e):
    return "n/a" if e is None or not math.isfinite(e) else f"{e:.1e}"


def pow2(N):
    k = int(round(math.log2(N)))
    return f"2^{k}" if 2 ** k == N else str(N)


# -- 1. against voles --------------------------------------------------------------------------

def quickstart_exact(t):
    return np.sin(t)


def quickstart_forcing(t):
    """g(t) = sin t - int_0^t e^{-(t-s)} sin s ds; NumPy, so it takes floats and arrays."""
    return np.sin(t) - 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))


def voles_solve(n_samples, settings):
    """voles' quick start with ``n_samples`` samples on [0, VOLES_T] (sampling included)."""
    t = np.linspace(0.0, VOLES_T, n_samples)
    h = VOLES_T / (n_samples - 1)
    y = solve_VIE_2(kernel_values=np.exp(-t), g_values=quickstart_forcing(t), time_step=h,
                    show_warnings=False, **settings)
    return t, y


class VolesBench:
    def __init__(self, quick, log):
        self.quick, self.log = quick, log
        self.reps = 3 if quick else 5
        self.max_samples_log2 = 18 if quick else 20
        self.max_steps = 2 ** 14 if quick else 2 ** 16
        # K(t, s, y) = e^{-(t - s)} y: one kernel object, built (compiled) once per y shape
        self.kernel = convolution(lambda u: math.exp(-u))

    def package_solve(self, N, method, error_estimate=True):
        return solve_volterra(self.kernel, quickstart_forcing, (0.0, VOLES_T), N, method=method,
                              error_estimate=error_estimate)

    # a. voles: each setting, 2^k + 1 samples, k + 1 until the error <= tol
    def voles_to_accuracy(self):
        rows = []
        for label, settings in VOLES_SETTINGS:
            sweep, found = [], None
            for k in range(4, self.max_samples_log2 + 1):
                n = 2 ** k + 1
                try:
                    t, y = voles_solve(n, settings)  # the first of these also loads / compiles
                except Exception as exc:  # an inadmissible length for this setting
                    sweep.append({"samples": n, "error": None, "failure": repr(exc)})
                    continue
                err = float(np.max(np.abs(y - quickstart_exact(t))))
                sweep.append({"samples": n, "error": err})
                if err <= VOLES_TOL:
                    found = (n, err)
                    break
            row = {"setting": label, "kwargs": settings, "sweep": sweep}
            if found is None:
                row.update(samples=None, error=None, seconds=math.inf)
            else:
                n, err = found
                voles_solve(n, settings)  # warm-up
                seconds, _ = best_of(lambda: voles_solve(n, settings), self.reps)
                row.update(samples=n, error=err, seconds=seconds, reps=self.reps)
                self.log(f"  voles {label}: {n} samples, error {err:.2e}, {fmt_time(seconds)}")
            rows.append(row)
        return rows

    # a. integrallimits: each method, N doubling until the error <= tol
    def package_to_accuracy(self):
        rows = []
        for method in VOLES_METHODS:
            meth = METHODS[method]
            N, found, sweep = 4, None, []
            while N < meth.min_steps:
                N *= 2
            while N <= self.max_steps:
                sol = self.package_solve(N, method)  # the first of these also compiles
                assert sol.stats["fast_history"], f"{method}: the fast history was not used"
                err = float(np.max(np.abs(sol.y - quickstart_exact(sol.t)))) if sol.success else math.inf
                sweep.append({"N": N, "error": err})
                if err <= VOLES_TOL:
                    found = (N, err)
                    break
                N *= 2
            row = {"method": method, "order": meth.order, "sweep": sweep}
            if found is None:
                row.update(N=None, error=None, seconds=math.inf)
            else:
                N, err = found
                self.package_solve(N, method)  # warm-up
                seconds, sol = best_of(lambda: self.package_solve(N, method), self.reps)
                row.update(N=N, error=err, seconds=seconds, reps=self.reps,
                           loop_seconds=sol.stats["seconds"])
                self.log(f"  integrallimits {method}: N={N}, error {err:.2e}, {fmt_time(seconds)}")
            rows.append(row)
        return rows

    # b. at equal N: every voles setting and the package's solves, interleaved
    def at_equal_n(self, N):
        fns, errors = {}, {}
        for label, settings in VOLES_SETTINGS:
            try:
                t, y = voles_solve(N, settings)  # (also a warm-up)
            except Exception as exc:  # an inadmissible length for this setting
                errors[label] = repr(exc)
                continue
            errors[label] = float(np.max(np.abs(y - quickstart_exact(t))))
            fns[label] = lambda settings=settings: voles_solve(N, settings)
        for method, estimate in EQUAL_N_SOLVES:
            label = f"{method}{'' if estimate else ', no estimate'}"
            sol = self.package_solve(N, method, estimate)  # warm-up (and compilation)
            assert sol.success and sol.stats["fast_history"], f"{method} at N = {N}"
            errors[label] = float(np.max(np.abs(sol.y - quickstart_exact(sol.t))))
            fns[label] = lambda method=method, estimate=estimate: self.package_solve(N, method,
                                                                                    estimate)
        timings = best_of_interleaved(fns, self.reps)
        voles = [{"setting": label, "kwargs": kw, "samples": N, "error": errors[label],
                  "seconds": timings[label][0] if label in timings else math.inf}
                 for label, kw in VOLES_SETTINGS]
        package = [{"method": method, "error_estimate": estimate, "N": N,
                    "error": errors[label], "seconds": timings[label][0]}
                   for method, estimate in EQUAL_N_SOLVES
                   for label in [f"{method}{'' if estimate else ', no estimate'}"]]
        for r in voles + package:
            self.log(f"  N = {pow2(N)}: {r.get('setting') or r['method']}"
                     f"{'' if r.get('error_estimate', True) else ', no estimate'}: "
                     f"{fmt_time(r['seconds'])}, error {fmt_err(r['error'])}")
        ran = [r for r in voles if math.isfinite(r["seconds"])]
        fastest = min(ran, key=lambda r: r["seconds"], default=None)
        g6 = package[0]
        accurate = [r for r in ran if r["error"] <= EQUAL_ACCURACY * g6["error"]]
        equal = min(accurate, key=lambda r: r["seconds"], default=None)
        return {"N": N, "voles": voles, "package": package, "reps": self.reps,
                "voles_fastest": fastest, "voles_equal_accuracy": equal,
                "ratio_vs_fastest": g6["seconds"] / fastest["seconds"] if fastest else None,
                "ratio_vs_fastest_no_estimate": (package[1]["seconds"] / fastest["seconds"]
                                                 if fastest else None),
                "ratio_vs_equal_accuracy": g6["seconds"] / equal["seconds"] if equal else None,
                "ratio_vs_equal_accuracy_no_estimate": (package[1]["seconds"] / equal["seconds"]
                                                        if equal else None)}

    def run(self):
        voles_rows = self.voles_to_accuracy()
        package_rows = self.package_to_accuracy()
        best_voles = min(voles_rows, key=lambda r: r["seconds"])
        best_package = min(package_rows, key=lambda r: r["seconds"])
        equal_n = [self.at_equal_n(N) for N in (EQUAL_N[:2] if self.quick else EQUAL_N)]
        return {"T": VOLES_T, "tolerance": VOLES_TOL, "voles": voles_rows, "package": package_rows,
                "best_voles": best_voles, "default_voles": voles_rows[0],
                "best_package": best_package,
                "ratio_vs_best": best_package["seconds"] / best_voles["seconds"],
                "ratio_vs_default": best_package["seconds"] / voles_rows[0]["seconds"],
                "equal_n": equal_n}


# -- 2. the nonlinear convolution problem ------------------------------------------------------

def nonlinear_forcing(t):
    return np.exp(-2.0 * t)


def nonlinear_exact(t):
    return np.exp(-t)


class NonlinearBench:
    def __init__(self, quick, log):
        self.quick, self.log = quick, log
        self.Ns = [2 ** k for k in (range(10, 15) if quick else range(12, 19))]
        self.large_N = self.Ns[-1] if quick else 2 ** 16  # the growth goal applies from here
        self.fast_reps, self.fast_budget = (2, 2.0) if quick else (3, 15.0)
        self.direct_reps, self.direct_budget = (2, 2.0) if quick else (3, 10.0)
        self.direct_limit = 2.0 if quick else 20.0  # run the direct history while predicted below
        # K(t, s, y) = e^{-(t - s)} y^2
        self.kernel = convolution(lambda u: math.exp(-u), lambda s, y: y * y,
                                  phi_jacobian=lambda s, y: 2.0 * y)

    def solve(self, N, method, fast):
        return solve_volterra(self.kernel, nonlinear_forcing, (0.0, 1.0), N, method=method,
                              fast_history=fast)

    def method(self, method):
        self.solve(64, method, True)  # compile both loops
        self.solve(64, method, False)
        rows, last_direct = [], None
        for N in self.Ns:
            seconds, sol, reps = best_of_budget(lambda: self.solve(N, method, True),
                                                self.fast_reps, self.fast_budget)
            assert sol.success and sol.stats["fast_history"]
            row = {"N": N, "fast_seconds": seconds, "fast_reps": reps,
                   "error": float(np.max(np.abs(sol.y - nonlinear_exact(sol.t))))}
            # the direct history: measure if predicted within the limit, else extrapolate ~ N^2
            if last_direct is None:
                predicted = 0.0
            else:
                growth = max(4.0, last_direct["growth"] or 4.0)
                predicted = last_direct["seconds"] * growth * (N / last_direct["N"] / 2) ** 2
            if predicted <= self.direct_limit:
                d_seconds, d_sol, d_reps = best_of_budget(lambda: self.solve(N, method, False),
                                                          self.direct_reps, self.direct_budget)
                assert d_sol.success and not d_sol.stats["fast_history"]
                growth = d_seconds / last_direct["seconds"] if last_direct else None
                last_direct = {"N": N, "seconds": d_seconds, "growth": growth}
                row.update(direct_seconds=d_seconds, direct_reps=d_reps, direct_extrapolated=False,
                           max_abs_difference=float(np.max(np.abs(sol.y - d_sol.y))))
            else:
                row.update(direct_seconds=last_direct["seconds"] * (N / last_direct["N"]) ** 2,
                           direct_reps=0, direct_extrapolated=True, max_abs_difference=None)
            row["speedup"] = row["direct_seconds"] / seconds
            rows.append(row)
            self.log(f"  {method} N={N}: fast {fmt_time(seconds)}, direct "
                     f"{fmt_time(row['direct_seconds'])}"
                     f"{' (extrapolated)' if row['direct_extrapolated'] else ''}, "
                     f"|fast - direct| {fmt_err(row['max_abs_difference'])}")
        by_n = {r["N"]: r for r in rows}
        for r in rows:
            half, quarter = by_n.get(r["N"] // 2), by_n.get(r["N"] // 4)
            r["growth_2N"] = r["fast_seconds"] / half["fast_seconds"] if half else None
            r["growth_4N"] = r["fast_seconds"] / quarter["fast_seconds"] if quarter else None
            # the N log^2 N model: time(N) / time(N / 4)
            k = math.log2(r["N"])
            r["model_4N"] = 4.0 * (k / (k - 2)) ** 2
            r["goal_applies"] = r["N"] >= self.large_N and r["growth_4N"] is not None
        return {"method": method, "order": METHODS[method].order, "rows": rows}

    def run(self):
        return [self.method(m) for m in NONLINEAR_METHODS]


# -- 3. time to 1e-10 on the engine's nonlinear problems ---------------------------------------

class AccuracyBench:
    def __init__(self, quick, log):
        self.quick, self.log = quick, log
        self.reps = 3 if quick else 5
        self.budget = 5.0 if quick else 15.0  # for the best-of-reps timing of one method
        self.measure_limit = 1.0 if quick else 10.0  # measure the next N while predicted below

    def solve(self, problem, N, method):
        return solve_volterra(problem.kernel, problem.forcing, problem.t_span, N, method=method,
                              jacobian=problem.jacobian)

    def method(self, name, method):
        p = PROBLEMS[name]
        meth = METHODS[method]
        N = 4
        while N < meth.min_steps:
            N *= 2
        self.solve(p, N, method)  # compile (or load) the loop before the sweep
        runs = []
        while True:
            seconds, sol = timed(lambda: self.solve(p, N, method))
            err = float(np.max(np.abs(np.asarray(sol.y) - p.exact(sol.t)))) if sol.success else math.inf
            runs.append({"N": N, "error": err, "seconds": seconds})
            if err <= ACCURACY_TOL:
                break
            # predict the next doubling from the last two runs (time exponent clamped to [1, 2.5]:
            # runs of a few ms are noisy)
            if len(runs) >= 2 and runs[-2]["error"] > 0 and math.isfinite(runs[-2]["error"]):
                p_time = min(max(math.log2(runs[-1]["seconds"] / runs[-2]["seconds"]), 1.0), 2.5)
                q_err = max(math.log2(runs[-2]["error"] / runs[-1]["error"]), 0.5)
            else:
                p_time, q_err = 2.0, float(meth.order)
            if runs[-1]["seconds"] * 2.0 ** p_time <= self.measure_limit:
                N *= 2
                continue
            # extrapolate: doubling until the predicted error reaches the tolerance
            k = 1
            while err / 2.0 ** (q_err * k) > ACCURACY_TOL:
                k += 1
            return {"method": method, "order": meth.order, "N": N * 2 ** k,
                    "error": err / 2.0 ** (q_err * k), "seconds": seconds * 2.0 ** (p_time * k),
                    "extrapolated": True, "from_N": N, "time_exponent": p_time,
                    "error_order": q_err, "runs": runs}
        self.solve(p, N, method)  # warm-up
        seconds, sol, reps = best_of_budget(lambda: self.solve(p, N, method), self.reps, self.budget)
        self.log(f"  {name} {method}: N={N}, error {err:.2e}, {fmt_time(seconds)} (best of {reps})")
        return {"method": method, "order": meth.order, "N": N, "error": err, "seconds": seconds,
                "reps": reps, "extrapolated": False, "runs": runs}

    def problem(self, name):
        coll = [self.method(name, m) for m in COLLOCATION]
        quad = [self.method(name, m) for m in QUADRATURE]
        best_c = min(coll, key=lambda r: r["seconds"])
        best_q = min(quad, key=lambda r: r["seconds"])
        return {"problem": name, "tolerance": ACCURACY_TOL, "collocation": coll, "quadrature": quad,
                "best_collocation": best_c, "best_quadrature": best_q,
                "ratio": best_q["seconds"] / best_c["seconds"]}

    def run(self):
        return [self.problem(name) for name in ACCURACY_CASES]


# -- 4. one FFT block: the package's FFT against rocket-fft ---------------------------------------

def fft_blocks(quick, log):
    """[{L, package, rocket}] seconds per block, or None without rocket-fft."""
    try:
        import rocket_fft  # noqa: F401  (registers numpy.fft for Numba)
    except ImportError:
        return None
    from numba import njit

    from integrallimits.volterra import _fft

    @njit(nogil=True)
    def package(x, khat, re, im, tw, out, L, reps):
        for _ in range(reps):
            _fft.forward_block(x, re, im, L, tw)
            for f in range(L + 1):
                kr, ki = khat[f].real, khat[f].imag
                a = kr * re[f] - ki * im[f]
                im[f] = kr * im[f] + ki * re[f]
                re[f] = a
            _fft.inverse_block(re, im, L, tw, out)

    @njit(nogil=True)
    def rocket(x, kf, out, L, reps):
        for _ in range(reps):
            y = np.fft.irfft(np.fft.rfft(x, 2 * L) * kf, 2 * L)
            for j in range(L):
                out[j] += y[L + j]

    rows = []
    for k in range(5, 16, 2 if quick else 1):
        L = 2 ** k
        reps = max(1, 2 ** 16 // L)
        rng = np.random.default_rng(k)
        x, kappa = rng.standard_normal(L), rng.standard_normal(2 * L)
        kf = np.fft.rfft(kappa)
        khat = np.ascontiguousarray((kf / (4 * L))[_fft.packed_order(L)])
        tw, re, im = _fft.twiddle_table(L), np.empty(L + 1), np.empty(L + 1)
        out_p, out_r = np.zeros(L), np.zeros(L)
        fns = {"package": lambda: package(x, khat, re, im, tw, out_p, L, reps),
               "rocket": lambda: rocket(x, kf, out_r, L, reps)}
        best = best_of_interleaved(fns, 3 if quick else 5)
        assert np.allclose(out_p, out_r, rtol=1e-9, atol=1e-9 * np.max(np.abs(out_r)))
        rows.append({"L": L, "package": best["package"][0] / reps, "rocket": best["rocket"][0] / reps})
        log(f"  L = {pow2(L)}: package {rows[-1]['package'] * 1e6:.2f} us, rocket-fft "
            f"{rows[-1]['rocket'] * 1e6:.2f} us")
    return rows


# -- the report --------------------------------------------------------------------------------

def report(machine, vb, nl, acc, blocks, quick, total_seconds):
    out = []
    w = out.append
    w("# integrallimits fast convolution / collocation benchmark" + (" (--quick)" if quick else ""))
    w("")
    w(f"- Machine: {machine['platform']}; CPU: {machine['cpu']}; {machine['cores']} cores "
      f"({machine['usable_cores']} usable)")
    w(f"- Python {machine['python']}, NumPy {machine['numpy']}, SciPy {machine['scipy']}, "
      f"Numba {machine['numba']}, voles {machine['voles'] or 'not installed'}")
    start_load, end_load = machine["load_average"], machine.get("load_average_end")
    w(f"- 1-minute load average ({machine['usable_cores']} = as many busy processes as cores): "
      f"{'n/a' if start_load is None else format(start_load, '.2f')} at the start, "
      f"{'n/a' if end_load is None else format(end_load, '.2f')} at the end")
    w("- All timings: best of k after a warm-up, in this process; voles' times include "
      "sampling K and g on its grid.")
    w("")

    # 1. voles
    w(f"## 1. Against voles: quick-start problem K(s) = e^-s, y = sin t on [0, {VOLES_T:g}]")
    w("")
    if vb is None:
        w("voles is not installed (`pip install .[bench]`): skipped.")
        w("")
    else:
        bp, bv, dv = vb["best_package"], vb["best_voles"], vb["default_voles"]
        goal = GOALS["voles_ratio"]
        w("| Measurement | integrallimits | voles | Ratio (integrallimits / voles time) "
          "| Goal | Met |")
        w("|---|---|---|---|---|---|")
        for label, v, ratio in (("voles' fastest setting", bv, vb["ratio_vs_best"]),
                                ("voles' defaults", dv, vb["ratio_vs_default"])):
            w(f"| time to max error <= {VOLES_TOL:g}, vs {label} | {fmt_time(bp['seconds'])} "
              f"({bp['method']}, N = {bp['N']}, error {fmt_err(bp['error'])}) | "
              f"{fmt_time(v['seconds'])} ({v['setting']}, {v['samples']} samples, error "
              f"{fmt_err(v['error'])}) | {fmt_ratio(ratio)} | <= {goal:g}x | {met(ratio <= goal)} |")
        w("")
        w(f"voles settings (2^k + 1 samples, k increased until max error <= {VOLES_TOL:g}; best of "
          f"{bv.get('reps', '-')}):")
        w("")
        w("| Setting | Samples | Max error | Time | Errors along the sweep |")
        w("|---|---|---|---|---|")
        for r in vb["voles"]:
            sweep = ", ".join(f"{s['samples']}: {fmt_err(s['error'])}" for s in r["sweep"][-4:])
            w(f"| {r['setting']} | {r['samples'] or 'not reached'} | {fmt_err(r['error'])} | "
              f"{fmt_time(r['seconds'])} | {sweep} |")
        w("")
        w(f"integrallimits methods (`kernels.convolution`, fast history; N doubling until max "
          f"error <= {VOLES_TOL:g}; best of {bp.get('reps', '-')}; 'in the solver' = "
          f"sol.stats['seconds']: sampling g and k, the kernel transforms and the compiled loop; "
          f"the rest is argument checks and kernel/forcing set-up):")
        w("")
        w("| Method | Order | N | Max error | Time | of which in the solver |")
        w("|---|---|---|---|---|---|")
        for r in vb["package"]:
            w(f"| {r['method']} | {r['order']} | {r['N'] or 'not reached'} | {fmt_err(r['error'])} "
              f"| {fmt_time(r['seconds'])} | {fmt_time(r.get('loop_seconds'))} |")
        w("")
        w(f"At equal N (voles: N kernel samples; integrallimits: N steps, fast history; every "
          f"solve once per round, best of {vb['equal_n'][0]['reps']} rounds; 'equal accuracy': "
          f"voles' fastest setting with max error <= {EQUAL_ACCURACY:g}x gregory6's; goal: "
          f"gregory6 <= {GOALS['equal_n_ratio']:g}x):")
        w("")
        w("| N | gregory6 (error estimate on) | gregory6, no estimate | trapezoid | voles fastest "
          "| voles at equal accuracy | Ratio vs fastest (no estimate) | Ratio at equal accuracy "
          "(no estimate) | Met |")
        w("|---|---|---|---|---|---|---|---|---|")
        for e in vb["equal_n"]:
            g6, g6n, tr = (f"{fmt_time(r['seconds'])} (error {fmt_err(r['error'])})"
                           for r in e["package"])
            f, q = (f"{fmt_time(r['seconds'])} ({r['setting']}, error {fmt_err(r['error'])})"
                    if r else "none" for r in (e["voles_fastest"], e["voles_equal_accuracy"]))
            ok = [x <= GOALS["equal_n_ratio"] for x in (e["ratio_vs_fastest"],
                                                        e["ratio_vs_equal_accuracy"]) if x]
            w(f"| {pow2(e['N'])} | {g6} | {g6n} | {tr} | {f} | {q} | "
              f"{fmt_ratio(e['ratio_vs_fastest'])} ({fmt_ratio(e['ratio_vs_fastest_no_estimate'])}) | "
              f"{fmt_ratio(e['ratio_vs_equal_accuracy'])} "
              f"({fmt_ratio(e['ratio_vs_equal_accuracy_no_estimate'])}) | "
              f"{met(all(ok)) if ok else '-'} |")
        w("")
        w("voles at equal N, every setting:")
        w("")
        w("| N | Setting | Time | Max error |")
        w("|---|---|---|---|")
        for e in vb["equal_n"]:
            for r in e["voles"]:
                w(f"| {pow2(e['N'])} | {r['setting']} | {fmt_time(r['seconds'])} | "
                  f"{fmt_err(r['error']) if isinstance(r['error'], float) else r['error']} |")
        w("")

    # 2. nonlinear convolution
    w("## 2. Nonlinear convolution: y = g + int_0^t e^-(t-s) y(s)^2 ds, y = e^-t, on [0, 1]")
    w("")
    large = min((r["N"] for m in nl for r in m["rows"] if r["goal_applies"]), default=None)
    w(f"Fast (blocked FFT) history against the direct O(N^2) history; direct times marked "
      f"'extrapolated' are the last measured one times (N / N_last)^2. Growth goal: "
      f"time(N) / time(N/4) <= {GOALS['growth_4N']:g} at large N (N >= "
      f"{pow2(large) if large else '-'}, column 'Goal met'); column 'N log^2 N' is that "
      f"model's time(N) / time(N/4), 4 (log2 N / log2(N/4))^2.")
    w("")
    w("| Method | N | Fast | t(N)/t(N/2) | t(N)/t(N/4) | N log^2 N | Goal met | Direct "
      "| Direct / fast | max abs(fast - direct) | Max error |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for m in nl:
        for r in m["rows"]:
            direct = fmt_time(r["direct_seconds"]) + (" (extrapolated)" if r["direct_extrapolated"]
                                                      else f" (best of {r['direct_reps']})")
            goal = (met(r["growth_4N"] <= GOALS["growth_4N"]) if r["goal_applies"] else "-")
            w(f"| {m['method']} | {pow2(r['N'])} | {fmt_time(r['fast_seconds'])} (best of "
              f"{r['fast_reps']}) | {fmt_ratio(r['growth_2N'])} | {fmt_ratio(r['growth_4N'])} | "
              f"{r['model_4N']:.2f}x | {goal} | {direct} | {fmt_ratio(r['speedup'])} | "
              f"{fmt_err(r['max_abs_difference'])} | {fmt_err(r['error'])} |")
    w("")

    # 3. time to accuracy
    w(f"## 3. Time to max error <= {ACCURACY_TOL:g}: collocation vs direct quadrature")
    w("")
    w("| Problem | Best collocation | Best direct quadrature | Ratio (quadrature / collocation "
      "time) |")
    w("|---|---|---|---|")
    for a in acc:
        c, q = a["best_collocation"], a["best_quadrature"]
        w(f"| {a['problem']} | {fmt_time(c['seconds'])} ({c['method']}, N = {c['N']}, error "
          f"{fmt_err(c['error'])}) | {fmt_time(q['seconds'])} ({q['method']}, N = {q['N']}, "
          f"error {fmt_err(q['error'])}) | {fmt_ratio(a['ratio'])} |")
    w("")
    w("Per method (smallest N in a doubling sequence from 4; best of up to "
      f"{5 if not quick else 3} after a warm-up):")
    w("")
    w("| Problem | Kind | Method | Order | N | Max error | Time |")
    w("|---|---|---|---|---|---|---|")
    for a in acc:
        for kind, rows in (("collocation", a["collocation"]), ("quadrature", a["quadrature"])):
            for r in rows:
                if r["extrapolated"]:
                    how = (f"{fmt_time(r['seconds'])} (extrapolated from N = {r['from_N']}: time ~ "
                           f"N^{r['time_exponent']:.2f}, error ~ N^-{r['error_order']:.2f})")
                    n = f"~{r['N']}"
                else:
                    how = f"{fmt_time(r['seconds'])} (best of {r['reps']})"
                    n = str(r["N"])
                w(f"| {a['problem']} | {kind} | {r['method']} | {r['order']} | {n} | "
                  f"{fmt_err(r['error'])} | {how} |")
    w("")

    # 4. FFT blocks
    w("## 4. One FFT block of the history: the package's real FFTs against rocket-fft (pocketfft)")
    w("")
    if blocks is None:
        w("rocket-fft is not installed (`pip install .[bench]`): skipped.")
    else:
        w("L sources padded to 2L, the product with the kernel's transform, L targets; time per "
          "block (best of interleaved runs of many blocks):")
        w("")
        w("| L | package | rocket-fft | Ratio (package / rocket-fft) |")
        w("|---|---|---|---|")
        for r in blocks:
            w(f"| {pow2(r['L'])} | {r['package'] * 1e6:.2f} µs | {r['rocket'] * 1e6:.2f} µs | "
              f"{fmt_ratio(r['package'] / r['rocket'])} |")
    w("")
    w(f"Total benchmark time: {total_seconds:.0f} s.")
    return "\n".join(out)


def main(argv=None):
    parser = _common.arg_parser(__doc__, "smaller N, fewer repetitions")
    args = parser.parse_args(argv)
    faulthandler.enable()  # a crash in a compiled extension still says where

    log = _common.progress(args.verbose)

    begin = time.perf_counter()
    machine = machine_info()
    vb = None
    if voles is not None:
        log("1. against voles:")
        vb = VolesBench(args.quick, log).run()
    log("2. nonlinear convolution:")
    nl = NonlinearBench(args.quick, log).run()
    log("3. time to accuracy:")
    acc = AccuracyBench(args.quick, log).run()
    log("4. FFT blocks against rocket-fft:")
    blocks = fft_blocks(args.quick, log)
    total = time.perf_counter() - begin
    machine["load_average_end"] = load_average()
    print(report(machine, vb, nl, acc, blocks, args.quick, total))
    if args.json:
        results = {"machine": machine, "quick": args.quick, "goals": GOALS, "voles": vb,
                   "nonlinear_convolution": nl, "accuracy": acc, "fft_blocks": blocks,
                   "total_seconds": total}
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
