"""Compiled loops of the Volterra solvers: one loop per method family.

The loops are plain Python functions compiled lazily (on first use) with explicit
signatures whose kernel arguments are Numba first-class functions
(``KERNEL_SIGNATURE``).  So each loop is compiled once for every kernel, and
cached on disk: a new user kernel costs only the compilation of its own body.

Conventions: states are C-contiguous (M, d) float64 arrays; ``stats`` is an
int64 array [kernel evaluations, Jacobian evaluations, Newton iterations,
Newton solves]; every loop returns (status, index) with status 0 (success),
1 (a Newton solve failed at mesh index ``index``) or 2 (a non-finite value at
``index``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._numba import JIT_OPTIONS, types
from ..kernels._kernel import JacobianFunction, KernelFunction

NFEV, NJEV, NIT, NSOLVE = 0, 1, 2, 3
SUCCESS, NEWTON_FAILED, NOT_FINITE = 0, 1, 2

_helper = njit(cache=True, nogil=True, error_model="numpy")


@_helper
def _all_finite(x):
    for v in x.flat:
        if not np.isfinite(v):
            return False
    return True


@_helper
def _kernel_jacobian(K, J, have_jac, t, s, Y, j, Jout, f0, work, stats):
    """dK/dy at (t, s, Y[j]) into Jout: exact if given, else forward differences.

    ``f0`` must hold K(t, s, Y[j]) when differences are used; Y[j] is restored.
    """
    d = Y.shape[1]
    stats[NJEV] += 1
    if have_jac:
        J(t, s, Y, j, Jout)
        return
    for b in range(d):
        yb = Y[j, b]
        step = 1.4901161193847656e-08 * max(1.0, abs(yb))
        Y[j, b] = yb + step
        step = Y[j, b] - yb  # the step actually representable
        K(t, s, Y, j, work)
        stats[NFEV] += 1
        Y[j, b] = yb
        for a in range(d):
            Jout[a, b] = (work[a] - f0[a]) / step


def _direct_loop(K, J, have_jac, t, G, Y, start, left, right, tol, maxiter, stats):
    """Direct quadrature y_n = g_n + h sum_{j<=n} w_nj K(t_n, t_j, y_j) on a uniform mesh.

    Rows n < S (S = start.shape[0]) form one coupled system over Y[1..S-1];
    rows n >= S use w_nj = 1 + left[j] + right[n - j].
    """
    N = t.shape[0] - 1
    d = Y.shape[1]
    h = (t[N] - t[0]) / N
    S = start.shape[0]
    nl = left.shape[0]
    nr = right.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    for k in range(d):
        Y[0, k] = G[0, k]

    # -- the starting block: Newton on the (S-1) d unknowns Y[1..S-1] together
    if S > 1:
        m = (S - 1) * d
        F = np.empty(m)
        JF = np.empty((m, m))
        for n in range(1, S):
            for k in range(d):
                Y[n, k] = Y[0, k]
        converged = False
        stats[NSOLVE] += 1
        for it in range(maxiter):
            stats[NIT] += 1
            for r in range(m):
                F[r] = 0.0
                for c in range(m):
                    JF[r, c] = 1.0 if r == c else 0.0
            for n in range(1, S):
                for k in range(d):
                    F[(n - 1) * d + k] = Y[n, k] - G[n, k]
                for j in range(S):
                    w = h * start[n, j]
                    if w == 0.0:
                        continue
                    K(t[n], t[j], Y, j, f)
                    stats[NFEV] += 1
                    for k in range(d):
                        F[(n - 1) * d + k] -= w * f[k]
                    if j > 0:
                        _kernel_jacobian(K, J, have_jac, t[n], t[j], Y, j, Jk, f, work, stats)
                        for a in range(d):
                            for b in range(d):
                                JF[(n - 1) * d + a, (j - 1) * d + b] -= w * Jk[a, b]
            if not _all_finite(F) or not _all_finite(JF):
                return NOT_FINITE, 1
            delta = np.linalg.solve(JF, F)
            size = 0.0
            scale = 1.0
            for n in range(1, S):
                for k in range(d):
                    Y[n, k] -= delta[(n - 1) * d + k]
                    size = max(size, abs(delta[(n - 1) * d + k]))
                    scale = max(scale, abs(Y[n, k]))
            if not np.isfinite(size):
                return NEWTON_FAILED, 1
            if size <= tol * scale:
                converged = True
                break
        if not converged:
            return NEWTON_FAILED, 1

    # -- the remaining steps, one at a time
    hist = np.empty(d)
    calls = 0
    for n in range(S, N + 1):
        for k in range(d):
            hist[k] = 0.0
        for j in range(n):
            w = 1.0
            if j < nl:
                w += left[j]
            if n - j < nr:
                w += right[n - j]
            if w == 0.0:
                continue
            K(t[n], t[j], Y, j, f)
            calls += 1
            for k in range(d):
                hist[k] += w * f[k]
        for k in range(d):
            hist[k] = G[n, k] + h * hist[k]
        wd = 1.0
        if nr > 0:
            wd += right[0]
        if n < nl:
            wd += left[n]
        if wd == 0.0:
            for k in range(d):
                Y[n, k] = hist[k]
        else:
            for k in range(d):
                Y[n, k] = Y[n - 1, k]
            if not _newton_point(K, J, have_jac, t[n], hist, h * wd, Y, n, tol, maxiter,
                                 f, work, Jk, stats):
                stats[NFEV] += calls
                return NEWTON_FAILED, n
        for k in range(d):
            if not np.isfinite(Y[n, k]):
                stats[NFEV] += calls
                return NOT_FINITE, n
    stats[NFEV] += calls
    return SUCCESS, N


@_helper
def _newton_point(K, J, have_jac, t, c, hw, Y, n, tol, maxiter, f, work, Jk, stats):
    """Solve Y[n] = c + hw K(t, t, Y[n]) by Newton from the value in Y[n]."""
    d = Y.shape[1]
    F = np.empty(d)
    stats[NSOLVE] += 1
    for it in range(maxiter):
        stats[NIT] += 1
        K(t, t, Y, n, f)
        stats[NFEV] += 1
        for k in range(d):
            F[k] = Y[n, k] - c[k] - hw * f[k]
        _kernel_jacobian(K, J, have_jac, t, t, Y, n, Jk, f, work, stats)
        for a in range(d):
            for b in range(d):
                Jk[a, b] = (1.0 if a == b else 0.0) - hw * Jk[a, b]
        if not _all_finite(F) or not _all_finite(Jk):
            return False
        if d == 1:
            if Jk[0, 0] == 0.0:
                return False
            work[0] = F[0] / Jk[0, 0]
        else:
            work[:] = np.linalg.solve(Jk, F)
        size = 0.0
        scale = 1.0
        for k in range(d):
            Y[n, k] -= work[k]
            size = max(size, abs(work[k]))
            scale = max(scale, abs(Y[n, k]))
        if not np.isfinite(size):
            return False
        if size <= tol * scale:
            return True
    return False


def _vrk_loop(K, J, have_jac, t, G, Gs, Y, Z, c, A, b, explicit, tol, maxiter, stats):
    """Volterra Runge-Kutta (Pouzet type) with tableau (c, A, b) on the mesh t.

    Step n, interval [t_n, t_{n+1}] of length h_n, stage times t_ni = t_n + c_i h_n:
        lag(x) = sum_{l<n} h_l sum_j b_j K(x, t_lj, Z_lj)
        Z_ni = g(t_ni) + lag(t_ni) + h_n sum_j a_ij K(t_ni, t_nj, Z_nj)
        y_{n+1} = g(t_{n+1}) + lag(t_{n+1}) + h_n sum_j b_j K(t_{n+1}, t_nj, Z_nj)
    ``Gs`` holds g at the stage times (row n m + i), ``Z`` receives the stages.
    """
    N = t.shape[0] - 1
    d = Y.shape[1]
    m = c.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    md = m * d
    F = np.empty(md)
    JF = np.empty((md, md))
    for k in range(d):
        Y[0, k] = G[0, k]
    for n in range(N):
        h = t[n + 1] - t[n]
        # the lag terms (history) at the m stage times of this interval
        for i in range(m):
            ti = t[n] + c[i] * h
            for k in range(d):
                C[i, k] = Gs[n * m + i, k]
            for l in range(n):
                hl = t[l + 1] - t[l]
                for j in range(m):
                    K(ti, t[l] + c[j] * hl, Z, l * m + j, f)
                    for k in range(d):
                        C[i, k] += hl * b[j] * f[k]
            stats[NFEV] += n * m
        # the stages
        for i in range(m):
            for k in range(d):
                Z[n * m + i, k] = Y[n, k]
        if explicit:
            for i in range(m):
                ti = t[n] + c[i] * h
                for k in range(d):
                    Z[n * m + i, k] = C[i, k]
                for j in range(i):
                    if A[i, j] != 0.0:
                        K(ti, t[n] + c[j] * h, Z, n * m + j, f)
                        stats[NFEV] += 1
                        for k in range(d):
                            Z[n * m + i, k] += h * A[i, j] * f[k]
        else:
            converged = False
            stats[NSOLVE] += 1
            for it in range(maxiter):
                stats[NIT] += 1
                for i in range(m):
                    for k in range(d):
                        F[i * d + k] = Z[n * m + i, k] - C[i, k]
                for r in range(md):
                    for q in range(md):
                        JF[r, q] = 1.0 if r == q else 0.0
                for i in range(m):
                    ti = t[n] + c[i] * h
                    for j in range(m):
                        if A[i, j] == 0.0:
                            continue
                        tj = t[n] + c[j] * h
                        K(ti, tj, Z, n * m + j, f)
                        stats[NFEV] += 1
                        for k in range(d):
                            F[i * d + k] -= h * A[i, j] * f[k]
                        _kernel_jacobian(K, J, have_jac, ti, tj, Z, n * m + j, Jk, f, work, stats)
                        for a in range(d):
                            for q in range(d):
                                JF[i * d + a, j * d + q] -= h * A[i, j] * Jk[a, q]
                if not _all_finite(F) or not _all_finite(JF):
                    return NEWTON_FAILED, n + 1
                delta = np.linalg.solve(JF, F)
                size = 0.0
                scale = 1.0
                for i in range(m):
                    for k in range(d):
                        Z[n * m + i, k] -= delta[i * d + k]
                        size = max(size, abs(delta[i * d + k]))
                        scale = max(scale, abs(Z[n * m + i, k]))
                if not np.isfinite(size):
                    return NEWTON_FAILED, n + 1
                if size <= tol * scale:
                    converged = True
                    break
            if not converged:
                return NEWTON_FAILED, n + 1
        # the iterated value at t_{n+1}
        for k in range(d):
            Y[n + 1, k] = G[n + 1, k]
        for l in range(n + 1):
            hl = t[l + 1] - t[l]
            for j in range(m):
                K(t[n + 1], t[l] + c[j] * hl, Z, l * m + j, f)
                for k in range(d):
                    Y[n + 1, k] += hl * b[j] * f[k]
        stats[NFEV] += (n + 1) * m
        for k in range(d):
            if not np.isfinite(Y[n + 1, k]):
                return NOT_FINITE, n + 1
    return SUCCESS, N


# -- lazy compilation with fixed signatures --------------------------------------------------

_f8 = types.float64
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I8A = types.int64[::1]
_RET = types.UniTuple(types.int64, 2)

_SIGNATURES = {
    "direct": _RET(KernelFunction, JacobianFunction, types.boolean, _A1, _A2, _A2, _A2, _A1, _A1,
                   _f8, types.int64, _I8A),
    "vrk": _RET(KernelFunction, JacobianFunction, types.boolean, _A1, _A2, _A2, _A2, _A2, _A1, _A2,
                _A1, types.boolean, _f8, types.int64, _I8A),
}
_PYFUNCS = {"direct": _direct_loop, "vrk": _vrk_loop}
_COMPILED = {}


def compiled_loop(name):
    """The compiled loop ``name`` ("direct" or "vrk"), compiled (or loaded) on first use."""
    loop = _COMPILED.get(name)
    if loop is None:
        loop = njit(_SIGNATURES[name], **{k: v for k, v in JIT_OPTIONS.items() if k != "nopython"})(
            _PYFUNCS[name])
        _COMPILED[name] = loop
    return loop


_NO_JACOBIAN = None


def no_jacobian():
    """A placeholder Jacobian function (never called: ``have_jac`` is False)."""
    global _NO_JACOBIAN
    if _NO_JACOBIAN is None:
        from ..kernels._kernel import JACOBIAN_SIGNATURE

        @njit(JACOBIAN_SIGNATURE, cache=True)
        def _placeholder(t, s, Y, j, Jout):
            Jout[:, :] = np.nan

        _NO_JACOBIAN = _placeholder
    return _NO_JACOBIAN
