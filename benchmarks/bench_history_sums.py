"""The history sums of a user kernel: its inlined block sum against a sum that calls the compiled
kernel once per term (by address, as the solver loops call it for single values).

Run from the repository root::

    python benchmarks/bench_history_sums.py            # N = 256 .. 4096
    python benchmarks/bench_history_sums.py --quick    # N = 256, 1024

A user kernel's ``block_sum`` compiles the user's function into itself (inlined in one loop);
a block sum calling the kernel's compiled ``function`` instead would not compile it again (the
other half of a new kernel's compilation).  This measures what that would cost at run time:
every history sum of an N-step solve (sum_{j < n} w_j K(t_n, t_j, y_j) for n = 1..N, about
N^2 / 2 terms), both ways in the same run (interleaved, best of several), for

* the README problem (scalar, y = e^{-2t} + int e^{-(t-s)} y^2 ds: a kernel with a call of exp),
* the 'nonconvolution' problem (scalar, (t + s + 1) y^2: arithmetic only, which LLVM
  vectorises when inlined),
* the 'vector' problem (d = 2),
* the residual-dense network (d = 4, a batch of 4: the package's own module-level block sum,
  ``block_loop`` with the network's kernel inlined, against calls of that kernel).

It prints the time per term and the ratio called / inlined (above 1: the called sum is slower).
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
import _common  # noqa: E402
from _common import best_of_interleaved, fmt_ratio  # noqa: E402

import numba  # noqa: E402

from integrallimits.kernels._kernel import (BlockSumFunction, ParamKernelFunction,  # noqa: E402
                                            as_kernel, function_at)
from integrallimits.networks import ResidualDense  # noqa: E402
from integrallimits.volterra.problems import PROBLEMS  # noqa: E402

_kernel_at = function_at(ParamKernelFunction)
_block_at = function_at(BlockSumFunction)


@numba.njit(nogil=True, error_model="numpy")
def inlined_sums(block, t, Y, w, theta, out):
    """Every history sum of an N-step solve through the kernel's block sum; their total."""
    B = _block_at(block)
    total = 0.0
    for n in range(1, t.shape[0]):
        B(t[n], t, Y, 0, n, w, theta, out)
        total += out[0]
    return total


@numba.njit(nogil=True, error_model="numpy")
def called_sums(function, t, Y, w, theta, out):
    """The same sums, calling the compiled kernel once per term (as ``block_loop`` does, with
    the kernel called by address instead of inlined)."""
    K = _kernel_at(function)
    d = out.shape[0]
    tmp = np.empty(d)
    total = 0.0
    for n in range(1, t.shape[0]):
        for k in range(d):
            out[k] = 0.0
        for r in range(n):
            K(t[n], t[r], Y, r, theta, tmp)
            wr = w[r]
            for k in range(d):
                out[k] += wr * tmp[k]
        total += out[0]
    return total


def readme_kernel(t, s, y):
    return math.exp(-(t - s)) * y ** 2


def cases(quick):
    """(name, kernel, y0, d, Ns) for each case."""
    user_ns = (256, 1024) if quick else (256, 512, 1024, 2048, 4096)
    nonconv, vector = PROBLEMS["nonconvolution"], PROBLEMS["vector"]
    yield "README (scalar, exp)", as_kernel(readme_kernel, 1.0), user_ns
    yield "nonconvolution (scalar)", as_kernel(nonconv.kernel, 1.0), user_ns
    yield "vector (d = 2)", as_kernel(vector.kernel, np.ones(vector.dim)), user_ns
    for N in ((128, 256) if quick else (128, 256, 512)):
        rng = np.random.default_rng(0)
        d = 4
        net = ResidualDense(rng.normal(size=(N + 1, N + 1, d, d)) / d,
                            rng.normal(size=(N + 1, N + 1, d)) / d, n_layers=N)
        yield "residual-dense (d = 4, batch 4)", net.kernel(batch=4), (N,)


def measure(kernel, N, reps):
    """(seconds inlined, seconds called, relative difference of the totals) for N steps."""
    rng = np.random.default_rng(1)
    t = np.linspace(0.0, 1.0, N + 1)
    Y = np.ascontiguousarray(0.5 + 0.5 * rng.random((N + 1, kernel.dim)))
    w = np.full(N + 1, 1.0 / N)
    out = np.empty(kernel.dim)
    function, _, block = kernel.addresses
    theta = kernel.params
    best = best_of_interleaved({
        "inlined": lambda: inlined_sums(block.address, t, Y, w, theta, out),
        "called": lambda: called_sums(function.address, t, Y, w, theta, out)}, reps)
    (a, va), (b, vb) = best["inlined"], best["called"]
    return a, b, abs(va - vb) / max(abs(va), 1e-300)


def main():
    parser = _common.arg_parser(__doc__, "N = 256 and 1024 only")
    args = parser.parse_args()
    print("# History sums: inlined block sum vs calls of the compiled kernel\n")
    info = _common.machine_info()
    print(f"{info['cpu']}, {info['usable_cores']} usable cores, load "
          f"{_common.load_average()}, NumPy {info['numpy']}, Numba {info['numba']}\n")
    print("| case | N | terms | inlined ns/term | called ns/term | called / inlined | "
          "totals' rel. difference |")
    print("|---|---|---|---|---|---|---|")
    for name, kernel, ns in cases(args.quick):
        for N in ns:
            terms = N * (N + 1) // 2
            reps = 3 if N >= 2048 else 5
            a, b, diff = measure(kernel, N, reps)
            print(f"| {name} | {N} | {terms} | {1e9 * a / terms:.2f} | {1e9 * b / terms:.2f} | "
                  f"{fmt_ratio(b / a)} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
