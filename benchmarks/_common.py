"""Helpers shared by the benchmark scripts: the machine description and table formatting."""
import math
import os
import platform

import numba
import numpy as np


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
