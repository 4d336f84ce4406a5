"""Benchmark of start-up and per-call cost: fresh processes, empty and warm Numba caches.

Run from the repository root::

    python benchmarks/bench_startup.py            # full run (a few minutes: cold compiles)
    python benchmarks/bench_startup.py --quick    # one warm repetition, fewer per-call runs
    python benchmarks/bench_startup.py --json results.json
    python benchmarks/bench_startup.py --per-call-only   # section 2 alone (seconds)
    python benchmarks/bench_startup.py --root ../other-worktree   # another version's package

It measures, each in fresh Python processes (a user's script written to a temporary
directory, so Numba can cache its functions on disk as it would for the user):

1. start-up: for each case, a first process with a new, empty ``NUMBA_CACHE_DIR`` and
   ``INTEGRALLIMITS_CACHE_DIR`` (everything compiled, the command line's expressions derived
   with SymPy) and then fresh processes reusing those caches (the warm figure is the best of 3):

   a. ``import integrallimits`` and ``from integrallimits import solve_volterra``;
   b. the README example's first ``solve_volterra`` call (K = e^{-(t-s)} y^2, gregory6, N = 32,
      error estimate on, as the README runs it);
   c. a convolution kernel (``kernels.convolution``) with the fast (FFT) history, first call
      (voles' quick-start problem, gauss3, N = 64);
   d. a ``ResidualDense`` forward, first call (the README's 8-layer network, d = 2, B = 32);
   e. the command line ``integrallimits solve ...`` of the README, end to end (process wall
      time);

   against, in the same fresh conditions, a plain ``import numpy, numba`` and a hand-written
   ``@numba.njit(cache=True)`` trapezoid loop for the README problem (its import and first
   call): the ratios say how much the package adds to what any Numba program pays;
2. per-call cost, in one warm process: ``solve_volterra`` on the README problem at N = 8
   (trapezoid, gauss2 and radau3; with and without the error estimate) against the
   hand-written Numba loop at N = 8, and voles' ``solve_VIE_2`` at 9 samples (the ``bench``
   extra; skipped without it).

Each fresh process's CPU time (user + system, from ``getrusage``) and its first call's
(``time.process_time`` in the process) are reported too: on a shared machine they vary less
than wall times.

Goals (issue 15, on an idle machine): import < 0.4 s; README first call < 3 s with an
empty cache, < 0.3 s warm; fast-history and network first calls < 6 s empty, < 0.5 s warm;
CLI solve < 1 s warm; per-call fixed cost < 50 us.
"""
from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from functools import partial

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402
from _common import fmt_ratio, fmt_time, load_average, met  # noqa: E402

#: Runge-Kutta/collocation methods timed per call besides the trapezoid rule (section 2)
PER_CALL_METHODS = ("gauss2", "radau3")
# goals in seconds: (empty cache, warm cache); None where the issue sets none
GOALS = {"import": (None, 0.4), "readme": (3.0, 0.3), "fast_history": (6.0, 0.5),
         "network": (6.0, 0.5), "cli": (None, 1.0), "per_call": 50e-6}
WARM_REPS = 3

# -- the user's scripts, run in fresh processes --------------------------------------------------
# Each prints one JSON line of timings (seconds) measured inside the process; the parent adds the
# process wall time.  They live in files (a temporary directory) so that Numba may cache the
# functions they define, as it does for a user's script.

_HANDWRITTEN = '''
import math, time
_start = time.perf_counter()
import numpy as np
import numba
_imported = time.perf_counter()


@numba.njit(cache=True)
def trapezoid(n):
    """y = e^{-2t} + int_0^t e^{-(t-s)} y(s)^2 ds on [0, 1] (y = e^{-t}): trapezoid, Newton."""
    h = 1.0 / n
    t = np.linspace(0.0, 1.0, n + 1)
    y = np.empty(n + 1)
    y[0] = 1.0
    for i in range(1, n + 1):
        acc = 0.5 * math.exp(-t[i]) * y[0] * y[0]
        for j in range(1, i):
            acc += math.exp(-(t[i] - t[j])) * y[j] * y[j]
        g = math.exp(-2.0 * t[i])
        x = y[i - 1]
        for _ in range(50):
            f = x - g - h * (acc + 0.5 * x * x)
            dx = f / (1.0 - h * x)
            x -= dx
            if abs(dx) <= 1e-12 * max(1.0, abs(x)):
                break
        y[i] = x
    return y
'''

_SCRIPTS = {
    "baseline": _HANDWRITTEN + '''
a, ca = time.perf_counter(), time.process_time()
y = trapezoid(32)
first, first_cpu = time.perf_counter() - a, time.process_time() - ca
assert abs(y[-1] - math.exp(-1.0)) < 1e-3
print(__import__("json").dumps({"import": _imported - _start, "first_call": first,
                                "first_call_cpu": first_cpu}))
''',
    "import": '''
import json, time
a = time.perf_counter()
import integrallimits
b = time.perf_counter()
from integrallimits import solve_volterra
c = time.perf_counter()
print(json.dumps({"import": b - a, "import_solver": c - a}))
''',
    "readme": '''
import json, time
_start = time.perf_counter()
import numpy as np
from integrallimits import solve_volterra, METHODS
_imported = time.perf_counter()

def K(t, s, y):                      # y = e^{-2t} + int e^{-(t-s)} y^2 ds has y = e^{-t}
    return np.exp(-(t - s)) * y * y

a, ca = time.perf_counter(), time.process_time()
sol = solve_volterra(K, lambda t: np.exp(-2 * t), (0.0, 1.0), 32, method="gregory6")
first, first_cpu = time.perf_counter() - a, time.process_time() - ca
assert sol.success and abs(sol.y[-1] - np.exp(-1.0)) < 1e-10
a = time.perf_counter()
sol = solve_volterra(K, lambda t: np.exp(-2 * t), (0.0, 1.0), 32, method="gregory6")
second = time.perf_counter() - a
print(json.dumps({"import": _imported - _start, "first_call": first, "first_call_cpu": first_cpu,
                  "second_call": second}))
''',
    "fast_history": '''
import json, math, time
_start = time.perf_counter()
import numpy as np
from integrallimits import solve_volterra
from integrallimits.kernels import convolution
_imported = time.perf_counter()

def g(t):                            # voles' quick start: y = sin t
    return np.sin(t) - 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))

a, ca = time.perf_counter(), time.process_time()
sol = solve_volterra(convolution(lambda u: math.exp(-u)), g, (0.0, 2.0), 64, method="gauss3")
first, first_cpu = time.perf_counter() - a, time.process_time() - ca
assert sol.success and sol.stats["fast_history"] and abs(sol.y[-1] - np.sin(2.0)) < 1e-9
a = time.perf_counter()
sol = solve_volterra(convolution(lambda u: math.exp(-u)), g, (0.0, 2.0), 64, method="gauss3")
second = time.perf_counter() - a
print(json.dumps({"import": _imported - _start, "first_call": first, "first_call_cpu": first_cpu,
                  "second_call": second}))
''',
    "network": '''
import json, time
_start = time.perf_counter()
import numpy as np
from integrallimits.networks import ResidualDense
_imported = time.perf_counter()

rng = np.random.default_rng(0)
net = ResidualDense(rng.normal(size=(8, 8, 2, 2)), rng.normal(size=(8, 8, 2)), n_layers=8)
X0 = rng.normal(size=(32, 2))
a, ca = time.perf_counter(), time.process_time()
out = net.forward(X0)
first, first_cpu = time.perf_counter() - a, time.process_time() - ca
assert out.shape == (32, 2) and np.all(np.isfinite(out))
a = time.perf_counter()
net.forward(X0)
second = time.perf_counter() - a
print(json.dumps({"import": _imported - _start, "first_call": first, "first_call_cpu": first_cpu,
                  "second_call": second}))
''',
}

CLI_ARGS = ["solve", "--kernel", "exp(-(t-s))*y**2", "--forcing", "exp(-2*t)", "--exact", "exp(-t)",
            "--method", "gregory4", "--steps", "64"]
NUMPY_NUMBA = ["-c", "import numpy, numba"]


def _child_env(cache_dir, root=ROOT):
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"   # leave no __pycache__ of the scripts behind
    env.pop("NUMBA_DISABLE_JIT", None)
    env["NUMBA_CACHE_DIR"] = cache_dir
    env["INTEGRALLIMITS_CACHE_DIR"] = cache_dir   # the generated kernel modules and their index
    return env


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv, env, cwd):
    """(wall seconds, CPU seconds (user + system), the last stdout line) of one fresh process."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"child {argv[1:3]} failed:\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    return wall, cpu, (lines[-1] if lines else "")


def _cli_argv():
    return [sys.executable, "-m", "integrallimits"] + CLI_ARGS


def fresh(name, work, warm_reps, log, root=ROOT):
    """{"cold": {...}, "warm": {...}} for one case: a new empty cache, then warm runs (best)."""
    with tempfile.TemporaryDirectory(prefix="integrallimits-startup-") as cache:
        env = _child_env(cache, root)
        if name == "cli":
            argv = _cli_argv()
        elif name == "numpy_numba":
            argv = [sys.executable] + NUMPY_NUMBA
        else:
            path = os.path.join(work, f"user_{name}.py")
            with open(path, "w") as fh:
                fh.write(textwrap.dedent(_SCRIPTS[name]))
            argv = [sys.executable, path]
        runs = []
        for rep in range(1 + warm_reps):
            wall, cpu, line = _run(argv, env, work)
            row = json.loads(line) if line.startswith("{") else {}
            row["wall"] = wall
            row["cpu"] = cpu
            runs.append(row)
            log(f"  {name} {'cold' if rep == 0 else 'warm'}: " +
                ", ".join(f"{k} {fmt_time(v)}" for k, v in row.items()))
    warm = {k: min(r[k] for r in runs[1:]) for k in runs[1]}
    return {"cold": runs[0], "warm": warm, "warm_runs": runs[1:]}


def startup(quick, log, root=ROOT):
    reps = 1 if quick else WARM_REPS
    out = {}
    with tempfile.TemporaryDirectory(prefix="integrallimits-scripts-") as work:
        for name in ("numpy_numba", "baseline", "import", "readme", "fast_history", "network",
                     "cli"):
            out[name] = fresh(name, work, reps, log, root)
    return out


# -- per-call cost, in this process ---------------------------------------------------------------

def per_call(quick, log):
    import math as _m

    import numpy as np

    from integrallimits import solve_volterra

    namespace = {}
    # our own text; no file, so no on-disk cache (this process compiles it once)
    exec(compile(_HANDWRITTEN.replace("cache=True", "cache=False"), "<handwritten>", "exec"),
         namespace)  # noqa: S102
    trapezoid = namespace["trapezoid"]

    def K(t, s, y):
        return np.exp(-(t - s)) * y * y

    def g(t):
        return np.exp(-2 * t)

    reps = 200 if quick else 1000
    N = 8
    fns = {
        "handwritten": lambda: trapezoid(N),
        "package": lambda: solve_volterra(K, g, (0.0, 1.0), N, method="trapezoid",
                                          error_estimate=False),
        "package_estimate": lambda: solve_volterra(K, g, (0.0, 1.0), N, method="trapezoid"),
    }
    for method in PER_CALL_METHODS:   # (the Runge-Kutta family: two more companions, stages)
        fns[f"{method}"] = partial(solve_volterra, K, g, (0.0, 1.0), N, method=method,
                                   error_estimate=False)
        fns[f"{method}_estimate"] = partial(solve_volterra, K, g, (0.0, 1.0), N, method=method)
    try:
        from voles import solve_VIE_2

        t9 = np.linspace(0.0, 2.0, N + 1)

        def voles_call():
            return solve_VIE_2(kernel_values=np.exp(-t9), g_values=np.sin(t9), time_step=2.0 / N,
                               show_warnings=False, coll_divs=2, quadrature="collocation")
        fns["voles"] = voles_call
    except ImportError:
        pass
    y_hand = fns["handwritten"]()
    y_pack = fns["package"]().y
    assert np.max(np.abs(y_hand - y_pack)) < 1e-12, "the hand-written loop and the package differ"
    assert abs(y_pack[-1] - _m.exp(-1.0)) < 1e-2
    out, cpu = _per_call_best(fns, reps)
    for name in fns:
        log(f"  per call {name}: {fmt_time(out[name])} (CPU {fmt_time(cpu[name])})")
    return {"N": N, "reps": reps, "seconds": out, "cpu_seconds": cpu}


#: The calls of one batch of :func:`_per_call_best` (a CPU clock's reading costs ~0.5 us and
#: has a coarser resolution than the wall clock's on some systems: a batch spreads both).
PER_CALL_BATCH = 10


def _per_call_best(fns, reps):
    """({name: best wall seconds a call}, {name: best CPU seconds a call}) of the functions
    ``fns`` over ``reps`` calls each, in batches of PER_CALL_BATCH, the functions taking turns
    batch by batch (so all of them see the same machine load); after one warm-up call each.
    On a shared machine the CPU time (``time.process_time``: this process's user + system)
    varies less than the wall time, which counts the time other processes hold the core."""
    best = {name: math.inf for name in fns}
    best_cpu = dict(best)
    for fn in fns.values():
        fn()
    batch = max(1, min(PER_CALL_BATCH, reps))
    for _ in range(max(1, reps // batch)):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(batch):
                fn()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[name] = min(best[name], wall / batch)
            best_cpu[name] = min(best_cpu[name], cpu / batch)
    return best, best_cpu


# -- the report ------------------------------------------------------------------------------------

def _goal(value, goal):
    if goal is None:
        return "-", "-"
    return f"< {fmt_time(goal)}", met(value < goal)


def report(machine, start, calls, quick, total):
    out = []
    w = out.append
    w("# integrallimits start-up and per-call benchmark" + (" (--quick)" if quick else ""))
    w("")
    w(f"- Machine: {machine['platform']}; CPU: {machine['cpu']}; {machine['cores']} cores "
      f"({machine['usable_cores']} usable); load average {machine['load_average']}")
    w(f"- Python {machine['python']}, NumPy {machine['numpy']}, Numba {machine['numba']}, "
      f"voles {machine.get('voles') or 'not installed'}; integrallimits from {machine['root']}; "
      f"load average at the end {machine['load_average_end']}")
    if start is not None:   # (--per-call-only: none)
        w("- Fresh processes; 'empty': a new NUMBA_CACHE_DIR, everything compiled; 'warm': best of "
          f"{len(start['readme']['warm_runs'])} later processes with that cache.  Baseline: "
          "`import numpy, numba` and a hand-written `@numba.njit(cache=True)` trapezoid loop for the "
          "README problem (N = 32), in the same conditions.")
        w("")
        base = start["baseline"]
        nn = start["numpy_numba"]
        w("| Measurement | empty cache | warm cache | baseline (empty / warm) | ratio (empty / warm) "
          "| goal (empty / warm) | met |")
        w("|---|---|---|---|---|---|---|")
        imp = start["import"]
        g_cold, g_warm = GOALS["import"]
        w(f"| `import integrallimits` | {fmt_time(imp['cold']['import'])} | "
          f"{fmt_time(imp['warm']['import'])} | `import numpy, numba` {fmt_time(base['cold']['import'])}"
          f" / {fmt_time(base['warm']['import'])} | "
          f"{fmt_ratio(imp['cold']['import'] / base['cold']['import'])}"
          f" / {fmt_ratio(imp['warm']['import'] / base['warm']['import'])} | - / < {fmt_time(g_warm)} | "
          f"{met(imp['warm']['import'] < g_warm)} |")
        w(f"| `from integrallimits import solve_volterra` | {fmt_time(imp['cold']['import_solver'])} | "
          f"{fmt_time(imp['warm']['import_solver'])} | `import numpy, numba` "
          f"{fmt_time(base['cold']['import'])} / {fmt_time(base['warm']['import'])} | "
          f"{fmt_ratio(imp['cold']['import_solver'] / base['cold']['import'])} / "
          f"{fmt_ratio(imp['warm']['import_solver'] / base['warm']['import'])} | - | - |")
        labels = {"readme": "README example, first `solve_volterra` (gregory6, N = 32)",
                  "fast_history": "convolution kernel, fast history, first call (gauss3, N = 64)",
                  "network": "`ResidualDense` forward, first call (N = 8, d = 2, B = 32)"}
        for name, label in labels.items():
            r = start[name]
            g_cold, g_warm = GOALS[name]
            c, k = r["cold"]["first_call"], r["warm"]["first_call"]
            bc, bk = base["cold"]["first_call"], base["warm"]["first_call"]
            w(f"| {label} | {fmt_time(c)} | {fmt_time(k)} | njit loop {fmt_time(bc)} / {fmt_time(bk)} | "
              f"{fmt_ratio(c / bc)} / {fmt_ratio(k / bk)} | < {fmt_time(g_cold)} / < {fmt_time(g_warm)} "
              f"| {met(c < g_cold)} / {met(k < g_warm)} |")
        cli = start["cli"]
        w(f"| `integrallimits solve ...` (README, gregory4, N = 64), process wall time | "
          f"{fmt_time(cli['cold']['wall'])} | {fmt_time(cli['warm']['wall'])} | `python -c \"import "
          f"numpy, numba\"` {fmt_time(nn['cold']['wall'])} / {fmt_time(nn['warm']['wall'])} | "
          f"{fmt_ratio(cli['cold']['wall'] / nn['cold']['wall'])} / "
          f"{fmt_ratio(cli['warm']['wall'] / nn['warm']['wall'])} | - / < {fmt_time(GOALS['cli'][1])} | "
          f"{met(cli['warm']['wall'] < GOALS['cli'][1])} |")
        w("")
        w("Imports inside the first-call processes (empty / warm): " + ", ".join(
            f"{name} {fmt_time(start[name]['cold']['import'])} / {fmt_time(start[name]['warm']['import'])}"
            for name in ("baseline", "readme", "fast_history", "network")) + ".  Second call in the "
          "same process (empty / warm): " + ", ".join(
            f"{name} {fmt_time(start[name]['cold']['second_call'])} / "
            f"{fmt_time(start[name]['warm']['second_call'])}" for name in labels) + ".")
        w("")
        w("CPU time (user + system; the machine may be shared, so wall times vary more), empty / "
          "warm cache: first call (in the process) and whole process:")
        w("")
        w("| Case | first call, CPU | process, CPU | process, wall |")
        w("|---|---|---|---|")
        for name in ("numpy_numba", "baseline", "import", "readme", "fast_history", "network",
                     "cli"):
            r = start[name]
            first = (f"{fmt_time(r['cold']['first_call_cpu'])} / "
                     f"{fmt_time(r['warm']['first_call_cpu'])}"
                     if "first_call_cpu" in r["cold"] else "-")
            w(f"| {name} | {first} | {fmt_time(r['cold']['cpu'])} / {fmt_time(r['warm']['cpu'])} "
              f"| {fmt_time(r['cold']['wall'])} / {fmt_time(r['warm']['wall'])} |")
        w("")
    s = calls["seconds"]
    cpu = calls.get("cpu_seconds", {})     # (a --json file of an older run has none)
    hand = s["handwritten"]
    w(f"Per call, one warm process, README problem at N = {calls['N']} (best of {calls['reps']} "
      f"calls in batches of {PER_CALL_BATCH}, the calls taking turns; CPU: this process's user + "
      f"system time, which varies less than the wall time on a shared machine):")
    w("")
    w("| Call | time | CPU time | ratio to the njit loop | fixed cost (minus the loop) | goal "
      "| met |")
    w("|---|---|---|---|---|---|---|")
    w(f"| hand-written njit trapezoid loop | {fmt_time(hand)} | "
      f"{fmt_time(cpu['handwritten']) if 'handwritten' in cpu else '-'} | 1.00x | - | - | - |")
    rows = [("package", "`solve_volterra`, trapezoid, `error_estimate=False`"),
            ("package_estimate", "`solve_volterra`, trapezoid, default (error estimate)")]
    for method in PER_CALL_METHODS:
        rows += [(method, f"`solve_volterra`, {method}, `error_estimate=False`"),
                 (f"{method}_estimate", f"`solve_volterra`, {method}, default (error estimate)")]
    for name, label in rows:
        if name not in s:    # (a --json file of an older run)
            continue
        fixed = s[name] - hand
        w(f"| {label} | {fmt_time(s[name])} | "
          f"{fmt_time(cpu[name]) if name in cpu else '-'} | {fmt_ratio(s[name] / hand)} | "
          f"{fmt_time(fixed)} | < {fmt_time(GOALS['per_call'])} | "
          f"{met(fixed < GOALS['per_call'])} |")
    if "voles" in s:
        w(f"| voles `solve_VIE_2`, {calls['N'] + 1} samples (its quick-start problem, collocation) "
          f"| {fmt_time(s['voles'])} | {fmt_time(cpu['voles']) if 'voles' in cpu else '-'} | "
          f"{fmt_ratio(s['voles'] / hand)} | - | - | - |")
    w("")
    w(f"Total benchmark time: {total:.0f} s.")
    return "\n".join(out)


def main(argv=None):
    parser = _common.arg_parser(__doc__, "one warm repetition, fewer per-call runs")
    parser.add_argument("--per-call-only", action="store_true",
                        help="only the per-call cost (section 2), e.g. to interleave runs of two "
                             "versions")
    parser.add_argument("--root", metavar="DIR", default=ROOT,
                        help="the source tree whose integrallimits is measured (default: this "
                             "one), e.g. another worktree, to interleave runs of two versions")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    sys.path.insert(0, root)   # the per-call section imports it in this process

    log = _common.progress(args.verbose)

    begin = time.perf_counter()
    try:
        import voles
        voles_version = getattr(voles, "__version__", "installed")
    except ImportError:
        voles_version = None
    machine = _common.machine_info(voles=voles_version, load_average=load_average(),
                                   root=root)
    start = None
    if not args.per_call_only:
        log("start-up (fresh processes):")
        start = startup(args.quick, log, root)
    log("per call:")
    calls = per_call(args.quick, log)
    total = time.perf_counter() - begin
    machine["load_average_end"] = load_average()
    print(report(machine, start, calls, args.quick, total))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine, "quick": args.quick, "goals": GOALS, "startup": start,
                       "per_call": calls, "total_seconds": total}, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
