"""The "fast-convolution" study: blocked-FFT history against the direct O(N^2) history."""
from __future__ import annotations

import time

import numpy as np

from ..kernels import convolution
from ..volterra import solve_volterra
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["fast_convolution", "figures"]


def _exp_kernel(u):
    return np.exp(-u)


def _square(s, y):
    return y * y


def _square_jacobian(s, y):
    return 2.0 * y


def _forcing(t):
    return np.exp(-2.0 * t)


def _timed(kernel, n, method, fast, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solve_volterra(kernel, _forcing, (0.0, 1.0), n, method=method, fast_history=fast,
                             error_estimate=False)
        best = min(best, time.perf_counter() - start)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol, best


def _method_rows(args):
    """The rows of one method (a cell): compile both paths, then time N = 2^e for each e."""
    method, exponents = args
    kernel = convolution(_exp_kernel, _square, phi_jacobian=_square_jacobian)
    _timed(kernel, 64, method, True, 1)  # compile both paths first
    _timed(kernel, 64, method, False, 1)
    rows, previous = [], None
    for e in exponents:
        n = 2 ** e
        repeats = 3 if n <= 4096 else 1
        fast, t_fast = _timed(kernel, n, method, True, repeats)
        direct, t_direct = _timed(kernel, n, method, False, repeats)
        rows.append({"method": method, "N": n, "direct_seconds": t_direct, "fast_seconds": t_fast,
                     "speedup": t_direct / t_fast,
                     "max_abs_difference": float(np.max(np.abs(fast.y - direct.y))),
                     "error": float(np.max(np.abs(fast.y - np.exp(-fast.t)))),
                     "growth": float("nan") if previous is None else t_fast / previous})
        previous = t_fast
    return rows


def fast_convolution(quick=False, seed=0, executor=None, cache_dir=None,
                     methods=("trapezoid", "gregory6", "gauss2")):
    """Time and agreement of the fast (FFT) and direct histories on a nonlinear convolution VIE.

    y(t) = e^{-2t} + int_0^t e^{-(t-s)} y(s)^2 ds (exact y = e^{-t}) on [0, 1],
    N = 2^8 ... 2^12 (quick) or 2^10 ... 2^15.  Both runs are compiled first; the
    time is the best of a few runs.  Each method is one cell of
    :func:`~integrallimits.studies.run_cells` (``executor``, ``cache_dir``); the
    timing columns are measured where the cell runs, so they vary between runs and
    cells that share a machine slow each other down (time with the serial executor).

    Returns
    -------
    StudyResult
        Columns ``method``, ``N``, ``direct_seconds``, ``fast_seconds``, ``speedup``,
        ``max_abs_difference`` (fast vs direct), ``error`` (fast vs exact) and
        ``growth`` (fast time ratio to the previous N, expected about 2-2.5 for
        O(N log^2 N) against 4 for O(N^2)).

    Examples
    --------
    >>> res = fast_convolution(quick=True, methods=("trapezoid",))
    >>> all(row["max_abs_difference"] < 1e-12 for row in res.rows)
    True
    """
    exponents = list(range(8, 13) if quick else range(10, 16))
    cells = [(method, exponents) for method in methods]
    rows = [row for rows in run_cells("fast-convolution", cells, _method_rows, cache_dir, executor)
            for row in rows]
    return StudyResult("fast-convolution", rows, params={"quick": quick, "methods": list(methods)},
                       notes="Nonlinear convolution VIE; the fast history must equal the direct one to "
                             "rounding while its time grows like N log^2 N.")


def figures(result):
    """Run time of the direct and fast histories (with N^2 and N log^2 N references), their
    agreement, and the error against the exact solution."""
    import math

    from ._figures import caption, log2_axis, new_figure, plot_lines, reference_slope
    fig, (ax, bx, cx) = new_figure(3, width=4.2, height=3.8)
    methods = list(dict.fromkeys(r["method"] for r in result.rows))
    for k, m in enumerate(methods):
        rows = [r for r in result.rows if r["method"] == m]
        plot_lines(ax, rows, "N", "direct_seconds", lambda r: m, color=f"C{k}", ls="--",
                   label=lambda m: f"{m}, direct")
        plot_lines(ax, rows, "N", "fast_seconds", lambda r: m, color=f"C{k}",
                   label=lambda m: f"{m}, FFT")
    direct = [(r["N"], r["direct_seconds"]) for r in result.rows if r["method"] == methods[0]]
    fast = [(r["N"], r["fast_seconds"]) for r in result.rows if r["method"] == methods[0]]
    if direct:
        reference_slope(ax, *zip(*direct), -2, where=1.0, text=False)
        ax.annotate("$N^2$", direct[-1], textcoords="offset points", xytext=(3, 6),
                    fontsize="x-small", color="0.3")
        n0, t0 = fast[-1]
        ns = [n for n, _ in fast]
        ax.plot(ns, [t0 * n * math.log2(n) ** 2 / (n0 * math.log2(n0) ** 2) for n in ns],
                ls=":", lw=0.9, color="0.45", zorder=0)
        ax.annotate(r"$N \log^2 N$", fast[-1], textcoords="offset points", xytext=(3, -10),
                    fontsize="x-small", color="0.3")
    ax.set_ylabel("seconds (best of a few runs)")
    plot_lines(bx, result.rows, "N", "max_abs_difference", lambda r: r["method"])
    bx.axhline(2.0 ** -52, color="0.6", lw=0.8, ls=":")
    bx.text(0.02, 2.0 ** -52 * 1.3, "machine epsilon", transform=bx.get_yaxis_transform(),
            fontsize="x-small", color="0.4")
    bx.set_ylim(1e-17, 1e-12)
    bx.set_ylabel(r"$\max_n |y_n^{\mathrm{FFT}} - y_n^{\mathrm{direct}}|$")
    lines = plot_lines(cx, result.rows, "N", "error", lambda r: r["method"])
    if "trapezoid" in lines:
        reference_slope(cx, *zip(*sorted(lines["trapezoid"])), 2, where=0.0)
    cx.set_ylabel(r"$\max_n |y_n - e^{-t_n}|$ (FFT history)")
    for a in (ax, bx, cx):
        log2_axis(a)
        a.set_yscale("log")
        a.set_xlabel("steps $N$")
        a.legend(fontsize="x-small")
    caption(fig, "Blocked-FFT history sums: the same solution at O(N log² N) cost",
            r"$y = e^{-2t} + \int_0^t e^{-(t-s)} y^2\, ds$; fast and direct agree to rounding, the "
            "error is the method's")
    return {"fast-convolution": fig}
