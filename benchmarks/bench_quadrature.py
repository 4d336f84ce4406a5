"""Benchmark of the large interval rules: Gauss–Legendre, Gauss–Radau, Gauss–Lobatto and
Clenshaw–Curtis nodes and weights from n = 150 to n = 10^5.

Run from the repository root::

    python benchmarks/bench_quadrature.py            # full run
    python benchmarks/bench_quadrature.py --quick    # fewer sizes, fewer repetitions

It measures, in one process (each construction is run once before it is timed, so Numba
compilation is excluded; times are the best of several runs, the rule caches bypassed):

* the O(n) constructions the package uses from n = 128 on (``quadrature._asymptotic``);
* the 40-digit O(n^2) constructions it used before for every n (the baseline, at n = 150
  and 300 only: 8.8 s at n = 512), and the largest error of the fast rule against them, in
  units of the last place;
* NumPy's ``leggauss`` (Golub–Welsch, an eigenvalue problem) for Gauss–Legendre, where it
  finishes in reasonable time.

Goal (issue 15): n = 10^5 in < 50 ms, errors <= 2 ulp.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402

from integrallimits.quadrature import _asymptotic, _interval  # noqa: E402

RULES = {"gauss-legendre": _asymptotic.gauss_legendre_fast,
         "gauss-radau": _asymptotic.gauss_radau_fast,
         "gauss-lobatto": _asymptotic.gauss_lobatto_fast,
         "clenshaw-curtis": _asymptotic.clenshaw_curtis_fast}


def max_ulps(values, reference):
    return max(abs(float(v) - float(r)) / np.spacing(abs(float(r))) if float(r) else 0.0
               for v, r in zip(values, reference))


def rows(sizes, baseline_sizes, reps):
    out = []
    for name, fast in RULES.items():
        for n in sizes:
            fast(n)
            t_fast, _ = _common.best_of(lambda: fast(n), reps)
            row = {"rule": name, "n": n, "fast": t_fast, "mp": None, "ulps": None, "numpy": None}
            if n in baseline_sizes:
                builder = _interval._GAUSS[name][0]
                row["mp"], (nodes_mp, weights_mp) = _common.timed(lambda: builder(n))
                nodes, _, weights = fast(n)
                row["ulps"] = max(max_ulps(nodes, nodes_mp), max_ulps(weights, weights_mp))
            if name == "gauss-legendre" and n <= 1024:
                np.polynomial.legendre.leggauss(n)
                row["numpy"], _ = _common.best_of(lambda: np.polynomial.legendre.leggauss(n),
                                                  max(1, reps // 2))
            out.append(row)
    return out


def to_markdown(table):
    lines = ["| rule | n | O(n) construction | 40-digit O(n^2) (old) | speed-up | max error (ulp) "
             "| NumPy leggauss | ratio to NumPy |", "|---|---|---|---|---|---|---|---|"]
    for r in table:
        speedup = r["mp"] / r["fast"] if r["mp"] else None
        vs_numpy = r["numpy"] / r["fast"] if r["numpy"] else None
        ulps = "n/a" if r["ulps"] is None else f"{r['ulps']:.2f}"
        lines.append(f"| {r['rule']} | {r['n']:,} | {_common.fmt_time(r['fast'])} | "
                     f"{_common.fmt_time(r['mp'])} | {_common.fmt_ratio(speedup)} | {ulps} | "
                     f"{_common.fmt_time(r['numpy'])} | {_common.fmt_ratio(vs_numpy)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    args = parser.parse_args(argv)
    sizes = [150, 1024, 10**5] if args.quick else [150, 300, 512, 1024, 10**4, 10**5]
    baseline = {150} if args.quick else {150, 300}
    print("machine:", _common.machine_info())
    print(f"load average before: {_common.load_average()}")
    table = rows(sizes, baseline, 3 if args.quick else 7)
    print(to_markdown(table))
    big = [r for r in table if r["n"] == 10**5]
    print("\ngoal n = 10^5 in < 50 ms:", ", ".join(
        f"{r['rule']} {_common.fmt_time(r['fast'])} {_common.met(r['fast'] < 0.05)}" for r in big))
    errors = [r["ulps"] for r in table if r["ulps"] is not None]
    print("goal errors <= 2 ulp:", f"max {max(errors):.2f} ulp", _common.met(max(errors) <= 2))
    print(f"load average after: {_common.load_average()}")


if __name__ == "__main__":
    main()
