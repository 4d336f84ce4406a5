"""Stress check: processes compiling different kernels into one Numba cache at the same time.

Not part of the test run (minutes of compilation).  From the repository root::

    python tools/cache_race.py                 # 12 processes x 16 kernels, then a check
    python tools/cache_race.py --processes 8 --kernels 8

It writes a module of kernels K_i(t, s, y) = -a_i y (a_i in 1..7) to a scratch directory,
lets ``--processes`` processes solve their share of them at once into one fresh
``NUMBA_CACHE_DIR`` (each compiles and saves its kernels' wrappers), and then solves every
kernel again in fresh processes that load the machine code from that cache, comparing each
with the same equation solved with ``args=(a_i,)``.  A kernel answered with another kernel's
code is printed as WRONG.  Numba's numbered data files gave 5 WRONG of 192 here (the save
race of ``integrallimits._numba._KeyNamedFiles``); the package's key-named files give 0.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

WORKER = r"""
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import kernels_under_test as kt
from integrallimits import solve_volterra
wrong = 0
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    a = float(i % 7 + 1)
    sol = solve_volterra(getattr(kt, f"K{i}"), lambda t: 1.0, (0.0, 1.0), 8, "trapezoid",
                         error_estimate=False)
    ref = solve_volterra(lambda t, s, y, a: -a * y, lambda t: 1.0, (0.0, 1.0), 8, "trapezoid",
                         error_estimate=False, args=(a,))
    if not np.allclose(sol.y, ref.y, rtol=1e-12, atol=0.0):
        wrong += 1
        print(f"WRONG K{i}: y(1) = {sol.y[-1]!r}, expected {ref.y[-1]!r}", flush=True)
print(f"wrong {wrong}")
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=12)
    parser.add_argument("--kernels", type=int, default=16, help="kernels per process")
    opts = parser.parse_args(argv)
    total = opts.processes * opts.kernels
    with tempfile.TemporaryDirectory(prefix="cache-race-") as scratch:
        with open(os.path.join(scratch, "kernels_under_test.py"), "w") as fh:
            fh.writelines(f"def K{i}(t, s, y):\n    return -{i % 7 + 1}.0 * y + 0.0 * {i}\n\n"
                          for i in range(total))
        with open(os.path.join(scratch, "worker.py"), "w") as fh:
            fh.write(WORKER)
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(scratch, "numba-cache"),
                   PYTHONPATH=os.pathsep.join([scratch, os.environ.get("PYTHONPATH", "")]))

        def run(lo, hi):
            return subprocess.Popen([sys.executable, "worker.py", str(lo), str(hi)], cwd=scratch,
                                    env=env, stdout=subprocess.PIPE, text=True)

        run(0, 1).communicate()      # the package's own loops, compiled once first
        shares = [(p * opts.kernels, (p + 1) * opts.kernels) for p in range(opts.processes)]
        at_once = [run(lo, hi) for lo, hi in shares]
        for proc in at_once:
            proc.communicate()
        print(f"{opts.processes} processes compiled {total} kernels into one cache at once")
        wrong = 0
        for lo, hi in shares:        # fresh processes, loading from the cache
            out, _ = run(lo, hi).communicate()
            for line in out.splitlines():
                if line.startswith("WRONG"):
                    print(line)
                    wrong += 1
        print(f"{wrong} of {total} kernels ran another kernel's code when loaded from the cache")
        return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
