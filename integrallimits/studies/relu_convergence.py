"""The "relu-convergence" study: ReLU ResNets whose weights are summable converge with depth;
with ||V_n|| ||W_n|| ~ 1/n they drift."""
from __future__ import annotations

import numpy as np

from ..networks import ReLUResNet, summability
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["relu_convergence", "figures"]


def _weights(decay, n_layers, d, m, rng_state):
    rng = np.random.default_rng(rng_state)
    V0 = rng.normal(size=(d, m)) / np.sqrt(m)
    W0 = rng.normal(size=(m, d)) * 0.3
    b0 = np.abs(rng.normal(size=m)) + 0.5  # active units: the increments do not vanish
    n = np.arange(1, n_layers + 1, dtype=float)[:, None, None]
    V = V0[None] / n ** decay
    return V, np.broadcast_to(W0, (n_layers, m, d)).copy(), np.broadcast_to(b0, (n_layers, m)).copy()


def _decay_rows(args):
    """The rows of one weight decay p (a cell)."""
    p, label, n_max, d, m, seed = args
    x0 = np.random.default_rng(seed).normal(size=d)
    V, W, b = _weights(p, n_max, d, m, seed)
    states = ReLUResNet(V, W, b).states(x0)[0]
    sums = summability(V, W, b)
    rows = []
    n = 8
    while 2 * n <= n_max:
        rows.append({"decay": label, "n": n,
                     "step_change": float(np.linalg.norm(states[2 * n] - states[n])),
                     "partial_sum_VW": float(sums["VW"][2 * n - 1]),
                     "partial_sum_Vb": float(sums["Vb"][2 * n - 1])})
        n *= 2
    return rows


def relu_convergence(quick=False, seed=0, executor=None, cache_dir=None):
    """||x_{2n} - x_n|| for ReLU ResNets x_n = x_{n-1} + V_n relu(W_n x_{n-1} + b_n) with
    V_n = V_0 / n^p: p = 2 (sum ||V_n|| ||W_n|| and sum ||V_n|| ||b_n|| finite, x_n converges)
    and p = 1 (harmonic sums, x_n drifts like log n).

    Each decay p is one cell of :func:`~integrallimits.studies.run_cells`
    (``executor``, ``cache_dir``); the weights and x_0 are drawn from ``seed``.

    Returns
    -------
    StudyResult
        Columns ``decay``, ``n``, ``step_change`` (||x_{2n} - x_n||), ``partial_sum_VW``,
        ``partial_sum_Vb`` (at 2n).

    Examples
    --------
    >>> res = relu_convergence(quick=True)
    >>> conv = [r["step_change"] for r in res.rows if r["decay"] == "n^-2"]
    >>> conv[-1] < conv[0] / 10
    True
    """
    d, m = 3, 5
    n_max = 1024 if quick else 16384
    cells = [(p, label, n_max, d, m, seed) for p, label in ((2.0, "n^-2"), (1.0, "n^-1"))]
    rows = [row for rows in run_cells("relu-convergence", cells, _decay_rows, cache_dir, executor)
            for row in rows]
    return StudyResult("relu-convergence", rows, params={"quick": quick, "seed": seed, "d": d, "m": m},
                       notes="Summable weights (p = 2): step changes shrink like 1/n; harmonic "
                             "weights (p = 1): they stay of order one (drift).")


def _tex(decay):
    """"n^-2" -> "n^{-2}"."""
    return decay.replace("^", "^{") + "}" if "^" in decay else decay


def figures(result):
    """||x_{2n} - x_n|| and the weight sums against n, for summable and harmonic decay."""
    from ._figures import caption, log2_axis, new_figure, plot_lines, reference_slope
    fig, (ax, bx) = new_figure(2, height=3.8)
    lines = plot_lines(ax, result.rows, "n", "step_change", lambda r: r["decay"],
                       label=lambda d: rf"$\|V_n\| \sim {_tex(d)}$")
    for decay, pts in lines.items():
        if decay == "n^-2":
            reference_slope(ax, *zip(*sorted(pts)), 1, where=0.0)
    ax.set_ylabel(r"$\|x_{2n} - x_n\|$")
    for key, style in (("partial_sum_VW", "-"), ("partial_sum_Vb", ":")):
        symbol = r"\|V_k\|\,\|W_k\|" if key.endswith("VW") else r"\|V_k\|\,\|b_k\|"
        plot_lines(bx, result.rows, "n", key, lambda r: r["decay"], ls=style,
                   label=lambda d, s=symbol: rf"$\sum_{{k \leq 2n}} {s}$, ${_tex(d)}$")
    bx.set_ylabel("partial sums of the weight norms")
    for a in (ax, bx):
        log2_axis(a)
        a.set_xlabel("depth $n$")
        a.legend(fontsize="x-small")
    ax.set_yscale("log")
    caption(fig, "ReLU ResNets converge with depth when the weight sums are finite",
            "$V_n = V_0/n^2$: summable, $x_n$ converges ($O(n^{-1})$ changes); "
            "$V_n = V_0/n$: harmonic sums grow like log n and $x_n$ drifts")
    return {"relu-convergence": fig}
