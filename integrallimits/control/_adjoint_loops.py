"""Compiled backward loops: the exact transpose of the direct-quadrature and Volterra
Runge-Kutta (collocation) schemes.  The direct-quadrature one:

Forward (rows n >= S; rows 1..S-1 a starting block with weights start[n, j], j < S):

    F_n(Y) = y_n - g_n - h sum_j w_nj K(t_n, t_j, y_j; theta) = 0.

The adjoint mu solves (dF/dY)^T mu = dPhi/dY, i.e. backwards in j,

    (I - h w_jj K_y(t_j, t_j, y_j))^T mu_j = dPhi/dy_j + h sum_{n != j} w_nj K_y(t_n, t_j, y_j)^T mu_n,

(the starting block's mu_1..mu_{S-1} together), and the gradient is

    dJ/dtheta = sum_n sum_j h w_nj K_theta(t_n, t_j, y_j)^T mu_n,   dJ/dg_n = mu_n.

All products go through the kernel's ``vjp`` (no d x d Jacobian is formed except for
the implicit diagonal solves).
"""
from __future__ import annotations

import numpy as np
from .._numba import njit

from .._linalg import solve_inplace
from .._numba import JIT_OPTIONS, types
from ..kernels._kernel import VjpFunction, function_at
from ..volterra._loops import (NEWTON_FAILED, SUCCESS, _jacobian_at, _jacobian_p, _kernel_at,
                              _stage_grid, _weight, fd_floor)

_vjp_at = function_at(VjpFunction)

_helper = njit(cache=True, nogil=True, error_model="numpy")


@_helper
def _diag_solve(K, J, have_jac, theta, t, Y, j, hw, r, mu, stats):
    """mu_j = (I - hw K_y(t_j, t_j, y_j))^{-T} r_j; False if singular."""
    d = Y.shape[1]
    if hw == 0.0:
        for k in range(d):
            mu[j, k] = r[j, k]
        return True
    Jm = np.empty((d, d))
    f0 = np.empty(d)
    work = np.empty(d)
    K(t[j], t[j], Y, j, theta, f0)
    _jacobian_p(K, J, have_jac, t[j], t[j], Y, j, theta, Jm, f0, work, stats, fd_floor(Y[0]))
    A = np.empty((d, d))
    for a in range(d):
        for b in range(d):
            A[a, b] = (1.0 if a == b else 0.0) - hw * Jm[b, a]  # the transpose
    x = r[j].copy()
    if not solve_inplace(A, x):
        return False
    for k in range(d):
        mu[j, k] = x[k]
    return True


def _direct_adjoint(K_at, J_at, have_jac, V_at, theta, t, Y, start, left, right, autonomous, dphi,
                    mu, gtheta, stats):
    """Backward pass of the direct loop (see the module docstring).  Returns (status, index)."""
    K, J, V = _kernel_at(K_at), _jacobian_at(J_at), _vjp_at(V_at)
    N = t.shape[0] - 1
    D = Y.shape[1]
    h = (t[N] - t[0]) / N
    S = start.shape[0]
    nl = left.shape[0]
    nr = right.shape[0]
    r = dphi.copy()
    sink = np.zeros(D)
    if autonomous and S == 1:
        # K(t_n, t_j, y_j) = K(t_j, y_j): sum_{n > j} w_nj mu_n = (1 + left[j]) suffix + corrections
        suffix = np.zeros(D)
        c = np.empty(D)
        for j in range(N, -1, -1):
            coef = 1.0 + (left[j] if j < nl else 0.0)
            for k in range(D):
                c[k] = coef * suffix[k]
            for i in range(1, nr):
                if j + i <= N:
                    for k in range(D):
                        c[k] += right[i] * mu[j + i, k]
            V(t[j], t[j], Y, j, theta, c, h, r[j], gtheta)
            stats[0] += 1
            if j == 0:
                for k in range(D):
                    mu[0, k] = r[0, k]
            else:
                hw = h * (1.0 + (right[0] if nr > 0 else 0.0) + (left[j] if j < nl else 0.0))
                if not _diag_solve(K, J, have_jac, theta, t, Y, j, hw, r, mu, stats):
                    return NEWTON_FAILED, j
                if hw != 0.0:
                    V(t[j], t[j], Y, j, theta, mu[j], hw, sink, gtheta)
            for k in range(D):
                suffix[k] += mu[j, k]
        return SUCCESS, 0
    # general kernels: every pair (n, j), n > j
    for j in range(N, S - 1, -1):
        for n in range(j + 1, N + 1):
            w = _weight(n, j, left, right)
            if w != 0.0:
                V(t[n], t[j], Y, j, theta, mu[n], h * w, r[j], gtheta)
        stats[0] += N - j
        hw = h * _weight(j, j, left, right)
        if not _diag_solve(K, J, have_jac, theta, t, Y, j, hw, r, mu, stats):
            return NEWTON_FAILED, j
        if hw != 0.0:
            V(t[j], t[j], Y, j, theta, mu[j], hw, sink, gtheta)
    # rows n >= S reading the starting nodes j < S
    for j in range(S - 1, -1, -1):
        for n in range(S, N + 1):
            w = _weight(n, j, left, right)
            if w != 0.0:
                V(t[n], t[j], Y, j, theta, mu[n], h * w, r[j], gtheta)
    if S > 1:
        # the starting block: mu_j - sum_{n<S} h start[n, j] K_y(t_n, t_j, y_j)^T mu_n = r_j
        m = (S - 1) * D
        A = np.zeros((m, m))
        rhs = np.empty(m)
        Jm = np.empty((D, D))
        f0 = np.empty(D)
        work = np.empty(D)
        for j in range(1, S):
            for k in range(D):
                rhs[(j - 1) * D + k] = r[j, k]
                A[(j - 1) * D + k, (j - 1) * D + k] += 1.0
            for n in range(1, S):
                w = h * start[n, j]
                if w == 0.0:
                    continue
                K(t[n], t[j], Y, j, theta, f0)
                _jacobian_p(K, J, have_jac, t[n], t[j], Y, j, theta, Jm, f0, work, stats,
                            fd_floor(Y[0]))
                for a in range(D):
                    for b in range(D):
                        A[(j - 1) * D + b, (n - 1) * D + a] -= w * Jm[a, b]
        if not solve_inplace(A, rhs):
            return NEWTON_FAILED, 1
        for j in range(1, S):
            for k in range(D):
                mu[j, k] = rhs[(j - 1) * D + k]
        for n in range(1, S):
            for j in range(S):
                w = h * start[n, j]
                if w != 0.0:
                    V(t[n], t[j], Y, j, theta, mu[n], w, r[j] if j == 0 else sink, gtheta)
    for k in range(D):
        mu[0, k] = r[0, k]
    return SUCCESS, 0


def _vrk_adjoint(K_at, J_at, have_jac, V_at, theta, t, Z, c, A, b, dphi, nu, gtheta, stats,
                 floor):
    """Backward pass of the Volterra Runge-Kutta loop (``volterra._loops._vrk_loop``);
    ``floor`` is the forward solve's finite-difference floor, ``fd_floor`` of y(t0) (the stages
    hold no y(t0)).

    Forward, with stage rows q = l m + j at times s_q = t_l + c_j h_l and lag weights
    w_q = h_l b_j::

        Z_ni    = Gs_ni + sum_{q < n m} w_q K(t_ni, s_q, Z_q) + h_n sum_j a_ij K(t_ni, t_nj, Z_nj)
        y_{n+1} = G_{n+1} + sum_{q < (n+1) m} w_q K(t_{n+1}, s_q, Z_q).

    The mesh values feed nothing, so dPhi/dG_n = dPhi/dy_n; the stage multipliers nu
    (= dPhi/dGs) solve, interval by interval backwards, the transposed m d x m d system

        nu_li - sum_i' h_l a_i'i K_y(t_li', t_li, Z_li)^T nu_li' = r_li,

    r_q collecting w_q K_y(x, s_q, Z_q)^T times the multiplier of every later row x.
    """
    K, J, V = _kernel_at(K_at), _jacobian_at(J_at), _vjp_at(V_at)
    N = t.shape[0] - 1
    D = Z.shape[1]
    m = c.shape[0]
    md = m * D
    ts, wz = _stage_grid(t, c, b)
    r = np.zeros((N * m, D))
    sink = np.zeros(D)
    # the mesh rows y_{n+1} read every earlier stage with the lag weights
    for n in range(N):
        if np.any(dphi[n + 1] != 0.0):
            for q in range((n + 1) * m):
                V(t[n + 1], ts[q], Z, q, theta, dphi[n + 1], wz[q], r[q], gtheta)
            stats[0] += (n + 1) * m
    M = np.empty((md, md))
    x = np.empty(md)
    Jm = np.empty((D, D))
    f0 = np.empty(D)
    work = np.empty(D)
    for l in range(N - 1, -1, -1):
        hl = t[l + 1] - t[l]
        r0 = l * m
        for p in range(md):
            for q in range(md):
                M[p, q] = 1.0 if p == q else 0.0
        for i in range(m):           # column block i: the stage Z_li being read
            for ip in range(m):      # row i' of the tableau: the stage equation reading it
                w = hl * A[ip, i]
                if w == 0.0:
                    continue
                K(ts[r0 + ip], ts[r0 + i], Z, r0 + i, theta, f0)
                _jacobian_p(K, J, have_jac, ts[r0 + ip], ts[r0 + i], Z, r0 + i, theta, Jm, f0, work,
                            stats, floor)
                for a in range(D):
                    for bb in range(D):
                        M[i * D + bb, ip * D + a] -= w * Jm[a, bb]
        for i in range(m):
            for k in range(D):
                x[i * D + k] = r[r0 + i, k]
        if not solve_inplace(M, x):
            return NEWTON_FAILED, l + 1
        for i in range(m):
            for k in range(D):
                nu[r0 + i, k] = x[i * D + k]
        # theta-part of the interval's own stage couplings (their y-part is in the solve)
        for i in range(m):
            for ip in range(m):
                w = hl * A[ip, i]
                if w != 0.0:
                    V(ts[r0 + ip], ts[r0 + i], Z, r0 + i, theta, nu[r0 + ip], w, sink, gtheta)
                    stats[0] += 1
        # the interval's stages read every earlier stage through the lag
        for ip in range(m):
            for q in range(r0):
                V(ts[r0 + ip], ts[q], Z, q, theta, nu[r0 + ip], wz[q], r[q], gtheta)
        stats[0] += m * r0
    return SUCCESS, 0


_f8 = types.float64
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I = types.int64   # (the functions' addresses: a function argument cost ~7.5 us a call)
_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _A1, _A1, _A2, _A2, _A1, _A1, types.boolean, _A2, _A2, _A1,
    types.int64[::1])
_VRK_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _A1, _A1, _A2, _A1, _A2, _A1, _A2, _A2, _A1, types.int64[::1],
    _f8)
_LOOPS = {"direct": (_direct_adjoint, _SIGNATURE), "vrk": (_vrk_adjoint, _VRK_SIGNATURE)}
_COMPILED = {}


def compiled_adjoint(family="direct"):
    """The compiled backward loop of a method family, "direct" or "vrk" (compiled or loaded
    from the cache on first use)."""
    if family not in _COMPILED:
        function, signature = _LOOPS[family]
        _COMPILED[family] = njit(signature, **{k: v for k, v in JIT_OPTIONS.items()
                                               if k != "nopython"})(function)
    return _COMPILED[family]
