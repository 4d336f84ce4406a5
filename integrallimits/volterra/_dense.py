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
"""
from __future__ import annotations

import numpy as np

from . import _loops
from ._methods import _kernel_args
from ._outcome import run_guarded

__all__ = ["substep_dense_output"]


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
                              out[i], floor)
                if status != _loops.SUCCESS:
                    out[i] = np.nan
        run_guarded(run, args)
        return out

    return dense
