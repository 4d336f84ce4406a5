r"""The "dnl-gamma" study: Gamma-convergence of dense non-local networks in depth and in resolution.

The continuum problem (docs: theory, "Dense non-local networks").  A feature is a function
x(t, ·) on Ω = [0, 1]; the network is the nonlinear Volterra equation

.. math:: x(t, \xi) = u(\xi) + \int_0^t \sigma\Bigl(W^0(t, s)\, x(s, \xi)
          + W^1(t, s)\, (\mathcal A x(s))(\xi) + b(t, s)\Bigr)\, ds,

σ = tanh, with one feature map 𝒜 per network: none (``local``: W^1 = 0, the pointwise special
case), the Neumann heat semigroup e^{τΔ} as a Nyström map with the smooth kernel
a(ξ, η) = Σ_k G_τ(ξ - η + 2k) + G_τ(ξ + η + 2k) (``nystrom``), a Gaussian convolution with
zero padding (``convolution``), or quadrature-weighted attention (``attention``).  The fields
W^0, W^1, b live on the triangle 0 <= s <= t <= 1.  The data are :func:`~integrallimits.control.band_fields`:
random functions whose values are N(0, 1) at every point in both classes, smooth (modes 1, 2) or
rough (modes 4, 5); the label is a non-local property.  The cost, with a fixed readout
z = (m + 1/2, 1/2 - m) of the spatial mean m = ∫_Ω x(1, ξ) dξ (fixed so that the problem is
coercive: a trained classifier could grow without bound while the fields shrink), is

.. math:: J(\theta) = \frac1S \sum_i \tfrac12 |z_i - e_{y_i}|^2 + \alpha \sum_{f \in \{W^0, W^1, b\}}
          \iint_{s \le t} |\partial_t f|^2 + |\partial_s f|^2 + \beta |f|^2 .

The discrete problem J_{N,M} is the N-layer network (the rectangle rule in t, h = 1/N) on the
M-node trapezoid rule in ξ with the discrete H^1 penalty; its minimisers are compared through
their piecewise linear extensions θ̄_N.  The table has four parts (column ``part``):

* ``depth``: for each map, multilevel continuation N = 4, 8, ... (each N from the extension of
  the previous minimiser) and independent random starts (``seed=k``, every N from the same
  random smooth field), at M = 9: J_N, |J_N - J_2N| and the L2 / H1 distances of θ̄_N and
  θ̄_2N with their rates (in the row of N), the continuum cost J(θ̄_N) of the extension (the
  state by the second-order trapezoid rule at a fine depth), the consistency gap
  J(θ̄_N) - J_N (a direct measure of the discretisation error at the minimiser, no
  differences of levels) with its rate, accuracies, gradient norm and iterations;
  with scikit-learn also the 8x8 digits (3 against 8) on the square;
* ``resolution``: J_{N,M} as the spatial rule is refined (M = 9, 17, 33, ...) at fixed N and
  along N = M - 1, each point started from the previous one's minimiser;
* ``stability``: at seeded random smooth fields, the discrete adjoint |μ_n| / h (the continuous
  adjoint λ(t_n) when h = 1/N) across depth, with the 1/N scaling and without it (h = 1),
  for every map: at the first and last hidden layer, their ratio, and the spread max/min over
  the hidden layers; and the norm of the gradient;
* ``consistency``: the compiled N-layer network against a plain NumPy Nyström discretisation
  of the continuum equation on the same grid, written from the continuum kernels: equal to
  rounding.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..control import Dataset, Objective, band_fields, digits_available, load_digits, random_fields, train
from ..networks import (AttentionMap, ConvolutionMap, LocalMap, NonlocalDense, NystromMap, h1_distance,
                        l2_distance, spatial_rule)
from ._result import StudyResult, left_out
from ._runner import run_cells

__all__ = ["dnl_gamma", "dnl_network", "nystrom_discretisation", "MAPS"]

#: the feature maps of the study, in table order
MAPS = ("local", "nystrom", "convolution", "attention")

_TAU = 0.02            # time of the heat semigroup (Nyström map): standard deviation sqrt(2 τ) = 0.2
_WIDTH = 0.1           # standard deviation of the Gaussian convolution
_ATTENTION = 2.0       # κ Q K of the one-channel attention map: scores 2 x(ξ) x(η)
_READOUT = (np.array([[1.0], [-1.0]]), np.array([0.5, 0.5]))
_SETTINGS = {
    # depth ladders: N per map, samples, held-out samples, panels of the trapezoid rule
    "quick": dict(ns=(4, 8, 16, 32), samples=12, n_test=128, n_space=8, seed_map="nystrom",
                  seeds=1, seed_ns=(4, 8, 16), m_fixed=8, m_panels=(8, 16, 32, 64),
                  m_diagonal=((4, 4), (8, 8), (16, 16)), stability_ns=(4, 16, 64),
                  digits_ns=()),
    # full: N = 128 for the seed map's continuation only (the attention ladder to 128 alone
    # would take about half an hour on two shared cores)
    "full": dict(ns=(4, 8, 16, 32, 64), samples=32, n_test=256, n_space=8, seed_map="nystrom",
                 seed_map_ns=(4, 8, 16, 32, 64, 128), seeds=2, seed_ns=(4, 8, 16, 32, 64), m_fixed=16,
                 m_panels=(8, 16, 32, 64), m_diagonal=((4, 4), (8, 8), (16, 16), (32, 32)),
                 stability_ns=(4, 16, 64, 256), digits_ns=(4, 8, 16)),
}
_TRAIN = dict(loss="mse", alpha=3e-3, beta=1.0, maxiter=5000, gtol=1e-8)
_HEATMAP = 64          # heatmaps sample the extensions at t, s = k / 64


# -- the continuum problem ---------------------------------------------------------------------

def neumann_heat(x, s):
    """a(ξ, η) of e^{τΔ} on [0, 1] with reflecting ends (images at ±η and 2 - η; the next
    images are below e^{-1/(4τ)} ≈ 1e-11): smooth, not translation invariant."""
    c = 1.0 / math.sqrt(4.0 * math.pi * _TAU)
    return c * (np.exp(-(x - s) ** 2 / (4.0 * _TAU)) + np.exp(-(x + s) ** 2 / (4.0 * _TAU))
                + np.exp(-(x + s - 2.0) ** 2 / (4.0 * _TAU)))


def gaussian(d):
    """The convolution kernel a(ξ - η): a Gaussian of standard deviation 0.1 (mass 1 on R)."""
    return np.exp(-0.5 * (d / _WIDTH) ** 2) / (math.sqrt(2.0 * math.pi) * _WIDTH)


def _feature_maps(kind, grid):
    if kind not in MAPS:
        raise ValueError(f"kind must be one of {', '.join(MAPS)}, got {kind!r}")
    maps = [LocalMap(grid)]
    if kind == "nystrom":
        maps.append(NystromMap(neumann_heat, grid))
    elif kind == "convolution":
        maps.append(ConvolutionMap(gaussian, grid))
    elif kind == "attention":
        maps.append(AttentionMap(grid, [[1.0]], [[1.0]], scale=_ATTENTION))
    return maps


def dnl_network(kind, grid, n_layers, T=1.0, W=None, b=None):
    """The study's network with feature map ``kind`` on ``grid``, one channel, tanh.

    Parameters
    ----------
    kind : {"local", "nystrom", "convolution", "attention"}
        "local" has the pointwise map only (field W0); the others add their map (field W1).
    grid : SpatialRule
    n_layers : int
    T : float
        1 (the network with the 1/N scaling) or N (h = 1, no scaling).
    W, b : optional
        The fields (arrays or callables, see :class:`~integrallimits.networks.NonlocalDense`);
        zero by default.

    Returns
    -------
    NonlocalDense

    Examples
    --------
    >>> from integrallimits.networks import spatial_rule
    >>> net = dnl_network("nystrom", spatial_rule("trapezoid", 8), 4)
    >>> [m.kind for m in net.maps], net.d
    (['local', 'nystrom'], 9)
    """
    maps = _feature_maps(kind, grid)
    N = int(n_layers)
    if W is None:
        W = [np.zeros((N + 1, N + 1, 1, 1)) for _ in maps]
    if b is None:
        b = np.zeros((N + 1, N + 1, 1))
    return NonlocalDense(maps, W, b, n_layers=N, T=T)


def _band_data(grid, cfg, seed):
    return band_fields(grid, cfg["samples"], seed=seed, n_test=cfg["n_test"])


def _digits_grid():
    return spatial_rule("rectangle", 8, dim=2)


def _digits_network(N):
    """The digits' network: pointwise map + a Gaussian Nyström map (width 0.15) on the 8x8
    pixel centres of [0, 1]^2 (one channel)."""
    grid = _digits_grid()
    var = 0.15 ** 2

    def gauss(x1, x2, y1, y2):
        return np.exp(-((x1 - y1) ** 2 + (x2 - y2) ** 2) / (2.0 * var)) / (2.0 * np.pi * var)

    maps = [LocalMap(grid), NystromMap(gauss, grid)]
    return NonlocalDense(maps, [np.zeros((N + 1, N + 1, 1, 1)) for _ in maps],
                         np.zeros((N + 1, N + 1, 1)), n_layers=N)


def _digits_data(cfg, seed):
    """Digits 0 and 1, the grey levels less the mean grey level of the training images."""
    d = load_digits(n_samples=cfg["samples"], n_test=cfg["n_test"], seed=seed, classes=(0, 1))
    offset = d.X.mean()
    return Dataset(d.X - offset, d.y, 2, "digits-0-1", d.X_test - offset, d.y_test, d.meta)


# -- the depth ladders -------------------------------------------------------------------------

def _train(net, data, init, seed):
    return train(net, data, init=init, seed=seed, classifier=_READOUT, train_classifier=False,
                 **_TRAIN)


def _heatmap(res, name):
    """The extension of field ``name`` at t, s = k / _HEATMAP (NaN above the diagonal)."""
    t = np.arange(_HEATMAP + 1) / _HEATMAP
    tt, ss = np.meshgrid(t, t, indexing="ij")
    values = np.asarray(res.extensions()[name](tt, ss), dtype=float).reshape(tt.shape)
    values[ss > tt] = np.nan
    return values.round(10).tolist()


def _rates(rows, keys):
    """rate_key = log2(|key| of the previous row / |key| of this row) (NaN where undefined, and
    where the quantity changes sign: an error crossing zero has no rate)."""
    nan = float("nan")
    for i, row in enumerate(rows):
        for key in keys:
            before = rows[i - 1].get(key, nan) if i > 0 else nan
            now = row.get(key, nan)
            ok = before * now > 0 and math.isfinite(before * now)
            row[f"rate_{key}"] = float(np.log2(abs(before / now))) if ok else nan


def _ladder(job):
    """Train at every depth of one start of one map; rows and (continuation) heatmap samples."""
    data_name, kind, start, seed, mode = job
    cfg = _SETTINGS[mode]
    if data_name == "digits":
        ns, data = cfg["digits_ns"], _digits_data(cfg, seed)
        make = _digits_network
    else:
        grid = spatial_rule("trapezoid", cfg["n_space"])
        ns = cfg["seed_ns"] if start != "continuation" else (
            cfg.get("seed_map_ns", cfg["ns"]) if kind == cfg["seed_map"] else cfg["ns"])
        data = _band_data(grid, cfg, seed)

        def make(N):
            return dnl_network(kind, grid, N)
    fine = max(128, 4 * max(ns))     # a multiple of every N: the extensions are exact there
    rows, fields, prev = [], {}, None
    field = "W0" if kind == "local" else "W1"
    for N in ns:
        init = prev if (start == "continuation" and prev is not None) else "random"
        k = seed if start == "continuation" else int(start.split("=")[1])
        t0 = time.perf_counter()
        res = _train(make(N), data, init, k)
        seconds = time.perf_counter() - t0
        cont = res.objective.continuum_terms(res.x, n_fine=fine)
        row = {"part": "depth", "data": data.name, "map": kind, "start": start, "N": N,
               "M": res.network.M, "J": res.fun, "J_continuum": cont["J"], "J_gap": cont["J"] - res.fun,
               "loss_gap": cont["loss"] - res.loss, "regularizer_gap": cont["regularizer"] - res.regularizer,
               "loss": res.loss, "regularizer": res.regularizer,
               "train_accuracy": res.train_accuracy, "test_accuracy": res.test_accuracy,
               "grad_norm": res.grad_norm, "iterations": res.nit, "converged": bool(res.success),
               "seconds": seconds}
        if prev is not None:   # N/2 -> N, stored in the row of N/2 (|J_N - J_2N| in the row of N)
            a, b = prev.extensions(), res.extensions()
            last = rows[-1]
            last["J_diff"] = abs(prev.fun - res.fun)
            last["J_extrapolated"] = 2.0 * res.fun - prev.fun
            last["param_diff_L2"] = float(np.sqrt(sum(
                l2_distance(a[f], b[f], two_variable=True, fine=fine) ** 2 for f in a)))
            last["param_diff_H1"] = float(np.sqrt(sum(
                h1_distance(a[f], b[f], two_variable=True, fine=fine) ** 2 for f in a)))
        if start == "continuation":
            fields[str(N)] = _heatmap(res, field)
        rows.append(row)
        prev = res
    for row in rows:
        for key in ("J_diff", "J_extrapolated", "param_diff_L2", "param_diff_H1"):
            row.setdefault(key, float("nan"))
    _rates(rows, ("J_diff", "J_gap", "loss_gap", "regularizer_gap", "param_diff_L2", "param_diff_H1"))
    return {"rows": rows, "fields": fields, "field": field}


# -- the resolution sweep ----------------------------------------------------------------------

def _resolution(job):
    """J_{N,M} along a path of (N, panels): each point from the previous point's minimiser
    (continuation in N through the extension; a change of M carries the fields over as they are,
    since they do not depend on ξ).  The path starts with continuation N = 4, 8, ... at its
    first M."""
    kind, path_name, path, seed, mode = job
    cfg = _SETTINGS[mode]
    N0, n0 = path[0]
    prev = None
    for N in [n for n in (4, 8, 16, 32, 64) if n < N0]:
        grid = spatial_rule("trapezoid", n0)
        prev = _train(dnl_network(kind, grid, N), _band_data(grid, cfg, seed), prev or "random", seed)
    rows = []
    for N, n in path:
        grid = spatial_rule("trapezoid", n)
        t0 = time.perf_counter()
        res = _train(dnl_network(kind, grid, N), _band_data(grid, cfg, seed), prev or "random", seed)
        rows.append({"part": "resolution", "map": kind, "path": path_name, "N": N, "M": grid.M,
                     "J": res.fun, "train_accuracy": res.train_accuracy,
                     "test_accuracy": res.test_accuracy, "grad_norm": res.grad_norm,
                     "iterations": res.nit, "converged": bool(res.success),
                     "seconds": time.perf_counter() - t0})
        prev = res
    for i, row in enumerate(rows):
        row["J_diff"] = abs(rows[i + 1]["J"] - row["J"]) if i + 1 < len(rows) else float("nan")
    _rates(rows, ("J_diff",))
    return rows


# -- stability at depth ------------------------------------------------------------------------

def _stability(job):
    """Adjoint and gradient norms at seeded random smooth fields, with (T = 1) and without
    (T = N, h = 1) the 1/N scaling."""
    kind, scaling, N, seed, mode = job
    cfg = _SETTINGS[mode]
    grid = spatial_rule("trapezoid", cfg["n_space"])
    data = _band_data(grid, cfg, seed)
    T = 1.0 if scaling == "1/N" else float(N)
    net = random_fields(dnl_network(kind, grid, N, T=T), seed=seed, scale=1.0)
    t0 = time.perf_counter()
    obj = Objective(net, data, loss=_TRAIN["loss"], classifier=_READOUT, train_classifier=False)
    v = obj.initial_vector()
    J, g = obj.value_and_gradient(v)
    h = net.h
    lam = np.linalg.norm(obj.adjoint_states(v), axis=2).mean(axis=0) / h   # (N+1,): |mu_n| / h
    hidden = lam[1:N]
    with np.errstate(divide="ignore"):   # inf: the adjoint underflows to 0 at some layer
        ratio, spread = hidden[0] / hidden[-1], hidden.max() / hidden.min()
    return {"part": "stability", "map": kind, "scaling": scaling, "N": N, "J": float(J),
            "grad_norm": float(np.linalg.norm(g)), "adjoint_first": float(hidden[0]),
            "adjoint_last": float(hidden[-1]), "adjoint_ratio": float(ratio),
            "adjoint_max": float(hidden.max()), "adjoint_min": float(hidden.min()),
            "adjoint_spread": float(spread),
            "seconds": time.perf_counter() - t0}


# -- forward consistency: the network is the Nyström discretisation --------------------------------

def _smooth_fields(kind):
    W0 = lambda t, s: np.array([[-1.0 + 0.5 * np.cos(t + 2 * s)]])          # noqa: E731
    W1 = lambda t, s: np.array([[1.5 * np.sin(1 + t - s)]])                  # noqa: E731
    b = lambda t, s: np.array([0.3 * np.cos(3 * t) - 0.2 * s])                # noqa: E731
    return ([W0] if kind == "local" else [W0, W1]), b


def nystrom_discretisation(kind, grid, n_layers, u0, W, b):
    r"""The continuum equation of the study discretised by hand: the rectangle rule in t and
    the Nyström rule of ``grid`` in ξ, written with NumPy from the continuum kernels (not with
    the feature maps or the compiled network):

    .. math:: x_n(\xi_p) = u_0(\xi_p) + h \sum_{j<n} \sigma\Bigl(W^0(t_n, t_j)\, x_j(\xi_p)
              + W^1(t_n, t_j) \sum_m \omega_m\, a(\xi_p, \eta_m; x_j)\, x_j(\eta_m)
              + b(t_n, t_j)\Bigr),

    a the Neumann heat kernel, the Gaussian a(ξ - η), or the attention density
    e^{κ x(ξ) x(η)} / Σ_m' ω_m' e^{κ x(ξ) x(η_m')} (for ``kind`` "nystrom", "convolution",
    "attention"; no W^1 term for "local").

    Parameters
    ----------
    kind : str
    grid : SpatialRule
        A rule on an interval.
    n_layers : int
    u0 : ndarray (M,)
    W : list of callables W^r(t, s) -> (1, 1)
    b : callable b(t, s) -> (1,)

    Returns
    -------
    ndarray (N+1, M)
        x_0, ..., x_N at the nodes.
    """
    N, h = int(n_layers), 1.0 / n_layers
    x, w = grid.nodes, grid.weights
    A = None
    if kind == "nystrom":
        A = neumann_heat(x[:, None], x[None, :]) * w[None, :]
    elif kind == "convolution":
        A = gaussian(x[:, None] - x[None, :]) * w[None, :]
    states = [np.asarray(u0, dtype=float)]
    t = h * np.arange(N + 1)
    for n in range(1, N + 1):
        total = np.zeros_like(states[0])
        for j in range(n):
            xj = states[j]
            z = float(W[0](t[n], t[j])[0, 0]) * xj + float(b(t[n], t[j])[0])
            if kind != "local":
                if kind == "attention":
                    e = w[None, :] * np.exp(_ATTENTION * np.outer(xj, xj))
                    Ax = (e / e.sum(axis=1, keepdims=True)) @ xj
                else:
                    Ax = A @ xj
                z = z + float(W[1](t[n], t[j])[0, 0]) * Ax
            total += np.tanh(z)
        states.append(states[0] + h * total)
    return np.array(states)


def _consistency(job):
    kind, N, n = job
    grid = spatial_rule("trapezoid", n)
    W, b = _smooth_fields(kind)
    u0 = np.sin(np.pi * grid.nodes) + 0.5 * np.cos(3 * grid.nodes)
    t0 = time.perf_counter()
    network = dnl_network(kind, grid, N, W=W, b=b).states(u0[None])[0, :, 0]
    reference = nystrom_discretisation(kind, grid, N, u0, W, b)
    return {"part": "consistency", "map": kind, "N": N, "M": grid.M,
            "max_abs_difference": float(np.abs(network - reference).max()),
            "max_abs_state": float(np.abs(reference).max()), "seconds": time.perf_counter() - t0}


# -- the study ---------------------------------------------------------------------------------

_DEPTH_COLUMNS = ["part", "data", "map", "start", "N", "M", "J", "J_diff", "rate_J_diff", "J_continuum",
                  "J_gap", "rate_J_gap", "loss_gap", "rate_loss_gap", "regularizer_gap",
                  "rate_regularizer_gap", "J_extrapolated", "param_diff_L2", "rate_param_diff_L2",
                  "param_diff_H1", "rate_param_diff_H1", "loss", "regularizer", "train_accuracy",
                  "test_accuracy", "grad_norm", "iterations", "converged", "seconds"]


def dnl_gamma(quick=False, seed=0, executor=None, cache_dir=None):
    """Gamma-convergence of dense non-local networks in depth N and resolution M (see the module
    docstring for the problem), N = 4 ... 128 (quick: ... 32).

    Returns
    -------
    StudyResult
        Rows of the four parts ``depth``, ``resolution``, ``stability``, ``consistency``
        (column ``part``); ``data["fields"]`` holds the heatmap samples of the continuation
        minimisers' extensions (W^1, or W^0 for the local map) for the figures.
    """
    mode = "quick" if quick else "full"
    cfg = _SETTINGS[mode]
    ladders = [("band-fields", kind, "continuation", seed, mode) for kind in MAPS]
    ladders += [("band-fields", cfg["seed_map"], f"seed={seed + 1 + k}", seed, mode)
                for k in range(cfg["seeds"])]
    with_digits = bool(cfg["digits_ns"]) and digits_available()
    missing = "" if with_digits or not cfg["digits_ns"] else " " + left_out(
        "dnl-gamma", "The digits depth ladder is", "digits", "scikit-learn")
    if with_digits:
        ladders.append(("digits", "nystrom", "continuation", seed, mode))
    paths = {"fixed N": [(cfg["m_fixed"], n) for n in cfg["m_panels"]],
             "N = M - 1": [tuple(p) for p in cfg["m_diagonal"]]}
    sweeps = [(kind, name, path, seed, mode) for kind in MAPS for name, path in paths.items()]
    stability = [(kind, scaling, N, seed, mode) for kind in MAPS for scaling in ("1/N", "none")
                 for N in cfg["stability_ns"]]
    checks = [(kind, 8, 8) for kind in MAPS]
    # one cell per ladder / path / stability point / check (resumable, any executor)
    depth = run_cells("dnl-gamma", ladders, _ladder, cache_dir, executor)
    rows = [{k: r[k] for k in _DEPTH_COLUMNS} for ladder in depth for r in ladder["rows"]]
    rows += [r for path in run_cells("dnl-gamma", sweeps, _resolution, cache_dir, executor)
             for r in path]
    rows += run_cells("dnl-gamma", stability, _stability, cache_dir, executor)
    rows += run_cells("dnl-gamma", checks, _consistency, cache_dir, executor)
    fields = {f"{job[0]}:{job[1]}": {"field": ladder["field"], "N": ladder["fields"]}
              for job, ladder in zip(ladders, depth) if job[2] == "continuation"}
    params = {"quick": quick, "seed": seed, **{k: list(v) if isinstance(v, tuple) else v
                                              for k, v in cfg.items()},
              "digits": with_digits, "maps": list(MAPS), "rule": "rectangle",
              "spatial_rule": "trapezoid", "activation": "tanh", "channels": 1,
              "readout": "z = (m + 1/2, 1/2 - m), m = spatial mean of x(1)", "tau": _TAU,
              "convolution_width": _WIDTH, "attention_kappa": _ATTENTION, **_TRAIN}
    return StudyResult("dnl-gamma", rows, params=params, notes=_notes(rows) + missing,
                       data={"fields": fields})


def _finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _last(rows, key):
    """The last finite value of ``key`` along ``rows`` (NaN if none)."""
    values = [r[key] for r in rows if _finite(r.get(key))]
    return values[-1] if values else float("nan")


def _notes(rows):
    """What the table shows, computed from its rows: the setting, then per map the finest rates."""
    text = ["Dense non-local networks (one channel, tanh, rectangle rule in t, trapezoid rule in xi, "
            "M = 9 for the depth ladders) trained with train() (L-BFGS-B, exact discrete adjoint, "
            f"H1 regularizer alpha={_TRAIN['alpha']}, beta=1, fixed readout of the spatial mean) on "
            "band-limited random functions labelled smooth/rough (a non-local property). "
            "part=depth: J_diff and param_diff_* in the row of N compare N with 2N; rates are log2 "
            "of the ratio to the previous row (NaN where a quantity changes sign); J_continuum = "
            "J(theta_bar_N) with the trapezoid rule at a fine depth; J_gap = J_continuum - J = "
            "loss_gap + alpha regularizer_gap. part=resolution: J_{N,M} as M grows at fixed N and "
            "along N = M - 1, each point from the previous minimiser. part=stability: |mu_n|/h "
            "at random smooth fields with (1/N) and without (none, h = 1) the depth scaling. "
            "part=consistency: compiled network minus a NumPy Nystrom discretisation of the "
            "continuum equation."]
    summary = []
    for kind in MAPS:
        branch = [r for r in rows if r.get("part") == "depth" and r["data"] == "band-fields"
                  and r["map"] == kind and r["start"] == "continuation"]
        if branch:
            last = branch[-1]
            summary.append(
                f"{kind}: last rates J_diff {_last(branch, 'rate_J_diff'):.2f}, L2 "
                f"{_last(branch, 'rate_param_diff_L2'):.2f}, H1 {_last(branch, 'rate_param_diff_H1'):.2f}, "
                f"loss_gap {_last(branch, 'rate_loss_gap'):.2f}; J_{last['N']} = {last['J']:.4g}, "
                f"test accuracy {last['test_accuracy']:.2f}")
    if summary:
        text.append("Continuation branches (to N = %d): " % max(r["N"] for r in rows
                                                                if r.get("part") == "depth")
                    + "; ".join(summary) + ".")
    stab = [r for r in rows if r.get("part") == "stability"]
    if stab:
        big = max(r["N"] for r in stab)
        spread = {sc: [r["adjoint_spread"] for r in stab if r["scaling"] == sc and r["N"] == big]
                  for sc in ("1/N", "none")}
        text.append(f"Spread max/min of |mu_n|/h over the hidden layers at N = {big}, over the maps: "
                    f"{min(spread['1/N']):.3g} to {max(spread['1/N']):.3g} with the 1/N scaling, "
                    f"{min(spread['none']):.3g} to {max(spread['none']):.3g} without.")
    checks = [r["max_abs_difference"] for r in rows if r.get("part") == "consistency"]
    if checks:
        text.append(f"Network minus Nystrom discretisation: at most {max(checks):.1e}.")
    return " ".join(text)


# -- figures -----------------------------------------------------------------------------------

_COLOURS = {"local": "tab:gray", "nystrom": "tab:blue", "convolution": "tab:orange",
            "attention": "tab:green"}


def _reference(ax, xs, y0, power, label):
    """A grey reference slope C x^-power through (xs[0], y0)."""
    xs = np.array(sorted(xs), dtype=float)
    ax.plot(xs, y0 * (xs / xs[0]) ** (-power), color="0.5", lw=1, zorder=0, label=label,
            ls={1: "--", 2: ":", 0.5: "-."}[power])


def _loglog(ax, lines, ylabel, title, slopes=((1, "O(1/N)"),), xlabel="N (layers)"):
    """{label: (points, style)} on log-log axes (absolute values, zeros and NaN left out), with
    reference slopes starting 1.5 times above the largest first value."""
    firsts = []
    for label, (pts, style) in lines.items():
        pts = sorted((x, abs(y)) for x, y in pts if _finite(y) and y != 0)
        if pts:
            ax.plot(*zip(*pts), label=label, **style)
            firsts.append(pts[0])
    if firsts:
        x0 = min(x for x, _ in firsts)
        xs = sorted({x for label, (pts, _) in lines.items() for x, y in pts if _finite(y)})
        y0 = max(y for x, y in firsts if x == x0)
        for power, label in slopes:
            _reference(ax, xs, 1.5 * y0, power, label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")


def _depth_figure(result, depth):
    from matplotlib.figure import Figure
    cont = [r for r in depth if r["start"] == "continuation"]
    keys = sorted({(r["data"], r["map"]) for r in cont},
                  key=lambda k: (k[0] != "band-fields", MAPS.index(k[1])))

    def style(data, kind):
        return dict(marker="o" if data == "band-fields" else "s", ms=4, color=_COLOURS[kind],
                    ls="-" if data == "band-fields" else "-.")

    def label(data, kind):
        return kind if data == "band-fields" else f"{kind} ({data})"

    def lines(key, scale=1.0):
        return {label(*k): ([(r["N"], scale * r[key]) for r in cont if (r["data"], r["map"]) == k],
                            style(*k)) for k in keys}

    fig = Figure(figsize=(14, 8), layout="constrained")
    axes = fig.subplots(2, 3)
    _loglog(axes[0, 0], lines("J_diff"), "|J_N - J_2N|", "optimal values of successive depths")
    _loglog(axes[0, 1], lines("J_gap"), "|J(θ̄_N) - J_N(θ_N)|",
            "consistency gap at the minimiser (direct)")
    ax = axes[0, 2]
    alpha = result.params.get("alpha", 1.0)
    _loglog(ax, lines("loss_gap"), "loss part (solid), α × penalty part (dotted)",
            "the gap's two parts")
    for k in keys:
        pts = [(r["N"], abs(alpha * r["regularizer_gap"])) for r in cont if (r["data"], r["map"]) == k
               and _finite(r["regularizer_gap"]) and r["regularizer_gap"] != 0]
        if pts:
            ax.plot(*zip(*pts), color=_COLOURS[k[1]], ls=":", marker=".", ms=4)
    _loglog(axes[1, 0], lines("param_diff_L2"), "‖θ̄_N - θ̄_2N‖ in L²", "minimisers in L²")
    _loglog(axes[1, 1], lines("param_diff_H1"), "‖θ̄_N - θ̄_2N‖ in H¹ (seminorm)", "minimisers in H¹",
            ((1, "O(1/N)"), (0.5, "O(N^-1/2)")))
    for ax in list(axes.flat)[:5]:
        ax.legend(fontsize="x-small")
    ax = axes[1, 2]
    seed_map = result.params.get("seed_map", "nystrom")
    seed_rows = [r for r in depth if r["data"] == "band-fields" and r["map"] == seed_map]
    markers = iter(("o", "x", "+", "^", "v"))
    for start in dict.fromkeys(r["start"] for r in seed_rows):
        pts = [(r["N"], r["J"]) for r in seed_rows if r["start"] == start]
        cont_line = start == "continuation"
        ax.plot(*zip(*pts), marker="o" if cont_line else next(markers), ms=5 if cont_line else 8,
                lw=2.2 if cont_line else 1.0, label=start)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (layers)")
    ax.set_ylabel("J_N")
    ax.set_title(f"{seed_map}: continuation against independent random starts", fontsize="medium")
    ax.legend(fontsize="x-small")
    fig.suptitle("dnl-gamma: the discrete training problems as the depth N doubles (each N from the "
                 "previous minimiser; rectangle rule in t: first order)", fontsize="medium")
    return fig, keys, label


def _fields_figure(fields, keys, label):
    """Heatmaps of θ̄_N at each N (one row per map), and the last change θ̄_N - θ̄_{N/2}."""
    from matplotlib.figure import Figure
    names = [k for k in (f"{d}:{m}" for d, m in keys) if k in fields]
    ns = sorted({int(n) for k in names for n in fields[k]["N"]})
    cols = len(ns) + 1
    fig = Figure(figsize=(2.05 * cols + 1.5, 2.05 * len(names) + 0.7), layout="constrained")
    axes = fig.subplots(len(names), cols, squeeze=False)
    for i, name in enumerate(names):
        entry = fields[name]
        values = {int(n): np.array(v, dtype=float) for n, v in entry["N"].items()}
        low = min(np.nanmin(v) for v in values.values())
        high = max(np.nanmax(v) for v in values.values())
        data, kind = name.split(":")
        field = "W¹" if entry["field"] == "W1" else "W⁰"
        image = None
        for j, N in enumerate(ns):
            ax = axes[i, j]
            if N not in values:
                ax.set_axis_off()
                continue
            image = ax.imshow(values[N], origin="lower", extent=(0, 1, 0, 1), cmap="viridis",
                              vmin=low, vmax=high, interpolation="nearest")
            ax.set_title(f"N = {N}", fontsize="small")
            ax.set_xticks([0, 1])
            ax.set_yticks([0, 1])
            ax.set_ylabel(f"{label(data, kind)}: {field}(t, s)\nt" if j == 0 else "")
            if i == len(names) - 1:
                ax.set_xlabel("s")
        fig.colorbar(image, ax=list(axes[i, :-1]), shrink=0.85, pad=0.01)
        have = sorted(values)
        ax = axes[i, -1]
        if len(have) >= 2:
            change = values[have[-1]] - values[have[-2]]
            top = np.nanmax(np.abs(change)) or 1.0
            diff = ax.imshow(change, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r", vmin=-top,
                             vmax=top, interpolation="nearest")
            ax.set_title(f"θ̄_{have[-1]} - θ̄_{have[-2]}", fontsize="small")
            ax.set_xticks([0, 1])
            ax.set_yticks([0, 1])
            fig.colorbar(diff, ax=ax, shrink=0.85, pad=0.01)
        else:
            ax.set_axis_off()
    fig.suptitle("learned fields of the continuation minimisers (piecewise linear extensions on "
                 "s ≤ t), and their last change", fontsize="medium")
    return fig


def _resolution_figure(res):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    paths = (("fixed N", "-"), ("N = M - 1", "--"))
    for kind in MAPS:
        for path, ls in paths:
            pts = [r for r in res if r["map"] == kind and r["path"] == path]
            if not pts:
                continue
            ax1.plot([r["M"] for r in pts], [r["J"] for r in pts], ls=ls, marker="o", ms=4,
                     color=_COLOURS[kind])
            diffs = [(r["M"], r["J_diff"]) for r in pts if _finite(r["J_diff"]) and r["J_diff"] > 0]
            if diffs:
                ax2.plot(*zip(*diffs), ls=ls, marker="o", ms=4, color=_COLOURS[kind])
    fixed = next((r["N"] for r in res if r["path"] == "fixed N"), None)
    proxies = [Line2D([], [], color=_COLOURS[k], marker="o", ms=4) for k in MAPS if
               any(r["map"] == k for r in res)]
    proxies += [Line2D([], [], color="k", ls=ls) for _, ls in paths]
    ax1.legend(proxies, [k for k in MAPS if any(r["map"] == k for r in res)]
               + [f"N = {fixed}", "N = M - 1"], fontsize="x-small", ncol=2)
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("M (spatial nodes)")
    ax1.set_ylabel("J_{N,M}")
    ax1.set_title("optimal values", fontsize="medium")
    xs = sorted({r["M"] for r in res if _finite(r["J_diff"])})
    if xs:
        top = max(r["J_diff"] for r in res if _finite(r["J_diff"]) and r["M"] == xs[0])
        _reference(ax2, xs, 1.5 * top, 2, "O(M^-2)")
        _reference(ax2, xs, 1.5 * top, 1, "O(1/M)")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    ax2.set_xlabel("M (spatial nodes)")
    ax2.set_ylabel("|J at the next point - J|")
    ax2.set_title("differences of successive points of each path", fontsize="medium")
    ax2.legend(fontsize="x-small")
    fig.suptitle("dnl-gamma: the resolution limit (trapezoid rule in ξ; each point from the previous "
                 "minimiser)", fontsize="medium")
    return fig


def _stability_figure(stab):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    finite = [r["adjoint_spread"] for r in stab if _finite(r["adjoint_spread"])]
    ceiling = 10 * max(finite) if finite else 10.0
    marked = False
    for kind in MAPS:
        for scaling, ls in (("1/N", "-"), ("none", "--")):
            pts = [r for r in stab if r["map"] == kind and r["scaling"] == scaling]
            if not pts:
                continue
            ok = [r for r in pts if _finite(r["adjoint_spread"])]
            ax1.plot([r["N"] for r in ok], [r["adjoint_spread"] for r in ok], ls=ls, marker="o",
                     ms=4, color=_COLOURS[kind], label=f"{kind}, {scaling}")
            for r in pts:
                if not _finite(r["adjoint_spread"]):   # the adjoint underflows to 0 at some layer
                    ax1.plot([r["N"]], [ceiling], marker="^", ms=8, color=_COLOURS[kind], ls="none",
                             label=None if marked else "∞: |μ_n| = 0 at some layer")
                    marked = True
            ax2.plot([r["N"] for r in pts], [r["grad_norm"] for r in pts], ls=ls, marker="o",
                     ms=4, color=_COLOURS[kind], label=f"{kind}, {scaling}")
    for ax, ylabel, title in ((ax1, "max_n |μ_n| / min_n |μ_n| over hidden layers",
                               "spread of the adjoint across the layers"),
                              (ax2, "‖∇J_N‖ (Euclidean, grid values)", "gradient")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("N (layers)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize="medium")
    ax1.legend(fontsize="x-small", ncol=2)
    fig.suptitle("dnl-gamma: stability at depth at random smooth fields, with the 1/N scaling "
                 "(solid, h = 1/N) and without it (dashed, h = 1)", fontsize="medium")
    return fig


def figures(result):
    """The study's figures: rates against depth with O(1/N) reference slopes and the independent
    starts; heatmaps of the learned fields at successive N; the M sweep; stability at depth."""
    rows = result.rows
    out = {}
    depth = [r for r in rows if r.get("part") == "depth"]
    if depth:
        out["dnl-gamma-rates"], keys, label = _depth_figure(result, depth)
        fields = result.data.get("fields", {})
        if fields:
            out["dnl-gamma-fields"] = _fields_figure(fields, keys, label)
    res = [r for r in rows if r.get("part") == "resolution"]
    if res:
        out["dnl-gamma-resolution"] = _resolution_figure(res)
    stab = [r for r in rows if r.get("part") == "stability"]
    if stab:
        out["dnl-gamma-stability"] = _stability_figure(stab)
    return out
