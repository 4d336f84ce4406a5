"""Benchmark of the Fredholm (Nyström) solver against a hand-written NumPy Nyström solve.

Run from the repository root::

    python benchmarks/bench_fredholm.py            # M = 32 .. 1024
    python benchmarks/bench_fredholm.py --quick    # M = 32, 128, 512, fewer repetitions

Two problems on [0, 1] with Gauss–Legendre nodes (the rules are cached on both sides, so
neither pays for them in the timings), g derived by SymPy:

* linear: K(x, s, y) = (e^{-xs}/2 + x/4) y (given as the two-argument coefficient), y = cos 2x;
  NumPy: ``np.linalg.solve(I - K w, g)`` with K evaluated on the grid by broadcasting;
* nonlinear: K(x, s, y) = cos(10 (x - s)) y^2 / 2, y = e^{-x}, analytic Jacobian;
  NumPy: Newton from y = g with C = cos(10 (x - s)) w / 2 formed once, F = y - g - C y^2,
  J = I - 2 C diag(y), ``np.linalg.solve`` per iteration, the same stopping rule.

``solve_fredholm`` is called as a user calls it: a plain Python K and g each time (so its
per-call work -- compiling lookups, checking g, probing K for linearity and structure, the
condition estimate, the final residual check -- is in the time).  Each size is measured
twice, like for like:

* "solve": ``error_estimate=False`` against the NumPy solve above;
* "with estimate": the default call, whose error estimate is a companion solve with
  M' = M + max(2, M // 4) nodes and its Nyström interpolant at the M nodes, against the
  same done by hand in NumPy (both solves, the interpolant, |y_M - y_M'(x_m)|; the
  nonlinear companion's Newton starts on both sides from the first solve's interpolant).

Both sides run in one process, interleaved, best of several rounds, BLAS on one thread.
Goal (issue 15): time ratio <= 1.2 at every M, linear and nonlinear.

Every timed call solves the same equation again, and the direct (linear) solve keeps the LU
factors of a matrix it has met twice (up to 256 unknowns): its timings are those of a
repeated system (the same equation, or the same kernel with another g).  ``--new-matrix``
turns the kept factors off, so that every solve factors its matrix as the first solve of a
kernel does (the NumPy side factors every time either way).
"""
from __future__ import annotations

import argparse
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402
from bench_beyond import (g_lin, g_wave, gauss_legendre_01, k_lin, k_wave,  # noqa: E402
                          k_wave_jacobian, numpy_nystrom_linear, numpy_nystrom_newton)

from integrallimits.fredholm import solve_fredholm  # noqa: E402

EXACT = {"linear": lambda x: np.cos(2 * x), "nonlinear": lambda x: np.exp(-x)}


def numpy_with_estimate(problem, M):
    """The NumPy solve with the companion estimate solve_fredholm makes by default (a
    nonlinear companion's Newton starts from the Nyström interpolant of the first solve)."""
    x, y = (numpy_nystrom_linear if problem == "linear" else numpy_nystrom_newton)(M)
    Mc = M + max(2, M // 4)
    if problem == "linear":
        xc, yc = numpy_nystrom_linear(Mc)
    else:
        xc, _ = gauss_legendre_01(Mc)
        _, w = gauss_legendre_01(M)
        start = g_wave(xc) + k_wave(xc[:, None], x[None, :], y[None, :]) @ w
        xc, yc = numpy_nystrom_newton(Mc, y0=start)
    _, wc = gauss_legendre_01(xc.size)
    if problem == "linear":
        at_x = g_lin(x) + k_lin(x[:, None], xc[None, :]) @ (wc * yc)
    else:
        at_x = g_wave(x) + k_wave(x[:, None], xc[None, :], yc[None, :]) @ wc
    return x, y, np.abs(y - at_x)


def rows(sizes, reps):
    out = []
    for M in sizes:
        for problem in ("linear", "nonlinear"):
            if problem == "linear":
                def ours(estimate):
                    return solve_fredholm(k_lin, g_lin, (0.0, 1.0), M, error_estimate=estimate)
                baseline = lambda: numpy_nystrom_linear(M)
            else:
                def ours(estimate):
                    return solve_fredholm(k_wave, g_wave, (0.0, 1.0), M, jacobian=k_wave_jacobian,
                                          error_estimate=estimate)
                baseline = lambda: numpy_nystrom_newton(M)
            for mode in ("solve", "with estimate"):
                estimate = mode == "with estimate"
                numpy = (lambda: numpy_with_estimate(problem, M)) if estimate else baseline
                timings = _common.best_of_interleaved({"ours": lambda: ours(estimate),
                                                       "numpy": numpy},
                                                      reps if M <= 256 else max(2, reps // 3))
                (t_ours, sol), (t_np, (x, y, *est)) = timings["ours"], timings["numpy"]
                out.append({"problem": problem, "M": M, "mode": mode, "ours": t_ours,
                            "numpy": t_np, "ratio": t_ours / t_np,
                            "err_ours": float(np.abs(sol.y - EXACT[problem](sol.x)).max()),
                            "err_numpy": float(np.abs(y - EXACT[problem](x)).max()),
                            "estimate": (float(np.max(sol.error_estimate)),
                                         float(np.max(est[0]))) if estimate else None,
                            "note": ("separable Newton" if sol.stats.get("separable") else
                                     "direct" if sol.stats["linear"] else "Newton")})
    return out


def to_markdown(table):
    lines = ["| problem | M | mode | solve_fredholm | NumPy by hand | ratio | max error (ours / NumPy) "
             "| max estimate (ours / NumPy) | path |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        estimate = "-" if r["estimate"] is None else "{:.1e} / {:.1e}".format(*r["estimate"])
        lines.append(f"| {r['problem']} | {r['M']} | {r['mode']} | {_common.fmt_time(r['ours'])} | "
                     f"{_common.fmt_time(r['numpy'])} | {r['ratio']:.2f} | "
                     f"{r['err_ours']:.1e} / {r['err_numpy']:.1e} | {estimate} | {r['note']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    parser.add_argument("--new-matrix", action="store_true",
                        help="factor every matrix (no LU factors kept from an earlier solve)")
    args = parser.parse_args(argv)
    if args.new_matrix:
        from integrallimits.fredholm import _assembly
        _assembly._FACTORED_ENTRIES = 0         # (above it, linear_solve keeps nothing)
    sizes = [32, 128, 512] if args.quick else [32, 64, 128, 256, 512, 1024]
    print("machine:", _common.machine_info())
    print(f"load average before: {_common.load_average()}")
    table = rows(sizes, 5 if args.quick else 15)
    print(to_markdown(table))
    for mode in ("solve", "with estimate"):
        worst = max((r for r in table if r["mode"] == mode), key=lambda r: r["ratio"])
        print(f"\ngoal ratio <= 1.2 at every M ({mode}): worst {worst['ratio']:.2f} "
              f"({worst['problem']}, M = {worst['M']}) {_common.met(worst['ratio'] <= 1.2)}")
    print(f"load average after: {_common.load_average()}")


if __name__ == "__main__":
    main()
