r"""The "adjoint-agreement" study: discrete and continuous adjoints of a ResNet agree as N grows.

For fixed smooth fields W(t), b(t), a data set and the terminal cost
phi = (1/S) sum_i 1/2 |P x_i(T) + c - e_{y_i}|^2 (fixed classifier), the gradient of J with
respect to the control is the density

.. math:: \nabla_u J(s) = f_u(s)^T p(s), \qquad p(s) = \nabla\varphi + \int_s^T \lambda(t)\,dt,

with lambda the solution of the anticipating adjoint Volterra equation
(:func:`~integrallimits.control.continuous_adjoint`, solved with gregory6 on a fine mesh and
checked against the costate ODE integrated by SciPy).  The N-layer network built on a rule
samples the fields on its grid; the discrete adjoint gives dJ_N/dtheta_j exactly, and
dividing by the quadrature weight h w_Nj of layer j turns it into a density comparable with
nabla_u J(t_j).  Expected: first order for the rectangle rule (the usual ResNet); for the
trapezoid rule second order at interior layers and first order at the two end layers (the
end multipliers carry an O(h) implicit correction: mu_N = (I - h/2 K_y)^{-T} grad phi).
At small N the discrete gradient is also checked against 4th-order central differences.
"""
from __future__ import annotations

import time

import numpy as np

from ..control import Objective, continuous_adjoint, costate_ode, make_dataset
from ..networks import ResNet
from ..volterra import METHODS
from ._result import StudyResult

__all__ = ["adjoint_agreement", "FIELDS", "figures"]


def _W(t):
    return np.array([[-1.0 + 0.5 * np.sin(2.0 * t), 0.8], [-0.6 + 0.3 * t, -0.5 - 0.4 * t * t]])


def _b(t):
    return np.array([0.2 * np.cos(2.0 * t), -0.1 + 0.3 * t])


#: the fixed smooth control of the study
FIELDS = (_W, _b)
_CLASSIFIER = (np.array([[1.0, -0.5], [0.3, 0.8]]), np.array([0.1, -0.2]))


def _fd4(f, x, i, e=1e-4):
    def at(delta):
        y = x.copy()
        y[i] += delta
        return f(y)
    return (-at(2 * e) + 8 * at(e) - 8 * at(-e) + at(-2 * e)) / (12 * e)


def adjoint_agreement(quick=False, seed=0, executor=None):
    """Discrete-adjoint vs continuous-adjoint gradients of a ResNet, N = 4 ... 512 (quick: ... 64).

    Returns
    -------
    StudyResult
        Columns ``rule``, ``N``, ``gradient_difference`` (max over layers of the relative
        difference of the densities), ``rate`` (log2 ratio to the previous N),
        ``interior_difference`` and ``interior_rate`` (layers 0 < j < N only),
        ``fd_difference`` (discrete gradient vs 4th-order finite differences, N <= 8),
        ``reference_error`` (continuous-adjoint costate vs the SciPy costate ODE), ``seconds``.

    Examples
    --------
    >>> res = adjoint_agreement(quick=True)
    >>> [round(r["rate"], 1) for r in res.rows if r["rule"] == "rectangle"][1:]
    [1.1, 1.1, 1.0, 1.0]
    """
    ns = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128, 256, 512]
    M = 4 * max(ns)
    W, b = FIELDS
    data = make_dataset("two-moons", 16, d=2, seed=seed)
    t0 = time.perf_counter()
    probe = Objective(ResNet(W, b, n_layers=M, d=2), data, loss="mse", classifier=_CLASSIFIER,
                      train_classifier=False)

    def dphi(YT):
        return probe.output_gradient(YT)[1]

    ref = continuous_adjoint(W, b, data.X, dphi, n_steps=M, method="gregory6")
    if not ref.success:     # (every row is measured against it: no table from a failed one)
        raise RuntimeError(f"adjoint-agreement: the continuous-adjoint reference (gregory6, "
                           f"M = {M}) failed: {ref.message}")
    _, _, p_ode = costate_ode(W, b, data.X, dphi, t_eval=ref.t)
    ref_error = float(np.max(np.abs(ref.costate - p_ode)) / np.max(np.abs(p_ode)))
    ref_seconds = time.perf_counter() - t0
    scale = max(np.max(np.abs(ref.grad_W)), np.max(np.abs(ref.grad_b)))
    rows = []
    for rule in ("rectangle", "trapezoid"):
        prev = prev_int = None
        for N in ns:
            t1 = time.perf_counter()
            net = ResNet(W, b, n_layers=N, d=2, rule=rule)
            obj = Objective(net, data, loss="mse", classifier=_CLASSIFIER, train_classifier=False)
            v = obj.initial_vector()
            _, g = obj.value_and_gradient(v)
            grids = obj.gradient_grids(g)
            wN = np.asarray(METHODS[rule].rule.weights(N))[N, :N + 1]
            layers = np.flatnonzero(wN)
            scale_j = net.h * wN[layers]
            diff = np.concatenate([
                (np.abs(grids["W"][layers] / scale_j[:, None, None] - ref.grad_W[layers * (M // N)])
                 .reshape(len(layers), -1)),
                (np.abs(grids["b"][layers] / scale_j[:, None] - ref.grad_b[layers * (M // N)]))], axis=1)
            per_layer = diff.max(axis=1) / scale
            err = float(per_layer.max())
            inner = (layers > 0) & (layers < N)
            err_int = float(per_layer[inner].max())
            fd = float("nan")
            if N <= 8:
                rng = np.random.default_rng(seed)
                idx = rng.choice(obj.n_weights, size=min(12, obj.n_weights), replace=False)
                fdv = np.array([_fd4(obj.value, v, i) for i in idx])
                fd = float(np.max(np.abs(fdv - g[idx])) / np.max(np.abs(fdv)))
            rows.append({"rule": rule, "N": N, "gradient_difference": err,
                         "rate": float(np.log2(prev / err)) if prev else float("nan"),
                         "interior_difference": err_int,
                         "interior_rate": float(np.log2(prev_int / err_int)) if prev_int else float("nan"),
                         "fd_difference": fd, "reference_error": ref_error,
                         "seconds": time.perf_counter() - t1})
            prev, prev_int = err, err_int
    return StudyResult("adjoint-agreement", rows,
                       params={"quick": quick, "seed": seed, "N": ns, "reference_steps": M,
                               "reference_method": "gregory6", "samples": 16,
                               "reference_seconds": ref_seconds},
                       notes="ResNet gradient densities: discrete adjoint / (h w_Nj) vs the "
                             "continuous adjoint f_u^T p at t_j (relative max difference); the "
                             "reference's costate agrees with the SciPy costate ODE to "
                             "reference_error.")


def figures(result):
    """Discrete vs continuous adjoint gradients (log-log, O(N^-1) and O(N^-2) slopes), and the
    finite-difference check of the discrete gradient at small N."""
    from ._figures import caption, log2_axis, new_figure, plot_lines, reference_slope
    fig, axes = new_figure(3, width=4.2, height=3.8)
    panels = (("gradient_difference", r"$\max_j |\nabla_{\theta_j} J_N / (h w_{Nj})"
                                      r" - \nabla_u J(t_j)|$ (relative)", "all layers"),
              ("interior_difference", "the same over layers $0 < j < N$", "interior layers"),
              ("fd_difference", "discrete gradient vs finite differences", "check at small N"))
    orders = {"rectangle": 1, "trapezoid": 2}
    for ax, (column, ylabel, title) in zip(axes, panels):
        lines = plot_lines(ax, result.rows, "N", column, lambda r: r["rule"])
        if column != "fd_difference":
            for rule, pts in lines.items():
                p = 1 if column == "gradient_difference" else orders.get(rule, 1)
                reference_slope(ax, *zip(*sorted(pts)), p, where=0.0)
        log2_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel("layers $N$")
        ax.set_ylabel(ylabel, fontsize="small")
        ax.set_title(title, fontsize="small")
        ax.legend(fontsize="x-small", title="rule", title_fontsize="x-small")
    axes[2].set_ylim(1e-16, 1e-6)
    caption(fig, "Discrete adjoints of a ResNet approach the continuous adjoint",
            "rectangle: first order; trapezoid: second order inside, first at the end layers; "
            "the discrete gradient itself matches finite differences to rounding")
    return {"adjoint-agreement": fig}
