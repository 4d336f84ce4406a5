"""Benchmark of the integrallimits networks against PyTorch on CPU.

Run from the repository root (PyTorch >= 2.1 is in the ``bench`` extra; on Linux prefer its
CPU build, e.g. ``pip install torch --index-url https://download.pytorch.org/whl/cpu``, since
the default wheel pulls a multi-gigabyte GPU build)::

    python benchmarks/bench_networks.py            # full run (about a minute or two)
    python benchmarks/bench_networks.py --quick    # smaller N and B, fewer repetitions
    python benchmarks/bench_networks.py --json results.json

It measures, with PyTorch run in the same process on the same weights and inputs:

1. the batched forward map of the additive (residual-) dense network
   x_n = x_0 + h sum_{j<n} tanh(W_nj x_j + b_nj), h = 1/N, with N = 256 layers,
   width d = 4 and a batch of B = 256 inputs: ``ResidualDense(...).forward`` (rule
   "rectangle", float64, single-threaded) against the same network written the way a
   PyTorch user would (a list of the earlier states; at layer n stack them to (n, B, d),
   one batched matmul with W[n, :n], add the bias, tanh, sum over the n earlier layers,
   scale by h, add x_0; under ``torch.no_grad()``), in float64 (checked to agree with the
   package to 1e-12) and float32, with PyTorch's default number of threads and with one;
2. the scaling of both with the depth, N = 64, 128, 256, 512 (same d and B);
3. wide ResNets x_n = x_{n-1} + h tanh(W_n x_{n-1} + b_n), N = 1024 layers, widths
   d = 16, 32, 64, 128, 256, a batch of B = 128: ``ResNet.forward`` (no state kept but the
   last two) and ``ResNet.states`` (every state) against PyTorch (a loop of matmul, bias,
   tanh, axpy) with one thread, JAX (``lax.scan`` of the same step,
   jit-compiled, float64, one thread) when it is installed (the ``bench`` extra), and the
   same loop in NumPy; with the peak memory of ``forward`` and ``states``.

Times are the best of k runs after one warm-up run (which also compiles the package's
loop); the contenders of a table row run in turn in each of the k rounds, so all of them
see the same machine load.  BLAS (the package's and NumPy's matrix products for wide layers)
and XLA (JAX) run on one thread (``OPENBLAS_NUM_THREADS=1`` and ``XLA_FLAGS`` unless set), so
integrallimits, NumPy and JAX are single-threaded.  The peak memory of the package's forward
pass is measured with tracemalloc (NumPy's and Numba's allocations; PyTorch's allocator is not
traced).  Prints a Markdown report (machine first).
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import tracemalloc

# one BLAS thread for the package and NumPy (OpenBLAS); OMP_NUM_THREADS is left alone, so
# that "PyTorch default" is PyTorch's own thread count
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

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
    sys.exit("bench_networks.py needs PyTorch >= 2.1 (a CPU build): pip install torch")

from integrallimits.networks import ResidualDense, ResNet  # noqa: E402

try:
    import jax  # noqa: E402
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp  # noqa: E402
except ImportError:  # pragma: no cover - optional
    jax = None

TOL = 1e-12  # float64 package vs float64 PyTorch, max abs difference of x_N
GOAL = 1.0  # PyTorch time / package time (float64, PyTorch's default threads)
D = 4


# -- the machine -------------------------------------------------------------------------------

def machine_info():
    return _common.machine_info(torch=torch.__version__,
                                 jax=jax.__version__ if jax is not None else None,
                                 torch_threads=torch.get_num_threads(),
                                 torch_interop_threads=torch.get_num_interop_threads(),
                                 torch_cuda_build=torch.version.cuda is not None,
                                 load_average=os.getloadavg() if hasattr(os, "getloadavg") else None)


# -- the problem and the PyTorch baseline ------------------------------------------------------

def make_problem(N, B, d=D, seed=0):
    """Weights W (N+1, N+1, d, d), biases b (N+1, N+1, d) and inputs X0 (B, d), float64.

    Entry [n, j] is the map of layer n reading layer j; the rectangle rule uses j < n.
    W ~ N(0, 1/d) and b ~ N(0, 0.01), so the tanh arguments are of order one.
    """
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 1.0 / math.sqrt(d), (N + 1, N + 1, d, d))
    b = rng.normal(0.0, 0.1, (N + 1, N + 1, d))
    X0 = rng.normal(0.0, 1.0, (B, d))
    return W, b, X0


def torch_dense_forward(W, b, x0):
    """x_N of the residual-dense net, written the way a PyTorch user would.

    W (N+1, N+1, d, d), b (N+1, N+1, d), x0 (B, d), all tensors of one dtype.
    """
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


def torch_resnet_forward(W, b, x0, h):
    """x_N of the ResNet x_n = x_{n-1} + h tanh(W_{n-1} x_{n-1} + b_{n-1}) (tensors)."""
    x = x0
    for n in range(W.shape[0]):
        x = x + h * torch.tanh(x @ W[n].T + b[n])
    return x


def numpy_resnet_forward(W, b, x0, h):
    """The same loop in NumPy (arrays)."""
    x = x0
    for n in range(W.shape[0]):
        x = x + h * np.tanh(x @ W[n].T + b[n])
    return x


def jax_resnet_forward(h):
    """The same step as a jit-compiled ``lax.scan`` (float64)."""
    def step(x, wb):
        w, bias = wb
        return x + h * jnp.tanh(x @ w.T + bias), None

    @jax.jit
    def forward(W, b, x0):
        return jax.lax.scan(step, x0, (W, b))[0]
    return forward


# -- helpers ---------------------------------------------------------------------------------

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


# -- the benchmarks ----------------------------------------------------------------------------

class Bench:
    def __init__(self, quick, log):
        self.quick = quick
        self.log = log
        self.reps = 3 if quick else 5

    @staticmethod
    def package_net(W, b, N, activation="tanh"):
        start = time.perf_counter()
        net = ResidualDense(W, b, n_layers=N, activation=activation, rule="rectangle")
        return net, time.perf_counter() - start

    @staticmethod
    def torch_fn(W, b, X0, dtype, n_threads):
        """A timed callable: PyTorch forward in ``dtype`` with ``n_threads`` (None: default)."""
        Wt = torch.from_numpy(W).to(dtype)
        bt = torch.from_numpy(b).to(dtype)
        xt = torch.from_numpy(X0).to(dtype)

        def run():
            with threads(n_threads), torch.no_grad():
                return torch_dense_forward(Wt, bt, xt)
        return run

    def compare(self, W, b, X0, N, variants):
        """Interleaved best-of-k of the package and the PyTorch ``variants``
        [(dtype, n_threads)]; returns (package record, [PyTorch records])."""
        net, build = self.package_net(W, b, N)
        fns = {"package": lambda: net.forward(X0)}
        for dtype, n_threads in variants:
            fns[(dtype, n_threads)] = self.torch_fn(W, b, X0, dtype, n_threads)
        res = best_of_interleaved(fns, self.reps)
        seconds, out = res["package"]
        pkg = {"seconds": seconds, "reps": self.reps, "build_seconds": build, "out": out,
               "net": net}
        rows = []
        for dtype, n_threads in variants:
            t_seconds, t_out = res[(dtype, n_threads)]
            with threads(n_threads):
                used = torch.get_num_threads()
            diff = float(np.max(np.abs(t_out.to(torch.float64).numpy() - out)))
            rows.append({"dtype": str(dtype).replace("torch.", ""), "threads": used,
                         "default_threads": n_threads is None, "seconds": t_seconds,
                         "reps": self.reps, "ratio": t_seconds / seconds,
                         "max_difference": diff})
            if dtype == torch.float64:
                assert diff <= TOL, f"PyTorch and package differ by {diff:.3e} (> {TOL:g}) at N = {N}"
        return pkg, rows

    @staticmethod
    def peak_memory(net, X0, method="forward"):
        """tracemalloc peak (bytes) of one forward pass (or ``method``), after the warm-up: the
        NumPy arrays and the compiled loops' own (Numba's allocator is traced too)."""
        tracemalloc.start()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        getattr(net, method)(X0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak - base

    # 1. the main comparison
    def main_case(self, N, B):
        W, b, X0 = make_problem(N, B)
        variants = [(torch.float64, None), (torch.float64, 1), (torch.float32, None),
                    (torch.float32, 1)]
        pkg, rows = self.compare(W, b, X0, N, variants)
        self.log(f"  package N={N} B={B}: {fmt_time(pkg['seconds'])} "
                 f"(construction {fmt_time(pkg['build_seconds'])})")
        for r in rows:
            self.log(f"  torch {r['dtype']} threads={r['threads']}: {fmt_time(r['seconds'])}, "
                     f"|torch - package| = {r['max_difference']:.1e}")
        peak = self.peak_memory(pkg["net"], X0)
        ident, _ = self.package_net(W, b, N, activation="identity")
        ident_seconds, _ = best_of_interleaved({"identity": lambda: ident.forward(X0)},
                                               self.reps)["identity"]
        self.log(f"  package, identity activation: {fmt_time(ident_seconds)}")
        return {"N": N, "B": B, "d": D,
                "package": {"seconds": pkg["seconds"], "reps": pkg["reps"],
                            "build_seconds": pkg["build_seconds"], "peak_bytes": peak,
                            "identity_seconds": ident_seconds},
                "states_bytes": (N + 1) * B * D * 8,
                "parameter_bytes": int(W.nbytes + b.nbytes),
                "theta_bytes": int(pkg["net"].theta.nbytes),
                "torch": rows}

    # 2. scaling with the depth
    def scaling(self, Ns, B):
        rows = []
        for N in Ns:
            W, b, X0 = make_problem(N, B)
            pkg, (t_def, t_one) = self.compare(W, b, X0, N, [(torch.float64, None),
                                                             (torch.float64, 1)])
            rows.append({"N": N, "B": B, "package_seconds": pkg["seconds"],
                         "torch_seconds": t_def["seconds"], "torch_threads": t_def["threads"],
                         "torch1_seconds": t_one["seconds"], "ratio": t_def["ratio"],
                         "ratio1": t_one["ratio"],
                         "max_difference": max(t_def["max_difference"], t_one["max_difference"])})
            self.log(f"  N={N}: package {fmt_time(pkg['seconds'])}, torch "
                     f"{fmt_time(t_def['seconds'])} / {fmt_time(t_one['seconds'])} (1 thread)")
        for prev, row in zip(rows, rows[1:]):
            f = math.log(row["N"] / prev["N"])
            row["package_exponent"] = math.log(row["package_seconds"] / prev["package_seconds"]) / f
            row["torch_exponent"] = math.log(row["torch_seconds"] / prev["torch_seconds"]) / f
        return rows


    # 3. wide ResNets
    def wide_resnet(self, widths, N, B):
        rows = []
        for d in widths:
            rng = np.random.default_rng(d)
            W = rng.normal(0.0, 1.0 / math.sqrt(d), (N, d, d))
            b = rng.normal(0.0, 0.1, (N, d))
            X0 = rng.normal(0.0, 1.0, (B, d))
            net = ResNet(W, b)
            h = net.h
            Wt, bt, xt = (torch.from_numpy(a) for a in (W, b, X0))

            def torch_run(n_threads):
                # one thread only: the goal's comparison (PyTorch's default threads on a shared
                # 2-core machine took 10-20x longer under load, and the run with them)
                def run():
                    with threads(n_threads), torch.no_grad():
                        return torch_resnet_forward(Wt, bt, xt, h)
                return run
            fns = {"forward": lambda: net.forward(X0), "states": lambda: net.states(X0)[:, -1],
                   "torch1": torch_run(1),
                   "numpy": lambda: numpy_resnet_forward(W, b, X0, h)}
            if jax is not None:
                jf = jax_resnet_forward(h)
                Wj, bj, xj = (jnp.asarray(a) for a in (W, b, X0))
                fns["jax"] = lambda: jf(Wj, bj, xj).block_until_ready()
            res = best_of_interleaved(fns, self.reps)
            out = res["forward"][1]
            diff = max(float(np.max(np.abs(res[k][1] - out))) if k == "states" else
                       float(np.max(np.abs(np.asarray(res[k][1], dtype=float) - out)))
                       for k in fns if k != "forward")
            assert diff <= 1e-11, f"wide ResNet d = {d}: the implementations differ by {diff:.2e}"
            row = {"d": d, "N": N, "B": B, "max_difference": diff,
                   "forward_peak": self.peak_memory(net, X0),
                   "states_peak": self.peak_memory(net, X0, "states"),
                   "states_bytes": (N + 1) * B * d * 8}
            row.update({k: v[0] for k, v in res.items()})
            rows.append(row)
            self.log(f"  d={d}: forward {fmt_time(row['forward'])}, states {fmt_time(row['states'])}, "
                     f"torch {fmt_time(row['torch1'])} (1 thread), "
                     f"numpy {fmt_time(row['numpy'])}"
                     + (f", jax {fmt_time(row['jax'])}" if "jax" in row else ""))
        return rows


# -- the report --------------------------------------------------------------------------------

def report(machine, main, scale, wide, quick, reps, total_seconds):
    out = []
    w = out.append
    N, B, d = main["N"], main["B"], main["d"]
    p = main["package"]
    w("# integrallimits networks benchmark" + (" (--quick)" if quick else ""))
    w("")
    w(f"- Machine: {machine['platform']}; CPU: {machine['cpu']}; {machine['cores']} cores "
      f"({machine['usable_cores']} usable)"
      + (f"; load average at start {machine['load_average'][0]:.2f} (1 min)"
         if machine["load_average"] else ""))
    w(f"- Python {machine['python']}, NumPy {machine['numpy']}, Numba {machine['numba']}, "
      f"PyTorch {machine['torch']} ({'CUDA' if machine['torch_cuda_build'] else 'CPU'} build), "
      f"JAX {machine['jax'] or 'not installed'}")
    w(f"- Threads: PyTorch default torch.get_num_threads() = {machine['torch_threads']} "
      f"(inter-op {machine['torch_interop_threads']}); integrallimits is single-threaded "
      f"(one compiled Numba loop, no parallel sections; BLAS on one thread).")
    w("- Network: residual-dense x_n = x_0 + h sum_(j<n) tanh(W_nj x_j + b_nj), h = 1/N, rule "
      "\"rectangle\"; W ~ N(0, 1/d), b ~ N(0, 0.01), inputs ~ N(0, 1). Baseline: the same net "
      "in PyTorch (stack the earlier states, batched matmul, bias, tanh, sum), "
      "torch.no_grad(), same process.")
    w(f"- Times: best of {reps} after one warm-up run, the contenders interleaved in each round. "
      f"Ratio = PyTorch time / integrallimits time (> 1: integrallimits faster). float64 "
      f"outputs agree to <= {TOL:g} (checked).")
    w("")
    w(f"Batched forward, N = {N}, d = {d}, B = {B}:")
    w("")
    w("| Implementation | dtype | Threads | Time | Ratio | max abs diff vs integrallimits "
      "| Goal | Met |")
    w("|---|---|---|---|---|---|---|---|")
    w(f"| integrallimits `ResidualDense.forward` | float64 | 1 | {fmt_time(p['seconds'])} | 1.00x "
      f"| - | - | - |")
    for r in main["torch"]:
        which = "default" if r["default_threads"] else "set"
        goal = r["dtype"] == "float64"
        w(f"| PyTorch | {r['dtype']} | {r['threads']} ({which}) | {fmt_time(r['seconds'])} | "
          f"{fmt_ratio(r['ratio'])} | {r['max_difference']:.1e} | "
          + (f">= {GOAL:g}x | {met(r['ratio'] >= GOAL)} |" if goal else "- | - |"))
    best64 = min((r for r in main["torch"] if r["dtype"] == "float64"), key=lambda r: r["seconds"])
    w("")
    w(f"Goal (integrallimits at least as fast as PyTorch float64, its faster thread setting, "
      f"{best64['threads']} thread{'s' if best64['threads'] > 1 else ''}): "
      f"{fmt_ratio(best64['ratio'])}, met: {met(best64['ratio'] >= GOAL)}.")
    w("")
    w(f"Package details: network construction (parameter packing, not timed above) "
      f"{fmt_time(p['build_seconds'])}; peak traced memory of one forward pass (tracemalloc, "
      f"NumPy allocations) {fmt_bytes(p['peak_bytes'])}, for states (N+1) B d float64 = "
      f"{fmt_bytes(main['states_bytes'])}; parameters W, b {fmt_bytes(main['parameter_bytes'])} "
      f"(packed copy theta {fmt_bytes(main['theta_bytes'])}). Same forward with the identity "
      f"activation (no tanh; diagnostic): {fmt_time(p['identity_seconds'])}.")
    w("")
    w(f"Scaling with the depth (d = {d}, B = {scale[0]['B']}, float64; exponent: time ~ N^p "
      f"from the previous row):")
    w("")
    w(f"| N | integrallimits | PyTorch ({scale[0]['torch_threads']} threads) | PyTorch (1 thread) "
      f"| Ratio | Ratio (1 thread) | p integrallimits | p PyTorch |")
    w("|---|---|---|---|---|---|---|---|")
    for r in scale:
        pe = f"{r['package_exponent']:.2f}" if "package_exponent" in r else "-"
        te = f"{r['torch_exponent']:.2f}" if "torch_exponent" in r else "-"
        w(f"| {r['N']} | {fmt_time(r['package_seconds'])} | {fmt_time(r['torch_seconds'])} | "
          f"{fmt_time(r['torch1_seconds'])} | {fmt_ratio(r['ratio'])} | {fmt_ratio(r['ratio1'])} "
          f"| {pe} | {te} |")
    w("")
    r0 = wide[0]
    w(f"Wide ResNets x_n = x_(n-1) + h tanh(W_n x_(n-1) + b_n), N = {r0['N']}, B = {r0['B']}, "
      f"float64 (ratio = other time / integrallimits forward time; JAX: jit-compiled lax.scan, "
      f"{'XLA_FLAGS=' + repr(os.environ.get('XLA_FLAGS', '')) if jax is not None else 'not installed'}; "
      f"NumPy: the same loop, BLAS on {os.environ.get('OPENBLAS_NUM_THREADS', 'default')} thread(s)):")
    w("")
    w("| d | `forward` | `states` (all kept) | PyTorch 1 thread | JAX | NumPy "
      "| Ratio PyTorch | Ratio JAX | Ratio NumPy "
      "| `forward` peak memory | `states` peak memory | all states |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in wide:
        jx = fmt_time(r["jax"]) if "jax" in r else "n/a"
        jr = fmt_ratio(r["jax"] / r["forward"]) if "jax" in r else "n/a"
        w(f"| {r['d']} | {fmt_time(r['forward'])} | {fmt_time(r['states'])} | "
          f"{fmt_time(r['torch1'])} | {jx} | {fmt_time(r['numpy'])} | "
          f"{fmt_ratio(r['torch1'] / r['forward'])} | "
          f"{jr} | {fmt_ratio(r['numpy'] / r['forward'])} | {fmt_bytes(r['forward_peak'])} | "
          f"{fmt_bytes(r['states_peak'])} | {fmt_bytes(r['states_bytes'])} |")
    worst = min(r["torch1"] / r["forward"] for r in wide)
    w("")
    w(f"Goal (at least PyTorch's speed from d = 16 to 256, 1 thread each): worst ratio "
      f"{fmt_ratio(worst)}, met: {met(worst >= 1.0)}.")
    if all("jax" in r for r in wide):
        w(f"Against JAX (no goal): ratios from {fmt_ratio(min(r['jax'] / r['forward'] for r in wide))} "
          f"to {fmt_ratio(max(r['jax'] / r['forward'] for r in wide))}.")
    w("")
    end_load = f", load average at the end {os.getloadavg()[0]:.2f} (1 min)" \
        if hasattr(os, "getloadavg") else ""
    w(f"Total benchmark time: {total_seconds:.0f} s{end_load}. On a shared machine PyTorch's "
      f"multi-threaded runs are the most sensitive to other load.")
    return "\n".join(out)


def main(argv=None):
    parser = _common.arg_parser(__doc__, "smaller N and B, fewer repetitions")
    args = parser.parse_args(argv)

    log = _common.progress(args.verbose)

    begin = time.perf_counter()
    machine = machine_info()
    bench = Bench(args.quick, log)
    N, B = (64, 64) if args.quick else (256, 256)
    Ns = (16, 32, 64, 128) if args.quick else (64, 128, 256, 512)
    log(f"forward, N={N}, B={B}:")
    main_case = bench.main_case(N, B)
    log("scaling:")
    scale = bench.scaling(Ns, B)
    log("wide ResNets:")
    wide = bench.wide_resnet((16, 64) if args.quick else (16, 32, 64, 128, 256),
                             256 if args.quick else 1024, 128)
    total = time.perf_counter() - begin
    print(report(machine, main_case, scale, wide, args.quick, bench.reps, total))
    if args.json:
        results = {"machine": machine, "quick": args.quick, "goal": GOAL, "tolerance": TOL,
                   "reps": bench.reps, "forward": main_case, "scaling": scale, "wide_resnet": wide,
                   "total_seconds": total}
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
