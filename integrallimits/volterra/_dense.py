"""Dense output of Volterra Runge-Kutta and collocation solutions at the accuracy of the mesh.

Interpolating the mesh values loses much of a high-order method's accuracy between the mesh
points (gauss4, N = 16: 1.7e-12 between them against 5.6e-16 at them).  Instead, y(x) for x in
[t_n, t_{n+1}) is one more step of the same method, from t_n to x, on the history of the
solution: the stages of the steps before t_n are known, so

    y(x) = g(x) + sum_{l<n} h_l sum_j b_j K(x, t_lj, Z_lj)
                + (x - t_n) sum_j b_j K(x, t_n + c_j (x - t_n), Z'_j)

with the stages Z' of the partial step solved as in the method.  Its error is the error at
t_n plus the local error of a step shorter than h: the order of the mesh values (measured:
gauss2-4, radau3, rk4 all equal to the mesh error at 8-32 steps).  Cost per point: the history
sums of one step, O(N m^2) kernel evaluations.

Direct quadrature (trapezoid, Gregory rules) has no stages: y(x) is the equation itself,

    y(x) = g(x) + h sum_j w_nj K(x, t_j, Y_j) + h sum_i a_i(theta) K(x, t_(n+f+i), Y_(n+f+i)),

the rule's own row n over [t0, t_n] and over [t_n, x], theta = (x - t_n) / h, the integral of
the interpolant of K(x, ., y(.)) on the p + 1 mesh points around the step (exact for degree p:
a partial-step error O(h^(p+2)); exact rational weights,
:func:`~integrallimits.quadrature._volterra.partial_step_weights`).  Interpolating y - g with
p nodes instead lost 50 (gregory4) to 1 400 (gregory8) times the mesh error on
y = e^-t, K = e^(s-t) y^2 at N = 8-64; this keeps it within 1.5 times (N = 8-256).  Cost per
point: n + p + 1 kernel evaluations (the block sum of the history).
"""
from __future__ import annotations

import numpy as np

from . import _loops
from ._methods import _kernel_args
from ._outcome import run_guarded
from ..quadrature._volterra import partial_step_weights

__all__ = ["substep_dense_output", "direct_dense_output"]


def substep_dense_output(meth, kernel, g_vec, t, Y, Z, tol, maxiter, args=()):
    """A function ``dense(points) -> (P, d)`` evaluating the solution (mesh ``t``, values ``Y``,
    stages ``Z`` of the VRK method ``meth``) by a partial step from the mesh point before."""
    c, A, b = meth._data
    m = c.shape[0]
    N = len(t) - 1
    history = []            # the stage times and weights of the mesh, made on first use
    unchanged = g_vec.snapshot()       # g is called again: with the values of the solve

    def dense(points):
        if not history:
            h = np.diff(t)
            history.append(np.ascontiguousarray((t[:-1, None] + c[None, :] * h[:, None]).ravel()))
            history.append(np.ascontiguousarray((h[:, None] * b[None, :]).ravel()))
        ts_all, wz_all = history
        explicit = meth.tableau.explicit
        points = np.asarray(points, dtype=float)
        out = np.empty((points.size, Y.shape[1]))
        idx = np.clip(np.searchsorted(t, points, side="right") - 1, 0, N)
        K, jac, have, B, theta = _kernel_args(kernel)
        step = _loops.compiled_loop("vrk-steps")
        floor = _loops.start_floor(Y[0])       # (the solve's Newton floor: _loops.fd_floor)
        counts = _loops.new_counts(5)     # (the vrk loops' counters: not exploring)
        need = [i for i in range(points.size) if points[i] - t[idx[i]] > 0 and idx[i] < N]
        for i in range(points.size):
            out[i] = Y[idx[i]]
        if not need:
            return out
        unchanged()
        G = np.ascontiguousarray(g_vec(np.concatenate(
            [t[idx[i]] + np.append(c, 1.0) * (points[i] - t[idx[i]]) for i in need])))
        Zw = np.empty((N * m + m, Y.shape[1]))
        no_sums = np.empty((0, Y.shape[1] + 2))     # (each point's step sums anew)
        ts = np.empty(N * m + m)
        wz = np.empty(N * m + m)

        def run():
            for k, i in enumerate(need):
                n = idx[i]
                rows = n * m
                Zw[:rows], ts[:rows], wz[:rows] = Z[:rows], ts_all[:rows], wz_all[:rows]
                Gi = G[k * (m + 1):(k + 1) * (m + 1)]
                status = step(K, jac, have, B, theta, t[n], points[i] - t[n], Y[n], Gi, Zw, ts,
                              wz, rows, c, A, b, explicit, tol, maxiter, counts, 1, out[i], out[i],
                              out[i], floor, no_sums)
                if status != _loops.SUCCESS:
                    out[i] = np.nan
        run_guarded(run, args)
        dense.nfev = int(counts[0])     # (this call's kernel evaluations)
        return out

    return dense


def _partial_weights(n_nodes, shifts, theta):
    """(P, n_nodes): the partial-step weights a_i(theta) of each point (nodes from ``shifts``
    steps after the mesh point before it), from their exact coefficients."""
    out = np.empty((theta.size, n_nodes))
    powers = theta[:, None] ** np.arange(1, n_nodes + 1)[None, :]
    for shift in np.unique(shifts).tolist():
        rows = shifts == shift
        coef = np.array(partial_step_weights(n_nodes, shift), dtype=float)    # (i, k)
        out[rows] = powers[rows] @ coef.T
    return out


def direct_dense_output(meth, kernel, g_vec, t, Y, args=()):
    """A function ``dense(points) -> (P, d)`` evaluating the solution of direct quadrature
    (rule ``meth.rule``, uniform mesh ``t``, values ``Y``) by the equation: g, the rule's row
    over whole steps and the partial step by interpolatory quadrature on p + 1 mesh points
    (see the module docstring).  ``dense.error(points)``: the partial step's difference to the
    one on p + 2 points (p on a mesh of p + 1; the rest of the error is that of the mesh values
    before the point), its kernel evaluations ``dense.error.nfev`` (the caller counts them)."""
    start, left, right = meth._data
    N = len(t) - 1
    h = (t[-1] - t[0]) / N
    unchanged = g_vec.snapshot()       # g is called again: with the values of the solve
    d = Y.shape[1]

    def window(points, n_nodes):
        """(rows n, first node, partial weights (P, n_nodes)) of the points."""
        n_nodes = min(n_nodes, N + 1)
        rows = np.clip(np.searchsorted(t, points, side="right") - 1, 0, N - 1)
        first = np.clip(rows - (n_nodes - 1) // 2, 0, N + 1 - n_nodes)
        return rows, first, _partial_weights(n_nodes, first - rows, (points - t[rows]) / h)

    def evaluate(points, rows, first, partial, G, history):
        _, _, _, B, theta = _kernel_args(kernel, implicit=False)
        out = np.empty((points.size, d))
        loop = _loops.compiled_loop("direct-dense")
        run_guarded(lambda: loop(B, theta, points, rows, t, Y, start, left, right, history,
                                 first, np.ascontiguousarray(partial), G, out), args)
        return out

    def off_mesh(points):
        points = np.asarray(points, dtype=float).reshape(-1)
        at = np.clip(np.searchsorted(t, points), 0, N)
        return points, at, t[at] != points

    last = []     # (the points and values of the last call: a check at t_eval, then t_eval)

    def dense(points):
        points, at, off = off_mesh(points)
        dense.nfev = 0      # (this call's kernel evaluations)
        if last and np.array_equal(last[0], points):
            unchanged()
            return last[1].copy()
        out = Y[at]                         # (at the mesh points the mesh values themselves)
        if off.any():
            x = np.ascontiguousarray(points[off])
            unchanged()
            G = np.ascontiguousarray(g_vec(x, keep=False))
            rows, first, partial = window(x, int(meth.order) + 1)
            # (each point's block sum: its row of the rule, or the start block, and the
            # partial step's nodes)
            dense.nfev = int(np.maximum(np.where(rows < start.shape[0], start.shape[0],
                                                 rows + 1), first + partial.shape[1]).sum())
            out[off] = evaluate(x, rows, first, partial, G, True)
            last[:] = [points.copy(), out.copy()]
        return out

    def error(points):
        points, _, off = off_mesh(points)
        out = np.zeros((points.size, d))
        error.nfev = 0      # (this call's kernel evaluations: the partial steps' block sums)
        q = min(int(meth.order) + 1, N + 1)
        if off.any() and q > 1:
            # (the rule on one point more; on a mesh of fewer points, on one point less: the
            # windows are nested either way)
            x = np.ascontiguousarray(points[off])
            rows, first, partial = window(x, q)
            rows, wide, more = window(x, q + 1 if q < N + 1 else q - 1)
            if more.shape[1] < partial.shape[1]:
                first, wide, partial, more = wide, first, more, partial
            more[np.arange(x.size)[:, None], first[:, None] - wide[:, None]
                 + np.arange(partial.shape[1])[None, :]] -= partial
            out[off] = np.abs(evaluate(x, rows, wide, more, np.zeros((x.size, d)), False))
            error.nfev = int((wide + more.shape[1]).sum())
        return out

    dense.error = error
    return dense
