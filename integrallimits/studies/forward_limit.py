"""The "forward-limit" study: the deep limit of fixed networks, and the order of its approach.

For fixed smooth fields W(t, s), b(t, s) (residual-dense) and W(t), b(t) (ResNet), the
N-layer network is a Volterra rule applied to the continuum kernel sampled on the grid,
so its output converges to the solution of

    x(t) = x0 + int_0^t tanh(W(t, s) x(s) + b(t, s)) ds

at the rule's order: 1 for the usual (rectangle) network, 2 for a trapezoid DenseNet,
p for a Gregory-p DenseNet.  The reference is the package's gauss4 collocation
solver on the continuum kernel (error below 1e-12).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..networks import ResidualDense, ResNet
from ..volterra import solve_volterra
from ..volterra.convergence import fit_order
from ._result import StudyResult
from ._runner import run_cells

__all__ = ["forward_limit", "figures"]

X0 = np.array([1.0, -0.5])


def _dense_kernel(t, s, x):
    W = np.array([[-1.0 + 0.5 * np.sin(t), 0.8 * np.cos(2.0 * (t - s))],
                  [-0.6 + 0.3 * s, -0.5 - 0.4 * t * s]])
    b = np.array([0.2 * np.cos(t + s), -0.1 + 0.3 * t])
    return np.tanh(W @ x + b)


def _resnet_kernel(t, s, x):  # the same fields on the diagonal: W(s, s), b(s, s)
    W = np.array([[-1.0 + 0.5 * np.sin(s), 0.8],
                  [-0.6 + 0.3 * s, -0.5 - 0.4 * s * s]])
    b = np.array([0.2 * np.cos(2.0 * s), -0.1 + 0.3 * s])
    return np.tanh(W @ x + b)


def _grid_fields(n, two_variable):
    """W, b on the grid (vectorised sampling of the closed-form fields)."""
    t = np.arange(n + 1) / n
    T, S = np.meshgrid(t, t, indexing="ij")
    if not two_variable:
        T = S = t
    W = np.stack([np.stack([-1.0 + 0.5 * np.sin(T), 0.8 * np.cos(2.0 * (T - S))], -1),
                  np.stack([-0.6 + 0.3 * S, -0.5 - 0.4 * T * S], -1)], -2)
    b = np.stack([0.2 * np.cos(T + S), -0.1 + 0.3 * T], -1)
    return W, b


@lru_cache(maxsize=None)
def _reference(family):
    kernel = _dense_kernel if family == "residual-dense" else _resnet_kernel
    sol = solve_volterra(kernel, lambda t: X0, (0.0, 1.0), 64, method="gauss4", raise_on_failure=True)
    check = solve_volterra(kernel, lambda t: X0, (0.0, 1.0), 32, method="gauss4")
    if not check.success:   # (its values would be reported as the reference's error)
        raise RuntimeError(f"forward-limit: the check of the {family} reference (gauss4, "
                           f"N = 32) failed: {check.message}")
    return sol.y[-1], float(np.max(np.abs(sol.y[-1] - check.y[-1])))


def _case(args):
    """The rows of one (family, rule): the N-layer network against the continuum limit."""
    family, rule, order, ns = args
    ref, ref_err = _reference(family)
    rows, errors, used = [], [], []
    for n in ns:
        W, b = _grid_fields(n, family == "residual-dense")
        net = (ResidualDense(W, b, n_layers=n, rule=rule) if family == "residual-dense"
               else ResNet(W, b, n_layers=n, rule=rule))
        err = float(np.max(np.abs(net.forward(X0)[0] - ref)))
        rows.append({"family": family, "rule": rule, "N": n, "error": err,
                     "rate": float(np.log2(errors[-1] / err)) if errors and err > 0 else float("nan"),
                     "declared_order": order, "reference_error": ref_err})
        errors.append(err)
        used.append(n)
    rows[-1]["observed_order"] = fit_order(used, errors, floor=1e-12)[0]
    return rows


def forward_limit(quick=False, seed=0, executor=None, cache_dir=None):
    """Error of N-layer networks against their continuum limit, N = 4 ... 1024 (quick: ... 64).

    Each (family, rule) is one cell of :func:`~integrallimits.studies.run_cells`
    (``executor``, ``cache_dir``).  ``seed`` is unused (the fields are fixed).

    Returns
    -------
    StudyResult
        Columns ``family``, ``rule``, ``N``, ``error`` (max-norm at t = 1), ``rate``
        (log2 of the error ratio to the previous N), ``declared_order``,
        ``reference_error`` and, in the last row of each (family, rule),
        ``observed_order`` fitted as in the "orders" study.

    Examples
    --------
    >>> res = forward_limit(quick=True)
    >>> sorted({r["rule"] for r in res.rows})
    ['gregory4', 'gregory6', 'rectangle', 'trapezoid']
    """
    ns = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128, 256, 512, 1024]
    cases = [("resnet", "rectangle", 1), ("resnet", "trapezoid", 2),
             ("residual-dense", "rectangle", 1), ("residual-dense", "trapezoid", 2),
             ("residual-dense", "gregory4", 4), ("residual-dense", "gregory6", 6)]
    cells = []
    for family, rule, order in cases:
        used = [n for n in ns
                if not (family == "residual-dense" and n > (512 if not quick else 64))
                and not (rule.startswith("gregory") and n < int(rule[-1]))]
        cells.append((family, rule, order, used))
    rows = [row for case in run_cells("forward-limit", cells, _case, cache_dir, executor)
            for row in case]
    return StudyResult("forward-limit", rows, params={"quick": quick, "N": ns},
                       notes="N-layer network output vs the continuum Volterra solution; "
                             "rate = log2(error(N/2)/error(N)).")


def figures(result):
    """Error of the N-layer network against its continuum limit, with O(N^-p) slopes."""
    from ._figures import caption, log2_axis, new_figure, plot_lines, reference_slope
    fig, (ax,) = new_figure(1, width=5.4, height=4.2)
    lines = plot_lines(ax, result.rows, "N", "error", lambda r: (r["family"], r["rule"]),
                       label=lambda k: f"{k[0]}, {k[1]}")
    declared = {(r["family"], r["rule"]): r.get("declared_order") for r in result.rows}
    drawn = set()
    for key, pts in lines.items():
        p = declared.get(key)
        if isinstance(p, (int, float)) and p not in drawn:
            drawn.add(p)
            reference_slope(ax, *zip(*sorted(pts)), p, where=0.0)
    log2_axis(ax)
    ax.set_yscale("log")
    ax.set_xlabel("layers $N$")
    ax.set_ylabel(r"$\max_i |x_N^{(i)} - x^{(i)}(1)|$")
    ax.legend(fontsize="x-small", title="network, rule", title_fontsize="x-small")
    caption(fig, "N-layer networks converge to their continuum (Volterra) limit",
            "at the order p of their quadrature rule (dashed: $O(N^{-p})$)")
    return {"forward-limit": fig}
