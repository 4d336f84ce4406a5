"""Benchmark of the fast (blocked FFT) history for weakly singular convolution kernels.

Run from the repository root::

    python benchmarks/bench_singular.py            # N = 512 .. 16384
    python benchmarks/bench_singular.py --quick    # N = 512 .. 4096

The Abel equation y(t) = 1 - int_0^t (t - s)^(-1/2) y(s) ds on [0, 1] (y = erfcx(sqrt(pi t)))
on a uniform mesh, collocation with product integration (gauss2 and radau3): the direct
O(N^2) history against the blocked FFT history of ``_singular`` (``fast_history=True``:
the product-integration weights are Toeplitz on a uniform mesh), in one process, best of a
few runs after a warm-up.  The direct history runs while it takes less than a few seconds
and is extrapolated with N^2 beyond.  Columns: times, their ratio, max |fast - direct|
where both ran, the error against the exact solution, and the growth time(2N) / time(N)
of the fast history (O(N log^2 N): a little above 2).

``solve_volterra`` hands the fast history only to convolution kernels (its ``can_fast``
test in ``volterra/_solve.py``); until it also accepts ``weakly_singular(convolution(...),
alpha)`` kernels this benchmark calls the method object, ``METHODS[name].solve(...,
fast_history=True)``, the call ``solve_volterra`` makes.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from scipy.special import erfcx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402

from integrallimits.kernels import as_forcing, as_kernel, convolution, weakly_singular  # noqa: E402
from integrallimits.volterra import METHODS  # noqa: E402


def _minus_one(u):
    return -1.0


ABEL = weakly_singular(convolution(_minus_one), 0.5)


def solver(method, N, fast):
    kernel = as_kernel(ABEL, 1.0, 0.0)
    g_vec, _ = as_forcing(lambda t: 1.0, 0.0)
    t = np.linspace(0.0, 1.0, N + 1)

    def run():
        Y, status, _, _, _ = METHODS[method].solve(kernel, g_vec, t, 1e-13, 50, fast_history=fast)
        assert status == 0
        return Y[:, 0]
    return t, run


def rows(sizes, direct_limit, reps):
    out = []
    for method in ("gauss2", "radau3"):
        previous, direct_time = None, None
        for N in sizes:
            t, fast = solver(method, N, True)
            fast()
            t_fast, y_fast = _common.best_of(fast, reps)
            row = {"method": method, "N": N, "fast": t_fast, "direct": None, "extrapolated": False,
                   "diff": None, "error": float(np.max(np.abs(y_fast - erfcx(np.sqrt(np.pi * t))))),
                   "growth": t_fast / previous if previous else None}
            predicted = direct_time * 4 if direct_time else 0.0
            if predicted < direct_limit:
                _, direct = solver(method, N, False)
                direct()
                direct_time, y_direct = _common.best_of(direct, max(1, reps // 2))
                row["direct"], row["diff"] = direct_time, float(np.max(np.abs(y_fast - y_direct)))
            else:
                direct_time = predicted
                row["direct"], row["extrapolated"] = predicted, True
            previous = t_fast
            out.append(row)
    return out


def to_markdown(table):
    lines = ["| method | N | fast history | direct O(N^2) | speed-up | max |fast - direct| "
             "| error vs exact | growth t(2N)/t(N) |", "|---|---|---|---|---|---|---|---|"]
    for r in table:
        direct = _common.fmt_time(r["direct"]) + (" (extrapolated)" if r["extrapolated"] else "")
        diff = "-" if r["diff"] is None else f"{r['diff']:.1e}"
        growth = "-" if r["growth"] is None else f"{r['growth']:.2f}"
        lines.append(f"| {r['method']} | {r['N']:,} | {_common.fmt_time(r['fast'])} | {direct} | "
                     f"{_common.fmt_ratio(r['direct'] / r['fast'])} | {diff} | {r['error']:.2e} | "
                     f"{growth} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N, fewer repetitions")
    args = parser.parse_args(argv)
    sizes = [512, 1024, 2048, 4096] if args.quick else [512, 1024, 2048, 4096, 8192, 16384]
    print("machine:", _common.machine_info())
    print(f"load average before: {_common.load_average()}")
    table = rows(sizes, 3.0 if args.quick else 10.0, 2 if args.quick else 3)
    print(to_markdown(table))
    print(f"load average after: {_common.load_average()}")


if __name__ == "__main__":
    main()
