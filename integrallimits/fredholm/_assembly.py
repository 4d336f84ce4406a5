"""Compiled assembly of Nyström sums and matrices.

For nodes s_m with weights w_m (an interval rule) and targets x_p, the
discretised integral operator is

    (A_M y)(x_p) = sum_m w_m K(x_p, s_m, y_m),

and its derivative with respect to the node values is the block matrix
W[p d + a, m d + b] = w_m dK_a/dy_b (x_p, s_m, y_m).  The loops below fill these
sums and matrices.  They take the kernel's Numba first-class functions
(``KERNEL_SIGNATURE``, ``JACOBIAN_SIGNATURE``, ``BLOCK_SIGNATURE``), so each is
compiled once for all kernels (lazily, on first use, and cached on disk).
The dense factorisations are left to LAPACK (:mod:`scipy.linalg.lapack`) in
the callers.  ``stats`` is an int64 array [kernel evaluations, Jacobian
evaluations]: the same counters as the Volterra loops.
"""
from __future__ import annotations

import numpy as np
from .._numba import njit

from .._numba import JIT_OPTIONS, types
from ..kernels._kernel import BLOCK_SIGNATURE, JACOBIAN_SIGNATURE, KERNEL_SIGNATURE

__all__ = ["compiled", "no_jacobian", "NFEV", "NJEV"]

NFEV, NJEV = 0, 1
_FD_STEP = 1.4901161193847656e-08  # sqrt(eps): forward differences balance truncation and rounding


def _jacobian_blocks(K, J, have_jac, theta, x, s, w, Y, W, F, stats):
    """F[p] = sum_m w_m K(x_p, s_m, Y_m) and W = the blocks w_m dK/dy (x_p, s_m, Y_m).

    The derivative is exact if ``have_jac``, else a forward difference in each
    component of Y_m (Y is perturbed in place and restored).
    """
    P = x.shape[0]
    M = s.shape[0]
    d = Y.shape[1]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    for p in range(P):
        for k in range(d):
            F[p, k] = 0.0
        for m in range(M):
            K(x[p], s[m], Y, m, theta, f)
            stats[NFEV] += 1
            for k in range(d):
                F[p, k] += w[m] * f[k]
            stats[NJEV] += 1
            if have_jac:
                J(x[p], s[m], Y, m, theta, Jk)
            else:
                for b in range(d):
                    yb = Y[m, b]
                    step = _FD_STEP * max(1.0, abs(yb))
                    Y[m, b] = yb + step
                    step = Y[m, b] - yb  # the step actually representable
                    K(x[p], s[m], Y, m, theta, work)
                    stats[NFEV] += 1
                    Y[m, b] = yb
                    for a in range(d):
                        Jk[a, b] = (work[a] - f[a]) / step
            for a in range(d):
                for b in range(d):
                    W[p * d + a, m * d + b] = w[m] * Jk[a, b]


def _linear_blocks(K, J, have_jac, affine, theta, x, s, w, W, offset, stats):
    """The matrix and offset of an operator affine in y: sum_m w_m K(x_p, s_m, y_m) = W y + offset.

    Columns come from unit differences K(x, s, e_b) - K(x, s, 0), which are exact
    (up to rounding) for K affine in y, or from the exact Jacobian if there is one.
    ``affine=False`` declares K(x, s, 0) = 0 (a linear kernel k(x, s) y): no offset.
    """
    P = x.shape[0]
    M = s.shape[0]
    d = offset.shape[1]
    E = np.zeros((d + 1, d))       # row 0: y = 0, row 1 + b: y = e_b
    for b in range(d):
        E[1 + b, b] = 1.0
    f0 = np.zeros(d)
    fb = np.empty(d)
    Jk = np.empty((d, d))
    for p in range(P):
        for k in range(d):
            offset[p, k] = 0.0
        for m in range(M):
            if affine or not have_jac:
                K(x[p], s[m], E, 0, theta, f0)
                stats[NFEV] += 1
                if affine:
                    for k in range(d):
                        offset[p, k] += w[m] * f0[k]
            if have_jac:
                J(x[p], s[m], E, 0, theta, Jk)
                stats[NJEV] += 1
                for a in range(d):
                    for b in range(d):
                        W[p * d + a, m * d + b] = w[m] * Jk[a, b]
            else:
                for b in range(d):
                    K(x[p], s[m], E, 1 + b, theta, fb)
                    stats[NFEV] += 1
                    for a in range(d):
                        W[p * d + a, m * d + b] = w[m] * (fb[a] - f0[a])


def _apply(block_sum, theta, x, s, w, Y, out, stats):
    """out[p] = sum_m w_m K(x_p, s_m, Y_m) (the Nyström sum at each target)."""
    P = x.shape[0]
    M = s.shape[0]
    d = Y.shape[1]
    row = np.empty(d)
    for p in range(P):
        block_sum(x[p], s, Y, 0, M, w, theta, row)
        for k in range(d):
            out[p, k] = row[k]
    stats[NFEV] += P * M


_KF = types.FunctionType(KERNEL_SIGNATURE)
_JF = types.FunctionType(JACOBIAN_SIGNATURE)
_BF = types.FunctionType(BLOCK_SIGNATURE)
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I8A = types.int64[::1]
_SIGNATURES = {
    "jacobian-blocks": types.void(_KF, _JF, types.boolean, _A1, _A1, _A1, _A1, _A2, _A2, _A2, _I8A),
    "linear-blocks": types.void(_KF, _JF, types.boolean, types.boolean, _A1, _A1, _A1, _A1, _A2, _A2,
                                _I8A),
    "apply": types.void(_BF, _A1, _A1, _A1, _A1, _A2, _A2, _I8A),
}
_PYFUNCS = {"jacobian-blocks": _jacobian_blocks, "linear-blocks": _linear_blocks, "apply": _apply}
_COMPILED = {}
_PLACEHOLDER = []


def compiled(name):
    """The compiled loop ``name`` (a key of ``_SIGNATURES``), compiled or loaded on first use."""
    loop = _COMPILED.get(name)
    if loop is None:
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        loop = njit(_SIGNATURES[name], **options)(_PYFUNCS[name])
        _COMPILED[name] = loop
    return loop


def no_jacobian():
    """A placeholder Jacobian (never called: ``have_jac`` is False)."""
    if not _PLACEHOLDER:
        @njit(JACOBIAN_SIGNATURE, cache=True)
        def placeholder(t, s, Y, j, theta, Jout):
            Jout[:, :] = np.nan

        _PLACEHOLDER.append(placeholder)
    return _PLACEHOLDER[0]
