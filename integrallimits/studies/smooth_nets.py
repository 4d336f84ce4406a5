r"""The "smooth-nets" study: do k-th order smooth networks of width d embed the data like ResNets
of width k d, with k^2 fewer parameters?  Measured by training.

The "state-space" study proves the algebra: the smooth network
:math:`\Delta^k x_n = h^k \tanh(W_n x_n + b_n)` has the state
:math:`z_n = (x_n, \Delta x_n, \dots, \Delta^{k-1} x_n)` of dimension k d, and d^2 + d parameters
per layer against (k d)^2 + k d for a ResNet of width k d.  This study trains both on tasks where
the embedding dimension matters and reports what they reach.

Contenders, all with tanh, the rectangle rule (the usual explicit network) and depth N:

* ``smooth``, order k = 2, 3, 4, width d: zero initial differences (the data enter as x_0, the
  other blocks of z_0 are zero), read out on x_N;
* ``resnet``, width w = k d, k = 1 .. 4: :math:`x_n = x_{n-1} + h\tanh(W_{n-1}x_{n-1} + b_{n-1})`
  on the inputs padded with zeros (x_0 = (u, 0), the lift of the smooth net's z_0), read out on
  its first d coordinates (the readout F = [I 0] of the smooth net's x_N).  k = 1 is the ResNet
  of width d, which is also the smooth net of order 1 (tested to rounding).

Horizon.  With |tanh| <= 1 a smooth net moves a point by at most T^k / k! per coordinate
(:math:`x(T) - x_0 = \int_0^T (T-s)^{k-1}/(k-1)!\, f\, ds`), a ResNet by T.  The ResNets run on
[0, 1]; the smooth nets on the horizon of the same reach, :math:`T_k = (k!)^{1/k}` (1.41, 1.82,
2.21 for k = 2, 3, 4), and, as a second variant, on the same horizon T = 1 (reach 1/k!).

Training: :func:`~integrallimits.control.train` (L-BFGS-B with the exact discrete adjoint) of
J_N = mean ½|P F x(T) + c - e_y|^2 + α R_N (the softmax cross-entropy instead of the squared
error for the 10-class digits, where an affine map of d <= 4 coordinates fitted to one-hot
targets stays near the constant classifier), a trained affine classifier (P, c) on the d
read-out coordinates, R_N the discrete H¹ penalty of the fields (β = 1), from seeded random
smooth fields.  One row per contender: mean and sample standard deviation over the seeds, each
seed drawing its own data set and starting fields (the contenders of one seed see the same
data).

Depth limit of the smooth nets: J_N at N = 8, 16, 32, 64 (quick: to 32) by multilevel
continuation from a random start at N = 8, with |J_N − J_2N| and its observed rate (the mixing
weights h^{k-1} C(n-j-1, k-1) are the rectangle rule for the kernel (t-s)^{k-1}/(k-1)!: rate 1
along a branch of non-degenerate minimisers).

Tasks: nested spheres in R^d (annuli for d = 2; ``make_dataset("spheres")``), which no
homeomorphism of R^d separates, so a width-d ResNet in its continuum limit cannot, while any
state of dimension > d can; two spirals lifted to R^d; the 8x8 digits reduced to their first d
principal components (10 classes; when scikit-learn is installed).
"""
from __future__ import annotations

import math
from math import factorial

import numpy as np

from ..control import Dataset, Objective, digits_available, make_dataset, train
from ..networks import ResNet, SmoothNet
from ._result import StudyResult, left_out
from ._runner import run_cells

__all__ = ["smooth_nets", "reach_horizon"]

#: |J_N - J_2N| below this fraction of J is at the optimiser's tolerance: no rate is read from it
_TOL = 1e-7
_COMMON = dict(loss="mse", digits_loss="cross-entropy", alpha=1e-3, beta=1.0, noise=0.05,
               gtol=1e-8, ladder_gtol=1e-9)
#: (task, d) pairs, seeds, depth N, depth ladder, optimiser budgets, sample counts of each mode
_MODES = {
    True: dict(cases=[["spheres", 2]], ladder_cases=[["spheres", 2]], seeds=2, N=16,
               ladder=[8, 16, 32], maxiter=400, ladder_maxiter=1500, samples=128,
               digits_samples=256, n_test=256),
    False: dict(cases=[["spheres", 2], ["spheres", 4], ["spirals", 2], ["digits", 2],
                       ["digits", 4]],
                ladder_cases=[["spheres", 2], ["spheres", 4], ["spirals", 2], ["digits", 2]],
                seeds=3, N=16, ladder=[8, 16, 32, 64], maxiter=1000, ladder_maxiter=2000,
                samples=128, digits_samples=256, n_test=512),
}


def reach_horizon(k):
    """T_k = (k!)^(1/k): the horizon on which a smooth net of order k with |f| <= 1 moves a point
    as far (T_k^k / k! = 1) as a ResNet on [0, 1].

    Examples
    --------
    >>> [round(reach_horizon(k), 4) for k in (1, 2, 3, 4)]
    [1.0, 1.4142, 1.8171, 2.2134]
    """
    return float(factorial(int(k))) ** (1.0 / int(k))


def _data(task, d, seed, cfg):
    n = cfg["digits_samples"] if task == "digits" else cfg["samples"]
    return make_dataset(task, n, d=d, noise=cfg["noise"], seed=seed, n_test=cfg["n_test"])


def _loss(task, cfg):
    return cfg["digits_loss"] if task == "digits" else cfg["loss"]


def _padded(data, width):
    """The data set with its inputs padded by zeros to ``width`` coordinates: x_0 = (u, 0)."""
    def pad(X):
        return np.hstack([X, np.zeros((X.shape[0], width - X.shape[1]))])
    return Dataset(pad(data.X), data.y, data.n_classes, data.name, pad(data.X_test), data.y_test,
                   {**data.meta, "padded_to": width})


def _contender(net, k, d, N, T):
    """(network, readout) of a contender: a smooth net of order k and width d, or a ResNet of
    width k d read out on its first d coordinates."""
    if net == "smooth":
        return SmoothNet(k, np.zeros((N, d, d)), np.zeros((N, d)), n_layers=N, T=T), None
    w = k * d
    return ResNet(np.zeros((N, w, w)), np.zeros((N, w)), n_layers=N, T=T), (
        np.eye(d, w) if w > d else None)


def _fit(task, d, net, k, T, N, seed, cfg, init="random", ladder=False):
    """Train one contender on the data set and from the random fields of ``seed``;
    (TrainResult, data set as the network sees it, readout)."""
    data = _data(task, d, seed, cfg)
    network, readout = _contender(net, k, d, N, T)
    if network.d > d:
        data = _padded(data, network.d)
    res = train(network, data, loss=_loss(task, cfg), alpha=cfg["alpha"], beta=cfg["beta"], init=init,
                seed=seed, maxiter=cfg["ladder_maxiter" if ladder else "maxiter"],
                gtol=cfg["ladder_gtol" if ladder else "gtol"], readout=readout)
    return res, data, readout


def _test_loss(res, data, readout, loss):
    """The data term of J on the held-out samples, with the trained classifier."""
    obj = Objective(res.network, (data.X_test, data.y_test), loss=loss,
                    classifier=res.classifier, train_classifier=False, n_classes=data.n_classes,
                    readout=readout)
    return obj.terms(obj.initial_vector())["loss"]


def _fit_cell(job):
    """One contender, one seed: a row of per-seed numbers."""
    task, d, net, k, T, N, seed, cfg = job
    res, data, readout = _fit(task, d, net, k, T, N, seed, cfg)
    return {"train_accuracy": res.train_accuracy, "test_accuracy": res.test_accuracy,
            "train_loss": res.loss, "test_loss": _test_loss(res, data, readout, _loss(task, cfg)),
            "regularizer": res.regularizer, "J": res.fun, "params": res.objective.n_weights,
            "params_total": res.objective.n_weights + res.objective.n_classifier,
            "grad_norm_initial": res.history[0]["grad_norm"], "grad_norm_final": res.grad_norm,
            "iterations": res.nit, "converged": bool(res.success), "seconds": res.seconds,
            "majority": float(np.max(np.bincount(data.y_test)) / len(data.y_test))}


def _ladder_cell(job):
    """J_N, N = ns[0], 2 ns[0], ..., from a random start at ns[0], each next depth by
    continuation from the previous minimiser."""
    task, d, net, k, T, ns, seed, cfg = job
    out, prev = {"J": [], "test_accuracy": [], "grad_norm": [], "converged": []}, "random"
    for N in ns:
        res, _, _ = _fit(task, d, net, k, T, N, seed, cfg, init=prev, ladder=True)
        out["J"].append(res.fun)
        out["test_accuracy"].append(res.test_accuracy)
        out["grad_norm"].append(res.grad_norm)
        out["converged"].append(bool(res.success))
        prev = res
    return out


def _trajectory_cell(job):
    """The trained contender's layer states in the read-out plane (first two coordinates) for
    the training samples, the labels and the classifier."""
    task, d, net, k, T, N, seed, cfg = job
    res, data, _ = _fit(task, d, net, k, T, N, seed, cfg)
    states = res.objective.states(res.x)[:, :, :2]
    P, c = res.classifier
    return {"states": np.round(states, 6), "labels": data.y, "P": P, "c": c,
            "test_accuracy": res.test_accuracy, "net": net, "k": k, "width": res.network.d}


def _contenders(d, ks=(1, 2, 3, 4)):
    """(net, k, T) of every contender of width d."""
    out = [("resnet", k, 1.0) for k in ks]
    out += [("smooth", k, reach_horizon(k)) for k in ks if k > 1]
    out += [("smooth", k, 1.0) for k in ks if k > 1]
    return out


def _mean_sd(values):
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def _aggregate(task, d, net, k, T, N, fits):
    """The row of one contender from its per-seed fits."""
    row = {"task": task, "d": d, "net": net, "k": k, "state_dim": k * d, "T": T, "N": N,
           "params": fits[0]["params"], "params_total": fits[0]["params_total"]}
    for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        row[key], row[f"{key}_sd"] = _mean_sd([f[key] for f in fits])
    row["regularizer"] = _mean_sd([f["regularizer"] for f in fits])[0]
    row["grad_norm_initial"] = _mean_sd([f["grad_norm_initial"] for f in fits])[0]
    row["grad_norm_final"] = max(f["grad_norm_final"] for f in fits)
    row["converged"] = sum(f["converged"] for f in fits)
    row["iterations"] = _mean_sd([f["iterations"] for f in fits])[0]
    row["seconds"] = _mean_sd([f["seconds"] for f in fits])[0]
    row["majority"] = fits[0]["majority"]
    return row


def _ladder_columns(ns, ladder):
    """J_N, |J_N - J_2N| and the rates log2(|J_{N/2} - J_N| / |J_N - J_2N|), NaN where absent."""
    nan = float("nan")
    J = ladder["J"] if ladder else [nan] * len(ns)
    cols = {f"J_{N}": v for N, v in zip(ns, J)}
    diffs = [abs(a - b) for a, b in zip(J, J[1:])]
    cols.update({f"J_diff_{N}": v for N, v in zip(ns, diffs)})
    floor = _TOL * max(abs(v) for v in J) if ladder else nan
    for i in range(1, len(diffs)):
        ok = diffs[i] > floor and diffs[i - 1] > floor  # no rate from a difference at the tolerance
        cols[f"rate_J_diff_{ns[i]}"] = float(np.log2(diffs[i - 1] / diffs[i])) if ok else nan
    cols[f"test_accuracy_{ns[-1]}"] = ladder["test_accuracy"][-1] if ladder else nan
    cols["ladder_grad_norm"] = max(ladder["grad_norm"]) if ladder else nan
    return cols


def smooth_nets(quick=False, seed=0, executor=None, cache_dir=None):
    """Smooth k-th order nets of width d against ResNets of width k d and d, trained.

    Parameters
    ----------
    quick : bool
        Quick mode: nested annuli (d = 2), 2 seeds, 400 iterations, depth ladder to N = 32.
        Full: nested spheres (d = 2, 4), spirals (d = 2) and, with scikit-learn, digits
        (d = 2, 4), 3 seeds, 1000 iterations, ladder to N = 64 (not for the digits at d = 4).
    seed : int
        The i-th repetition draws its data set and its starting fields from seed + i.
    executor : concurrent.futures.Executor, optional
        Where the cells (one training, one depth ladder or one trajectory each) run.
    cache_dir : str, optional
        Where finished cells are stored (resumable; see :func:`run_cells`).

    Returns
    -------
    StudyResult
        One row per (task, d, contender): ``net`` ("smooth" or "resnet"), ``k``, ``state_dim``
        (k d), ``T``, ``N``, ``params`` (network fields) and ``param_ratio`` (those of the ResNet
        of the same state dimension over this one's), ``params_total`` (with the classifier),
        train/test accuracy and loss (mean and ``_sd`` over seeds), ``regularizer`` (R_N, mean),
        ``grad_norm_initial`` (mean) and ``grad_norm_final`` (max), ``converged`` (seeds whose
        optimiser converged), ``iterations``, ``seconds`` (mean per training), ``majority``
        (test accuracy of the majority class); for the smooth nets at the reach horizon and the
        ResNet of width d (= smooth order 1): ``J_N``, ``J_diff_N`` = |J_N - J_2N|,
        ``rate_J_diff_N`` and the test accuracy at the largest N of the depth ladder.  With
        matplotlib, ``figures`` holds "accuracy-vs-parameters", "depth-limit" and
        "trajectories".
    """
    return _run(dict(_COMMON, **_MODES[bool(quick)]), quick, seed, executor, cache_dir)


def _run(cfg, quick, seed, executor, cache_dir):
    cases = [(task, d) for task, d in cfg["cases"] if task != "digits" or digits_available()]
    tasks = list(dict.fromkeys(task for task, _ in cases))
    seeds = [seed + i for i in range(cfg["seeds"])]
    N, ns = cfg["N"], cfg["ladder"]
    cell_cfg = {key: v for key, v in cfg.items()  # what a cell's training depends on
                if key not in ("cases", "ladder_cases", "seeds", "N", "ladder")}
    groups = [(task, d, net, k, T) for task, d in cases for net, k, T in _contenders(d)]
    fit_jobs = [[task, d, net, k, T, N, s, cell_cfg] for task, d, net, k, T in groups
                for s in seeds]
    ladder_cases = [tuple(c) for c in cfg["ladder_cases"]]
    ladder_groups = [g for g in groups if g[:2] in ladder_cases and (
        (g[2] == "smooth" and g[4] != 1.0) or (g[2] == "resnet" and g[3] == 1))]
    ladder_jobs = [[task, d, net, k, T, ns, seed, cell_cfg]
                   for task, d, net, k, T in ladder_groups]
    traj_jobs = []
    if ("spheres", 2) in cases:
        traj_jobs = [["spheres", 2, net, k, T, N, seed, cell_cfg]
                     for net, k, T in (("resnet", 1, 1.0), ("smooth", 2, reach_horizon(2)),
                                       ("resnet", 2, 1.0))]
    fits = run_cells("smooth-nets", fit_jobs, _fit_cell, cache_dir, executor)
    ladders = run_cells("smooth-nets", ladder_jobs, _ladder_cell, cache_dir, executor)
    trajectories = run_cells("smooth-nets", traj_jobs, _trajectory_cell, cache_dir, executor)

    by_group = {}
    for job, fit in zip(fit_jobs, fits):
        by_group.setdefault(tuple(job[:5]), []).append(fit)
    ladder_of = {tuple(job[:5]): lad for job, lad in zip(ladder_jobs, ladders)}
    rows = []
    for g in groups:
        row = _aggregate(*g, N, by_group[g])
        row.update(_ladder_columns(ns, ladder_of.get(g)))
        rows.append(row)
    # the ResNet of the same state dimension (k d) for every row
    wide = {(r["task"], r["d"], r["k"]): r["params"] for r in rows if r["net"] == "resnet"}
    for r in rows:
        r["param_ratio"] = wide[(r["task"], r["d"], r["k"])] / r["params"]
    order = ["task", "d", "net", "k", "state_dim", "T", "N", "params", "param_ratio",
             "params_total"]
    rows = [{**{key: r[key] for key in order}, **{key: v for key, v in r.items() if key not in order}}
            for r in rows]
    params = {"quick": quick, "seed": seed, "seeds": seeds, "tasks": tasks,
              "skipped": [c for c in cfg["cases"] if tuple(c) not in cases], "activation": "tanh",
              "rule": "rectangle", "readout": "first d coordinates", "init": "random_fields",
              **{key: v for key, v in cfg.items() if key != "seeds"}}
    notes = ("Smooth k-th order nets (width d, state dimension k d, d^2 + d parameters per layer) "
             "against ResNets of width k d (inputs padded with zeros, read out on the first d "
             "coordinates, (kd)^2 + kd per layer) and of width d (k = 1), all of depth N, trained "
             f"by L-BFGS-B with the exact discrete adjoint on J_N = MSE (cross-entropy for the "
             f"10-class digits) + {cfg['alpha']:g} R_N (H1, beta = 1) with a trained affine "
             "classifier; mean and _sd over the seeds, each drawing its data set and starting "
             "fields. "
             "ResNets run on [0, 1]; smooth nets on T = (k!)^(1/k) (the same reach T^k/k! = 1) "
             "and on T = 1. param_ratio: network parameters of the ResNet of the same state "
             "dimension over this one's (k^2 up to the biases). J_N, J_diff_N = |J_N - J_2N| "
             "and rate_J_diff_N: depth ladder by continuation from N = "
             f"{ns[0]} (seed {seed}); majority: the test accuracy of the majority class.")
    if params["skipped"]:
        notes += " " + left_out("smooth-nets", "The cases " + ", ".join(
            f"{task} (d = {d})" for task, d in params["skipped"]) + " are", "digits",
            "scikit-learn")
    result = StudyResult("smooth-nets", rows, params=params, notes=notes)
    from ._figures import have_matplotlib
    if have_matplotlib():
        result.figures = figures(result, trajectories)
    return result


# -- figures -------------------------------------------------------------------------------------

_COLORS = {"resnet": "#1f5fa8", "smooth": "#c8321e", "smooth T=1": "#e8a33d"}
_MARKERS = {1: "o", 2: "s", 3: "^", 4: "D"}


def _kind(row):
    return "smooth T=1" if row["net"] == "smooth" and row["T"] == 1.0 else row["net"]


def figures(result, trajectories=()):
    """The study's figures from its table (and the trajectory cells): name -> Figure."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    rows = result.rows
    figs = {}
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    ds = sorted({r["d"] for r in rows})
    if rows:
        fig = Figure(figsize=(4.3 * len(tasks), 3.5 * len(ds) + 0.6), layout="constrained")
        axes = fig.subplots(len(ds), len(tasks), squeeze=False)
        for i, d in enumerate(ds):
            for j, task in enumerate(tasks):
                ax = axes[i, j]
                sub = [r for r in rows if r["task"] == task and r["d"] == d]
                if not sub:  # this (task, d) was not run
                    ax.set_visible(False)
                    continue
                # a thin line from each smooth net (same reach) to the ResNet of its state dimension
                for r in sub:
                    if _kind(r) == "smooth":
                        w = next(q for q in sub if q["net"] == "resnet" and q["k"] == r["k"])
                        ax.plot([r["params_total"], w["params_total"]],
                                [r["test_accuracy"], w["test_accuracy"]], color="0.7", lw=0.8,
                                ls=":", zorder=1)
                for r in sub:
                    ax.errorbar(r["params_total"], r["test_accuracy"], yerr=r["test_accuracy_sd"],
                                marker=_MARKERS[r["k"]], color=_COLORS[_kind(r)], ms=7,
                                mfc=_COLORS[_kind(r)] if _kind(r) != "smooth T=1" else "white",
                                capsize=2, lw=1, zorder=2)
                ax.axhline(sub[0]["majority"], color="0.5", lw=0.8, ls="--", zorder=0)
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: no overlapping labels
                ax.set_title(f"{task}, d = {d}")
                ax.set_xlabel("trained parameters (network + classifier)")
                ax.set_ylabel("test accuracy")
                ax.grid(alpha=0.3, which="both")
        handles = [Line2D([], [], color=_COLORS["resnet"], marker="o", ls="",
                          label="ResNet, width k·d, T = 1"),
                   Line2D([], [], color=_COLORS["smooth"], marker="s", ls="",
                          label="smooth, order k, width d, T = (k!)^(1/k)"),
                   Line2D([], [], color=_COLORS["smooth T=1"], marker="s", mfc="white", ls="",
                          label="smooth, order k, width d, T = 1")]
        handles += [Line2D([], [], color="0.3", marker=m, ls="",
                           label=f"k = {k}" + (" (ResNet of width d)" if k == 1 else ""))
                    for k, m in _MARKERS.items()]
        handles += [Line2D([], [], color="0.5", ls="--", label="majority class"),
                    Line2D([], [], color="0.7", ls=":", label="same state dimension k·d")]
        fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize="small")
        fig.suptitle(f"smooth-nets: test accuracy against parameters (N = {rows[0]['N']}, "
                     "mean ± sd over seeds)")
        figs["accuracy-vs-parameters"] = fig

    ladder = [r for r in rows if _resolved_differences(r)]
    if ladder:
        fig = Figure(figsize=(4.3 * len(tasks), 3.8), layout="constrained")
        axes = fig.subplots(1, len(tasks), squeeze=False)[0]
        styles = {2: "-", 4: "--"}
        for ax, task in zip(axes, tasks):
            Nmax, firsts = 8, []
            for r in (q for q in ladder if q["task"] == task):
                pts = _resolved_differences(r)
                if not pts:
                    continue
                Nmax, firsts = max(Nmax, pts[-1][0]), firsts + [pts[0][1]]
                label = f"{'ResNet' if r['net'] == 'resnet' else 'smooth'} k={r['k']}, d={r['d']}"
                ax.plot(*zip(*pts), marker=_MARKERS[r["k"]], ls=styles.get(r["d"], "-."),
                        color=f"C{r['k'] - 1}", label=label)
            if firsts:  # reference slope -1 through the geometric mean of the first differences
                Ns = np.array([8.0, Nmax])
                ax.plot(Ns, np.exp(np.mean(np.log(firsts))) * 8.0 / Ns, color="0.3", lw=1.2, ls=":",
                        label="slope −1 (order 1)")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(task)
            ax.set_xlabel("N (|J_N − J_2N| plotted at N)")
            ax.set_ylabel("|J_N − J_2N|")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize="x-small")
        fig.suptitle("smooth-nets: depth limit of the trained J_N (continuation from N = 8)")
        figs["depth-limit"] = fig

    if trajectories:
        fig = Figure(figsize=(4.0 * len(trajectories), 4.6), layout="constrained")
        axes = fig.subplots(1, len(trajectories), squeeze=False)[0]
        every = np.concatenate([np.asarray(tr["states"], dtype=float).reshape(-1, 2)
                                for tr in trajectories])
        box = (every.min(axis=0) - 0.2, every.max(axis=0) + 0.2)
        for ax, tr in zip(axes, trajectories):
            _trajectory_panel(ax, tr, box)
        colors = _CLASS_COLORS
        handles = [Line2D([], [], color=colors[0], marker="o", ls="", label="inner ball (class 0)"),
                   Line2D([], [], color=colors[1], marker="o", ls="", label="outer shell (class 1)"),
                   Line2D([], [], color="0.4", marker="o", ms=3, ls="", alpha=0.6,
                          label="input x_0 (small)"),
                   Line2D([], [], color="0.4", marker="o", mec="k", ls="", label="output x_N"),
                   Line2D([], [], color="0.4", lw=0.8, label="path x_0 … x_N"),
                   Line2D([], [], color="k", ls="--", label="classifier boundary")]
        fig.legend(handles=handles, loc="outside lower center", ncol=6, fontsize="small")
        fig.suptitle("smooth-nets: learned trajectories of the nested annuli (d = 2) in the "
                     f"read-out plane (x1, x2), N = {rows[0]['N'] if rows else '?'}")
        figs["trajectories"] = fig
    return figs


_CLASS_COLORS = np.array(["#1f5fa8", "#c8321e"])


def _trajectory_panel(ax, tr, box):
    states = np.asarray(tr["states"], dtype=float)
    labels = np.asarray(tr["labels"])
    colors = _CLASS_COLORS
    for b in range(states.shape[0]):
        ax.plot(states[b, :, 0], states[b, :, 1], color=colors[labels[b]], lw=0.5, alpha=0.3)
    ax.scatter(states[:, 0, 0], states[:, 0, 1], s=4, c=colors[labels], alpha=0.6)
    ax.scatter(states[:, -1, 0], states[:, -1, 1], s=16, c=colors[labels], edgecolors="k",
               linewidths=0.4, zorder=3)
    # the classifier's boundary (two classes): (P_0 - P_1) . x + c_0 - c_1 = 0
    P, c = np.asarray(tr["P"], dtype=float), np.asarray(tr["c"], dtype=float)
    a, a0 = P[0] - P[1], c[0] - c[1]
    (x_lo, y_lo), (x_hi, y_hi) = box
    if abs(a[1]) >= abs(a[0]):
        xs = np.array([x_lo, x_hi])
        ax.plot(xs, -(a[0] * xs + a0) / a[1], color="k", lw=1.2, ls="--")
    else:
        ys = np.array([y_lo, y_hi])
        ax.plot(-(a[1] * ys + a0) / a[0], ys, color="k", lw=1.2, ls="--")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    if tr["net"] == "smooth":
        title = f"smooth, order {tr['k']}, width {tr['width']} (state dimension {tr['k'] * tr['width']})"
    else:
        title = f"ResNet, width {tr['width']}" + (" (read out on x1, x2)" if tr["width"] > 2 else "")
    ax.set_title(f"{title}\ntest accuracy {tr['test_accuracy']:.3f}", fontsize="medium")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def _resolved_differences(row):
    """[(N, |J_N - J_2N|)] of a row's depth ladder, above the optimiser's tolerance."""
    J = [v for key, v in row.items() if key.startswith("J_") and key[2:].isdigit() and _finite(v)]
    floor = _TOL * max((abs(v) for v in J), default=float("inf"))
    return sorted((int(key.split("_")[-1]), v) for key, v in row.items()
                  if key.startswith("J_diff_") and _finite(v) and v > floor)


def _finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
