r"""The "training-stability" study: how depth affects training, with and without the 1/N scaling.

Three families share the data, the loss (mean-squared error on one-hot labels, trained
classifier, no regulariser) and the seeded random smooth starting fields:

* ResNet            x_n = x_{n-1} + h sigma(W_{n-1} x_{n-1} + b_{n-1}),
* residual-dense    x_n = x_0 + h sum_{j<n} sigma(W_nj x_j + b_nj),
* concat-dense      z_n = x_0 + h sum_{j<n} W_nj sigma(z_j),

each with the 1/N scaling (h = T/N, T = 1: a quadrature rule with a continuum limit) and
without it (h = 1, i.e. T = N: the plain residual sum).  For every depth the table gives the
cost before and after a fixed budget of L-BFGS-B iterations and the norms of the discrete
adjoint states mu_n across the hidden layers (mean over samples): with the scaling mu_n / h
tends to the continuous adjoint lambda(t_n), so the ratio of the first to the last hidden
layer settles to a limit as N grows; without it the products of N layer Jacobians make the
ratio explode or collapse with N.
"""
from __future__ import annotations

import time

import numpy as np

from ..control import Objective, make_dataset, random_fields, train
from ..networks import ConcatDense, ResidualDense, ResNet
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["training_stability", "figures"]

FAMILIES = ("resnet", "residual-dense", "concat-dense")


def _network(family, N, T, d=2):
    if family == "resnet":
        return ResNet(np.zeros((N, d, d)), np.zeros((N, d)), n_layers=N, T=T)
    if family == "residual-dense":
        return ResidualDense(np.zeros((N, N, d, d)), np.zeros((N, N, d)), n_layers=N, T=T)
    return ConcatDense(np.zeros((N, N, d, d)), n_layers=N, T=T)


def _cell(job):
    family, scaling, N, seed, budget, samples = job
    data = make_dataset("two-moons", samples, d=2, seed=seed)
    T = 1.0 if scaling == "1/N" else float(N)
    net = random_fields(_network(family, N, T), seed=seed, scale=1.0)
    t0 = time.perf_counter()
    obj = Objective(net, data, loss="mse")
    v0 = obj.initial_vector()
    J0, g0 = obj.value_and_gradient(v0)
    mu = np.linalg.norm(obj.adjoint_states(v0), axis=2).mean(axis=0)   # (N+1,)
    hidden = mu[1:N] if N > 2 else mu[1:N + 1]
    with np.errstate(all="ignore"):
        res = train(net, data, loss="mse", alpha=0.0, maxiter=budget, seed=seed)
    ratio = float(hidden[0] / hidden[-1]) if hidden[-1] > 0 else float("inf")
    return {"family": family, "scaling": scaling, "N": N, "J_initial": float(J0),
            "J_final": float(res.fun), "train_accuracy": res.train_accuracy,
            "grad_norm_initial": float(np.linalg.norm(g0)), "grad_norm_final": res.grad_norm,
            "adjoint_first": float(hidden[0]), "adjoint_last": float(hidden[-1]),
            "adjoint_ratio": ratio, "adjoint_max": float(hidden.max()),
            "adjoint_min": float(hidden.min()), "iterations": res.nit,
            "seconds": time.perf_counter() - t0}


def training_stability(quick=False, seed=0, executor=None, cache_dir=None):
    """ResNet vs residual-dense vs concat-dense at N = 4 ... 512 (quick: ... 64), with and
    without the 1/N scaling.

    Returns
    -------
    StudyResult
        Columns ``family``, ``scaling`` ("1/N" or "none"), ``N``, ``J_initial``, ``J_final``
        (after ``budget`` L-BFGS-B iterations), ``train_accuracy``, ``grad_norm_initial``,
        ``grad_norm_final``, the adjoint norms ``adjoint_first`` (hidden layer 1),
        ``adjoint_last`` (layer N-1), ``adjoint_ratio`` (first / last), ``adjoint_max``,
        ``adjoint_min``, ``iterations``, ``seconds``.
    """
    ns = [4, 16, 64] if quick else [4, 16, 64, 256, 512]
    budget, samples = 25, 32
    jobs = [(fam, sc, N, seed, budget, samples) for fam in FAMILIES for sc in ("1/N", "none")
            for N in ns]
    # one cell per (family, scaling, N) (see run_cells: resumable, any executor)
    rows = run_cells("training-stability", jobs, _cell, cache_dir, executor)
    return StudyResult("training-stability", rows,
                       params={"quick": quick, "seed": seed, "N": ns, "budget": budget,
                               "samples": samples, "data": "two-moons", "loss": "mse",
                               "alpha": 0.0, "init": "random_fields(seed, scale=1)"},
                       notes="Final J after a fixed L-BFGS-B budget and the discrete adjoint "
                             "norms |mu_n| (mean over samples) over hidden layers n = 1..N-1; "
                             "scaling 'none' is the same network with h = 1 (T = N).")


_FAMILY_COLORS = {"resnet": "C0", "residual-dense": "C1", "concat-dense": "C2"}


def figures(result):
    """Gradient norms before and after training, and the adjoint ratio, against depth: with
    the 1/N scaling (solid) and without (dashed)."""
    from ._figures import caption, log2_axis, new_figure, plot_lines
    fig, axes = new_figure(3, width=4.3, height=3.9)
    panels = (("grad_norm_initial", r"$\|\nabla J_N(\theta_0)\|$ at the start"),
              ("grad_norm_final", r"$\|\nabla J_N\|$ after the iteration budget"),
              ("adjoint_ratio", r"$\|\mu_1\| / \|\mu_{N-1}\|$ (adjoint, first / last layer)"))
    for ax, (column, ylabel) in zip(axes, panels):
        for scaling, ls in (("1/N", "-"), ("none", "--")):
            rows = [r for r in result.rows if r.get("scaling") == scaling]
            for family, color in _FAMILY_COLORS.items():
                plot_lines(ax, [r for r in rows if r.get("family") == family], "N", column,
                           lambda r: r["family"], ls=ls, color=color,
                           label=lambda f, s=scaling: f"{f}, {'h = 1/N' if s == '1/N' else 'h = 1'}")
        log2_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel("layers $N$")
        ax.set_ylabel(ylabel, fontsize="small")
    axes[0].legend(fontsize="x-small")
    caption(fig, "Depth and training: with the 1/N scaling the gradients and adjoints have a "
                 "limit", "solid: $h = 1/N$ (a quadrature rule); dashed: $h = 1$ (plain residual "
                 "sums), whose gradients grow and adjoint ratios drift with N")
    return {"training-stability": fig}
