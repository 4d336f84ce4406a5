r"""The "resnet-gamma" and "dense-gamma" studies: discrete training problems converge as depth grows.

For N = 4, 8, 16, ... the N-layer network is trained on a fixed data set by minimising

.. math:: J_N(\theta, P, c) = \frac1S \sum_i \tfrac12 |P x_i(T) + c - e_{y_i}|^2 + \alpha R_N(\theta)

(mean-squared error on one-hot labels, trained affine classifier, discrete H^1 penalty with
beta = 1).  Gamma-convergence of J_N to the continuum cost J says that the optimal values
converge and the minimisers converge (along subsequences) in the space of fields, where the
discrete minimisers live through their piecewise linear extensions theta_bar_N.  The tables
show, for each depth: the optimal value found, |J_N - J_2N|, the L2 and H1 distances of
theta_bar_N and theta_bar_2N, the continuum cost J(theta_bar_N) of the extension, accuracies and
wall time, for two kinds of start:

* ``continuation``: N = 4 from seeded random smooth fields, each next depth from the
  extension of the previous minimiser (multilevel continuation);
* ``seed=k``: every depth from the same seeded random smooth continuum field, sampled on its
  grid, so the spread of the minimisers (different local minima) is visible.

For the rectangle rule (the usual network) the state equation is a first-order scheme, so
along a branch of non-degenerate minimisers |J_N - J_2N| and the parameter distances fall at
rate 1.
"""
from __future__ import annotations

import time

import numpy as np

from ..control import make_dataset, train
from ..networks import ResidualDense, ResNet, h1_distance, l2_distance
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["resnet_gamma", "dense_gamma", "figures"]

_SETTINGS = {
    "resnet": dict(samples=64, alpha=1e-3, d=2, data="two-moons", fine=512, maxiter=6000),
    "residual-dense": dict(samples=32, alpha=3e-3, d=2, data="two-moons", fine=128, maxiter=6000),
}


def _network(family, N, d):
    if family == "resnet":
        return ResNet(np.zeros((N, d, d)), np.zeros((N, d)), n_layers=N)
    return ResidualDense(np.zeros((N, N, d, d)), np.zeros((N, N, d)), n_layers=N)


def _ladder(job):
    """Train at every depth of one start ("continuation" or "seed=k"); one row per depth."""
    family, ns, start, seed = job
    cfg = _SETTINGS[family]
    data = make_dataset(cfg["data"], cfg["samples"], d=cfg["d"], seed=seed, n_test=256)
    two = family != "resnet"
    fine = max(cfg["fine"], 2 * max(ns))  # a multiple of every 2N: extensions are exact there
    rows, prev = [], None
    for N in ns:
        init = prev if (start == "continuation" and prev is not None) else "random"
        k = seed if start == "continuation" else int(start.split("=")[1])
        t0 = time.perf_counter()
        res = train(_network(family, N, cfg["d"]), data, loss="mse", alpha=cfg["alpha"], beta=1.0,
                    init=init, seed=k, maxiter=cfg["maxiter"], gtol=1e-9)
        seconds = time.perf_counter() - t0
        Jc = res.objective.continuum_value(res.x, n_fine=fine)
        row = {"N": N, "start": start, "J": res.fun, "J_continuum": Jc, "loss": res.loss,
               "regularizer": res.regularizer, "train_accuracy": res.train_accuracy,
               "test_accuracy": res.test_accuracy, "iterations": res.nit,
               "grad_norm": res.grad_norm, "converged": bool(res.status), "seconds": seconds}
        if prev is not None:  # differences N/2 -> N, stored in the row of N/2 (|J_N - J_2N|)
            a, b = prev.extensions(), res.extensions()
            last = rows[-1]
            last["J_diff"] = abs(prev.fun - res.fun)
            last["param_diff_L2"] = float(np.sqrt(sum(
                l2_distance(a[f], b[f], two_variable=two, fine=fine) ** 2 for f in a)))
            last["param_diff_H1"] = float(np.sqrt(sum(
                h1_distance(a[f], b[f], two_variable=two, fine=fine) ** 2 for f in a)))
            last["J_extrapolated"] = 2.0 * res.fun - prev.fun  # Richardson for rate 1
        rows.append(row)
        prev = res
    nan = float("nan")
    for i, row in enumerate(rows):
        for key in ("J_diff", "param_diff_L2", "param_diff_H1", "J_extrapolated"):
            row.setdefault(key, nan)
        for key in ("J_diff", "param_diff_L2", "param_diff_H1"):
            before = rows[i - 1][key] if i > 0 else nan
            rate = float(np.log2(before / row[key])) if before > 0 and row[key] > 0 else nan
            row[f"rate_{key}"] = rate
    return rows


def _study(name, family, ns, quick, seed, executor, n_seeds, cache_dir=None):
    starts = ["continuation"] + [f"seed={seed + 1 + k}" for k in range(n_seeds)]
    jobs = [(family, ns, s, seed) for s in starts]
    # one cell per start (see run_cells: resumable, any concurrent.futures executor)
    rows = [row for ladder in run_cells(name, jobs, _ladder, cache_dir, executor) for row in ladder]
    order = ["N", "start", "J", "J_diff", "rate_J_diff", "param_diff_L2", "rate_param_diff_L2",
             "param_diff_H1", "rate_param_diff_H1", "J_extrapolated", "J_continuum", "loss",
             "regularizer", "train_accuracy", "test_accuracy", "iterations", "grad_norm",
             "converged", "seconds"]
    rows = [{k: r[k] for k in order} for r in rows]
    cfg = _SETTINGS[family]
    return StudyResult(name, rows, params={"quick": quick, "seed": seed, "N": ns, "starts": starts,
                                           "family": family, "rule": "rectangle", "loss": "mse",
                                           "beta": 1.0, **cfg},
                       notes=(f"{family} (rectangle rule, tanh, d={cfg['d']}) trained on {cfg['samples']} "
                              f"{cfg['data']} samples, alpha={cfg['alpha']}, beta=1; J_diff, "
                              "param_diff_* in the row of N compare N with 2N (rates: log2 of the "
                              "ratio to the previous row); J_continuum = J(theta_bar_N), the "
                              "continuum cost of the extension; J_extrapolated = 2 J_2N - J_N."))


def resnet_gamma(quick=False, seed=0, executor=None, cache_dir=None):
    """Deep limit of ResNet training (the ODE setting), N = 4 ... 512 (quick: ... 64).

    Returns
    -------
    StudyResult
        One row per (start, N); columns ``N``, ``start``, ``J``, ``J_diff``, ``param_diff_L2``,
        ``param_diff_H1`` (with their observed rates), ``J_extrapolated``, ``J_continuum``,
        ``train_accuracy``, ``test_accuracy``, ``seconds`` and optimiser counters.

    Examples
    --------
    >>> from integrallimits.studies.deep_limit import _ladder
    >>> rows = _ladder(("resnet", [4, 8], "continuation", 0))
    >>> rows[0]["J"] > rows[0]["J_diff"] > 0
    True
    """
    ns = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128, 256, 512]
    return _study("resnet-gamma", "resnet", ns, quick, seed, executor, 2 if quick else 3, cache_dir)


def dense_gamma(quick=False, seed=0, executor=None, cache_dir=None):
    """Deep limit of residual-dense training (the integral-equation setting), N = 4 ... 64
    (quick: ... 16), with two-variable fields W(t, s), b(t, s) on the triangle.

    Returns
    -------
    StudyResult
        The columns of :func:`resnet_gamma`.
    """
    ns = [4, 8, 16] if quick else [4, 8, 16, 32, 64]
    return _study("dense-gamma", "residual-dense", ns, quick, seed, executor, 1 if quick else 2,
                  cache_dir)


def figures(result):
    """|J_N - J_2N| and the L2/H1 distances of consecutive minimisers against depth, for the
    continuation ladder (bold) and the independent seeded starts, with an O(N^-1) slope."""
    from ._figures import caption, log2_axis, new_figure, plot_lines, reference_slope
    fig, axes = new_figure(3, width=4.3, height=3.9)
    panels = (("J_diff", r"$|J_N - J_{2N}|$ (optimal values)"),
              ("param_diff_L2", r"$\|\bar\theta_N - \bar\theta_{2N}\|_{L^2}$ (minimisers)"),
              ("param_diff_H1", r"$\|\bar\theta_N - \bar\theta_{2N}\|_{H^1}$ (minimisers)"))
    for ax, (column, ylabel) in zip(axes, panels):
        rest = [r for r in result.rows if r.get("start") != "continuation"]
        plot_lines(ax, rest, "N", column, lambda r: r["start"], lw=0.8, alpha=0.7,
                   label=lambda s: f"start {s}")
        lines = plot_lines(ax, [r for r in result.rows if r.get("start") == "continuation"], "N",
                           column, lambda r: r["start"], lw=2.2, color="k",
                           label=lambda s: "continuation")
        if "continuation" in lines:
            reference_slope(ax, *zip(*sorted(lines["continuation"])), 1, where=1.0)
        log2_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel("layers $N$")
        ax.set_ylabel(ylabel, fontsize="small")
    axes[0].legend(fontsize="x-small")
    family = "ResNet" if result.name == "resnet-gamma" else "residual-dense network"
    caption(fig, f"Deep limit of {family} training: $J_N$ and its minimisers converge as $N$ doubles",
            "bold: each depth started from the extension of the previous minimiser (dashed: "
            "$O(N^{-1})$); thin: independent starts, which may find other local minima")
    return {result.name: fig}
