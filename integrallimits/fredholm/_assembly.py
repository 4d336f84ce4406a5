"""Compiled assembly of Nyström sums and matrices.

For nodes s_m with weights w_m (an interval rule) and targets x_p, the
discretised integral operator is

    (A_M y)(x_p) = sum_m w_m K(x_p, s_m, y_m),

and its derivative with respect to the node values is the block matrix
W[p d + a, m d + b] = w_m dK_a/dy_b (x_p, s_m, y_m).  The loops below fill these
sums and matrices.  They take the kernel's Numba first-class functions
(``KERNEL_SIGNATURE``, ``JACOBIAN_SIGNATURE``, ``BLOCK_SIGNATURE``) as the int64 addresses
cached in ``Kernel.addresses`` and turn them back into functions inside (as the Volterra
loops do: a function argument is unboxed with two Python calls, ~7.5 us, on every call),
so each loop is compiled once for all kernels (lazily, on first use, and cached on disk).
For a scalar K written with NumPy, :func:`grid_values` takes the kernel's values on
the whole grid from one call of the user's function instead (checked against the
compiled K): Newton's model for a separable K, the matrix of a linear one.  The dense
factorisations are LAPACK's (SciPy's dgetrf, dgetrs), called from the compiled loops by
address, and the condition estimate is dgecon's algorithm on their factors (:func:`_inverse_norm`,
dgecon itself where that meets an overflow): the direct solve and each Newton iteration are one
compiled call.  ``stats`` is an
int64 array [kernel evaluations, Jacobian evaluations] and, in a solve's (:func:`new_counts`),
the stop request: the same counters as the Volterra loops.  The long loops (the matrices, one
row at a time; the Newton loops, one iteration at a time) return early once the stop request
is set (Ctrl-C: :mod:`integrallimits.volterra._interrupt`), and :func:`raise_if_stopped`
raises KeyboardInterrupt after them.  LAPACK's factorisation of a large matrix is one call,
which runs to its end (dgetrf on 4096 unknowns: 3.5 s on 2 shared cores).
"""
from __future__ import annotations

import math
from types import FunctionType

import numpy as np
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic

from .._numba import JIT_OPTIONS, njit, types
from ..kernels._kernel import as_floats_quietly
from ..volterra._loops import (_block_at, _jacobian_at, _kernel_at, new_counts as _new_counts,
                               no_jacobian, size_floor)

__all__ = ["compiled", "addresses", "pointwise_values", "grid_values", "nystrom_sums", "NFEV",
           "NJEV", "new_counts", "raise_if_stopped"]

NFEV, NJEV, STOP = 0, 1, 2
_FD_STEP = 1.4901161193847656e-08  # sqrt(eps): forward differences balance truncation and rounding


@njit(inline="always", error_model="numpy", nogil=True)
def _fd_floor(Y):
    """The floor of the forward-difference steps _FD_STEP max(|y|, floor): the size of the
    values Y (the power of 2 nearest their largest |y|) where that is below 1, else 1 (also
    where Y is 0), as the Volterra loops' ``fd_floor``.  With the
    floor 1, a solution of size 1e-30 with a kernel nonlinear at that scale (y^2 / 1e-30) got
    a step 1e22 times y and a Jacobian 1e22 times too large (the Newton matrix "singular")."""
    m = 0.0
    for v in Y.flat:
        a = abs(v)
        m = a if a > m else m
    return size_floor(m)


def new_counts():
    """The counters of a solve: [kernel evaluations, Jacobian evaluations, stop request],
    registered for Ctrl-C (:func:`integrallimits.volterra._loops.new_counts`)."""
    return _new_counts(2)


@njit(inline="always", error_model="numpy", nogil=True)
def _stopped(stats):
    """Whether the stop request of ``stats`` is set (Ctrl-C; arrays of the two counters alone,
    as a caller outside a solve passes, have none)."""
    return stats.shape[0] > STOP and stats[STOP] != 0


def raise_if_stopped(counts):
    """KeyboardInterrupt if the stop request of ``counts`` is set: a loop returned early, and
    its results are not to be used."""
    if counts.shape[0] > STOP and counts[STOP]:
        raise KeyboardInterrupt


def _jacobian_blocks(K_at, J_at, have_jac, theta, x, s, w, Y, W, F, stats):
    """F[p] = sum_m w_m K(x_p, s_m, Y_m) and W = the blocks w_m dK/dy (x_p, s_m, Y_m).

    The derivative is exact if ``have_jac``, else a forward difference in each
    component of Y_m (Y is perturbed in place and restored).
    """
    K, J = _kernel_at(K_at), _jacobian_at(J_at)
    P = x.shape[0]
    M = s.shape[0]
    d = Y.shape[1]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    floor = 1.0 if have_jac else _fd_floor(Y)
    for p in range(P):
        if _stopped(stats):
            return
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
                    step = _FD_STEP * max(floor, abs(yb))
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


def _linear_blocks(K_at, J_at, have_jac, affine, theta, x, s, w, W, offset, stats):
    """The matrix and offset of an operator affine in y: sum_m w_m K(x_p, s_m, y_m) = W y + offset.

    Columns come from unit differences K(x, s, e_b) - K(x, s, 0), which are exact
    (up to rounding) for K affine in y, or from the exact Jacobian if there is one.
    ``affine=False`` declares K(x, s, 0) = 0 (a linear kernel k(x, s) y): no offset.
    """
    K, J = _kernel_at(K_at), _jacobian_at(J_at)
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
        if _stopped(stats):
            return
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


def _values(K_at, theta, x, s, Y, out, stats):
    """out[p, m] = K(x_p, s_m, Y_m) for scalar y (the matrix of kernel values, no weights)."""
    K = _kernel_at(K_at)
    f = np.empty(1)
    for p in range(x.shape[0]):
        if _stopped(stats):
            return
        for m in range(s.shape[0]):
            K(x[p], s[m], Y, m, theta, f)
            out[p, m] = f[0]
        stats[NFEV] += s.shape[0]


def _pointwise(K_at, J_at, have_jac, theta, x, s, Y, F, D, stats):
    """F[i] = K(x_i, s_i, Y_i) and D[i] = dK/dy (x_i, s_i, Y_i) (flattened d x d; forward
    differences without ``have_jac``; D is not touched if it has no rows)."""
    K, J = _kernel_at(K_at), _jacobian_at(J_at)
    d = Y.shape[1]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    floor = 1.0 if have_jac else _fd_floor(Y)
    for i in range(x.shape[0]):
        K(x[i], s[i], Y, i, theta, f)
        stats[NFEV] += 1
        for a in range(d):
            F[i, a] = f[a]
        if D.shape[0] == 0:
            continue
        stats[NJEV] += 1
        if have_jac:
            J(x[i], s[i], Y, i, theta, Jk)
        else:
            for b in range(d):
                yb = Y[i, b]
                step = _FD_STEP * max(floor, abs(yb))
                Y[i, b] = yb + step
                step = Y[i, b] - yb
                K(x[i], s[i], Y, i, theta, work)
                stats[NFEV] += 1
                Y[i, b] = yb
                for a in range(d):
                    Jk[a, b] = (work[a] - f[a]) / step
        for a in range(d):
            for b in range(d):
                D[i, a * d + b] = Jk[a, b]


def _apply(block_at, theta, x, s, w, Y, out, stats):
    """out[p] = sum_m w_m K(x_p, s_m, Y_m) (the Nyström sum at each target; returns early
    once the stop request is set, checked once a target)."""
    block_sum = _block_at(block_at)
    P = x.shape[0]
    M = s.shape[0]
    d = Y.shape[1]
    row = np.empty(d)
    for p in range(P):
        if _stopped(stats):
            return
        block_sum(x[p], s, Y, 0, M, w, theta, row)
        for k in range(d):
            out[p, k] = row[k]
        stats[NFEV] += M


def _system_matrix(A, w):
    """A := I - A diag(w) in place (the Nyström matrix of a linear kernel from the values of
    its coefficient); returns ||A||_1, NaN if A is not finite."""
    M = A.shape[0]
    colsum = np.zeros(M)
    finite = True
    for i in range(M):
        for m in range(M):
            a = -A[i, m] * w[m]
            if i == m:
                a += 1.0
            A[i, m] = a
            colsum[m] += abs(a)
    for m in range(M):
        if not np.isfinite(colsum[m]):
            finite = False
    return colsum.max() if finite else np.nan


def _estimate(Y, values, radius, divisor, floor_scale, est):
    """The error estimate of a Fredholm solve from its companion's interpolant (see
    :func:`~._control.with_estimate`), in one pass: est[m, c] := the largest |Y - values| over
    node m and the ``radius`` nodes on either side of it (``_control._neighbour_envelope``),
    divided by ``divisor``, and at least ``floor_scale`` times the largest |Y[:, c]| (no floor
    where ``floor_scale`` < 0: ``_control._rounding_floor``'s 0).  NaN propagates as in NumPy's
    maximum and max.  Returns (the largest est, NaN if any is; the largest finite one, -inf if
    none; the number of finite ones)."""
    M, d = Y.shape
    diff = np.empty((M, d))
    floor = np.zeros(d)
    for c in range(d):
        top = 0.0
        for m in range(M):
            diff[m, c] = abs(Y[m, c] - values[m, c])
            a = abs(Y[m, c])
            if a > top or a != a:
                top = a if top == top else top
        if floor_scale >= 0.0:
            floor[c] = floor_scale * top
    largest, finite_top, finite = -np.inf, -np.inf, 0
    nan = False
    for m in range(M):
        for c in range(d):
            e = 0.0
            for k in range(max(m - radius, 0), min(m + radius + 1, M)):
                v = diff[k, c]
                if v > e or v != v:
                    e = v if e == e else e
            e = e / divisor
            f = floor[c]
            if f > e or f != f:
                e = f if e == e else e
            est[m, c] = e
            if e != e:
                nan = True
            elif e > largest:
                largest = e
            if np.isfinite(e):
                finite += 1
                if e > finite_top:
                    finite_top = e
    return (np.nan if nan else largest), finite_top, float(finite)


def _largest_abs(A):
    """max |A| over the entries of the non-empty A, NaN if one is NaN (NumPy's
    ``float(np.abs(A).max())``, without its two passes and temporary: ~1.5 us at small M)."""
    top = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            a = abs(A[i, j])
            if a != a:
                return np.nan
            if a > top:
                top = a
    return top


def _resolved(T, F, y, share):
    """Whether the coefficients T F2^T (T: the (h, M) matrix of
    ``_solve._upper_legendre``, F2 the rows of ``F`` (R, M), each times ``y`` (M,) where ``y``
    is not empty) are within ``share`` of F2's size: not max |T F2^T| > share max |F2|, NaN
    propagating through both maxima as NumPy's (a NaN passes), in one pass (the NumPy
    product, two absolute values and maxima cost ~4 us at M = 32; the coefficients are the
    same sums in another order)."""
    R, M = F.shape
    scaled = y.shape[0] > 0
    F2 = np.empty((R, M))
    size = 0.0
    for r in range(R):
        for m in range(M):
            v = F[r, m] * y[m] if scaled else F[r, m]
            F2[r, m] = v
            a = abs(v)
            if a > size or a != a:
                size = a if size == size else size
    top = 0.0
    for k in range(T.shape[0]):
        for r in range(R):
            c = 0.0
            for m in range(M):
                c += T[k, m] * F2[r, m]
            a = abs(c)
            if a > top or a != a:
                top = a if top == top else top
    return not top > share * size


@njit(inline="always")
def _dot(a, b):
    """sum_m a_m b_m with four partial sums (one running sum waits for each addition)."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    m = 0
    while m + 4 <= n:
        s0 += a[m] * b[m]
        s1 += a[m + 1] * b[m + 1]
        s2 += a[m + 2] * b[m + 2]
        s3 += a[m + 3] * b[m + 3]
        m += 4
    while m < n:
        s0 += a[m] * b[m]
        m += 1
    return (s0 + s1) + (s2 + s3)


def _separable_model(V, w, x, C, xq, Vq):
    """The model of a separable K from its values V[p, m] = K(x_p, s_m, r_m) (see
    :func:`~._solve._solve_newton_separable`): C = V diag(w), and for each column m the row
    q where |V[q, m]| is largest (the first such row), xq_m = x_q and Vq_m = V[q, m].
    Returns whether V is finite and no Vq_m is zero."""
    P, M = V.shape
    big = np.full(M, -1.0)
    finite = True
    for p in range(P):
        for m in range(M):
            v = V[p, m]
            if not np.isfinite(v):
                finite = False
            C[p, m] = v * w[m]
            if abs(v) > big[m]:
                big[m] = abs(v)
                xq[m] = x[p]
                Vq[m] = v
    for m in range(M):
        if not big[m] > 0.0:
            finite = False
    return finite


def _model_gap(C, c, sums):
    """(max_i |sums_i - (C c)_i|, max(1, max_i (|C| |c|)_i)): how far the separable model's
    sums are from K's own ``sums`` (an (M, 1) array), and the size of the model's terms; the
    gap is inf where either is not finite."""
    gap = 0.0
    scale = 1.0
    for i in range(C.shape[0]):
        acc = 0.0
        size = 0.0
        for m in range(C.shape[1]):
            acc += C[i, m] * c[m]
            size += abs(C[i, m] * c[m])
        diff = abs(sums[i, 0] - acc)
        if not np.isfinite(diff):       # (max would pass a NaN over)
            return np.inf, scale
        gap = max(gap, diff)
        scale = max(scale, size)
    return gap, scale


def _separable_check(K_at, block_at, theta, xq, s, w, Y, Vq, C, G, F, stats):
    """The check that ends a converged separable Newton iteration (see
    :func:`~._solve._solve_newton_separable`), in one call: the model's factors
    c_m = K(xq_m, s_m, Y_m) / Vq_m at Y, the sums sum_m w_m K(s_i, s_m, Y_m) from K itself
    (:func:`_apply`), F = Y - G - those sums (the residual of the equations) and
    :func:`_model_gap` of the model C c to them: returns (gap, scale, max |F|)."""
    K = _kernel_at(K_at)
    M = s.shape[0]
    d = Y.shape[1]
    c = np.empty(M)
    f = np.empty(d)
    for m in range(M):
        K(xq[m], s[m], Y, m, theta, f)
        c[m] = f[0] / Vq[m]
    stats[NFEV] += M
    sums = np.empty((M, d))
    _apply_j(block_at, theta, s, s, w, Y, sums, stats)
    residual = 0.0
    for i in range(M):
        for k in range(d):
            F[i, k] = Y[i, k] - G[i, k] - sums[i, k]
            residual = max(residual, abs(F[i, k]))
            if np.isnan(F[i, k]):       # (max would pass a NaN over; NumPy's max gives NaN)
                residual = np.nan
                break
        if np.isnan(residual):
            break
    gap, scale = _model_gap_j(C, c, sums)
    return gap, scale, residual


def _separable_step(K_at, J_at, have_jac, theta, xq, s, Y, Vq, C, G, W, F, stats):
    """The Newton system of a separable scalar K(x, s, y) = V[p, m] c_m(y) at Y (see
    :func:`~._solve._solve_newton_separable`): c_m = K(xq_m, s_m, Y_m) / Vq_m and its derivative
    c'_m (exact with ``have_jac``, else a forward difference), F = Y - G - C c and
    W = I - C diag(c').  Returns (max |F|, ||W||_1), max |F| NaN if F or c' is not finite."""
    K, J = _kernel_at(K_at), _jacobian_at(J_at)
    M = s.shape[0]
    c = np.empty(M)
    dc = np.empty(M)
    f = np.empty(1)
    work = np.empty(1)
    Jk = np.empty((1, 1))
    finite = True
    floor = 1.0 if have_jac else _fd_floor(Y)
    for m in range(M):
        K(xq[m], s[m], Y, m, theta, f)
        stats[NFEV] += 1
        stats[NJEV] += 1
        if have_jac:
            J(xq[m], s[m], Y, m, theta, Jk)
        else:
            ym = Y[m, 0]
            step = _FD_STEP * max(floor, abs(ym))
            Y[m, 0] = ym + step
            step = Y[m, 0] - ym
            K(xq[m], s[m], Y, m, theta, work)
            stats[NFEV] += 1
            Y[m, 0] = ym
            Jk[0, 0] = (work[0] - f[0]) / step
        c[m] = f[0] / Vq[m]
        dc[m] = Jk[0, 0] / Vq[m]
        if not np.isfinite(dc[m]):      # (a non-finite c makes F non-finite)
            finite = False
    residual = 0.0
    colsum = np.zeros(M)
    for i in range(M):
        acc = _dot(C[i], c)
        for m in range(M):
            W[i, m] = -C[i, m] * dc[m]
        W[i, i] += 1.0
        for m in range(M):
            colsum[m] += abs(W[i, m])
        F[i, 0] = Y[i, 0] - G[i, 0] - acc
        if not np.isfinite(F[i, 0]):
            finite = False
        residual = max(residual, abs(F[i, 0]))
    return (residual if finite else np.nan), colsum.max()


def _newton_system(W, sums, Y, G, F):
    """W := I - W and F = Y - G - sums (the Newton system from :func:`_jacobian_blocks`).
    Returns (max |F|, ||W||_1), max |F| NaN if F or W is not finite."""
    n = W.shape[0]
    M, d = Y.shape
    finite = True
    residual = 0.0
    colsum = np.zeros(n)
    for i in range(n):
        for j in range(n):
            W[i, j] = -W[i, j]
        W[i, i] += 1.0
        for j in range(n):
            colsum[j] += abs(W[i, j])
    for i in range(M):
        for k in range(d):
            F[i, k] = Y[i, k] - G[i, k] - sums[i, k]
            residual = max(residual, abs(F[i, k]))
    for j in range(n):
        if not np.isfinite(colsum[j]):
            finite = False
    for i in range(M):
        for k in range(d):
            if not np.isfinite(F[i, k]):
                finite = False
    return (residual if finite else np.nan), colsum.max()


def _update(Y, delta):
    """Y -= delta (a Newton update); returns (max |delta|, max |Y|), the first NaN if delta is
    not finite."""
    size = 0.0
    scale = 0.0
    finite = True
    for i in range(Y.shape[0]):
        for k in range(Y.shape[1]):
            if not np.isfinite(delta[i, k]):
                finite = False
            Y[i, k] -= delta[i, k]
            size = max(size, abs(delta[i, k]))
            scale = max(scale, abs(Y[i, k]))
    return (size if finite else np.nan), scale


def _check_grid(K_at, theta, x, s, Y, V, stats):
    """Whether V[p, m] = K(x_p, s_m, Y_m) to 1e-13 (relative) on the diagonal and the
    anti-diagonal of the (P, M) grid, wrapped (two entries of every row and every column)."""
    K = _kernel_at(K_at)
    P = x.shape[0]
    M = s.shape[0]
    f = np.empty(1)
    agree = True
    for i in range(max(P, M)):
        p = i % P
        for m in (i % M, (M - 1 - i % M) % M):
            K(x[p], s[m], Y, m, theta, f)
            stats[NFEV] += 1
            if not abs(V[p, m] - f[0]) <= 1e-13 * abs(f[0]):
                agree = False
    return agree


# -- LAPACK from the compiled loops ---------------------------------------------------------------
#
# The dense factorisations are LAPACK's (SciPy's, through scipy.linalg.cython_lapack: the same
# routines the f2py wrappers of scipy.linalg.lapack call, so the same results to the bit), called
# from the compiled loops by address (int64, an argument: the loops stay cacheable on disk).
# A Newton iteration is then one compiled call (the system, its LU factors, the update) instead of
# four calls and the Python between them.  A direct solve of a matrix with the same bits as one
# factored lately takes the factors kept then (:func:`linear_solve`).  The matrices are
# C-ordered: LAPACK factors A^T (the same memory in Fortran order) and solves with its transpose
# ("T"); the 1-norm condition of A is the inf-norm condition of A^T ("I").

def _ptr_codegen(n):
    """Code calling the C function at the int64 address of the first argument with the ``n``
    others (int64 addresses) as pointers: LAPACK's Fortran-style interface takes every argument
    by pointer."""
    from llvmlite import ir

    def codegen(context, builder, signature, llargs):
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p] * n)
        target = builder.inttoptr(llargs[0], fnty.as_pointer())
        builder.call(target, [builder.inttoptr(a, i8p) for a in llargs[1:]])
        return context.get_dummy_value()
    return codegen


@intrinsic
def _call6(typingctx, fn, a1, a2, a3, a4, a5, a6):
    """Call the C function at address ``fn`` with six pointer arguments (addresses)."""
    args = (fn, a1, a2, a3, a4, a5, a6)
    if not all(isinstance(a, types.Integer) for a in args):
        return None
    return types.void(*args), _ptr_codegen(6)


@intrinsic
def _call9(typingctx, fn, a1, a2, a3, a4, a5, a6, a7, a8, a9):
    """Call the C function at address ``fn`` with nine pointer arguments (addresses)."""
    args = (fn, a1, a2, a3, a4, a5, a6, a7, a8, a9)
    if not all(isinstance(a, types.Integer) for a in args):
        return None
    return types.void(*args), _ptr_codegen(9)

#: Indices of the routines in :func:`lapack_addresses`.
DGETRF, DGETRS, DGECON = 0, 1, 2
#: Status codes of the compiled Newton loops.
CONVERGED, MAXITER, NONFINITE, SINGULAR, BAD_UPDATE, INTERRUPTED = 0, 1, 2, 3, 4, 5


def lapack_addresses():
    """int64 array of the addresses of dgetrf, dgetrs and dgecon (scipy.linalg.cython_lapack)."""
    global _LAPACK
    if _LAPACK is None:
        from numba.extending import get_cython_function_address
        _LAPACK = np.array([get_cython_function_address("scipy.linalg.cython_lapack", name)
                            for name in ("dgetrf", "dgetrs", "dgecon")], dtype=np.int64)
    return _LAPACK


_LAPACK = None
_helper = njit(inline="always", error_model="numpy", nogil=True)


@_helper
def _lapack_workspace(n):
    """int32 [n, lda, nrhs = 1, info] and the characters "T", "I" for :func:`_lu_factor` and
    friends (LAPACK reads its arguments through pointers into these)."""
    ints = np.empty(4, np.int32)
    ints[0] = n
    ints[1] = n
    ints[2] = 1
    ints[3] = 0
    chars = np.empty(2, np.uint8)
    chars[0] = 84     # "T"
    chars[1] = 73     # "I"
    return ints, chars


@_helper
def _lu_factor(fns, A, ipiv, ints):
    """dgetrf on A^T (A C-ordered, overwritten by the factors); True unless exactly singular."""
    p = ints.ctypes.data
    _call6(fns[DGETRF], p, p, A.ctypes.data, p + 4, ipiv.ctypes.data, p + 12)
    return ints[3] == 0


@_helper
def _lu_solve(fns, A, ipiv, b, ints, chars):
    """b := A^-1 b from the factors of :func:`_lu_factor` (dgetrs with A^T's transpose)."""
    p = ints.ctypes.data
    _call9(fns[DGETRS], chars.ctypes.data, p, p + 8, A.ctypes.data, p + 4, ipiv.ctypes.data,
           b.ctypes.data, p + 4, p + 12)
    return ints[3] + chars[0]    # (read after the call: the workspaces live through it)


@njit(error_model="numpy", nogil=True, fastmath={"reassoc", "contract"})
def _lu_apply(A, x, transposed):
    """x := (L U)^-T x (``transposed``) or (L U)^-1 x, for the factors L U of F = A^T that
    :func:`_lu_factor` left in the C-ordered A (F[r, c] = A[c, r]), without the row
    interchanges (the operator whose norm dgecon estimates: ||(L U)^-1||_inf = ||A^-1||_1).
    The triangular solves of :func:`_inverse_norm`: along the rows of A (contiguous), as dot
    products or updates, reassociated (an estimate's rounding)."""
    n = x.shape[0]
    if transposed:      # U^T z = x, then L^T z = x (L unit)
        for c in range(n):
            a = A[c]
            acc = 0.0
            for r in range(c):
                acc += a[r] * x[r]
            x[c] = (x[c] - acc) / a[c]
        for c in range(n - 2, -1, -1):
            a = A[c, c + 1:]
            y = x[c + 1:]
            acc = 0.0
            for r in range(a.shape[0]):
                acc += a[r] * y[r]
            x[c] -= acc
    else:               # L z = x, then U z = x
        for c in range(n):
            xc = x[c]
            if xc != 0.0:
                a = A[c, c + 1:]
                y = x[c + 1:]
                for r in range(a.shape[0]):
                    y[r] -= xc * a[r]
        for c in range(n - 1, -1, -1):
            if x[c] != 0.0:
                a = A[c]
                x[c] /= a[c]
                xc = x[c]
                for r in range(c):
                    x[r] -= xc * a[r]


@_helper
def _sign_of(v):
    return 1.0 if v >= 0.0 else -1.0


@_helper
def _first_largest(x):
    """The first index of the largest |x_i| (BLAS's idamax, from 0)."""
    j = 0
    big = abs(x[0])
    for i in range(1, x.shape[0]):
        if abs(x[i]) > big:
            big = abs(x[i])
            j = i
    return j


@_helper
def _inverse_norm(A):
    """The estimate of ||A^-1||_1 that LAPACK's dgecon (norm "I" on the factors of A^T that
    :func:`_lu_factor` left in A) makes: Hager's method as refined by Higham (dlacn2, step for
    step: at most five iterations on unit vectors e_j, the sign vectors' test for convergence
    and cycling, the final alternating-sign vector), a lower bound that is exact in most
    cases.  The triangular solves are :func:`_lu_apply`'s instead of dlatrs/dtrsv, so the
    estimate agrees with dgecon's to rounding (relative 2e-14 on 3000 random and Nyström
    matrices up to n = 200, cond up to 1e15), in a fraction of its time at small n (the
    many small BLAS calls of dgecon cost ~4 us at n = 32).  NaN if a value is not finite
    (where dlatrs would scale: the caller asks dgecon)."""
    n = A.shape[0]
    x = np.empty(n)
    sign = np.empty(n)
    for i in range(n):
        x[i] = 1.0 / n
    _lu_apply(A, x, True)
    if n == 1:
        est = abs(x[0])
        return est if np.isfinite(est) else np.nan
    est = 0.0
    for i in range(n):
        est += abs(x[i])
    if not np.isfinite(est):
        return np.nan
    for i in range(n):
        x[i] = sign[i] = _sign_of(x[i])
    _lu_apply(A, x, False)
    j = _first_largest(x)
    it = 2
    while True:
        for i in range(n):
            x[i] = 0.0
        x[j] = 1.0
        _lu_apply(A, x, True)
        old = est
        est = 0.0
        for i in range(n):
            est += abs(x[i])
        if not np.isfinite(est):
            return np.nan
        repeated = True
        for i in range(n):
            if _sign_of(x[i]) != sign[i]:
                repeated = False
                break
        if repeated or est <= old:      # converged, or cycling
            break
        for i in range(n):
            x[i] = sign[i] = _sign_of(x[i])
        _lu_apply(A, x, False)
        last = j
        j = _first_largest(x)
        if x[last] == abs(x[j]) or it >= 5:
            break
        it += 1
    alt = 1.0
    for i in range(n):
        x[i] = alt * (1.0 + i / (n - 1.0))
        alt = -alt
    _lu_apply(A, x, True)
    temp = 0.0
    for i in range(n):
        temp += abs(x[i])
    temp = 2.0 * (temp / (3.0 * n))
    if not np.isfinite(temp):
        return np.nan
    return temp if temp > est else est


# Called, not inlined: Numba inlines a helper by deep-copying its IR at each call site (each
# block with the whole scope), and this one (with _inverse_norm and the dgecon fallback) sat
# in _newton, _separable_newton and _newton_finish (inlined into both): a first nonlinear and
# a first separable solve with an empty cache took 20-25 s with it inlined, 11-16 s without.
@njit(cache=True, error_model="numpy", nogil=True)
def _condition_of(fns, A, ipiv, anorm, ints, chars):
    """The 1-norm condition estimate of A from the factors of :func:`_lu_factor` and ||A||_1:
    dgecon's estimate with norm "I" on A^T's factors (:func:`_inverse_norm`, or dgecon itself
    where that meets a value that is not finite); inf where the estimate of ||A^-1||_1 is 0
    (LAPACK's rcond 0), anorm is 0 or not finite."""
    if not np.isfinite(anorm):
        return np.inf
    inverse = _inverse_norm(A)
    if np.isfinite(inverse):        # rcond as dgecon computes it
        rcond = (1.0 / inverse) / anorm if inverse != 0.0 and anorm != 0.0 else 0.0
        return 1.0 / rcond if rcond > 0 else np.inf
    return _lapack_condition(fns, A, anorm, ints, chars)


@_helper
def _lapack_condition(fns, A, anorm, ints, chars):
    """dgecon's condition estimate (see :func:`_condition_of`)."""
    n = A.shape[0]
    values = np.empty(2)
    values[0] = anorm
    values[1] = 0.0
    work = np.empty(4 * n)
    iwork = np.empty(n, np.int32)
    p = ints.ctypes.data
    _call9(fns[DGECON], chars.ctypes.data + 1, p, A.ctypes.data, p + 4, values.ctypes.data,
           values.ctypes.data + 8, work.ctypes.data, iwork.ctypes.data, p + 12)
    rcond = values[1]
    if work.shape[0] + iwork.shape[0] < 0:     # (never: uses that keep them alive through the call)
        return np.nan
    return 1.0 / rcond if rcond > 0 else np.inf


def _linear_solve(fns, A, anorm, b, ipiv):
    """Factor A (overwritten), its condition estimate, and b := A^-1 b: returns the condition
    (inf, b untouched, where A is exactly singular)."""
    ints, chars = _lapack_workspace(A.shape[0])
    if not _lu_factor(fns, A, ipiv, ints):
        return np.inf
    cond = _condition_of(fns, A, ipiv, anorm, ints, chars)
    _lu_solve(fns, A, ipiv, b, ints, chars)
    return cond


def _kept_solve(fns, A, kept_bits, LU, ipiv, b):
    """b := A^-1 b from the factors ``LU`` and pivots ``ipiv`` that :func:`_linear_solve` made
    of a matrix kept as ``kept_bits``, if A has the same bits (its entries viewed as int64 here:
    a view made in Python costs ~0.3 us); returns whether it did (b untouched if not)."""
    if not _same_values_j(A.view(np.int64), kept_bits):
        return False
    ints, chars = _lapack_workspace(LU.shape[0])
    _lu_solve(fns, LU, ipiv, b, ints, chars)
    return True


_apply_j = _helper(_apply)
_model_gap_j = _helper(_model_gap)
_separable_step_j = _helper(_separable_step)
_jacobian_blocks_j = _helper(_jacobian_blocks)
_newton_system_j = _helper(_newton_system)
_update_j = _helper(_update)


def _newton_finish(fns, W, F, Y, delta, ipiv, ints, chars, residual, anorm, tol, out):
    """The rest of a Newton iteration after the system (W = I - the Nyström Jacobian, F the
    residual, ``residual`` max |F| (NaN if not finite), ``anorm`` ||W||_1): factor, solve,
    update Y.  Returns a status (-1: go on); out = [iteration, residual, |update|, condition]."""
    out[1] = residual
    if not np.isfinite(residual):
        return NONFINITE
    if not _lu_factor(fns, W, ipiv, ints):
        return SINGULAR
    M, d = F.shape
    for i in range(M):
        for k in range(d):
            delta[i, k] = F[i, k]
    _lu_solve(fns, W, ipiv, delta, ints, chars)
    size, scale = _update_j(Y, delta)
    out[2] = size
    if not np.isfinite(size):
        return BAD_UPDATE
    if size <= tol * (scale if scale > 0.0 else 1.0):   # (max(1, |Y|) made a solution of size
        # 1e-30 converge at the first update, whatever its error)
        out[3] = _condition_of(fns, W, ipiv, anorm, ints, chars)
        return CONVERGED
    return -1


_newton_finish_j = _helper(_newton_finish)


def _separable_newton(K_at, J_at, have_jac, theta, xq, s, Y, Vq, C, G, W, F, stats, fns, ipiv,
                      tol, maxiter, out):
    """Newton's method for a separable scalar K (see :func:`_separable_step` and
    :func:`~._solve._solve_newton_separable`), every iteration in this call: returns a status
    (CONVERGED, MAXITER, NONFINITE, SINGULAR, BAD_UPDATE) with out = [the last iteration, its
    residual max |F|, its update max |delta|, the condition estimate of its matrix (converged
    or at maxiter; else NaN)], or INTERRUPTED (the stop request, checked once an iteration).
    W keeps the last matrix's LU factors."""
    ints, chars = _lapack_workspace(W.shape[0])
    delta = np.empty_like(F)
    out[3] = np.nan
    anorm = np.nan
    for it in range(1, maxiter + 1):
        if _stopped(stats):
            return INTERRUPTED
        out[0] = it
        residual, anorm = _separable_step_j(K_at, J_at, have_jac, theta, xq, s, Y, Vq, C, G, W,
                                            F, stats)
        status = _newton_finish_j(fns, W, F, Y, delta, ipiv, ints, chars, residual, anorm, tol,
                                  out)
        if status >= 0:
            return status
    out[3] = _condition_of(fns, W, ipiv, anorm, ints, chars)
    return MAXITER


def _newton(K_at, J_at, have_jac, theta, x, w, Y, G, W, sums, F, stats, fns, ipiv, tol, start,
            maxiter, out):
    """Newton's method on F(Y) = Y - G - sum_m w_m K(x_i, s_m, Y_m) (nodes x, the blocks of
    :func:`_jacobian_blocks`), iterations start + 1 .. start + maxiter in this call: the status
    and ``out`` of :func:`_separable_newton`."""
    ints, chars = _lapack_workspace(W.shape[0])
    delta = np.empty_like(F)
    out[3] = np.nan
    anorm = np.nan
    for it in range(start + 1, start + maxiter + 1):
        out[0] = it
        _jacobian_blocks_j(K_at, J_at, have_jac, theta, x, x, w, Y, W, sums, stats)
        if _stopped(stats):     # (the blocks returned early)
            return INTERRUPTED
        residual, anorm = _newton_system_j(W, sums, Y, G, F)      # W := I - W, F = Y - G - sums
        status = _newton_finish_j(fns, W, F, Y, delta, ipiv, ints, chars, residual, anorm, tol,
                                  out)
        if status >= 0:
            return status
    out[3] = _condition_of(fns, W, ipiv, anorm, ints, chars)
    return MAXITER


AFFINE, SEPARABLE = 1, 2


def _structure(K_at, theta, nodes, u, v, stats):
    """Flags: AFFINE if K(x, s, .) looks affine, SEPARABLE if a scalar K looks like
    k(x, s) phi(s, y), on a few probes (cheap tests; the solvers verify their results).

    Affine: at three (x, s) pairs of nodes and the vectors u, v, K(x, s, alpha u + (1 - alpha) v)
    equals alpha K(u) + (1 - alpha) K(v) to 1e-9 (relative to the values) for alpha = 3 and
    -1/2 (extrapolation, so curvature anywhere between is seen).  Separable: for three pairs
    of targets x1, x2 and a node s, K(x1, s, u) K(x2, s, v) = K(x1, s, v) K(x2, s, u) to 1e-12,
    all values nonzero.  A non-finite value fails either test.
    """
    K = _kernel_at(K_at)
    M = nodes.shape[0]
    d = u.shape[0]
    px = np.array([nodes[0], nodes[M // 2], nodes[M - 1]])
    ps = np.array([nodes[M - 1], nodes[M // 3], nodes[(2 * M) // 3]])
    Y = np.empty((4, d))
    for b in range(d):
        Y[0, b] = u[b]
        Y[1, b] = v[b]
        Y[2, b] = 3.0 * u[b] - 2.0 * v[b]
        Y[3, b] = -0.5 * u[b] + 1.5 * v[b]
    F = np.empty((3, 4, d))
    f = np.empty(d)
    for p in range(3):
        for r in range(4):
            K(px[p], ps[p], Y, r, theta, f)
            for b in range(d):
                F[p, r, b] = f[b]
    stats[NFEV] += 12
    flags = AFFINE
    for p in range(3):
        for r in range(4):
            for b in range(d):
                if not np.isfinite(F[p, r, b]):   # (max() below would pass NaN over)
                    flags = 0
    for r, alpha in ((2, 3.0), (3, -0.5)):
        size_u = size_v = size_w = err = 0.0
        for p in range(3):
            for b in range(d):
                size_u = max(size_u, abs(F[p, 0, b]))
                size_v = max(size_v, abs(F[p, 1, b]))
                size_w = max(size_w, abs(F[p, r, b]))
                err = max(err, abs(F[p, r, b] - (alpha * F[p, 0, b] + (1.0 - alpha) * F[p, 1, b])))
        size = size_u + size_v + size_w
        if not err <= 1e-9 * max(size, 1e-300):
            flags = 0
    if d != 1:
        return flags
    sep = np.array([nodes[M // 4], nodes[M // 2], nodes[(3 * M) // 4]])
    for p in range(3):
        K(px[p], sep[p], Y, 0, theta, f)
        a_u = f[0]
        K(px[p], sep[p], Y, 1, theta, f)
        a_v = f[0]
        K(ps[p], sep[p], Y, 0, theta, f)
        b_u = f[0]
        K(ps[p], sep[p], Y, 1, theta, f)
        b_v = f[0]
        stats[NFEV] += 4
        lhs, rhs = a_u * b_v, a_v * b_u
        if not (np.isfinite(a_u) and np.isfinite(a_v) and np.isfinite(b_u) and np.isfinite(b_v)
                and a_u != 0.0 and a_v != 0.0 and b_u != 0.0 and b_v != 0.0
                and abs(lhs - rhs) <= 1e-12 * abs(lhs)):
            return flags
    return flags | SEPARABLE


def _same_values(A, B):
    """Whether the arrays A and B of one shape are equal entry by entry (floats, or the int64
    bits of :func:`_kept_solve`; row by row, each row without an exit in its loop, which
    vectorises: 2.6 us for 128 x 128, was 7)."""
    for i in range(A.shape[0]):
        a, b = A[i], B[i]
        same = True
        for j in range(a.shape[0]):
            same &= a[j] == b[j]
        if not same:
            return False
    return True


_same_values_j = _helper(_same_values)


_KF = _JF = _BF = types.int64     # the functions' addresses (see the module's docstring)
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I8A = types.int64[::1]
_I4A = types.int32[::1]
_F3 = types.UniTuple(types.float64, 3)
_SIGNATURES = {
    "jacobian-blocks": types.void(_KF, _JF, types.boolean, _A1, _A1, _A1, _A1, _A2, _A2, _A2, _I8A),
    "linear-blocks": types.void(_KF, _JF, types.boolean, types.boolean, _A1, _A1, _A1, _A1, _A2, _A2,
                                _I8A),
    "apply": types.void(_BF, _A1, _A1, _A1, _A1, _A2, _A2, _I8A),
    "values": types.void(_KF, _A1, _A1, _A1, _A2, _A2, _I8A),
    "pointwise": types.void(_KF, _JF, types.boolean, _A1, _A1, _A1, _A2, _A2, _A2, _I8A),
    "structure": types.int64(_KF, _A1, _A1, _A1, _A1, _I8A),
    "check-grid": types.boolean(_KF, _A1, _A1, _A1, _A2, _A2, _I8A),
    "same-values": types.boolean(_A2, _A2),
    "resolved": types.boolean(_A2, _A2, _A1, types.float64),
    "largest-abs": types.float64(_A2),
    "separable-model": types.boolean(_A2, _A1, _A1, _A2, _A1, _A1),
    "separable-check": _F3(_KF, _BF, _A1, _A1, _A1, _A1, _A2, _A1, _A2, _A2, _A2, _I8A),
    "system-matrix": types.float64(_A2, _A1),
    "estimate": _F3(_A2, _A2, types.int64, types.float64, types.float64, _A2),
    "linear-solve": types.float64(_I8A, _A2, types.float64, _A1, _I4A),
    "kept-solve": types.boolean(_I8A, _A2, types.int64[:, ::1], _A2, _I4A, _A1),
    "separable-newton": types.int64(_KF, _JF, types.boolean, _A1, _A1, _A1, _A2, _A1, _A2, _A2, _A2,
                                    _A2, _I8A, _I8A, _I4A, types.float64, types.int64, _A1),
    "newton": types.int64(_KF, _JF, types.boolean, _A1, _A1, _A1, _A2, _A2, _A2, _A2, _A2, _I8A,
                          _I8A, _I4A, types.float64, types.int64, types.int64, _A1),
}
_PYFUNCS = {"jacobian-blocks": _jacobian_blocks, "linear-blocks": _linear_blocks, "apply": _apply,
            "values": _values, "pointwise": _pointwise, "structure": _structure,
            "check-grid": _check_grid, "same-values": _same_values, "resolved": _resolved,
            "largest-abs": _largest_abs,
            "separable-model": _separable_model,
            "separable-check": _separable_check,
            "system-matrix": _system_matrix, "estimate": _estimate,
            "linear-solve": _linear_solve, "kept-solve": _kept_solve,
            "separable-newton": _separable_newton,
            "newton": _newton}
_COMPILED = {}


def compiled(name):
    """The compiled loop ``name`` (a key of ``_SIGNATURES``), compiled or loaded on first use.

    Each loop has one signature, so this returns its compiled entry point itself: calling
    the dispatcher would type every argument again (about 25 us a call with the function
    arguments, more than a whole Newton iteration costs at M = 32).  The callers pass
    exactly the declared types (float64 C arrays, int64 function addresses).
    """
    loop = _COMPILED.get(name)
    if loop is None:
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        dispatcher = njit(_SIGNATURES[name], **options)(_PYFUNCS[name])
        loop = getattr(next(iter(dispatcher.overloads.values())), "entry_point", dispatcher)
        _COMPILED[name] = loop
    return loop


def addresses(kernel):
    """(function, jacobian, have_jacobian) of ``kernel`` for the loops, the functions as int64
    addresses (kept valid by the kernel, which holds its compiled functions); without a
    Jacobian the Volterra loops' placeholder (never called: ``have_jacobian`` is False).  The
    block sum's is :func:`block_address`, apart: a user kernel's block sum is compiled when
    first asked for, and a scalar linear kernel's sums never need it."""
    function, jacobian = kernel.function_address, kernel.jacobian_address
    have_jac = jacobian is not None
    jacobian = jacobian if have_jac else no_jacobian()
    return function.address, jacobian.address, have_jac


def block_address(kernel):
    """The int64 address of ``kernel``'s block sum (compiled or loaded on first use)."""
    return kernel.explicit_addresses[1].address


NO_ROWS = np.empty((0, 1))


#: The linear systems factored lately (:func:`linear_solve`): n -> (a few entries of A and
#: ||A||_1) for a system seen once; once the same entries are seen again, also a copy of A's
#: bits, its LU factors, pivots and condition estimate.
_FACTORED = {}
_FACTORED_MAX = 8
_FACTORED_ENTRIES = 256 * 256   # larger: comparing A costs more, and two copies are kept
_INT64 = np.dtype(np.int64)     # (a view as a dtype object: ~0.05 us less than as np.int64)


def linear_solve(A, anorm, b):
    """Factor the (n, n) matrix A (overwritten), estimate its 1-norm condition number (from
    ``anorm`` = ||A||_1) and solve A x = b (b := x), in one compiled call (``linear-solve``):
    returns the condition estimate (inf, b untouched, where A is exactly singular).

    LAPACK's factors, condition estimate and solution are functions of the bits of A and b
    alone, so a system whose matrix has the same bits as one factored before (a repeated
    solve of the same equation, or the same kernel with another g) is solved with the factors
    kept then (LAPACK's dgetrs, as the full call does after factoring): the same solution
    and the same condition estimate, to the bit, without the factorisation and the estimate.  A
    matrix is kept only when a few of its entries and its norm are seen a second time, so
    a sweep over values that change A never pays for the copies; it is compared entry by
    entry (all n^2 bits) before its factors are used."""
    n = A.shape[0]
    fns = lapack_addresses()
    if n * n > _FACTORED_ENTRIES:
        return float(compiled("linear-solve")(fns, A, anorm, b, np.empty(n, np.int32)))
    seen = (A[0, 0], A[n // 2, n // 3], A[n - 1, n - 1], anorm)
    known = _FACTORED.get(n)
    keep = None
    if known is not None and known[0] == seen:
        if len(known) > 1 and compiled("kept-solve")(fns, A, known[1], known[2], known[3], b):
            return known[4]
        keep = A.view(_INT64).copy()      # seen a second time: keep its factors
    ipiv = np.empty(n, np.int32)
    cond = float(compiled("linear-solve")(fns, A, anorm, b, ipiv))
    if known is None and len(_FACTORED) >= _FACTORED_MAX:
        _FACTORED.clear()
    _FACTORED[n] = (seen, keep, A.copy(), ipiv, cond) if keep is not None and \
        math.isfinite(cond) else (seen,)
    return cond


def pointwise_values(kernel, addr, x, s, Y, counts):
    """K(x_i, s_i, Y_i) for arrays of points, in one compiled call: an (n, d) array."""
    F = np.empty((x.shape[0], kernel.dim))
    compiled("pointwise")(addr[0], addr[1], addr[2], kernel.params, x, s,
                          np.ascontiguousarray(Y, dtype=float), F, NO_ROWS, counts)
    return F


#: The grids that agreed with the compiled K lately (:func:`_grid_agrees`): (address of the
#: compiled K, P, M) -> (its function, kept alive so the address stays its own, then the bytes of
#: the parameters, targets, nodes and Y, and a copy of the V that was checked).
_AGREED = {}
_AGREED_MAX = 8
_AGREED_ENTRIES = 128 * 128    # larger grids: copying V costs about as much as checking it


def _ones(M):
    """An (M, 1) array of ones (Y of a linear kernel's coefficient; np.ones costs ~0.5 us
    more)."""
    Y = np.empty((M, 1))
    Y.fill(1.0)
    return Y


def _grid_agrees(kernel, addr, targets, nodes, Y, V, counts):
    """Whether the user's values V on the grid are finite and agree with the compiled K (the
    check of :func:`grid_values`: ``check-grid``, 2 max(P, M) compiled calls; ``Y=None``: the
    coefficient of a linear kernel, Y = 1); if so, ``counts`` gets the P M calls of the user's
    function on the grid too.

    The compiled K is deterministic: a check that passed for the same compiled function with
    the same parameters, targets, nodes and Y (the same bytes) passes again for a V equal to
    the one checked then, entry by entry (which was finite; the check compares values, so
    -0.0 and 0.0 pass alike), so repeated solves of the same equation compare V with that one
    (one compiled pass, ``same-values``) instead of calling K again; ``counts`` gets the calls
    the check would have made.  V itself is always the user's function's values of this call."""
    P, M = V.shape
    remembered = P * M <= _AGREED_ENTRIES
    if remembered:
        key = (addr[0], P, M)
        now = (kernel.params.tobytes(), targets.tobytes(),
               None if nodes is targets else nodes.tobytes(), None if Y is None else Y.tobytes())
        known = _AGREED.get(key)
        if known is not None and known[1:5] == now and compiled("same-values")(known[5], V):
            counts[NFEV] += 2 * max(P, M) + P * M
            return True
    # (a sum is finite only if every entry is; an overflowing sum just means the compiled K)
    if not math.isfinite(V.sum()) or \
            not compiled("check-grid")(addr[0], kernel.params, targets, nodes,
                                       _ones(M) if Y is None else Y, V, counts):
        return False
    counts[NFEV] += P * M
    if remembered:
        if len(_AGREED) >= _AGREED_MAX:
            _AGREED.clear()
        _AGREED[key] = (kernel.function_address,) + now + (V.copy(),)
    return True


def grid_values(kernel, addr, targets, nodes, Y, counts):
    """V[p, m] = K(x_p, s_m, Y_m) for a scalar K (the kernel values on the grid, no weights);
    ``Y=None``: the coefficient k(x_p, s_m) of a linear kernel K = k(x, s) y (Y = 1).

    From the user's NumPy function on the whole grid when it broadcasts to (P, M), is
    finite, and agrees with the compiled K (to 1e-13) on two entries of every row and
    every column (the diagonal and the anti-diagonal, wrapped: O(P + M) compiled calls):
    NumPy's vectorised transcendental functions cost 4-20 ns an entry, a call of the
    compiled (guarded) K 60-90 ns.  Else, and for vector y, from the compiled K.
    """
    P, M = targets.shape[0], nodes.shape[0]
    coefficient = Y is None
    if not coefficient:
        Y = np.ascontiguousarray(Y, dtype=float)
    func = kernel.structure["coefficient"] if coefficient else kernel.probe
    if type(func) is not FunctionType and isinstance(func, CPUDispatcher):
        func = func.py_func
    if func is not None and kernel.scalar and P * M > 64:
        grid = (targets[:, None], nodes[None, :]) + (() if coefficient else (Y[None, :, 0],))
        try:
            V = as_floats_quietly(func, (*grid, *kernel.args))
        except Exception:       # not written for arrays: the compiled K
            V = None
        if V is not None and V.shape == (P, M):
            V = np.ascontiguousarray(V)
            if _grid_agrees(kernel, addr, targets, nodes, Y, V, counts):
                return V
    V = np.empty((P, M))
    compiled("values")(addr[0], kernel.params, targets, nodes, _ones(M) if coefficient else Y, V,
                       counts)
    raise_if_stopped(counts)
    return V


def nystrom_sums(kernel, addr, targets, nodes, weights, Y, counts):
    """sum_m w_m K(x_p, s_m, Y_m) at the targets, a (P, d) array.

    The compiled block sum (the kernel inlined in its loop, ~11 ns a pair for a
    transcendental K) except for a scalar linear kernel k(x, s) y, whose compiled
    coefficient costs ~90 ns a call: its values on the grid (:func:`grid_values`).
    """
    if kernel.scalar and kernel.structure.get("kind") == "linear":
        return (grid_values(kernel, addr, targets, nodes, Y, counts) @ weights)[:, None]
    sums = np.empty((targets.shape[0], Y.shape[1]))
    compiled("apply")(block_address(kernel), kernel.params, targets, nodes, weights, Y, sums,
                      counts)
    raise_if_stopped(counts)
    return sums
