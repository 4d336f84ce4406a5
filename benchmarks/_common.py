"""Helpers shared by the benchmark scripts: the machine description, timing and table formatting."""
import argparse
import math
import os
import platform
import sys
import time

import numba
import numpy as np


def arg_parser(doc, quick_help):
    """The scripts' common options: --quick (``quick_help``), --json PATH and --verbose."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    return parser


def progress(verbose):
    """``log(msg)``: the message on stderr if ``verbose``, else nothing."""
    def log(msg):
        if verbose:
            print(msg, file=sys.stderr, flush=True)
    return log


def machine_info(**versions):
    """Platform, CPU model, core counts, load average, NumPy/Numba and the given versions."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "usable_cores": usable, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, **versions}


def load_average():
    """The 1-minute load average (other processes share the cores and skew timings)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def fmt_time(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_ratio(r):
    if r is None or not math.isfinite(r):
        return "n/a"
    return f"{r:,.0f}x" if r >= 100 else f"{r:.2f}x"


def met(ok):
    return "yes" if ok else "**NO**"


# -- timing ------------------------------------------------------------------------------------

def timed(fn):
    """(seconds, output) of one call of ``fn``."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def best_of(fn, reps):
    """Best of ``reps`` runs (the caller warms up first); (seconds, output of the best run)."""
    best, best_out = math.inf, None
    for _ in range(reps):
        seconds, out = timed(fn)
        if seconds < best:
            best, best_out = seconds, out
    return best, best_out


def best_of_budget(fn, max_reps, budget):
    """Best of 1..max_reps runs: repeat only while the repetitions fit in ``budget`` seconds.
    Returns (seconds, output of the best run, number of runs)."""
    seconds, out = timed(fn)
    best, best_out, times = seconds, out, [seconds]
    while len(times) < max_reps and sum(times) + seconds <= budget:
        s, o = timed(fn)
        times.append(s)
        if s < best:
            best, best_out = s, o
    return best, best_out, len(times)


def best_of_interleaved(fns, reps):
    """{name: (best seconds, output of the best run)}: one warm-up run of each, then ``reps``
    rounds running every function once per round, so all of them see the same machine load."""
    best = {name: math.inf for name in fns}
    outs = {name: fn() for name, fn in fns.items()}
    for _ in range(reps):
        for name, fn in fns.items():
            seconds, out = timed(fn)
            if seconds < best[name]:
                best[name], outs[name] = seconds, out
    return {name: (best[name], outs[name]) for name in fns}


def fmt_bytes(n):
    if n is None:
        return "n/a"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{sign}{n / size:.1f} {unit}"
    return f"{sign}{n} B"
