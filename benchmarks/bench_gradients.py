"""Benchmark of the integrallimits gradient (the discrete adjoint) against PyTorch autograd on CPU.

Run from the repository root (PyTorch is the ``bench`` extra, pinned to the CPU build:
``pip install torch --index-url https://download.pytorch.org/whl/cpu`` (>= 2.1); the default
wheel pulls a multi-gigabyte GPU build)::

    python benchmarks/bench_gradients.py            # full run (a few minutes)
    python benchmarks/bench_gradients.py --quick    # N = 64, fewer repetitions
    python benchmarks/bench_gradients.py --json results.json

It measures, with PyTorch run in the same process on the same weights, inputs and targets,
the forward pass and the gradient of the loss

    L = 0.5 (1/B) sum_i |x_N(x0_i) - y_i|^2        (random targets y_i ~ N(0, 1))

with respect to all the weights W_nj and biases b_nj of the additive (residual-) dense
network x_n = x_0 + h sum_{j<n} tanh(W_nj x_j + b_nj), h = 1/N, with N = 256 layers, width
d = 4 and a batch of B = 256 inputs (--quick: N = 64), float64:

1. integrallimits: the forward pass ``ResidualDense(...).states`` (rule "rectangle", one
   batched solve, single-threaded), then the gradient: the mesh values Y (N+1, B d), dPhi/dY
   (zero except the last row, dL/dx_N) and ``integrallimits.control.discrete_adjoint``
   (the exact transpose of the forward scheme, batched over the samples), whose
   ``grad_theta`` holds dL/dW and dL/db (read through ``parameter_layout``) and whose adjoint
   states give dL/dx0 = sum_n mu_n.  Also ``Objective.value_and_gradient`` (the same
   computation as the training driver calls it: loss "mse", no regulariser, fixed identity
   classifier);
2. PyTorch autograd, written the way a PyTorch user would: W and b tensors with
   ``requires_grad=True``, the forward of ``bench_networks.py`` (a list of the earlier
   states, stack, batched matmul with W[n, :n], bias, tanh, sum, scale, add x_0), the loss
   above, ``loss.backward()``; with PyTorch's default number of threads and with one.

Goals (DESIGN, issue 5): the gradient costs at most 3x the package's own forward pass, and
the package's forward + gradient is at least 2x faster than PyTorch's forward + backward.
The gradients must agree: max |dW_torch - dW_package| <= 1e-10 max |dW| (the same for b).

Times are the best of k runs after one warm-up run (which also compiles the package's
loops); the contenders run in turn in each of the k rounds, so all of them see the same
machine load.  Memory: the tracemalloc peak of the package's forward and gradient (NumPy
allocations made from Python; the compiled loops' own temporaries and PyTorch's allocator
are not traced), and, for every contender in a fresh subprocess, the growth of the resident
set during one forward + gradient after a warm-up run (peak RSS, VmHWM, reset through
/proc/self/clear_refs, minus the RSS before the run; glibc's free memory trimmed first).
Prints a Markdown report (machine first).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from _common import best_of_interleaved, fmt_bytes, fmt_ratio, fmt_time, met  # noqa: E402


try:
    import torch  # noqa: E402
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("bench_gradients.py needs PyTorch >= 2.1 (a CPU build): pip install torch")

from integrallimits.control import Objective, discrete_adjoint, parameter_layout  # noqa: E402
from integrallimits.networks import ResidualDense  # noqa: E402
from integrallimits.volterra import solve_volterra  # noqa: E402

TOL = 1e-10  # max |grad_torch - grad_package| relative to max |grad|, for W and b
GOAL_RATIO = 2.0  # PyTorch forward+backward time / package forward+gradient time
GOAL_COST = 3.0  # package gradient time / package forward time, at most
D = 4
RULE = "rectangle"
PROBES = ("package", "torch-default", "torch-1")


# -- the machine -------------------------------------------------------------------------------

def machine_info():
    return _common.machine_info(torch=torch.__version__,
                                 torch_threads=torch.get_num_threads(),
                                 torch_interop_threads=torch.get_num_interop_threads(),
                                 torch_cuda_build=torch.version.cuda is not None,
                                 load_average=os.getloadavg() if hasattr(os, "getloadavg") else None)


# -- the problem, the package's gradient and the PyTorch baseline -------------------------------

def make_problem(N, B, d=D, seed=0):
    """Weights W (N+1, N+1, d, d), biases b (N+1, N+1, d), inputs X0 (B, d), targets (B, d).

    Entry [n, j] is the map of layer n reading layer j; the rectangle rule uses j < n.
    W ~ N(0, 1/d) and b ~ N(0, 0.01), so the tanh arguments are of order one (as in
    bench_networks.py); inputs and targets ~ N(0, 1).
    """
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 1.0 / math.sqrt(d), (N + 1, N + 1, d, d))
    b = rng.normal(0.0, 0.1, (N + 1, N + 1, d))
    X0 = rng.normal(0.0, 1.0, (B, d))
    targets = rng.normal(0.0, 1.0, (B, d))
    return W, b, X0, targets


class PackageGradient:
    """The package's forward pass and gradient of the MSE loss, as a user of the API writes it."""

    def __init__(self, W, b, X0, targets, N, activation="tanh"):
        start = time.perf_counter()
        self.net = ResidualDense(W, b, n_layers=N, activation=activation, rule=RULE)
        self.build_seconds = time.perf_counter() - start
        self.layout = {f.name: f for f in parameter_layout(self.net)}
        self.X0, self.targets = X0, targets
        self.N, self.B, self.d = N, X0.shape[0], X0.shape[1]
        self.t = np.linspace(0.0, self.net.T, N + 1)

    def forward(self):
        """All layer states (B, N+1, d)."""
        return self.net.states(self.X0)

    def mesh_values(self, states):
        """The solver's mesh values (N+1, B d): time-major, sample b in columns [b d, (b+1) d)."""
        return states.transpose(1, 0, 2).reshape(self.N + 1, self.B * self.d)

    def gradient(self, states):
        """{loss, W, b, X0 (the gradients), adjoint}: the loss and its discrete adjoint."""
        B = self.B
        r = states[:, -1] - self.targets
        loss = 0.5 * float(np.sum(r * r)) / B
        Y = self.mesh_values(states)
        dphi = np.zeros_like(Y)
        dphi[-1] = (r / B).ravel()
        adj = discrete_adjoint(self.net.kernel(B), self.t, Y, RULE, dphi)
        if not adj.status:
            raise RuntimeError(f"discrete adjoint failed: {adj.message}")
        return {"loss": loss, "W": self.layout["W"].grid(adj.grad_theta),
                "b": self.layout["b"].grid(adj.grad_theta),
                "X0": adj.mu.sum(axis=0).reshape(B, self.d), "stats": adj.stats}

    def forward_and_gradient(self):
        return self.gradient(self.forward())


def torch_dense_forward(W, b, x0):
    """x_N of the residual-dense net, written the way a PyTorch user would (as in
    bench_networks.py).  W (N+1, N+1, d, d), b (N+1, N+1, d), x0 (B, d)."""
    N = W.shape[0] - 1
    h = 1.0 / N
    states = [x0]
    x = x0
    for n in range(1, N + 1):
        X = torch.stack(states)                        # (n, B, d): x_0 .. x_{n-1}
        z = torch.bmm(X, W[n, :n].transpose(1, 2))     # (n, B, d): W_nj x_j for each j < n
        z = z + b[n, :n].unsqueeze(1)                  # + b_nj
        x = x0 + h * torch.tanh(z).sum(dim=0)          # x_0 + h sum_j tanh(...)
        states.append(x)
    return x


class threads:
    """Context manager: PyTorch intra-op threads set to ``n`` (None: leave as is)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.saved = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)


def torch_fn(W, b, X0, targets, n_threads, wrt_inputs=False):
    """A timed callable: PyTorch forward + loss.backward() with ``n_threads`` (None: default).

    Returns {loss, W, b[, X0] (gradients as NumPy arrays), forward, backward (seconds)}.
    """
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    xt = torch.tensor(X0, dtype=torch.float64, requires_grad=wrt_inputs)
    yt = torch.tensor(targets, dtype=torch.float64)

    def run():
        with threads(n_threads):
            Wt.grad = bt.grad = xt.grad = None       # optimizer.zero_grad(set_to_none=True)
            start = time.perf_counter()
            xN = torch_dense_forward(Wt, bt, xt)
            loss = 0.5 * ((xN - yt) ** 2).sum(dim=1).mean()
            middle = time.perf_counter()
            loss.backward()
            end = time.perf_counter()
        out = {"loss": loss.item(), "W": Wt.grad.numpy(), "b": bt.grad.numpy(),
               "forward": middle - start, "backward": end - middle}
        if wrt_inputs:
            out["X0"] = xt.grad.numpy()
        return out
    return run


# -- helpers ---------------------------------------------------------------------------------

def max_diff(a, b):
    """(max |a - b|, max |b|)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b))), float(np.max(np.abs(b)))


# -- memory ------------------------------------------------------------------------------------

def _status_kb(key):
    with open("/proc/self/status") as fh:
        m = re.search(rf"^{key}:\s+(\d+) kB", fh.read(), re.M)
    return int(m.group(1)) if m else None


def _reset_peak_rss():
    """Reset the peak RSS (VmHWM) of this process; False where /proc/self/clear_refs is absent."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _trim():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory_probe(name, N, B):
    """In a fresh process: RSS growth (bytes) of one forward + gradient of contender ``name``
    after a warm-up run.  Prints one JSON line."""
    W, b, X0, targets = make_problem(N, B)
    if name == "package":
        fn = PackageGradient(W, b, X0, targets, N).forward_and_gradient
    else:
        fn = torch_fn(W, b, X0, targets, None if name == "torch-default" else 1)
    del W, b
    fn()                                   # warm-up: compilation, thread pools, lazy imports
    _trim()
    reset = _reset_peak_rss()
    rss0 = _status_kb("VmRSS")
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn()
    hwm = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"name": name, "rss_before": rss0 * 1024, "peak": hwm * 1024,
           "growth": (hwm - rss0) * 1024, "reset": reset,
           "lower_bound": (not reset) and hwm <= maxrss0}
    print(json.dumps(out))


def run_probe(name, N, B):
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-probe", name, "--N", str(N),
           "--B", str(B)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"name": name, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def traced_peak(fn):
    """tracemalloc peak (bytes above the start) of one call, and its output."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base, out


# -- the benchmark -----------------------------------------------------------------------------

class Bench:
    def __init__(self, quick, log):
        self.quick = quick
        self.log = log
        self.reps = 3 if quick else 5

    def checks(self, pkg, W, b, X0, targets, results):
        """Agreement: package vs PyTorch (both thread settings), the layout of the mesh values,
        dL/dx0 (an extra untimed PyTorch run with x0 requiring grad), Objective vs the direct
        route.  Returns rows {quantity, diff, scale, tol, ok} (tol relative to scale)."""
        N, B, d = pkg.N, pkg.B, pkg.d
        rows = []
        g = results["package"][1]
        for key, label in (("torch-default", "PyTorch (default threads)"),
                           ("torch-1", "PyTorch (1 thread)")):
            tg = results[key][1]
            for q in ("W", "b"):
                diff, scale = max_diff(tg[q], g[q])
                rows.append({"quantity": f"dL/d{q}, {label} vs integrallimits", "diff": diff,
                             "scale": scale, "tol": TOL, "ok": diff <= TOL * scale})
            diff = abs(tg["loss"] - g["loss"])
            rows.append({"quantity": f"loss, {label} vs integrallimits", "diff": diff,
                         "scale": abs(g["loss"]), "tol": 1e-12,
                         "ok": diff <= 1e-12 * abs(g["loss"])})
        tx = torch_fn(W, b, X0, targets, 1, wrt_inputs=True)()
        diff, scale = max_diff(tx["X0"], g["X0"])
        rows.append({"quantity": "dL/dx0 (sum_n mu_n), PyTorch (1 thread) vs integrallimits",
                     "diff": diff, "scale": scale, "tol": TOL, "ok": diff <= TOL * scale})
        # the mesh values built from net.states are the solver's own (layout check)
        states = pkg.forward()
        sol = solve_volterra(pkg.net.kernel(B), pkg.net.forcing(X0), (0.0, pkg.net.T), N,
                             method=RULE)
        diff, scale = max_diff(pkg.mesh_values(states), sol.y.reshape(N + 1, B * d))
        rows.append({"quantity": "mesh values Y from net.states vs solve_volterra (layout)",
                     "diff": diff, "scale": scale, "tol": 0.0, "ok": diff == 0.0})
        # Objective.value_and_gradient: the same J and gradient (used grid values)
        J, grad = results["objective"][1]
        diff = abs(J - g["loss"])
        rows.append({"quantity": "J, Objective.value_and_gradient vs direct route", "diff": diff,
                     "scale": abs(g["loss"]), "tol": 1e-14, "ok": diff <= 1e-14 * abs(g["loss"])})
        grids = self.objective.gradient_grids(grad)
        for q in ("W", "b"):
            diff, scale = max_diff(grids[q], g[q])
            rows.append({"quantity": f"dL/d{q}, Objective vs direct route", "diff": diff,
                         "scale": scale, "tol": 1e-14, "ok": diff <= 1e-14 * scale})
        return rows

    def main_case(self, N, B):
        W, b, X0, targets = make_problem(N, B)
        pkg = PackageGradient(W, b, X0, targets, N)
        states = pkg.forward()
        self.objective = Objective(pkg.net, (X0, targets), loss="mse", regularizer=None,
                                   train_classifier=False)
        vector = self.objective.initial_vector()
        fns = {"forward": pkg.forward,
               "gradient": lambda: pkg.gradient(states),
               "package": pkg.forward_and_gradient,
               "objective": lambda: self.objective.value_and_gradient(vector),
               "torch-default": torch_fn(W, b, X0, targets, None),
               "torch-1": torch_fn(W, b, X0, targets, 1)}
        res = best_of_interleaved(fns, self.reps)
        for name, (seconds, _) in res.items():
            self.log(f"  {name}: {fmt_time(seconds)}")
        checks = self.checks(pkg, W, b, X0, targets, res)
        for c in checks:
            self.log(f"  check {c['quantity']}: {c['diff']:.1e} ({'ok' if c['ok'] else 'FAIL'})")
        bad = [c["quantity"] for c in checks if not c["ok"]]
        assert not bad, f"gradients disagree: {bad}"

        # diagnostic: the same computation without tanh (the cost of the activation)
        ident = PackageGradient(W, b, X0, targets, N, activation="identity")
        ident_states = ident.forward()
        ires = best_of_interleaved({"forward": ident.forward,
                                    "gradient": lambda: ident.gradient(ident_states)}, self.reps)
        self.log(f"  identity activation: forward {fmt_time(ires['forward'][0])}, gradient "
                 f"{fmt_time(ires['gradient'][0])}")

        # memory: tracemalloc in this process, RSS growth in one subprocess per contender
        fwd_peak, states = traced_peak(pkg.forward)
        grad_peak, _ = traced_peak(lambda: pkg.gradient(states))
        probes = {}
        for name in PROBES:
            probes[name] = run_probe(name, N, B)
            self.log(f"  memory probe {name}: {probes[name]}")

        with threads(None):
            default_threads = torch.get_num_threads()
        torch_rows = []
        for key, n_threads, is_default in (("torch-default", default_threads, True),
                                           ("torch-1", 1, False)):
            seconds, out = res[key]
            torch_rows.append({"key": key, "threads": n_threads, "default_threads": is_default,
                               "seconds": seconds, "forward_seconds": out["forward"],
                               "backward_seconds": out["backward"],
                               "ratio": seconds / res["package"][0],
                               "backward_over_forward": out["backward"] / out["forward"]})
        pairs = N * (N + 1) // 2  # (n, j) pairs with j < n, n = 1..N
        return {"N": N, "B": B, "d": D, "reps": self.reps,
                "package": {"forward_seconds": res["forward"][0],
                            "gradient_seconds": res["gradient"][0],
                            "seconds": res["package"][0],
                            "gradient_over_forward": res["gradient"][0] / res["forward"][0],
                            "objective_seconds": res["objective"][0],
                            "build_seconds": pkg.build_seconds,
                            "identity_forward_seconds": ires["forward"][0],
                            "identity_gradient_seconds": ires["gradient"][0],
                            "vjp_calls": res["package"][1]["stats"]["vjp_calls"],
                            "forward_peak_bytes": fwd_peak, "gradient_peak_bytes": grad_peak},
                "torch": torch_rows, "checks": checks, "rss": probes,
                "pairs": pairs, "tanh_evaluations": pairs * B * D,
                "states_bytes": (N + 1) * B * D * 8,
                "parameter_bytes": int(W.nbytes + b.nbytes),
                "theta_bytes": int(pkg.net.theta.nbytes),
                "torch_saved_bytes_estimate": 2 * pairs * B * D * 8}


# -- the report --------------------------------------------------------------------------------

def report(machine, main, quick, reps, total_seconds):
    out = []
    w = out.append
    N, B, d = main["N"], main["B"], main["d"]
    p = main["package"]
    w("# integrallimits gradient benchmark" + (" (--quick)" if quick else ""))
    w("")
    w(f"- Machine: {machine['platform']}; CPU: {machine['cpu']}; {machine['cores']} cores "
      f"({machine['usable_cores']} usable)"
      + (f"; load average at start {machine['load_average'][0]:.2f} (1 min)"
         if machine["load_average"] else ""))
    w(f"- Python {machine['python']}, NumPy {machine['numpy']}, Numba {machine['numba']}, "
      f"PyTorch {machine['torch']} ({'CUDA' if machine['torch_cuda_build'] else 'CPU'} build)")
    w(f"- Threads: PyTorch default torch.get_num_threads() = {machine['torch_threads']} "
      f"(inter-op {machine['torch_interop_threads']}); integrallimits is single-threaded "
      f"(compiled Numba loops, no parallel sections).")
    w("- Network: residual-dense x_n = x_0 + h sum_(j<n) tanh(W_nj x_j + b_nj), h = 1/N, rule "
      "\"rectangle\", float64; W ~ N(0, 1/d), b ~ N(0, 0.01), inputs and targets ~ N(0, 1). "
      "Loss L = 0.5 (1/B) sum_i |x_N,i - y_i|^2; gradient with respect to all W_nj, b_nj.")
    w("- integrallimits: forward `net.states(X0)`, gradient = loss, dL/dx_N and "
      "`discrete_adjoint(net.kernel(B), t, Y, \"rectangle\", dphi)` (exact transpose of the "
      "forward scheme, batched; also yields dL/dx0). PyTorch: W, b with requires_grad=True, the "
      "forward of bench_networks.py (stack earlier states, batched matmul, bias, tanh, sum), "
      "`loss.backward()`, same process.")
    w(f"- Times: best of {reps} after one warm-up run, all contenders interleaved in each round. "
      f"Ratio = contender time / integrallimits forward+gradient time (> 1: integrallimits "
      f"faster). PyTorch's forward/backward split is from its best run.")
    w("")
    w(f"Forward + gradient, N = {N}, d = {d}, B = {B}, float64:")
    w("")
    w("| Implementation | Threads | Forward | Gradient / backward | Forward + gradient | Ratio "
      "| Goal | Met |")
    w("|---|---|---|---|---|---|---|---|")
    w(f"| integrallimits `states` + `discrete_adjoint` | 1 | {fmt_time(p['forward_seconds'])} | "
      f"{fmt_time(p['gradient_seconds'])} | {fmt_time(p['seconds'])} | 1.00x | - | - |")
    w(f"| integrallimits `Objective.value_and_gradient` | 1 | - | - | "
      f"{fmt_time(p['objective_seconds'])} | {fmt_ratio(p['objective_seconds'] / p['seconds'])} "
      f"| - | - |")
    for r in main["torch"]:
        which = "default" if r["default_threads"] else "set"
        w(f"| PyTorch autograd | {r['threads']} ({which}) | {fmt_time(r['forward_seconds'])} | "
          f"{fmt_time(r['backward_seconds'])} | {fmt_time(r['seconds'])} | "
          f"{fmt_ratio(r['ratio'])} | >= {GOAL_RATIO:g}x | {met(r['ratio'] >= GOAL_RATIO)} |")
    best = min(main["torch"], key=lambda r: r["seconds"])
    w("")
    w(f"Goal 1 (integrallimits forward+gradient at least {GOAL_RATIO:g}x faster than PyTorch "
      f"forward+backward, its faster thread setting, {best['threads']} "
      f"thread{'s' if best['threads'] > 1 else ''}): {fmt_ratio(best['ratio'])}, met: "
      f"{met(best['ratio'] >= GOAL_RATIO)}.")
    w(f"Goal 2 (integrallimits gradient at most {GOAL_COST:g}x its own forward): "
      f"{fmt_ratio(p['gradient_over_forward'])}, met: "
      f"{met(p['gradient_over_forward'] <= GOAL_COST)}.")
    w("")
    w("Cost of the gradient relative to the forward pass (same runs; identity activation: "
      "diagnostic, no tanh):")
    w("")
    w("| Implementation | Forward | Gradient / backward | Gradient / forward | Goal | Met |")
    w("|---|---|---|---|---|---|")
    w(f"| integrallimits, tanh | {fmt_time(p['forward_seconds'])} | "
      f"{fmt_time(p['gradient_seconds'])} | {fmt_ratio(p['gradient_over_forward'])} | "
      f"<= {GOAL_COST:g}x | {met(p['gradient_over_forward'] <= GOAL_COST)} |")
    w(f"| integrallimits, identity activation | {fmt_time(p['identity_forward_seconds'])} | "
      f"{fmt_time(p['identity_gradient_seconds'])} | "
      f"{fmt_ratio(p['identity_gradient_seconds'] / p['identity_forward_seconds'])} | - | - |")
    for r in main["torch"]:
        w(f"| PyTorch autograd, {r['threads']} thread{'s' if r['threads'] > 1 else ''} | "
          f"{fmt_time(r['forward_seconds'])} | {fmt_time(r['backward_seconds'])} | "
          f"{fmt_ratio(r['backward_over_forward'])} | - | - |")
    w("")
    w(f"Work: {main['pairs']:,} layer pairs (n, j), j < n, each a batch of {B} affine maps "
      f"R^{d} -> R^{d} and {B * d} tanh; {main['tanh_evaluations']:,} tanh evaluations per "
      f"forward pass; the package's adjoint stores only the states and evaluates tanh' again "
      f"at every pair ({p['vjp_calls']:,} kernel vector-Jacobian products). Network "
      f"construction (parameter packing, not timed above): "
      f"{fmt_time(p['build_seconds'])}.")
    w("")
    w("Agreement (max abs difference; relative = difference / max abs value of the "
      "integrallimits quantity):")
    w("")
    w("| Quantity | max abs diff | max abs value | relative | Tolerance (relative) | OK |")
    w("|---|---|---|---|---|---|")
    for c in main["checks"]:
        rel = c["diff"] / c["scale"] if c["scale"] else float("nan")
        w(f"| {c['quantity']} | {c['diff']:.1e} | {c['scale']:.2e} | {rel:.1e} | "
          f"{c['tol']:g} | {met(c['ok'])} |")
    w("")
    w("Memory (float64):")
    w("")
    w("| Contender | What is measured | Peak |")
    w("|---|---|---|")
    w(f"| integrallimits forward | tracemalloc peak (allocations from Python/NumPy) | "
      f"{fmt_bytes(p['forward_peak_bytes'])} |")
    w(f"| integrallimits gradient | tracemalloc peak (allocations from Python/NumPy) | "
      f"{fmt_bytes(p['gradient_peak_bytes'])} |")
    labels = {"package": "integrallimits forward + gradient",
              "torch-default": "PyTorch forward + backward (default threads)",
              "torch-1": "PyTorch forward + backward (1 thread)"}
    for name in PROBES:
        r = main["rss"].get(name, {})
        if "error" in r:
            w(f"| {labels[name]} | RSS growth, subprocess | failed: {r['error'][0]} |")
            continue
        how = "peak RSS (VmHWM, reset) - RSS before" if r["reset"] else \
            "ru_maxrss - RSS before" + (" (lower bound)" if r["lower_bound"] else "")
        w(f"| {labels[name]} | {how}, fresh subprocess, after a warm-up run | "
          f"{fmt_bytes(r['growth'])} |")
    w("")
    w(f"For scale: states (N+1) B d = {fmt_bytes(main['states_bytes'])}; parameters W, b "
      f"{fmt_bytes(main['parameter_bytes'])} (packed theta {fmt_bytes(main['theta_bytes'])}, "
      f"its gradient the same); PyTorch's autograd graph keeps about two (n, B, d) tensors per "
      f"layer n (the stacked states for bmm, the tanh output), "
      f"~{fmt_bytes(main['torch_saved_bytes_estimate'])}. The package's tracemalloc figures "
      f"miss the compiled loops' own temporaries; the RSS growth includes them.")
    w("")
    end_load = f", load average at the end {os.getloadavg()[0]:.2f} (1 min)" \
        if hasattr(os, "getloadavg") else ""
    w(f"Total benchmark time: {total_seconds:.0f} s{end_load}. On a shared machine PyTorch's "
      f"multi-threaded runs are the most sensitive to other load.")
    return "\n".join(out)


def main(argv=None):
    parser = _common.arg_parser(__doc__, "N = 64, fewer repetitions")
    parser.add_argument("--memory-probe", choices=PROBES, help=argparse.SUPPRESS)
    parser.add_argument("--N", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--B", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_probe:
        memory_probe(args.memory_probe, args.N, args.B)
        return 0

    log = _common.progress(args.verbose)

    begin = time.perf_counter()
    machine = machine_info()
    bench = Bench(args.quick, log)
    N, B = (64, 256) if args.quick else (256, 256)
    log(f"forward + gradient, N={N}, B={B}:")
    main_case = bench.main_case(N, B)
    total = time.perf_counter() - begin
    print(report(machine, main_case, args.quick, bench.reps, total))
    if args.json:
        results = {"machine": machine, "quick": args.quick, "goal_ratio": GOAL_RATIO,
                   "goal_gradient_cost": GOAL_COST, "tolerance": TOL, "reps": bench.reps,
                   "gradient": main_case, "total_seconds": total}
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
